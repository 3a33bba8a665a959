"""Writes: documents in (deduplicated by their repaired text), facts created, patched and
deleted through the one write path, citations checked against the stored documents,
references checked, and no lost update (If-Match, 428/412, one winner among concurrent
writers)."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.models import Document, Revision
from tests.curation_support import (
    DOC,
    OTHER_QUOTE,
    QUOTE,
    bearer,
    cite,
    new_key,
)

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def key(engine: Engine) -> str:
    return new_key(engine, "curator", ["write"])


def _etag(api: TestClient, path: str) -> str:
    response = api.get(path)
    assert response.status_code == 200, response.text
    etag: str = response.headers["etag"]
    return etag


def _problem(response: Any, status: int, *words: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    for word in words:
        assert word in body["detail"], body
    return body


def _revisions(engine: Engine, entity_type: str, entity_id: str) -> list[Revision]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(Revision)
                .where(Revision.entity_type == entity_type, Revision.entity_id == entity_id)
                .order_by(Revision.id)  # type: ignore[arg-type]
            )
        )


# --- documents ------------------------------------------------------------------------------


def test_document_upload_repairs_hashes_and_deduplicates(api: TestClient, key: str) -> None:
    body = {"title": "Upload test", "language": "fr", "text": "Le cafÃ© de Nvidia."}
    first = api.post("/v1/documents", json=body, headers=bearer(key))
    assert first.status_code == 201, first.text
    assert first.headers["location"] == "/v1/documents/upload-test"
    stored = api.get("/v1/documents/upload-test").json()
    assert stored["text"] == "Le café de Nvidia."
    assert stored["original_text"] == body["text"]
    again = api.post(
        "/v1/documents",
        json={**body, "title": "Same text", "text": "Le café de Nvidia."},
        headers=bearer(key),
    )
    assert again.status_code == 200
    assert again.json()["id"] == "upload-test"
    assert again.json()["sha256"] == stored["sha256"]
    # The uploaded text can then be quoted.
    created = api.post(
        "/v1/organizations",
        json={
            "name": "Nvidia Upload Test",
            "kind": "company",
            "citations": [{"document_id": "upload-test", "quote": "café de Nvidia"}],
        },
        headers=bearer(key),
    )
    assert created.status_code == 201, created.text
    assert created.json()["citations"][0]["start"] == 3


def test_document_id_clash_is_409_and_size_limit_413(api: TestClient, key: str) -> None:
    body = {"id": "upload-test", "title": "Other", "language": "en", "text": "Another text."}
    _problem(api.post("/v1/documents", json=body, headers=bearer(key)), 409, "upload-test")
    big = {"title": "Big", "language": "en", "text": "x" * 1_100_000}
    response = api.post("/v1/documents", json=big, headers=bearer(key))
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM


# --- create ---------------------------------------------------------------------------------


def test_create_with_generated_slug_201_location_etag(api: TestClient, key: str) -> None:
    response = api.post(
        "/v1/models",
        json={
            "name": "Écrit Test Model",
            "developer_id": "deepseek",
            "reasoning": True,
            "citations": [cite(field="reasoning")],
            "reason": "new model",
        },
        headers=bearer(key),
    )
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/v1/models/ecrit-test-model"
    got = api.get("/v1/models/ecrit-test-model")
    assert got.json() == response.json()
    assert got.headers["etag"] == response.headers["etag"]
    citation = response.json()["citations"][0]
    assert citation["start"] == 75
    assert citation["end"] == 75 + len(QUOTE)
    dup = api.post(
        "/v1/models",
        json={"name": "Ecrit test model", "citations": [cite()]},
        headers=bearer(key),
    )
    _problem(dup, 409, "ecrit-test-model")


def test_write_with_a_quote_in_no_document_is_422(api: TestClient, key: str) -> None:
    quote = "DeepSeek a inventé la roue"
    response = api.post(
        "/v1/chips",
        json={"name": "Imaginary Chip", "citations": [cite(quote)]},
        headers=bearer(key),
    )
    body = _problem(response, 422, quote)
    assert body["errors"][0]["loc"] == ["citations", 0, "quote"]
    assert api.get("/v1/chips/imaginary-chip").status_code == 404


def test_create_needs_citations_and_existing_references(api: TestClient, key: str) -> None:
    no_citation = api.post("/v1/chips", json={"name": "Bare Chip"}, headers=bearer(key))
    assert no_citation.status_code == 422
    bad_ref = api.post(
        "/v1/chips",
        json={"name": "Orphan Chip", "vendor_id": "no-such-vendor", "citations": [cite()]},
        headers=bearer(key),
    )
    body = _problem(bad_ref, 422, "no-such-vendor")
    assert body["errors"][0]["loc"] == ["vendor_id"]
    bad_doc = api.post(
        "/v1/chips",
        json={"name": "Orphan Chip", "citations": [{"document_id": "nope", "quote": "x"}]},
        headers=bearer(key),
    )
    _problem(bad_doc, 422, "nope")


def test_every_collection_takes_writes(api: TestClient, key: str) -> None:
    support = api.post(
        "/v1/chip-support",
        json={
            "id": "deepseek-r1-test-support",
            "model_id": "deepseek-r1",
            "vendor_id": "huawei",
            "relation": "compatible",
            "citations": [cite()],
        },
        headers=bearer(key),
    )
    assert support.status_code == 201, support.text
    investment = api.post(
        "/v1/investments",
        json={
            "name": "Test Round",
            "kind": "funding_round",
            "status": "announced",
            "investors": [{"organization_id": "deepseek", "role": "lead"}],
            "citations": [cite()],
        },
        headers=bearer(key),
    )
    assert investment.status_code == 201, investment.text
    assert investment.json()["investors"] == [{"organization_id": "deepseek", "role": "lead"}]


# --- patch ----------------------------------------------------------------------------------


def test_patch_needs_if_match_and_a_citation(api: TestClient, key: str) -> None:
    path = "/v1/models/kimi-k2"
    _problem(api.patch(path, json={"license": "MIT"}, headers=bearer(key)), 428, "If-Match")
    etag = _etag(api, path)
    response = api.patch(path, json={"license": "MIT"}, headers=bearer(key, **{"If-Match": etag}))
    _problem(response, 422, "citation")
    response = api.patch(
        path,
        json={"id": "renamed", "citations": [cite()]},
        headers=bearer(key, **{"If-Match": etag}),
    )
    assert response.status_code == 422
    assert api.get(path).headers["etag"] == etag


def test_patch_merges_validates_and_answers_the_new_etag(api: TestClient, key: str) -> None:
    path = "/v1/models/kimi-k2"
    before = api.get(path).json()
    response = api.patch(
        path,
        json={"license": "Modified MIT", "citations": [cite(field="license")]},
        headers=bearer(
            key, **{"If-Match": _etag(api, path), "Content-Type": "application/merge-patch+json"}
        ),
    )
    assert response.status_code == 200, response.text
    after = response.json()
    assert after["license"] == "Modified MIT"
    assert after["parameters"] == before["parameters"]
    assert after["citations"][: len(before["citations"])] == before["citations"]
    assert after["citations"][-1]["field"] == "license"
    assert api.get(path).headers["etag"] == response.headers["etag"]
    # The whole result is validated with the same schema as a create.
    invalid = api.patch(
        path,
        json={"active_parameters": 2 * 10**12, "citations": [cite()]},
        headers=bearer(key, **{"If-Match": response.headers["etag"]}),
    )
    _problem(invalid, 422, "active_parameters")
    missing = api.patch(
        path,
        json={"developer_id": "nobody-at-all", "citations": [cite()]},
        headers=bearer(key, **{"If-Match": response.headers["etag"]}),
    )
    _problem(missing, 422, "nobody-at-all")


def test_stale_if_match_is_412_and_changes_nothing(
    api: TestClient, key: str, engine: Engine
) -> None:
    path = "/v1/chips/huawei-ascend"
    stale = _etag(api, path)
    first = api.patch(
        path,
        json={"description": "First edit.", "citations": [cite(OTHER_QUOTE)]},
        headers=bearer(key, **{"If-Match": stale}),
    )
    assert first.status_code == 200, first.text
    count = len(_revisions(engine, "chip", "huawei-ascend"))
    second = api.patch(
        path,
        json={"description": "Second edit.", "citations": [cite(OTHER_QUOTE)]},
        headers=bearer(key, **{"If-Match": stale}),
    )
    _problem(second, 412, "changed")
    assert api.get(path).json()["description"] == "First edit."
    assert len(_revisions(engine, "chip", "huawei-ascend")) == count
    weak = api.patch(
        path,
        json={"description": "Weak.", "citations": [cite()]},
        headers=bearer(key, **{"If-Match": "W/" + first.headers["etag"]}),
    )
    assert weak.status_code == 412


def test_disputing_citation_marks_the_item_disputed(api: TestClient, key: str) -> None:
    path = "/v1/organizations/moonshot-ai"
    response = api.patch(
        path,
        json={"citations": [cite(OTHER_QUOTE, field="country", stance="dispute")]},
        headers=bearer(key, **{"If-Match": _etag(api, path)}),
    )
    assert response.status_code == 200, response.text
    item = response.json()
    assert item["disputed"] is True
    assert [c["stance"] for c in item["citations"] if c["stance"] == "dispute"] == ["dispute"]
    listed = api.get("/v1/organizations", params={"disputed": "true", "limit": 500}).json()
    assert "moonshot-ai" in [o["id"] for o in listed["data"]]


def test_concurrent_patches_have_exactly_one_winner(
    api: TestClient, key: str, engine: Engine
) -> None:
    path = "/v1/models/deepseek-r1"
    etag = _etag(api, path)
    before = len(_revisions(engine, "model", "deepseek-r1"))
    statuses: list[int] = []
    barrier = threading.Barrier(20)
    lock = threading.Lock()

    def edit(n: int) -> None:
        barrier.wait()
        response = api.patch(
            path,
            json={"license": f"License {n}", "citations": [cite(field="license")]},
            headers=bearer(key, **{"If-Match": etag}),
        )
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=edit, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(statuses) == {200: 1, 412: 19}
    revisions = _revisions(engine, "model", "deepseek-r1")
    assert len(revisions) == before + 1
    assert revisions[-1].diff["license"][1] == api.get(path).json()["license"]


# --- delete ---------------------------------------------------------------------------------


def test_delete_referenced_organization_is_409_listing_them(api: TestClient, key: str) -> None:
    path = "/v1/organizations/deepseek"
    response = api.delete(path, headers=bearer(key, **{"If-Match": _etag(api, path)}))
    _problem(response, 409, "deepseek-r1")
    assert api.get(path).status_code == 200


def test_delete_then_gone_with_history_link(api: TestClient, key: str, engine: Engine) -> None:
    created = api.post(
        "/v1/organizations",
        json={"name": "Short Lived", "kind": "other", "citations": [cite()]},
        headers=bearer(key),
    )
    assert created.status_code == 201
    path = "/v1/organizations/short-lived"
    _problem(api.delete(path, headers=bearer(key)), 428)
    _problem(api.delete(path, headers=bearer(key, **{"If-Match": '"stale"'})), 412)
    response = api.delete(
        path,
        headers=bearer(key, **{"If-Match": created.headers["etag"]}),
        params={"reason": "test"},
    )
    assert response.status_code == 204
    gone = api.get(path)
    _problem(gone, 410, "/v1/organizations/short-lived/history")
    assert gone.headers["link"] == '</v1/organizations/short-lived/history>; rel="history"'
    history = api.get(path + "/history").json()["data"]
    assert [r["action"] for r in history] == ["create", "delete"]
    assert history[-1]["reason"] == "test"
    search = api.get("/v1/search", params={"q": "short lived"}).json()
    assert all(hit.get("id") != "short-lived" for hit in search["data"])
    # Ids are never reused.
    again = api.post(
        "/v1/organizations",
        json={"name": "Short Lived", "kind": "other", "citations": [cite()]},
        headers=bearer(key),
    )
    _problem(again, 409)
    with Session(engine) as session:
        assert session.get(Document, DOC) is not None


def test_lax_numbers_are_refused_and_405_lists_every_method(api: TestClient, key: str) -> None:
    bad_offsets = api.post(
        "/v1/chips",
        json={"name": "Lax Chip", "citations": [cite(start=False, end=False)]},
        headers=bearer(key),
    )
    assert bad_offsets.status_code == 422
    bad_date = api.post(
        "/v1/documents",
        json={"title": "Lax", "language": "en", "text": "Lax text.", "published_on": 0},
        headers=bearer(key),
    )
    assert bad_date.status_code == 422
    assert api.options("/v1/chips").headers["allow"] == "GET, POST"
    assert api.put("/v1/chips/nvidia-h100").headers["allow"] == "DELETE, GET, PATCH"


# --- NUL characters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("/v1/chips", {"name": "Nul\x00Chip", "citations": [cite()]}, ["name"]),
        ("/v1/chips", {"name": "Nul Chip", "reason": "why\x00", "citations": [cite()]}, ["reason"]),
        ("/v1/models", {"name": "Nul Model", "aliases": ["a\x00"], "citations": [cite()]}, None),
        ("/v1/chips", {"name": "Nul Chip", "citations": [cite(note="n\x00")]}, None),
        (
            "/v1/chips",
            {"name": "Nul Chip", "citations": [{"document_id": "x\x00", "quote": "x"}]},
            None,
        ),
        ("/v1/documents", {"title": "Nul\x00", "language": "en", "text": "Some text."}, ["title"]),
        ("/v1/documents", {"title": "Nul", "language": "en", "text": "Some\x00 text."}, ["text"]),
    ],
)
def test_nul_characters_are_422_naming_where(
    api: TestClient, key: str, path: str, body: dict[str, Any], loc: list[Any] | None
) -> None:
    # PostgreSQL cannot store U+0000 in text: refused before any query, on both databases.
    response = api.post(path, json=body, headers=bearer(key))
    problem = _problem(response, 422, "NUL")
    if loc is not None:
        assert problem["errors"][0]["loc"] == loc


def test_nul_characters_in_patch_delete_and_ids(api: TestClient, key: str) -> None:
    path = "/v1/chips/nvidia-h100"
    etag = _etag(api, path)
    reason = api.patch(
        path,
        json={"description": "Changed.", "reason": "r\x00", "citations": [cite()]},
        headers=bearer(key, **{"If-Match": etag}),
    )
    assert _problem(reason, 422, "NUL")["errors"][0]["loc"] == ["reason"]
    value = api.patch(
        path,
        json={"description": "d\x00", "citations": [cite()]},
        headers=bearer(key, **{"If-Match": etag}),
    )
    assert _problem(value, 422, "NUL")["errors"][0]["loc"] == ["description"]
    removed = api.delete(
        path, params={"reason": "r\x00"}, headers=bearer(key, **{"If-Match": etag})
    )
    assert _problem(removed, 422, "NUL")["errors"][0]["loc"] == ["query", "reason"]
    assert _etag(api, path) == etag
    for bad in ("/v1/chips/a%00b/history", "/v1/chips/a%00b?as_of=2030-01-01T00:00:00Z"):
        _problem(api.get(bad), 404)
    _problem(api.get("/v1/organizations/a%00b/models?as_of=2030-01-01T00:00:00Z"), 404)
