"""History: every write is a revision (the seed is the first of everything); a value changed
three times can be read as it was before each change through as_of; the changes feed lists
every write in order; a second unchanged seed run records nothing."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from app.history.service import ENTITY_PATHS, in_key_order
from app.seeding.loader import load_seed, read_seed
from tests.curation_support import (
    OTHER_QUOTE,
    QUOTE,
    bearer,
    cite,
    just_before,
    new_key,
)


def test_three_changes_each_readable_through_as_of(api: TestClient, engine: Engine) -> None:
    key = new_key(engine, "historian", ["write"])
    path = "/v1/models/k2-think"
    original = api.get(path).json()
    values = ["License A", "License B", "License C"]
    quotes = [QUOTE, OTHER_QUOTE, QUOTE]
    for value, quote in zip(values, quotes, strict=True):
        etag = api.get(path).headers["etag"]
        response = api.patch(
            path,
            json={"license": value, "citations": [cite(quote, field="license")], "reason": value},
            headers=bearer(key, **{"If-Match": etag}),
        )
        assert response.status_code == 200, response.text
    history = api.get(path + "/history").json()["data"]
    assert history[0]["actor"] == "seed"
    assert history[0]["action"] == "create"
    changes = history[-3:]
    assert [r["action"] for r in changes] == ["update"] * 3
    assert [r["actor"] for r in changes] == ["historian"] * 3
    assert [r["reason"] for r in changes] == values
    olds = [original["license"], *values[:2]]
    assert [r["diff"] for r in changes] == [
        {"license": [old, new]} for old, new in zip(olds, values, strict=True)
    ]
    assert [r["citations"][0]["quote"] for r in changes] == quotes
    assert all(r["citations"][0]["field"] == "license" for r in changes)
    assert [r["revision"] for r in history] == list(range(1, len(history) + 1))
    for revision, old in zip(changes, olds, strict=True):
        then = api.get(path, params={"as_of": just_before(revision["recorded_at"])})
        assert then.status_code == 200, then.text
        assert then.json()["license"] == old
        at = api.get(path, params={"as_of": revision["recorded_at"]}).json()
        assert at["license"] == revision["diff"]["license"][1]
    assert api.get(path, params={"as_of": "2000-01-01T00:00:00Z"}).status_code == 404
    assert api.get(path, params={"as_of": "2026-13-01T00:00:00Z"}).status_code == 422
    # fields= and include= apply to the recorded state (a single item keeps its citations).
    trimmed = api.get(
        path, params={"as_of": just_before(changes[0]["recorded_at"]), "fields": "license"}
    )
    assert trimmed.status_code == 200, trimmed.text
    assert set(trimmed.json()) == {"id", "license", "citations"}
    assert trimmed.json()["license"] == original["license"]


def test_as_of_after_a_delete_is_410(api: TestClient, engine: Engine) -> None:
    key = new_key(engine, "deleter", ["write"])
    created = api.post(
        "/v1/chips", json={"name": "Ephemeral Chip", "citations": [cite()]}, headers=bearer(key)
    )
    assert created.status_code == 201
    path = "/v1/chips/ephemeral-chip"
    deleted = api.delete(path, headers=bearer(key, **{"If-Match": created.headers["etag"]}))
    assert deleted.status_code == 204
    history = api.get(path + "/history").json()["data"]
    create_at, delete_at = history[0]["recorded_at"], history[1]["recorded_at"]
    assert api.get(path, params={"as_of": create_at}).json()["name"] == "Ephemeral Chip"
    assert api.get(path, params={"as_of": delete_at}).status_code == 410
    assert api.get(path, params={"as_of": just_before(create_at)}).status_code == 404


def test_changes_feed_follows_every_write_in_order(api: TestClient, engine: Engine) -> None:
    first = api.get("/v1/changes", params={"limit": 5}).json()
    assert len(first["data"]) == 5
    assert first["next_cursor"] == first["cursor"] == first["data"][-1]["cursor"]
    assert first["data"][0]["actor"] in ("seed", "migration")
    seen: list[int] = []
    cursor = "0"
    while True:
        page = api.get("/v1/changes", params={"since": cursor, "limit": 1000}).json()
        seen.extend(int(c["cursor"]) for c in page["data"])
        cursor = page["cursor"]
        if page["next_cursor"] is None:
            break
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen))
    key = new_key(engine, "feeder", ["write"])
    created = api.post(
        "/v1/organizations",
        json={"name": "Feed Test Org", "kind": "other", "citations": [cite()]},
        headers=bearer(key),
    )
    assert created.status_code == 201
    latest = api.get("/v1/changes", params={"since": cursor}).json()["data"]
    assert [(c["collection"], c["id"], c["action"]) for c in latest] == [
        ("organizations", "feed-test-org", "create")
    ]
    assert latest[0]["state"] == created.json()


def test_unchanged_seed_run_records_nothing(api: TestClient, engine: Engine) -> None:
    before = api.get("/v1/changes", params={"since": "0", "limit": 1000}).json()
    with Session(engine) as session:
        load_seed(session, read_seed())
        session.commit()
    after = api.get("/v1/changes", params={"since": "0", "limit": 1000}).json()
    # The seed puts back what curators changed (recorded as seed revisions), nothing else.
    new = after["data"][len(before["data"]) :]
    assert all(c["actor"] == "seed" for c in new)
    with Session(engine) as session:
        load_seed(session, read_seed())
        session.commit()
    again = api.get("/v1/changes", params={"since": "0", "limit": 1000}).json()
    assert len(again["data"]) == len(after["data"])


def _reversed(value: Any) -> Any:
    """The value with every object's keys in reverse order."""
    if isinstance(value, list):
        return [_reversed(v) for v in value]
    if isinstance(value, dict):
        return {k: _reversed(value[k]) for k in reversed(value)}
    return value


def test_recorded_states_keep_the_order_of_their_keys(client: TestClient) -> None:
    """PostgreSQL's jsonb keeps an object's keys in an order of its own: a state is read back
    in the order of the item's representation (a CSV's columns, an ETag follow it), which the
    schemas document and `in_key_order` restores from any order."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    cursor = "0"
    while True:
        page = client.get("/v1/changes", params={"since": cursor, "limit": 1000}).json()
        latest.update({(c["collection"], c["id"]): c for c in page["data"]})
        cursor = page["cursor"]
        if page["next_cursor"] is None:
            break
    states = [c for c in latest.values() if c["state"] is not None]
    assert {c["entity_type"] for c in states} == set(ENTITY_PATHS)
    for change in states:
        state = change["state"]
        if change["entity_type"] != "document":  # a document's page has its text besides
            current = client.get(f"/v1/{change['collection']}/{change['id']}")
            assert json.dumps(state) == json.dumps(current.json()), change["id"]
            as_of = client.get(current.url, params={"as_of": "2999-01-01T00:00:00Z"})
            assert as_of.content == current.content, change["id"]
        restored = in_key_order(change["entity_type"], _reversed(state))
        assert json.dumps(restored) == json.dumps(state), change["id"]
