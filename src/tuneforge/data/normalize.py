"""Text normalisation for the model, and the looser key under which two texts count as the same."""

from __future__ import annotations

import html
import re
import unicodedata

__all__ = ["dedup_key", "normalize_text"]

# Tag remnants of web forms and CRM exports: <br>, </p>, <div class="x">, <br/>. A letter must follow "<" so that
# "a < b" or "<3" stay text.
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
# Zero-width characters and control codes that are not whitespace: invisible, but they make equal texts differ.
_INVISIBLE = re.compile("[\u200b-\u200d\u2060\ufeff\u00ad\x00-\x08\x0e-\x1b\x7f]")
# \s covers \u3000 (ideographic space), \xa0, tabs and line breaks.
_SPACE = re.compile(r"\s+")
# Everything but letters and digits of any script: punctuation (Chinese and ASCII), symbols, spaces, "_".
_NOT_WORD = re.compile(r"[\W_]+")


def normalize_text(text: str) -> str:
    """NFKC (full-width ASCII to half-width), HTML entities and tags, invisible characters, whitespace.

    Letters keep their case and Chinese characters are unchanged.

    >>> normalize_text("ＡＢＣ&amp;d<br>退款\u3000 请求")
    'ABC&d 退款 请求'
    """
    text = unicodedata.normalize("NFKC", text)
    text = html.unescape(text)
    text = _TAG.sub(" ", text)
    text = _INVISIBLE.sub("", text)
    return _SPACE.sub(" ", text).strip()


def dedup_key(text: str) -> str:
    """The key under which texts are duplicates: NFKC, casefolded, without punctuation, symbols or spaces.

    >>> dedup_key("Where is my order?!") == dedup_key("where is my ORDER") and dedup_key("退款，谢谢。") == "退款谢谢"
    True
    """
    # NFKC alone, not normalize_text: texts are already normalised unless clean.normalize is off, and this key is
    # computed for every row, twice.
    folded = unicodedata.normalize("NFKC", text).casefold()
    # A text of only punctuation or emoji keeps its own characters rather than colliding with every such text.
    return _NOT_WORD.sub("", folded) or folded
