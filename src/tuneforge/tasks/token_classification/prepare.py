"""prepare_tagged_data: read CoNLL or span JSONL → validate → dedup → split → report, for token classification.

>>> data = prepare_tagged_data(cfg.data, max_length=128)  # doctest: +SKIP
>>> data.labels, data.train[0].tags[:3]  # doctest: +SKIP
(['CITY', 'ORDER', 'PER', 'PRODUCT'], ('B-PER', 'I-PER', 'O'))
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from tuneforge.config import DataConfig
from tuneforge.data.prepare import PreparedData, read_splits, refuse_bad_rows
from tuneforge.data.report import DataReport, FileSummary, SplitStats, imbalance_warning
from tuneforge.errors import DataError
from tuneforge.tasks.token_classification.conll import TaggedFile, read_conll
from tuneforge.tasks.token_classification.spans import read_span_jsonl
from tuneforge.tasks.token_classification.tags import TaggedText, entities_of

__all__ = ["prepare_tagged_data", "read_tagged"]

WordTokenCounter = Callable[[list[list[str]]], list[int]]  # sentences as words -> tokens of each
_SPLITS = ("train", "validation", "test")
_JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")


def read_tagged(path: Path, cfg: DataConfig, labels: list[str] | None = None) -> TaggedFile:
    """One CoNLL or span-JSONL file (by data.format, or the suffix: .jsonl/.json is JSONL, anything else CoNLL)."""
    labels = cfg.labels if labels is None else labels
    fmt = cfg.format if cfg.format != "auto" else "jsonl" if path.suffix.lower() in _JSONL_SUFFIXES else "conll"
    if fmt == "jsonl":
        return read_span_jsonl(
            path, text_key=cfg.text_column, span_key=cfg.label_column, labels=labels, encoding=cfg.encoding
        )
    return read_conll(path, cfg.ner, labels, cfg.encoding)


def prepare_tagged_data(
    cfg: DataConfig, *, max_length: int, count_tokens: WordTokenCounter | None = None
) -> PreparedData:
    """Read, validate, dedup and split the tagged files of `cfg`; raise DataError listing every bad sentence when
    `on_error` is "fail". PreparedData.labels are the entity types; its splits hold TaggedTexts."""
    files = read_splits(cfg, lambda path: read_tagged(path, cfg))
    errors = [error for file in files.values() for error in file.errors]
    if cfg.on_error == "fail":
        refuse_bad_rows(errors, [f.source for f in files.values()], unit="lines", dropped="those sentences")
    warnings = [w for file in files.values() for w in file.warnings]
    warnings += [
        f"{f.source}: tags read as {f.scheme.upper()} and converted to IOB2"
        for f in files.values()
        if f.scheme in ("iob1", "bioes")
    ]
    given, duplicates = {}, Counter[str]()
    for name, file in files.items():
        # Only train is deduplicated (and what is split off it): a given validation or test file keeps every
        # sentence, so its scores stay comparable with figures others publish on it.
        dedup = cfg.clean.dedup and name == "train"
        given[name] = _dedup(file.sentences, duplicates) if dedup else file.sentences
    splits = _split(given, cfg)
    if not splits["train"]:
        raise DataError(
            f"{cfg.train}: no training sentences left ({len(errors):,} problems)", [str(e) for e in errors]
        )
    counts = {name: _entity_counts(sentences) for name, sentences in splits.items()}
    labels = list(cfg.labels) if cfg.labels is not None else sorted(counts["train"])
    leakage = _leakage(splits)
    warnings += [f"{pair} share {n} sentence(s): their scores are not independent" for pair, n in leakage.items()]
    imbalance = imbalance_warning(counts["train"], labels)
    warnings += [imbalance] if imbalance else []
    stats = {name: _stats(s, counts[name], count_tokens, max_length) for name, s in splits.items()}
    report = DataReport(
        files=[_summary(name, file) for name, file in files.items()],
        splits=stats,
        labels=labels,
        dropped={
            "rejected": len({(e.source, e.line) for e in errors}),
            "exact_duplicates": duplicates["exact"],
            "conflicting_labels": duplicates["conflicting"],
        },
        errors_by_kind=dict(Counter(e.kind for e in errors)),
        pii={},
        conflict_groups=0,
        conflicts=[],
        leakage=leakage,
        imbalance=imbalance,
        errors=errors,
        warnings=warnings,
        classes_title="Entities per type",
    )
    return PreparedData(splits["train"], splits["validation"], splits["test"], labels, report, errors)


def _dedup(sentences: list[TaggedText], counts: Counter[str]) -> list[TaggedText]:
    """Keep the first sentence of each word sequence; later copies are exact duplicates or conflicting tags."""
    seen: dict[tuple[str, ...], tuple[str, ...]] = {}
    kept = []
    for sentence in sentences:
        words = tuple(sentence.words)
        if words in seen:
            counts["exact" if seen[words] == sentence.tags else "conflicting"] += 1
            continue
        seen[words] = sentence.tags
        kept.append(sentence)
    return kept


def _split(given: dict[str, list[TaggedText]], cfg: DataConfig) -> dict[str, list[TaggedText]]:
    """The given files, plus validation and test drawn at random (seeded) from train where no file was given."""
    splits = dict(given)
    pool = list(range(len(given["train"])))
    random.Random(cfg.split.seed).shuffle(pool)
    taken: set[int] = set()
    for name, share in (("test", cfg.split.test), ("validation", cfg.split.validation)):
        if name in given:
            continue
        size = math.ceil(share * len(pool)) if len(pool) > 2 else 0
        chosen = [i for i in pool if i not in taken][:size]
        taken.update(chosen)
        splits[name] = [given["train"][i] for i in sorted(chosen)]
    splits["train"] = [s for i, s in enumerate(given["train"]) if i not in taken]
    return {name: splits.get(name, []) for name in _SPLITS}


def _entity_counts(sentences: list[TaggedText]) -> dict[str, int]:
    return dict(sorted(Counter(e.label for s in sentences for e in entities_of(s.tags)).items()))


def _leakage(splits: dict[str, list[TaggedText]]) -> dict[str, int]:
    train = {tuple(s.words) for s in splits["train"]}
    shared = {f"train/{name}": sum(tuple(s.words) in train for s in splits[name]) for name in _SPLITS[1:]}
    return {pair: n for pair, n in shared.items() if n}


def _stats(
    sentences: list[TaggedText], counts: dict[str, int], count_tokens: WordTokenCounter | None, max_length: int
) -> SplitStats:
    tokens = count_tokens([s.words for s in sentences]) if count_tokens and sentences else None
    # NER never truncates: a long sentence is tagged in overlapping windows (task.py), so the report counts those
    return SplitStats.of_lengths(counts, [len(s.text) for s in sentences], tokens, max_length, windows=True)


def _summary(name: str, file: TaggedFile) -> FileSummary:
    rejected = len({e.line for e in file.errors})
    return FileSummary(name, file.source, file.format, file.encoding, file.records, rejected)
