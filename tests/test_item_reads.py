"""A single item and its citations: one statement (one round trip), the same citations as
its list shows."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import read_engines, statements_sent

COLLECTIONS = ("models", "organizations", "chips", "chip-support", "investments")
# An investment's investors are a list of their own: one more statement.
STATEMENTS = {"investments": 2}


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_an_item_and_its_citations_take_one_statement(
    uncached: TestClient, collection: str
) -> None:
    client = uncached  # a cached answer would send no statement at all
    engines = read_engines(client)
    listed = client.get(f"/v1/{collection}", params={"include": "citations", "limit": 100})
    assert listed.status_code == 200
    items = listed.json()["data"]
    assert any(item["citations"] for item in items)
    for item in items:
        with statements_sent(*engines) as seen:
            response = client.get(f"/v1/{collection}/{item['id']}")
        assert response.status_code == 200
        assert len(seen) == STATEMENTS.get(collection, 1), seen
        assert response.json()["citations"] == item["citations"]


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_a_missing_item_is_404_whatever_its_id(client: TestClient, collection: str) -> None:
    for item_id in ("no-such-item", "NOT A SLUG"):
        response = client.get(f"/v1/{collection}/{item_id}")
        assert response.status_code == 404, (item_id, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
