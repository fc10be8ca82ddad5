"""A causal-lm-sft run served by the OpenAI-compatible chat endpoint, its LoRA merged for serving."""

from __future__ import annotations

from pathlib import Path

import yaml


def test_sft_run_answers_as_the_trained_model(
    serve_client, tiny_llama_dir: Path, chats_writer, tmp_path: Path
) -> None:
    from tuneforge.config import load_config
    from tuneforge.tasks import train
    from tuneforge.tasks.causal_lm_sft.chat_model import ChatModel

    data = chats_writer(tmp_path / "chats.jsonl", range(4))
    config = {
        "task": "causal-lm-sft",
        "model": str(tiny_llama_dir),
        "method": "lora",
        "data": {"train": str(data), "split": {"validation": 0.2, "test": 0, "seed": 1}},
        "train": {"epochs": 1, "batch_size": 8, "lr": 3e-3, "max_length": 96, "seed": 3},
        "sft": {"eval_answers": 0, "report_samples": 0},
        "output_dir": str(tmp_path / "runs" / "support"),
        "tracking": "none",
    }
    (tmp_path / "sft.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    run = train(load_config(tmp_path / "sft.yaml", []))

    client, keys = serve_client({"support": run})
    headers = {"Authorization": f"Bearer {keys['predict']}"}
    assert client.get("/v1/models", headers=headers).json()["data"][0]["task"] == "causal-lm-sft"
    messages = [{"role": "user", "content": "退货期限是多久?"}]
    request = {"model": "support", "messages": messages, "max_tokens": 8, "temperature": 0}
    response = client.post("/v1/chat/completions", json=request, headers=headers)
    assert response.status_code == 200, response.text
    served = response.json()["choices"][0]["message"]["content"]
    sampling = {"max_new_tokens": 8, "temperature": 0, "repetition_penalty": 1.0, "stop": []}
    expected = ChatModel.load(run).generate_batch([messages], **sampling)[0]
    assert expected and served.strip() == expected
