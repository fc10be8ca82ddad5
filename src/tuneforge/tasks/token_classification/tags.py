"""Words and entity tags: how raw text becomes words, tag schemes normalised to IOB2, and spans <-> tags.

Words are what a tag is attached to. CoNLL files give them; raw text (span JSONL, and `predict` on any text) is
split by `split_words`, the same way for training and prediction, so that character offsets always round-trip:
every CJK character is a word of its own (Chinese is written without spaces), runs of other letters and digits
are words, and every other visible character (punctuation, symbols) is a word of one character.

>>> split_words("张伟在北京下单了 A1029.")
[(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (6, 7), (7, 8), (9, 14), (14, 15)]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "Entity",
    "TaggedText",
    "detect_scheme",
    "entities_of",
    "repair_stray",
    "split_words",
    "tags_of",
    "to_iob2",
]

# Han (with extensions and compatibility ideographs), kana and Hangul syllables: one character, one word.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002ffff"
# Combining marks stay with the letters they modify ("é" written as e + U+0301 is one word).
_WORD = re.compile(rf"[{_CJK}]|[^\W_{_CJK}][^\W_{_CJK}\u0300-\u036f]*|\S")


def split_words(text: str) -> list[tuple[int, int]]:
    """Character spans (start, end) of the words of `text`; whitespace belongs to no word."""
    return [match.span() for match in _WORD.finditer(text)]


@dataclass(frozen=True)
class Entity:
    """An entity as words [start, end) of a sentence and its type."""

    start: int
    end: int
    label: str


@dataclass(frozen=True)
class TaggedText:
    """One sentence: its raw text, its words as character spans of `text`, and one IOB2 tag per word.

    CoNLL sentences have `text` = the words joined by single spaces; JSONL texts are kept as written.
    """

    text: str
    offsets: tuple[tuple[int, int], ...]
    tags: tuple[str, ...]
    source: str
    line: int

    @property
    def words(self) -> list[str]:
        return [self.text[start:end] for start, end in self.offsets]

    @classmethod
    def from_words(cls, words: Sequence[str], tags: Sequence[str], source: str, line: int) -> TaggedText:
        offsets, position = [], 0
        for word in words:
            offsets.append((position, position + len(word)))
            position += len(word) + 1
        return cls(" ".join(words), tuple(offsets), tuple(tags), source, line)


def _split(tag: str) -> tuple[str, str]:
    """("B", "PER") from "B-PER"; ("O", "") from "O". Types may contain hyphens: "I-WORK-OF-ART"."""
    if tag == "O":
        return "O", ""
    prefix, _, kind = tag.partition("-")
    return prefix, kind


def detect_scheme(tags: Sequence[Sequence[str]]) -> str:
    """bioes when E-/S- tags occur; iob1 when every B-X continues an X (IOB1 uses B- only between two X);
    otherwise iob2.

    >>> detect_scheme([["I-PER", "I-PER", "B-PER", "O"]]), detect_scheme([["B-PER", "I-PER", "O"]])
    ('iob1', 'iob2')
    """
    begins_after_other = insides = 0
    for sentence in tags:
        previous = "O"
        for tag in sentence:
            prefix, kind = _split(tag)
            if prefix in ("E", "S", "L", "U"):
                return "bioes"
            if prefix == "B":
                begins_after_other += _split(previous)[1] != kind
            insides += prefix == "I"
            previous = tag
    return "iob1" if insides and not begins_after_other else "iob2"


def to_iob2(tags: Sequence[str], scheme: str) -> tuple[list[str], list[int]]:
    """Tags in IOB2, and the positions of I- tags that follow nothing (left as they are, for the caller to
    report and repair). BIOES/BILOU: S-/U- become B-, E-/L- become I-.

    >>> to_iob2(["S-PER", "B-LOC", "E-LOC"], "bioes")
    (['B-PER', 'B-LOC', 'I-LOC'], [])
    >>> to_iob2(["I-PER", "I-PER", "B-PER"], "iob1")
    (['B-PER', 'I-PER', 'B-PER'], [])
    """
    out: list[str] = []
    stray: list[int] = []
    previous_kind = ""
    for i, tag in enumerate(tags):
        prefix, kind = _split(tag)
        if scheme == "bioes" and prefix in ("S", "U"):
            prefix = "B"
        elif scheme == "bioes" and prefix in ("E", "L"):
            prefix = "I"
        if prefix == "I" and previous_kind != kind:
            if scheme == "iob1":
                prefix = "B"  # IOB1: an I- after another type or O starts an entity
            else:
                stray.append(i)
        out.append("O" if prefix == "O" else f"{prefix}-{kind}")
        previous_kind = kind
    return out, stray


def repair_stray(tags: Sequence[str], stray: Sequence[int], policy: str) -> list[str]:
    """Repair I- tags that follow nothing: "begin" makes each a B-, "outside" makes it and the I- tags of the
    same type after it O.

    >>> repair_stray(["O", "I-PER", "I-PER"], [1], "begin"), repair_stray(["O", "I-PER", "I-PER"], [1], "outside")
    (['O', 'B-PER', 'I-PER'], ['O', 'O', 'O'])
    """
    out = list(tags)
    for i in stray:
        inside = out[i]
        out[i] = "B-" + inside[2:] if policy == "begin" else "O"
        j = i + 1
        while policy == "outside" and j < len(out) and out[j] == inside:
            out[j] = "O"
            j += 1
    return out


def entities_of(tags: Sequence[str]) -> list[Entity]:
    """Entities of IOB2 tags; an I- that follows nothing starts an entity (as conlleval reads it).

    >>> entities_of(["B-PER", "I-PER", "O", "I-LOC"])
    [Entity(start=0, end=2, label='PER'), Entity(start=3, end=4, label='LOC')]
    """
    entities: list[Entity] = []
    start, current = 0, ""
    for i, tag in enumerate([*tags, "O"]):
        prefix, kind = _split(tag)
        if current and (prefix != "I" or kind != current):
            entities.append(Entity(start, i, current))
            current = ""
        if prefix in ("B", "I") and not current:
            start, current = i, kind
    return entities


def tags_of(n_words: int, entities: Sequence[Entity]) -> list[str]:
    """IOB2 tags of `n_words` words holding non-overlapping `entities`."""
    tags = ["O"] * n_words
    for entity in entities:
        tags[entity.start] = f"B-{entity.label}"
        for i in range(entity.start + 1, entity.end):
            tags[i] = f"I-{entity.label}"
    return tags
