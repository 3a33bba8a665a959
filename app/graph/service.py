"""The graph of organizations, models and chips, with a bounded number of queries.

Edges come from four queries (one per edge type), each restricted to the edges touching a
set of nodes. A neighbourhood (`around`, `depth`) is a breadth-first search that runs those
queries once per level, plus once more to close the last level, so a request makes at most
4 × (depth + 1) edge queries and 4 node queries (larger frontiers are split in batches of
`_BATCH` ids per query), whatever the number of nodes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, and_, literal, or_, select, union_all
from sqlmodel import Session

from app.errors import NotFound
from app.graph.schemas import EDGE_TYPES, NODE_TYPES
from app.models import AIModel, Chip, ChipSupport, Investment, InvestmentParticipant, Organization

Node = dict[str, Any]
Edge = dict[str, Any]
# node type -> ref ids
Frontier = dict[str, set[str]]

_BATCH = 2000


def _t(model: Any) -> Table:
    table: Table = model.__table__
    return table


ORG, MODEL, CHIP = _t(Organization), _t(AIModel), _t(Chip)
SUPPORT, INVESTMENT, PARTICIPANT = _t(ChipSupport), _t(Investment), _t(InvestmentParticipant)
_NODE_TABLES: dict[str, Table] = {
    "organization": ORG,
    "model": MODEL,
    "chip": CHIP,
    "investment": INVESTMENT,
}


@dataclass(frozen=True)
class GraphQuery:
    around: str | None = None
    depth: int = 1
    edge_types: frozenset[str] = frozenset(EDGE_TYPES)
    node_types: frozenset[str] = frozenset(NODE_TYPES)


def node_id(node_type: str, ref_id: str) -> str:
    return f"{node_type}:{ref_id}"


def _split(node: str) -> tuple[str, str]:
    node_type, _, ref_id = node.partition(":")
    return node_type, ref_id


def _any_in(pairs: Iterable[tuple[Any, Collection[str] | None]]) -> ColumnElement[bool] | None:
    """`col IN (...)` for each (column, ids) with ids, OR-ed; None when none applies."""
    conditions = [column.in_(sorted(ids)) for column, ids in pairs if ids]
    return or_(*conditions) if conditions else None


# Each edge query: (frontier or None for all) -> a select, or None when nothing can touch it.


def _develops(f: Frontier | None) -> Select[Any] | None:
    query = select(MODEL.c.id, MODEL.c.developer_id).where(MODEL.c.developer_id.is_not(None))
    if f is None:
        return query
    touching = _any_in(
        [(MODEL.c.developer_id, f.get("organization")), (MODEL.c.id, f.get("model"))]
    )
    return None if touching is None else query.where(touching)


def _parent_of(f: Frontier | None) -> Select[Any] | None:
    query = select(ORG.c.id, ORG.c.parent_id).where(ORG.c.parent_id.is_not(None))
    if f is None:
        return query
    orgs = f.get("organization")
    touching = _any_in([(ORG.c.id, orgs), (ORG.c.parent_id, orgs)])
    return None if touching is None else query.where(touching)


def _invests_in(f: Frontier | None) -> Select[Any] | None:
    query = select(
        PARTICIPANT.c.investment_id,
        PARTICIPANT.c.organization_id,
        PARTICIPANT.c.role,
        INVESTMENT.c.recipient_id,
        INVESTMENT.c.amount_usd_min,
        INVESTMENT.c.amount_usd_max,
    ).join(INVESTMENT, INVESTMENT.c.id == PARTICIPANT.c.investment_id)
    if f is None:
        return query
    orgs = f.get("organization")
    touching = _any_in(
        [
            (PARTICIPANT.c.organization_id, orgs),
            (INVESTMENT.c.recipient_id, orgs),
            (PARTICIPANT.c.investment_id, f.get("investment")),
        ]
    )
    return None if touching is None else query.where(touching)


def _supports(f: Frontier | None) -> Select[Any] | None:
    query = select(
        SUPPORT.c.id,
        SUPPORT.c.model_id,
        SUPPORT.c.chip_id,
        SUPPORT.c.vendor_id,
        SUPPORT.c.relation,
        SUPPORT.c.announced_on,
    ).where(or_(SUPPORT.c.chip_id.is_not(None), SUPPORT.c.vendor_id.is_not(None)))
    if f is None:
        return query
    conditions: list[ColumnElement[bool]] = []
    if f.get("model"):
        conditions.append(SUPPORT.c.model_id.in_(sorted(f["model"])))
    if f.get("chip"):
        conditions.append(SUPPORT.c.chip_id.in_(sorted(f["chip"])))
    if f.get("organization"):
        # A vendor is the source only of the relations that name no chip.
        vendor = SUPPORT.c.vendor_id.in_(sorted(f["organization"]))
        conditions.append(and_(SUPPORT.c.chip_id.is_(None), vendor))
    return query.where(or_(*conditions)) if conditions else None


def _edges_from(edge_type: str, row: Any) -> Edge:
    if edge_type == "develops":
        return {
            "id": f"develops:{row.id}",
            "type": "develops",
            "source": node_id("organization", row.developer_id),
            "target": node_id("model", row.id),
        }
    if edge_type == "parent_of":
        return {
            "id": f"parent_of:{row.id}",
            "type": "parent_of",
            "source": node_id("organization", row.parent_id),
            "target": node_id("organization", row.id),
        }
    if edge_type == "invests_in":
        target = (
            node_id("organization", row.recipient_id)
            if row.recipient_id is not None
            else node_id("investment", row.investment_id)
        )
        return {
            "id": f"invests_in:{row.investment_id}:{row.organization_id}",
            "type": "invests_in",
            "source": node_id("organization", row.organization_id),
            "target": target,
            "investment_id": row.investment_id,
            "role": row.role,
            "amount_usd_min": row.amount_usd_min,
            "amount_usd_max": row.amount_usd_max,
        }
    source = (
        node_id("chip", row.chip_id)
        if row.chip_id is not None
        else node_id("organization", row.vendor_id)
    )
    return {
        "id": f"supports:{row.id}",
        "type": "supports",
        "source": source,
        "target": node_id("model", row.model_id),
        "chip_support_id": row.id,
        "relation": row.relation,
        "announced_on": row.announced_on,
    }


_EDGE_QUERIES = {
    "develops": _develops,
    "parent_of": _parent_of,
    "invests_in": _invests_in,
    "supports": _supports,
}


def _batches(frontier: Frontier) -> Iterator[Frontier]:
    """The frontier in pieces of at most _BATCH ids per type (bounded IN lists)."""
    sorted_ids = {t: sorted(ids) for t, ids in frontier.items() if ids}
    longest = max((len(ids) for ids in sorted_ids.values()), default=0)
    for start in range(0, longest, _BATCH):
        yield {t: set(ids[start : start + _BATCH]) for t, ids in sorted_ids.items()}


def _fetch_edges(
    session: Session, edge_types: Collection[str], frontier: Frontier | None
) -> list[Edge]:
    edges: list[Edge] = []
    parts: list[Frontier | None] = [None] if frontier is None else list(_batches(frontier))
    for edge_type in EDGE_TYPES:
        if edge_type not in edge_types:
            continue
        for part in parts:
            query = _EDGE_QUERIES[edge_type](part)
            if query is not None:
                edges.extend(_edges_from(edge_type, row) for row in session.execute(query))
    return edges


def _nodes(session: Session, ids: Frontier, every: Collection[str] = ()) -> list[Node]:
    """The nodes with these ids, and every node of the types in `every`: a query per type."""
    nodes: list[Node] = []
    for node_type in NODE_TYPES:
        table = _NODE_TABLES[node_type]
        query = select(table.c.id, table.c.name)
        if node_type in every:
            parts: list[Select[Any]] = [query]
        else:
            wanted = sorted(ids.get(node_type, ()))
            parts = [
                query.where(table.c.id.in_(wanted[i : i + _BATCH]))
                for i in range(0, len(wanted), _BATCH)
            ]
        for part in parts:
            nodes.extend(
                {
                    "id": node_id(node_type, row.id),
                    "type": node_type,
                    "ref_id": row.id,
                    "label": row.name,
                }
                for row in session.execute(part)
            )
    return nodes


def _roots(session: Session, around: str) -> list[str]:
    """The node ids `around` names: `type:slug`, or a plain slug in any collection."""
    node_type, ref_id = _split(around) if ":" in around else ("", around)
    types = [node_type] if node_type else ["organization", "model", "chip"]
    selects = []
    for t in types:
        table = _NODE_TABLES[t]
        found = select(literal(t).label("type"), table.c.id).where(table.c.id == ref_id)
        if t == "investment":
            # An investment is a node only as the target of its participants, when it names
            # no recipient organization.
            found = found.where(
                table.c.recipient_id.is_(None),
                select(PARTICIPANT.c.investment_id)
                .where(PARTICIPANT.c.investment_id == table.c.id)
                .exists(),
            )
        selects.append(found)
    roots = [node_id(row.type, row.id) for row in session.execute(union_all(*selects))]
    if not roots:
        raise NotFound("node", around)
    return sorted(roots)


def _frontier(nodes: Iterable[str]) -> Frontier:
    frontier: Frontier = {}
    for node in nodes:
        node_type, ref_id = _split(node)
        frontier.setdefault(node_type, set()).add(ref_id)
    return frontier


def get_graph(*, session: Session, query: GraphQuery) -> dict[str, Any]:
    """Nodes and edges: the whole graph, or the neighbourhood of `around` to `depth` hops."""
    allowed = query.node_types
    if query.around is None:
        edges = [
            e
            for e in _fetch_edges(session, query.edge_types, None)
            if _split(e["source"])[0] in allowed and _split(e["target"])[0] in allowed
        ]
        # Investments are nodes only as the targets of edges.
        targets = _frontier(e["target"] for e in edges if e["target"].startswith("investment:"))
        every = allowed - {"investment"}
        nodes = _nodes(session, targets, every)
    else:
        visited = set(_roots(session, query.around))
        frontier = set(visited)
        found: dict[str, Edge] = {}
        for level in range(query.depth + 1):
            if not frontier:
                break
            reached: set[str] = set()
            for edge in _fetch_edges(session, query.edge_types, _frontier(frontier)):
                outside = {n for n in (edge["source"], edge["target"]) if n not in visited}
                # The last round only closes the graph: edges between nodes already reached.
                if outside and (
                    level == query.depth or any(_split(n)[0] not in allowed for n in outside)
                ):
                    continue
                found[edge["id"]] = edge
                reached |= outside
            visited |= reached
            frontier = reached
        edges = list(found.values())
        nodes = _nodes(session, _frontier(visited))
    nodes.sort(key=lambda n: str(n["id"]))
    edges.sort(key=lambda e: str(e["id"]))
    return {"nodes": nodes, "edges": edges}
