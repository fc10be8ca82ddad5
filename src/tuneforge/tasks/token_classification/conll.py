"""Read CoNLL files: one token per line with its tag in a configurable column, a blank line between sentences.

`-DOCSTART-` lines are skipped. Tags in IOB1, IOB2 or BIOES are normalised to IOB2. Every problem is a RowError
naming the file and line of the token; a sentence with a problem is rejected as a whole.

    EU NNP B-NP B-ORG
    rejects VBZ B-VP O
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from tuneforge.config import NerDataConfig
from tuneforge.data.encoding import decode
from tuneforge.data.read import PHYSICAL_LINE, read_bytes, strip_eol
from tuneforge.data.rows import RowError
from tuneforge.errors import DataError
from tuneforge.tasks.token_classification.tags import TaggedText, detect_scheme, repair_stray, to_iob2

__all__ = ["TaggedFile", "check_tag", "read_conll"]

_TAG = re.compile(r"O|[BIESLU]-\S+")
_SHOWN_REPAIRS = 5  # lines listed in the warning about repaired stray I- tags


@dataclass
class TaggedFile:
    """Sentences read from one file, the rows rejected, and what reading learned (scheme, repairs)."""

    source: str
    format: str
    encoding: str
    sentences: list[TaggedText]
    errors: list[RowError]
    records: int  # sentences (CoNLL) or JSON lines read, rejected ones included
    scheme: str = "iob2"
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Block:
    lines: list[int]
    words: list[str]
    tags: list[str]
    raw: list[str]


def check_tag(tag: str, labels: list[str] | None) -> str | None:
    """What is wrong with a tag ("unknown tag ..."), or None."""
    if not _TAG.fullmatch(tag):
        return f"unknown tag '{tag}'; expected O or B-/I-/E-/S- and a type, e.g. B-PER"
    kind = tag.partition("-")[2]
    if labels is not None and tag != "O" and kind not in labels:
        return f"unknown tag '{tag}': type '{kind}' is not in data.labels ({', '.join(labels)})"
    return None


def read_conll(path: Path, cfg: NerDataConfig, labels: list[str] | None, encoding: str = "auto") -> TaggedFile:
    source = str(path)
    data = read_bytes(path)
    if not data.strip():
        raise DataError(f"{source}: the file is empty")
    decoded = decode(data, source, encoding)
    blocks, errors = _blocks(decoded.text, source, cfg.tag_column)
    scheme = cfg.scheme if cfg.scheme != "auto" else detect_scheme([b.tags for b in blocks])
    result = TaggedFile(source, "conll", decoded.encoding, [], errors, len(blocks), scheme)
    repaired: list[int] = []
    for block in blocks:
        problems = [(i, p) for i, tag in enumerate(block.tags) if (p := check_tag(tag, labels))]
        tags, stray = to_iob2(block.tags, scheme) if not problems else (block.tags, [])
        if stray and cfg.stray_inside == "error":
            problems += [(i, _stray_message(block.tags, i)) for i in stray]
        elif stray:
            tags = repair_stray(tags, stray, cfg.stray_inside)
            repaired += [block.lines[i] for i in stray]
        raw = "\n".join(block.raw)
        errors += [RowError(source, block.lines[i], "tag", p, raw, _kind(p)) for i, p in problems]
        if not problems:
            result.sentences.append(TaggedText.from_words(block.words, tags, source, block.lines[0]))
    if repaired:
        shown = ", ".join(str(line) for line in repaired[:_SHOWN_REPAIRS])
        action = "begin an entity" if cfg.stray_inside == "begin" else "made O"
        result.warnings.append(
            f"{source}: {len(repaired)} I- tag(s) follow nothing ({scheme}), {action} (data.ner.stray_inside); "
            f"lines {shown}{', ...' if len(repaired) > _SHOWN_REPAIRS else ''}"
        )
    return result


def _kind(problem: str) -> str:
    return "unknown tag" if problem.startswith("unknown tag") else problem.split(":")[0]


def _stray_message(tags: list[str], i: int) -> str:
    after = f"after '{tags[i - 1]}'" if i else "at the start of the sentence"
    return f"stray I- tag: '{tags[i]}' {after} follows no entity of its type (data.ner.stray_inside: error)"


def _blocks(text: str, source: str, column: int) -> tuple[list[_Block], list[RowError]]:
    """Sentences as blocks of token lines; lines too short to hold the tag column are errors."""
    blocks: list[_Block] = []
    errors: list[RowError] = []
    current = _Block([], [], [], [])
    broken = False
    needed = max(2, column + 1 if column >= 0 else 1 - column)  # the token is column 0, the tag another one
    for number, line in enumerate(PHYSICAL_LINE.findall(text), start=1):
        raw = strip_eol(line)
        fields = raw.split()
        if not fields or fields[0] == "-DOCSTART-":
            if current.lines and not broken:
                blocks.append(current)
            current, broken = _Block([], [], [], []), False
            continue
        current.raw.append(raw)
        if len(fields) < needed:
            problem = f"expected at least {needed} whitespace-separated columns (token ... tag), found {len(fields)}"
            errors.append(RowError(source, number, "tag", problem, raw, "missing tag column"))
            broken = True
            continue
        current.lines.append(number)
        current.words.append(fields[0])
        current.tags.append(fields[column])
    if current.lines and not broken:
        blocks.append(current)
    return blocks, errors
