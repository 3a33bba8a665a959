"""Single items, their citations and provenance, the source documents, and the operational
endpoints (/healthz, /readyz, /openapi.json, /docs, /redoc)."""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import urljoin

import pytest
from fastapi.testclient import TestClient

from tests.test_lists import (
    CITATION_FIELDS,
    CONTRACT_FIELDS,
    FACT_COLLECTIONS,
    document_file_text,
    get_ok,
    list_all,
    seed_fact,
    seed_facts,
    seed_fields,
    seed_ids,
)

EVERY_FACT = [
    pytest.param(path, fact["id"], id=f"{path.removeprefix('/v1/')}/{fact['id']}")
    for path in FACT_COLLECTIONS
    for fact in seed_facts(path)
]


# --- single items --------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "fact_id"), EVERY_FACT)
def test_single_item_equals_the_seed_with_its_citations(
    client: TestClient, path: str, fact_id: str
) -> None:
    response = client.get(f"{path}/{fact_id}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    item = response.json()
    fact = seed_fact(path, fact_id)
    assert item["id"] == fact_id
    assert CONTRACT_FIELDS[path] <= set(item)
    for field, value in seed_fields(fact).items():
        assert item[field] == value, field
    # Citations come on single items without asking, as curated.
    citations = item["citations"]
    assert len(citations) == len(fact["citations"]) > 0
    for citation, seeded in zip(citations, fact["citations"], strict=True):
        assert set(citation) >= CITATION_FIELDS
        assert {k: citation[k] for k in seeded} == seeded


@pytest.mark.parametrize("path", list(FACT_COLLECTIONS))
def test_single_item_equals_its_list_entry(client: TestClient, path: str) -> None:
    for listed in list_all(client, path):
        single = get_ok(client, f"{path}/{listed['id']}")
        assert {k: v for k, v in single.items() if k != "citations"} == listed


def test_deepseek_r1(client: TestClient) -> None:
    model = get_ok(client, "/v1/models/deepseek-r1")
    assert model["name"] == "DeepSeek R1"
    assert model["developer_id"] == "deepseek"
    assert model["parameters"] == 671_000_000_000
    assert isinstance(model["parameters"], int)
    assert model["active_parameters"] is None
    assert model["open_weights"] is True
    assert model["reasoning"] is True
    assert "Deepthink R1" in model["aliases"]
    assert any(c["field"] == "parameters" for c in model["citations"])


def test_kimi_k2_and_k2_think(client: TestClient) -> None:
    kimi = get_ok(client, "/v1/models/kimi-k2")
    assert kimi["parameters"] == 1_000_000_000_000
    assert kimi["developer_id"] == "moonshot-ai"
    k2 = get_ok(client, "/v1/models/k2-think")
    assert k2["parameters"] == 32_000_000_000
    assert k2["developer_id"] == "mbzuai"


def test_organizations_in_numbers(client: TestClient) -> None:
    deepseek = get_ok(client, "/v1/organizations/deepseek")
    assert (deepseek["kind"], deepseek["country"], deepseek["city"]) == ("lab", "CN", "Hangzhou")
    assert deepseek["parent_id"] == "astra-quant"
    abu_dhabi = get_ok(client, "/v1/organizations/abu-dhabi")
    assert abu_dhabi["country"] == "AE"
    assert {"Abou Dhabi", "Abou Dabi"} <= set(abu_dhabi["aliases"])
    assert get_ok(client, "/v1/organizations/mbzuai")["kind"] == "university"
    # No document gives Oracle's country: null, not a guess.
    assert get_ok(client, "/v1/organizations/oracle")["country"] is None


def test_investments_in_numbers(client: TestClient) -> None:
    stargate = get_ok(client, "/v1/investments/stargate-500b")
    assert stargate["amount_usd_min"] == stargate["amount_usd_max"] == 500_000_000_000
    assert stargate["announced_on"] == "2025-01-21"
    assert stargate["amount_text"] == "demi-billion de dollars"
    assert {i["organization_id"] for i in stargate["investors"]} == {
        "stargate",
        "openai",
        "oracle",
        "softbank",
        "mgx",
    }
    meta = get_ok(client, "/v1/investments/meta-ai-2025")
    assert (meta["amount_usd_min"], meta["amount_usd_max"]) == (60_000_000_000, 65_000_000_000)
    ambani = get_ok(client, "/v1/investments/ambani-ai-data-centre")
    assert ambani["amount_usd_min"] is None
    assert ambani["amount_usd_max"] is None
    budget = get_ok(client, "/v1/investments/deepseek-annual-budget")
    assert budget["recipient_id"] == "deepseek"
    assert budget["investors"] == []


def test_chip_support_in_numbers(client: TestClient) -> None:
    ascend = get_ok(client, "/v1/chip-support/deepseek-r1-huawei-ascend")
    assert (ascend["model_id"], ascend["chip_id"], ascend["vendor_id"]) == (
        "deepseek-r1",
        "huawei-ascend",
        "huawei",
    )
    assert ascend["relation"] == "inference_support"
    assert ascend["announced_on"] == "2025-02-01"
    # A source naming chipmakers but no chip: chip_id null.
    vague = get_ok(client, "/v1/chip-support/deepseek-r1-chinese-chipmakers")
    assert vague["chip_id"] is None
    assert vague["relation"] == "compatible"
    assert get_ok(client, "/v1/chips/nvidia-h100")["vendor_id"] == "nvidia"


# --- provenance ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", list(FACT_COLLECTIONS))
def test_every_quote_is_the_cited_slice_of_its_document(client: TestClient, path: str) -> None:
    documents: dict[str, str] = {}
    checked = 0
    for listed in list_all(client, path):
        item = get_ok(client, f"{path}/{listed['id']}")
        assert item["citations"], f"{path}/{item['id']} has no citation"
        for citation in item["citations"]:
            document_id = citation["document_id"]
            if document_id not in documents:
                documents[document_id] = get_ok(client, f"/v1/documents/{document_id}")["text"]
            text = documents[document_id]
            start, end = citation["start"], citation["end"]
            assert isinstance(start, int)
            assert isinstance(end, int)
            assert 0 <= start < end <= len(text)
            assert text[start:end] == citation["quote"], f"{path}/{item['id']}: {citation}"
            checked += 1
    seeded = sum(len(f["citations"]) for f in seed_facts(path))
    assert checked == seeded


def test_listed_citations_point_into_served_texts_too(client: TestClient) -> None:
    texts = {
        d["id"]: get_ok(client, f"/v1/documents/{d['id']}")["text"]
        for d in list_all(client, "/v1/documents")
    }
    for path in FACT_COLLECTIONS:
        for item in list_all(client, path, {"include": "citations"}):
            for citation in item["citations"]:
                text = texts[citation["document_id"]]
                assert text[citation["start"] : citation["end"]] == citation["quote"]


def test_citations_cite_known_fields(client: TestClient) -> None:
    for path in FACT_COLLECTIONS:
        for item in list_all(client, path, {"include": "citations"}):
            for citation in item["citations"]:
                assert citation["field"] is None or citation["field"] in item, citation


# --- documents -----------------------------------------------------------------------------

DOCUMENT_IDS = seed_ids("/v1/documents")
MOJIBAKE_DOCUMENT = "deepseek-astra-quant-recap"


@pytest.mark.parametrize("document_id", DOCUMENT_IDS)
def test_document_serves_its_text_and_the_hash_of_it(client: TestClient, document_id: str) -> None:
    document = get_ok(client, f"/v1/documents/{document_id}")
    for field, value in seed_fields(seed_fact("/v1/documents", document_id)).items():
        assert document[field] == value, field
    text = document["text"]
    assert isinstance(text, str)
    assert text
    assert document["sha256"] == hashlib.sha256(text.encode("utf-8")).hexdigest()
    listed = {d["id"]: d for d in list_all(client, "/v1/documents")}[document_id]
    assert listed["sha256"] == document["sha256"]
    # The file as received is kept when repair changed it; else the text is the file itself.
    source = document_file_text(document_id)
    if document["original_text"] is None:
        assert text == source
    else:
        assert document["original_text"] == source
        assert text != source


def test_mojibake_document_serves_the_repaired_text(client: TestClient) -> None:
    document = get_ok(client, f"/v1/documents/{MOJIBAKE_DOCUMENT}")
    assert "spécialisée" in document["text"]
    assert "spĂ©cialisĂ©e" not in document["text"]
    assert "Ă©" not in document["text"]
    assert document["text"].startswith("DeepSeek, une division secondaire")
    original = document["original_text"]
    assert original == document_file_text(MOJIBAKE_DOCUMENT)
    assert "spĂ©cialisĂ©e" in original
    assert document["sha256"] == hashlib.sha256(document["text"].encode()).hexdigest()
    assert document["sha256"] != hashlib.sha256(original.encode()).hexdigest()


def test_only_the_mojibake_document_needed_repair(client: TestClient) -> None:
    repaired = [
        d for d in DOCUMENT_IDS if get_ok(client, f"/v1/documents/{d}")["original_text"] is not None
    ]
    assert repaired == [MOJIBAKE_DOCUMENT]


def test_documents_in_numbers(client: TestClient) -> None:
    kimi = get_ok(client, "/v1/documents/kimi-k2-moonshot-ai")
    assert kimi["language"] == "it"
    assert "Moonshot AI" in kimi["text"]
    cgtn = get_ok(client, "/v1/documents/cgtn-deepseek-cost-of-ai")
    assert cgtn["publisher"] == "CGTN"
    assert cgtn["language"] == "fr"


# --- operations and documentation ----------------------------------------------------------

CONTRACT_PATHS = [
    "/v1/organizations",
    "/v1/organizations/{id}",
    "/v1/organizations/{id}/models",
    "/v1/organizations/{id}/investments",
    "/v1/models",
    "/v1/models/{id}",
    "/v1/models/{id}/chip-support",
    "/v1/chips",
    "/v1/chips/{id}",
    "/v1/chip-support",
    "/v1/chip-support/{id}",
    "/v1/investments",
    "/v1/investments/{id}",
    "/v1/documents",
    "/v1/documents/{id}",
    "/healthz",
    "/readyz",
]
CONTRACT_FILTERS = {
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


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")


def test_readyz(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")


def _openapi(client: TestClient) -> dict[str, Any]:
    document: dict[str, Any] = get_ok(client, "/openapi.json")
    return document


def test_openapi_has_every_contract_path(client: TestClient) -> None:
    paths = _openapi(client)["paths"]
    missing = [p for p in CONTRACT_PATHS if p not in paths or "get" not in paths[p]]
    assert not missing


@pytest.mark.parametrize("path", list(CONTRACT_FILTERS))
def test_openapi_lists_the_page_parameters_and_contract_filters(
    client: TestClient, path: str
) -> None:
    operation = _openapi(client)["paths"][path]["get"]
    names = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
    wanted = {"limit", "cursor", "sort", *CONTRACT_FILTERS[path]}
    assert wanted <= names, wanted - names


def test_openapi_declares_errors_as_problem_json(client: TestClient) -> None:
    for path, item in _openapi(client)["paths"].items():
        for method, operation in item.items():
            for code, response in operation.get("responses", {}).items():
                if code.startswith(("4", "5")):
                    assert "application/problem+json" in response.get("content", {}), (
                        f"{method.upper()} {path} {code}"
                    )


_ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_work_offline(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert not re.search(r"https?://", html), "a page that loads from the network"
    assets = _ASSET.findall(html)
    scripts = [a for a in assets if a.endswith(".js")]
    styles = [a for a in assets if a.endswith(".css")]
    assert scripts, "no script to render the documentation"
    if page == "/docs":
        assert styles, "Swagger UI needs its stylesheet"
    for asset in assets:
        assert not asset.startswith("//"), asset
        fetched = client.get(urljoin(page, asset))
        assert fetched.status_code == 200, asset
        assert fetched.content, asset
    # The page reads the API description from the app itself.
    assert "/openapi.json" in html


def test_docs_assets_are_served_as_what_they_are(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        for asset in _ASSET.findall(client.get(page).text):
            response = client.get(urljoin(page, asset))
            content_type = response.headers["content-type"]
            if asset.endswith(".js"):
                assert "javascript" in content_type, asset
            elif asset.endswith(".css"):
                assert content_type.startswith("text/css"), asset
