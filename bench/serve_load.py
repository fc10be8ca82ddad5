"""Serving throughput: tuneforge (micro-batching) vs a naive FastAPI endpoint calling a transformers pipeline per
request, same model, same texts, 32 concurrent clients on loopback, one system at a time for --seconds each.

python bench/serve_load.py --run runs/demo        # a run trained with `tuneforge train configs/demo.yaml`
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp
import httpx

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(command: list[str], port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as sink:  # a file, not a pipe: a full pipe would stall the server's access log
        server = subprocess.Popen(command, env={**os.environ, **env}, stdout=sink, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"server failed, see {log}: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    server.kill()
    raise SystemExit("server not ready after 180 s")


async def run_load(
    url: str, headers: dict[str, str], texts: list[str], clients: int, seconds: float, pause: float = 0
) -> dict:
    """`clients` loops each sending one text per request (then sleeping `pause` s) until the time is up."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()  # status code or exception name -> count
    deadline = time.monotonic() + seconds

    async def client_loop(seed: int, http: aiohttp.ClientSession) -> None:
        rng = random.Random(seed)
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                async with http.post(url, json={"texts": [rng.choice(texts)]}, headers=headers) as response:
                    await response.read()
                    error = None if response.status == 200 else str(response.status)
            except (aiohttp.ClientError, TimeoutError) as exc:
                error = type(exc).__name__
            if error is None:
                latencies.append(time.perf_counter() - started)
            else:
                errors[error] += 1
            await asyncio.sleep(pause)

    # aiohttp rather than httpx: it costs a fraction of the CPU per request, and the load generator shares the
    # machine's cores with the server it measures.
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as http:
        started = time.monotonic()
        await asyncio.gather(*(client_loop(i, http) for i in range(clients)))
        elapsed = time.monotonic() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "seconds": round(elapsed, 2),
        "requests_per_second": round(len(latencies) / elapsed, 2),
        "p50_ms": round(1000 * statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(1000 * latencies[int(0.99 * (len(latencies) - 1))], 1) if latencies else None,
    }


def start_server(system: str, run: Path, workdir: Path) -> tuple[subprocess.Popen[bytes], str, dict[str, str]]:
    """Start `naive` or `tuneforge` on a free loopback port; returns (process, predict URL, request headers)."""
    port = _free_port()
    env = {"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": str(ROOT / "src")}
    if system == "naive":
        command = [sys.executable, str(ROOT / "bench" / "_naive_serve.py"), str(run / "model"), str(port)]
        server = _start(command, port, env, workdir / f"{system}.log")
        return server, f"http://127.0.0.1:{port}/predict", {}
    database = f"sqlite:///{workdir / 'serve.db'}"
    tuneforge = [sys.executable, "-m", "tuneforge"]
    key = (
        subprocess.run(
            [*tuneforge, "keys", "create", "--name", f"bench-{port}", "--database", database],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    env["TUNEFORGE_RATE_LIMIT_PER_MINUTE"] = "100000000"  # the bench measures the model path, not the limiter
    command = [*tuneforge, "serve", f"demo={run}", "--port", str(port), "--database", database]
    server = _start(command, port, env, workdir / f"{system}.log")
    return server, f"http://127.0.0.1:{port}/v1/models/demo/predict", {"Authorization": f"Bearer {key}"}


def _run_system(system: str, args: argparse.Namespace, texts: list[str], workdir: Path) -> dict:
    server, url, headers = start_server(system, args.run, workdir)
    try:
        asyncio.run(run_load(url, headers, texts, args.clients, args.warmup))
        result = asyncio.run(run_load(url, headers, texts, args.clients, args.seconds))
    finally:
        server.kill()  # not terminate: uvicorn would first finish the requests still queued in its thread pool
        server.wait()
    print(f"{system}: {result}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, default=ROOT / "runs" / "demo", help="A text-classification run dir.")
    parser.add_argument("--texts", type=Path, default=ROOT / "examples" / "support" / "messages.csv")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30, help="Measured time per system.")
    parser.add_argument("--warmup", type=float, default=5, help="Unmeasured load before each measurement.")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "serve_load.json")
    args = parser.parse_args()
    if not (args.run / "manifest.json").is_file():
        raise SystemExit(f"{args.run} is not a run dir; train one first: tuneforge train configs/demo.yaml")
    with args.texts.open(encoding="utf-8") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    load_before = os.getloadavg()  # the machine is shared: other work competes for the same cores
    with tempfile.TemporaryDirectory() as workdir:
        results = {system: _run_system(system, args, texts, Path(workdir)) for system in ("naive", "tuneforge")}
    ratio = results["tuneforge"]["requests_per_second"] / results["naive"]["requests_per_second"]
    summary = {
        "settings": {k: str(v) for k, v in vars(args).items()},
        "cpu_count": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "results": results,
        "throughput_ratio": round(ratio, 2),
    }
    print("\nsystem      req/s    p50 ms   p99 ms  errors")
    for system, r in results.items():
        print(f"{system:<10} {r['requests_per_second']:>7.1f} {r['p50_ms']:>8} {r['p99_ms']:>8} {r['errors']:>7}")
    print(f"throughput ratio tuneforge/naive: {ratio:.2f}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=2))
    print(f"written {args.output}")


if __name__ == "__main__":
    main()
