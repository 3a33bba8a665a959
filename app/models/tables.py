"""Table classes only. Every schema change goes through an Alembic migration."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeEngine
from sqlmodel import Field, SQLModel

from app.models.base import metadata

__all__ = [
    "AIModel",
    "ApiKey",
    "Chip",
    "ChipSupport",
    "Citation",
    "Document",
    "Investment",
    "InvestmentParticipant",
    "Organization",
    "Revision",
    "SearchName",
    "metadata",
]


def _revision() -> Column[int]:
    # Optimistic concurrency: every write of the row adds one (app/curation).
    return Column(Integer, nullable=False, server_default="1")


def _bytewise(length: int | None = None) -> TypeEngine[str]:
    """Text compared by code point on PostgreSQL too, as SQLite compares it, whatever the
    database's collation: ids, references and the sorted fields (migration 0010)."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


def _fk(
    target: str, *, nullable: bool = True, ondelete: str = "RESTRICT", index: bool = True
) -> Column[str]:
    return Column(ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index)


class Document(SQLModel, table=True):
    __tablename__ = "documents"

    id: str = Field(primary_key=True, sa_type=_bytewise(100))
    title: str = Field(sa_type=_bytewise())
    publisher: str | None = None
    language: str = Field(sa_type=_bytewise(8))
    url: str | None = None
    published_on: dt.date | None = None
    sha256: str = Field(max_length=64, unique=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    # The text as received when repair changed it (mojibake), else null.
    original_text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    note: str | None = None
    search_text: str = ""


class Organization(SQLModel, table=True):
    __tablename__ = "organizations"

    id: str = Field(primary_key=True, sa_type=_bytewise(100))
    name: str = Field(sa_type=_bytewise())
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    kind: str = Field(sa_type=_bytewise(32))
    country: str | None = Field(default=None, sa_type=_bytewise(2))
    city: str | None = Field(default=None, sa_type=_bytewise())
    parent_id: str | None = Field(default=None, sa_column=_fk("organizations.id"))
    description: str | None = None
    disputed: bool = False
    revision: int = Field(default=1, sa_column=_revision())
    search_text: str = ""


class AIModel(SQLModel, table=True):
    __tablename__ = "ai_models"

    id: str = Field(primary_key=True, sa_type=_bytewise(100))
    name: str = Field(sa_type=_bytewise())
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    developer_id: str | None = Field(default=None, sa_column=_fk("organizations.id", index=False))
    parameters: int | None = Field(default=None, sa_column=Column(BigInteger))
    active_parameters: int | None = Field(default=None, sa_column=Column(BigInteger))
    open_weights: bool | None = Field(default=None, index=True)
    reasoning: bool | None = Field(default=None, index=True)
    release_date: dt.date | None = None
    release_date_precision: str | None = Field(default=None, max_length=8)
    license: str | None = None
    description: str | None = None
    disputed: bool = False
    revision: int = Field(default=1, sa_column=_revision())
    search_text: str = ""


class Chip(SQLModel, table=True):
    __tablename__ = "chips"

    id: str = Field(primary_key=True, sa_type=_bytewise(100))
    name: str = Field(sa_type=_bytewise())
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    vendor_id: str | None = Field(default=None, sa_column=_fk("organizations.id", index=False))
    description: str | None = None
    disputed: bool = False
    revision: int = Field(default=1, sa_column=_revision())
    search_text: str = ""


class ChipSupport(SQLModel, table=True):
    __tablename__ = "chip_support"

    id: str = Field(primary_key=True, sa_type=_bytewise(100))
    model_id: str = Field(sa_column=_fk("ai_models.id", nullable=False, index=False))
    chip_id: str | None = Field(default=None, sa_column=_fk("chips.id", index=False))
    vendor_id: str | None = Field(default=None, sa_column=_fk("organizations.id", index=False))
    relation: str = Field(sa_type=_bytewise(32))
    announced_on: dt.date | None = None
    announced_on_precision: str | None = Field(default=None, max_length=8)
    description: str | None = None
    disputed: bool = False
    revision: int = Field(default=1, sa_column=_revision())


class Investment(SQLModel, table=True):
    __tablename__ = "investments"

    id: str = Field(primary_key=True, sa_type=_bytewise(100))
    name: str = Field(sa_type=_bytewise())
    kind: str = Field(sa_type=_bytewise(32), index=True)
    recipient_id: str | None = Field(default=None, sa_column=_fk("organizations.id"))
    amount_usd_min: int | None = Field(default=None, sa_column=Column(BigInteger))
    amount_usd_max: int | None = Field(default=None, sa_column=Column(BigInteger))
    amount_text: str | None = None
    amount_approximate: bool = False
    announced_on: dt.date | None = None
    announced_on_precision: str | None = Field(default=None, max_length=8)
    period: str | None = None
    purpose: str | None = None
    status: str = Field(sa_type=_bytewise(32), index=True)
    description: str | None = None
    disputed: bool = False
    revision: int = Field(default=1, sa_column=_revision())
    search_text: str = ""


class InvestmentParticipant(SQLModel, table=True):
    __tablename__ = "investment_participants"

    investment_id: str = Field(
        sa_column=Column(
            ForeignKey("investments.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    organization_id: str = Field(
        sa_column=Column(
            ForeignKey("organizations.id", ondelete="RESTRICT"),
            primary_key=True,
            nullable=False,
            index=True,
        )
    )
    role: str = Field(max_length=16)
    position: int = 0


class Citation(SQLModel, table=True):
    """A verbatim quote supporting (or disputing) one fact or one of its fields."""

    __tablename__ = "citations"
    __table_args__ = (Index("ix_citations_entity", "entity_id", "entity_type", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    entity_type: str = Field(sa_type=_bytewise(32))
    entity_id: str = Field(sa_type=_bytewise(100))
    position: int = 0
    document_id: str = Field(sa_column=_fk("documents.id", nullable=False))
    quote: str = Field(sa_column=Column(Text, nullable=False))
    start: int
    end: int
    field: str | None = Field(default=None, max_length=64)
    stance: str = Field(default="support", max_length=16)
    attributed_to: str | None = None
    note: str | None = None


# Bytewise, so that a range `key >= 'abc' AND key < 'abd'` is exactly "starts with abc".
SEARCH_KEY = _bytewise(200)


class SearchName(SQLModel, table=True):
    """One name, alias or title of a searchable item, folded (app/search; the write path keeps
    it in step). A name has a row per word it is indexed from: `word` 0 is the whole name.

    Not in this metadata (migration 0002): on PostgreSQL a trigram index on `grams`, on
    SQLite the FTS5 table `search_names_fts` kept in step by triggers.
    """

    __tablename__ = "search_names"
    __table_args__ = (Index("ix_search_names_entity", "entity_id", "entity_type"),)

    id: int | None = Field(default=None, primary_key=True)
    entity_type: str = Field(sa_type=_bytewise(32))
    entity_id: str = Field(sa_type=_bytewise(100))
    name: str  # as written
    is_primary: bool = False  # the item's name (else an alias)
    word: int = 0
    # The compact folded name from word `word` on (app.text.word_keys): prefix searches.
    key: str = Field(sa_column=Column(SEARCH_KEY, nullable=False, index=True))
    # On whole-name rows (word 0), app.text.trigram_text of the name, else "": substring and
    # typo searches.
    grams: str


class ApiKey(SQLModel, table=True):
    """An API key: the secret is stored only as its SHA-256 (app/auth)."""

    __tablename__ = "api_keys"

    id: str = Field(primary_key=True, max_length=16)  # the public part of the key
    name: str = Field(max_length=100)
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    secret_sha256: str = Field(max_length=64)
    created_at: dt.datetime = Field(sa_column=Column(DateTime, nullable=False))
    revoked_at: dt.datetime | None = Field(default=None, sa_column=Column(DateTime, nullable=True))


class Revision(SQLModel, table=True):
    """One write of one item: who, when, what changed, with which citations (app/history)."""

    __tablename__ = "revisions"
    __table_args__ = (
        Index("ix_revisions_entity", "entity_id", "entity_type", "revision"),
        Index("ix_revisions_recorded_at", "recorded_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    entity_type: str = Field(sa_type=_bytewise(32))
    entity_id: str = Field(sa_type=_bytewise(100))
    revision: int
    action: str = Field(max_length=16)  # create | update | delete
    actor: str = Field(max_length=100)
    recorded_at: dt.datetime = Field(sa_column=Column(DateTime, nullable=False))
    reason: str | None = None
    diff: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    citations: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # jsonb on PostgreSQL: the as_of indexes and reads take values out of every state they
    # touch, from its parsed form rather than its text (migration 0008).
    state: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON().with_variant(JSONB(), "postgresql"), nullable=True)
    )


# PostgreSQL: the B-trees whose keys end in the row's id (an as_of index's, in the revision's
# item) hold no two equal keys, or hardly any, so deduplication has nothing to merge there: it
# only compares each entry with the one before on every build (7-9% of those builds' time at
# 1,000,000 models) and tries a merge before each page split (migration 0012).
DISTINCT_KEYS: dict[str, Any] = {"postgresql_with": {"deduplicate_items": "off"}}


def _sort_indexes(table_name: str, *fields: str) -> None:
    """`(field, id)` and `(field DESC NULLS LAST, id)` for each sortable field: the orders of
    app/listing.py in both directions (migration 0004)."""
    table = metadata.tables[table_name]
    for name in fields:
        column = table.c[name]
        descending = column.desc().nulls_last() if column.nullable else column.desc()
        Index(f"ix_{table_name}_{name}_id", column, table.c.id, **DISTINCT_KEYS)
        Index(f"ix_{table_name}_{name}_desc", descending, table.c.id, **DISTINCT_KEYS)


def _disputed_index(table_name: str, order: str) -> None:
    """`disputed=true` (about one item in a hundred) in the collection's default order."""
    table = metadata.tables[table_name]
    columns = [table.c.id] if order == "id" else [table.c[order], table.c.id]
    where = table.c.disputed
    Index(
        f"ix_{table_name}_disputed_{order}",
        *columns,
        postgresql_where=where,
        sqlite_where=where,
        **DISTINCT_KEYS,
    )


_sort_indexes("organizations", "name", "kind", "country", "city")
_sort_indexes(
    "ai_models", "name", "parameters", "active_parameters", "release_date", "developer_id"
)
_sort_indexes("chips", "name", "vendor_id")
_sort_indexes("chip_support", "model_id", "chip_id", "vendor_id", "relation", "announced_on")
_sort_indexes("investments", "name", "amount_usd_min", "amount_usd_max", "announced_on")
_sort_indexes("documents", "title", "language", "published_on")


def _owner_index(table_name: str, owner: str, order: str) -> None:
    """An owner's items in the collection's default order (`developer_id=` sorted by name):
    from the index alone, where the sort's index alone filters a large owner's items out of
    everyone's (migration 0009)."""
    table = metadata.tables[table_name]
    Index(
        f"ix_{table_name}_{owner}_{order}",
        table.c[owner],
        table.c[order],
        table.c.id,
        **DISTINCT_KEYS,
    )


_owner_index("ai_models", "developer_id", "name")
_owner_index("chips", "vendor_id", "name")
for _table_name, _order in (
    ("organizations", "name"),
    ("ai_models", "name"),
    ("chips", "name"),
    ("chip_support", "id"),
    ("investments", "id"),
):
    _disputed_index(_table_name, _order)
