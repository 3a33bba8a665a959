"""What every curated fact shares on input: an id, and at least one valid citation."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from app.citations.schemas import CitationIn

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,99}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Text = Annotated[str, StringConstraints(max_length=5000)]


def _no_number_dates(value: Any) -> Any:
    # Pydantic's lax mode reads 0 as 1970-01-01: an input date is YYYY-MM-DD.
    if isinstance(value, int | float):
        raise ValueError("expected a date as YYYY-MM-DD")
    return value


InputDate = Annotated[dt.date, BeforeValidator(_no_number_dates)]


class FactIn(BaseModel):
    """Base of every XCreate: unknown fields are refused, citations must name real fields."""

    model_config = ConfigDict(extra="forbid")
    # Fields a citation may not point at (they are not facts a quote supports).
    _uncitable: ClassVar[frozenset[str]] = frozenset({"id", "citations"})

    id: Slug | None = None
    citations: list[CitationIn] = Field(min_length=1)

    @model_validator(mode="after")
    def _citation_fields_exist(self) -> Self:
        citable = set(type(self).model_fields) - self._uncitable
        for index, citation in enumerate(self.citations):
            if citation.field is not None and citation.field not in citable:
                raise ValueError(
                    f"citations[{index}].field {citation.field!r} is not a field of this fact"
                    f" (one of: {', '.join(sorted(citable))})"
                )
        return self
