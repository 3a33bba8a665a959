"""CSV and NDJSON streams of a whole list, fetched chunk by chunk: every item once, in order."""

from __future__ import annotations

import csv
import io
import json

import pytest
from fastapi.testclient import TestClient

from app import streaming


@pytest.mark.parametrize("path", ["/v1/organizations", "/v1/models?sort=-parameters"])
def test_a_stream_of_many_chunks_holds_every_item_once_in_order(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    monkeypatch.setattr(streaming, "EXPORT_CHUNK", 2)  # many chunks from the seed's items
    separator = "&" if "?" in path else "?"
    expected = [item["id"] for item in client.get(f"{path}{separator}limit=500").json()["data"]]
    assert len(expected) > 4

    response = client.get(f"{path}{separator}format=csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["id"] for row in rows] == expected

    lines = client.get(f"{path}{separator}format=ndjson").text.splitlines()
    assert [json.loads(line)["id"] for line in lines] == expected
