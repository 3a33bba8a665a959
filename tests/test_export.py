"""GET /v1/export and `seed --from-export`: a round trip gives the same API answers."""

from __future__ import annotations

import datetime as dt
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert
from sqlmodel import Session

from app import cli
from app.citations.schemas import CitationIn
from app.config import Settings, get_settings
from app.curation.service import COLLECTIONS, Outcome, upsert_document, upsert_fact
from app.db import make_engine
from app.documents.schemas import DocumentCreate
from app.export import service as export_service
from app.export.service import export_stream
from app.main import create_app
from app.migrate import upgrade
from app.models import Citation, Document, Organization
from app.organizations.schemas import OrganizationCreate
from app.seeding.loader import SeedError, check_export, load_export, load_seed, read_seed
from tests.conftest import PG_ADMIN_URL, DatabaseFactory, migrated_engine

LIST_PATHS = {
    "organizations": True,  # path -> takes include=citations
    "models": True,
    "chips": True,
    "chip-support": True,
    "investments": True,
    "documents": False,
}
ORDER = ["header", "document", "organization", "chip", "model", "chip_support", "investment"]


def _records(body: bytes) -> list[dict[str, Any]]:
    assert body.endswith(b"\n")
    return [orjson.loads(line) for line in body.splitlines()]


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _load(engine: Engine, path: Path) -> Any:
    with Session(engine) as session:
        summary = load_export(session, path)
        session.commit()
    return summary


def _snapshot(client: TestClient) -> dict[str, Any]:
    """Every list (one page of 500) and every single item, as JSON."""
    answers: dict[str, Any] = {}
    for path, cites in LIST_PATHS.items():
        query = "?limit=500&include=citations" if cites else "?limit=500"
        response = client.get(f"/v1/{path}{query}")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["next_cursor"] is None
        answers[f"/v1/{path}{query}"] = body
        for item in body["data"]:
            single = client.get(f"/v1/{path}/{item['id']}")
            assert single.status_code == 200
            answers[f"/v1/{path}/{item['id']}"] = single.json()
    for org in answers["/v1/organizations?limit=500&include=citations"]["data"]:
        for relation in ("models", "investments"):
            url = f"/v1/organizations/{org['id']}/{relation}?limit=500&include=citations"
            answers[url] = client.get(url).json()
    return answers


@pytest.fixture
def export_file(client: TestClient, tmp_path: Path) -> Path:
    response = client.get("/v1/export")
    assert response.status_code == 200
    path = tmp_path / "export.ndjson"
    path.write_bytes(response.content)
    return path


def test_export_is_ndjson_documents_then_facts_in_dependency_order(client: TestClient) -> None:
    response = client.get("/v1/export")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    records = _records(response.content)

    assert records[0] == {"type": "header", "data": {"format": "aifacts-export", "version": 1}}
    assert records[-1]["type"] == "footer"
    body = records[1:-1]
    positions = [ORDER.index(r["type"]) for r in body]
    assert positions == sorted(positions)

    stats = client.get("/v1/stats").json()["counts"]
    counts = records[-1]["data"]["counts"]
    assert counts == {
        "document": stats["documents"],
        "organization": stats["organizations"],
        "chip": stats["chips"],
        "model": stats["models"],
        "chip_support": stats["chip_support"],
        "investment": stats["investments"],
    }
    assert sum(len(r["data"].get("citations", [])) for r in body) == stats["citations"]

    seen: set[str] = set()
    for record in body:
        if record["type"] == "organization":
            parent = record["data"]["parent_id"]
            assert parent is None or parent in seen, f"{record['data']['id']} before {parent}"
            seen.add(record["data"]["id"])

    documents = {r["data"]["id"]: r["data"] for r in body if r["type"] == "document"}
    for record in body:
        for citation in record["data"].get("citations", []):
            text = documents[citation["document_id"]]["text"]
            assert text[citation["start"] : citation["end"]] == citation["quote"]
    # The seed has a document whose text was repaired: both texts travel.
    assert any(d["original_text"] for d in documents.values())
    investments = [r["data"] for r in body if r["type"] == "investment"]
    assert any(i["investors"] for i in investments)


def test_export_in_small_chunks_is_the_same_stream(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = client.get("/v1/export").content
    monkeypatch.setattr(export_service, "FACT_CHUNK", 2)
    monkeypatch.setattr(export_service, "DOCUMENT_CHUNK", 1)
    assert client.get("/v1/export").content == whole


def test_an_export_loaded_into_an_empty_database_gives_the_same_answers(
    client: TestClient, empty_engine: Engine, export_file: Path
) -> None:
    first = _load(empty_engine, export_file)
    assert first["organizations", Outcome.created] > 0
    assert not [key for key in first if key[1] is not Outcome.created]

    with TestClient(create_app(Settings(database_url=_url(empty_engine)))) as copy:
        assert _snapshot(copy) == _snapshot(client)
        assert copy.get("/v1/stats").json() == client.get("/v1/stats").json()
        assert copy.get("/v1/graph").json() == client.get("/v1/graph").json()
        # The copy exports the very same bytes.
        assert copy.get("/v1/export").content == export_file.read_bytes()

        # Loading it again changes nothing.
        second = _load(empty_engine, export_file)
        assert second == {(name, Outcome.unchanged): n for (name, _), n in first.items()}
        assert copy.get("/v1/export").content == export_file.read_bytes()


@pytest.fixture
def cli_database(empty_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("DATABASE_URL", _url(empty_engine))
    get_settings.cache_clear()
    yield empty_engine
    get_settings.cache_clear()


def test_seed_from_export_command_loads_and_is_idempotent(
    cli_database: Engine, export_file: Path, client: TestClient
) -> None:
    assert cli.main(["seed", "--from-export", str(export_file)]) == 0
    assert cli.main(["seed", "--from-export", str(export_file)]) == 0
    with TestClient(create_app(Settings(database_url=_url(cli_database)))) as copy:
        assert copy.get("/v1/export").content == export_file.read_bytes()
        assert copy.get("/v1/stats").json() == client.get("/v1/stats").json()


def _rewrite(source: Path, target: Path, edit: Any) -> Path:
    lines = [orjson.loads(line) for line in source.read_bytes().splitlines()]
    edited = edit(lines)
    target.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in edited))
    return target


def _cut(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return lines[:-1]


def _bad_offsets(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for record in lines:
        if record["type"] == "chip":
            record["data"]["citations"][0]["start"] += 1
            break
    return lines


def _unknown_field(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for record in lines:
        if record["type"] == "model":
            record["data"]["disputed"] = True
            break
    return lines


def _models_first(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    models = [r for r in lines if r["type"] == "model"]
    others = [r for r in lines if r["type"] != "model"]
    return [others[0], *models, *others[1:]]


def _child_first(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    orgs = [i for i, r in enumerate(lines) if r["type"] == "organization"]
    child = next(i for i in orgs if lines[i]["data"]["parent_id"])
    record = lines.pop(child)
    lines.insert(orgs[0], record)
    return lines


def _not_an_export(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return lines[1:]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_cut, "no footer: the export was cut short"),
        (_bad_offsets, "is not at"),
        (_unknown_field, "field disputed: Extra inputs are not permitted"),
        (_models_first, "out of order"),
        (_child_first, "field parent_id: no organization has id"),
        (_not_an_export, "not an export"),
    ],
)
def test_a_bad_export_is_rejected_and_changes_nothing(
    empty_engine: Engine, export_file: Path, tmp_path: Path, edit: Any, message: str
) -> None:
    bad = _rewrite(export_file, tmp_path / "bad.ndjson", edit)
    with Session(empty_engine) as session:
        with pytest.raises(SeedError, match=message) as caught:
            load_export(session, bad)
        session.rollback()
        assert "line " in str(caught.value) or "cut short" in str(caught.value)
        assert session.get(Document, "cgtn-deepseek-cost-of-ai") is None


def test_an_empty_database_exports_a_header_and_a_footer(
    empty_engine: Engine, tmp_path: Path
) -> None:
    with TestClient(create_app(Settings(database_url=_url(empty_engine)))) as empty:
        body = empty.get("/v1/export").content
    records = _records(body)
    assert [r["type"] for r in records] == ["header", "footer"]
    assert set(records[-1]["data"]["counts"].values()) == {0}
    path = tmp_path / "empty.ndjson"
    path.write_bytes(body)
    assert set(check_export(path).values()) == {0}


def test_the_export_is_documented_as_ndjson(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/v1/export"]["get"]
    assert list(operation["responses"]["200"]["content"]) == ["application/x-ndjson"]


# --- memory ---------------------------------------------------------------------------------


def _insert_organizations(engine: Engine, start: int, stop: int) -> None:
    """Synthetic organizations (2 in 10 have a parent, 1 a grandparent too), a citation each."""
    org_rows = [
        {
            "id": f"org-{i:07d}",
            "name": f"Organization {i}",
            "aliases": [f"Org {i}"],
            "kind": "company",
            "country": "US",
            "city": None,
            "parent_id": f"org-{i - 1:07d}" if i % 10 in (1, 2) and i > start else None,
            "description": "A synthetic organization for the memory test.",
            "disputed": False,
            "search_text": f"organization {i}",
        }
        for i in range(start, stop)
    ]
    citation_rows = [
        {
            "entity_type": "organization",
            "entity_id": f"org-{i:07d}",
            "position": 0,
            "document_id": "synthetic",
            "quote": "Synthetic",
            "start": 0,
            "end": 9,
            "field": None,
            "stance": "support",
            "attributed_to": None,
            "note": None,
        }
        for i in range(start, stop)
    ]
    with engine.begin() as conn:
        conn.execute(insert(Organization), org_rows)
        conn.execute(insert(Citation), citation_rows)


def _export_peak(engine: Engine) -> tuple[int, int]:
    """Lines exported and the peak of Python allocations while streaming them."""
    lines = 0
    tracemalloc.start()
    try:
        for chunk in export_stream(engine):
            lines += chunk.count(b"\n")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return lines, peak


def test_export_memory_does_not_grow_with_the_row_count(
    databases: DatabaseFactory,
) -> None:
    """2,000 then 20,000 organizations: the peak stays that of one chunk (bench/ has 100k)."""
    engine = make_engine(Settings(database_url=databases.new_url("sqlite")))
    upgrade(engine)
    with Session(engine) as session:
        session.add(
            Document(
                id="synthetic",
                title="Synthetic",
                language="en",
                sha256="0" * 64,
                text="Synthetic text.",
                published_on=dt.date(2025, 1, 1),
            )
        )
        session.commit()
    _insert_organizations(engine, 0, 2_000)
    small_lines, small_peak = _export_peak(engine)
    _insert_organizations(engine, 2_000, 20_000)
    large_lines, large_peak = _export_peak(engine)
    engine.dispose()

    assert (small_lines, large_lines) == (2_003, 20_003)
    # Ten times the rows; the peak may move by noise, not by 18,000 rows (about 10 MB).
    assert large_peak < small_peak * 1.5 + 1_000_000, (small_peak, large_peak)


def test_deep_parent_chains_come_parents_first_and_cycles_are_not_lost(
    empty_engine: Engine, tmp_path: Path
) -> None:
    """Deeper than the join levels: the recursive ordering takes over; cycles come last."""
    depth = export_service._JOIN_DEPTH + 4
    # ids sorted backwards, so id order alone would put children first
    chain = [f"deep-{depth - i:02d}" for i in range(depth + 1)]
    with Session(empty_engine) as session:
        upsert_document(session, DocumentCreate(id="doc", title="Doc", language="en", text="Deep"))
        for i, org_id in enumerate(chain):
            session.add(
                Organization(
                    id=org_id, name=org_id, kind="company", parent_id=chain[i - 1] if i else None
                )
            )
            session.add(
                Citation(
                    entity_type="organization",
                    entity_id=org_id,
                    document_id="doc",
                    quote="Deep",
                    start=0,
                    end=4,
                )
            )
            session.flush()
        session.commit()
    body = b"".join(export_stream(empty_engine))
    orgs = [r["data"] for r in _records(body) if r["type"] == "organization"]
    assert [o["id"] for o in orgs] == chain
    path = tmp_path / "deep.ndjson"
    path.write_bytes(body)
    assert check_export(path)["organizations"] == len(chain)

    # A cycle (only a direct database write can make one) is still exported whole.
    with Session(empty_engine) as session:
        root = session.get(Organization, chain[0])
        assert root is not None
        root.parent_id = chain[-1]
        session.commit()
    body = b"".join(export_stream(empty_engine))
    orgs = [r["data"] for r in _records(body) if r["type"] == "organization"]
    assert sorted(o["id"] for o in orgs) == sorted(chain)


def test_seed_from_a_missing_export_fails_and_writes_nothing(
    cli_database: Engine, tmp_path: Path
) -> None:
    assert cli.main(["seed", "--from-export", str(tmp_path / "missing.ndjson")]) == 1
    with Session(cli_database) as session:
        assert session.get(Organization, "deepseek") is None


@pytest.mark.skipif(not PG_ADMIN_URL, reason="needs TEST_DATABASE_URL (PostgreSQL)")
def test_sqlite_and_postgresql_export_the_same_bytes(databases: DatabaseFactory) -> None:
    exports = []
    for backend in ("sqlite", "postgresql"):
        engine = migrated_engine(databases, backend)
        with Session(engine) as session:
            load_seed(session, read_seed())
            session.commit()
        exports.append(b"".join(export_stream(engine)))
        engine.dispose()
    assert exports[0] == exports[1]


def test_the_export_reads_one_snapshot(empty_engine: Engine) -> None:
    """A fact written while the export streams is not in it (and is in the next one)."""
    with Session(empty_engine) as session:
        load_seed(session, read_seed())
        session.commit()
    stream = export_stream(empty_engine)
    next(stream), next(stream)  # the header, then the first documents: the snapshot is taken
    with Session(empty_engine) as session:
        document = session.get(Document, "cgtn-deepseek-cost-of-ai")
        assert document is not None
        citation = CitationIn(document_id=document.id, quote=document.text[:20])
        late = OrganizationCreate(id="late", name="Late", kind="company", citations=[citation])
        upsert_fact(session, COLLECTIONS["organizations"], late)
        session.commit()
    assert b'"id":"late"' not in b"".join(stream)
    assert b'"id":"late"' in b"".join(export_stream(empty_engine))
