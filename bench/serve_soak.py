"""Soak: steady load on `tuneforge serve` for --minutes; passes with zero errors and resident memory growing
less than 10% from the end of the warm-up to the end.

python bench/serve_soak.py --run runs/demo --minutes 10
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import tempfile
import threading
import time
from pathlib import Path

import psutil
from serve_load import ROOT, run_load, start_server


def _sample_memory(pid: int, every: float, stop: threading.Event, samples: list[tuple[float, int]]) -> None:
    process, started = psutil.Process(pid), time.monotonic()
    while not stop.wait(every):
        samples.append((round(time.monotonic() - started, 1), process.memory_info().rss))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, default=ROOT / "runs" / "demo")
    parser.add_argument("--texts", type=Path, default=ROOT / "examples" / "support" / "messages.csv")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=60, help="Seconds of load before the memory baseline.")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--pause", type=float, default=0.2, help="Seconds each client waits between requests.")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "serve_soak.json")
    args = parser.parse_args()
    with args.texts.open(encoding="utf-8") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    with tempfile.TemporaryDirectory() as workdir:
        server, url, headers = start_server("tuneforge", args.run, Path(workdir))
        try:
            warmup = asyncio.run(run_load(url, headers, texts, args.clients, args.warmup, args.pause))
            samples: list[tuple[float, int]] = [(0.0, psutil.Process(server.pid).memory_info().rss)]
            stop = threading.Event()
            sampler = threading.Thread(target=_sample_memory, args=(server.pid, 10, stop, samples))
            sampler.start()
            soak = asyncio.run(run_load(url, headers, texts, args.clients, 60 * args.minutes, args.pause))
            stop.set()
            sampler.join()
            samples.append((soak["seconds"], psutil.Process(server.pid).memory_info().rss))
        finally:
            server.kill()
            server.wait()
    baseline, final = samples[0][1], samples[-1][1]
    growth = (final - baseline) / baseline
    passed = warmup["errors"] == 0 and soak["errors"] == 0 and growth < 0.10
    summary = {
        "settings": {k: str(v) for k, v in vars(args).items()},
        "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX"),  # glibc arenas: fragmentation across threads
        "warmup": warmup,
        "soak": soak,
        "rss_mb": [(t, round(rss / 2**20, 1)) for t, rss in samples],
        "rss_growth": round(growth, 4),
        "passed": passed,
    }
    print(json.dumps({k: summary[k] for k in ("soak", "rss_growth", "passed")}, indent=2))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=2))
    print(f"written {args.output}")
    raise SystemExit(0 if passed else 1)


if __name__ == "__main__":
    main()
