"""Limits checked before routing: request body size, and a rate per client IP."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import problem

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Probes and scrapers poll on a schedule and must keep working while a client is throttled.
UNLIMITED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


async def body_within_limit(scope: Scope, receive: Receive, max_bytes: int) -> Receive | None:
    """The `receive` to give the app, or None when the request body is over `max_bytes`.

    A declared Content-Length is checked at once (the server holds the body to it). A body
    without one (chunked) is read here, counting, up to the limit and then replayed to the app,
    so an oversized stream is refused before any route sees it.
    """
    declared, announced = _body_headers(scope)
    if declared is not None:
        return receive if declared <= max_bytes else None
    if not announced and scope.get("http_version") in _FRAMED_BY_HEADERS:
        # HTTP/1.x: no Content-Length and no Transfer-Encoding is no body (RFC 9112 6.3), as
        # every GET: nothing to count, nor to replay.
        return receive

    buffered: list[Message] = []
    total = 0
    while True:
        message = await receive()
        buffered.append(message)
        if message["type"] != "http.request":
            break  # the client went away; the app will see it
        total += len(message.get("body", b""))
        if total > max_bytes:
            return None
        if not message.get("more_body", False):
            break

    async def replay() -> Message:
        return buffered.pop(0) if buffered else await receive()

    return replay


async def refuse_body(scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
    response = problem(
        Request(scope),
        413,
        f"The request body is larger than the {max_bytes} bytes this API accepts.",
    )
    await response(scope, receive, send)


# The HTTP versions whose request bodies are announced by their headers (HTTP/2's are not).
_FRAMED_BY_HEADERS = frozenset({"1.0", "1.1"})


def _body_headers(scope: Scope) -> tuple[int | None, bool]:
    """The request's Content-Length (None: absent or unreadable), and whether a body is
    announced at all (a Content-Length, readable or not, or a Transfer-Encoding): an
    unreadable length is counted as it arrives, as a chunked body is."""
    length: int | None = None
    announced = False
    for name, value in scope["headers"]:
        if name in (b"content-length", b"transfer-encoding"):
            announced = True
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    length = None
    return length, announced


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_s: int  # seconds until the bucket is full again
    retry_after_s: int  # seconds until one more request is allowed (0 when allowed)


class TokenBuckets:
    """One token bucket per key: `per_minute` tokens, refilled continuously, one per request.

    A client may burst up to the whole minute's allowance, then gets one request every
    60/per_minute seconds. Buckets live in this process only.
    """

    MAX_KEYS = 50_000

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self.buckets: dict[str, _Bucket] = {}

    def _refilled(self, bucket: _Bucket, now: float) -> float:
        return min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)

    def take(self, key: str) -> Decision:
        now = self.clock()
        bucket = self.buckets.get(key)
        if bucket is None:
            if len(self.buckets) >= self.MAX_KEYS:
                self._prune(now)
            bucket = self.buckets[key] = _Bucket(self.capacity, now)
        bucket.tokens = self._refilled(bucket, now)
        bucket.updated = now
        allowed = bucket.tokens >= 1.0
        if allowed:
            bucket.tokens -= 1.0
        return Decision(
            allowed=allowed,
            limit=int(self.capacity),
            remaining=int(bucket.tokens),
            reset_s=math.ceil((self.capacity - bucket.tokens) / self.rate),
            retry_after_s=0 if allowed else max(1, math.ceil((1.0 - bucket.tokens) / self.rate)),
        )

    def _prune(self, now: float) -> None:
        # A full bucket is the same as no bucket: forget those first, then the longest idle.
        for key in [k for k, b in self.buckets.items() if self._refilled(b, now) >= self.capacity]:
            del self.buckets[key]
        if len(self.buckets) >= self.MAX_KEYS:
            by_age = sorted(self.buckets, key=lambda k: self.buckets[k].updated)
            for key in by_age[: len(by_age) // 2]:
                del self.buckets[key]


class RateLimitMiddleware:
    """429 problem+json with Retry-After once a client IP has used up its bucket; every limited
    response carries RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset.

    Reads (GET, HEAD, OPTIONS) and writes draw from separate buckets with their own rates.
    The client IP is the one uvicorn reports: the peer, or X-Forwarded-For from a proxy listed
    in FORWARDED_ALLOW_IPS.
    """

    def __init__(self, app: ASGIApp, reads_per_minute: int, writes_per_minute: int) -> None:
        self.app = app
        self.reads = TokenBuckets(reads_per_minute)
        self.writes = TokenBuckets(writes_per_minute)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        key = client[0] if client else "unknown"
        buckets = self.reads if scope["method"] in READ_METHODS else self.writes
        decision = buckets.take(key)
        headers = {
            "RateLimit-Limit": str(decision.limit),
            "RateLimit-Remaining": str(decision.remaining),
            "RateLimit-Reset": str(decision.reset_s),
        }
        if not decision.allowed:
            response = problem(
                Request(scope),
                429,
                f"Too many requests from this client (at most {decision.limit} a minute); "
                f"retry after {decision.retry_after_s} s.",
                headers={**headers, "Retry-After": str(decision.retry_after_s)},
            )
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(headers)
            await send(message)

        await self.app(scope, receive, send_with_headers)
