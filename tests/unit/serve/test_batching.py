"""MicroBatcher: concurrent requests share model calls, a full queue refuses at once, errors reach every caller."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from tuneforge.serve.batching import MicroBatcher, QueueFull


def _run_async(coroutine):
    return asyncio.run(coroutine)


def test_concurrent_requests_are_batched_in_order() -> None:
    calls: list[list[int]] = []
    threads: set[str] = set()

    def run(items: list[int]) -> list[int]:
        calls.append(items)
        threads.add(threading.current_thread().name)
        time.sleep(0.02)  # model work: requests arriving meanwhile join the next batch
        return [i * 10 for i in items]

    async def main() -> list[list[int]]:
        batcher = MicroBatcher(run, max_batch_size=8, max_wait_s=0.01, max_queue=100)
        batcher.start()
        results = await asyncio.gather(*(batcher.submit([i, i + 100]) for i in range(12)))
        await batcher.close()
        return results

    results = _run_async(main())
    assert results == [[i * 10, (i + 100) * 10] for i in range(12)]
    assert sum(len(c) for c in calls) == 24 and max(len(c) for c in calls) <= 8
    assert len(calls) <= 4  # 24 items, at most 8 a batch: 3 full batches, maybe one split by timing
    assert threads and all(name.startswith("tuneforge-batch") for name in threads)  # never the event loop


def test_full_queue_refuses_with_retry_after() -> None:
    release = threading.Event()

    def run(items: list[int]) -> list[int]:
        release.wait(5)
        return items

    async def main() -> None:
        batcher = MicroBatcher(run, max_batch_size=2, max_wait_s=0, max_queue=4)
        batcher.start()
        running = asyncio.ensure_future(batcher.submit([1, 2]))  # taken by the worker, blocks in run()
        await asyncio.sleep(0.05)
        queued = [asyncio.ensure_future(batcher.submit([3, 4])), asyncio.ensure_future(batcher.submit([5, 6]))]
        await asyncio.sleep(0.01)
        with pytest.raises(QueueFull) as refused:
            await batcher.submit([7])
        assert refused.value.retry_after >= 1
        release.set()
        assert await running == [1, 2] and [await q for q in queued] == [[3, 4], [5, 6]]
        await batcher.close()

    _run_async(main())


def test_a_failing_batch_fails_its_requests_and_the_batcher_goes_on() -> None:
    def run(items: list[int]) -> list[int]:
        if 13 in items:
            raise ValueError("bad item")
        return items

    async def main() -> None:
        batcher = MicroBatcher(run, max_batch_size=4, max_wait_s=0, max_queue=10)
        batcher.start()
        with pytest.raises(ValueError, match="bad item"):
            await batcher.submit([13])
        assert await batcher.submit([1]) == [1]
        await batcher.close()

    _run_async(main())
