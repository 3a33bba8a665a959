"""HTTP helpers every collection router shares: page parameters, envelopes, Link headers."""

import datetime as dt
import hashlib
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import quote

from fastapi import Path, Query, Request
from pydantic import BaseModel, BeforeValidator, Field
from starlette.responses import Response

from app.errors import InvalidParameter
from app.jsonutil import dumps
from app.listing import DEFAULT_LIMIT, MAX_LIMIT, SortSpec

ItemT = TypeVar("ItemT")

ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,99}$"


class Page(BaseModel, Generic[ItemT]):
    data: list[ItemT]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


class Problem(BaseModel):
    type: str = Field(examples=["about:blank"])
    title: str = Field(examples=["Not Found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["No model has id 'nope'."])
    instance: str = Field(examples=["/v1/models/nope"])
    errors: list[dict[str, Any]] | None = Field(
        default=None, examples=[[{"loc": ["query", "limit"], "msg": "must be at most 500"}]]
    )


_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No item with that id.", "content": _PROBLEM, "model": Problem},
    410: {
        "description": "The item was deleted; its history is linked (rel=history).",
        "content": _PROBLEM,
        "model": Problem,
    },
}
INVALID: dict[int | str, dict[str, Any]] = {
    422: {"description": "An invalid parameter.", "content": _PROBLEM, "model": Problem}
}


@dataclass(frozen=True)
class PageParams:
    limit: int
    cursor: str | None
    sort: str | None


def page_params(spec: SortSpec) -> Callable[..., Awaitable[PageParams]]:
    """The `limit`, `cursor` and `sort` parameters of one collection (sort fields checked)."""

    async def dependency(
        limit: Annotated[
            int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page (1–{MAX_LIMIT}).")
        ] = DEFAULT_LIMIT,
        cursor: Annotated[
            str | None,
            Query(
                max_length=2000,
                description="Opaque: the `next_cursor` of the previous page (same `sort`).",
            ),
        ] = None,
        sort: Annotated[
            str | None,
            Query(
                max_length=200,
                pattern=spec.pattern,
                description=(
                    "Comma-separated fields, `-` for descending; ties are broken by `id`."
                    f" Fields: {spec.allowed}. Default: {spec.default}."
                ),
                examples=[spec.default],
            ),
        ] = None,
    ) -> PageParams:
        return PageParams(limit=limit, cursor=cursor, sort=sort)

    return dependency


IncludeCitations = Annotated[
    str | None,
    Query(
        max_length=200,
        description="Comma-separated expansions; `citations` embeds each item's citations.",
        examples=["citations"],
    ),
]

SearchQuery = Annotated[
    str | None,
    Query(
        max_length=200,
        description="Case-, accent- and punctuation-insensitive match on name and aliases.",
    ),
]

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date_only(value: object) -> object:
    # Pydantic's lax mode reads 0 or "1700000000" as a date; a query takes YYYY-MM-DD only.
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("expected a date as YYYY-MM-DD")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date_only)]
DateQuery = Annotated[IsoDate | None, Query(description="A date, YYYY-MM-DD.")]

# RFC 3339 date-time (knowledge time: the dataset as recorded at that instant).
TIMESTAMP_PATTERN = r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:[Zz]|[+-]\d{2}:\d{2})"
_TIMESTAMP = re.compile(TIMESTAMP_PATTERN)


def parse_timestamp(value: str, name: str = "as_of") -> dt.datetime:
    """An RFC 3339 timestamp as naive UTC; 422 naming the parameter when it is not one."""
    if not _TIMESTAMP.fullmatch(value):
        raise InvalidParameter(name, "expected an RFC 3339 timestamp, e.g. 2026-11-23T14:00:00Z")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
    except ValueError as exc:
        raise InvalidParameter(name, f"not a valid timestamp: {exc}") from exc
    if parsed.tzinfo is None:
        raise InvalidParameter(name, "the timestamp needs a time zone (Z or +hh:mm)")
    return parsed.astimezone(dt.UTC).replace(tzinfo=None)


KnownAsOf = Annotated[
    str | None,
    Query(
        pattern=f"^{TIMESTAMP_PATTERN}$",
        max_length=40,
        description=(
            "An RFC 3339 timestamp (`2026-11-23T14:00:00Z`): the item as the dataset recorded"
            " it at that instant (404 if it did not exist then, 410 if deleted by then)."
        ),
    ),
]

_RECORDED = (
    "RFC 3339 timestamp (`2026-11-23T14:00:00Z`): the items as the dataset recorded them"
    " at that instant (items created later are left out, items deleted later are kept);"
    " the filters, `sort`, `include` and `fields` apply to those recorded states."
)


@dataclass(frozen=True)
class AsOf:
    """A list's `as_of`: a timestamp, or on chip support and investments also a date (at most
    one set)."""

    announced_by: dt.date | None = None  # announced on or before that date
    known_at: dt.datetime | None = None  # as the dataset recorded it then (naive UTC)


async def dated_as_of(
    as_of: Annotated[
        str | None,
        Query(
            pattern=rf"^(?:\d{{4}}-\d{{2}}-\d{{2}}|{TIMESTAMP_PATTERN})$",
            max_length=40,
            description=(
                "A date (`2025-02-01`): the items announced on or before it (undated ones"
                " left out). Or an " + _RECORDED
            ),
        ),
    ] = None,
) -> AsOf:
    if as_of is None:
        return AsOf()
    if _ISO_DATE.fullmatch(as_of):
        try:
            return AsOf(announced_by=dt.date.fromisoformat(as_of))
        except ValueError as exc:
            raise InvalidParameter("as_of", f"not a valid date: {exc}") from exc
    return AsOf(known_at=parse_timestamp(as_of))


async def list_as_of(
    as_of: Annotated[
        str | None,
        Query(pattern=f"^{TIMESTAMP_PATTERN}$", max_length=40, description="An " + _RECORDED),
    ] = None,
) -> AsOf:
    """`as_of` on lists where it has no date meaning: knowledge time only."""
    return AsOf() if as_of is None else AsOf(known_at=parse_timestamp(as_of))


ItemId = Annotated[str, Path(description="The item's slug id.")]
RefFilter = Annotated[
    str | None,
    Query(pattern=ID_PATTERN, description="An id (slug) of the referenced item."),
]


# Shared caches may keep an answer but must revalidate it (a cheap 304) before serving it.
CACHE_CONTROL = "public, max-age=0, must-revalidate"


def etag_matches(header: str | None, etag: str) -> bool:
    """If-None-Match against an ETag (weak comparison, `*` matches anything)."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    # If-None-Match compares weakly: W/"x" matches "x".
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


def _etag(body: bytes) -> str:
    # SHA-256 (128 bits of it): on CPUs with SHA instructions it hashes a 6 KB page in half
    # blake2b's time (5 against 9 us here); blake2b was an eighth of the instructions each
    # row adds to a page (callgrind).
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_of(content: Any) -> str:
    """The strong ETag GET serves for this representation."""
    return _etag(dumps(content))


def if_match_matches(header: str, etag: str) -> bool:
    """If-Match compares strongly: a weak tag never matches; `*` matches any current item."""
    if header.strip() == "*":
        return True
    return any(tag.strip() == etag for tag in header.split(","))


def written_json(
    content: Any, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """The answer to a write: the new representation with its ETag (not cached)."""
    body = dumps(content)
    all_headers = {**(headers or {}), "ETag": _etag(body), "Cache-Control": "no-store"}
    return Response(
        body, status_code=status_code, media_type="application/json", headers=all_headers
    )


def cacheable_json(
    request: Request, content: Any, headers: dict[str, str] | None = None
) -> Response:
    """JSON with a strong ETag (a hash of the body); 304 when the client already has it."""
    body = dumps(content)
    etag = _etag(body)
    all_headers = {**(headers or {}), "ETag": etag, "Cache-Control": CACHE_CONTROL}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=all_headers)
    return Response(body, media_type="application/json", headers=all_headers)


def next_page_url(request: Request, cursor: str) -> str:
    """The request's URL with `cursor` in place of its own, the other parameters as the
    client wrote them (Starlette's `include_query_params` parses and re-encodes them all)."""
    kept = [
        part
        for part in request.scope["query_string"].decode("latin-1").split("&")
        if part and part.partition("=")[0] != "cursor"
    ]
    kept.append("cursor=" + quote(cursor, safe=""))
    base = str(request.url).partition("?")[0]
    return f"{base}?{'&'.join(kept)}"


def list_response(request: Request, data: list[dict[str, Any]], next_cursor: str | None) -> Any:
    # A list is JSON, CSV or NDJSON by the Accept header: shared caches must key on it.
    headers: dict[str, str] = {"Vary": "Accept"}
    if next_cursor is not None:
        headers["Link"] = f'<{next_page_url(request, next_cursor)}>; rel="next"'
    return cacheable_json(request, {"data": data, "next_cursor": next_cursor}, headers)


def item_response(request: Request, item: dict[str, Any]) -> Any:
    return cacheable_json(request, item)


def _list_pattern(item: str) -> str:
    return rf"^{item}(?:,{item})*$"


_SLUG = r"[a-z0-9][a-z0-9-]{0,99}"
IdList = Annotated[
    str | None,
    Query(
        pattern=_list_pattern(_SLUG),
        max_length=2000,
        description="One id (slug), or several separated by commas (any of them).",
    ),
]
CountryList = Annotated[
    str | None,
    Query(
        pattern=_list_pattern("[A-Za-z]{2}"),
        max_length=300,
        description="ISO 3166-1 alpha-2 codes, comma-separated (any of them): `CN,AE`.",
    ),
]
NullTest = Annotated[
    bool | None,
    Query(description="`true`: only items where the field is null; `false`: only where set."),
]
Disputed = Annotated[
    bool | None,
    Query(description="`true`: only items with a disputing citation; `false`: only without."),
]


def enum_query(values: Sequence[str], what: str) -> Any:
    """A comma-separated list of allowed values, checked by its pattern."""
    choice = "(?:" + "|".join(values) + ")"
    return Query(
        pattern=_list_pattern(choice),
        max_length=500,
        description=f"One {what} or several, comma-separated: {', '.join(values)}.",
    )


def split_values(raw: str | None, *, upper: bool = False) -> tuple[str, ...] | None:
    if raw is None:
        return None
    values = tuple(dict.fromkeys(v.upper() if upper else v for v in raw.split(",")))
    return values
