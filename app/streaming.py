"""List responses in JSON pages, or the whole filtered result streamed as CSV or NDJSON."""

import csv
import datetime as dt
import io
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import Query, Request
from sqlmodel import Session
from starlette.responses import StreamingResponse

from app.api import PageParams, list_response
from app.db import engine_for_read, in_worker_thread
from app.jsonutil import dumps

Format = Literal["json", "csv", "ndjson"]
Fetch = Callable[[Session, PageParams], tuple[list[dict[str, Any]], str | None]]

_SLOW_PARAMS = frozenset({"q", "as_of"})

# Rows per query while streaming: memory stays bounded by one chunk whatever the table size.
EXPORT_CHUNK = 1000
MEDIA_TYPES: dict[str, Format] = {
    "application/json": "json",
    "text/csv": "csv",
    "application/x-ndjson": "ndjson",
}

FormatQuery = Annotated[
    Format | None,
    Query(
        description=(
            "`csv` or `ndjson` stream the whole filtered result (not one page);"
            " the same as `Accept: text/csv` or `Accept: application/x-ndjson`."
        )
    ),
]

LIST_CONTENT: dict[str, Any] = {
    "text/csv": {"schema": {"type": "string"}},
    "application/x-ndjson": {"schema": {"type": "string"}},
}


def negotiate(request: Request, requested: Format | None) -> Format:
    """`format=` wins; else the best of the Accept header's types we serve; else JSON."""
    if requested is not None:
        return requested
    best: tuple[float, Format] = (0.0, "json")
    for position, part in enumerate(request.headers.get("accept", "").split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        if media.lower() not in MEDIA_TYPES:
            continue
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        # Earlier entries win ties, as clients list their preference first.
        score = quality - position * 1e-6
        if score > best[0]:
            best = (score, MEDIA_TYPES[media.lower()])
    return best[1]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "|".join(value)
    if isinstance(value, list) and all(
        isinstance(v, dict) and set(v) >= {"organization_id", "role"} for v in value
    ):
        return "|".join(f"{v['organization_id']}:{v['role']}" for v in value)
    if isinstance(value, list | dict):
        return dumps(value).decode()
    return str(value)


Chunks = AsyncIterator[list[dict[str, Any]]]


async def _csv(chunks: Chunks) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    header: list[str] | None = None
    async for chunk in chunks:
        for row in chunk:
            if header is None:
                header = list(row)
                writer.writerow(header)
            writer.writerow([_cell(row.get(key)) for key in header])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


async def _ndjson(chunks: Chunks) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        yield b"".join(dumps(row) + b"\n" for row in chunk)


async def respond_list(
    request: Request,
    session: Session,
    page: PageParams,
    requested: Format | None,
    name: str,
    fetch: Fetch,
) -> Any:
    fmt = negotiate(request, requested)

    async def fetch_page(p: PageParams) -> tuple[list[dict[str, Any]], str | None]:
        # An index-backed page takes a millisecond and runs right here; text search and
        # as_of read much more, so they wait in a worker thread, not on the event loop.
        if _SLOW_PARAMS & request.query_params.keys():
            return await in_worker_thread(request, fetch, session, p)
        return fetch(session, p)

    if fmt == "json":
        data, next_cursor = await fetch_page(page)
        return list_response(request, data, next_cursor)

    # The first chunk runs on the request's session, so a bad parameter is still a 422.
    chunk_page = replace(page, limit=EXPORT_CHUNK, cursor=None)
    first, cursor = await fetch_page(chunk_page)
    engine = engine_for_read(request)

    def next_chunk(after: str) -> tuple[list[dict[str, Any]], str | None]:
        with Session(engine) as chunk_session:
            return fetch(chunk_session, replace(chunk_page, cursor=after))

    async def chunks() -> Chunks:
        # Each further chunk is a slow read: a few streams at once hold connections, and the
        # reads on the event loop always find one free.
        yield first
        after = cursor
        while after:
            chunk, after = await in_worker_thread(request, next_chunk, after, patient=True)
            yield chunk

    if fmt == "csv":
        return StreamingResponse(
            _csv(chunks()),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{name}.csv"',
                "Vary": "Accept",
            },
        )
    return StreamingResponse(
        _ndjson(chunks()), media_type="application/x-ndjson", headers={"Vary": "Accept"}
    )
