"""Scores per writing system: a model can be good on English and poor on Chinese while the average looks fine."""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["CJK", "OTHER", "indices_by_script"]

CJK = "Chinese/Japanese/Korean"
OTHER = "other scripts"
# Han ideographs (with extension A and compatibility forms), kana, hangul syllables
_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def indices_by_script(texts: Sequence[str]) -> dict[str, list[int]]:
    """Indices of the texts with CJK characters and of the others; empty when all texts fall in one group.

    >>> indices_by_script(["退款", "refund", "退款 refund"])
    {'Chinese/Japanese/Korean': [0, 2], 'other scripts': [1]}
    """
    groups: dict[str, list[int]] = {CJK: [], OTHER: []}
    for i, text in enumerate(texts):
        groups[CJK if _CJK_CHAR.search(text) else OTHER].append(i)
    return groups if all(groups.values()) else {}
