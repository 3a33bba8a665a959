from __future__ import annotations

from pydantic import BaseModel, Field

from app.citations.schemas import CitationPublic
from app.documents.schemas import DocumentPublic
from app.facts_base import FactIn, Name, Slug, Text
from app.organizations.schemas import OrganizationPublic


class ChipPublic(BaseModel):
    id: str = Field(examples=["huawei-ascend"])
    name: str = Field(examples=["Huawei Ascend"])
    aliases: list[str] = Field(examples=[["Ascend"]])
    vendor_id: str | None = Field(examples=["huawei"])
    description: str | None
    disputed: bool = Field(description="True when a citation disputes one of its values.")
    citations: list[CitationPublic] | None = Field(
        default=None, description="On single items always; on lists with include=citations."
    )
    documents: list[DocumentPublic] | None = Field(
        default=None, description="The cited documents' metadata, with include=documents."
    )
    vendor: OrganizationPublic | None = Field(
        default=None, description="The vendor, with include=vendor."
    )


class ChipCreate(FactIn):
    name: Name
    aliases: list[Name] = Field(default_factory=list, max_length=100)
    vendor_id: Slug | None = None
    description: Text | None = None
