"""HTTP helpers every collection router shares: page parameters, envelopes, Link headers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Path, Query, Request
from pydantic import BaseModel, Field

from app.jsonutil import JSONResponse
from app.listing import DEFAULT_LIMIT, MAX_LIMIT

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
    404: {"description": "No item with that id.", "content": _PROBLEM, "model": Problem}
}
INVALID: dict[int | str, dict[str, Any]] = {
    422: {"description": "An invalid parameter.", "content": _PROBLEM, "model": Problem}
}


@dataclass(frozen=True)
class PageParams:
    limit: int
    cursor: str | None
    sort: str | None


def _page_params(
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page (1–{MAX_LIMIT}).")
    ] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(max_length=2000, description="Opaque: the `next_cursor` of the previous page."),
    ] = None,
    sort: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Comma-separated fields, `-` for descending; ties are broken by `id`.",
        ),
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor, sort=sort)


PageDep = Annotated[PageParams, Depends(_page_params)]

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

ItemId = Annotated[str, Path(description="The item's slug id.", max_length=200)]
RefFilter = Annotated[
    str | None,
    Query(pattern=ID_PATTERN, description="An id (slug) of the referenced item."),
]


def list_response(request: Request, data: list[dict[str, Any]], next_cursor: str | None) -> Any:
    headers: dict[str, str] = {}
    if next_cursor is not None:
        url = request.url.include_query_params(cursor=next_cursor)
        headers["Link"] = f'<{url}>; rel="next"'
    return JSONResponse({"data": data, "next_cursor": next_cursor}, headers=headers)


def item_response(item: dict[str, Any]) -> Any:
    return JSONResponse(item)
