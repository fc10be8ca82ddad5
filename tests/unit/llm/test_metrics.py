"""ROUGE-L scores CJK text per character; exact match ignores case, width and punctuation."""

import pytest

from tuneforge.tasks.causal_lm_sft.metrics import exact_match, rouge_l, score_answers, tokens


def test_chinese_is_scored_per_character() -> None:
    assert tokens("签收后15天内") == ["签", "收", "后", "15", "天", "内"]
    # LCS of 签收后15天内可以退货 and 收到后15天内退货: 收 后 15 天 内 退 货 = 7 of 10 and 8 tokens.
    assert rouge_l("收到后15天内退货", "签收后15天内可以退货") == pytest.approx(
        2 * (7 / 8) * (7 / 10) / (7 / 8 + 7 / 10)
    )
    assert rouge_l("完全不同", "签收后退货") == 0.0


def test_english_words_and_exact_match() -> None:
    assert rouge_l("Refunds take 15 days.", "refunds take 15 days") == 1.0
    assert exact_match("Ｒefunds take 15 days!", "refunds take 15 days")
    assert not exact_match("refunds take 14 days", "refunds take 15 days")
    assert score_answers(["a b", "x"], ["a b", "y"]) == {"rouge_l": 50.0, "exact_match": 50.0}
