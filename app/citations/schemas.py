from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, StrictInt

Stance = Literal["support", "dispute"]


class CitationPublic(BaseModel):
    document_id: str = Field(examples=["cgtn-deepseek-cost-of-ai"])
    quote: str = Field(description="Equals document.text[start:end].")
    start: int = Field(ge=0, description="Python string offset into the document's text.")
    end: int = Field(ge=0)
    field: str | None = Field(description="The item field the quote supports; null: the item.")
    note: str | None = Field(description="An optional English gloss.")
    stance: Stance = Field(description="Whether the quote supports or disputes the field.")
    attributed_to: str | None = Field(
        description="Who the document attributes the claim to, for second-hand claims."
    )


class CitationIn(BaseModel):
    """A quote given with a fact. Offsets are optional: the server finds them when absent."""

    model_config = {"extra": "forbid"}

    document_id: str = Field(min_length=1, max_length=100)
    quote: str = Field(min_length=1, max_length=5000)
    start: StrictInt | None = Field(default=None, ge=0)
    end: StrictInt | None = Field(default=None, ge=0)
    field: str | None = Field(default=None, max_length=64)
    stance: Stance = "support"
    attributed_to: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=2000)
