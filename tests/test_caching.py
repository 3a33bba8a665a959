"""Strong ETags on items and lists; 304 when the client already holds the representation."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize(
    "url",
    ["/v1/models/kimi-k2", "/v1/models?limit=2", "/v1/documents/kimi-k2-moonshot-ai"],
)
def test_if_none_match_gives_304(client: TestClient, url: str) -> None:
    first = client.get(url)
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    assert "must-revalidate" in first.headers["cache-control"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    weak = client.get(url, headers={"If-None-Match": f'"other", W/{etag}'})
    assert weak.status_code == 304


def test_a_stale_etag_gets_the_full_answer(client: TestClient) -> None:
    response = client.get("/v1/models/kimi-k2", headers={"If-None-Match": '"stale"'})
    assert response.status_code == 200
    assert response.json()["id"] == "kimi-k2"


def test_each_representation_has_its_own_etag(client: TestClient) -> None:
    plain = client.get("/v1/models/kimi-k2").headers["etag"]
    narrow = client.get("/v1/models/kimi-k2?fields=name").headers["etag"]
    assert plain != narrow
    assert client.get("/v1/models/kimi-k2").headers["etag"] == plain
