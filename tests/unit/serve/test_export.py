"""Feedback export per task: chat JSONL that training reads, the rating filter, and clear refusals."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from tuneforge.config.sft import SftConfig
from tuneforge.errors import ConfigError, DataError
from tuneforge.serve.export import export_feedback
from tuneforge.serve.feedback import FeedbackStore, LoggedChat, LoggedPrediction
from tuneforge.tasks.causal_lm_sft.chats import read_conversations

# (turns of the request, the model's answer)
CHATS = [
    (
        [
            {"role": "system", "content": "You are a support agent."},
            {"role": "user", "content": "where is order 7? mail li.wei@example.com"},
        ],
        "no idea",
    ),
    ([{"role": "user", "content": "退货期限是多久?\n谢谢"}], "签收后15天内可以申请退货。"),
    ([{"role": "user", "content": "hi"}], "bad answer"),
    ([{"role": "user", "content": "rated well, then badly"}], "so-so answer"),
    # What normalisation would change, and an empty system turn (training rejects empty turns).
    ([{"role": "system", "content": " "}, {"role": "user", "content": 'say "yes" &quot;？＂'}], "yes"),
]


def _log_chats(engine, *, log_texts: bool) -> tuple[FeedbackStore, str, list[str]]:
    store, model = FeedbackStore(engine, log_texts=log_texts), f"chat-{uuid.uuid4().hex[:8]}"
    ids = [f"chatcmpl-{model}-{i}" for i in range(len(CHATS))]
    logged = [LoggedChat(i, messages, answer) for i, (messages, answer) in zip(ids, CHATS, strict=True)]
    store.log_predictions(model, "causal-lm-sft", logged)
    return store, model, ids


def _read(path: Path) -> list[list[dict[str, str]]]:
    _, conversations, errors = read_conversations(path, "auto", "auto", SftConfig())
    assert errors == []
    return [list(c.messages) for c in conversations]


def test_chat_export_is_training_data_with_the_latest_answer(engine, tmp_path: Path) -> None:
    store, model, ids = _log_chats(engine, log_texts=True)
    store.record(ids[0], "k1", answer="first try")
    store.record(ids[0], "k1", answer="It ships today; we mailed li.wei@example.com.")  # the correction wins
    store.record(ids[1], "k1", rating=5)
    store.record(ids[2], "k1", rating=2)
    store.record(ids[3], "k1", rating=5)
    store.record(ids[3], "k1", rating=1)  # the latest rating counts
    store.record(ids[4], "k1", answer="Yes.", rating=1)  # a correction is exported whatever the rating

    output = tmp_path / "chats.jsonl"
    exported = export_feedback(engine, output, model=model)
    assert (exported.rows, exported.unit, exported.skipped) == (2, "conversations", {})
    corrected = [
        [
            {"role": "system", "content": "You are a support agent."},
            {"role": "user", "content": "where is order 7? mail [EMAIL]"},
            {"role": "assistant", "content": "It ships today; we mailed [EMAIL]."},
        ],
        [{"role": "user", "content": 'say "yes" &quot;？＂'}, {"role": "assistant", "content": "Yes."}],
    ]
    assert _read(output) == corrected

    assert export_feedback(engine, output, model=model, min_rating=4).rows == 3
    rated_well = [{"role": "user", "content": "退货期限是多久?\n谢谢"}, {"role": "assistant", "content": CHATS[1][1]}]
    assert _read(output) == [corrected[0], rated_well, corrected[1]]


def test_chats_are_logged_only_with_log_texts(engine, tmp_path: Path) -> None:
    store, model, ids = _log_chats(engine, log_texts=False)
    store.record(ids[0], "k1", answer="It ships today.")
    store.record(ids[1], "k1", rating=5)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT text, output FROM predictions WHERE model = :m"), {"m": model}).all()
    assert {(row[0], str(row[1])) for row in stored} == {(None, "{}")}  # neither the turns nor the answer
    with pytest.raises(DataError, match=r"2 left out: no logged text"):
        export_feedback(engine, tmp_path / "chats.jsonl", model=model, min_rating=4)


def test_export_refuses_what_training_could_not_read(engine, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    store = FeedbackStore(engine, log_texts=True)
    recommender, classifier = f"rec-{uuid.uuid4().hex[:8]}", f"clf-{uuid.uuid4().hex[:8]}"
    store.log_predictions(recommender, "recommendation", [LoggedPrediction(f"{recommender}-0", '{"user": "u1"}', {})])
    store.log_predictions(classifier, "text-classification", [LoggedPrediction(f"{classifier}-0", "退款", {})])
    _, chat, ids = _log_chats(engine, log_texts=True)
    store.record(ids[0], "k1", answer="It ships today.")

    with pytest.raises(ConfigError, match=r"a recommendation model; feedback export supports text-classifi"):
        export_feedback(engine, out / "items.jsonl", model=recommender)
    with pytest.raises(ConfigError, match=r"written as jsonl.*name it \*\.jsonl"):
        export_feedback(engine, out / "chats.csv", model=chat)
    with pytest.raises(ConfigError, match="--min-rating: applies to chat models"):
        export_feedback(engine, out / "labels.csv", model=classifier, min_rating=4)
    with pytest.raises(DataError, match=f"none of its predictions is logged; logged models: .*{chat}"):
        export_feedback(engine, out / "labels.csv", model="typo")
    assert not list(out.iterdir())  # nothing written, not even a .tmp
