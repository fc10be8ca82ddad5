"""Generation: batched answers equal one-at-a-time answers, stop strings end answers, streaming matches; the
token-by-token stream decodes as transformers' generate does, counts its tokens and says why it ended."""

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from tuneforge.tasks.causal_lm_sft.chat_model import ChatModel, trim_at_stop

QUESTIONS = [
    [{"role": "user", "content": "退货期限是多久?"}],
    [{"role": "user", "content": "How long does delivery take to Berlin, and can I choose a weekend slot?"}],
    [{"role": "user", "content": "hi"}],
]


def _bot(tiny_llama_dir, **generation_config) -> ChatModel:
    model = AutoModelForCausalLM.from_pretrained(tiny_llama_dir)
    model.generation_config.update(**generation_config)
    return ChatModel(model, AutoTokenizer.from_pretrained(tiny_llama_dir))


def _generate_greedily(bot: ChatModel, chat: list[dict[str, str]], tokens: int) -> tuple[torch.Tensor, list[int]]:
    """The prompt ids as the chat template gives them, and transformers' own greedy answer ids (no EOS)."""
    prompt = bot.tokenizer.apply_chat_template(chat, add_generation_prompt=True, return_dict=True, return_tensors="pt")
    with torch.inference_mode():
        output = bot.model.generate(prompt["input_ids"], max_new_tokens=tokens, do_sample=False, eos_token_id=None)
    return prompt["input_ids"], output[0, prompt["input_ids"].shape[1] :].tolist()


def test_batched_left_padded_answers_equal_single_answers(tiny_llama_dir) -> None:
    bot = _bot(tiny_llama_dir)
    batched = bot.generate_batch(QUESTIONS, batch_size=3, max_new_tokens=12)
    single = [bot.generate_batch([q], batch_size=1, max_new_tokens=12)[0] for q in QUESTIONS]
    assert batched == single and all(batched)


def test_stop_strings_end_the_answer_and_streaming_matches(tiny_llama_dir) -> None:
    bot = _bot(tiny_llama_dir)
    full = bot.generate_batch(QUESTIONS[:1], max_new_tokens=20)[0]
    stop = full[3:5]  # a piece of the greedy answer, so generation must stop there
    cut = bot.generate_batch(QUESTIONS[:1], max_new_tokens=20, stop=[stop])[0]
    # A random model writes invalid bytes too; those left dangling at the cut decode as U+FFFD and are dropped.
    assert cut == full[: full.index(stop)].rstrip("\ufffd").strip() and stop not in cut
    streamed = bot.stream(QUESTIONS[0], max_new_tokens=20, stop=[stop])
    assert "".join(streamed).strip() == cut and streamed.finish_reason == "stop"
    assert "".join(bot.stream(QUESTIONS[0], max_new_tokens=20)).strip() == full


def test_stream_applies_the_repetition_penalty_as_generate_does(tiny_llama_dir) -> None:
    bot = _bot(tiny_llama_dir)
    penalised = bot.generate_batch(QUESTIONS[:1], max_new_tokens=16, repetition_penalty=1.5)[0]
    assert penalised != bot.generate_batch(QUESTIONS[:1], max_new_tokens=16)[0]
    assert "".join(bot.stream(QUESTIONS[0], max_new_tokens=16, repetition_penalty=1.5)).strip() == penalised


def test_stream_decodes_as_generate_and_counts_tokens(tiny_llama_dir) -> None:
    """Greedy decoding with our KV-cache loop gives the tokens of transformers' own generate()."""
    bot = _bot(tiny_llama_dir)
    prompt, expected = _generate_greedily(bot, QUESTIONS[1], 12)
    generation = bot.stream(QUESTIONS[1], max_new_tokens=12, temperature=0)
    text = "".join(generation)
    assert text == bot.tokenizer.decode(expected, skip_special_tokens=True).rstrip("\ufffd")
    assert (generation.prompt_tokens, generation.completion_tokens) == (prompt.shape[1], 12)
    assert generation.finish_reason == "length"


def test_end_of_answer_token_ends_the_stream_uncounted(tiny_llama_dir) -> None:
    greedy = _bot(tiny_llama_dir)
    _, expected = _generate_greedily(greedy, QUESTIONS[1], 12)
    # A model whose generation config names the greedy answer's third token as an end-of-answer token.
    bot = _bot(tiny_llama_dir, eos_token_id=[greedy.tokenizer.eos_token_id, expected[2]])
    generation = bot.stream(QUESTIONS[1], max_new_tokens=12, temperature=0)
    text = "".join(generation)
    end = expected.index(expected[2])
    assert text == bot.tokenizer.decode(expected[:end], skip_special_tokens=True).rstrip("\ufffd")
    assert generation.completion_tokens == end and generation.finish_reason == "stop"


def test_sampling_is_seeded(tiny_llama_dir) -> None:
    bot = _bot(tiny_llama_dir)
    runs = ["".join(bot.stream(QUESTIONS[0], max_new_tokens=8, temperature=1.0, top_p=0.9, seed=s)) for s in (1, 1, 2)]
    assert runs[0] == runs[1] and runs[0] != runs[2]


def test_trim_at_stop() -> None:
    assert trim_at_stop("a STOP b END", ["END", "STOP"]) == "a "
    assert trim_at_stop("abc", []) == "abc"
