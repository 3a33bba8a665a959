from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, Field, model_validator

from app.citations.schemas import CitationPublic
from app.documents.schemas import DocumentPublic
from app.facts_base import FactIn, InputDate, Name, Slug, Text
from app.organizations.schemas import OrganizationPublic


class DatePrecision(StrEnum):
    day = "day"
    month = "month"
    year = "year"


class ModelPublic(BaseModel):
    id: str = Field(examples=["deepseek-r1"])
    name: str = Field(examples=["DeepSeek R1"])
    aliases: list[str] = Field(examples=[["Deepthink R1"]])
    developer_id: str | None = Field(examples=["deepseek"])
    parameters: int | None = Field(description="Total parameters.", examples=[671000000000])
    active_parameters: int | None = Field(description="Active parameters (mixture of experts).")
    open_weights: bool | None
    reasoning: bool | None
    release_date: dt.date | None
    release_date_precision: DatePrecision | None
    license: str | None
    description: str | None
    disputed: bool = Field(description="True when a citation disputes one of its values.")
    citations: list[CitationPublic] | None = Field(
        default=None, description="On single items always; on lists with include=citations."
    )
    documents: list[DocumentPublic] | None = Field(
        default=None, description="The cited documents' metadata, with include=documents."
    )
    developer: OrganizationPublic | None = Field(
        default=None, description="The developer, with include=developer."
    )


class ModelCreate(FactIn):
    name: Name
    aliases: list[Name] = Field(default_factory=list, max_length=100)
    developer_id: Slug | None = None
    parameters: int | None = Field(default=None, ge=1, le=10**15)
    active_parameters: int | None = Field(default=None, ge=1, le=10**15)
    open_weights: bool | None = None
    reasoning: bool | None = None
    release_date: InputDate | None = None
    release_date_precision: DatePrecision | None = None
    license: Name | None = None
    description: Text | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (
            self.parameters is not None
            and self.active_parameters is not None
            and self.active_parameters > self.parameters
        ):
            raise ValueError("active_parameters cannot exceed parameters")
        if (self.release_date is None) != (self.release_date_precision is None):
            raise ValueError("release_date and release_date_precision go together")
        return self
