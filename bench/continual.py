"""Continual learning after launch on Banking77, as a user runs it: a launch model on 57 intents, then rounds of
feedback sent through a real `tuneforge serve` (predict, then label corrections over HTTP), each made into a new
version by `tuneforge retrain`; side by side, in the same run on the same rows, naive continual fine-tuning
(feedback rows only) and a from-scratch fine-tune on all rows seen so far. A last round with half its labels
flipped must be rejected by the gate, and the server's answers must not change.

    python bench/continual.py                       # the issue's scenario (4 rounds of 1,500 rows)
    python bench/continual.py --quick               # a few minutes: fewer rows, one epoch

Writes bench/results/continual.json (or --output).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "datasets" / "banking77"
TUNEFORGE = [str(Path(sys.executable).parent / "tuneforge")]  # the venv's command
LAUNCH_INTENTS = 57


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def read(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return [(row["text"], row["category"]) for row in csv.DictReader(handle)]


def write(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path


def tuneforge(*args: str, **kwargs: Any) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([*TUNEFORGE, *args], check=True, env=env, text=True, **kwargs)


class Scenario:
    """The rows of the launch model, of each feedback round, and of the tests."""

    def __init__(self, args: argparse.Namespace) -> None:
        rng = random.Random(args.seed)
        train, test = read(DATA / "train.csv"), read(DATA / "test.csv")
        intents = sorted({label for _, label in train})
        self.old, self.new = set(intents[:LAUNCH_INTENTS]), set(intents[LAUNCH_INTENTS:])
        self.labels = intents
        rng.shuffle(train)
        old_rows = [r for r in train if r[1] in self.old]
        new_rows = [r for r in train if r[1] in self.new]
        half = args.round_size // 2
        # Old-intent rows kept back from launch: they arrive as feedback, in the rounds and in the bad round.
        reserved = half * args.rounds + args.round_size
        self.launch = old_rows[reserved:]
        if args.quick:
            self.launch = self.launch[: args.launch_rows]
        old_pool, self.rounds = old_rows[:reserved], []
        for k in range(args.rounds):
            # The 20 unseen intents hold ~2,560 rows: later rounds also resend some (real traffic repeats itself).
            fresh = [new_rows[(k * half + i) % len(new_rows)] for i in range(half)]
            self.rounds.append(self._noisy(old_pool[k * half : (k + 1) * half] + fresh, 0.10, rng))
        # Fresh texts (no round sent them), half of their labels flipped: the gate must see it in the scores.
        self.bad_round = self._noisy(old_pool[half * args.rounds :], 0.50, rng)
        self.test, self.test_old = test, [r for r in test if r[1] in self.old]

    def _noisy(self, rows: list[tuple[str, str]], share: float, rng: random.Random) -> list[tuple[str, str]]:
        rows = list(rows)
        rng.shuffle(rows)
        flip = set(rng.sample(range(len(rows)), round(share * len(rows))))
        return [
            (t, rng.choice([x for x in self.labels if x != y]) if i in flip else y) for i, (t, y) in enumerate(rows)
        ]


def config(work: Path, name: str, train: Path, test: Path, args: argparse.Namespace, **continual: Any) -> Path:
    cfg = {
        "task": "text-classification",
        "model": "minilm",
        "data": {"train": str(train), "test": str(test), "split": {"validation": 0.1, "seed": 1}},
        "train": {
            "epochs": args.epochs,
            "batch_size": 32,
            "lr": 1e-4,
            "max_length": 64,
            "seed": 3,
            "mixed_precision": args.precision,
        },
        "output_dir": str(work / "runs" / name),
        "tracking": "none",
        "continual": {
            "replay": {"size": 2000, "per_class_min": 10},
            "epochs": args.round_epochs,
            "gate": {"min_gain": 0.0, "max_forgetting": 0.01, "max_class_drop": 0.10, "min_new_rows": 50},
            **continual,
        },
    }
    path = work / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def accuracy(run_dir: Path, rows: list[tuple[str, str]]) -> float:
    import tuneforge

    predicted = tuneforge.load(run_dir).predict([t for t, _ in rows])
    return sum(p.label == y for p, (_, y) in zip(predicted, rows, strict=True)) / len(rows)


class Server:
    """`tuneforge serve --registry` on loopback, and a client that sends a round's feedback through it."""

    def __init__(self, work: Path, registry: Path, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        database = f"sqlite:///{work / 'serve.db'}"
        key = tuneforge(
            "keys",
            "create",
            "--name",
            "bench",
            "--scopes",
            "predict,feedback",
            "--database",
            database,
            capture_output=True,
        ).stdout.strip()
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TUNEFORGE_RATE_LIMIT_PER_MINUTE": "1000000"}
        self.log = (work / "serve.log").open("w")
        self.process = subprocess.Popen(
            [
                *TUNEFORGE,
                "serve",
                "intent",
                "--registry",
                str(registry),
                "--port",
                str(port),
                "--database",
                database,
                "--log-texts",
                "--feedback-new-labels",
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.client = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {key}"}, timeout=60)
        self.database = database
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if self.client.get("/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(1)
        raise RuntimeError(f"server not ready; see {work / 'serve.log'}")

    def predict(self, texts: list[str]) -> tuple[list[dict[str, Any]], str]:
        answers, version = [], ""
        for start in range(0, len(texts), 32):
            response = self.client.post("/v1/models/intent/predict", json={"texts": texts[start : start + 32]})
            response.raise_for_status()
            answers += response.json()["predictions"]
            version = response.headers.get("X-Model-Version", "")
        return answers, version

    def send_feedback(self, rows: list[tuple[str, str]]) -> int:
        predictions, _ = self.predict([t for t, _ in rows])
        for prediction, (_, label) in zip(predictions, rows, strict=True):
            self.client.post(
                "/v1/feedback", json={"prediction_id": prediction["id"], "label": label}
            ).raise_for_status()
        return len(rows)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def lineage(registry: Path, tag: str) -> dict[str, Any]:
    return json.loads((registry / "intent" / tag / "lineage.json").read_text())


def last_round(registry: Path) -> dict[str, Any]:
    return json.loads((registry / "intent" / "rounds.jsonl").read_text().splitlines()[-1])


def champion(registry: Path) -> str:
    return json.loads((registry / "intent" / "champion.json").read_text())["version"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--round-size", type=int, default=1500)
    parser.add_argument("--epochs", type=float, default=3)
    parser.add_argument("--round-epochs", type=float, default=2)
    parser.add_argument("--round-lr", type=float, default=1e-4)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--quick", action="store_true", help="1,000 launch rows, rounds of 300, one epoch")
    parser.add_argument("--launch-rows", type=int, default=1000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/tuneforge-continual-bench"))
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "continual.json")
    args = parser.parse_args()
    if args.quick:
        args.round_size, args.epochs, args.round_epochs = 300, 1, 1
    round_set = ["--set", f"train.lr={args.round_lr}"]
    shutil.rmtree(args.work, ignore_errors=True)
    work = args.work
    work.mkdir(parents=True)
    scenario = Scenario(args)
    test_old = write(work / "test_launch_intents.csv", scenario.test_old)
    result: dict[str, Any] = {
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "args": {k: str(v) for k, v in vars(args).items()},
    }

    started = time.perf_counter()
    launch_cfg = config(
        work,
        "launch",
        write(work / "launch.csv", scenario.launch),
        test_old,
        args,
        feedback="sqlite:///" + str(work / "serve.db"),
        strategy="replay+lwf",
    )
    tuneforge("train", str(launch_cfg))
    result["launch"] = {"rows": len(scenario.launch), "seconds": round(time.perf_counter() - started, 1)}
    registries = {name: work / f"models-{name}" for name in ("continual", "naive")}
    for registry in registries.values():
        tuneforge("models", "add", "intent", str(work / "runs" / "launch"), "--registry", str(registry))
    # Naive continual fine-tuning as people do it by hand: the feedback rows only, and every round promoted (an
    # open gate), so that its forgetting shows.
    open_gate = {"min_gain": -1.0, "max_forgetting": 1.0, "max_class_drop": 1.0, "min_new_rows": 50}
    naive_cfg = config(
        work,
        "naive",
        work / "launch.csv",
        test_old,
        args,
        strategy="naive",
        feedback=str(work / "round.csv"),
        gate=open_gate,
    )

    server = Server(work, registries["continual"], args.port or free_port())
    rounds, seen = [], list(scenario.launch)
    try:
        for k, rows in enumerate(scenario.rounds, start=1):
            server.send_feedback(rows)
            seen += rows
            began = time.perf_counter()
            tuneforge(
                "retrain",
                str(launch_cfg),
                "--champion",
                "intent",
                "--registry",
                str(registries["continual"]),
                *round_set,
            )
            wall = time.perf_counter() - began
            tag = last_round(registries["continual"])["challenger"]
            write(work / "round.csv", rows)  # the same rows, for the naive chain
            tuneforge(
                "retrain", str(naive_cfg), "--champion", "intent", "--registry", str(registries["naive"]), *round_set
            )
            info = lineage(registries["continual"], tag)
            rounds.append(
                {
                    "round": k,
                    "version": tag,
                    "gate": info["gate"]["decision"],
                    "reasons": info["gate"]["reasons"],
                    "train_seconds": info["train_seconds"],
                    "wall_seconds": round(wall, 1),
                }
            )
            print(json.dumps(rounds[-1]), flush=True)
        # The from-scratch reference: every row seen so far (launch + all feedback, noisy labels as they came).
        scratch_cfg = config(work, "scratch", write(work / "seen.csv", seen), test_old, args)
        tuneforge("train", str(scratch_cfg))
        scratch_metrics = json.loads((work / "runs" / "scratch" / "metrics.json").read_text())
        # The bad round: half of its labels flipped; the champion and what the server answers must not change.
        probe = [t for t, _ in scenario.test[:200]]
        before, version_before = server.predict(probe)
        server.send_feedback(scenario.bad_round)
        bad = subprocess.run(
            [
                *TUNEFORGE,
                "retrain",
                str(launch_cfg),
                "--champion",
                "intent",
                "--registry",
                str(registries["continual"]),
                *round_set,
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
        time.sleep(5)
        after, version_after = server.predict(probe)
    finally:
        server.stop()
    final = registries["continual"] / "intent" / champion(registries["continual"])
    naive_final = registries["naive"] / "intent" / champion(registries["naive"])
    bad_tag = sorted((registries["continual"] / "intent").glob("v*"), key=lambda p: int(p.name[1:]))[-1].name
    bad_lineage = lineage(registries["continual"], bad_tag)
    systems = {
        "continual (replay+lwf)": final,
        "naive": naive_final,
        "from-scratch": work / "runs" / "scratch",
        "launch": work / "runs" / "launch",
    }
    scores = {
        name: {"test_all": accuracy(path, scenario.test), "test_launch_intents": accuracy(path, scenario.test_old)}
        for name, path in systems.items()
    }
    round4 = rounds[-1]["train_seconds"]
    scratch_seconds = scratch_metrics["train"]["train_seconds"]
    result |= {
        "rounds": rounds,
        "scores": scores,
        "from_scratch": {"rows": len(seen), "train_seconds": scratch_seconds},
        "bars": {
            "gap_all_points": round(
                100 * (scores["from-scratch"]["test_all"] - scores["continual (replay+lwf)"]["test_all"]), 2
            ),
            "gap_launch_intents_points": round(
                100
                * (
                    scores["from-scratch"]["test_launch_intents"]
                    - scores["continual (replay+lwf)"]["test_launch_intents"]
                ),
                2,
            ),
            "naive_forgetting_points": round(
                100 * (scores["from-scratch"]["test_launch_intents"] - scores["naive"]["test_launch_intents"]), 2
            ),
            "round4_cost_ratio": round(round4 / scratch_seconds, 3),
            "bad_round_rejected": bad_lineage.get("gate", {}).get("decision") == "reject"
            and bad_lineage["round"] == len(rounds) + 1,
            "bad_round_reasons": bad_lineage.get("gate", {}).get("reasons"),
            "bad_round_exit": bad.returncode,
            "answers_unchanged": [p["label"] for p in before] == [p["label"] for p in after]
            and version_before == version_after,
        },
    }
    print(bad.stdout[-2000:])
    print(json.dumps(result["scores"], indent=2))
    print(json.dumps(result["bars"], indent=2))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
