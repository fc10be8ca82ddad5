"""Chat completions are logged under their `id`; feedback on it comes back out of `feedback export` as chat JSONL."""

from __future__ import annotations

import json
import time
from pathlib import Path

from typer.testing import CliRunner

from tuneforge.cli import app
from tuneforge.config.sft import SftConfig
from tuneforge.tasks.causal_lm_sft.chats import read_conversations

QUESTION = [{"role": "user", "content": "我的订单还没发货, call me on 138-1234-5678"}]


def _logged(client, completion_id: str) -> None:
    """The log is written by a background thread: wait until it holds the completion."""
    store = client.app.state.serving.feedback
    deadline = time.monotonic() + 10
    while not store.known_prediction(completion_id):
        assert time.monotonic() < deadline, f"{completion_id} was never logged"
        time.sleep(0.02)


def test_corrected_chat_answer_is_exported_as_training_data(serve_client, tiny_llama_dir, tmp_path: Path) -> None:
    client, keys = serve_client({"chat": tiny_llama_dir}, log_texts=True)
    predict = {"Authorization": f"Bearer {keys['predict']}"}
    feedback = {"Authorization": f"Bearer {keys['feedback']}"}
    request = {"model": "chat", "messages": QUESTION, "max_tokens": 6, "temperature": 0}
    completion = client.post("/v1/chat/completions", json=request, headers=predict).json()
    with client.stream("POST", "/v1/chat/completions", json={**request, "stream": True}, headers=predict) as stream:
        events = [line.removeprefix("data: ") for line in stream.iter_lines() if line.startswith("data: ")]
    first_chunk = json.loads(events[0])
    streamed_id = first_chunk["id"]
    assert completion["id"].startswith("chatcmpl-") and streamed_id.startswith("chatcmpl-")

    corrected = "您的订单今天发货。"
    sent = {"prediction_id": completion["id"], "answer": corrected}
    assert client.post("/v1/feedback", json=sent, headers=feedback).status_code == 201
    rated = {"prediction_id": streamed_id, "rating": 5}
    assert client.post("/v1/feedback", json=rated, headers=feedback).status_code == 201
    blank = client.post("/v1/feedback", json={"prediction_id": streamed_id, "answer": "  "}, headers=feedback)
    assert blank.status_code == 422  # training would reject an empty answer
    for completion_id in (completion["id"], streamed_id):
        _logged(client, completion_id)

    database = f"sqlite:///{tmp_path / 'serve.db'}"
    output = tmp_path / "chats.jsonl"
    command = ["feedback", "export", "--model", "chat", "--output", str(output), "--database", database]
    result = CliRunner().invoke(app, command, catch_exceptions=False)
    assert result.exit_code == 0 and "1 conversations written" in result.output, result.output
    _, conversations, errors = read_conversations(output, "auto", "auto", SftConfig())
    assert errors == [] and len(conversations) == 1
    assert conversations[0].prompt == [{"role": "user", "content": "我的订单还没发货, call me on [PHONE]"}]
    assert conversations[0].reference == corrected

    result = CliRunner().invoke(app, [*command, "--min-rating", "4"], catch_exceptions=False)
    assert result.exit_code == 0 and "2 conversations written" in result.output, result.output
    _, conversations, errors = read_conversations(output, "auto", "auto", SftConfig())
    assert errors == [] and [c.reference for c in conversations] == [
        corrected,
        completion["choices"][0]["message"]["content"],
    ]
