"""prepare_chats: read → validate → tokenise (over-length policy) → clean → split → DataReport, for chat data.

Reuses the data layer's reader (formats, encodings, line numbers), RowError, PII redaction, dedup keys and
DataReport; only what differs for conversations lives here. `data.clean.normalize` does not apply: turns are
kept exactly as written, since the model learns to write its answers that way (line breaks, full-width
punctuation); duplicates are still found under the normalised key.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from typing import Any

from tuneforge.config import Config
from tuneforge.data import DataReport, FileSummary, PreparedData, RowError, SplitStats, redact
from tuneforge.data.normalize import dedup_key
from tuneforge.errors import DataError
from tuneforge.tasks.causal_lm_sft.chats import Conversation, read_conversations
from tuneforge.tasks.causal_lm_sft.format import encode_chat

__all__ = ["prepare_chats"]

_SPLITS = ("train", "validation", "test")


def prepare_chats(cfg: Config, tokenizer: Any) -> PreparedData:
    """Read, validate, clean and split the chat files of `cfg`; raise DataError listing every bad row when
    `data.on_error` is "fail". Conversations over train.max_length follow `sft.over_length`."""
    read: dict[str, list[Conversation]] = {}
    files, errors, dropped_long, problems = [], [], [], []
    lengths: dict[tuple[str, int], int] = {}
    paths = {"train": cfg.data.train, "validation": cfg.data.validation, "test": cfg.data.test}
    for name, path in paths.items():
        if path is None:
            continue
        try:
            table, conversations, bad = read_conversations(path, cfg.data.format, cfg.data.encoding, cfg.sft)
        except DataError as exc:
            problems += exc.problems or [str(exc)]
            continue
        kept, too_long = [], []
        for conversation in conversations:
            n = len(encode_chat(tokenizer, conversation.messages).input_ids)
            lengths[conversation.source, conversation.line] = n
            if n <= cfg.train.max_length or cfg.sft.over_length == "truncate":
                kept.append(conversation)
            else:
                too_long.append(_over_length(conversation, n, cfg.train.max_length, table.rows))
        bad += too_long if cfg.sft.over_length == "fail" else []
        dropped_long += too_long if cfg.sft.over_length == "drop" else []
        errors += bad
        read[name] = kept
        files.append(
            FileSummary(name, table.source, table.format, table.encoding, len(table.rows), len({e.line for e in bad}))
        )
    if problems:
        raise DataError(problems[0] if len(problems) == 1 else f"{len(problems)} problems in the data files", problems)
    if errors and cfg.data.on_error == "fail":
        rows = len({(e.source, e.line) for e in errors})
        raise DataError(
            f"{rows:,} bad conversations; fix them, or set data.on_error: skip to drop them and save them to a file",
            [str(e) for e in errors],
        )
    pii: Counter[str] = Counter()
    duplicates = 0
    for name, conversations in read.items():
        if cfg.data.clean.redact_pii:
            conversations = [_redacted(c, pii) for c in conversations]
        if cfg.data.clean.dedup:
            unique = list({_key(c): c for c in reversed(conversations)}.values())[::-1]
            duplicates += len(conversations) - len(unique)
            conversations = unique
        read[name] = conversations
    splits, warnings = _split(read, cfg)
    splits, leaked = _remove_leakage(splits)
    if not splits["train"]:
        raise DataError(f"{cfg.data.train}: no training conversations left after validation and cleaning")
    stats = {
        name: SplitStats.of_lengths(
            {},
            [sum(len(m["content"]) for m in c.messages) for c in rows],
            [lengths[c.source, c.line] for c in rows],
            cfg.train.max_length,
        )
        for name, rows in splits.items()
    }
    if dropped_long:
        warnings.append(
            f"{len(dropped_long)} conversations over {cfg.train.max_length} tokens dropped (sft.over_length: drop)"
        )
    report = DataReport(
        files=files,
        splits=stats,
        labels=[],
        dropped={
            "rejected": len({(e.source, e.line) for e in errors}),
            "over_length": len(dropped_long),
            "duplicates": duplicates,
            "leakage": leaked,
        },
        errors_by_kind=dict(Counter(e.kind for e in errors)),
        pii=dict(pii),
        conflict_groups=0,
        conflicts=[],
        leakage={},
        imbalance=None,
        errors=errors,
        warnings=warnings,
    )
    return PreparedData(splits["train"], splits["validation"], splits["test"], [], report, errors + dropped_long)


def _over_length(conversation: Conversation, n: int, max_length: int, rows: list[Any]) -> RowError:
    raw = next((r.raw for r in rows if r.line == conversation.line), "")
    return RowError(
        conversation.source,
        conversation.line,
        "messages",
        f"{n} tokens, over train.max_length {max_length} (sft.over_length)",
        raw,
        "over length",
    )


def _key(conversation: Conversation) -> str:
    return "\x1f".join(f"{m['role']}:{dedup_key(m['content'])}" for m in conversation.messages)


def _redacted(conversation: Conversation, counts: Counter[str]) -> Conversation:
    messages = []
    for message in conversation.messages:
        text, found = redact(message["content"])
        counts.update(found)
        messages.append({**message, "content": text})
    return dataclasses.replace(conversation, messages=tuple(messages))


def _split(read: dict[str, list[Conversation]], cfg: Config) -> tuple[dict[str, list[Conversation]], list[str]]:
    """The given files, plus seeded random validation/test shares of train where no file was given."""
    splits = {name: read.get(name, []) for name in _SPLITS}
    wanted = {"validation": cfg.data.split.validation, "test": cfg.data.split.test}
    wanted = {name: share for name, share in wanted.items() if name not in read and share > 0}
    if not wanted:
        return splits, []
    train = splits["train"]
    order = list(range(len(train)))
    random.Random(cfg.data.split.seed).shuffle(order)
    at = 0
    for name, share in wanted.items():
        size = round(share * len(train))
        splits[name] = [train[i] for i in sorted(order[at : at + size])]
        at += size
    splits["train"] = [train[i] for i in sorted(order[at:])]
    warnings = [f"{name} split is empty: too few conversations" for name in wanted if not splits[name]]
    return splits, warnings


def _remove_leakage(splits: dict[str, list[Conversation]]) -> tuple[dict[str, list[Conversation]], int]:
    """Held-out conversations whose question (prompt turns) also occurs in train are dropped from held-out."""
    seen = {_key(dataclasses.replace(c, messages=tuple(c.prompt))) for c in splits["train"]}
    kept = {"train": splits["train"]}
    leaked = 0
    for name in _SPLITS[1:]:
        kept[name] = [c for c in splits[name] if _key(dataclasses.replace(c, messages=tuple(c.prompt))) not in seen]
        leaked += len(splits[name]) - len(kept[name])
    return kept, leaked
