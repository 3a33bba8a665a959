"""Every list's parameters and responder, now or `as_of=<timestamp>` (the dataset as recorded
at that instant), and `as_of` on single items."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from fastapi import Request
from sqlmodel import Session, SQLModel

from app.api import AsOf, PageParams, item_response, page_params, parse_timestamp
from app.history.service import state_at
from app.history.snapshot import item_at, list_at
from app.listing import SortSpec, get_or_404
from app.query_params import QueryParams
from app.streaming import Fetch, Format, FormatQuery, respond_list
from app.views import View

F = TypeVar("F")


@dataclass(frozen=True)
class ListParams(Generic[F]):
    """A list's query: its filters, page, view, `as_of` and `format`."""

    filters: F
    page: PageParams
    view: View
    as_of: AsOf
    format: Format | None


async def _no_view() -> View:
    return View()


def list_params(
    name: str,
    *,
    filters: Callable[..., Awaitable[F]],
    sort: SortSpec,
    as_of: Callable[..., Awaitable[AsOf]],
    view: Callable[..., Awaitable[View]] = _no_view,
) -> QueryParams[ListParams[F]]:
    """A list's query parameters, validated in one pass (`openapi_extra=...openapi`)."""
    return QueryParams(
        name,
        ListParams,
        filters=filters,
        page=page_params(sort),
        view=view,
        as_of=as_of,
        format=FormatQuery,
    )


def item_as_of(
    request: Request, session: Session, entity_type: str, item_id: str, as_of: str, view: View
) -> Any:
    at = parse_timestamp(as_of)
    return item_response(
        request,
        item_at(session=session, entity_type=entity_type, item_id=item_id, at=at, view=view),
    )


async def respond_collection(
    request: Request,
    session: Session,
    params: ListParams[Any],
    *,
    entity_type: str,
    name: str,
    fetch: Fetch,
    filters: object | None = None,
    owner: tuple[type[SQLModel], str, str] | None = None,
) -> Any:
    """A list now (`fetch`), or as recorded at `at`: one envelope, pages and formats.

    `owner` (table, entity type, id) is the item a relationship list belongs to: it must be in
    the dataset now, or have been at `at` (404 if not yet, 410 if deleted by then).
    `filters`: the route's own, when it narrows `params.filters` (default: those).
    """
    at, page, view, format = params.as_of.known_at, params.page, params.view, params.format
    filters = params.filters if filters is None else filters
    if at is None:
        if owner is not None:
            get_or_404(session, *owner)
        return await respond_list(request, session, page, format, name, fetch)
    if owner is not None:
        state_at(session, owner[1], owner[2], at)
    return await respond_list(
        request,
        session,
        page,
        format,
        name,
        lambda s, p: list_at(
            session=s, entity_type=entity_type, at=at, filters=filters, page=p, view=view
        ),
    )
