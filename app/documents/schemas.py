from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from app.facts_base import InputDate, Name, Slug, Text


class DocumentPublic(BaseModel):
    id: str = Field(examples=["cgtn-deepseek-cost-of-ai"])
    title: str
    publisher: str | None = Field(examples=["CGTN"])
    language: str = Field(description="ISO 639-1.", examples=["fr"])
    url: str | None
    published_on: dt.date | None
    sha256: str = Field(description="SHA-256 of `text` in UTF-8.")
    note: str | None


class DocumentDetail(DocumentPublic):
    text: str = Field(description="The text citations point into: quote == text[start:end].")
    original_text: str | None = Field(
        description="The text as received, when repair (mojibake, NFC) changed it; else null."
    )


class DocumentCreate(BaseModel):
    model_config = {"extra": "forbid"}

    id: Slug | None = None
    title: Name
    publisher: Name | None = None
    language: str = Field(pattern=r"^[a-z]{2}$")
    url: Annotated[str, StringConstraints(max_length=2000)] | None = None
    published_on: InputDate | None = None
    note: Text | None = None
    text: str = Field(min_length=1, max_length=2_000_000)
