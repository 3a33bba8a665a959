"""The seed loader: validated before writing, one transaction, idempotent."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from app import cli
from app.config import get_settings
from app.curation.service import Outcome
from app.models import AIModel, Citation, Document, Investment, Organization
from app.seeding.loader import SEED_DIR, SeedError, load_seed, read_seed

COLLECTION_FILES = ("organizations", "chips", "models", "chip_support", "investments")


def _count(engine: Engine, table: type) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.fixture
def seed_copy(tmp_path: Path) -> Path:
    target = tmp_path / "seed"
    shutil.copytree(SEED_DIR, target)
    return target


@pytest.fixture
def cli_database(empty_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """Point the CLI (which reads DATABASE_URL) at the empty test database."""
    monkeypatch.setenv("DATABASE_URL", empty_engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    yield empty_engine
    get_settings.cache_clear()


def _edit(path: Path, key: str, fact_id: str, change: dict[str, object]) -> None:
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    for fact in content[key]:
        if fact["id"] == fact_id:
            fact.update(change)
            break
    else:
        raise AssertionError(f"{fact_id} not in {path}")
    path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), "utf-8")


def test_seed_loads_every_fact_and_a_second_run_changes_nothing(empty_engine: Engine) -> None:
    data = read_seed()
    with Session(empty_engine) as session:
        first = load_seed(session, data)
        session.commit()
    with Session(empty_engine) as session:
        second = load_seed(session, read_seed())
        session.commit()

    expected = {name: len(data.facts[name]) for name in COLLECTION_FILES}
    expected["documents"] = len(data.documents)
    for name, count in expected.items():
        assert first[name, Outcome.created] == count, name
        assert second[name, Outcome.unchanged] == count, name
    assert not [key for key in second if key[1] is not Outcome.unchanged]
    assert _count(empty_engine, Organization) == expected["organizations"]
    assert _count(empty_engine, AIModel) == expected["models"]
    assert _count(empty_engine, Document) == 5


def test_every_seed_fact_has_a_citation_whose_quote_is_at_its_offsets(
    empty_engine: Engine,
) -> None:
    with Session(empty_engine) as session:
        load_seed(session, read_seed())
        session.commit()
        texts = {d.id: d.text for d in session.exec(select(Document)).scalars()}  # type: ignore[call-overload]
        citations = list(session.exec(select(Citation)).scalars())  # type: ignore[call-overload]
        cited = {(c.entity_type, c.entity_id) for c in citations}
    for citation in citations:
        assert texts[citation.document_id][citation.start : citation.end] == citation.quote
    for name in COLLECTION_FILES:
        facts = yaml.safe_load((SEED_DIR / "facts" / f"{name}.yaml").read_text("utf-8"))[name]
        entity = {"organizations": "organization", "chips": "chip", "models": "model"}.get(
            name, name.rstrip("s") if name == "investments" else name
        )
        for fact in facts:
            assert (entity, fact["id"]) in cited, (name, fact["id"])


@pytest.mark.parametrize(
    ("file", "key", "fact_id", "change", "expected"),
    [
        (
            "models.yaml",
            "models",
            "deepseek-r1",
            {"parameters": "lots"},
            ["models.yaml", "deepseek-r1", "parameters"],
        ),
        (
            "investments.yaml",
            "investments",
            "meta-ai-2025",
            {"amount_usd_min": 70_000_000_000},
            ["investments.yaml", "meta-ai-2025", "amount_usd_min"],
        ),
        (
            "organizations.yaml",
            "organizations",
            "deepseek",
            {"kind": "startup"},
            ["organizations.yaml", "deepseek", "kind"],
        ),
    ],
)
def test_an_invalid_fact_is_named_and_nothing_is_written(
    cli_database: Engine,
    seed_copy: Path,
    capsys: pytest.CaptureFixture[str],
    file: str,
    key: str,
    fact_id: str,
    change: dict[str, object],
    expected: list[str],
) -> None:
    _edit(seed_copy / "facts" / file, key, fact_id, change)
    assert cli.main(["seed", "--dir", str(seed_copy)]) == 1
    err = capsys.readouterr().err
    for word in expected:
        assert word in err
    assert _count(cli_database, Document) == 0
    assert _count(cli_database, Organization) == 0


def test_a_quote_not_at_its_offsets_is_refused_and_nothing_is_written(
    cli_database: Engine, seed_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = seed_copy / "facts" / "investments.yaml"
    content = yaml.safe_load(path.read_text("utf-8"))
    fact = next(f for f in content["investments"] if f["id"] == "stargate-500b")
    fact["citations"][0]["start"] += 1
    fact["citations"][0]["end"] += 1
    path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), "utf-8")

    assert cli.main(["seed", "--dir", str(seed_copy)]) == 1
    err = capsys.readouterr().err
    assert "investments.yaml" in err
    assert "stargate-500b" in err
    assert "citations.0.quote" in err
    # The loader got as far as writing documents and organizations: all rolled back.
    assert _count(cli_database, Document) == 0
    assert _count(cli_database, Investment) == 0


def test_an_unknown_reference_is_refused(
    cli_database: Engine, seed_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit(seed_copy / "facts" / "models.yaml", "models", "kimi-k2", {"developer_id": "nobody"})
    assert cli.main(["seed", "--dir", str(seed_copy)]) == 1
    err = capsys.readouterr().err
    assert "kimi-k2" in err
    assert "developer_id" in err
    assert _count(cli_database, Organization) == 0


def test_seed_if_empty_skips_a_loaded_database(
    cli_database: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["seed", "--if-empty"]) == 0
    assert _count(cli_database, AIModel) > 0
    assert cli.main(["seed", "--if-empty"]) == 0
    assert "already seeded" in capsys.readouterr().err


def test_duplicate_ids_are_refused(seed_copy: Path) -> None:
    path = seed_copy / "facts" / "chips.yaml"
    content = yaml.safe_load(path.read_text("utf-8"))
    content["chips"].append(dict(content["chips"][0]))
    path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), "utf-8")
    with pytest.raises(SeedError, match="used twice"):
        read_seed(seed_copy)
