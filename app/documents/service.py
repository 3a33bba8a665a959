"""Queries for source documents."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Select
from sqlmodel import Session, col, select

from app.api import PageParams
from app.filtering import where_in, where_range
from app.listing import SortSpec, fetch_page, filtered, read_or_404, search_condition, shown_columns
from app.models import Document
from app.rows import as_items

# Lists leave the (large) texts unread: only single documents serve them.
LIST_COLUMNS = shown_columns(Document, without=frozenset({"text", "original_text"}))
FIELDS = tuple(column.key for column in LIST_COLUMNS)
SORT = SortSpec(
    "documents",
    {
        "id": col(Document.id),
        "title": col(Document.title),
        "language": col(Document.language),
        "published_on": col(Document.published_on),
    },
    default="id",
)


@dataclass(frozen=True)
class DocumentFilters:
    q: str | None = None
    language: tuple[str, ...] | None = None
    published_from: dt.date | None = None
    published_to: dt.date | None = None


def document_public(row: Document | Row[Any]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in FIELDS}


def _documents_statement(session: Session, f: DocumentFilters) -> Select[Any]:
    statement = select(*LIST_COLUMNS)
    if f.q is not None:
        statement = statement.where(search_condition(session, Document, f.q))
    statement = where_in(statement, col(Document.language), f, "language")
    return where_range(statement, col(Document.published_on), f, "published_from", "published_to")


def list_documents(
    *, session: Session, filters: DocumentFilters, page: PageParams
) -> tuple[list[dict[str, Any]], str | None]:
    query = filtered(
        "documents",
        filters,
        lambda: _documents_statement(session, filters),
    )
    rows, next_cursor = fetch_page(session, query, spec=SORT, page=page)
    return as_items(rows, FIELDS), next_cursor


def get_document(*, session: Session, document_id: str) -> dict[str, Any]:
    row = read_or_404(session, Document, "document", document_id)
    return {**document_public(row), "text": row.text, "original_text": row.original_text}
