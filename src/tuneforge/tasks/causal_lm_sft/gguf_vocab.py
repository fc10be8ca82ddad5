"""A byte-level BPE tokenizer (SmolLM2, Llama 3, Qwen2) as the `tokenizer.*` keys of a GGUF file.

llama.cpp rebuilds the tokenizer from these keys alone: the vocabulary in id order with a type per token, the
merges, the name of the pre-tokenizer split (`tokenizer.ggml.pre`; llama.cpp knows each name's regex), the
special token ids and the chat template. transformers reads the same keys back (`AutoTokenizer.from_pretrained(
dir, gguf_file=...)`), which is how the tests check that nothing is lost.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gguf import GGUFWriter, TokenType

from tuneforge.errors import TuneforgeError

__all__ = ["GgufVocab", "gguf_vocab"]

_SPECIAL_IDS = ("bos", "eos", "unk", "pad")


@dataclass(frozen=True)
class GgufVocab:
    """What a GGUF file says about a tokenizer; `add_to(writer)` writes it."""

    pre: str
    tokens: list[str]
    token_types: list[TokenType]
    merges: list[str]
    special_ids: dict[str, int]
    add_bos: bool
    add_eos: bool
    chat_template: str | None

    def add_to(self, writer: GGUFWriter) -> None:
        writer.add_tokenizer_model("gpt2")  # llama.cpp's name for byte-level BPE
        writer.add_tokenizer_pre(self.pre)
        writer.add_token_list(self.tokens)
        writer.add_token_types(self.token_types)
        writer.add_token_merges(self.merges)
        for kind, token_id in self.special_ids.items():
            getattr(writer, f"add_{kind}_token_id")(token_id)
        writer.add_add_bos_token(self.add_bos)
        writer.add_add_eos_token(self.add_eos)
        if self.chat_template:
            writer.add_chat_template(self.chat_template)


def gguf_vocab(tokenizer: Any, vocab_size: int) -> GgufVocab:
    """The GGUF form of a Hugging Face fast tokenizer whose model has `vocab_size` embedding rows.

    Ids the tokenizer does not use (embeddings padded to a round size) become `[PAD<id>]` tokens of type
    UNUSED, as llama.cpp's converter writes them. Any other kind of tokenizer raises TuneforgeError.
    """
    backend = json.loads(tokenizer.backend_tokenizer.to_str())
    if backend["model"]["type"] != "BPE" or (backend.get("decoder") or {}).get("type") != "ByteLevel":
        raise TuneforgeError(
            f"GGUF export needs a byte-level BPE tokenizer (as SmolLM2, Llama 3 and Qwen2 have); this one is "
            f"{backend['model']['type']} with decoder {(backend.get('decoder') or {}).get('type')}"
        )
    by_id = {token_id: token for token, token_id in tokenizer.get_vocab().items()}
    if max(by_id) >= vocab_size:
        raise TuneforgeError(
            f"the tokenizer has token id {max(by_id)} but the model only {vocab_size} embedding rows; "
            "resize the embeddings before exporting"
        )
    added = tokenizer.added_tokens_decoder
    tokens, types = [], []
    for token_id in range(vocab_size):
        token = by_id.get(token_id)
        tokens.append(f"[PAD{token_id}]" if token is None else token)
        types.append(_token_type(token, added.get(token_id)))
    encoded = tokenizer("a")["input_ids"]  # what the tokenizer adds around a text, BOS and EOS alike
    special_ids = {kind: tid for kind in _SPECIAL_IDS if (tid := getattr(tokenizer, f"{kind}_token_id")) is not None}
    template = tokenizer.chat_template
    return GgufVocab(
        pre=_pre_tokenizer_name(backend.get("pre_tokenizer")),
        tokens=tokens,
        token_types=types,
        # tokenizers writes merges as pairs since 0.20, older files as "a b"; GGUF wants "a b"
        merges=[m if isinstance(m, str) else " ".join(m) for m in backend["model"]["merges"]],
        special_ids=special_ids,
        add_bos="bos" in special_ids and encoded[:1] == [special_ids["bos"]],
        add_eos="eos" in special_ids and encoded[-1:] == [special_ids["eos"]],
        chat_template=template if isinstance(template, str) else None,
    )


def _token_type(token: str | None, added: Any) -> TokenType:
    if token is None:
        return TokenType.UNUSED
    if added is None:
        return TokenType.NORMAL
    # llama.cpp matches both kinds whole in the text; only CONTROL tokens are hidden when decoding
    return TokenType.CONTROL if added.special else TokenType.USER_DEFINED


def _pre_tokenizer_name(pre_tokenizer: dict[str, Any] | None) -> str:
    """llama.cpp's name (`tokenizer.ggml.pre`) for how this tokenizer splits text before BPE.

    llama.cpp hard-codes one regex per name, so the split must be one it knows: the GPT-2 regex ('gpt2'),
    digits one by one before it ('smollm', SmolLM2's own), or a Split regex that transformers' GGUF reader
    also knows (Llama 3, Qwen2, ...). Other splits raise TuneforgeError rather than write a file that
    tokenizes differently.
    """
    steps = (pre_tokenizer or {}).get("pretokenizers") or ([pre_tokenizer] if pre_tokenizer else [])
    kinds = [step["type"] for step in steps]
    if kinds == ["ByteLevel"] and steps[0].get("use_regex", True):
        return "gpt2"
    if kinds == ["Digits", "ByteLevel"] and steps[0].get("individual_digits") and steps[1].get("use_regex", True):
        return "smollm"
    if kinds == ["Split", "ByteLevel"] and not steps[1].get("use_regex", True):
        from transformers.integrations.gguf.gguf_tokenizer_mapping import GGUF_PRE_TOKENIZER_SPLITS

        regex = steps[0].get("pattern", {}).get("Regex")
        names = [name for name, split in GGUF_PRE_TOKENIZER_SPLITS.items() if split == regex]
        if names and steps[0].get("behavior") == "Isolated" and not steps[0].get("invert"):
            return names[0]
    raise TuneforgeError(
        f"GGUF export cannot express this tokenizer's pre-tokenizer (steps {kinds or 'none'}; "
        f"{json.dumps(pre_tokenizer)[:200]}): llama.cpp knows the GPT-2 regex, SmolLM2's digit split and the "
        "Split regexes of Llama 3 and Qwen2"
    )
