"""Errors of the read API: every one application/problem+json (RFC 9457), 404 for what does not
exist, 405 for a wrong method, 422 naming the invalid parameter, and never a 500."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.test_lists import (
    ALL_COLLECTIONS,
    FACT_COLLECTIONS,
    get_ok,
    list_all,
    may_match,
    must_match,
    seed_ids,
)

PROBLEM_JSON = "application/problem+json"

# A sortable field of each collection (for sort and cursor tests).
SORT_FIELD = {
    "/v1/organizations": "name",
    "/v1/models": "name",
    "/v1/chips": "name",
    "/v1/chip-support": "model_id",
    "/v1/investments": "name",
    "/v1/documents": "title",
}
Q_COLLECTIONS = [
    "/v1/organizations",
    "/v1/models",
    "/v1/chips",
    "/v1/investments",
    "/v1/documents",
]


def assert_problem(
    response: httpx.Response,
    status: int,
    *,
    param: str | None = None,
    instance: str | None = None,
) -> dict[str, Any]:
    """An RFC 9457 problem of this status; for a 422, naming `param` in errors and detail."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    media_type = response.headers["content-type"].split(";")[0].strip()
    assert media_type == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail", "instance"} <= set(body), body
    assert isinstance(body["type"], str)
    assert body["type"]
    assert isinstance(body["title"], str)
    assert body["title"]
    assert body["status"] == status
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert isinstance(body["instance"], str)
    if instance is not None:
        assert body["instance"] == instance
    if status == 422:
        errors = body["errors"]
        assert isinstance(errors, list)
        assert errors
        for error in errors:
            assert isinstance(error["loc"], list)
            assert isinstance(error["msg"], str)
            assert error["msg"]
    if param is not None:
        assert any(e["loc"][-1] == param for e in body["errors"]), body["errors"]
        assert param in body["detail"], body["detail"]
    return body


def make_cursor(payload: Any) -> str:
    """A cursor shaped like the app's own (base64 of JSON), for forged-cursor tests."""
    raw = json.dumps(payload).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def first_cursor(client: TestClient, path: str, params: dict[str, Any] | None = None) -> str:
    cursor = get_ok(client, path, {**(params or {}), "limit": 1})["next_cursor"]
    assert isinstance(cursor, str)
    return cursor


# --- 404 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_COLLECTIONS)
@pytest.mark.parametrize("item_id", ["nope", "no-such-item", "DeepSeek-R1", "deepseek-r1x"])
def test_unknown_id_is_404(client: TestClient, path: str, item_id: str) -> None:
    body = assert_problem(client.get(f"{path}/{item_id}"), 404, instance=f"{path}/{item_id}")
    assert item_id in body["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/v1/organizations/nope/models",
        "/v1/organizations/nope/investments",
        "/v1/models/nope/chip-support",
        # Ids of the wrong collection do not count as parents.
        "/v1/organizations/deepseek-r1/models",
        "/v1/organizations/nvidia-h100/investments",
        "/v1/models/deepseek/chip-support",
    ],
)
def test_unknown_parent_of_a_relationship_list_is_404(client: TestClient, path: str) -> None:
    assert_problem(client.get(path), 404, instance=path)
    # Also when the list parameters themselves are fine and a filter would match.
    assert_problem(client.get(path, params={"limit": 1, "sort": "id"}), 404)


def test_the_404_of_an_item_names_it(client: TestClient) -> None:
    body = assert_problem(client.get("/v1/models/nope"), 404, instance="/v1/models/nope")
    assert body["title"] == "Not Found"
    assert "nope" in body["detail"]
    assert "errors" not in body or body["errors"] is None


@pytest.mark.parametrize(
    "path",
    [
        "/v1/nope",
        "/v2/models",
        "/nope",
        "/v1",
        "/v1/models/deepseek-r1/nope",
        "/v1/documents/kimi-k2-moonshot-ai/citations",
        "/v1/chips/nvidia-h100/models",
    ],
)
def test_unknown_route_is_404(client: TestClient, path: str) -> None:
    assert_problem(client.get(path), 404, instance=path)


# --- 405 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_COLLECTIONS)
# POST on a list is the write API (tests/test_curation_*.py).
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_wrong_method_on_a_list_is_405(client: TestClient, path: str, method: str) -> None:
    response = client.request(method, path, json={"id": "x"})
    assert_problem(response, 405, instance=path)
    assert "GET" in response.headers["allow"]


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_wrong_method_on_an_item_is_405(client: TestClient, method: str) -> None:
    assert_problem(client.request(method, "/v1/models/deepseek-r1"), 405)
    assert_problem(client.request(method, "/v1/documents/kimi-k2-moonshot-ai"), 405)


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_documents_cannot_be_changed_or_deleted(client: TestClient, method: str) -> None:
    assert_problem(client.request(method, "/v1/documents/kimi-k2-moonshot-ai"), 405)


# --- limit ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_COLLECTIONS)
@pytest.mark.parametrize(
    "limit", ["0", "501", "abc", "-1", "1.5", "", "1e3", "99999999999999999999"]
)
def test_invalid_limit_is_422_naming_limit(client: TestClient, path: str, limit: str) -> None:
    assert_problem(client.get(path, params={"limit": limit}), 422, param="limit", instance=path)


@pytest.mark.parametrize("path", ALL_COLLECTIONS)
def test_limit_bounds_are_accepted(client: TestClient, path: str) -> None:
    assert len(get_ok(client, path, {"limit": 1})["data"]) == 1
    assert get_ok(client, path, {"limit": 500})["next_cursor"] is None


# --- sort ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_COLLECTIONS)
@pytest.mark.parametrize(
    "sort",
    [
        "bogus",
        "-bogus",
        "{f},bogus",
        "{f},{f}",
        "{f},-{f}",
        "{f},",
        ",",
        "--{f}",
        "{f};drop",
        "description",
        "citations",
    ],
)
def test_invalid_sort_is_422_naming_sort(client: TestClient, path: str, sort: str) -> None:
    value = sort.format(f=SORT_FIELD[path])
    assert_problem(client.get(path, params={"sort": value}), 422, param="sort", instance=path)


@pytest.mark.parametrize("path", ALL_COLLECTIONS)
def test_duplicate_sort_field_says_so(client: TestClient, path: str) -> None:
    field = SORT_FIELD[path]
    body = assert_problem(client.get(path, params={"sort": f"{field},{field}"}), 422, param="sort")
    assert field in body["detail"]


# --- cursor --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_COLLECTIONS)
@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!",
        "%%%",
        "WzEsIm",  # a truncated real cursor
        base64.urlsafe_b64encode(b"not json").decode(),
        base64.urlsafe_b64encode("é".encode("latin-1")).decode(),
        "A" * 2001,
    ],
)
def test_malformed_cursor_is_422_naming_cursor(client: TestClient, path: str, cursor: str) -> None:
    assert_problem(client.get(path, params={"cursor": cursor}), 422, param="cursor", instance=path)


@pytest.mark.parametrize("path", ALL_COLLECTIONS)
def test_cursor_of_another_collection_is_422(client: TestClient, path: str) -> None:
    for other in ALL_COLLECTIONS:
        if other == path:
            continue
        # Same default sort field where possible, so only the collection differs.
        cursor = first_cursor(client, other, {"sort": "id"})
        response = client.get(path, params={"cursor": cursor, "sort": "id"})
        assert_problem(response, 422, param="cursor")


@pytest.mark.parametrize("path", ALL_COLLECTIONS)
def test_cursor_of_another_sort_is_422(client: TestClient, path: str) -> None:
    field = SORT_FIELD[path]
    cursor = first_cursor(client, path, {"sort": field})
    for other_sort in (f"-{field}", "id", "-id", f"{field},-id"):
        response = client.get(path, params={"cursor": cursor, "sort": other_sort})
        assert_problem(response, 422, param="cursor")
    # The default sort is a sort too: a cursor made without `sort` fits only the default.
    default_cursor = first_cursor(client, path)
    response = client.get(path, params={"cursor": default_cursor, "sort": f"-{field}"})
    assert_problem(response, 422, param="cursor")


def test_cursor_of_the_same_sort_spelled_differently_still_works(client: TestClient) -> None:
    cursor = first_cursor(client, "/v1/models", {"sort": "-parameters"})
    assert get_ok(client, "/v1/models", {"sort": "-parameters", "cursor": cursor})["data"]


@pytest.mark.parametrize(
    ("sort", "payload"),
    [
        # wrong version, wrong collection, wrong shape, wrong value types, wrong arity
        ("name", [2, "models:name,id", ["DeepSeek R1", "deepseek-r1"]]),
        ("name", [1, "chips:name,id", ["DeepSeek R1", "deepseek-r1"]]),
        ("name", [1, "models:name,id"]),
        ("name", {"version": 1}),
        ("name", "models:name,id"),
        ("name", [1, "models:name,id", ["DeepSeek R1"]]),
        ("name", [1, "models:name,id", ["DeepSeek R1", "deepseek-r1", "x"]]),
        ("name", [1, "models:name,id", {"name": "x"}]),
        ("name", [1, "models:name,id", [1, "deepseek-r1"]]),
        ("name", [1, "models:name,id", [["x"], "deepseek-r1"]]),
        ("parameters", [1, "models:parameters,id", ["671000000000", "deepseek-r1"]]),
        ("parameters", [1, "models:parameters,id", [1.5, "deepseek-r1"]]),
        ("parameters", [1, "models:parameters,id", [True, "deepseek-r1"]]),
        ("parameters", [1, "models:parameters,id", [10**30, "deepseek-r1"]]),
        ("release_date", [1, "models:release_date,id", ["2025-13-45", "deepseek-r1"]]),
        ("release_date", [1, "models:release_date,id", ["yesterday", "deepseek-r1"]]),
        ("release_date", [1, "models:release_date,id", [20250101, "deepseek-r1"]]),
    ],
)
def test_forged_cursor_is_422_naming_cursor(client: TestClient, sort: str, payload: Any) -> None:
    response = client.get("/v1/models", params={"sort": sort, "cursor": make_cursor(payload)})
    assert_problem(response, 422, param="cursor")


@pytest.mark.parametrize(
    ("sort", "payload"),
    [
        # Integers beyond a 64-bit column, and a NUL byte PostgreSQL cannot compare.
        pytest.param(
            "parameters", [1, "models:parameters,id", [2**63, "deepseek-r1"]], id="int-2**63"
        ),
        pytest.param(
            "parameters", [1, "models:parameters,id", [2**64 - 1, "deepseek-r1"]], id="int-2**64-1"
        ),
        pytest.param(
            "name", [1, "models:name,id", ["Deep\u0000Seek", "deepseek-r1"]], id="nul-name"
        ),
        pytest.param(
            "name", [1, "models:name,id", ["DeepSeek R1", "deepseek-r1\u0000"]], id="nul-id"
        ),
    ],
)
def test_forged_cursor_with_out_of_range_values_is_not_a_500(
    client: TestClient, sort: str, payload: Any
) -> None:
    response = client.get("/v1/models", params={"sort": sort, "cursor": make_cursor(payload)})
    # Either refused as a malformed cursor, or read as a position; never a server error.
    if response.status_code == 422:
        assert_problem(response, 422, param="cursor")
    else:
        assert response.status_code == 200, response.text


# --- filters -------------------------------------------------------------------------------

INVALID_FILTERS = [
    ("/v1/organizations", "kind", "nonsense"),
    ("/v1/organizations", "kind", "lab,nonsense"),
    ("/v1/organizations", "country", "CHN"),
    ("/v1/organizations", "country", "C"),
    ("/v1/organizations", "country", "C1"),
    ("/v1/organizations", "country", "CN,"),
    ("/v1/organizations", "parent_id", "Astra Quant"),
    ("/v1/organizations", "parent_id", "astra_quant"),
    ("/v1/models", "developer_id", "DeepSeek"),
    ("/v1/models", "developer_id", "deepseek,"),
    ("/v1/models", "open_weights", "maybe"),
    ("/v1/models", "open_weights", "2"),
    ("/v1/models", "reasoning", "maybe"),
    ("/v1/models", "parameters_gte", "-1"),
    ("/v1/models", "parameters_gte", "abc"),
    ("/v1/models", "parameters_gte", "1.5"),
    ("/v1/models", "parameters_gte", "671B"),
    ("/v1/models", "parameters_lte", "-1"),
    ("/v1/models", "parameters_lte", "abc"),
    ("/v1/models", "parameters_lte", "99999999999999999999999"),
    ("/v1/chips", "vendor_id", "NVIDIA"),
    ("/v1/chip-support", "model_id", "deepseek r1"),
    ("/v1/chip-support", "chip_id", "Nvidia-H100"),
    ("/v1/chip-support", "vendor_id", "huawei!"),
    ("/v1/chip-support", "relation", "nonsense"),
    ("/v1/chip-support", "relation", "trained-on"),
    ("/v1/investments", "kind", "nonsense"),
    ("/v1/investments", "investor_id", "Microsoft"),
    ("/v1/investments", "recipient_id", "open ai"),
    ("/v1/investments", "amount_usd_gte", "-1"),
    ("/v1/investments", "amount_usd_gte", "abc"),
    ("/v1/investments", "amount_usd_gte", "$80bn"),
    ("/v1/investments", "announced_from", "2025-13-45"),
    ("/v1/investments", "announced_from", "2025-02-30"),
    ("/v1/investments", "announced_from", "21/01/2025"),
    ("/v1/investments", "announced_from", "1737417600"),
    ("/v1/investments", "announced_to", "2025-13-45"),
    ("/v1/investments", "announced_to", "tomorrow"),
    ("/v1/documents", "language", "fra"),
    ("/v1/documents", "language", "f"),
    ("/v1/documents", "language", "fr,"),
]


@pytest.mark.parametrize(
    ("path", "param", "value"),
    INVALID_FILTERS,
    ids=[f"{p.removeprefix('/v1/')}?{n}={v}" for p, n, v in INVALID_FILTERS],
)
def test_invalid_filter_is_422_naming_it(
    client: TestClient, path: str, param: str, value: str
) -> None:
    assert_problem(client.get(path, params={param: value}), 422, param=param, instance=path)


def test_invalid_filter_on_a_relationship_list_is_422(client: TestClient) -> None:
    response = client.get("/v1/organizations/microsoft/investments", params={"kind": "nonsense"})
    assert_problem(response, 422, param="kind")
    response = client.get("/v1/models/deepseek-r1/chip-support", params={"relation": "x"})
    assert_problem(response, 422, param="relation")
    response = client.get("/v1/organizations/deepseek/models", params={"limit": 0})
    assert_problem(response, 422, param="limit")


@pytest.mark.parametrize("path", Q_COLLECTIONS)
def test_q_with_nothing_searchable_is_422_naming_q(client: TestClient, path: str) -> None:
    # Only punctuation: nothing is left to search for, so the parameter is invalid.
    for q in ["!!!", "-", "?!…", "«»"]:
        assert_problem(client.get(path, params={"q": q}), 422, param="q", instance=path)


@pytest.mark.parametrize("path", Q_COLLECTIONS)
def test_q_longer_than_allowed_is_422_naming_q(client: TestClient, path: str) -> None:
    assert_problem(client.get(path, params={"q": "a" * 5000}), 422, param="q")


# --- hostile input -------------------------------------------------------------------------

HOSTILE = [
    "\x00",
    "a\x00b",
    "deepseek\x00",
    "😀",
    "🇨🇳",
    "x" * 5000,
    "' OR 1=1 --",
    "'; DROP TABLE organizations; --",
    '" OR ""="',
    "%",
    "_",
    "%25",
    "\\",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "\u202e",
    "İ",
    "ß" * 300,
    "\t\n",
]
HOSTILE_IDS = [
    "nul",
    "nul-inside",
    "nul-after-id",
    "emoji",
    "flag",
    "long",
    "sql-or",
    "sql-drop",
    "sql-quote",
    "percent",
    "underscore",
    "encoded-percent",
    "backslash",
    "traversal",
    "html",
    "rtl-override",
    "dotted-i",
    "long-sharp-s",
    "whitespace",
]

# The query parameters each list takes, contract filters first.
LIST_PARAMS = {
    "/v1/organizations": ["q", "kind", "country", "parent_id"],
    "/v1/models": [
        "q",
        "developer_id",
        "open_weights",
        "reasoning",
        "parameters_gte",
        "parameters_lte",
    ],
    "/v1/chips": ["q", "vendor_id"],
    "/v1/chip-support": ["model_id", "chip_id", "vendor_id", "relation"],
    "/v1/investments": [
        "q",
        "kind",
        "investor_id",
        "recipient_id",
        "amount_usd_gte",
        "announced_from",
        "announced_to",
    ],
    "/v1/documents": ["q", "language"],
}
PAGE_PARAMS = ["limit", "sort", "cursor", "include"]


def _request_or_error(client: TestClient, url: str, params: dict[str, str] | None) -> str | None:
    """None when the answer is a proper 200/404/422; else what went wrong."""
    try:
        response = client.get(url, params=params)
    except Exception as exc:  # the test client re-raises what the app did not handle
        return f"raised {exc.__class__.__name__}: {exc}"[:300]
    if response.status_code == 200:
        content_type = response.headers["content-type"]
        return None if content_type.startswith("application/json") else f"200 as {content_type}"
    if response.status_code not in (404, 422):
        return f"{response.status_code}: {response.text[:200]}"
    try:
        assert_problem(response, response.status_code)
    except AssertionError as exc:
        return f"{response.status_code} but not a proper problem: {exc}"[:300]
    return None


@pytest.mark.parametrize("value", HOSTILE, ids=HOSTILE_IDS)
@pytest.mark.parametrize("path", ALL_COLLECTIONS)
def test_hostile_ids_are_404(client: TestClient, path: str, value: str) -> None:
    response = client.get(f"{path}/{quote(value, safe='')}")
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)


@pytest.mark.parametrize("value", HOSTILE, ids=HOSTILE_IDS)
def test_hostile_parent_ids_are_404(client: TestClient, value: str) -> None:
    for template in (
        "/v1/organizations/{}/models",
        "/v1/organizations/{}/investments",
        "/v1/models/{}/chip-support",
    ):
        response = client.get(template.format(quote(value, safe="")))
        assert response.status_code == 404, response.text
        assert response.headers["content-type"].startswith(PROBLEM_JSON)


@pytest.mark.parametrize("value", HOSTILE, ids=HOSTILE_IDS)
@pytest.mark.parametrize("path", ALL_COLLECTIONS)
def test_hostile_parameters_never_fail_the_server(
    client: TestClient, path: str, value: str
) -> None:
    failures = []
    for param in [*LIST_PARAMS[path], *PAGE_PARAMS]:
        problem = _request_or_error(client, path, {param: value})
        if problem:
            failures.append(f"{param}={value[:20]!r}: {problem}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("q", ["' OR 1=1 --", "'; DROP TABLE organizations; --", "%", "_", "%%"])
@pytest.mark.parametrize("path", Q_COLLECTIONS)
def test_sql_and_like_wildcards_in_q_are_just_text(client: TestClient, path: str, q: str) -> None:
    response = client.get(path, params={"q": q, "limit": 500})
    if response.status_code == 422:
        # Wildcards alone leave nothing to search for.
        assert_problem(response, 422, param="q")
    else:
        assert response.status_code == 200, response.text
        found = sorted(item["id"] for item in response.json()["data"])
        # Nothing is named like that: an injection or a wildcard would have matched everything.
        assert seed_ids(path, must_match(q)) == seed_ids(path, may_match(q)) == []
        assert found == []
    # ... and nothing was dropped.
    assert list_all(client, path)


@pytest.mark.parametrize("path", list(FACT_COLLECTIONS))
def test_sql_in_id_filters_is_422(client: TestClient, path: str) -> None:
    param = {
        "/v1/organizations": "parent_id",
        "/v1/models": "developer_id",
        "/v1/chips": "vendor_id",
        "/v1/chip-support": "model_id",
        "/v1/investments": "investor_id",
    }[path]
    response = client.get(path, params={param: "x' OR '1'='1"})
    assert_problem(response, 422, param=param)
