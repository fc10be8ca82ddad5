"""Request limits: a body-size cap (413) as ASGI middleware and a per-key sliding-window rate limit (429)."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from starlette.exceptions import HTTPException

__all__ = ["BodySizeLimit", "RateLimiter"]


class _TooLarge(HTTPException):
    """Raised while a body without Content-Length (chunked) streams in. An HTTPException, because FastAPI turns any
    other error raised while it reads a body into a 400 ("There was an error parsing the body")."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, _too_large(max_bytes))


def _too_large(max_bytes: int) -> str:
    return f"request body is larger than {max_bytes} bytes"


class BodySizeLimit:
    """Refuse bodies over `max_bytes` with 413: by Content-Length at once, else while the body streams in."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            return await self._refuse(send)
        received, started = 0, False

        async def counting_receive() -> dict[str, Any]:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise _TooLarge(self.max_bytes)
            return message

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Any) -> None:
        body = json.dumps({"detail": _too_large(self.max_bytes)}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class RateLimiter:
    """At most `per_minute` requests per key in any 60 seconds: a sliding log of each key's recent requests.

    A token bucket holding a minute's worth of tokens let a key send its whole minute at once and then the refill
    on top: 1,300 requests in 21 s never hit the default 1,200 a minute (1,200 + 21 x 20 = 1,620 allowed).

    >>> limiter = RateLimiter(2)
    >>> [limiter.allow("k") > 0 for _ in range(3)]
    [False, False, True]
    """

    window_s = 60.0

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute, self.clock = per_minute, clock
        self._recent: dict[str, deque[float]] = {}  # key id -> times of its requests in the last window
        self._lock = threading.Lock()

    def allow(self, key_id: str) -> float:
        """0 when the request may go ahead (and it is counted), else the seconds until it may."""
        now = self.clock()
        with self._lock:
            recent = self._recent.setdefault(key_id, deque())
            while recent and recent[0] <= now - self.window_s:
                recent.popleft()
            if len(recent) >= self.per_minute:
                return recent[0] + self.window_s - now
            recent.append(now)
            return 0.0
