from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app.api import INVALID, NOT_FOUND
from app.db import SessionDep
from app.graph.graphml import MEDIA_TYPE as GRAPHML
from app.graph.graphml import to_graphml
from app.graph.schemas import EDGE_TYPES, NODE_TYPES, Graph
from app.graph.service import GraphQuery, get_graph
from app.jsonutil import JSONResponse
from app.leanroute import LeanRoute

router = APIRouter(prefix="/v1/graph", tags=["graph"], route_class=LeanRoute)

GraphFormat = Literal["json", "graphml"]
_EDGE = "(?:" + "|".join(EDGE_TYPES) + ")"
_NODE = "(?:" + "|".join(NODE_TYPES) + ")"
EdgeTypeList = Annotated[
    str | None,
    Query(
        max_length=200,
        pattern=rf"^{_EDGE}(?:,{_EDGE})*$",
        description=f"Only these edge types, comma-separated: {', '.join(EDGE_TYPES)}.",
        examples=["develops,supports"],
    ),
]
NodeTypeList = Annotated[
    str | None,
    Query(
        max_length=200,
        pattern=rf"^{_NODE}(?:,{_NODE})*$",
        description=(
            f"Only these node types, comma-separated: {', '.join(NODE_TYPES)} (the `around`"
            " node stays)."
        ),
        examples=["organization,model"],
    ),
]


def _types(raw: str | None, every: tuple[str, ...]) -> frozenset[str]:
    return frozenset(raw.split(",")) if raw else frozenset(every)


_GRAPHML_EXAMPLE = """<?xml version='1.0' encoding='utf-8'?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns" ...>
  <key id="n_type" for="node" attr.name="type" attr.type="string" />
  ...
  <graph id="aifacts" edgedefault="directed">
    <node id="organization:deepseek">
      <data key="n_type">organization</data>
      <data key="n_ref_id">deepseek</data>
      <data key="n_label">DeepSeek</data>
    </node>
    ...
    <edge id="develops:deepseek-r1" source="organization:deepseek" target="model:deepseek-r1">
      <data key="e_type">develops</data>
    </edge>
  </graph>
</graphml>
"""


def _wants_graphml(request: Request, requested: GraphFormat | None) -> bool:
    """`format=` wins; else GraphML when Accept prefers it to JSON."""
    if requested is not None:
        return requested == "graphml"
    scores = {"application/json": 0.0, GRAPHML: 0.0}
    for position, part in enumerate(request.headers.get("accept", "").split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        if media.lower() not in scores:
            continue
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        # Earlier entries win ties, as clients list their preference first.
        scores[media.lower()] = max(scores[media.lower()], quality - position * 1e-6)
    return scores[GRAPHML] > scores["application/json"]


@router.get(
    "",
    response_model=Graph,
    responses={
        200: {
            "description": "The graph, as JSON or as GraphML.",
            "content": {GRAPHML: {"schema": {"type": "string"}, "example": _GRAPHML_EXAMPLE}},
        },
        **NOT_FOUND,
        **INVALID,
    },
)
def graph(
    request: Request,
    session: SessionDep,
    around: Annotated[
        str | None,
        Query(
            max_length=120,
            pattern=r"^(?:(?:organization|model|chip|investment):)?[a-z0-9][a-z0-9-]{0,99}$",
            description=(
                "Only the neighbourhood of this node: a node id (`organization:deepseek`) or a"
                " plain slug (`deepseek`: every organization, model or chip with that id)."
            ),
            examples=["organization:deepseek"],
        ),
    ] = None,
    depth: Annotated[
        int,
        Query(
            ge=1,
            le=3,
            description=(
                "With `around`: how many hops (1–3) to follow, over edges in either direction."
            ),
        ),
    ] = 1,
    types: EdgeTypeList = None,
    node_types: NodeTypeList = None,
    format: Annotated[
        GraphFormat | None,
        Query(description="`graphml` is the same as `Accept: application/graphml+xml`."),
    ] = None,
) -> Any:
    """Organizations, models and chips as nodes, with typed edges between them.

    Edges: `develops` (organization → model), `parent_of` (organization → organization),
    `invests_in` (each participant of an investment → its recipient organization, or → the
    investment itself when it names none; with `investment_id`, `role` and the amounts) and
    `supports` (chip → model, or vendor → model when the source names no chip; with
    `relation` and `announced_on`). `types` keeps only some edge types and `node_types` only
    some node types. JSON by default; GraphML with `format=graphml` or
    `Accept: application/graphml+xml`.
    """
    query = GraphQuery(
        around=around,
        depth=depth,
        edge_types=_types(types, EDGE_TYPES),
        node_types=_types(node_types, NODE_TYPES),
    )
    result = get_graph(session=session, query=query)
    response: Response = (
        Response(to_graphml(result), media_type=GRAPHML)
        if _wants_graphml(request, format)
        else JSONResponse(result)
    )
    # The representation depends on Accept: caches must key on it.
    response.headers["Vary"] = "Accept"
    return response
