"""Helpers of the curation tests: a seeded database of their own (never the shared one the
read-only tests use), API keys, and citations that quote the seed's documents."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from app.auth.service import create_key
from app.config import Settings
from app.main import create_app
from app.seeding.loader import load_seed, read_seed
from tests.conftest import DatabaseFactory, migrated_engine

DOC = "cgtn-deepseek-cost-of-ai"
# Quotes that are in DOC.
QUOTE = "son mode de raisonnement Deepthink R1"
OTHER_QUOTE = "Il vous dit comment il pense"


def seeded_engine(databases: DatabaseFactory, backend: str) -> Engine:
    engine = migrated_engine(databases, backend)
    with Session(engine) as session:
        load_seed(session, read_seed())
        session.commit()
    return engine


def new_key(engine: Engine, name: str, scopes: list[str]) -> str:
    with Session(engine) as session:
        _, key = create_key(session, name=name, scopes=scopes)
        session.commit()
    return key


@contextmanager
def client_for(engine: Engine) -> Iterator[TestClient]:
    url = engine.url.render_as_string(hide_password=False)
    with TestClient(create_app(Settings(database_url=url))) as client:
        yield client


def bearer(key: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **headers}


def cite(quote: str = QUOTE, field: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"document_id": DOC, "quote": quote, "field": field, **extra}


def just_before(recorded_at: str) -> str:
    """The instant one microsecond before a revision's `recorded_at` (RFC 3339, UTC)."""
    at = dt.datetime.fromisoformat(recorded_at.replace("Z", "+00:00"))
    return (at - dt.timedelta(microseconds=1)).isoformat().replace("+00:00", "Z")


def history(client: TestClient, path: str) -> list[dict[str, Any]]:
    response = client.get(path + "/history")
    assert response.status_code == 200, response.text
    revisions: list[dict[str, Any]] = response.json()["data"]
    return revisions
