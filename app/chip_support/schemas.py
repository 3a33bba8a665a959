from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, Field, model_validator

from app.ai_models.schemas import DatePrecision, ModelPublic
from app.chips.schemas import ChipPublic
from app.citations.schemas import CitationPublic
from app.documents.schemas import DocumentPublic
from app.facts_base import FactIn, InputDate, Slug, Text
from app.organizations.schemas import OrganizationPublic


class Relation(StrEnum):
    inference_support = "inference_support"
    trained_on = "trained_on"
    compatible = "compatible"


class ChipSupportPublic(BaseModel):
    id: str = Field(examples=["deepseek-r1-huawei-ascend"])
    model_id: str = Field(examples=["deepseek-r1"])
    chip_id: str | None = Field(
        description="Null when the source names a vendor (or vendors) but no chip.",
        examples=["huawei-ascend"],
    )
    vendor_id: str | None = Field(examples=["huawei"])
    relation: Relation
    announced_on: dt.date | None
    announced_on_precision: DatePrecision | None
    description: str | None
    disputed: bool = Field(description="True when a citation disputes one of its values.")
    citations: list[CitationPublic] | None = Field(
        default=None, description="On single items always; on lists with include=citations."
    )
    documents: list[DocumentPublic] | None = Field(
        default=None, description="The cited documents' metadata, with include=documents."
    )
    model: ModelPublic | None = Field(default=None, description="With include=model.")
    chip: ChipPublic | None = Field(default=None, description="With include=chip.")
    vendor: OrganizationPublic | None = Field(default=None, description="With include=vendor.")


class ChipSupportCreate(FactIn):
    model_id: Slug
    chip_id: Slug | None = None
    vendor_id: Slug | None = None
    relation: Relation
    announced_on: InputDate | None = None
    announced_on_precision: DatePrecision | None = None
    description: Text | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.announced_on is None) != (self.announced_on_precision is None):
            raise ValueError("announced_on and announced_on_precision go together")
        if self.chip_id is None and self.vendor_id is None and not self.description:
            raise ValueError("a relation naming neither chip nor vendor needs a description")
        return self
