"""Search queries: candidates from each database's own indexes, judged in app.search.matching.

Candidates come from bounded queries on `search_names`, in stages of falling score; a search
stops after the stage that fills its page (every later stage scores lower):
1. exact and prefix matches: whole names whose key starts with the query, shortest first
   (PostgreSQL: for each key length, a range of `ix_search_names_prefix` under the LIMIT);
2. later words: the same from a later word on (`ix_search_names_later`), then, unless those
   fill the page, substrings (3+ characters: `LIKE` on the pg_trgm GIN index, shortest
   first among the first SUBSTRING_READ found; a phrase on the FTS5 trigram table on
   SQLite), both on `grams`;
3. fuzzy (4+ letters): trigram word similarity, `<%` on the GIN index (PostgreSQL: on a
   large table in passes of falling similarity), any shared trigram ranked by bm25 (SQLite).
Each stage reads at most CANDIDATES names. The ranking itself is computed in Python on the
folded names, so the two databases answer alike whenever the candidate sets hold every
match, and a page is the start of a longer one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    column,
    func,
    literal_column,
    not_,
    or_,
    select,
    table,
    text,
    true,
    union_all,
)
from sqlalchemy import values as listed_values
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, SQLModel, col, delete

from app.errors import InvalidParameter
from app.models import AIModel, Chip, Document, Investment, Organization, SearchName
from app.search.ddl import FTS_TABLE, TRIGRAM_INDEX
from app.search.matching import Match, Needle, classify, classify_folded
from app.search.names import ENTITY_TYPES, name_rows
from app.text import compact, fold

# Names read per stage at most (and names matching directly above which a collection's `q`
# takes no fuzzy matches).
CANDIDATES = 200
# Substring matches read at most, before the shortest CANDIDATES are kept (PostgreSQL).
SUBSTRING_READ = 1000
# pg_trgm word similarity below which a name is not a fuzzy candidate (SQLite takes any shared
# trigram). Measured on 30,000 random typos against names with extra and split words: one
# edit never left less than 0.13; two edits left less than 0.1 once (0.095: two swaps around
# a space in a 10-letter run), which only SQLite then finds. Longer queries keep more of
# their trigrams: see fuzzy_threshold.
FUZZY_THRESHOLD = 0.1
# On a table of more whole names than LARGE_TABLE (PostgreSQL), the fuzzy candidates are read
# in passes of falling similarity, each under the LIMIT and never the rows of an earlier
# pass, until CANDIDATES are read, and none below the last pass (or fuzzy_threshold, when
# higher): a short query shares a trigram or two with a large share of all names, more than
# a request can read, so that a few of them read as found would be as likely to hold a match
# as any others. On a smaller table, one pass at fuzzy_threshold, the most similar first.
FUZZY_PASSES = (0.7, 0.5, 0.3)
LARGE_TABLE = 20_000

# The searchable tables: their entity type and id column.
TABLE_TYPES: dict[type[SQLModel], tuple[str, Any]] = {
    Organization: ("organization", col(Organization.id)),
    AIModel: ("model", col(AIModel.id)),
    Chip: ("chip", col(Chip.id)),
    Investment: ("investment", col(Investment.id)),
    Document: ("document", col(Document.id)),
}
_TYPE_ORDER = {name: index for index, name in enumerate(ENTITY_TYPES)}
# The same names are candidates of search after search.
_fold = lru_cache(maxsize=16384)(fold)

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
#
# Each statement is built once per shape (dialect, whether types are given...) with its
# values as bound parameters (named as in `_values`), and run on the session's connection.


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


def _trigrams(text_: str) -> set[str]:
    padded = f" {text_} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def _values(needle: Needle, types: Sequence[str] | None) -> dict[str, Any]:
    """The bound parameters of every candidate statement for this query."""
    terms = sorted(_trigrams(needle.folded) | _trigrams(needle.compact))
    return {
        "low": needle.compact,
        "high": _successor(needle.compact),
        "length": len(needle.compact),
        # fold() leaves only letters and digits in a compact query: nothing to escape for
        # LIKE. A compact query is in `grams` exactly when it is in the compact name.
        "pattern": f"%{needle.compact}%",
        # The trigram tokenizer matches a phrase as a substring.
        "phrase": f'"{needle.compact}"',
        # The query as typed and without its spaces (one and the same for a single word).
        "folded": needle.folded,
        "compact": needle.compact,
        "any_trigram": " OR ".join(f'"{term}"' for term in terms),
        "types": list(types or ()),
        # The types in the ranking's order (all when none is given).
        "kinds": [t for t in ENTITY_TYPES if not types or t in types],
    }


def _starts_with(key: Any) -> ColumnElement[bool]:
    return and_(key >= bindparam("low"), key < bindparam("high"))


def _substring_condition(dialect: str) -> ColumnElement[bool]:
    if dialect == "postgresql":
        return and_(_WHOLE_NAME, col(_SN.grams).like(bindparam("pattern")))
    matching = select(_FTS.c.rowid).where(_FTS_MATCH(bindparam("phrase")))
    return and_(_WHOLE_NAME, col(_SN.id).in_(matching))


def _candidate_columns(typed: bool) -> _Candidates:
    statement = select(
        col(_SN.entity_type), col(_SN.entity_id), col(_SN.name), col(_SN.is_primary)
    ).select_from(_SN)
    if typed:
        statement = statement.where(col(_SN.entity_type).in_(bindparam("types", expanding=True)))
    return statement


def _by_name(key: Any, entity_type: Any, entity_id: Any, dialect: str) -> list[Any]:
    """Shortest names first, then by key, type and id: the same order on both databases."""
    return [
        func.length(key),
        key,
        _bytewise(entity_type, dialect),
        _bytewise(entity_id, dialect),
    ]


def _then_by_name(statement: _Candidates, dialect: str) -> _Candidates:
    return statement.order_by(
        *_by_name(col(_SN.key), col(_SN.entity_type), col(_SN.entity_id), dialect)
    ).limit(CANDIDATES)


def _first_read(statement: Any, name: str, limit: Any) -> Any:
    """The first `limit` rows of `statement` as they are found, as a subquery (PostgreSQL).

    A materialized CTE is planned for all its rows (the bitmap scan of an index), not for
    the first few (which a sequential scan would promise, and then read the whole table for
    a rare match), and is read only as far as the LIMIT needs."""
    found = statement.cte(name).prefix_with("MATERIALIZED")
    return select(found).limit(limit).subquery()


def _candidates_of(rows: Any) -> _Candidates:
    statement: _Candidates = select(
        rows.c.entity_type, rows.c.entity_id, rows.c.name, rows.c.is_primary
    )
    return statement


def _fetch(session: Session, statement: Any, values: dict[str, Any]) -> list[Candidate]:
    return [Candidate(*row) for row in session.connection().execute(statement, values)]


# Stages 1 and 2: a word key starting with the query, shortest first.
_LATER_WORD = col(_SN.word) > literal_column("0")  # a literal, so the partial index applies


def _type_position(entity_type: Any) -> Any:
    """The type's place in ENTITY_TYPES (the ranking's order of types)."""
    return case(_TYPE_ORDER, value=entity_type)


@cache
def _prefix_statement(dialect: str, whole: bool) -> _Candidates:
    """The names of the types (`kinds`, in ENTITY_TYPES' order) with a key starting with the
    query, shortest keys first, then by type and key: of whole names (`whole`: exact and
    prefix matches) or from a later word on."""
    key = col(_SN.key)
    rows = _WHOLE_NAME if whole else _LATER_WORD
    found = _candidate_columns(False).where(rows, _starts_with(key))
    if dialect != "postgresql":
        typed = col(_SN.entity_type).in_(bindparam("kinds", expanding=True))
        order = [func.length(key), _type_position(col(_SN.entity_type)), key, col(_SN.entity_id)]
        return found.where(typed).order_by(*order).limit(CANDIDATES)
    # For each key length from the query's on, and each type, the keys of that length and
    # type starting with the query, in key order under the LIMIT: one range of
    # ix_search_names_prefix (whole names) or ix_search_names_later, read from the index
    # alone. The lengths, then the types, are read in order (nested loops over the series and
    # the types, made to depend on the length so that they are read in that order) and the
    # outer LIMIT stops at the first CANDIDATES names, so that a broad prefix reads about
    # CANDIDATES entries and a rare one one probe per length and type.
    longest = select(func.max(func.length(key))).where(rows).scalar_subquery()
    lengths = (
        func.generate_series(bindparam("length", type_=Integer), longest)
        .table_valued("n")
        .render_derived(name="lengths")
    )
    listed = (
        func.unnest(bindparam("kinds", type_=postgresql.ARRAY(String)))
        .table_valued("kind", with_ordinality="position")
        .render_derived(name="listed")
    )
    kinds = select(listed.c.kind).where(lengths.c.n.is_not(None)).lateral("kinds")
    page = (
        found.where(func.length(key) == lengths.c.n, col(_SN.entity_type) == kinds.c.kind)
        .order_by(key, _bytewise(col(_SN.entity_id), dialect))
        .limit(CANDIDATES)
        .lateral("page")
    )
    return (
        _candidates_of(page)
        .select_from(lengths)
        .join(kinds, true())
        .join(page, true())
        .limit(CANDIDATES)
    )


# Stage 2: a later word starting with the query, then the query inside a name.
@cache
def _later_statement(dialect: str, typed: bool, substring: bool) -> Any:
    """The later-word matches and, when they are fewer than `needed` items, the substring
    matches (which score lower: a page of later-word matches reads none of them)."""
    later = _prefix_statement(dialect, whole=False)
    if not substring:
        return later
    # Not the whole names starting with the query: stage 1 has them.
    inside = _candidate_columns(typed).where(
        _substring_condition(dialect), not_(_starts_with(col(_SN.key)))
    )
    if dialect == "postgresql":
        # The shortest among the first SUBSTRING_READ found: a common substring of a large
        # table is in more names than a request can read and sort.
        read = _first_read(inside.add_columns(col(_SN.key)), "inside", SUBSTRING_READ)
        inside = (
            _candidates_of(read)
            .order_by(*_by_name(read.c.key, read.c.entity_type, read.c.entity_id, dialect))
            .limit(CANDIDATES)
        )
    else:
        inside = _then_by_name(inside, dialect)
    found = later.cte("later").prefix_with("MATERIALIZED", dialect="postgresql")
    items = select(found.c.entity_type, found.c.entity_id).distinct().subquery()
    few = select(func.count()).select_from(items).scalar_subquery() < bindparam("needed")
    # An uncorrelated condition: evaluated once, and the substrings not read when false.
    return union_all(_candidates_of(found), _candidates_of(inside.subquery()).where(few))


# Stage 3: fuzzy.
def fuzzy_threshold(needle: Needle) -> float:
    """The least word similarity of the fuzzy candidates for this query (PostgreSQL).

    FUZZY_THRESHOLD up to 12 letters; then rising by 0.025 a letter, to 0.4 from 24 letters
    on. Measured on random typos (one or two edits, spaces added, removed or moved) of runs
    of the words of 6,400 names: the least similarity of a match was 0.25 at 10-11 letters,
    0.33 at 14, 0.41 at 16, 0.52 at 20 and 0.58 at 24."""
    letters = len(needle.compact)
    return round(min(0.4, max(FUZZY_THRESHOLD, (letters - 8) * 0.025)), 3)


_SIMILARITY_SETTING = text(
    "SELECT set_config('pg_trgm.word_similarity_threshold', :threshold, true),"
    f" (SELECT reltuples FROM pg_class WHERE oid = to_regclass('{TRIGRAM_INDEX}'))"
)


def _similarity_setting(session: Session, threshold: float) -> float:
    """Set the transaction's word similarity threshold; the number of whole names (the
    trigram index's estimate, -1 before the table was first analyzed)."""
    row = session.connection().execute(_SIMILARITY_SETTING, {"threshold": str(threshold)}).one()
    return _names(row[1])


def _names(reltuples: Any) -> float:
    return float(reltuples) if reltuples is not None else -1.0


@cache
def _fuzzy_pass(typed: bool, forms: int, below: bool, ordered: bool) -> _Candidates:
    """The names (PostgreSQL) at least as similar as the transaction's threshold, and less
    than `below` if given: if `ordered`, the most similar first; else the first `limit`
    names found (of any type, so that a rare type reads no more), those of the types."""
    grams = col(_SN.grams)
    texts: list[Any] = [bindparam("folded"), bindparam("compact")][:forms]
    similarity = func.greatest(*(func.word_similarity(form, grams) for form in texts))
    found = _candidate_columns(typed and ordered).where(
        _WHOLE_NAME, or_(*(form.op("<%")(grams) for form in texts))
    )
    if below:
        found = found.where(similarity < bindparam("below"))
    if ordered:
        order = _by_name(col(_SN.key), col(_SN.entity_type), col(_SN.entity_id), "postgresql")
        return found.order_by(similarity.desc(), *order).limit(bindparam("limit"))
    read = _first_read(found, "similar", bindparam("limit"))
    statement = _candidates_of(read)
    if typed:
        statement = statement.where(read.c.entity_type.in_(bindparam("types", expanding=True)))
    return statement


@cache
def _sqlite_fuzzy(typed: bool) -> _Candidates:
    statement = (
        _candidate_columns(typed)
        .join(_FTS, _FTS.c.rowid == col(_SN.id))
        .where(_FTS_MATCH(bindparam("any_trigram")))
        .order_by(_FTS.c.rank)
    )
    return _then_by_name(statement, "sqlite")


def fuzzy_passes(
    session: Session, needle: Needle, types: Sequence[str] | None, *, names: float | None = None
) -> Iterator[list[Candidate]]:
    """Names that may be a typo or two away from the query (up to CANDIDATES in all), in
    passes of falling similarity on a large table, else in one. `names`: the number of whole
    names, when the caller has read it and set the threshold to fuzzy_threshold (PostgreSQL,
    in one statement with its own)."""
    if not needle.fuzzy_searchable:
        return
    values = _values(needle, types)
    typed = bool(types)
    if _dialect(session) != "postgresql":
        yield _fetch(session, _sqlite_fuzzy(typed), values)
        return
    forms = 1 if needle.folded == needle.compact else 2
    floor = fuzzy_threshold(needle)
    if names is None:
        names = _similarity_setting(session, floor)
    if names <= LARGE_TABLE:
        values["limit"] = CANDIDATES
        yield _fetch(session, _fuzzy_pass(typed, forms, False, True), values)
        return
    # Each pass reads at most the names still wanted (of any type): in all, CANDIDATES
    # names of the types, or as many passes of CANDIDATES names of any type.
    kept = 0
    below: float | None = None
    last = max(floor, FUZZY_PASSES[-1])
    for threshold in sorted({*(t for t in FUZZY_PASSES if t > last), last}, reverse=True):
        _similarity_setting(session, threshold)
        values.update(below=below, limit=CANDIDATES - kept)
        found = _fetch(session, _fuzzy_pass(typed, forms, below is not None, False), values)
        yield found
        kept += len(found)
        if kept >= CANDIDATES:
            return
        below = threshold


# Reading ---------------------------------------------------------------------------------


def parse_needle(q: str) -> Needle:
    needle = Needle.parse(q)
    if needle is None:
        raise InvalidParameter("q", "nothing to search for: give at least one letter or digit")
    return needle


def _rank(candidate: Candidate, match: Match, folded: str) -> tuple[Any, ...]:
    """Best first; ties broken the same way on every database."""
    return (
        -match.score,
        not candidate.is_primary,
        len(compact(folded)),
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
    """The items whose name, alias or title matches `q`, best first (one per item).

    The stages run in turn until one fills the page: every later stage scores lower."""
    needle = parse_needle(q)
    dialect = _dialect(session)
    typed = bool(types)
    values = _values(needle, types)
    best: dict[tuple[str, str], tuple[tuple[Any, ...], Candidate, Match]] = {}

    def judge(found: list[Candidate]) -> int:
        """How many more items the page takes."""
        for candidate in found:
            folded = _fold(candidate.name)
            match = classify_folded(needle, folded)
            if match is None:
                continue
            item = (candidate.entity_type, candidate.entity_id)
            rank = _rank(candidate, match, folded)
            if item not in best or rank < best[item][0]:
                best[item] = (rank, candidate, match)
        return limit - len(best)

    # The later-word matches alone fill the page when they are `needed` items or more.
    values["needed"] = limit
    if judge(_fetch(session, _prefix_statement(dialect, whole=True), values)) > 0:
        later = _later_statement(dialect, typed, needle.substring_searchable)
        if judge(_fetch(session, later, values)) > 0:
            for found in fuzzy_passes(session, needle, types):
                if judge(found) <= 0:  # a page of the most similar names' typos
                    break
    hits = sorted(best.values(), key=lambda entry: entry[0])[:limit]
    names = _primary_names(
        session,
        [(hit[1].entity_type, hit[1].entity_id) for hit in hits if not hit[1].is_primary],
    )
    return [
        {
            "type": candidate.entity_type,
            "id": candidate.entity_id,
            "name": (
                candidate.name
                if candidate.is_primary
                else names.get((candidate.entity_type, candidate.entity_id), candidate.name)
            ),
            "matched": candidate.name,
            "match": match.kind.value,
            "score": match.score,
        }
        for _, candidate, match in hits
    ]


# A collection's q ---------------------------------------------------------------------
#
# Its statement is built for the request (with anonymous bound parameters: it goes into the
# collection's own statement).

# Names matching but for typos from which a collection's q is taken as common: its items
# are found by the collection's own order (the planner's choice), not all read first.
COMMON = 20_000


def _value(value: str) -> Any:
    """A value written into the statement: the plan is made for it, never a generic plan for
    any prefix (which reads the collection in its order through a prefix's every item)."""
    return bindparam(None, value, literal_execute=True)


def _direct(needle: Needle, entity_type: str, dialect: str) -> ColumnElement[bool]:
    """A name of the type with a word key starting with the query, or containing it."""
    key = col(_SN.key)
    found = and_(key >= _value(needle.compact), key < _value(_successor(needle.compact)))
    if needle.substring_searchable:
        found = or_(found, _inside(needle, dialect))
    return and_(col(_SN.entity_type) == entity_type, found)


def _inside(needle: Needle, dialect: str) -> ColumnElement[bool]:
    """A whole name containing the query (3 characters or more)."""
    if dialect == "postgresql":
        return and_(_WHOLE_NAME, col(_SN.grams).like(_value(f"%{needle.compact}%")))
    phrase = select(_FTS.c.rowid).where(_FTS_MATCH(f'"{needle.compact}"'))
    return and_(_WHOLE_NAME, col(_SN.id).in_(phrase))


def _key_probes(low: Any, high: Any, length: Any, entity_type: Any) -> list[Any]:
    """The ids of the names of the type with a word key from `low` to `high` (starting with
    the query, of `length` characters), PostgreSQL: for each key length, an index-only probe
    of the prefix indexes, of that type only. Values or bound parameters."""
    key, item = col(_SN.key), col(_SN.entity_id)
    parts: list[Any] = []
    for number, rows in enumerate((_WHOLE_NAME, _LATER_WORD)):
        longest = select(func.max(func.length(key))).where(rows).scalar_subquery()
        lengths = (
            func.generate_series(length, longest)
            .table_valued("n")
            .render_derived(name=f"lengths_{number}")
        )
        keys = (
            select(item)
            .where(
                rows,
                func.length(key) == lengths.c.n,
                col(_SN.entity_type) == entity_type,
                key >= low,
                key < high,
            )
            .offset(0)  # a probe per length, not one join of every key in the range
            .lateral(f"keys_{number}")
        )
        parts.append(select(keys.c.entity_id).select_from(lengths).join(keys, true()))
    return parts


def _substrings(pattern: Any, entity_type: Any) -> Any:
    """The ids of the whole names of the type containing the query (PostgreSQL)."""
    inside = and_(_WHOLE_NAME, col(_SN.grams).like(pattern))
    return select(col(_SN.entity_id)).where(col(_SN.entity_type) == entity_type, inside)


def _count(parts: Sequence[Any], cap: int) -> Any:
    """The rows of `parts` together, counted up to `cap` (a scalar subquery)."""
    some = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    first = select(some.c.entity_id).limit(cap).subquery()
    return select(func.count()).select_from(first).scalar_subquery()


@cache
def _direct_counts(substring: bool, fuzzy: bool) -> Any:
    """One statement (PostgreSQL): the number of whole names (the trigram index's estimate),
    the type's word-key matches (up to COMMON) and substring matches (up to CANDIDATES), and,
    for a query that may have typos, the fuzzy threshold set for the passes that follow."""
    entity_type: Any = bindparam("entity_type")
    probes = _key_probes(bindparam("low"), bindparam("high"), bindparam("length"), entity_type)
    size: Any = select(literal_column("reltuples")).select_from(table("pg_class"))
    size = size.where(literal_column("oid") == func.to_regclass(TRIGRAM_INDEX))
    columns = [size.scalar_subquery(), _count(probes, COMMON)]
    if substring:
        columns.append(_count([_substrings(bindparam("pattern"), entity_type)], CANDIDATES))
    if fuzzy:
        setting = "pg_trgm.word_similarity_threshold"
        columns.append(func.set_config(setting, bindparam("threshold"), True))
    return select(*columns)


def matching_condition(session: Session, table_: type[SQLModel], q: str) -> ColumnElement[bool]:
    """The `q` filter of a collection: the item has a name matching as in `search`.

    A `q` with no letter or digit is refused (422 naming `q`), as by `search`.
    An `id IN (...)` condition, so it composes with the other filters and keyset pages:
    word-key and substring matches as a subquery, fuzzy ones as the ids found among the
    (bounded) trigram candidates, looked for only when fewer than CANDIDATES names of the
    collection match but for typos (as a search stops at a page of better matches).

    On a large table (PostgreSQL) the word keys are counted first (index-only, up to
    COMMON): a q of fewer matches reads its names by the prefix indexes, probes of its own
    type; a common one leaves the planner to read the collection in its order.
    """
    entity_type, item_id = TABLE_TYPES[table_]
    needle = parse_needle(q)
    dialect = _dialect(session)
    named: Any = select(col(_SN.entity_id)).where(_direct(needle, entity_type, dialect))
    names: float | None = None
    if dialect == "postgresql":
        values = _values(needle, None)
        values.update(entity_type=entity_type, threshold=str(fuzzy_threshold(needle)))
        counts = _direct_counts(needle.substring_searchable, needle.fuzzy_searchable)
        row = session.connection().execute(counts, values).one()
        names, keys = _names(row[0]), int(row[1])
        direct = keys + (int(row[2]) if needle.substring_searchable else 0)
        if names > LARGE_TABLE and keys < COMMON:
            low, high, length = needle.compact, _successor(needle.compact), len(needle.compact)
            parts = _key_probes(low, high, length, entity_type)
            if needle.substring_searchable:
                parts.append(_substrings(f"%{needle.compact}%", entity_type))
            named = select(union_all(*parts).subquery("named").c.entity_id)
    else:
        direct = int(session.connection().execute(select(_count([named], CANDIDATES))).scalar_one())
    condition: ColumnElement[bool] = item_id.in_(named)
    if direct >= CANDIDATES:
        return condition
    fuzzy = sorted(
        {
            c.entity_id
            for found in fuzzy_passes(session, needle, [entity_type], names=names)
            for c in found
            if classify(needle, c.name) is not None
        }
    )
    if fuzzy and dialect == "postgresql":
        # One set of ids (not an OR of two, which PostgreSQL reads as a filter of each item).
        typos = listed_values(column("entity_id", String), name="typos").data([(i,) for i in fuzzy])
        condition = item_id.in_(union_all(named, select(typos.c.entity_id)))
    elif fuzzy:
        condition = or_(condition, item_id.in_(fuzzy))
    return condition
