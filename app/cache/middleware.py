"""An in-process cache of whole GET answers, keyed on the request and the dataset version.

Only answers the application marked as shareable (`Cache-Control: public` with an `ETag`) are
kept, so errors, writes, streams and anything per-client never are. A hit answers without
routing, validation or a query, and a matching `If-None-Match` gets its 304 straight away.
Memory is bounded by the bytes kept (least recently used out first).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api import etag_matches
from app.cache.version import DatasetVersion

# Headers that describe one body and are not replayed on a 304.
_BODY_HEADERS = frozenset({b"content-length", b"content-type", b"content-encoding"})


@dataclass(frozen=True)
class Entry:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: bytes
    route: Any

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers) + 200


class ResponseCacheStats:
    def __init__(self) -> None:
        self.hits = 0
        self.not_modified = 0
        self.misses = 0
        self.bypassed = 0
        self.entries = 0
        self.bytes = 0


class ResponseCacheMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        version: DatasetVersion,
        max_bytes: int,
        max_entry_bytes: int,
        stats: ResponseCacheStats,
    ) -> None:
        self.app = app
        self.version = version
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes
        self.stats = stats
        self.entries: OrderedDict[tuple[Any, ...], Entry] = OrderedDict()
        self.bytes = 0
        self._seen_version: tuple[int, int] | None = None

    def _request_key(self, scope: Scope) -> tuple[tuple[Any, ...], bytes | None] | None:
        accept = b""
        gzip = False
        if_none_match: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"authorization" or name == b"cookie":
                return None  # never share what may be one client's
            if name == b"accept":
                accept = value
            elif name == b"accept-encoding":
                gzip = b"gzip" in value
            elif name == b"if-none-match":
                if_none_match = value
        key = (scope["path"], scope["query_string"], accept, gzip)
        return key, if_none_match

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        version = self.version.current
        request = self._request_key(scope) if version is not None else None
        if request is None or version is None:
            self.stats.bypassed += 1
            await self.app(scope, receive, send)
            return
        if version != self._seen_version:
            self.entries.clear()
            self.bytes = 0
            self._seen_version = version
            self._count()
        key, if_none_match = request
        seen: tuple[int, int] = version
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
            scope["route"] = entry.route  # for the access log and the metrics
            if if_none_match is not None and etag_matches(
                if_none_match.decode("latin-1"), entry.etag.decode("latin-1")
            ):
                self.stats.not_modified += 1
                headers = [(k, v) for k, v in entry.headers if k not in _BODY_HEADERS]
                await send({"type": "http.response.start", "status": 304, "headers": headers})
                await send({"type": "http.response.body", "body": b""})
                return
            self.stats.hits += 1
            await send(
                {
                    "type": "http.response.start",
                    "status": entry.status,
                    "headers": list(entry.headers),
                }
            )
            await send({"type": "http.response.body", "body": entry.body})
            return

        self.stats.misses += 1
        start: Message | None = None
        chunks: list[bytes] = []
        size = 0
        keep = False

        async def send_and_keep(message: Message) -> None:
            nonlocal start, keep, size
            if message["type"] == "http.response.start":
                # A copy: the middlewares outside add their headers to this list in place.
                start = {**message, "headers": list(message["headers"])}
                keep = message["status"] == 200 and _shareable(message["headers"])
            elif message["type"] == "http.response.body" and keep:
                size += len(message.get("body", b""))
                if size > self.max_entry_bytes:
                    keep = False
                    chunks.clear()
                else:
                    chunks.append(message.get("body", b""))
                    if not message.get("more_body", False):
                        self._store(key, seen, start, b"".join(chunks), scope.get("route"))
            await send(message)

        await self.app(scope, receive, send_and_keep)

    def _store(
        self,
        key: tuple[Any, ...],
        version: tuple[int, int],
        start: Message | None,
        body: bytes,
        route: Any,
    ) -> None:
        # An answer computed while a write landed may be older than the new version.
        if start is None or self.version.current != version:
            return
        headers = list(start["headers"])
        etag = next((v for k, v in headers if k == b"etag"), b"")
        entry = Entry(start["status"], headers, body, etag, route)
        old = self.entries.pop(key, None)
        if old is not None:
            self.bytes -= old.size
        self.entries[key] = entry
        self.bytes += entry.size
        while self.bytes > self.max_bytes and self.entries:
            _, evicted = self.entries.popitem(last=False)
            self.bytes -= evicted.size
        self._count()

    def _count(self) -> None:
        self.stats.entries = len(self.entries)
        self.stats.bytes = self.bytes


def _shareable(headers: list[tuple[bytes, bytes]]) -> bool:
    etag = control = False
    for name, value in headers:
        if name == b"etag":
            etag = True
        elif name == b"cache-control":
            control = b"public" in value and b"no-store" not in value
    return etag and control
