"""GET /v1/graph: nodes and typed edges, neighbourhoods, GraphML, a bounded query count."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.config import Settings
from app.main import create_app
from tests.conftest import read_engines, statements_sent

GRAPHML = "{http://graphml.graphdrawing.org/xmlns}"
EDGE_TYPES = {"develops", "parent_of", "invests_in", "supports"}


def _get(client: TestClient, url: str) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _all(client: TestClient, path: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = _get(client, f"/v1/{path}?limit=500")["data"]
    return data


def _ids(graph: dict[str, Any]) -> set[str]:
    return {node["id"] for node in graph["nodes"]}


def test_the_whole_graph_has_every_item_and_every_relation(client: TestClient) -> None:
    graph = _get(client, "/v1/graph")
    organizations = _all(client, "organizations")
    models = _all(client, "models")
    chips = _all(client, "chips")
    support = _all(client, "chip-support")
    investments = _all(client, "investments")

    nodes = {n["id"]: n for n in graph["nodes"]}
    for kind, items in (("organization", organizations), ("model", models), ("chip", chips)):
        for item in items:
            assert nodes[f"{kind}:{item['id']}"] == {
                "id": f"{kind}:{item['id']}",
                "type": kind,
                "ref_id": item["id"],
                "label": item["name"],
            }
    edges = {e["id"]: e for e in graph["edges"]}
    assert [e["id"] for e in graph["edges"]] == sorted(edges)
    for edge in graph["edges"]:
        assert edge["type"] in EDGE_TYPES
        assert edge["source"] in nodes
        assert edge["target"] in nodes

    develops = {(e["source"], e["target"]) for e in edges.values() if e["type"] == "develops"}
    assert develops == {
        (f"organization:{m['developer_id']}", f"model:{m['id']}")
        for m in models
        if m["developer_id"]
    }
    parents = {(e["source"], e["target"]) for e in edges.values() if e["type"] == "parent_of"}
    assert parents == {
        (f"organization:{o['parent_id']}", f"organization:{o['id']}")
        for o in organizations
        if o["parent_id"]
    }
    for investment in investments:
        for investor in investment["investors"]:
            edge = edges[f"invests_in:{investment['id']}:{investor['organization_id']}"]
            target = (
                f"organization:{investment['recipient_id']}"
                if investment["recipient_id"]
                else f"investment:{investment['id']}"
            )
            assert edge == {
                "id": f"invests_in:{investment['id']}:{investor['organization_id']}",
                "type": "invests_in",
                "source": f"organization:{investor['organization_id']}",
                "target": target,
                "investment_id": investment["id"],
                "role": investor["role"],
                "amount_usd_min": investment["amount_usd_min"],
                "amount_usd_max": investment["amount_usd_max"],
            }
            if not investment["recipient_id"]:
                assert nodes[target]["label"] == investment["name"]
    for relation in support:
        source = (
            f"chip:{relation['chip_id']}"
            if relation["chip_id"]
            else f"organization:{relation['vendor_id']}"
            if relation["vendor_id"]
            else None
        )
        if source is None:
            assert f"supports:{relation['id']}" not in edges
            continue
        assert edges[f"supports:{relation['id']}"] == {
            "id": f"supports:{relation['id']}",
            "type": "supports",
            "source": source,
            "target": f"model:{relation['model_id']}",
            "chip_support_id": relation["id"],
            "relation": relation["relation"],
            "announced_on": relation["announced_on"],
        }


def _neighbourhood(graph: dict[str, Any], root: str, depth: int) -> set[str]:
    """Breadth-first search over the whole graph's edges, in both directions."""
    reached, frontier = {root}, {root}
    for _ in range(depth):
        frontier = {
            other
            for edge in graph["edges"]
            for end, other in ((edge["source"], edge["target"]), (edge["target"], edge["source"]))
            if end in frontier and other not in reached
        }
        reached |= frontier
    return reached


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize(
    "root", ["organization:deepseek", "model:deepseek-r1", "organization:openai"]
)
def test_around_is_the_induced_neighbourhood_to_depth(
    client: TestClient, root: str, depth: int
) -> None:
    whole = _get(client, "/v1/graph")
    graph = _get(client, f"/v1/graph?around={root}&depth={depth}")
    expected = _neighbourhood(whole, root, depth)
    assert _ids(graph) == expected
    assert graph["edges"] == [
        e for e in whole["edges"] if e["source"] in expected and e["target"] in expected
    ]


def test_around_takes_a_plain_slug_and_depth_defaults_to_one(client: TestClient) -> None:
    typed = _get(client, "/v1/graph?around=organization:deepseek&depth=1")
    assert _get(client, "/v1/graph?around=deepseek") == typed
    assert {"organization:deepseek", "organization:astra-quant", "model:deepseek-r1"} <= _ids(typed)
    deeper = _get(client, "/v1/graph?around=deepseek&depth=2")
    assert {"chip:huawei-ascend", "chip:nvidia-h100"} <= _ids(deeper)
    assert _ids(typed) < _ids(deeper)


def test_types_and_node_types_filter_the_graph(client: TestClient) -> None:
    develops = _get(client, "/v1/graph?types=develops")
    assert {e["type"] for e in develops["edges"]} == {"develops"}
    # Without `around`, every organization, model and chip is a node whatever the edge types
    # (investments are nodes only as the targets of invests_in edges).
    items = {n for n in _ids(_get(client, "/v1/graph")) if not n.startswith("investment:")}
    assert _ids(develops) == items

    two = _get(client, "/v1/graph?types=develops,supports&around=deepseek-r1&depth=2")
    assert {e["type"] for e in two["edges"]} == {"develops", "supports"}
    assert "organization:astra-quant" not in _ids(two)  # only reachable by parent_of

    models_and_orgs = _get(client, "/v1/graph?node_types=organization,model")
    assert {n["type"] for n in models_and_orgs["nodes"]} == {"organization", "model"}
    kept = _ids(models_and_orgs)
    assert all(e["source"] in kept and e["target"] in kept for e in models_and_orgs["edges"])
    assert {e["type"] for e in models_and_orgs["edges"]} == {"develops", "parent_of", "invests_in"}

    around = _get(client, "/v1/graph?around=deepseek-r1&depth=3&node_types=model,chip")
    assert _ids(around) == {"model:deepseek-r1", "chip:huawei-ascend", "chip:nvidia-h100"}


def test_an_investment_without_recipient_is_a_node(client: TestClient) -> None:
    graph = _get(client, "/v1/graph?around=investment:stargate-500b")
    assert "investment:stargate-500b" in _ids(graph)
    assert {e["investment_id"] for e in graph["edges"]} == {"stargate-500b"}
    # An investment with a recipient is an edge to it, not a node.
    response = client.get("/v1/graph?around=investment:microsoft-openai-stake")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("around=nope", 404),
        ("around=chip:deepseek", 404),
        ("around=Not%20A%20Slug", 422),
        ("around=team:openai", 422),
        ("around=deepseek&depth=0", 422),
        ("around=deepseek&depth=4", 422),
        ("depth=abc", 422),
        ("types=owns", 422),
        ("node_types=person", 422),
        ("format=svg", 422),
    ],
)
def test_bad_parameters_are_problems(client: TestClient, query: str, status: int) -> None:
    response = client.get(f"/v1/graph?{query}")
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    if status == 404:
        assert body["detail"] == f"No node has id {query.removeprefix('around=')!r}."


def test_queries_are_bounded_whatever_the_graph(client: TestClient) -> None:
    engines = read_engines(client)
    for url, limit in (
        ("/v1/graph", 8),
        ("/v1/graph?around=openai&depth=1", 1 + 4 * 2 + 4),
        ("/v1/graph?around=openai&depth=3", 1 + 4 * 4 + 4),
    ):
        with statements_sent(*engines) as statements:
            _get(client, url)
        selects = [s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]
        assert len(selects) <= limit, (url, selects)


def _parse_graphml(body: bytes) -> dict[str, Any]:
    """Check the GraphML structure and read it back as {"nodes": [...], "edges": [...]}."""
    root = ET.fromstring(body)
    assert root.tag == f"{GRAPHML}graphml"
    keys: dict[str, tuple[str | None, str | None, str | None]] = {}
    for key in root.findall(f"{GRAPHML}key"):
        assert key.get("for") in ("node", "edge")
        assert key.get("attr.type") in ("string", "long")
        keys[str(key.get("id"))] = (key.get("for"), key.get("attr.name"), key.get("attr.type"))
    graphs = root.findall(f"{GRAPHML}graph")
    assert len(graphs) == 1
    assert graphs[0].get("edgedefault") == "directed"

    def attributes(element: ET.Element, domain: str) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for data in element.findall(f"{GRAPHML}data"):
            key_domain, name, kind = keys[str(data.get("key"))]
            assert key_domain == domain
            values[str(name)] = int(data.text or "") if kind == "long" else data.text
        return values

    nodes = [
        {"id": n.get("id"), **attributes(n, "node")} for n in graphs[0].findall(f"{GRAPHML}node")
    ]
    edges = [
        {
            "id": e.get("id"),
            "source": e.get("source"),
            "target": e.get("target"),
            **attributes(e, "edge"),
        }
        for e in graphs[0].findall(f"{GRAPHML}edge")
    ]
    return {"nodes": nodes, "edges": edges}


def _without_nulls(graph: dict[str, Any]) -> dict[str, Any]:
    return {
        part: [{k: v for k, v in item.items() if v is not None} for item in graph[part]]
        for part in ("nodes", "edges")
    }


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ("format=graphml", {}),
        ("", {"Accept": "application/graphml+xml"}),
        ("", {"Accept": "application/json;q=0.5, application/graphml+xml"}),
        ("around=openai&depth=2&format=graphml", {"Accept": "application/json"}),
    ],
)
def test_graphml_holds_the_same_graph(
    client: TestClient, query: str, headers: dict[str, str]
) -> None:
    response = client.get(f"/v1/graph?{query}", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/graphml+xml"
    assert "Accept" in [v.strip() for v in response.headers["vary"].split(",")]
    as_json = _get(client, f"/v1/graph?{query.replace('format=graphml', 'format=json')}")
    assert _parse_graphml(response.content) == _without_nulls(as_json)


def test_json_stays_the_default(client: TestClient) -> None:
    for headers in ({}, {"Accept": "*/*"}, {"Accept": "application/json, application/graphml+xml"}):
        response = client.get("/v1/graph", headers=headers)
        assert response.headers["content-type"] == "application/json"


@pytest.mark.skipif(importlib.util.find_spec("networkx") is None, reason="networkx not installed")
def test_networkx_reads_the_graphml(client: TestClient, tmp_path: Path) -> None:
    import networkx  # type: ignore[import-untyped, import-not-found, unused-ignore]

    path = tmp_path / "graph.graphml"
    path.write_bytes(client.get("/v1/graph?format=graphml").content)
    graph = networkx.read_graphml(path)
    as_json = _get(client, "/v1/graph")
    assert set(graph.nodes) == _ids(as_json)
    assert graph.number_of_edges() == len(as_json["edges"])
    assert graph.nodes["model:deepseek-r1"]["label"] == "DeepSeek R1"


def test_the_graph_is_documented_as_json_and_graphml(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/v1/graph"]["get"]
    content = operation["responses"]["200"]["content"]
    assert set(content) == {"application/json", "application/graphml+xml"}
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/Graph"}
    assert set(operation["responses"]) >= {"200", "404", "422"}


def test_an_empty_database_has_an_empty_graph(empty_engine: Engine) -> None:
    url = empty_engine.url.render_as_string(hide_password=False)
    with TestClient(create_app(Settings(database_url=url))) as empty:
        assert _get(empty, "/v1/graph") == {"nodes": [], "edges": []}
        assert empty.get("/v1/graph?around=deepseek").status_code == 404
        graphml = _parse_graphml(empty.get("/v1/graph?format=graphml").content)
        assert graphml == {"nodes": [], "edges": []}
