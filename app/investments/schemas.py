from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, Field, model_validator

from app.ai_models.schemas import DatePrecision
from app.citations.schemas import CitationPublic
from app.documents.schemas import DocumentPublic
from app.facts_base import FactIn, InputDate, Name, Slug, Text
from app.organizations.schemas import OrganizationPublic


class InvestmentKind(StrEnum):
    funding_round = "funding_round"
    joint_venture = "joint_venture"
    capital_expenditure = "capital_expenditure"
    infrastructure = "infrastructure"
    development_cost = "development_cost"
    operating_budget = "operating_budget"
    national_program = "national_program"
    partnership = "partnership"
    other = "other"


class InvestmentStatus(StrEnum):
    announced = "announced"
    committed = "committed"
    completed = "completed"
    disputed = "disputed"
    reported = "reported"
    estimated = "estimated"
    planned = "planned"


class InvestorRole(StrEnum):
    investor = "investor"
    lead = "lead"
    partner = "partner"


class Investor(BaseModel):
    organization_id: str = Field(examples=["softbank"])
    role: InvestorRole
    organization: OrganizationPublic | None = Field(
        default=None, description="The investor, with include=investors."
    )


class InvestmentPublic(BaseModel):
    id: str = Field(examples=["stargate-500b"])
    name: str = Field(examples=["Stargate"])
    kind: InvestmentKind
    investors: list[Investor]
    recipient_id: str | None = Field(examples=["stargate"])
    amount_usd_min: int | None = Field(
        description="Low end in US dollars; equals amount_usd_max for a single figure.",
        examples=[500000000000],
    )
    amount_usd_max: int | None = Field(examples=[500000000000])
    amount_text: str | None = Field(description="The figure as the source wrote it.")
    amount_approximate: bool = Field(description="True for 'about', 'estimated' figures.")
    announced_on: dt.date | None
    announced_on_precision: DatePrecision | None
    period: str | None = Field(examples=["2025"])
    purpose: str | None
    status: InvestmentStatus
    description: str | None
    disputed: bool = Field(description="True when a citation disputes one of its values.")
    citations: list[CitationPublic] | None = Field(
        default=None, description="On single items always; on lists with include=citations."
    )
    documents: list[DocumentPublic] | None = Field(
        default=None, description="The cited documents' metadata, with include=documents."
    )
    recipient: OrganizationPublic | None = Field(
        default=None, description="The recipient, with include=recipient."
    )


class InvestorIn(BaseModel):
    model_config = {"extra": "forbid"}

    organization_id: Slug
    role: InvestorRole = InvestorRole.investor


class InvestmentCreate(FactIn):
    name: Name
    kind: InvestmentKind
    investors: list[InvestorIn] = Field(default_factory=list, max_length=100)
    recipient_id: Slug | None = None
    amount_usd_min: int | None = Field(default=None, ge=0, le=10**15)
    amount_usd_max: int | None = Field(default=None, ge=0, le=10**15)
    amount_text: Text | None = None
    amount_approximate: bool = False
    announced_on: InputDate | None = None
    announced_on_precision: DatePrecision | None = None
    period: Name | None = None
    purpose: Text | None = None
    status: InvestmentStatus
    description: Text | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        low, high = self.amount_usd_min, self.amount_usd_max
        if (low is None) != (high is None):
            raise ValueError("amount_usd_min and amount_usd_max are both set or both null")
        if low is not None and high is not None and low > high:
            raise ValueError("amount_usd_min cannot exceed amount_usd_max")
        if (self.announced_on is None) != (self.announced_on_precision is None):
            raise ValueError("announced_on and announced_on_precision go together")
        ids = [i.organization_id for i in self.investors]
        if len(ids) != len(set(ids)):
            raise ValueError("an organization is listed twice among investors")
        return self
