from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

EntityType = Literal["organization", "model", "chip", "investment", "document"]
MatchKindName = Literal["exact", "prefix", "substring", "fuzzy"]


class SearchHit(BaseModel):
    type: EntityType = Field(description="The collection the item is in.", examples=["model"])
    id: str = Field(description="The item's id in its collection.", examples=["deepseek-r1"])
    name: str = Field(description="The item's name (a document's title).", examples=["DeepSeek R1"])
    matched: str = Field(
        description="The name, alias or title that matched, as the sources write it.",
        examples=["Deepseek R1"],
    )
    match: MatchKindName = Field(
        description=(
            "`exact`: the whole name; `prefix`: the start of the name; `substring`: from a"
            " later word on, or anywhere inside the name (3+ characters); `fuzzy`: one edit"
            " (a letter added, removed, replaced, or two swapped) from 5–8 letters of the name,"
            " or two from 9 or more. Spaces and punctuation never count."
        ),
        examples=["fuzzy"],
    )
    score: float = Field(
        ge=0,
        le=1,
        description=(
            "Higher is better; the bands do not overlap: exact 1, prefix 0.8–0.95,"
            " word 0.6–0.75, substring 0.5–0.6, fuzzy 0.05–0.35."
        ),
        examples=[0.33],
    )


class SearchPage(BaseModel):
    data: list[SearchHit]
    next_cursor: None = Field(
        default=None, description="Always null: the hits are one ranked list of `limit` items."
    )
