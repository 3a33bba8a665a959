from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.chip_support.schemas import Relation
from app.investments.schemas import InvestorRole

NodeType = Literal["organization", "model", "chip", "investment"]
EdgeType = Literal["develops", "parent_of", "invests_in", "supports"]
NODE_TYPES: tuple[NodeType, ...] = ("organization", "model", "chip", "investment")
EDGE_TYPES: tuple[EdgeType, ...] = ("develops", "parent_of", "invests_in", "supports")


class GraphNode(BaseModel):
    id: str = Field(description="`<type>:<ref_id>`.", examples=["organization:deepseek"])
    type: NodeType = Field(
        description=(
            "`organization`, `model` or `chip`; `investment` for the target of an investment"
            " that names no recipient organization."
        )
    )
    ref_id: str = Field(
        description="The item's id in its collection (/v1/organizations/{ref_id}, …).",
        examples=["deepseek"],
    )
    label: str = Field(description="The item's name.", examples=["DeepSeek"])


class _Edge(BaseModel):
    id: str = Field(description="Stable and unique within the graph.")
    source: str = Field(description="The id of the node the edge starts from.")
    target: str = Field(description="The id of the node the edge points at.")


class DevelopsEdge(_Edge):
    """An organization develops a model (the model's `developer_id`)."""

    type: Literal["develops"]
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "id": "develops:deepseek-r1",
                    "type": "develops",
                    "source": "organization:deepseek",
                    "target": "model:deepseek-r1",
                }
            ]
        }
    }


class ParentOfEdge(_Edge):
    """An organization is the parent of another (the child's `parent_id`)."""

    type: Literal["parent_of"]


class InvestsInEdge(_Edge):
    """A participant of an investment → its recipient, or → the investment when none is named."""

    type: Literal["invests_in"]
    investment_id: str = Field(examples=["stargate-500b"])
    role: InvestorRole
    amount_usd_min: int | None = Field(examples=[500000000000])
    amount_usd_max: int | None = Field(examples=[500000000000])


class SupportsEdge(_Edge):
    """A chip (or, when the source names no chip, its vendor) supports a model."""

    type: Literal["supports"]
    chip_support_id: str = Field(examples=["deepseek-r1-huawei-ascend"])
    relation: Relation
    announced_on: dt.date | None


GraphEdge = Annotated[
    DevelopsEdge | ParentOfEdge | InvestsInEdge | SupportsEdge, Field(discriminator="type")
]


class Graph(BaseModel):
    nodes: list[GraphNode] = Field(description="Sorted by id.")
    edges: list[GraphEdge] = Field(description="Sorted by id; both ends are in `nodes`.")
