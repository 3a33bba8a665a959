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
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, delete, select

from app.ai_models.schemas import ModelCreate
from app.chip_support.schemas import ChipSupportCreate
from app.chips.schemas import ChipCreate
from app.citations.schemas import CitationIn
from app.documents.schemas import DocumentCreate
from app.errors import AppError, Conflict, PreconditionFailed
from app.facts_base import FactIn
from app.history.service import (
    current_state,
    diff_states,
    has_history,
    record,
    revision_count,
)
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
from app.search.service import delete_search_names, replace_search_names
from app.text import repair_text, search_key


class InvalidFact(AppError):
    """A fact that is well-formed JSON but cannot be stored (422, naming the field)."""

    status = 422

    def __init__(self, loc: list[str | int], msg: str) -> None:
        where = ".".join(str(p) for p in loc)
        super().__init__(f"{where}: {msg}", errors=[{"loc": loc, "msg": msg}])
        self.loc = loc
        self.msg = msg


def refuse_nul(value: Any, loc: list[str | int]) -> None:
    """422 naming where a string holds U+0000: PostgreSQL cannot store it in text (the query
    would fail), and SQLite answers alike. Checked before the first query of a write."""
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidFact(loc, "must not contain the NUL character (U+0000)")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            refuse_nul(item, [*loc, str(key)])
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            refuse_nul(item, [*loc, index])


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


def fact_id_for(payload: FactIn) -> str:
    """The payload's id, or a slug of its name."""
    if payload.id is not None:
        return payload.id
    name = getattr(payload, "name", None)
    fact_id = slugify(name) if isinstance(name, str) else ""
    if not fact_id:
        raise InvalidFact(["id"], "give an id: none can be made from the name")
    return fact_id


def _claim(session: Session, collection: Collection, fact_id: str, expected: int) -> None:
    """Take the next revision number if the row is still at `expected`, else 412.

    On PostgreSQL a concurrent writer's UPDATE waits for this transaction and then finds the
    revision moved on; SQLite serializes writers, so the second one finds it moved too.
    """
    table: Any = collection.table
    result = session.execute(
        update(table)
        .where(table.id == fact_id, table.revision == expected)
        .values(revision=table.revision + 1)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise PreconditionFailed(
            f"The {collection.entity} {fact_id!r} changed since you read it:"
            " GET it again and resend with its new ETag in If-Match."
        )
    row = session.get(collection.table, fact_id)
    if row is not None:
        session.expire(row)


def upsert_fact(
    session: Session,
    collection: Collection,
    payload: FactIn,
    *,
    actor: str = "seed",
    reason: str | None = None,
    given_citations: list[CitationIn] | None = None,
    expected_revision: int | None = None,
) -> tuple[str, Outcome]:
    """Create or update one fact with its citations; returns its id and what changed.

    Every change is recorded as a revision by `actor` (with `given_citations`, by default
    all of them). With `expected_revision` (the write API), the row must still be at that
    revision (else PreconditionFailed, nothing written).
    """
    refuse_nul(reason, ["reason"])
    if given_citations is not None:
        refuse_nul([c.model_dump(mode="json") for c in given_citations], ["citations"])
    refuse_nul(payload.model_dump(mode="json"), [])
    fact_id = fact_id_for(payload)
    _check_refs(session, collection, payload)
    # The citations given with this write are checked first, so errors name their index.
    given = None if given_citations is None else resolve_citations(session, given_citations)
    citations = resolve_citations(session, payload.citations)
    if given is None:
        given = citations

    values = payload.model_dump(mode="python", exclude={"id", "citations", "investors"})
    values = {k: (v.value if isinstance(v, StrEnum) else v) for k, v in values.items()}
    names: list[str] = []
    if collection.searchable:
        names = [values["name"], *(values.get("aliases") or [])]
        values["search_text"] = search_key(values["name"], values.get("aliases"))
    values["disputed"] = any(c["stance"] == "dispute" for c in citations)

    if expected_revision is not None:
        _claim(session, collection, fact_id, expected_revision)
    row = session.get(collection.table, fact_id)
    before = None if row is None else current_state(session, collection.entity, fact_id)
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
    if outcome is Outcome.updated and expected_revision is None:
        row.revision = row.revision + 1  # type: ignore[attr-defined]
    session.flush()
    if outcome is not Outcome.unchanged or expected_revision is not None:
        session.refresh(row)
        after = current_state(session, collection.entity, fact_id)
        record(
            session,
            entity_type=collection.entity,
            entity_id=fact_id,
            revision=row.revision,  # type: ignore[attr-defined]
            action="create" if outcome is Outcome.created else "update",
            actor=actor,
            reason=reason,
            diff=diff_states(before, after),
            citations=given,
            state=after,
        )
    return fact_id, outcome


def create_fact(
    session: Session,
    collection: Collection,
    payload: FactIn,
    *,
    actor: str,
    reason: str | None = None,
) -> str:
    """A new fact (the write API's POST): 409 when its id is taken or was ever used."""
    fact_id = fact_id_for(payload)
    if session.get(collection.table, fact_id) is not None or has_history(
        session, collection.entity, fact_id
    ):
        raise Conflict(
            f"A {collection.entity} with id {fact_id!r} exists or existed (ids are never"
            " reused): give another `id`."
        )
    try:
        upsert_fact(session, collection, payload, actor=actor, reason=reason)
    except IntegrityError as exc:
        raise Conflict(
            f"The {collection.entity} {fact_id!r} could not be created: it was created"
            " concurrently, or an item it references was just deleted."
        ) from exc
    return fact_id


# entity -> (table, column, label) of every reference to it that a delete would break
_REFERRERS: dict[str, tuple[tuple[Any, str, str], ...]] = {
    "organization": (
        (Organization, "parent_id", "organization"),
        (AIModel, "developer_id", "model"),
        (Chip, "vendor_id", "chip"),
        (ChipSupport, "vendor_id", "chip-support relation"),
        (Investment, "recipient_id", "investment"),
        (InvestmentParticipant, "organization_id", "investment (as participant)"),
    ),
    "model": ((ChipSupport, "model_id", "chip-support relation"),),
    "chip": ((ChipSupport, "chip_id", "chip-support relation"),),
}
_MAX_LISTED = 20


def _referrers(session: Session, entity: str, fact_id: str) -> list[str]:
    found: list[str] = []
    for table, column, label in _REFERRERS.get(entity, ()):
        key = table.investment_id if table is InvestmentParticipant else table.id
        statement = select(key).where(getattr(table, column) == fact_id).order_by(key)
        found.extend(f"{label} {ref!r}" for ref in session.exec(statement.limit(_MAX_LISTED)))
    return found


def delete_fact(
    session: Session,
    collection: Collection,
    fact_id: str,
    *,
    expected_revision: int,
    actor: str,
    reason: str | None = None,
) -> None:
    """Remove a fact, its citations and search names; its history stays (410 afterwards).

    Nothing cascades: a fact other facts reference answers 409 listing them.
    """
    referrers = _referrers(session, collection.entity, fact_id)
    if referrers:
        shown = ", ".join(referrers[:_MAX_LISTED])
        more = " and more" if len(referrers) > _MAX_LISTED else ""
        raise Conflict(
            f"The {collection.entity} {fact_id!r} is referenced by {shown}{more}:"
            " change or delete those first."
        )
    _claim(session, collection, fact_id, expected_revision)
    before = current_state(session, collection.entity, fact_id)
    session.execute(
        delete(Citation).where(
            col(Citation.entity_type) == collection.entity, col(Citation.entity_id) == fact_id
        )
    )
    if collection.searchable:
        delete_search_names(session, entity_type=collection.entity, entity_id=fact_id)
    if collection.table is Investment:
        session.execute(
            delete(InvestmentParticipant).where(col(InvestmentParticipant.investment_id) == fact_id)
        )
    table: Any = collection.table
    session.execute(delete(table).where(table.id == fact_id))
    session.expunge_all()
    record(
        session,
        entity_type=collection.entity,
        entity_id=fact_id,
        revision=expected_revision + 1,
        action="delete",
        actor=actor,
        reason=reason,
        diff=diff_states(before, None),
        citations=[],
        state=None,
    )


def _document_values(payload: DocumentCreate) -> dict[str, Any]:
    """The stored form of a document: repaired (mojibake, NFC) text, its hash, the original."""
    refuse_nul(payload.model_dump(mode="json"), [])
    text = repair_text(payload.text)
    return {
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


def _document_id(payload: DocumentCreate) -> str:
    doc_id = payload.id or slugify(payload.title)
    if not doc_id:
        raise InvalidFact(["id"], "give an id: none can be made from the title")
    return doc_id


def _record_document(
    session: Session, doc_id: str, action: str, actor: str, before: dict[str, Any] | None
) -> None:
    after = current_state(session, "document", doc_id)
    revision = revision_count(session, "document", doc_id) + 1
    record(
        session,
        entity_type="document",
        entity_id=doc_id,
        revision=revision,
        action=action,
        actor=actor,
        diff=diff_states(before, after),
        citations=[],
        state=after,
    )


def upsert_document(
    session: Session, payload: DocumentCreate, *, actor: str = "seed"
) -> tuple[str, Outcome]:
    """Store a document's repaired text (and the original when repair changed it)."""
    values = _document_values(payload)
    doc_id = _document_id(payload)
    row = session.get(Document, doc_id)
    if row is None:
        session.add(Document(id=doc_id, **values))
        session.flush()
        outcome = Outcome.created
        _record_document(session, doc_id, "create", actor, None)
    else:
        before = current_state(session, "document", doc_id)
        outcome = Outcome.unchanged
        for key, value in values.items():
            if getattr(row, key) != value:
                setattr(row, key, value)
                outcome = Outcome.updated
        session.flush()
        if outcome is Outcome.updated:
            _record_document(session, doc_id, "update", actor, before)
    replace_search_names(session, entity_type="document", entity_id=doc_id, names=[payload.title])
    return doc_id, outcome


def create_document(session: Session, payload: DocumentCreate, *, actor: str) -> tuple[str, bool]:
    """The write API's upload: (id, created). The same text again gives the stored document
    (no duplicate); a new text under a taken id is a conflict."""
    values = _document_values(payload)
    existing = session.exec(select(Document.id).where(Document.sha256 == values["sha256"])).first()
    if existing is not None:
        return existing, False
    doc_id = _document_id(payload)
    if session.get(Document, doc_id) is not None or has_history(session, "document", doc_id):
        raise Conflict(
            f"A document with id {doc_id!r} exists with another text: give another `id`."
        )
    try:
        upsert_document(session, payload.model_copy(update={"id": doc_id}), actor=actor)
    except IntegrityError as exc:
        raise Conflict(f"The document {doc_id!r} was uploaded concurrently.") from exc
    return doc_id, True
