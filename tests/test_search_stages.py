"""Search in stages (app/search/service.py): a search stops after the stage that fills its
page, a large table's fuzzy candidates come in passes of falling similarity, and neither
changes an answer the whole candidate sets would give."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, text
from sqlmodel import Session, SQLModel

from app.models import AIModel, Organization
from app.search import service
from app.search.matching import MatchKind, Needle, classify
from app.seeding.loader import load_seed, read_seed
from app.text import fold, trigram_text
from tests.conftest import PG_ADMIN_URL, DatabaseFactory, migrated_engine
from tests.test_search import NAMES, _queries


@pytest.fixture(scope="module")
def seeded(databases: DatabaseFactory, backend: str) -> Iterator[Engine]:
    engine = migrated_engine(databases, backend)
    with Session(engine) as session:
        load_seed(session, read_seed())
        session.commit()
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def postgresql(databases: DatabaseFactory) -> Iterator[Engine]:
    if not PG_ADMIN_URL:
        pytest.skip("needs TEST_DATABASE_URL (PostgreSQL)")
    engine = migrated_engine(databases, "postgresql")
    with Session(engine) as session:
        load_seed(session, read_seed())
        session.commit()
    yield engine
    engine.dispose()


def _search(engine: Engine, q: str, limit: int) -> list[dict[str, Any]]:
    with Session(engine) as session:
        return service.search(session=session, q=q, limit=limit)


def _statements(engine: Engine, q: str, limit: int) -> list[str]:
    sent: list[str] = []

    def record(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        _search(engine, q, limit)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return sent


def test_a_page_of_prefix_matches_reads_nothing_else(seeded: Engine) -> None:
    # DeepSeek is the exact match, its own name: one statement, no name to look up.
    assert len(_statements(seeded, "deepseek", 1)) == 1
    # A typo goes through every stage: prefixes, later words and substrings, typos.
    several = _statements(seeded, "deepsek", 1)
    assert len(several) >= 3
    assert not any("similar" in s or "MATCH" in s for s in _statements(seeded, "deepseek", 1))


@pytest.mark.parametrize("q", ["deepseek", "deepsek", "k2", "ai", "a", "think", "nvidi", "r1"])
def test_a_short_page_is_the_start_of_a_long_one(seeded: Engine, q: str) -> None:
    """Stopping at a filled page gives the page the whole candidate sets would give."""
    everything = _search(seeded, q, 100)
    for limit in (1, 2, 3, 5, 8):
        assert _search(seeded, q, limit) == everything[:limit], (q, limit)


def test_fuzzy_passes_find_what_one_pass_finds(
    postgresql: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a table taken as large, the passes of falling similarity find the typos one pass at
    the threshold finds: every pass reads all its names on the seed, and the typos the tests
    try are at least as similar as the last pass asks."""
    queries = _queries()
    lists: list[tuple[str, type[SQLModel]]] = [
        ("kimmi k2", AIModel),
        ("deepsek", AIModel),
        ("chna", Organization),
        ("abu dhbai", Organization),
    ]

    def answers() -> tuple[list[list[dict[str, Any]]], list[list[str]]]:
        with Session(postgresql) as session:
            hits = [service.search(session=session, q=q, limit=100) for q in queries]
            ids = []
            for q, table in lists:
                condition = service.matching_condition(session, table, q)
                item_id = service.TABLE_TYPES[table][1]
                ids.append(sorted(session.execute(select(item_id).where(condition)).scalars()))
        return hits, ids

    one_pass = answers()
    monkeypatch.setattr(service, "LARGE_TABLE", -2)  # an unanalyzed table counts as -1
    passes = answers()
    assert passes == one_pass
    settings = [s for s in _statements(postgresql, "deepsek", 20) if "set_config" in s]
    assert len(settings) == 1 + len(service.FUZZY_PASSES)  # the size, then each pass
    assert sum(1 for hits in one_pass[0] if hits) > len(queries) // 2
    assert all(one_pass[1])


def test_fuzzy_threshold_rises_with_the_query_length() -> None:
    thresholds = [service.fuzzy_threshold(Needle("x" * n, "x" * n)) for n in range(1, 60)]
    assert thresholds[:12] == [service.FUZZY_THRESHOLD] * 12
    assert thresholds == sorted(thresholds)
    assert max(thresholds) == 0.4


def test_every_seeded_typo_keeps_the_threshold_similarity(postgresql: Engine) -> None:
    """The fuzzy matches of the typos the other tests try, and of their names' words, are
    at least as similar (pg_trgm word similarity) as fuzzy_threshold asks."""
    names = sorted({name for _, _, name in NAMES})
    pairs: list[tuple[str, str, str, float]] = []
    for q in _queries():
        needle = Needle.parse(q)
        if needle is None or not needle.fuzzy_searchable:
            continue
        threshold = service.fuzzy_threshold(needle)
        for name in names:
            match = classify(needle, name)
            if match is not None and match.kind == MatchKind.fuzzy:
                pairs.append((needle.folded, needle.compact, trigram_text(fold(name)), threshold))
    assert len(pairs) > 100
    with postgresql.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT f, g, t FROM unnest(CAST(:f AS text[]), CAST(:c AS text[]),"
                " CAST(:g AS text[]), CAST(:t AS float8[])) AS p(f, c, g, t)"
                " WHERE greatest(word_similarity(f, g), word_similarity(c, g)) < t"
            ),
            {
                "f": [p[0] for p in pairs],
                "c": [p[1] for p in pairs],
                "g": [p[2] for p in pairs],
                "t": [p[3] for p in pairs],
            },
        ).all()
    assert rows == []


def test_search_statements_are_built_once(seeded: Engine) -> None:
    for _ in range(3):
        _search(seeded, "deepsek", 20)
    assert service._prefix_statement.cache_info().hits >= 2
    assert service._later_statement.cache_info().hits >= 2
