"""Dynamic micro-batching: requests wait in a bounded queue and run together, up to a batch size or a wait time.

Model work runs in `workers` threads, so the event loop keeps accepting requests while batches compute, and
the requests that arrive meanwhile form the next batch. A full queue refuses at once (`QueueFull`) instead of
letting latency grow without bound.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

__all__ = ["MicroBatcher", "QueueFull"]


class QueueFull(Exception):
    """The queue holds `max_queue` items already; retry after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"queue full, retry after {retry_after} s")
        self.retry_after = retry_after


class MicroBatcher:
    """Batch the items of concurrent `submit` calls into calls of `run(items) -> results` (same length)."""

    def __init__(
        self,
        run: Callable[[list[Any]], Sequence[Any]],
        *,
        max_batch_size: int,
        max_wait_s: float,
        max_queue: int,
        workers: int = 1,
        on_batch: Callable[[int, float], None] | None = None,
        thread_init: Callable[[], None] | None = None,
    ) -> None:
        self.run, self.max_batch_size, self.max_wait_s, self.max_queue = run, max_batch_size, max_wait_s, max_queue
        self.on_batch = on_batch
        self.queued = 0  # items waiting, for the queue-depth gauge and admission
        self._pending: deque[tuple[list[Any], asyncio.Future[list[Any]]]] = deque()
        self._wakeup = asyncio.Event()
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="tuneforge-batch", initializer=thread_init)
        self._free_workers = asyncio.Semaphore(workers)
        self._running: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._last_batch_s = 0.05

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._serve())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, *self._running, return_exceptions=True)
        for _, future in self._pending:
            if not future.done():
                future.set_exception(QueueFull(retry_after=1))
        self._executor.shutdown(wait=False)

    async def submit(self, items: list[Any]) -> list[Any]:
        if self.queued + len(items) > self.max_queue:
            batches_ahead = math.ceil(self.queued / self.max_batch_size) + 1
            raise QueueFull(max(1, math.ceil(batches_ahead * self._last_batch_s)))
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._pending.append((items, future))
        self.queued += len(items)
        self._wakeup.set()
        return await future

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._free_workers.acquire()  # while every worker is busy, arrivals pile up into a fuller batch
            while not self._pending:
                self._wakeup.clear()
                await self._wakeup.wait()
            deadline = loop.time() + self.max_wait_s
            while self.queued < self.max_batch_size and (left := deadline - loop.time()) > 0:
                self._wakeup.clear()
                try:
                    await asyncio.wait_for(self._wakeup.wait(), left)
                except TimeoutError:
                    break
            batch = self._take()
            if not batch:
                self._free_workers.release()
                continue
            task = loop.create_task(self._run_batch(loop, batch))
            self._running.add(task)
            task.add_done_callback(self._batch_done)

    def _batch_done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._free_workers.release()

    def _take(self) -> list[tuple[list[Any], asyncio.Future[list[Any]]]]:
        """Whole requests from the front of the queue, at least one, at most max_batch_size items."""
        batch: list[tuple[list[Any], asyncio.Future[list[Any]]]] = []
        size = 0
        while self._pending and (not batch or size + len(self._pending[0][0]) <= self.max_batch_size):
            items, future = self._pending.popleft()
            self.queued -= len(items)
            if not future.done():  # a cancelled request (client gone) costs no model time
                batch.append((items, future))
                size += len(items)
        return batch

    async def _run_batch(self, loop: asyncio.AbstractEventLoop, batch: list[tuple[list[Any], Any]]) -> None:
        flat = [item for items, _ in batch for item in items]
        started = loop.time()
        try:
            results = await loop.run_in_executor(self._executor, self.run, flat)
        except Exception as exc:  # the batch's requests fail together; the server goes on
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        self._last_batch_s = loop.time() - started
        if self.on_batch:
            self.on_batch(len(flat), self._last_batch_s)
        offset = 0
        for items, future in batch:
            if not future.done():
                future.set_result(list(results[offset : offset + len(items)]))
            offset += len(items)
