from __future__ import annotations

from pydantic import BaseModel, Field


class Counts(BaseModel):
    documents: int = Field(examples=[5])
    organizations: int = Field(examples=[21])
    models: int = Field(examples=[6])
    chips: int = Field(examples=[2])
    chip_support: int = Field(examples=[3])
    investments: int = Field(examples=[10])
    citations: int = Field(description="Quotes supporting or disputing facts.", examples=[120])


class ModelsByCountry(BaseModel):
    country: str | None = Field(
        description="The developer's country (ISO 3166-1 alpha-2); null when the model has no"
        " developer or the developer no country.",
        examples=["CN"],
    )
    models: int = Field(examples=[3])


class InvestmentTotals(BaseModel):
    investments: int = Field(description="Investments in the group.", examples=[4])
    with_amount: int = Field(description="Those with a known amount.", examples=[3])
    amount_usd_min: int = Field(
        description="Sum of the low ends of the known amounts, in US dollars.",
        examples=[640000000000],
    )
    amount_usd_max: int = Field(
        description="Sum of the high ends of the known amounts, in US dollars.",
        examples=[645000000000],
    )


class InvestmentsByCountry(InvestmentTotals):
    country: str | None = Field(
        description="An investor's country; an investment counts once per country among its"
        " participants. Null for participants with no country.",
        examples=["US"],
    )


class InvestmentsByYear(InvestmentTotals):
    year: int | None = Field(
        description="Year of `announced_on`; null for undated investments.", examples=[2025]
    )


class LargestModel(BaseModel):
    id: str = Field(examples=["kimi-k2"])
    name: str = Field(examples=["Kimi K2"])
    developer_id: str | None = Field(examples=["moonshot-ai"])
    parameters: int = Field(examples=[1000000000000])
    active_parameters: int | None = Field(examples=[None])


class Stats(BaseModel):
    counts: Counts
    models_by_developer_country: list[ModelsByCountry] = Field(
        description="Most models first, then by country (null last)."
    )
    investments_by_investor_country: list[InvestmentsByCountry] = Field(
        description="Largest total (amount_usd_max) first, then by country (null last)."
    )
    investments_by_year: list[InvestmentsByYear] = Field(
        description="By year, oldest first, undated last."
    )
    largest_models: list[LargestModel] = Field(
        description="The 10 models with the most parameters (ties by id)."
    )
