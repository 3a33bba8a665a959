"""GET /v1/stats: every figure checked against the lists it summarizes."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.config import Settings
from app.main import create_app
from tests.conftest import read_engines, statements_sent


def _all(client: TestClient, path: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/{path}?limit=500&include=citations")
    assert response.status_code == 200
    body = response.json()
    assert body["next_cursor"] is None
    data: list[dict[str, Any]] = body["data"]
    return data


def _stats(client: TestClient) -> dict[str, Any]:
    response = client.get("/v1/stats")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


def _null_last(value: Any) -> tuple[bool, Any]:
    return (value is None, value or "")


def _totals(investments: list[dict[str, Any]]) -> dict[str, int]:
    known = [i for i in investments if i["amount_usd_min"] is not None]
    return {
        "investments": len(investments),
        "with_amount": len(known),
        "amount_usd_min": sum(i["amount_usd_min"] for i in known),
        "amount_usd_max": sum(i["amount_usd_max"] for i in known),
    }


def test_counts_match_the_collections(client: TestClient) -> None:
    counts = _stats(client)["counts"]
    cited = 0
    for name, path in (
        ("organizations", "organizations"),
        ("models", "models"),
        ("chips", "chips"),
        ("chip_support", "chip-support"),
        ("investments", "investments"),
    ):
        items = _all(client, path)
        assert counts[name] == len(items), name
        cited += sum(len(item["citations"]) for item in items)
    assert counts["citations"] == cited
    assert counts["documents"] == len(_all(client, "documents")) == 5


def test_models_by_developer_country(client: TestClient) -> None:
    countries = {o["id"]: o["country"] for o in _all(client, "organizations")}
    tally = Counter(
        countries[m["developer_id"]] if m["developer_id"] else None for m in _all(client, "models")
    )
    expected = [
        {"country": country, "models": n}
        for country, n in sorted(tally.items(), key=lambda kv: (-kv[1], _null_last(kv[0])))
    ]
    assert _stats(client)["models_by_developer_country"] == expected
    assert None in tally  # the seed has a model whose developer has no country


def test_investment_totals_by_investor_country_count_each_investment_once(
    client: TestClient,
) -> None:
    countries = {o["id"]: o["country"] for o in _all(client, "organizations")}
    by_country: dict[str | None, dict[str, dict[str, Any]]] = defaultdict(dict)
    for investment in _all(client, "investments"):
        for investor in investment["investors"]:
            by_country[countries[investor["organization_id"]]][investment["id"]] = investment
    expected: list[dict[str, Any]] = [
        {"country": country, **_totals(list(investments.values()))}
        for country, investments in by_country.items()
    ]
    expected.sort(key=lambda row: (-row["amount_usd_max"], _null_last(row["country"])))
    assert _stats(client)["investments_by_investor_country"] == expected
    # Stargate has several US investors: it counts once for the US.
    us = next(row for row in expected if row["country"] == "US")
    assert us["investments"] == len(by_country["US"])


def test_investment_totals_by_year(client: TestClient) -> None:
    by_year: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    for investment in _all(client, "investments"):
        date = investment["announced_on"]
        by_year[int(date[:4]) if date else None].append(investment)
    expected = [
        {"year": year, **_totals(investments)}
        for year, investments in sorted(by_year.items(), key=lambda kv: _null_last(kv[0]))
    ]
    stats = _stats(client)["investments_by_year"]
    assert stats == expected
    assert any(row["year"] == 2025 for row in stats)


def test_largest_models(client: TestClient) -> None:
    models = [m for m in _all(client, "models") if m["parameters"] is not None]
    models.sort(key=lambda m: (-m["parameters"], m["id"]))
    assert _stats(client)["largest_models"] == [
        {
            "id": m["id"],
            "name": m["name"],
            "developer_id": m["developer_id"],
            "parameters": m["parameters"],
            "active_parameters": m["active_parameters"],
        }
        for m in models[:10]
    ]
    assert _stats(client)["largest_models"][0]["id"] == "kimi-k2"


def test_stats_take_five_queries(client: TestClient) -> None:
    engines = read_engines(client)
    with statements_sent(*engines) as statements:
        _stats(client)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 5, selects
    assert sum("GROUP BY" in s for s in selects) == 3


def test_an_empty_database_has_zero_counts_and_empty_lists(empty_engine: Engine) -> None:
    url = empty_engine.url.render_as_string(hide_password=False)
    with TestClient(create_app(Settings(database_url=url))) as empty:
        stats = _stats(empty)
    assert set(stats["counts"].values()) == {0}
    for key in (
        "models_by_developer_country",
        "investments_by_investor_country",
        "investments_by_year",
        "largest_models",
    ):
        assert stats[key] == []


def test_stats_are_documented_with_examples(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/v1/stats"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/Stats"}
    components = spec["components"]["schemas"]
    assert set(components["Stats"]["properties"]) == {
        "counts",
        "models_by_developer_country",
        "investments_by_investor_country",
        "investments_by_year",
        "largest_models",
    }
    assert "examples" in components["InvestmentsByCountry"]["properties"]["amount_usd_max"]
