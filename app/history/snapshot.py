"""The dataset as recorded at an instant (`as_of=<timestamp>`), for lists and single items.

Every revision keeps the item's default representation after the write (`state`), so the
latest revision of each item at or before the instant is the item as known then; none, or a
delete, means it was not in the dataset then. Those states are filtered, sorted, embedded and
paged here, in Python, so both databases answer alike. Filters, `sort`, `include` and
`fields` mean what they mean on the current lists, applied to the states of that instant:
an embedded developer, a developer's country, a cited document are as recorded then too.

A page reads every state of its collection at the instant (any sort field needs them all);
that is one query per collection and the price of a historical read, not of current ones.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import functools
import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlmodel import Session, col, func, select

from app.ai_models import service as models
from app.api import PageParams
from app.chip_support import service as chip_support
from app.chips import service as chips
from app.documents import service as documents
from app.errors import InvalidParameter
from app.history.service import state_at, to_utc
from app.investments import service as investments
from app.listing import SortKey, SortSpec, parse_sort
from app.models import Revision
from app.organizations import service as organizations
from app.search.matching import classify
from app.search.service import parse_needle
from app.views import View

Item = dict[str, Any]
Test = Callable[[Item], bool]
# A filter's value and the snapshot it reads referenced items from -> the test of a state.
Filter = Callable[[Any, "Snapshot"], Test]

_CURSOR_VERSION = 1


def _recorded(
    session: Session, entity_type: str, at: dt.datetime, ids: Sequence[str] | None
) -> Iterator[tuple[str, Item]]:
    """(id, state) of each item as recorded at `at`, streamed (never the whole table held)."""
    latest = select(func.max(Revision.id)).where(
        Revision.entity_type == entity_type, col(Revision.recorded_at) <= at
    )
    if ids is not None:
        latest = latest.where(col(Revision.entity_id).in_(ids))
    statement = select(col(Revision.entity_id), col(Revision.state)).where(
        col(Revision.id).in_(latest.group_by(col(Revision.entity_id))),
        col(Revision.action) != "delete",
    )
    for entity_id, state in session.exec(statement.execution_options(yield_per=1000)):
        if isinstance(state, dict):
            yield entity_id, dict(state)


def _states(
    session: Session, entity_type: str, at: dt.datetime, ids: Sequence[str] | None
) -> dict[str, Item]:
    return dict(_recorded(session, entity_type, at, ids))


class Snapshot:
    """The recorded states at one instant, each collection (or set of ids) read once."""

    def __init__(self, session: Session, at: dt.datetime) -> None:
        self.session = session
        self.at = to_utc(at)
        self._all: dict[str, dict[str, Item]] = {}

    def all(self, entity_type: str) -> dict[str, Item]:
        if entity_type not in self._all:
            self._all[entity_type] = _states(self.session, entity_type, self.at, None)
        return self._all[entity_type]

    def some(self, entity_type: str, ids: Iterable[str]) -> dict[str, Item]:
        wanted = sorted(set(ids))
        if entity_type in self._all:
            known = self._all[entity_type]
            return {i: known[i] for i in wanted if i in known}
        return _states(self.session, entity_type, self.at, wanted) if wanted else {}


# Filters ---------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A filter value as states hold it (dates are ISO strings, which sort as dates)."""
    return value.isoformat() if isinstance(value, dt.date) else value


def _less(a: Any, b: Any) -> bool:
    try:
        return bool(a < b)
    except TypeError:
        # A value recorded with another type than its field has now: a stable order anyway.
        return (type(a).__name__, str(a)) < (type(b).__name__, str(b))


def one_of(name: str) -> Filter:
    def build(values: Any, _: Snapshot) -> Test:
        wanted = tuple(values)
        return lambda item: item.get(name) is not None and item.get(name) in wanted

    return build


def is_null(name: str) -> Filter:
    def build(flag: Any, _: Snapshot) -> Test:
        return lambda item: (item.get(name) is None) == flag

    return build


def equal(name: str) -> Filter:
    def build(value: Any, _: Snapshot) -> Test:
        return lambda item: item.get(name) is not None and item.get(name) == value

    return build


def at_least(name: str) -> Filter:
    def build(bound: Any, _: Snapshot) -> Test:
        low = _plain(bound)
        return lambda item: item.get(name) is not None and not _less(item[name], low)

    return build


def at_most(name: str) -> Filter:
    def build(bound: Any, _: Snapshot) -> Test:
        high = _plain(bound)
        return lambda item: item.get(name) is not None and not _less(high, item[name])

    return build


def matching(names: Callable[[Item], Sequence[Any]]) -> Filter:
    """`q`: a name matching as in `GET /v1/search` (the names recorded then)."""

    def build(q: Any, _: Snapshot) -> Test:
        needle = parse_needle(q)
        return lambda item: any(
            isinstance(n, str) and classify(needle, n) is not None for n in names(item)
        )

    return build


def _names(item: Item) -> list[Any]:
    return [item.get("name"), *(item.get("aliases") or [])]


def _referenced_country(source: str) -> Filter:
    def build(values: Any, snapshot: Snapshot) -> Test:
        wanted = tuple(values)
        orgs = snapshot.all("organization")
        return lambda item: (orgs.get(item.get(source) or "") or {}).get("country") in wanted

    return build


def _investor_ids(item: Item) -> list[Any]:
    return [i.get("organization_id") for i in item.get("investors") or [] if isinstance(i, dict)]


def _investor_in(values: Any, _: Snapshot) -> Test:
    wanted = tuple(values)
    return lambda item: any(o in wanted for o in _investor_ids(item))


def _investor_country(values: Any, snapshot: Snapshot) -> Test:
    wanted = tuple(values)
    orgs = snapshot.all("organization")
    return lambda item: any(
        (orgs.get(o or "") or {}).get("country") in wanted for o in _investor_ids(item)
    )


def _taking_part(organization_id: Any, _: Snapshot) -> Test:
    return lambda item: (
        organization_id in _investor_ids(item) or item.get("recipient_id") == organization_id
    )


# Collections -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Collection:
    entity: str
    sort: SortSpec
    # filter field (as in the collection's XFilters) -> how a recorded state is tested
    filters: Mapping[str, Filter]
    # include name -> (the id field it follows, the entity type it names)
    embeds: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    includes: frozenset[str] = frozenset({"citations", "documents"})


_ORG = "organization"
COLLECTIONS: dict[str, Collection] = {
    c.entity: c
    for c in (
        Collection(
            "organization",
            organizations.SORT,
            {
                "q": matching(_names),
                "kind": one_of("kind"),
                "country": one_of("country"),
                "parent_id": one_of("parent_id"),
                "country_null": is_null("country"),
                "city_null": is_null("city"),
                "parent_id_null": is_null("parent_id"),
                "disputed": equal("disputed"),
            },
            {"parent": ("parent_id", _ORG)},
        ),
        Collection(
            "model",
            models.SORT,
            {
                "q": matching(_names),
                "developer_id": one_of("developer_id"),
                "developer_country": _referenced_country("developer_id"),
                "open_weights": equal("open_weights"),
                "reasoning": equal("reasoning"),
                "parameters_gte": at_least("parameters"),
                "parameters_lte": at_most("parameters"),
                "active_parameters_gte": at_least("active_parameters"),
                "active_parameters_lte": at_most("active_parameters"),
                "release_date_from": at_least("release_date"),
                "release_date_to": at_most("release_date"),
                "parameters_null": is_null("parameters"),
                "active_parameters_null": is_null("active_parameters"),
                "developer_id_null": is_null("developer_id"),
                "release_date_null": is_null("release_date"),
                "open_weights_null": is_null("open_weights"),
                "reasoning_null": is_null("reasoning"),
                "license_null": is_null("license"),
                "disputed": equal("disputed"),
            },
            {"developer": ("developer_id", _ORG)},
        ),
        Collection(
            "chip",
            chips.SORT,
            {
                "q": matching(_names),
                "vendor_id": one_of("vendor_id"),
                "vendor_id_null": is_null("vendor_id"),
                "disputed": equal("disputed"),
            },
            {"vendor": ("vendor_id", _ORG)},
        ),
        Collection(
            "chip_support",
            chip_support.SORT,
            {
                "model_id": one_of("model_id"),
                "chip_id": one_of("chip_id"),
                "vendor_id": one_of("vendor_id"),
                "relation": one_of("relation"),
                "announced_from": at_least("announced_on"),
                "announced_to": at_most("announced_on"),
                "as_of": at_most("announced_on"),
                "chip_id_null": is_null("chip_id"),
                "vendor_id_null": is_null("vendor_id"),
                "announced_on_null": is_null("announced_on"),
                "disputed": equal("disputed"),
            },
            {
                "model": ("model_id", "model"),
                "chip": ("chip_id", "chip"),
                "vendor": ("vendor_id", _ORG),
            },
        ),
        Collection(
            "investment",
            investments.SORT,
            {
                "q": matching(_names),
                "kind": one_of("kind"),
                "status": one_of("status"),
                "investor_id": _investor_in,
                "investor_country": _investor_country,
                "recipient_id": one_of("recipient_id"),
                "organization_id": _taking_part,
                # A range reaches a bound when any value in it could satisfy the bound.
                "amount_usd_gte": at_least("amount_usd_max"),
                "amount_usd_lte": at_most("amount_usd_min"),
                "announced_from": at_least("announced_on"),
                "announced_to": at_most("announced_on"),
                "as_of": at_most("announced_on"),
                "amount_null": is_null("amount_usd_min"),
                "recipient_id_null": is_null("recipient_id"),
                "announced_on_null": is_null("announced_on"),
                "disputed": equal("disputed"),
            },
            {"recipient": ("recipient_id", _ORG)},
            frozenset({"citations", "documents", "investors"}),
        ),
        Collection(
            "document",
            documents.SORT,
            {
                "q": matching(lambda item: [item.get("title")]),
                "language": one_of("language"),
                "published_from": at_least("published_on"),
                "published_to": at_most("published_on"),
            },
            includes=frozenset(),
        ),
    )
}


def _tests(collection: Collection, filters: object | None, snapshot: Snapshot) -> list[Test]:
    if filters is None:
        return []
    assert dataclasses.is_dataclass(filters)
    tests: list[Test] = []
    for f in dataclasses.fields(filters):
        value = getattr(filters, f.name)
        if value is None:
            continue
        build = collection.filters.get(f.name)
        if build is None:
            # Never ignored silently: a filter without a meaning here is refused.
            raise InvalidParameter(f.name, "not supported together with a timestamp as_of")
        tests.append(build(value, snapshot))
    return tests


# Order and cursors -----------------------------------------------------------------------


def _sort_values(item: Item, keys: Sequence[SortKey]) -> list[Any]:
    return [item.get(k.name) for k in keys]


def _compare(a: Sequence[Any], b: Sequence[Any], keys: Sequence[SortKey]) -> int:
    """As the current lists order: by each key, nulls last in both directions."""
    for x, y, key in zip(a, b, keys, strict=True):
        if x == y:
            continue
        if x is None:
            return 1
        if y is None:
            return -1
        order = -1 if _less(x, y) else 1
        return -order if key.descending else order
    return 0


def _signature(spec: SortSpec, keys: Sequence[SortKey], at: dt.datetime) -> str:
    # Bound to the instant: a page of another instant (or of the current list) is another list.
    sort = ",".join(("-" if k.descending else "") + k.name for k in keys)
    return f"{spec.collection}:{sort}@{at.isoformat()}"


def _encode_cursor(
    spec: SortSpec, keys: Sequence[SortKey], at: dt.datetime, values: list[Any]
) -> str:
    payload = [_CURSOR_VERSION, _signature(spec, keys, at), values]
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def _valid_value(value: Any, column: Any) -> bool:
    if value is None:
        return bool(column.nullable)
    python_type = column.type.python_type
    if python_type is dt.date:
        if not isinstance(value, str):
            return False
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return False
        return True
    if python_type is bool:
        return isinstance(value, bool)
    if python_type is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, str)


def _decode_cursor(raw: str, spec: SortSpec, keys: Sequence[SortKey], at: dt.datetime) -> list[Any]:
    malformed = InvalidParameter("cursor", "malformed cursor; pass next_cursor as given")
    try:
        padded = raw + "=" * (-len(raw) % 4)
        version, signature, values = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, TypeError, binascii.Error):
        raise malformed from None
    if version != _CURSOR_VERSION or signature != _signature(spec, keys, at):
        raise InvalidParameter(
            "cursor", "this cursor belongs to another collection, sort order or as_of"
        )
    if not isinstance(values, list) or len(values) != len(keys):
        raise malformed
    if not all(_valid_value(v, spec.fields[k.name]) for v, k in zip(values, keys, strict=True)):
        raise malformed
    return values


# Rendering -------------------------------------------------------------------------------


def _bare(state: Item | None) -> Item | None:
    """An embedded item as the current lists embed it: without its citations."""
    if state is None:
        return None
    return {k: v for k, v in state.items() if k != "citations"}


def _render(
    snapshot: Snapshot,
    collection: Collection,
    states: Sequence[Item],
    view: View,
    *,
    always_cite: bool,
) -> list[Item]:
    include = view.include
    refused = include - collection.includes - set(collection.embeds)
    if refused:
        raise InvalidParameter(
            "include", f"{', '.join(sorted(refused))} cannot be embedded in this collection"
        )
    items = [dict(s) for s in states]
    for item in items:
        if isinstance(item.get("investors"), list):
            item["investors"] = [dict(i) for i in item["investors"]]
    if "documents" in include:
        used = [
            list(dict.fromkeys(c["document_id"] for c in item.get("citations") or []))
            for item in items
        ]
        found = snapshot.some("document", [d for ids in used for d in ids])
        for item, ids in zip(items, used, strict=True):
            item["documents"] = [found[d] for d in ids if d in found]
    for name, (source, entity_type) in collection.embeds.items():
        if name not in include:
            continue
        embedded = snapshot.some(entity_type, [i[source] for i in items if i.get(source)])
        for item in items:
            ref = item.get(source)
            item[name] = _bare(embedded.get(ref)) if ref else None
    if "investors" in include:
        orgs = snapshot.some(_ORG, [o for item in items for o in _investor_ids(item) if o])
        for item in items:
            for investor in item.get("investors") or []:
                investor["organization"] = _bare(orgs.get(investor.get("organization_id")))
    cite = always_cite or "citations" in include
    if not cite:
        for item in items:
            item.pop("citations", None)
    if view.fields is not None:
        keep = set(view.fields) | (include - {"citations"})
        if cite:
            keep.add("citations")
        items = [{k: v for k, v in item.items() if k in keep} for item in items]
    return items


# Reading ---------------------------------------------------------------------------------


def list_at(
    *,
    session: Session,
    entity_type: str,
    at: dt.datetime,
    filters: object | None,
    page: PageParams,
    view: View = View(),
) -> tuple[list[Item], str | None]:
    """One page of the collection as recorded at `at`, and the cursor of the next one."""
    collection = COLLECTIONS[entity_type]
    snapshot = Snapshot(session, at)
    keys = parse_sort(page.sort, collection.sort)
    after = _decode_cursor(page.cursor, collection.sort, keys, snapshot.at) if page.cursor else None
    tests = _tests(collection, filters, snapshot)

    def candidates() -> Iterator[tuple[list[Any], Item]]:
        for _, state in _recorded(session, entity_type, snapshot.at, None):
            if all(test(state) for test in tests):
                values = _sort_values(state, keys)
                if after is None or _compare(values, after, keys) > 0:
                    yield values, state

    def by_keys(a: tuple[list[Any], Item], b: tuple[list[Any], Item]) -> int:
        return _compare(a[0], b[0], keys)

    # Only the page (and one more, to know there is a next) is held, whatever the table's size.
    rows = heapq.nsmallest(page.limit + 1, candidates(), key=functools.cmp_to_key(by_keys))
    chosen = rows[: page.limit]
    next_cursor = None
    if len(rows) > page.limit:
        next_cursor = _encode_cursor(collection.sort, keys, snapshot.at, chosen[-1][0])
    items = _render(snapshot, collection, [s for _, s in chosen], view, always_cite=False)
    return items, next_cursor


def item_at(
    *, session: Session, entity_type: str, item_id: str, at: dt.datetime, view: View = View()
) -> Item:
    """The item as recorded at `at` (404 if it did not exist then, 410 if deleted by then),
    with what `view` asks for as recorded then too."""
    state = state_at(session, entity_type, item_id, at)
    snapshot = Snapshot(session, at)
    return _render(snapshot, COLLECTIONS[entity_type], [state], view, always_cite=True)[0]
