"""`as_of=<timestamp>` on lists and items: the dataset as recorded at that instant, with the
filters, sort, include, fields, pages and formats of the current lists; a bare date keeps
meaning "announced on or before" on chip support and investments."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.ai_models.service import ModelFilters
from app.chip_support.service import ChipSupportFilters
from app.chips.service import ChipFilters
from app.documents.service import DocumentFilters
from app.errors import InvalidParameter
from app.history.snapshot import COLLECTIONS
from app.investments.service import InvestmentFilters
from app.organizations.service import OrganizationFilters
from tests.curation_support import (
    OTHER_QUOTE,
    QUOTE,
    bearer,
    cite,
    history,
    just_before,
    new_key,
)

PROBLEM = "application/problem+json"
FUTURE = "2999-01-01T00:00:00Z"
PAST = "2000-01-01T00:00:00Z"
LISTS = [
    "/v1/organizations",
    "/v1/models",
    "/v1/chips",
    "/v1/chip-support",
    "/v1/investments",
    "/v1/documents",
    "/v1/organizations/deepseek/models",
    "/v1/organizations/microsoft/investments",
    "/v1/models/deepseek-r1/chip-support",
]
# Lists where a bare date means "announced on or before".
DATED = {
    "/v1/chip-support",
    "/v1/investments",
    "/v1/organizations/microsoft/investments",
    "/v1/models/deepseek-r1/chip-support",
}


@pytest.fixture(scope="module")
def key(engine: Engine) -> str:
    return new_key(engine, "time-traveller", ["write"])


def _data(client: TestClient, path: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get(path, params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def _ids(client: TestClient, path: str, **params: Any) -> list[str]:
    return [item["id"] for item in _data(client, path, **params)]


def _one(client: TestClient, path: str, item_id: str, **params: Any) -> dict[str, Any]:
    found = [item for item in _data(client, path, **params) if item["id"] == item_id]
    assert len(found) == 1, (path, params)
    return found[0]


def _patch(client: TestClient, key: str, path: str, body: dict[str, Any]) -> None:
    etag = client.get(path).headers["etag"]
    response = client.patch(path, json=body, headers=bearer(key, **{"If-Match": etag}))
    assert response.status_code == 200, response.text


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")


# --- a value changed three times ------------------------------------------------------------


def test_three_changes_read_back_on_the_item_and_on_every_list(api: TestClient, key: str) -> None:
    path = "/v1/organizations/moonshot-ai"
    assert api.get(path).json()["country"] == "CN"
    values = ["AE", "US", "FR"]
    for value, quote in zip(values, [QUOTE, OTHER_QUOTE, QUOTE], strict=True):
        _patch(api, key, path, {"country": value, "citations": [cite(quote, field="country")]})
    changes = history(api, path)[-3:]
    assert [c["diff"]["country"] for c in changes] == [["CN", "AE"], ["AE", "US"], ["US", "FR"]]

    for change in changes:
        old, new = change["diff"]["country"]
        then = just_before(change["recorded_at"])
        assert api.get(path, params={"as_of": then}).json()["country"] == old
        listed = _one(api, "/v1/organizations", "moonshot-ai", as_of=then)
        assert listed["country"] == old
        assert "citations" not in listed
        # Filters test the recorded states, referenced items as they were then too.
        assert "moonshot-ai" in _ids(api, "/v1/organizations", as_of=then, country=old)
        assert "moonshot-ai" not in _ids(api, "/v1/organizations", as_of=then, country=new)
        assert "kimi-k2" in _ids(api, "/v1/models", as_of=then, developer_country=old)
        assert "kimi-k2" not in _ids(api, "/v1/models", as_of=then, developer_country=new)
        model = _one(api, "/v1/models", "kimi-k2", as_of=then, include="developer")
        assert model["developer"]["country"] == old
        item = api.get("/v1/models/kimi-k2", params={"as_of": then, "include": "developer"})
        assert item.json()["developer"]["country"] == old
        mine = _ids(api, "/v1/organizations/moonshot-ai/models", as_of=then)
        assert "kimi-k2" in mine
        # At the instant of the change, the new value.
        at = change["recorded_at"]
        assert _one(api, "/v1/organizations", "moonshot-ai", as_of=at)["country"] == new
    assert _one(api, "/v1/organizations", "moonshot-ai")["country"] == "FR"


# --- created after, deleted after -----------------------------------------------------------


def test_item_created_after_the_instant_is_absent(api: TestClient, key: str) -> None:
    response = api.post(
        "/v1/models",
        json={"name": "Late Model", "developer_id": "deepseek", "citations": [cite()]},
        headers=bearer(key),
    )
    assert response.status_code == 201, response.text
    created_at = history(api, "/v1/models/late-model")[0]["recorded_at"]
    before = just_before(created_at)
    for path in ("/v1/models", "/v1/organizations/deepseek/models"):
        assert "late-model" not in _ids(api, path, as_of=before)
        assert "late-model" in _ids(api, path, as_of=created_at)
        assert "late-model" in _ids(api, path)
    assert "late-model" not in _ids(api, "/v1/models", as_of=before, q="late model")
    assert "late-model" in _ids(api, "/v1/models", as_of=created_at, q="late model")
    assert api.get("/v1/models/late-model", params={"as_of": before}).status_code == 404


def test_item_deleted_after_the_instant_is_present_then_absent_now(
    api: TestClient, key: str
) -> None:
    created = api.post(
        "/v1/chips",
        json={"name": "Doomed Chip", "vendor_id": "nvidia", "citations": [cite()]},
        headers=bearer(key),
    )
    assert created.status_code == 201, created.text
    path = "/v1/chips/doomed-chip"
    deleted = api.delete(path, headers=bearer(key, **{"If-Match": created.headers["etag"]}))
    assert deleted.status_code == 204
    create_at, delete_at = (r["recorded_at"] for r in history(api, path))
    then = just_before(delete_at)
    assert "doomed-chip" in _ids(api, "/v1/chips", as_of=then)
    # Its names are searched as recorded, though the search index no longer has them.
    assert _ids(api, "/v1/chips", as_of=then, q="doomed") == ["doomed-chip"]
    assert _one(api, "/v1/chips", "doomed-chip", as_of=then, include="vendor")["vendor"]["id"] == (
        "nvidia"
    )
    assert "doomed-chip" not in _ids(api, "/v1/chips", as_of=delete_at)
    assert "doomed-chip" not in _ids(api, "/v1/chips")
    assert "doomed-chip" not in _ids(api, "/v1/chips", as_of=_now())
    assert api.get(path, params={"as_of": create_at}).status_code == 200
    assert api.get(path).status_code == 410


def test_relationship_lists_answer_for_their_owner_as_it_was(api: TestClient, key: str) -> None:
    created = api.post(
        "/v1/organizations",
        json={"name": "Short Lived Lab", "kind": "lab", "citations": [cite()]},
        headers=bearer(key),
    )
    assert created.status_code == 201, created.text
    path = "/v1/organizations/short-lived-lab"
    deleted = api.delete(path, headers=bearer(key, **{"If-Match": created.headers["etag"]}))
    assert deleted.status_code == 204
    create_at, delete_at = (r["recorded_at"] for r in history(api, path))
    for sub in ("/models", "/investments"):
        assert _data(api, path + sub, as_of=create_at) == []
        missing = api.get(path + sub, params={"as_of": just_before(create_at)})
        assert missing.status_code == 404
        assert missing.headers["content-type"] == PROBLEM
        gone = api.get(path + sub, params={"as_of": delete_at})
        assert gone.status_code == 410
        assert gone.headers["link"] == f'<{path}/history>; rel="history"'
        assert api.get(path + sub).status_code == 410


def test_sort_and_ranges_read_the_values_recorded_then(api: TestClient, key: str) -> None:
    path = "/v1/models/kimi-k2"
    largest = _ids(api, "/v1/models", sort="-parameters", parameters_null="false")
    assert largest[0] == "kimi-k2"
    _patch(api, key, path, {"parameters": 7, "citations": [cite(QUOTE, field="parameters")]})
    changed_at = history(api, path)[-1]["recorded_at"]
    then = just_before(changed_at)
    for at, first in ((then, "kimi-k2"), (changed_at, largest[1])):
        ranked = _ids(api, "/v1/models", as_of=at, sort="-parameters", parameters_null="false")
        assert ranked[0] == first
        paged: list[str] = []
        cursor: str | None = None
        while True:
            params = {"as_of": at, "sort": "-parameters", "limit": 1, "parameters_null": "false"}
            body = api.get(
                "/v1/models", params={**params, **({"cursor": cursor} if cursor else {})}
            )
            assert body.status_code == 200, body.text
            paged += [item["id"] for item in body.json()["data"]]
            cursor = body.json()["next_cursor"]
            if cursor is None:
                break
        assert paged == ranked
    big = {"parameters_gte": str(10**12)}
    assert "kimi-k2" in _ids(api, "/v1/models", as_of=then, **big)
    assert "kimi-k2" not in _ids(api, "/v1/models", as_of=changed_at, **big)
    assert "kimi-k2" in _ids(api, "/v1/models", as_of=changed_at, parameters_lte="7")
    assert _one(api, "/v1/models", "kimi-k2", as_of=then)["parameters"] == 10**12


# --- pages ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params"),
    [
        *((path, {}) for path in LISTS),
        ("/v1/organizations", {"sort": "-country,city"}),
        ("/v1/organizations", {"sort": "kind", "country": "US,CN"}),
        ("/v1/models", {"sort": "-parameters", "include": "developer"}),
        ("/v1/investments", {"sort": "-amount_usd_max", "fields": "name"}),
        ("/v1/chip-support", {"sort": "-announced_on"}),
        ("/v1/documents", {"sort": "-published_on"}),
    ],
)
def test_paging_an_as_of_list_yields_every_item_once(
    api: TestClient, path: str, params: dict[str, Any]
) -> None:
    at = _now()
    everything = _data(api, path, as_of=at, **params)
    assert everything
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {"as_of": at, "limit": 2, **params, **({"cursor": cursor} if cursor else {})}
        response = api.get(path, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["data"]) <= 2
        seen.extend(body["data"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            assert "link" not in response.headers
            break
        link = response.headers["link"]
        assert link.endswith('>; rel="next"')
        assert f"cursor={cursor}" in link
        assert "as_of=" in link
    assert seen == everything
    assert len({item["id"] for item in seen}) == len(seen)
    assert pages == max(1, -(-len(everything) // 2))


def test_as_of_cursors_are_validated(api: TestClient) -> None:
    at = _now()
    first = api.get("/v1/organizations", params={"as_of": at, "limit": 2}).json()
    cursor = first["next_cursor"]
    assert cursor
    current = api.get("/v1/organizations", params={"limit": 2}).json()["next_cursor"]
    refused = [
        {"as_of": FUTURE, "limit": 2, "cursor": cursor},  # another instant
        {"as_of": at, "limit": 2, "cursor": cursor, "sort": "id"},  # another sort
        {"as_of": at, "limit": 2, "cursor": current},  # the current list's
        {"as_of": at, "cursor": "not-a-cursor"},
        {"as_of": at, "cursor": "WzEsIngiXQ"},  # base64 of [1,"x"]
    ]
    for params in refused:
        response = api.get("/v1/organizations", params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["errors"][0]["loc"] == ["query", "cursor"]
    # Nor does the current list take an as_of cursor.
    assert api.get("/v1/organizations", params={"cursor": cursor}).status_code == 422
    chips = api.get("/v1/chips", params={"as_of": at, "cursor": cursor})
    assert chips.status_code == 422


# --- errors ---------------------------------------------------------------------------------


BAD_TIMESTAMPS = [
    "2026-13-01T00:00:00Z",
    "2026-02-30T10:00:00Z",
    "2026-01-01T24:00:00Z",
    "2026-01-01T10:00:00",  # no time zone
    "2026-01-01T10:00Z",
    "yesterday",
    "1700000000",
    "",
]


@pytest.mark.parametrize("path", LISTS)
def test_bad_timestamps_are_422_naming_as_of(api: TestClient, path: str) -> None:
    bad = [*BAD_TIMESTAMPS, "2026-02-30" if path in DATED else "2026-01-01"]
    for value in bad:
        response = api.get(path, params={"as_of": value})
        assert response.status_code == 422, (value, response.text)
        assert response.headers["content-type"] == PROBLEM
        body = response.json()
        assert body["errors"][0]["loc"] == ["query", "as_of"], body
        assert "as_of" in body["detail"]


def test_item_bad_timestamps_are_422(api: TestClient) -> None:
    for value in BAD_TIMESTAMPS:
        response = api.get("/v1/models/deepseek-r1", params={"as_of": value})
        assert response.status_code == 422, (value, response.text)
        assert response.json()["errors"][0]["loc"] == ["query", "as_of"]


def test_empty_q_with_as_of_is_422_naming_q(api: TestClient) -> None:
    response = api.get("/v1/models", params={"as_of": FUTURE, "q": "--"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "q"]


def test_a_date_keeps_meaning_announced_on_or_before(api: TestClient) -> None:
    by_date = _ids(api, "/v1/investments", as_of="2025-01-21")
    dated = [i for i in _data(api, "/v1/investments") if i["announced_on"]]
    assert by_date == [i["id"] for i in dated if i["announced_on"] <= "2025-01-21"]
    # A timestamp is knowledge time: the undated investments are there too.
    assert len(_ids(api, "/v1/investments", as_of=_now())) > len(by_date)
    assert _ids(api, "/v1/investments", as_of=PAST) == []
    spec = api.get("/openapi.json").json()["paths"]
    for path in ("/v1/investments", "/v1/chip-support", "/v1/models/{id}/chip-support"):
        (param,) = [p for p in spec[path]["get"]["parameters"] if p["name"] == "as_of"]
        assert "on or before" in param["description"]
        assert "RFC 3339" in param["description"]
    for path in ("/v1/organizations", "/v1/models", "/v1/chips", "/v1/documents"):
        (param,) = [p for p in spec[path]["get"]["parameters"] if p["name"] == "as_of"]
        assert "RFC 3339" in param["description"]


# --- the recorded states of now are the current lists ---------------------------------------


PARITY = [
    ("/v1/organizations", {"kind": "lab,company", "sort": "-country"}),
    ("/v1/organizations", {"q": "abou dhabi", "include": "parent,citations"}),
    ("/v1/organizations", {"parent_id_null": "false", "fields": "name", "include": "parent"}),
    ("/v1/organizations", {"country": "cn", "city_null": "false", "disputed": "false"}),
    ("/v1/models", {"open_weights": "true", "sort": "-parameters", "include": "documents"}),
    ("/v1/models", {"developer_country": "CN,AE", "include": "developer", "fields": "name"}),
    ("/v1/models", {"parameters_gte": "100000000000", "parameters_lte": "700000000000"}),
    ("/v1/models", {"q": "deepsek", "reasoning_null": "false", "license_null": "true"}),
    ("/v1/models", {"release_date_null": "true", "active_parameters_null": "true"}),
    ("/v1/chips", {"vendor_id": "huawei,nvidia", "include": "vendor,citations"}),
    ("/v1/chips", {"q": "ascend", "vendor_id_null": "false"}),
    ("/v1/chip-support", {"include": "model,chip,vendor", "sort": "-announced_on"}),
    ("/v1/chip-support", {"relation": "inference_support", "announced_from": "2025-01-01"}),
    ("/v1/chip-support", {"chip_id_null": "false", "announced_to": "2025-12-31"}),
    ("/v1/investments", {"include": "investors,recipient", "sort": "-amount_usd_max"}),
    ("/v1/investments", {"amount_usd_gte": "50000000000", "investor_country": "US"}),
    (
        "/v1/investments",
        {"kind": "capital_expenditure,infrastructure", "status": "announced,disputed"},
    ),
    ("/v1/investments", {"q": "stargate", "disputed": "true", "include": "documents"}),
    ("/v1/investments", {"announced_on_null": "true", "amount_null": "false"}),
    ("/v1/investments", {"recipient_id_null": "true", "investor_id": "openai,microsoft"}),
    ("/v1/documents", {"language": "fr", "sort": "-published_on"}),
    ("/v1/documents", {"q": "deepseek", "language": "fr,it"}),
    ("/v1/documents", {"published_from": "2025-01-01", "published_to": "2025-12-31"}),
    ("/v1/organizations/microsoft/investments", {"include": "investors", "fields": "name"}),
    ("/v1/organizations/deepseek/models", {"include": "developer,citations"}),
    ("/v1/models/deepseek-r1/chip-support", {"include": "chip", "sort": "chip_id"}),
]


@pytest.mark.parametrize(("path", "params"), PARITY)
def test_as_of_in_the_future_answers_like_the_current_list(
    client: TestClient, path: str, params: dict[str, str]
) -> None:
    now = client.get(path, params={"limit": 500, **params})
    then = client.get(path, params={"limit": 500, "as_of": FUTURE, **params})
    assert now.status_code == then.status_code == 200, (now.text, then.text)
    assert then.json()["data"] == now.json()["data"]
    for fmt in ("csv", "ndjson"):
        streamed = client.get(path, params={"format": fmt, **params})
        recorded = client.get(path, params={"format": fmt, "as_of": FUTURE, **params})
        assert recorded.status_code == 200
        assert recorded.text == streamed.text
    cached = client.get(
        path,
        params={"limit": 500, "as_of": FUTURE, **params},
        headers={"If-None-Match": then.headers["etag"]},
    )
    assert cached.status_code == 304


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/models/deepseek-r1", {}),
        ("/v1/models/deepseek-r1", {"include": "developer,documents", "fields": "name"}),
        ("/v1/investments/stargate-500b", {"include": "investors,recipient"}),
        ("/v1/chip-support/deepseek-r1-huawei-ascend", {"include": "model,chip,vendor"}),
        ("/v1/organizations/deepseek", {"include": "parent", "fields": "city"}),
        ("/v1/chips/huawei-ascend", {"include": "vendor,documents"}),
    ],
)
def test_item_as_of_in_the_future_answers_like_the_current_item(
    client: TestClient, path: str, params: dict[str, str]
) -> None:
    now = client.get(path, params=params)
    then = client.get(path, params={"as_of": FUTURE, **params})
    assert now.status_code == then.status_code == 200, (now.text, then.text)
    assert then.json() == now.json()


def test_every_filter_has_a_meaning_on_recorded_states() -> None:
    filters: dict[str, type[Any]] = {
        "organization": OrganizationFilters,
        "model": ModelFilters,
        "chip": ChipFilters,
        "chip_support": ChipSupportFilters,
        "investment": InvestmentFilters,
        "document": DocumentFilters,
    }
    for entity, cls in filters.items():
        names = {f.name for f in dataclasses.fields(cls)}
        assert names <= set(COLLECTIONS[entity].filters), (entity, names)
        assert set(COLLECTIONS[entity].filters) <= names, entity


def test_a_filter_without_a_meaning_is_refused_not_ignored() -> None:
    from app.api import PageParams
    from app.history.snapshot import list_at

    @dataclasses.dataclass(frozen=True)
    class Unknown:
        colour: str | None = "red"

    with pytest.raises(InvalidParameter) as refused:
        list_at(
            session=None,  # type: ignore[arg-type]
            entity_type="chip",
            at=dt.datetime(2026, 1, 1),
            filters=Unknown(),
            page=PageParams(limit=10, cursor=None, sort=None),
        )
    assert refused.value.errors == [
        {"loc": ["query", "colour"], "msg": "not supported together with a timestamp as_of"}
    ]
