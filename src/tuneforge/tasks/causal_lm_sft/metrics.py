"""Answer metrics: ROUGE-L F1 and exact match, scoring Chinese, Japanese and Korean text per character.

The rouge-score package keeps only [a-z0-9] tokens, so a Chinese answer scores 0 against anything; here CJK
characters are tokens of their own and other text splits into lower-cased words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

__all__ = ["exact_match", "rouge_l", "score_answers", "tokens"]

# CJK ideographs, kana and hangul: each character is a token; other letters and digits form words.
_CJK = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U0002ffff"
_TOKEN = re.compile(rf"[{_CJK}]|(?:(?![{_CJK}])[^\W_])+")


def tokens(text: str) -> list[str]:
    """ROUGE tokens: CJK characters one by one, other words lower-cased; punctuation dropped.

    >>> tokens("退款需要15天. Refund in 15 days!")
    ['退', '款', '需', '要', '15', '天', 'refund', 'in', '15', 'days']
    """
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).lower())


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F1 (Lin 2004, beta 1) of one answer against its reference, in [0, 1].

    >>> round(rouge_l("the cat sat", "the cat sat down"), 4)
    0.8571
    """
    predicted, wanted = tokens(prediction), tokens(reference)
    if not predicted or not wanted:
        return float(predicted == wanted)
    common = _lcs(predicted, wanted)
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(wanted)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, reference: str) -> bool:
    """Equal once case, width, punctuation and spacing are ignored."""
    return tokens(prediction) == tokens(reference)


def score_answers(predictions: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """Mean ROUGE-L and exact-match rate, both in points (0-100)."""
    pairs = list(zip(predictions, references, strict=True))
    if not pairs:
        return {}
    return {
        "rouge_l": 100 * sum(rouge_l(p, r) for p, r in pairs) / len(pairs),
        "exact_match": 100 * sum(exact_match(p, r) for p, r in pairs) / len(pairs),
    }
