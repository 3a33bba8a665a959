from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from app.citations.schemas import CitationPublic
from app.documents.schemas import DocumentPublic
from app.facts_base import FactIn, Name, Slug, Text


class OrganizationKind(StrEnum):
    company = "company"
    lab = "lab"
    university = "university"
    investment_fund = "investment_fund"
    joint_venture = "joint_venture"
    government = "government"
    other = "other"


class OrganizationPublic(BaseModel):
    id: str = Field(examples=["deepseek"])
    name: str = Field(examples=["DeepSeek"])
    aliases: list[str] = Field(examples=[["Deepseek"]])
    kind: OrganizationKind
    country: str | None = Field(description="ISO 3166-1 alpha-2.", examples=["CN"])
    city: str | None = Field(examples=["Hangzhou"])
    parent_id: str | None = Field(examples=["astra-quant"])
    description: str | None
    disputed: bool = Field(description="True when a citation disputes one of its values.")
    citations: list[CitationPublic] | None = Field(
        default=None, description="On single items always; on lists with include=citations."
    )
    documents: list[DocumentPublic] | None = Field(
        default=None, description="The cited documents' metadata, with include=documents."
    )
    parent: OrganizationPublic | None = Field(
        default=None, description="The parent organization, with include=parent."
    )


class OrganizationCreate(FactIn):
    name: Name
    aliases: list[Name] = Field(default_factory=list, max_length=100)
    kind: OrganizationKind
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    city: Name | None = None
    parent_id: Slug | None = None
    description: Text | None = None
