"""The list endpoints of the read API: envelopes, contents, pagination, sorting, filters, search
and relationship lists, every expectation derived from the seed files under seed/.

The helpers at the top (seed access, search folding) are shared with test_items.py and
test_errors.py.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import yaml
from fastapi.testclient import TestClient

SEED = Path(__file__).resolve().parents[1] / "seed"

# API path -> key (and file name) of its seed facts.
FACT_COLLECTIONS = {
    "/v1/organizations": "organizations",
    "/v1/models": "models",
    "/v1/chips": "chips",
    "/v1/chip-support": "chip_support",
    "/v1/investments": "investments",
}
ALL_COLLECTIONS = [*FACT_COLLECTIONS, "/v1/documents"]

# The fields the contract promises on every item ("at least").
CONTRACT_FIELDS = {
    "/v1/organizations": {
        "id",
        "name",
        "aliases",
        "kind",
        "country",
        "city",
        "parent_id",
        "description",
    },
    "/v1/models": {
        "id",
        "name",
        "aliases",
        "developer_id",
        "parameters",
        "active_parameters",
        "open_weights",
        "reasoning",
        "release_date",
        "release_date_precision",
        "license",
        "description",
    },
    "/v1/chips": {"id", "name", "aliases", "vendor_id", "description"},
    "/v1/chip-support": {
        "id",
        "model_id",
        "chip_id",
        "vendor_id",
        "relation",
        "announced_on",
        "description",
    },
    "/v1/investments": {
        "id",
        "name",
        "kind",
        "investors",
        "recipient_id",
        "amount_usd_min",
        "amount_usd_max",
        "amount_text",
        "announced_on",
        "period",
        "purpose",
        "status",
        "description",
    },
    "/v1/documents": {"id", "title", "publisher", "language", "url", "published_on", "sha256"},
}
CITATION_FIELDS = {"document_id", "quote", "start", "end", "field", "note"}

Fact = dict[str, Any]
Predicate = Callable[[Fact], bool]


# --- seed access ---------------------------------------------------------------------------


@functools.cache
def _load_yaml(relative: str) -> Any:
    return yaml.safe_load((SEED / relative).read_text(encoding="utf-8"))


def jsonable(value: Any) -> Any:
    """A seed value as the API serializes it (YAML may read an unquoted date as a date)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def seed_facts(path: str) -> list[Fact]:
    """The seeded facts of a collection (a fresh copy), as JSON values."""
    if path == "/v1/documents":
        documents: list[Fact] = jsonable(_load_yaml("documents.yaml")["documents"])
        return documents
    key = FACT_COLLECTIONS[path]
    facts: list[Fact] = jsonable(_load_yaml(f"facts/{key}.yaml")[key])
    return facts


def seed_fact(path: str, fact_id: str) -> Fact:
    return next(f for f in seed_facts(path) if f["id"] == fact_id)


def seed_ids(path: str, predicate: Predicate = lambda _: True) -> list[str]:
    return sorted(f["id"] for f in seed_facts(path) if predicate(f))


def seed_fields(fact: Fact) -> Fact:
    """What the API must return for a seeded fact, besides its citations."""
    return {k: v for k, v in fact.items() if k not in ("citations", "file")}


def document_file_text(document_id: str) -> str:
    file_name: str = seed_fact("/v1/documents", document_id)["file"]
    return (SEED / "documents" / file_name).read_text(encoding="utf-8")


# --- search semantics, written independently of app.text -----------------------------------


def fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form: 'Abou-Dhabi' -> 'abou dhabi'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[\W_]+", " ", bare).split())


def _names(fact: Fact) -> list[str]:
    return [fact.get("name") or fact.get("title") or "", *(fact.get("aliases") or [])]


def _edits(a: str, b: str) -> int:
    """Levenshtein distance."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def must_match(q: str) -> Predicate:
    """The facts `q` must find: a folded name, alias or title holding the folded query at the
    start of a word, or anywhere for a query of three characters or more."""
    needle = fold(q)

    def predicate(fact: Fact) -> bool:
        if not needle:
            return False  # nothing searchable ("!!!") matches nothing
        for name in map(fold, _names(fact)):
            if name.startswith(needle) or f" {needle}" in name:
                return True
            if len(needle) >= 3 and needle in name:
                return True
        return False

    return predicate


def may_match(q: str) -> Predicate:
    """The facts `q` may also find: spaces ignored ("chat gpt" ~ "ChatGPT"), and typos
    tolerated, one in a run of 5 to 8 letters of a name, two in a longer run."""
    must = must_match(q)
    needle = fold(q).replace(" ", "")

    def predicate(fact: Fact) -> bool:
        if must(fact):
            return True
        if not needle:
            return False
        for name in map(fold, _names(fact)):
            words = name.split()
            if needle in "".join(words):
                return True
            for i in range(len(words)):
                for j in range(i + 1, len(words) + 1):
                    run = "".join(words[i:j])
                    allowed = 0 if len(run) < 5 else 1 if len(run) <= 8 else 2
                    if abs(len(run) - len(needle)) <= allowed and _edits(needle, run) <= allowed:
                        return True
        return False

    return predicate


# --- HTTP helpers --------------------------------------------------------------------------


def get_ok(client: TestClient, url: str, params: dict[str, Any] | None = None) -> Any:
    response = client.get(url, params=params)
    assert response.status_code == 200, f"GET {url} {params}: {response.text}"
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def list_all(client: TestClient, url: str, params: dict[str, Any] | None = None) -> list[Fact]:
    """Everything in one page (the seed is far below the maximum page size)."""
    body = get_ok(client, url, {**(params or {}), "limit": 500})
    assert body["next_cursor"] is None
    data: list[Fact] = body["data"]
    return data


def ids_of(items: list[Fact]) -> list[str]:
    return [item["id"] for item in items]


def next_link(link_header: str) -> str:
    """The target of the rel="next" link of a Link header."""
    match = re.fullmatch(r'\s*<([^>]+)>\s*;\s*rel="next"\s*', link_header)
    assert match, f"not a rel=next Link header: {link_header!r}"
    return match.group(1)


# --- envelopes and contents ----------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_COLLECTIONS)
def test_list_envelope_is_data_and_next_cursor(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"data", "next_cursor"}
    assert isinstance(body["data"], list)
    # The default page (50) holds the whole seed: one page, no next link.
    assert body["next_cursor"] is None
    assert "link" not in response.headers
    assert sorted(ids_of(body["data"])) == seed_ids(path)


@pytest.mark.parametrize("path", ALL_COLLECTIONS)
def test_every_item_has_the_contract_fields(client: TestClient, path: str) -> None:
    items = list_all(client, path)
    assert items
    for item in items:
        missing = CONTRACT_FIELDS[path] - set(item)
        assert not missing, f"{path} {item['id']} lacks {missing}"
        assert isinstance(item["id"], str)
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", item["id"]), item["id"]


@pytest.mark.parametrize("path", list(FACT_COLLECTIONS))
def test_list_returns_every_seeded_fact_with_its_seeded_values(
    client: TestClient, path: str
) -> None:
    by_id = {item["id"]: item for item in list_all(client, path)}
    assert sorted(by_id) == seed_ids(path)
    for fact in seed_facts(path):
        item = by_id[fact["id"]]
        for field, value in seed_fields(fact).items():
            assert item[field] == value, f"{path}/{fact['id']}: {field}"


def test_investors_are_organization_ids_with_roles(client: TestClient) -> None:
    by_id = {item["id"]: item for item in list_all(client, "/v1/investments")}
    for fact in seed_facts("/v1/investments"):
        investors = by_id[fact["id"]]["investors"]
        assert investors == [
            {"organization_id": i["organization_id"], "role": i["role"]} for i in fact["investors"]
        ]
        assert all(i["role"] in {"investor", "lead", "partner"} for i in investors)
    # Stargate: five participants in the order of the seed, no invented lead.
    assert by_id["stargate-500b"]["investors"][:2] == [
        {"organization_id": "stargate", "role": "investor"},
        {"organization_id": "openai", "role": "partner"},
    ]
    assert by_id["deepseek-6m-cost"]["investors"] == []


def test_documents_list_matches_the_seed_without_texts(client: TestClient) -> None:
    by_id = {item["id"]: item for item in list_all(client, "/v1/documents")}
    assert sorted(by_id) == seed_ids("/v1/documents")
    for document in seed_facts("/v1/documents"):
        item = by_id[document["id"]]
        for field, value in seed_fields(document).items():
            assert item[field] == value, f"{document['id']}: {field}"
        assert re.fullmatch(r"[0-9a-f]{64}", item["sha256"])
        # Lists leave the (large) texts to the single document.
        assert "text" not in item
        assert "original_text" not in item


@pytest.mark.parametrize("path", list(FACT_COLLECTIONS))
def test_lists_leave_citations_out_unless_asked(client: TestClient, path: str) -> None:
    for item in list_all(client, path):
        assert "citations" not in item, f"{path} {item['id']}"


@pytest.mark.parametrize("path", list(FACT_COLLECTIONS))
def test_include_citations_embeds_the_seeded_citations(client: TestClient, path: str) -> None:
    items = list_all(client, path, {"include": "citations"})
    assert sorted(ids_of(items)) == seed_ids(path)
    for item in items:
        seeded = seed_fact(path, item["id"])["citations"]
        assert seeded, "every seeded fact has citations"
        for citation in item["citations"]:
            assert set(citation) >= CITATION_FIELDS
        # Same citations, same order, same values as curated.
        assert len(item["citations"]) == len(seeded)
        served = [{k: c[k] for k in s} for c, s in zip(item["citations"], seeded, strict=True)]
        assert served == seeded
        # ... and the same as the single item serves.
        single = get_ok(client, f"{path}/{item['id']}")
        assert item["citations"] == single["citations"]


# --- pagination ----------------------------------------------------------------------------

SORTS: dict[str, list[str | None]] = {
    "/v1/organizations": [None, "name", "-name", "kind,-name", "country", "-country", "-city"],
    "/v1/models": [
        None,
        "-name",
        "parameters",
        "-parameters",
        "release_date",
        "-release_date",
        "-active_parameters",
        "developer_id,-parameters",
    ],
    "/v1/chips": [None, "-name", "vendor_id", "-id"],
    "/v1/chip-support": [None, "announced_on", "-announced_on", "chip_id", "-vendor_id,relation"],
    "/v1/investments": [
        None,
        "name",
        "announced_on",
        "-announced_on",
        "amount_usd_min",
        "-amount_usd_min",
        "-amount_usd_max,name",
    ],
    "/v1/documents": [None, "title", "-title", "published_on", "-language"],
}
PAGINATION_CASES = [
    pytest.param(path, sort, id=f"{path.removeprefix('/v1/')}:{sort or 'default'}")
    for path, sorts in SORTS.items()
    for sort in sorts
]


def walk_pages(
    client: TestClient, path: str, params: dict[str, Any], *, follow_link: bool
) -> list[list[Fact]]:
    """Every page of a list, following the Link header or next_cursor; checks both."""
    pages: list[list[Fact]] = []
    limit = params["limit"]
    url: str = path
    query: dict[str, Any] | None = dict(params)
    for _ in range(200):
        response = client.get(url, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"data", "next_cursor"}
        page: list[Fact] = body["data"]
        assert 1 <= len(page) <= limit
        pages.append(page)
        cursor = body["next_cursor"]
        if cursor is None:
            assert "link" not in response.headers, "no Link on the last page"
            return pages
        assert isinstance(cursor, str)
        assert cursor
        assert len(page) == limit, "only the last page may be short"
        link = next_link(response.headers["link"])
        parts = urlsplit(link)
        assert parts.scheme in ("http", "https"), f"Link must be absolute: {link}"
        assert parts.netloc
        assert parts.path == path
        link_query = parse_qs(parts.query)
        assert link_query["cursor"] == [cursor]
        for name, value in params.items():
            assert link_query[name] == [str(value)], f"Link keeps {name}"
        if follow_link:
            url, query = link, None
        else:
            url, query = path, {**params, "cursor": cursor}
    raise AssertionError("pagination does not end")


@pytest.mark.parametrize("limit", [1, 2])
@pytest.mark.parametrize(("path", "sort"), PAGINATION_CASES)
def test_walking_the_pages_gives_the_single_page_result(
    client: TestClient, path: str, sort: str | None, limit: int
) -> None:
    sort_param = {"sort": sort} if sort else {}
    everything = ids_of(list_all(client, path, sort_param))
    assert sorted(everything) == seed_ids(path)
    # limit=1 follows the Link header, limit=2 passes next_cursor itself: both must work.
    pages = walk_pages(client, path, {**sort_param, "limit": limit}, follow_link=limit == 1)
    walked = [item["id"] for page in pages for item in page]
    assert len(walked) == len(set(walked)), "an item came twice"
    assert walked == everything
    assert len(pages) == -(-len(everything) // limit)


@pytest.mark.parametrize("path", ALL_COLLECTIONS)
def test_next_cursor_and_link_on_a_first_page(client: TestClient, path: str) -> None:
    response = client.get(path, params={"limit": 1})
    body = response.json()
    assert len(body["data"]) == 1
    assert body["next_cursor"]
    link = next_link(response.headers["link"])
    assert link.startswith("http://testserver" + path + "?")
    assert parse_qs(urlsplit(link).query) == {"limit": ["1"], "cursor": [body["next_cursor"]]}


def test_link_keeps_non_ascii_parameters(client: TestClient) -> None:
    params = {"q": "à", "limit": 1}  # folds to "a": "Abu Dhabi", "Astra Quant", ...
    pages = walk_pages(client, "/v1/organizations", params, follow_link=True)
    walked = [item["id"] for page in pages for item in page]
    assert len(pages) >= 3
    assert walked == ids_of(list_all(client, "/v1/organizations", {"q": "à"}))
    assert set(walked) >= set(seed_ids("/v1/organizations", must_match("à")))


def test_a_cursor_works_with_the_filters_it_was_made_with(client: TestClient) -> None:
    params = {"kind": "government", "limit": 2, "sort": "-name"}
    pages = walk_pages(client, "/v1/organizations", params, follow_link=True)
    walked = [item["id"] for page in pages for item in page]
    expected = list_all(client, "/v1/organizations", {"kind": "government", "sort": "-name"})
    assert walked == ids_of(expected)
    assert sorted(walked) == seed_ids("/v1/organizations", lambda f: f["kind"] == "government")


# --- sort order ----------------------------------------------------------------------------

# Sortable fields with nulls (or only non-null values) whose values compare the same in any
# collation: numbers, ISO dates and upper-case country codes.
ORDERED_FIELDS = [
    ("/v1/models", "parameters"),
    ("/v1/models", "active_parameters"),
    ("/v1/models", "release_date"),
    ("/v1/investments", "amount_usd_min"),
    ("/v1/investments", "amount_usd_max"),
    ("/v1/investments", "announced_on"),
    ("/v1/chip-support", "announced_on"),
    ("/v1/organizations", "country"),
    ("/v1/documents", "published_on"),
]


def _check_order(items: list[Fact], field: str, descending: bool) -> None:
    values = [item[field] for item in items]
    present = [v for v in values if v is not None]
    assert values[: len(present)] == present, f"nulls must come last: {values}"
    assert present == sorted(present, reverse=descending), f"{field} out of order: {present}"


def _tie_groups(items: list[Fact], field: str) -> dict[Any, list[str]]:
    groups: dict[Any, list[str]] = {}
    for item in items:
        groups.setdefault(item[field], []).append(item["id"])
    return groups


@pytest.mark.parametrize(("path", "field"), ORDERED_FIELDS)
def test_sort_orders_values_with_nulls_last_both_ways(
    client: TestClient, path: str, field: str
) -> None:
    ascending = list_all(client, path, {"sort": field})
    descending = list_all(client, path, {"sort": f"-{field}"})
    _check_order(ascending, field, descending=False)
    _check_order(descending, field, descending=True)
    seeded = sorted((f[field] for f in seed_facts(path)), key=lambda v: (v is None, v or 0))
    assert sorted((i[field] for i in ascending), key=lambda v: (v is None, v or 0)) == seeded
    # Ties (nulls included) are broken by id, ascending, whatever the direction of the field.
    assert _tie_groups(ascending, field) == _tie_groups(descending, field)


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/organizations", "name"),
        ("/v1/models", "name"),
        ("/v1/chips", "name"),
        ("/v1/investments", "name"),
        ("/v1/documents", "title"),
        ("/v1/chip-support", "id"),
    ],
)
def test_descending_sort_is_the_reverse_of_ascending(
    client: TestClient, path: str, field: str
) -> None:
    values = [f[field] for f in seed_facts(path)]
    assert len(values) == len(set(values)), "unique in the seed, so no ties"
    ascending = ids_of(list_all(client, path, {"sort": field}))
    descending = ids_of(list_all(client, path, {"sort": f"-{field}"}))
    assert descending == ascending[::-1]
    assert ascending != descending


def test_models_by_descending_parameters(client: TestClient) -> None:
    models = list_all(client, "/v1/models", {"sort": "-parameters"})
    assert [(m["id"], m["parameters"]) for m in models[:3]] == [
        ("kimi-k2", 1_000_000_000_000),
        ("deepseek-r1", 671_000_000_000),
        ("k2-think", 32_000_000_000),
    ]
    assert all(m["parameters"] is None for m in models[3:])
    assert len(models) == len(seed_facts("/v1/models"))


def test_investments_by_descending_minimum_amount(client: TestClient) -> None:
    investments = list_all(client, "/v1/investments", {"sort": "-amount_usd_min"})
    assert [i["id"] for i in investments[:5]] == [
        "stargate-500b",
        "microsoft-80b-ai",
        "meta-ai-2025",
        "deepseek-annual-budget",
        "deepseek-6m-cost",
    ]
    assert all(i["amount_usd_min"] is None for i in investments[5:])


def test_default_sorts(client: TestClient) -> None:
    # Organizations, models and chips default to their name; the rest to their id.
    for path, field in [
        ("/v1/organizations", "name"),
        ("/v1/models", "name"),
        ("/v1/chips", "name"),
        ("/v1/chip-support", "id"),
        ("/v1/investments", "id"),
        ("/v1/documents", "id"),
    ]:
        assert ids_of(list_all(client, path)) == ids_of(list_all(client, path, {"sort": field}))


# --- filters -------------------------------------------------------------------------------

ORG_KINDS = [
    "company",
    "lab",
    "university",
    "investment_fund",
    "joint_venture",
    "government",
    "other",
]
INVESTMENT_KINDS = sorted({f["kind"] for f in seed_facts("/v1/investments")})
RELATIONS = ["inference_support", "trained_on", "compatible"]


def _one_of(field: str, values: str) -> Predicate:
    wanted = set(values.split(","))
    return lambda fact: fact[field] in wanted


def _at_least(field: str, bound: int) -> Predicate:
    return lambda fact: fact[field] is not None and fact[field] >= bound


def _at_most(field: str, bound: int) -> Predicate:
    return lambda fact: fact[field] is not None and fact[field] <= bound


def _investor(organization_ids: str) -> Predicate:
    wanted = set(organization_ids.split(","))
    return lambda fact: any(i["organization_id"] in wanted for i in fact["investors"])


def _announced(low: str | None, high: str | None) -> Predicate:
    def predicate(fact: Fact) -> bool:
        day = fact["announced_on"]
        if day is None:
            return False
        return (low is None or day >= low) and (high is None or day <= high)

    return predicate


def _all(*predicates: Predicate) -> Predicate:
    return lambda fact: all(p(fact) for p in predicates)


def _distinct(path: str, field: str) -> list[str]:
    return sorted({f[field] for f in seed_facts(path) if f[field] is not None})


FilterCase = tuple[str, dict[str, str], Predicate]

FILTER_CASES: list[FilterCase] = [
    # organizations
    *[("/v1/organizations", {"kind": k}, _one_of("kind", k)) for k in ORG_KINDS],
    (
        "/v1/organizations",
        {"kind": "university,government"},
        _one_of("kind", "university,government"),
    ),
    *[
        ("/v1/organizations", {"country": c}, _one_of("country", c))
        for c in [*_distinct("/v1/organizations", "country"), "CN,AE", "FR"]
    ],
    ("/v1/organizations", {"parent_id": "astra-quant"}, _one_of("parent_id", "astra-quant")),
    ("/v1/organizations", {"parent_id": "no-such-org"}, lambda _: False),
    (
        "/v1/organizations",
        {"kind": "government", "country": "AE"},
        _all(_one_of("kind", "government"), _one_of("country", "AE")),
    ),
    # models
    *[
        ("/v1/models", {"developer_id": d}, _one_of("developer_id", d))
        for d in [*_distinct("/v1/models", "developer_id"), "deepseek,moonshot-ai", "nvidia"]
    ],
    ("/v1/models", {"open_weights": "true"}, lambda f: f["open_weights"] is True),
    ("/v1/models", {"open_weights": "false"}, lambda f: f["open_weights"] is False),
    ("/v1/models", {"reasoning": "true"}, lambda f: f["reasoning"] is True),
    ("/v1/models", {"reasoning": "false"}, lambda f: f["reasoning"] is False),
    *[
        ("/v1/models", {"parameters_gte": str(n)}, _at_least("parameters", n))
        for n in [0, 32_000_000_000, 671_000_000_000, 671_000_000_001, 10**15]
    ],
    *[
        ("/v1/models", {"parameters_lte": str(n)}, _at_most("parameters", n))
        for n in [0, 31_999_999_999, 32_000_000_000, 671_000_000_000, 10**15]
    ],
    (
        "/v1/models",
        {"parameters_gte": "32000000000", "parameters_lte": "671000000000"},
        _all(_at_least("parameters", 32_000_000_000), _at_most("parameters", 671_000_000_000)),
    ),
    (
        "/v1/models",
        {"open_weights": "true", "developer_id": "deepseek,meta"},
        _all(lambda f: f["open_weights"] is True, _one_of("developer_id", "deepseek,meta")),
    ),
    # chips
    *[
        ("/v1/chips", {"vendor_id": v}, _one_of("vendor_id", v))
        for v in [*_distinct("/v1/chips", "vendor_id"), "nvidia,huawei", "openai"]
    ],
    # chip support
    *[
        ("/v1/chip-support", {field: value}, _one_of(field, value))
        for field in ("model_id", "chip_id", "vendor_id")
        for value in [*_distinct("/v1/chip-support", field), "kimi-k2"]
    ],
    *[
        ("/v1/chip-support", {"relation": r}, _one_of("relation", r))
        for r in [*RELATIONS, "trained_on,compatible"]
    ],
    (
        "/v1/chip-support",
        {"model_id": "deepseek-r1", "relation": "inference_support"},
        _all(_one_of("model_id", "deepseek-r1"), _one_of("relation", "inference_support")),
    ),
    # investments
    *[("/v1/investments", {"kind": k}, _one_of("kind", k)) for k in INVESTMENT_KINDS],
    ("/v1/investments", {"kind": "partnership,other"}, _one_of("kind", "partnership,other")),
    ("/v1/investments", {"kind": "funding_round"}, lambda _: False),
    *[
        ("/v1/investments", {"investor_id": o}, _investor(o))
        for o in sorted(
            {i["organization_id"] for f in seed_facts("/v1/investments") for i in f["investors"]}
        )
    ],
    ("/v1/investments", {"investor_id": "meta,china"}, _investor("meta,china")),
    *[
        ("/v1/investments", {"recipient_id": r}, _one_of("recipient_id", r))
        for r in [*_distinct("/v1/investments", "recipient_id"), "stargate"]
    ],
    # A range reaches the bound when its high end does (Meta's $60-65 billion reaches $62bn).
    *[
        ("/v1/investments", {"amount_usd_gte": str(n)}, _at_least("amount_usd_max", n))
        for n in [0, 6_000_000, 6_000_001, 62_000_000_000, 65_000_000_000, 500_000_000_000]
    ],
    *[
        ("/v1/investments", {"announced_from": day}, _announced(day, None))
        for day in ["2025-01-01", "2025-01-21", "2025-01-22"]
    ],
    *[
        ("/v1/investments", {"announced_to": day}, _announced(None, day))
        for day in ["2025-01-20", "2025-01-21", "2030-01-01"]
    ],
    (
        "/v1/investments",
        {"announced_from": "2025-01-21", "announced_to": "2025-01-21"},
        _announced("2025-01-21", "2025-01-21"),
    ),
    # documents
    *[
        ("/v1/documents", {"language": lang}, _one_of("language", lang))
        for lang in ["fr", "it", "fr,it", "en"]
    ],
]


Q_CASES = [
    *[
        ("/v1/organizations", q)
        for q in ["deepseek", "Open", "abou dabi", "ÉMIRATS", "emirats arabes", "Cina", "G42"]
    ],
    *[
        ("/v1/models", q)
        for q in ["deepthink", "R1", "k2", "kimi k2", "GROK 1", "grok-1", "lama", "chat gpt"]
    ],
    *[
        ("/v1/investments", q)
        for q in ["stargate", "MICROSOFT", "deepseek", "microsoft g42", "Ambani - Nvidia", "2025"]
    ],
    *[
        ("/v1/documents", q)
        for q in ["deepseek", "ABOU-DABI", "chinese llms", "moonshot", "arene", "l'IA"]
    ],
    *[("/v1/chips", q) for q in ["h100", "ASCEND", "nvidia h 100", "tpu"]],
]


def _case_id(case: FilterCase) -> str:
    path, params, _ = case
    return path.removeprefix("/v1/") + "?" + "&".join(f"{k}={v}" for k, v in params.items())


@pytest.mark.parametrize(
    ("path", "params", "predicate"), FILTER_CASES, ids=[_case_id(c) for c in FILTER_CASES]
)
def test_filter_returns_exactly_the_matching_seed_facts(
    client: TestClient, path: str, params: dict[str, str], predicate: Predicate
) -> None:
    found = ids_of(list_all(client, path, params))
    assert len(found) == len(set(found))
    assert sorted(found) == seed_ids(path, predicate)


def test_filters_are_not_vacuous() -> None:
    """Most cases above must select something and leave something out, or they prove little."""
    selective = [c for c in FILTER_CASES if 0 < len(seed_ids(c[0], c[2])) < len(seed_facts(c[0]))]
    assert len(selective) > len(FILTER_CASES) * 0.7


@pytest.mark.parametrize(("path", "q"), Q_CASES, ids=[f"{p[4:]}?q={q}" for p, q in Q_CASES])
def test_q_returns_the_seed_facts_whose_names_match(client: TestClient, path: str, q: str) -> None:
    found = sorted(ids_of(list_all(client, path, {"q": q})))
    must, may = seed_ids(path, must_match(q)), seed_ids(path, may_match(q))
    missing = set(must) - set(found)
    assert not missing, f"q={q!r} misses {missing}"
    unrelated = set(found) - set(may)
    assert not unrelated, f"q={q!r} finds unrelated {unrelated}"


def test_q_cases_are_mostly_exact() -> None:
    """Where no typo or spacing variant is in play the bounds meet: the result is exact."""
    exact = [(p, q) for p, q in Q_CASES if seed_ids(p, must_match(q)) == seed_ids(p, may_match(q))]
    assert len(exact) > len(Q_CASES) * 0.7
    assert all(seed_ids(p, may_match(q)) for p, q in Q_CASES if q not in ("tpu",))


@pytest.mark.parametrize(
    ("path", "q", "expected"),
    [
        ("/v1/organizations", "universite", ["mbzuai"]),
        ("/v1/organizations", "Université", ["mbzuai"]),
        ("/v1/organizations", "UNIVERSITÉ", ["mbzuai"]),
        ("/v1/organizations", "ABOU DHABI", ["abu-dhabi"]),
        ("/v1/organizations", "abou-dhabi", ["abu-dhabi"]),
        ("/v1/organizations", "Abou Dabi!", ["abu-dhabi"]),
        ("/v1/organizations", "  abou   dhabi  ", ["abu-dhabi"]),
        ("/v1/organizations", "etats-unis", ["united-states"]),
        ("/v1/organizations", "emirats", ["united-arab-emirates"]),
        ("/v1/organizations", "astra", ["astra-quant"]),
        ("/v1/models", "deepthink", ["deepseek-r1"]),
        ("/v1/models", "DeepThink-R1", ["deepseek-r1"]),
        ("/v1/models", "kimi", ["kimi-k2"]),
        ("/v1/chips", "h100", ["nvidia-h100"]),
        ("/v1/investments", "stargate", ["stargate-500b"]),
        ("/v1/documents", "abou dabi", ["gate-k2-think-abu-dhabi"]),
    ],
)
def test_q_is_case_accent_and_punctuation_insensitive(
    client: TestClient, path: str, q: str, expected: list[str]
) -> None:
    assert sorted(ids_of(list_all(client, path, {"q": q}))) == expected


def test_q_matches_aliases_not_only_names(client: TestClient) -> None:
    # "Cina" (Italian) and "EAU" (French) appear only as aliases.
    assert ids_of(list_all(client, "/v1/organizations", {"q": "cina"})) == ["china"]
    assert ids_of(list_all(client, "/v1/organizations", {"q": "eau"})) == ["united-arab-emirates"]


# --- relationship lists --------------------------------------------------------------------


@pytest.mark.parametrize("organization_id", seed_ids("/v1/organizations"))
def test_organization_models_are_the_models_it_develops(
    client: TestClient, organization_id: str
) -> None:
    body = get_ok(client, f"/v1/organizations/{organization_id}/models", {"limit": 500})
    assert set(body) == {"data", "next_cursor"}
    assert sorted(ids_of(body["data"])) == seed_ids(
        "/v1/models", lambda f: f["developer_id"] == organization_id
    )
    assert all(m["developer_id"] == organization_id for m in body["data"])


@pytest.mark.parametrize("organization_id", seed_ids("/v1/organizations"))
def test_organization_investments_as_investor_or_recipient(
    client: TestClient, organization_id: str
) -> None:
    body = get_ok(client, f"/v1/organizations/{organization_id}/investments", {"limit": 500})
    assert set(body) == {"data", "next_cursor"}
    expected = seed_ids(
        "/v1/investments",
        lambda f: f["recipient_id"] == organization_id or _investor(organization_id)(f),
    )
    assert sorted(ids_of(body["data"])) == expected


@pytest.mark.parametrize("model_id", seed_ids("/v1/models"))
def test_model_chip_support_is_the_chip_support_of_the_model(
    client: TestClient, model_id: str
) -> None:
    body = get_ok(client, f"/v1/models/{model_id}/chip-support", {"limit": 500})
    assert set(body) == {"data", "next_cursor"}
    assert sorted(ids_of(body["data"])) == seed_ids(
        "/v1/chip-support", lambda f: f["model_id"] == model_id
    )


def test_relationship_lists_in_numbers(client: TestClient) -> None:
    assert ids_of(list_all(client, "/v1/organizations/deepseek/models")) == ["deepseek-r1"]
    assert sorted(ids_of(list_all(client, "/v1/organizations/deepseek/investments"))) == [
        "deepseek-6m-cost",
        "deepseek-annual-budget",
    ]
    # OpenAI is a Stargate partner and receives Microsoft's stake.
    assert sorted(ids_of(list_all(client, "/v1/organizations/openai/investments"))) == [
        "microsoft-openai-stake",
        "stargate-500b",
    ]
    assert len(list_all(client, "/v1/models/deepseek-r1/chip-support")) == 3
    assert list_all(client, "/v1/models/kimi-k2/chip-support") == []


@pytest.mark.parametrize(
    ("path", "sort"),
    [
        ("/v1/models/deepseek-r1/chip-support", None),
        ("/v1/models/deepseek-r1/chip-support", "-announced_on"),
        ("/v1/organizations/microsoft/investments", None),
        ("/v1/organizations/microsoft/investments", "-name"),
        ("/v1/organizations/stargate/investments", None),
    ],
)
@pytest.mark.parametrize("follow_link", [True, False])
def test_relationship_lists_paginate(
    client: TestClient, path: str, sort: str | None, follow_link: bool
) -> None:
    sort_param = {"sort": sort} if sort else {}
    everything = ids_of(list_all(client, path, sort_param))
    assert len(everything) >= 1
    pages = walk_pages(client, path, {**sort_param, "limit": 1}, follow_link=follow_link)
    assert [item["id"] for page in pages for item in page] == everything


def test_relationship_lists_take_the_collection_filters(client: TestClient) -> None:
    partnerships = list_all(
        client, "/v1/organizations/microsoft/investments", {"kind": "partnership"}
    )
    assert ids_of(partnerships) == ["microsoft-g42-partnership"]
    trained = list_all(client, "/v1/models/deepseek-r1/chip-support", {"relation": "trained_on"})
    assert ids_of(trained) == ["deepseek-r1-nvidia-h100"]
    cited = list_all(client, "/v1/organizations/deepseek/models", {"include": "citations"})
    assert cited[0]["citations"] == get_ok(client, "/v1/models/deepseek-r1")["citations"]


def test_the_next_link_keeps_the_parameters_as_written_and_replaces_the_cursor(
    client: TestClient,
) -> None:
    first = client.get("/v1/models?limit=1&include=developer,citations&sort=-name")
    url = first.headers["link"].removeprefix("<").removesuffix('>; rel="next"')
    assert url.startswith(
        "http://testserver/v1/models?limit=1&include=developer,citations&sort=-name&cursor="
    )
    second = client.get(url)
    assert second.status_code == 200
    assert second.json()["data"][0]["id"] != first.json()["data"][0]["id"]
    onward = second.headers["link"].removeprefix("<").removesuffix('>; rel="next"')
    assert onward.count("cursor=") == 1
    assert onward.endswith("cursor=" + quote(second.json()["next_cursor"], safe=""))
