"""normalize_text and dedup_key: what the model sees, and when two texts are the same."""

from __future__ import annotations

import pytest

from tuneforge.data.normalize import dedup_key, normalize_text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("ＡＢＣ１２３", "ABC123"),  # full-width ASCII to half-width
        ("Tom &amp; Jerry&#39;s &lt;order&gt;", "Tom & Jerry's"),  # entities, then the tag they spell
        ('line one<br>line two</p><div class="x">three</div>', "line one line two three"),
        ("  a\u3000\u3000b\xa0c\t\nd  ", "a b c d"),  # ideographic and no-break spaces, tabs, newlines
        ("zero\u200bwidth\ufeff joiner\u200d", "zerowidth joiner"),
        ("我要退款，谢谢！", "我要退款,谢谢!"),  # Chinese characters unchanged, full-width punctuation half-width
        ("Refund NOW", "Refund NOW"),  # case is kept
        ("price < 50 and a<3", "price < 50 and a<3"),  # "<" not followed by a letter is not a tag
    ],
)
def test_normalize_text(raw, clean):
    assert normalize_text(raw) == clean


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Where is my ORDER?", "where is my order"),
        ("退款，谢谢。", "退款 谢谢"),
        ("ＲＥＦＵＮＤ！！", "refund"),
        ("hello,\u3000ｗｏｒｌｄ", "Hello world!"),
    ],
)
def test_dedup_key_matches_variants(a, b):
    assert dedup_key(a) == dedup_key(b)


@pytest.mark.parametrize(("a", "b"), [("refund please", "refund pleas"), ("退款", "退货"), ("??", "!!")])
def test_dedup_key_keeps_different_texts_apart(a, b):
    assert dedup_key(a) != dedup_key(b)
