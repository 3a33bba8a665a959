"""Rows become the same dicts by position as an item's ORM object does by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlmodel import Session, SQLModel

from app.ai_models import service as models
from app.chip_support import service as chip_support
from app.chips import service as chips
from app.config import normalize_database_url
from app.documents import service as documents
from app.models import AIModel, Chip, ChipSupport, Document, Organization
from app.organizations import service as organizations
from app.rows import as_items

SHAPES: dict[str, tuple[type[SQLModel], tuple[Any, ...], tuple[str, ...], Callable[..., Any]]] = {
    "models": (AIModel, models.COLUMNS, models.FIELDS, models.model_public),
    "organizations": (
        Organization,
        organizations.COLUMNS,
        organizations.FIELDS,
        organizations.organization_public,
    ),
    "chips": (Chip, chips.COLUMNS, chips.FIELDS, chips.chip_public),
    "chip-support": (
        ChipSupport,
        chip_support.COLUMNS,
        chip_support.FIELDS,
        chip_support.chip_support_public,
    ),
    "documents": (
        Document,
        documents.LIST_COLUMNS,
        documents.FIELDS,
        documents.document_public,
    ),
}


@pytest.mark.parametrize("collection", SHAPES)
def test_rows_read_by_position_equal_the_items_read_by_name(
    seeded_url: str, collection: str
) -> None:
    model, columns, fields, public = SHAPES[collection]
    engine = create_engine(normalize_database_url(seeded_url))
    try:
        with Session(engine) as session:
            rows = session.connection().execute(select(*columns).order_by(columns[0])).all()
            by_position = as_items(rows, fields)
            by_name = [public(session.get(model, row.id)) for row in rows]
            # The other way in: columns in another order, read by name.
            shuffled = session.connection().execute(select(*reversed(columns)).order_by(columns[0]))
            by_lookup = as_items(shuffled.all(), fields)
    finally:
        engine.dispose()
    assert len(rows) >= 2
    assert by_position == by_name == by_lookup
    assert all(list(item) == list(fields) for item in by_position)


def test_rows_with_labelled_columns_are_read_under_a_prefix(seeded_url: str) -> None:
    engine = create_engine(normalize_database_url(seeded_url))
    labelled = [column.label(f"x_{column.key}") for column in reversed(chips.COLUMNS)]
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(*labelled).order_by(labelled[-1])).all()
            plain = conn.execute(select(*chips.COLUMNS).order_by(chips.COLUMNS[0])).all()
    finally:
        engine.dispose()
    assert as_items(rows, chips.FIELDS, prefix="x_") == as_items(plain, chips.FIELDS)
    assert as_items(rows, ("id",), prefix="x_") == [{"id": row.x_id} for row in rows]
    assert as_items([], chips.FIELDS) == []
