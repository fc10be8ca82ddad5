"""Loss mask (only assistant turns are learned) and packing (same per-example loss as unpacked)."""

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from tuneforge.tasks.causal_lm_sft.batching import pack_collate, pad_collate, token_losses
from tuneforge.tasks.causal_lm_sft.format import IGNORE, encode_chat

CHATS = [
    [{"role": "user", "content": "退货期限是多久?"}, {"role": "assistant", "content": "签收后15天内可以退货。"}],
    [
        {"role": "system", "content": "You are the support bot of Maple Shop."},
        {"role": "user", "content": "How long does delivery take?"},
        {"role": "assistant", "content": "3-5 working days."},
        {"role": "user", "content": "And refunds?"},
        {"role": "assistant", "content": "Within 15 days of delivery."},
    ],
    [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello! 你好!"}],
]


def _labelled_runs(encoded) -> list[list[int]]:
    runs, current = [], []
    for token, label in zip(encoded.input_ids, encoded.labels, strict=True):
        if label != IGNORE:
            assert label == token
            current.append(token)
        elif current:
            runs.append(current)
            current = []
    return runs + ([current] if current else [])


def test_labels_are_exactly_the_assistant_turns(tiny_llama_dir) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_llama_dir)
    for chat in CHATS:
        encoded = encode_chat(tokenizer, chat)
        decoded = [tokenizer.decode(run) for run in _labelled_runs(encoded)]
        assert decoded == [m["content"] + "<|im_end|>\n" for m in chat if m["role"] == "assistant"]
        unlabelled = tokenizer.decode(
            [t for t, y in zip(encoded.input_ids, encoded.labels, strict=True) if y == IGNORE]
        )
        assert all(m["content"] in unlabelled for m in chat if m["role"] != "assistant")


def _per_example_losses(model, batch, features, packed: bool) -> list[float]:
    losses, mask = token_losses(model, batch)
    if not packed:
        return [float(losses[i][mask[i]].mean()) for i in range(len(features))]
    # One row here: the examples follow each other; the loss of example k sits at its own positions.
    lengths, out, at = [len(f["input_ids"]) for f in features], [], 0
    for n in lengths:
        out.append(float(losses[0, at : at + n - 1][mask[0, at : at + n - 1]].mean()))
        at += n
    return out


def test_packed_batch_gives_the_unpacked_loss_of_every_example(tiny_llama_dir) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_llama_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_llama_dir).eval()
    features = [vars(encode_chat(tokenizer, chat)) for chat in CHATS]
    width = sum(len(f["input_ids"]) for f in features)
    packed = pack_collate(features, tokenizer.pad_token_id, row_tokens=width)
    assert packed["input_ids"].shape == (1, width) and "attention_mask" not in packed
    with torch.no_grad():
        alone = _per_example_losses(model, pad_collate(features, tokenizer.pad_token_id), features, packed=False)
        together = _per_example_losses(model, packed, features, packed=True)
    assert max(abs(a - b) for a, b in zip(alone, together, strict=True)) < 1e-4
    # Without the position reset the mask is an ordinary causal one: later examples see earlier ones.
    leaky = dict(packed, position_ids=torch.arange(width)[None])
    with torch.no_grad():
        leaked = _per_example_losses(model, leaky, features, packed=True)
    assert abs(leaked[-1] - alone[-1]) > 1e-4


def test_packing_fills_rows_up_to_max_length(tiny_llama_dir) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_llama_dir)
    features = [vars(encode_chat(tokenizer, chat)) for chat in CHATS]
    longest = max(len(f["input_ids"]) for f in features)
    batch = pack_collate(features, tokenizer.pad_token_id, row_tokens=longest)
    assert batch["input_ids"].shape[1] <= longest
    real = sum(len(f["input_ids"]) for f in features)
    assert int((batch["input_ids"] != tokenizer.pad_token_id).sum()) == real
    # Every example's labels survive packing except its first token, which nothing predicts.
    assert int((batch["labels"] != IGNORE).sum()) == sum(sum(y != IGNORE for y in f["labels"][1:]) for f in features)


def test_head_on_answer_positions_only_gives_the_full_logits_loss(tiny_llama_dir) -> None:
    from peft import LoraConfig, get_peft_model

    tokenizer = AutoTokenizer.from_pretrained(tiny_llama_dir)
    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(tiny_llama_dir), LoraConfig(r=4, target_modules=["q_proj", "v_proj"])
    ).eval()
    batch = pad_collate([vars(encode_chat(tokenizer, chat)) for chat in CHATS], tokenizer.pad_token_id)
    with torch.no_grad():
        losses, mask = token_losses(model, batch)
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[:, :-1]
        expected = torch.nn.functional.cross_entropy(
            logits.transpose(1, 2), batch["labels"][:, 1:], ignore_index=IGNORE, reduction="none"
        )
    assert torch.equal(mask, batch["labels"][:, 1:] != IGNORE)
    assert torch.allclose(losses, expected, atol=1e-5)


def test_packing_spreads_examples_evenly_over_rows() -> None:
    # First-fit would make rows of 240 and 120 tokens (width 240); spread evenly they hold 180 each.
    features = [{"input_ids": [1] * n, "labels": [IGNORE] * n} for n in (120, 60, 60, 60, 60)]
    batch = pack_collate(features, 0, row_tokens=256)
    assert batch["input_ids"].shape == (2, 180)
    assert int((batch["input_ids"] == 1).sum()) == 360
    assert int(batch["real_tokens"]) == 360  # what the loop counts: the tail padding is not
    # By default rows are as long as the longest example: three of 120 cost less attention than two of 180.
    assert pack_collate(features, 0)["input_ids"].shape == (3, 120)
