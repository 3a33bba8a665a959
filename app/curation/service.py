"""The one write path for facts: the seed loader uses it, and so will the write API.

Validation happens in the XCreate schemas (shape) and here (references, citations against
the stored documents). Writes only flush; the caller's transaction commits or rolls back.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, SQLModel, col, delete, select

from app.ai_models.schemas import ModelCreate
from app.chip_support.schemas import ChipSupportCreate
from app.chips.schemas import ChipCreate
from app.citations.schemas import CitationIn
from app.documents.schemas import DocumentCreate
from app.errors import AppError
from app.facts_base import FactIn
from app.investments.schemas import InvestmentCreate
from app.models import (
    AIModel,
    Chip,
    ChipSupport,
    Citation,
    Document,
    Investment,
    InvestmentParticipant,
    Organization,
)
from app.organizations.schemas import OrganizationCreate
from app.search.service import replace_search_names
from app.text import repair_text, search_key


class InvalidFact(AppError):
    """A fact that is well-formed JSON but cannot be stored (422, naming the field)."""

    status = 422

    def __init__(self, loc: list[str | int], msg: str) -> None:
        where = ".".join(str(p) for p in loc)
        super().__init__(f"{where}: {msg}", errors=[{"loc": loc, "msg": msg}])
        self.loc = loc
        self.msg = msg


class Outcome(StrEnum):
    created = "created"
    updated = "updated"
    unchanged = "unchanged"


@dataclass(frozen=True)
class Collection:
    name: str
    entity: str
    table: type[SQLModel]
    schema: type[FactIn]
    # field -> (table it references, label used in messages)
    refs: Mapping[str, tuple[type[SQLModel], str]] = field(default_factory=dict)
    searchable: bool = True


_ORG = (Organization, "organization")
COLLECTIONS: dict[str, Collection] = {
    c.name: c
    for c in (
        Collection(
            "organizations", "organization", Organization, OrganizationCreate, {"parent_id": _ORG}
        ),
        Collection("chips", "chip", Chip, ChipCreate, {"vendor_id": _ORG}),
        Collection("models", "model", AIModel, ModelCreate, {"developer_id": _ORG}),
        Collection(
            "chip_support",
            "chip_support",
            ChipSupport,
            ChipSupportCreate,
            {"model_id": (AIModel, "model"), "chip_id": (Chip, "chip"), "vendor_id": _ORG},
            searchable=False,
        ),
        Collection(
            "investments", "investment", Investment, InvestmentCreate, {"recipient_id": _ORG}
        ),
    )
}

_CITATION_KEYS = (
    "document_id",
    "quote",
    "start",
    "end",
    "field",
    "stance",
    "attributed_to",
    "note",
)
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    ascii_only = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return _NOT_SLUG.sub("-", ascii_only.lower()).strip("-")[:100]


def resolve_citations(session: Session, citations: list[CitationIn]) -> list[dict[str, Any]]:
    """Check every quote against its document; find offsets when they are not given."""
    resolved = []
    for index, citation in enumerate(citations):
        loc: list[str | int] = ["citations", index]
        document = session.get(Document, citation.document_id)
        if document is None:
            raise InvalidFact([*loc, "document_id"], f"no document {citation.document_id!r}")
        text = document.text
        start, end = citation.start, citation.end
        if start is None and end is None:
            start = text.find(citation.quote)
            if start < 0:
                raise InvalidFact(
                    [*loc, "quote"],
                    f"quote {citation.quote!r} is not in document {document.id!r}",
                )
            end = start + len(citation.quote)
        elif start is None or end is None:
            raise InvalidFact(loc, "give both start and end, or neither")
        elif text[start:end] != citation.quote:
            found = text.find(citation.quote)
            hint = f"; it occurs at {found}:{found + len(citation.quote)}" if found >= 0 else ""
            raise InvalidFact(
                [*loc, "quote"],
                f"quote {citation.quote!r} is not at {start}:{end} of document"
                f" {document.id!r} (text there: {text[start:end]!r}){hint}",
            )
        resolved.append(
            {
                "document_id": document.id,
                "quote": citation.quote,
                "start": start,
                "end": end,
                "field": citation.field,
                "stance": citation.stance,
                "attributed_to": citation.attributed_to,
                "note": citation.note,
            }
        )
    return resolved


def _check_refs(session: Session, collection: Collection, payload: BaseModel) -> None:
    for name, (table, label) in collection.refs.items():
        ref = getattr(payload, name)
        if ref is not None and session.get(table, ref) is None:
            raise InvalidFact([name], f"no {label} has id {ref!r}")
    if isinstance(payload, InvestmentCreate):
        for index, investor in enumerate(payload.investors):
            if session.get(Organization, investor.organization_id) is None:
                raise InvalidFact(
                    ["investors", index, "organization_id"],
                    f"no organization has id {investor.organization_id!r}",
                )


def _replace_children(
    session: Session,
    current: list[dict[str, Any]],
    desired: list[dict[str, Any]],
    *,
    table: type[SQLModel],
    owner: Mapping[str, Any],
) -> bool:
    if current == desired:
        return False
    conditions = [getattr(table, k) == v for k, v in owner.items()]
    session.execute(delete(table).where(*conditions))
    for position, values in enumerate(desired):
        session.add(table(**owner, **values, position=position))
    return True


def upsert_fact(session: Session, collection: Collection, payload: FactIn) -> tuple[str, Outcome]:
    """Create or update one fact with its citations; returns its id and what changed."""
    fact_id = payload.id
    if fact_id is None:
        name = getattr(payload, "name", None)
        fact_id = slugify(name) if isinstance(name, str) else ""
        if not fact_id:
            raise InvalidFact(["id"], "give an id: none can be made from the name")
    _check_refs(session, collection, payload)
    citations = resolve_citations(session, payload.citations)

    values = payload.model_dump(mode="python", exclude={"id", "citations", "investors"})
    values = {k: (v.value if isinstance(v, StrEnum) else v) for k, v in values.items()}
    names: list[str] = []
    if collection.searchable:
        names = [values["name"], *(values.get("aliases") or [])]
        values["search_text"] = search_key(values["name"], values.get("aliases"))
    values["disputed"] = any(c["stance"] == "dispute" for c in citations)

    row = session.get(collection.table, fact_id)
    outcome = Outcome.unchanged
    if row is None:
        row = collection.table(id=fact_id, **values)
        session.add(row)
        session.flush()
        outcome = Outcome.created
    else:
        for key, value in values.items():
            if getattr(row, key) != value:
                setattr(row, key, value)
                outcome = Outcome.updated

    current = [
        {k: getattr(c, k) for k in _CITATION_KEYS}
        for c in session.exec(
            select(Citation)
            .where(Citation.entity_type == collection.entity, Citation.entity_id == fact_id)
            .order_by(col(Citation.position))
        )
    ]
    owner = {"entity_type": collection.entity, "entity_id": fact_id}
    if _replace_children(session, current, citations, table=Citation, owner=owner):
        outcome = outcome if outcome is Outcome.created else Outcome.updated

    if collection.searchable:
        # Derived from the names, so it does not count as a change of the fact.
        replace_search_names(session, entity_type=collection.entity, entity_id=fact_id, names=names)

    if isinstance(payload, InvestmentCreate):
        desired = [
            {"organization_id": i.organization_id, "role": i.role.value} for i in payload.investors
        ]
        current_investors = [
            {"organization_id": p.organization_id, "role": p.role}
            for p in session.exec(
                select(InvestmentParticipant)
                .where(InvestmentParticipant.investment_id == fact_id)
                .order_by(col(InvestmentParticipant.position))
            )
        ]
        owner = {"investment_id": fact_id}
        if _replace_children(
            session, current_investors, desired, table=InvestmentParticipant, owner=owner
        ):
            outcome = outcome if outcome is Outcome.created else Outcome.updated
    session.flush()
    return fact_id, outcome


def upsert_document(session: Session, payload: DocumentCreate) -> tuple[str, Outcome]:
    """Store a document's repaired text (and the original when repair changed it)."""
    text = repair_text(payload.text)
    values: dict[str, Any] = {
        "title": payload.title,
        "publisher": payload.publisher,
        "language": payload.language,
        "url": payload.url,
        "published_on": payload.published_on,
        "note": payload.note,
        "text": text,
        "original_text": payload.text if text != payload.text else None,
        "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "search_text": search_key(payload.title),
    }
    doc_id = payload.id or slugify(payload.title)
    if not doc_id:
        raise InvalidFact(["id"], "give an id: none can be made from the title")
    row = session.get(Document, doc_id)
    if row is None:
        session.add(Document(id=doc_id, **values))
        session.flush()
        outcome = Outcome.created
    else:
        outcome = Outcome.unchanged
        for key, value in values.items():
            if getattr(row, key) != value:
                setattr(row, key, value)
                outcome = Outcome.updated
        session.flush()
    replace_search_names(session, entity_type="document", entity_id=doc_id, names=[payload.title])
    return doc_id, outcome
