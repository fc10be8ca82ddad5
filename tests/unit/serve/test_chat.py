"""Chat on a tiny random Llama: OpenAI-style JSON and SSE, /v1/models, token metrics."""

from __future__ import annotations

import json

MESSAGES = [{"role": "user", "content": "我的订单还没发货 where is it"}]


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_chat_completions_json_and_stream(serve_client, tiny_llama_dir, classifier_run) -> None:
    client, keys = serve_client({"chat": tiny_llama_dir, "demo": classifier_run})
    headers = _auth(keys["predict"])
    models = client.get("/v1/models", headers=headers).json()
    assert {m["id"]: m["task"] for m in models["data"]} == {"chat": "causal-lm", "demo": "text-classification"}

    request = {"model": "chat", "messages": MESSAGES, "max_tokens": 6, "temperature": 0}
    response = client.post("/v1/chat/completions", json=request, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    answer = body["choices"][0]["message"]["content"]
    assert body["object"] == "chat.completion" and body["usage"]["completion_tokens"] == 6

    with client.stream("POST", "/v1/chat/completions", json={**request, "stream": True}, headers=headers) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = [line.removeprefix("data: ") for line in stream.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant"}
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == answer
    assert chunks[-1]["choices"][0]["finish_reason"] == "length" and chunks[-1]["usage"]["completion_tokens"] == 6
    assert 'tuneforge_generated_tokens_total{model="chat"} 12.0' in client.get("/metrics").text

    wrong = client.post("/v1/chat/completions", json={**request, "model": "demo"}, headers=headers)
    assert wrong.status_code == 404 and "not a chat model" in wrong.json()["detail"]
    assert client.post("/v1/chat/completions", json=request).status_code == 401
