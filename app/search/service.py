"""Search queries: candidates from each database's own indexes, judged in app.search.matching.

Candidates come from three bounded queries on `search_names`:
- word keys: a B-tree range on `key` (exact, prefix and word-prefix matches), in key order;
- substrings (3+ characters): `LIKE` on the pg_trgm GIN index (PostgreSQL), a phrase on the
  FTS5 trigram table (SQLite), both on `grams`, shortest names first;
- fuzzy (4+ letters): trigram similarity, `<%` on the GIN index (PostgreSQL), any shared
  trigram ranked by bm25 (SQLite).
The ranking itself is computed in Python on the folded names, so the two databases answer
alike whenever the candidate sets hold every match (up to `CANDIDATES` of each kind).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlmodel import Session, SQLModel, col, delete

from app.errors import InvalidParameter
from app.models import AIModel, Chip, Document, Investment, Organization, SearchName
from app.search.ddl import FTS_TABLE
from app.search.matching import Match, Needle, classify
from app.search.names import ENTITY_TYPES, name_rows
from app.text import compact, fold

CANDIDATES = 200
# pg_trgm word similarity below which a name is not a fuzzy candidate (SQLite takes any shared
# trigram). Measured on 30,000 random typos against names with extra and split words: one
# edit never left less than 0.13; two edits left less than 0.1 once (0.095: two swaps around
# a space in a 10-letter run), which only SQLite then finds.
FUZZY_THRESHOLD = 0.1

# The searchable tables: their entity type and id column.
TABLE_TYPES: dict[type[SQLModel], tuple[str, Any]] = {
    Organization: ("organization", col(Organization.id)),
    AIModel: ("model", col(AIModel.id)),
    Chip: ("chip", col(Chip.id)),
    Investment: ("investment", col(Investment.id)),
    Document: ("document", col(Document.id)),
}
_TYPE_ORDER = {name: index for index, name in enumerate(ENTITY_TYPES)}

_SN = SearchName
if TYPE_CHECKING:  # SQLAlchemy 2.1's variadic form, for the type checker only
    _Candidates = Select[str, str, str, bool]  # entity_type, entity_id, name, is_primary
_FTS = table(FTS_TABLE, column("rowid", Integer), column("rank"))
_FTS_MATCH = literal_column(FTS_TABLE).op("MATCH")
_WHOLE_NAME = col(_SN.word) == literal_column("0")  # a literal, so the partial index applies


# Writing ---------------------------------------------------------------------------------


def replace_search_names(
    session: Session, *, entity_type: str, entity_id: str, names: Sequence[str]
) -> bool:
    """Make the item's rows those of `names` (its name first); True when they changed."""
    desired = name_rows(entity_type, entity_id, names)
    current = [
        {
            "entity_type": row.entity_type,
            "entity_id": row.entity_id,
            "name": row.name,
            "is_primary": row.is_primary,
            "word": row.word,
            "key": row.key,
            "grams": row.grams,
        }
        for row in session.scalars(
            select(SearchName)
            .where(
                col(SearchName.entity_type) == entity_type,
                col(SearchName.entity_id) == entity_id,
            )
            .order_by(col(SearchName.id))
        )
    ]
    if current == desired:
        return False
    delete_search_names(session, entity_type=entity_type, entity_id=entity_id)
    session.add_all(SearchName(**row) for row in desired)
    session.flush()
    return True


def delete_search_names(session: Session, *, entity_type: str, entity_id: str) -> None:
    """For a deleted item (and before rewriting an item's rows)."""
    session.execute(
        delete(SearchName).where(
            col(SearchName.entity_type) == entity_type, col(SearchName.entity_id) == entity_id
        )
    )


# Candidates ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    entity_type: str
    entity_id: str
    name: str
    is_primary: bool


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _bytewise(expr: Any, dialect: str) -> Any:
    """Sort strings by code point on PostgreSQL whatever the database's collation."""
    return expr.collate("C") if dialect == "postgresql" else expr


def _successor(prefix: str) -> str:
    """The least string greater than every string starting with `prefix`."""
    last = ord(prefix[-1]) + 1
    if 0xD800 <= last <= 0xDFFF:  # surrogates cannot be stored; skip past them
        last = 0xE000
    return prefix[:-1] + chr(last)


def _key_condition(needle: Needle) -> ColumnElement[bool]:
    key = col(_SN.key)
    return and_(key >= needle.compact, key < _successor(needle.compact))


def _substring_condition(needle: Needle, dialect: str) -> ColumnElement[bool]:
    if dialect == "postgresql":
        # fold() leaves only letters and digits in a compact query: nothing to escape for
        # LIKE. A compact query is in `grams` exactly when it is in the compact name.
        return and_(_WHOLE_NAME, col(_SN.grams).like(f"%{needle.compact}%"))
    phrase = f'"{needle.compact}"'  # the trigram tokenizer matches a phrase as a substring
    matching = select(_FTS.c.rowid).where(_FTS_MATCH(phrase))
    return and_(_WHOLE_NAME, col(_SN.id).in_(matching))


def _trigrams(text_: str) -> set[str]:
    padded = f" {text_} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def _candidate_columns() -> _Candidates:
    return select(
        col(_SN.entity_type), col(_SN.entity_id), col(_SN.name), col(_SN.is_primary)
    ).select_from(_SN)


def _of_types(statement: _Candidates, types: Sequence[str] | None) -> _Candidates:
    return statement.where(col(_SN.entity_type).in_(types)) if types else statement


def _fuzzy_statement(session: Session, needle: Needle, dialect: str) -> _Candidates:
    grams = col(_SN.grams)
    if dialect == "postgresql":
        session.execute(
            text("SELECT set_config('pg_trgm.word_similarity_threshold', :value, true)"),
            {"value": str(FUZZY_THRESHOLD)},
        )
        # The query as typed and without its spaces (one and the same for a single word).
        forms = [literal(form) for form in dict.fromkeys([needle.folded, needle.compact])]
        similarity = func.greatest(*(func.word_similarity(form, grams) for form in forms))
        return (
            _candidate_columns()
            .where(_WHOLE_NAME, or_(*(form.op("<%")(grams) for form in forms)))
            .order_by(similarity.desc())
        )
    terms = sorted(_trigrams(needle.folded) | _trigrams(needle.compact))
    query = " OR ".join(f'"{term}"' for term in terms)
    return (
        _candidate_columns()
        .join(_FTS, _FTS.c.rowid == col(_SN.id))
        .where(_FTS_MATCH(query))
        .order_by(_FTS.c.rank)
    )


def _then_by_name(statement: _Candidates, dialect: str) -> _Candidates:
    return statement.order_by(
        func.length(col(_SN.key)),
        col(_SN.key),
        _bytewise(col(_SN.entity_type), dialect),
        _bytewise(col(_SN.entity_id), dialect),
    ).limit(CANDIDATES)


def _fetch(session: Session, statement: _Candidates) -> list[Candidate]:
    return [Candidate(*row) for row in session.execute(statement)]


def fuzzy_candidates(
    session: Session, needle: Needle, types: Sequence[str] | None
) -> list[Candidate]:
    if not needle.fuzzy_searchable:
        return []
    dialect = _dialect(session)
    statement = _of_types(_fuzzy_statement(session, needle, dialect), types)
    return _fetch(session, _then_by_name(statement, dialect))


def candidates(session: Session, needle: Needle, types: Sequence[str] | None) -> set[Candidate]:
    dialect = _dialect(session)
    by_key = _of_types(_candidate_columns().where(_key_condition(needle)), types).order_by(
        col(_SN.key),
        _bytewise(col(_SN.entity_type), dialect),
        _bytewise(col(_SN.entity_id), dialect),
    )
    found = set(_fetch(session, by_key.limit(CANDIDATES)))
    if needle.substring_searchable:
        inside = _candidate_columns().where(_substring_condition(needle, dialect))
        found.update(_fetch(session, _then_by_name(_of_types(inside, types), dialect)))
    found.update(fuzzy_candidates(session, needle, types))
    return found


# Reading ---------------------------------------------------------------------------------


def parse_needle(q: str) -> Needle:
    needle = Needle.parse(q)
    if needle is None:
        raise InvalidParameter("q", "nothing to search for: give at least one letter or digit")
    return needle


def _rank(candidate: Candidate, match: Match) -> tuple[Any, ...]:
    """Best first; ties broken the same way on every database."""
    return (
        -match.score,
        not candidate.is_primary,
        len(compact(fold(candidate.name))),
        _TYPE_ORDER[candidate.entity_type],
        candidate.entity_id,
        candidate.name,
    )


def _primary_names(
    session: Session, items: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    by_type: dict[str, list[str]] = {}
    for entity_type, entity_id in items:
        by_type.setdefault(entity_type, []).append(entity_id)
    if not by_type:
        return {}
    statement = select(col(_SN.entity_type), col(_SN.entity_id), col(_SN.name)).where(
        col(_SN.is_primary),
        _WHOLE_NAME,
        or_(
            *(
                and_(col(_SN.entity_type) == entity_type, col(_SN.entity_id).in_(ids))
                for entity_type, ids in by_type.items()
            )
        ),
    )
    return {(row[0], row[1]): row[2] for row in session.execute(statement)}


def search(
    *, session: Session, q: str, types: Sequence[str] | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    """The items whose name, alias or title matches `q`, best first (one per item)."""
    needle = parse_needle(q)
    best: dict[tuple[str, str], tuple[tuple[Any, ...], Candidate, Match]] = {}
    for candidate in candidates(session, needle, types):
        match = classify(needle, candidate.name)
        if match is None:
            continue
        item = (candidate.entity_type, candidate.entity_id)
        rank = _rank(candidate, match)
        if item not in best or rank < best[item][0]:
            best[item] = (rank, candidate, match)
    hits = sorted(best.values(), key=lambda entry: entry[0])[:limit]
    names = _primary_names(session, [(hit[1].entity_type, hit[1].entity_id) for hit in hits])
    return [
        {
            "type": candidate.entity_type,
            "id": candidate.entity_id,
            "name": names.get((candidate.entity_type, candidate.entity_id), candidate.name),
            "matched": candidate.name,
            "match": match.kind.value,
            "score": match.score,
        }
        for _, candidate, match in hits
    ]


def matching_condition(session: Session, table_: type[SQLModel], q: str) -> ColumnElement[bool]:
    """The `q` filter of a collection: the item has a name matching as in `search`.

    A `q` with no letter or digit is refused (422 naming `q`), as by `search`.
    An `id IN (...)` condition, so it composes with the other filters and keyset pages:
    word-key and substring matches as a subquery, fuzzy ones as the ids found among the
    (bounded) trigram candidates.
    """
    entity_type, item_id = TABLE_TYPES[table_]
    needle = parse_needle(q)
    dialect = _dialect(session)
    conditions = [_key_condition(needle)]
    if needle.substring_searchable:
        conditions.append(_substring_condition(needle, dialect))
    named = select(col(_SN.entity_id)).where(col(_SN.entity_type) == entity_type, or_(*conditions))
    condition: ColumnElement[bool] = item_id.in_(named)
    fuzzy = sorted(
        {
            c.entity_id
            for c in fuzzy_candidates(session, needle, [entity_type])
            if classify(needle, c.name) is not None
        }
    )
    if fuzzy:
        condition = or_(condition, item_id.in_(fuzzy))
    return condition
