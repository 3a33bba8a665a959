"""Search (`GET /v1/search` and each collection's `q`): every seeded name and alias is found
first, however it is written, and SQLite and PostgreSQL give the same answers."""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from app.config import Settings
from app.curation.service import COLLECTIONS, upsert_fact
from app.main import create_app
from app.migrate import downgrade, upgrade
from app.models import SearchName
from app.organizations.schemas import OrganizationCreate
from app.search.matching import Needle, classify, edit_distance
from app.seeding.loader import SEED_DIR, load_seed, read_seed
from app.text import compact, fold
from tests.conftest import PG_ADMIN_URL, DatabaseFactory, migrated_engine

FILES = {"organizations": "organization", "models": "model", "chips": "chip"}


def _seed_names() -> list[tuple[str, str, str]]:
    """(type, id, name) for every name and alias of every organization, model and chip."""
    names = []
    for file, entity_type in FILES.items():
        content = yaml.safe_load((SEED_DIR / "facts" / f"{file}.yaml").read_text("utf-8"))
        for fact in content[file]:
            for name in dict.fromkeys([fact["name"], *(fact.get("aliases") or [])]):
                names.append((entity_type, fact["id"], name))
    return names


NAMES = _seed_names()


def _typos(name: str) -> list[str]:
    """One letter replaced, or deleted, at the first, middle and last letter (5+ letters)."""
    letters = [i for i, ch in enumerate(name) if ch.isalpha()]
    if len(compact(fold(name))) < 5:
        return []
    variants = []
    for position in sorted({letters[0], letters[len(letters) // 2], letters[-1]}):
        other = "q" if name[position].lower() == "x" else "x"
        variants.append(name[:position] + other + name[position + 1 :])
        variants.append(name[:position] + name[position + 1 :])
    return variants


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


TYPOS = [(t, i, name, typo) for t, i, name in NAMES for typo in _typos(name)]
# One edit from two seeded names at once: "DeepSeek 1" is "DeepSeek R1" without its "R" and
# "DeepSeek" with a "1" added; both are one edit away and score alike, and the shorter name
# (the organization) wins the tie. The model must still be in the top 3.
AMBIGUOUS = {"DeepSeek 1", "Deepseek 1"}


def _search(client: TestClient, q: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/v1/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    hits: list[dict[str, Any]] = response.json()["data"]
    return hits


def _top(hits: list[dict[str, Any]], n: int = 1) -> list[tuple[str, str]]:
    return [(hit["type"], hit["id"]) for hit in hits[:n]]


@pytest.mark.parametrize(("entity_type", "item_id", "name"), NAMES)
def test_every_name_and_alias_is_found_first(
    client: TestClient, entity_type: str, item_id: str, name: str
) -> None:
    for q in (name, _strip_accents(name).upper(), _strip_accents(name).lower()):
        hits = _search(client, q)
        assert _top(hits) == [(entity_type, item_id)], (q, hits[:3])
        assert hits[0]["match"] == "exact"
        assert hits[0]["score"] == 1.0
        assert fold(hits[0]["matched"]) == fold(name)


@pytest.mark.parametrize(("entity_type", "item_id", "name", "typo"), TYPOS)
def test_one_letter_wrong_or_missing_still_finds_it_first(
    client: TestClient, entity_type: str, item_id: str, name: str, typo: str
) -> None:
    hits = _search(client, typo)
    if typo in AMBIGUOUS:
        assert (entity_type, item_id) in _top(hits, 3), (typo, hits[:3])
    else:
        assert _top(hits) == [(entity_type, item_id)], (name, typo, hits[:3])


def test_typo_list_covers_every_long_name() -> None:
    long_names = [n for _, _, n in NAMES if len(compact(fold(n))) >= 5]
    assert len(long_names) > 40
    assert {name for _, _, name, _ in TYPOS} == set(long_names)
    assert {typo for _, _, _, typo in TYPOS} >= AMBIGUOUS


@pytest.mark.parametrize(
    ("q", "expected", "match"),
    [
        ("Abou Dhabi", ("organization", "abu-dhabi"), "exact"),
        ("abu-dhabi", ("organization", "abu-dhabi"), "exact"),
        ("ABOU-DABI", ("organization", "abu-dhabi"), "exact"),
        ("Abu Dhbai", ("organization", "abu-dhabi"), "fuzzy"),  # two letters swapped
        ("Universite Mohamed bin Zayed", ("organization", "mbzuai"), "exact"),
        ("université mohamed", ("organization", "mbzuai"), "prefix"),
        ("bin zayed", ("organization", "mbzuai"), "substring"),
        ("emirats arabes unis", ("organization", "united-arab-emirates"), "exact"),
        ("Etats Unis", ("organization", "united-states"), "exact"),
        ("deepsek", ("organization", "deepseek"), "fuzzy"),
        ("deepseek", ("organization", "deepseek"), "exact"),
        ("deepseek-r1", ("model", "deepseek-r1"), "exact"),
        ("kimi k2", ("model", "kimi-k2"), "exact"),
        ("Kimmi K2", ("model", "kimi-k2"), "fuzzy"),
        ("KimiK2", ("model", "kimi-k2"), "exact"),
        ("moonshot", ("organization", "moonshot-ai"), "prefix"),
        ("open ai", ("organization", "openai"), "exact"),
        ("g-42", ("organization", "g42"), "exact"),
        ("grok1", ("model", "grok-1"), "exact"),
        ("h100", ("chip", "nvidia-h100"), "exact"),
        ("ascend", ("chip", "huawei-ascend"), "exact"),
        ("huawei ascnd", ("chip", "huawei-ascend"), "fuzzy"),
        ("r1", ("model", "deepseek-r1"), "exact"),
        ("think", ("model", "k2-think"), "substring"),
    ],
)
def test_named_cases(client: TestClient, q: str, expected: tuple[str, str], match: str) -> None:
    hits = _search(client, q)
    assert _top(hits) == [expected], hits[:3]
    assert hits[0]["match"] == match


def test_hit_shape_and_order(client: TestClient) -> None:
    hits = _search(client, "deepseek", limit=100)
    assert hits[0] == {
        "type": "organization",
        "id": "deepseek",
        "name": "DeepSeek",
        "matched": "DeepSeek",
        "match": "exact",
        "score": 1.0,
    }
    # The model is found by its alias "Deepseek R1" or its name; its own name wins the tie.
    model = next(hit for hit in hits if hit["id"] == "deepseek-r1")
    assert (model["name"], model["matched"], model["match"]) == (
        "DeepSeek R1",
        "DeepSeek R1",
        "prefix",
    )
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert len({(h["type"], h["id"]) for h in hits}) == len(hits)  # one hit per item
    assert {h["type"] for h in hits} == {"organization", "model", "investment", "document"}


def test_hit_names_the_item_when_an_alias_matched(client: TestClient) -> None:
    (hit,) = _search(client, "Cina", limit=1)
    assert (hit["id"], hit["name"], hit["matched"]) == ("china", "China", "Cina")


def test_type_filter_and_limit(client: TestClient) -> None:
    hits = _search(client, "deepseek", type="investment,document", limit=100)
    assert hits
    assert {h["type"] for h in hits} == {"investment", "document"}
    assert len(_search(client, "deepseek", limit=2)) == 2
    response = client.get("/v1/search", params={"q": "deepseek"})
    assert response.json()["next_cursor"] is None


def test_word_prefix_finds_short_queries(client: TestClient) -> None:
    found = _top(_search(client, "k2", limit=100), 100)
    assert found[:2] == [("model", "k2-think"), ("model", "kimi-k2")]


def test_nothing_matches(client: TestClient) -> None:
    assert _search(client, "zzzzzzzz") == []
    assert _search(client, "MBZUAI") == []  # not a name any source uses


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"q": "!!!"}, "q"),
        ({"q": " - "}, "q"),
        ({"q": ""}, "q"),
        ({}, "q"),
        ({"q": "x" * 201}, "q"),
        ({"q": "deepseek", "type": "org"}, "type"),
        ({"q": "deepseek", "type": "model,"}, "type"),
        ({"q": "deepseek", "limit": 0}, "limit"),
        ({"q": "deepseek", "limit": 101}, "limit"),
    ],
)
def test_invalid_parameters_are_422_naming_them(
    client: TestClient, params: dict[str, Any], name: str
) -> None:
    response = client.get("/v1/search", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["errors"][0]["loc"] == ["query", name]
    assert repr(name) in body["detail"]


@pytest.mark.parametrize("path", ["/v1/organizations", "/v1/models", "/v1/documents"])
def test_collection_q_with_nothing_to_search_is_422(client: TestClient, path: str) -> None:
    response = client.get(path, params={"q": "!!!"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "q"]


def test_openapi_documents_search(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/v1/search"]["get"]
    assert set(operation["responses"]) >= {"200", "422"}
    assert {p["name"] for p in operation["parameters"]} == {"q", "type", "limit"}


# Each collection's q ---------------------------------------------------------------------


def _ids(client: TestClient, path: str, **params: Any) -> list[str]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


@pytest.mark.parametrize(
    ("path", "q", "expected"),
    [
        ("/v1/organizations", "moonshot", ["moonshot-ai"]),
        ("/v1/organizations", "Abou-Dhabi", ["abu-dhabi"]),
        ("/v1/organizations", "universite mohamed bin zayed", ["mbzuai"]),
        ("/v1/organizations", "chna", ["china"]),
        ("/v1/models", "deepsek", ["deepseek-r1"]),
        ("/v1/models", "kimmi k2", ["kimi-k2"]),
        ("/v1/models", "R1", ["deepseek-r1"]),
        ("/v1/chips", "ascnd", ["huawei-ascend"]),
        ("/v1/chips", "H100", ["nvidia-h100"]),
        ("/v1/investments", "stargate", ["stargate-500b"]),
        ("/v1/documents", "abou dabi", ["gate-k2-think-abu-dhabi"]),
    ],
)
def test_collection_q_matches_like_search(
    client: TestClient, path: str, q: str, expected: list[str]
) -> None:
    assert _ids(client, path, q=q) == expected


@pytest.mark.parametrize("q", ["deepseek", "deepsek", "moonshot", "k2", "nvidi", "ai"])
def test_collection_q_is_the_search_hits_of_that_type(client: TestClient, q: str) -> None:
    for path, entity_type in [
        ("/v1/organizations", "organization"),
        ("/v1/models", "model"),
        ("/v1/chips", "chip"),
        ("/v1/investments", "investment"),
        ("/v1/documents", "document"),
    ]:
        hits = _search(client, q, type=entity_type, limit=100)
        assert sorted(_ids(client, path, q=q, limit=500)) == sorted(h["id"] for h in hits), path


def test_collection_q_composes_with_filters_sort_and_pages(client: TestClient) -> None:
    everything = _ids(client, "/v1/organizations", q="a", sort="-name", limit=500)
    assert len(everything) > 3
    pages: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"q": "a", "sort": "-name", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        body = client.get("/v1/organizations", params=params).json()
        pages += [item["id"] for item in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == everything
    assert _ids(client, "/v1/organizations", q="abou dhabi", kind="company") == []
    assert _ids(client, "/v1/organizations", q="abou dhabi", kind="government") == ["abu-dhabi"]


# The write path and the migration keep search_names in step -------------------------------


def _names_rows(engine: Engine) -> list[tuple[Any, ...]]:
    with Session(engine) as session:
        rows = session.execute(
            select(
                *(
                    col(column)
                    for column in (
                        SearchName.entity_type,
                        SearchName.entity_id,
                        SearchName.name,
                        SearchName.is_primary,
                        SearchName.word,
                        SearchName.key,
                        SearchName.grams,
                    )
                )
            )
        )
        return sorted(tuple(row) for row in rows)


def _client(engine: Engine) -> TestClient:
    url = engine.url.render_as_string(hide_password=False)
    return TestClient(create_app(Settings(database_url=url)))


def test_upgrade_fills_search_names_from_existing_rows(empty_engine: Engine) -> None:
    with Session(empty_engine) as session:
        load_seed(session, read_seed())
        session.commit()
    written = _names_rows(empty_engine)
    assert len(written) > 100
    downgrade(empty_engine, "0001")
    upgrade(empty_engine)
    assert _names_rows(empty_engine) == written
    with _client(empty_engine) as client:
        assert _top(_search(client, "abou dabi")) == [("organization", "abu-dhabi")]
        assert _top(_search(client, "chna")) == [("organization", "china")]


def _set_aliases(engine: Engine, aliases: list[str]) -> None:
    (fact,) = [f for _, f in read_seed().facts["organizations"] if f.id == "abu-dhabi"]
    assert isinstance(fact, OrganizationCreate)
    with Session(engine) as session:
        upsert_fact(
            session, COLLECTIONS["organizations"], fact.model_copy(update={"aliases": aliases})
        )
        session.commit()


def test_aliases_in_every_script_the_documents_use(empty_engine: Engine) -> None:
    # The sources' pages carry Latin, Cyrillic, Chinese and Arabic text.
    with Session(empty_engine) as session:
        load_seed(session, read_seed())
        session.commit()
    _set_aliases(empty_engine, ["Abou Dhabi", "Абу-Даби", "阿布扎比", "أَبُو ظَبْي"])
    expected = [("organization", "abu-dhabi")]
    with _client(empty_engine) as client:
        assert _top(_search(client, "абу даби")) == expected
        assert _top(_search(client, "АБУ-ДАБИ")) == expected
        assert _top(_search(client, "Абу Доби")) == expected  # one letter wrong
        assert _top(_search(client, "阿布扎比")) == expected
        assert _top(_search(client, "布扎比")) == expected  # a substring of 3 characters
        assert _top(_search(client, "阿布")) == expected  # a prefix
        assert _top(_search(client, "ابو ظبي")) == expected  # without the vowel signs
        assert _ids(client, "/v1/organizations", q="Абу-Даби") == ["abu-dhabi"]


def test_changing_aliases_replaces_the_search_names(empty_engine: Engine) -> None:
    with Session(empty_engine) as session:
        load_seed(session, read_seed())
        session.commit()
    _set_aliases(empty_engine, ["Abu Zabi"])
    with _client(empty_engine) as client:
        assert _top(_search(client, "abu zabi")) == [("organization", "abu-dhabi")]
        assert _search(client, "abou dabi", type="organization") == []
    with Session(empty_engine) as session:
        count = session.execute(
            select(func.count())
            .select_from(SearchName)
            .where(col(SearchName.entity_id) == "abu-dhabi", col(SearchName.word) == 0)
        ).scalar_one()
    assert count == 2  # "Abu Dhabi" and "Abu Zabi"


# SQLite and PostgreSQL answer alike ------------------------------------------------------


@pytest.fixture(scope="module")
def both_clients(databases: DatabaseFactory) -> Iterator[tuple[TestClient, TestClient]]:
    if not PG_ADMIN_URL:
        pytest.skip("needs TEST_DATABASE_URL (PostgreSQL)")
    clients = []
    for backend in ("sqlite", "postgresql"):
        engine = migrated_engine(databases, backend)
        with Session(engine) as session:
            load_seed(session, read_seed())
            session.commit()
        clients.append(_client(engine))
        engine.dispose()
    with clients[0] as sqlite_client, clients[1] as postgresql_client:
        yield sqlite_client, postgresql_client


def _queries() -> list[str]:
    queries = [name for _, _, name in NAMES] + [typo for *_, typo in TYPOS]
    queries += ["deepsek", "kimi k2", "moonshot", "k2", "ai", "seek", "nvidi", "a", "investment"]
    rng = random.Random(7)  # a few more misspellings, the same on every run
    for _, _, name in NAMES:
        letters = list(fold(name))
        for _ in range(2):
            index = rng.randrange(len(letters))
            letters[index] = rng.choice("aeiouxyz ")
        queries.append("".join(letters))
    return list(dict.fromkeys(queries))


def test_sqlite_and_postgresql_answer_alike(both_clients: tuple[TestClient, TestClient]) -> None:
    sqlite_client, postgresql_client = both_clients
    for q in _queries():
        params = {"q": q, "limit": 100}
        left = sqlite_client.get("/v1/search", params=params)
        right = postgresql_client.get("/v1/search", params=params)
        assert (left.status_code, left.json()) == (right.status_code, right.json()), q
        for path in ("/v1/organizations", "/v1/models", "/v1/documents"):
            left_ids = sqlite_client.get(path, params={"q": q, "limit": 500}).json()
            right_ids = postgresql_client.get(path, params={"q": q, "limit": 500}).json()
            assert left_ids == right_ids, (path, q)


# The matching rules ----------------------------------------------------------------------


def _textbook_distance(a: str, b: str) -> int:
    """Optimal string alignment distance, unbanded."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def test_edit_distance_agrees_with_the_textbook_one() -> None:
    rng = random.Random(3)
    for _ in range(3000):
        a = "".join(rng.choice("abc") for _ in range(rng.randrange(0, 9)))
        b = "".join(rng.choice("abc") for _ in range(rng.randrange(0, 9)))
        expected = _textbook_distance(a, b)
        for limit in (0, 1, 2, 3):
            assert edit_distance(a, b, limit) == (expected if expected <= limit else None)
    assert edit_distance("dhabi", "dhbai", 1) == 1  # a swap is one edit


@pytest.mark.parametrize(
    ("q", "name", "kind"),
    [
        ("deepsek", "DeepSeek", "fuzzy"),
        ("deepsek", "DeepSeek R1", "fuzzy"),  # one word of the name
        ("meta", "Metal", "prefix"),
        ("mta", "Meta", None),  # names under 5 letters take no typo
        ("chna", "China", "fuzzy"),
        ("chn", "China", None),
        ("uniter states", "United States", "fuzzy"),
        ("unitd stats", "United States", "fuzzy"),  # two edits in 12 letters
        ("untd stats", "United States", None),  # three
        ("openai", "Open-AI", "exact"),
        ("ai", "Moonshot AI", "substring"),
        ("oonsh", "Moonshot AI", "substring"),
        ("oo", "Moonshot AI", None),  # inside a word takes 3 characters
        ("seek r1", "DeepSeek R1", "substring"),
        ("ekr1", "DeepSeek R1", "substring"),  # spaces do not count
        ("jxapy", "xjap y", "fuzzy"),  # a swap next to a space
    ],
)
def test_classify(q: str, name: str, kind: str | None) -> None:
    needle = Needle.parse(q)
    assert needle is not None
    match = classify(needle, name)
    assert (match.kind.value if match else None) == kind
