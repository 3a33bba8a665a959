"""The graph as GraphML (http://graphml.graphdrawing.org/), readable by NetworkX, Gephi, yEd."""

from __future__ import annotations

import datetime as dt
from typing import Any
from xml.etree import ElementTree as ET

MEDIA_TYPE = "application/graphml+xml"
NAMESPACE = "http://graphml.graphdrawing.org/xmlns"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_SCHEMA = f"{NAMESPACE} http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd"

# (attribute, GraphML type); a key's id is its domain's initial and the attribute's name.
NODE_KEYS = (("type", "string"), ("ref_id", "string"), ("label", "string"))
EDGE_KEYS = (
    ("type", "string"),
    ("investment_id", "string"),
    ("role", "string"),
    ("amount_usd_min", "long"),
    ("amount_usd_max", "long"),
    ("chip_support_id", "string"),
    ("relation", "string"),
    ("announced_on", "string"),
)


def _text(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _data(element: ET.Element, prefix: str, keys: Any, item: dict[str, Any]) -> None:
    for name, _ in keys:
        value = item.get(name)
        if value is not None:  # GraphML leaves a missing value out
            ET.SubElement(element, "data", key=f"{prefix}_{name}").text = _text(value)


def to_graphml(graph: dict[str, Any]) -> bytes:
    root = ET.Element(
        "graphml",
        {"xmlns": NAMESPACE, "xmlns:xsi": _XSI, "xsi:schemaLocation": _SCHEMA},
    )
    for domain, prefix, keys in (("node", "n", NODE_KEYS), ("edge", "e", EDGE_KEYS)):
        for name, kind in keys:
            ET.SubElement(
                root,
                "key",
                {"id": f"{prefix}_{name}", "for": domain, "attr.name": name, "attr.type": kind},
            )
    body = ET.SubElement(root, "graph", id="aifacts", edgedefault="directed")
    for node in graph["nodes"]:
        _data(ET.SubElement(body, "node", id=node["id"]), "n", NODE_KEYS, node)
    for edge in graph["edges"]:
        element = ET.SubElement(
            body, "edge", id=edge["id"], source=edge["source"], target=edge["target"]
        )
        _data(element, "e", EDGE_KEYS, edge)
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"
