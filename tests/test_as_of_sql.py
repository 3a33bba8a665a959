"""as_of lists read in SQL (app/history/snapshot.py) against a plain reading of the same
revisions in Python, on both databases.

A history is written straight into the revisions table: items created, changed several
times, deleted, created again; two revisions of one item at the same instant (the later id
wins), a revision recorded after a later one (a backfill: the highest id at or before the
instant wins, whatever the times), values that tie, nulls in every nullable field, names
that differ only by case or accent, large integers. At instants before, between, exactly at
and after the writes, every page of every case (sort, filters, cursor pages of 1 and 500
items) must together be the reference's whole list: the latest revision of each item at
or before the instant, deletes dropped, filtered, sorted (nulls last, ties by id) in Python.
Each case runs both ways a filter can be read: by its field's index when it finds few rows,
or in the list's order with the filter tested (`_PROBE` set to 0 forces the second).
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, insert, literal, select, union_all
from sqlmodel import Session

from app.ai_models.service import ModelFilters
from app.api import PageParams
from app.history import snapshot
from app.history.snapshot import COLLECTIONS, list_at
from app.investments.service import InvestmentFilters
from app.listing import parse_sort
from app.models import metadata
from app.organizations.service import OrganizationFilters
from app.search.matching import classify
from app.search.service import parse_needle
from tests.conftest import DatabaseFactory, migrated_engine

State = dict[str, Any]
T0 = dt.datetime(2026, 3, 1, 12, 0, 0)
NAMES = ["alpha", "Alpha", "beta", "École", "ecole", "Zeta", "zeta", "Ωmega", "delta", "alpha"]
PARAMETERS = [None, 7, 70, 70, 405, 10**12, 5 * 10**11, 3]
DATES = [None, "2024-01-01", "2025-02-01", "2025-02-01", "2023-12-31"]
COUNTRIES = [None, "CN", "US", "FR"]


@dataclass(frozen=True)
class Rev:
    entity_type: str
    entity_id: str
    action: str
    recorded_at: dt.datetime
    state: State | None


def _history() -> list[Rev]:
    """The writes, in the order of their ids."""
    rng = random.Random(20261202)
    revs: list[Rev] = []
    clock = [T0]

    def tick(seconds: int = 1) -> dt.datetime:
        clock[0] += dt.timedelta(seconds=seconds)
        return clock[0]

    def organization(org_id: str) -> State:
        return {"id": org_id, "name": org_id.upper(), "kind": "lab", "disputed": False}

    orgs = {f"org-{c}": rng.choice(COUNTRIES) for c in "abcdef"}
    for org_id, country in orgs.items():
        state = {**organization(org_id), "country": country}
        revs.append(Rev("organization", org_id, "create", tick(), state))
    developers = [*orgs, None]

    def model(model_id: str) -> State:
        return {
            "id": model_id,
            "name": rng.choice(NAMES),
            "aliases": rng.choice([[], ["Deep One"], ["Alpha Prime", "A1"]]),
            "developer_id": rng.choice(developers),
            "parameters": rng.choice(PARAMETERS),
            "active_parameters": rng.choice(PARAMETERS),
            "open_weights": rng.choice([True, False, None]),
            "reasoning": rng.choice([True, False, None]),
            "release_date": rng.choice(DATES),
            "license": rng.choice([None, "mit"]),
            "disputed": rng.random() < 0.2,
        }

    def investment(investment_id: str) -> State:
        investors = [
            {"organization_id": o, "role": rng.choice(["lead", "partner"])}
            for o in rng.sample(list(orgs), rng.choice([0, 1, 2]))
        ]
        low = rng.choice([None, 10**9, 5 * 10**10, 6 * 10**10])
        return {
            "id": investment_id,
            "name": rng.choice(NAMES),
            "kind": rng.choice(["equity", "capital_expenditure"]),
            "status": rng.choice(["announced", "disputed"]),
            "recipient_id": rng.choice(developers),
            "amount_usd_min": low,
            "amount_usd_max": None if low is None else low + rng.choice([0, 10**10]),
            "announced_on": rng.choice(DATES),
            "investors": investors,
            "disputed": False,
        }

    # Ids that sort differently by character and by "word": a hyphen before a digit, etc.
    ids = [f"m-{i}" for i in range(18)] + ["m1", "m-1a", "mb", "m-z"]
    for model_id in ids:
        revs.append(Rev("model", model_id, "create", tick(), model(model_id)))
    for investment_id in ["i-1", "i-2", "i-10", "i-b", "i-a", "i3", "i-c", "i-d"]:
        revs.append(Rev("investment", investment_id, "create", tick(), investment(investment_id)))
    latest = {r.entity_id: r for r in revs}
    # Changes, deletes and creates again, in random order.
    for _ in range(70):
        kind = rng.choice(["model", "model", "model", "investment", "organization"])
        entity_id = rng.choice([i for i, r in latest.items() if r.entity_type == kind])
        old = latest[entity_id]
        at = tick(rng.choice([1, 1, 2]))
        if old.action == "delete":
            if kind == "organization":
                fresh = {**organization(entity_id), "country": rng.choice(COUNTRIES)}
            else:
                fresh = (model if kind == "model" else investment)(entity_id)
            new = Rev(kind, entity_id, "create", at, fresh)
        elif rng.random() < 0.15:
            new = Rev(kind, entity_id, "delete", at, None)
        else:
            assert old.state is not None
            state = dict(old.state)
            if kind == "organization":
                state["country"] = rng.choice(COUNTRIES)
            else:
                changed = (model if kind == "model" else investment)(entity_id)
                for key in rng.sample(sorted(changed), 3):
                    state[key] = changed[key]
            new = Rev(kind, entity_id, "update", at, state)
        revs.append(new)
        latest[entity_id] = new
        if rng.random() < 0.1 and new.state is not None:
            # A second revision of the item at the same instant: the later id wins.
            again = {**new.state, "name": rng.choice(NAMES)}
            revs.append(Rev(kind, entity_id, "update", at, again))
            latest[entity_id] = revs[-1]
    # A backfill: recorded before the last writes, written after them (a higher id).
    target = next(r for r in reversed(revs) if r.entity_type == "model" and r.state is not None)
    assert target.state is not None
    backfill = {**target.state, "name": "backfilled", "parameters": 123}
    revs.append(Rev("model", target.entity_id, "update", T0 + dt.timedelta(seconds=30), backfill))
    return revs


HISTORY = _history()
LAST = max(r.recorded_at for r in HISTORY)
INSTANTS = [
    T0,  # before everything
    T0 + dt.timedelta(seconds=12),  # some organizations and models only
    T0 + dt.timedelta(seconds=30),  # exactly at the backfill's time
    T0 + dt.timedelta(seconds=30, microseconds=-1),
    T0 + dt.timedelta(seconds=55),
    T0 + dt.timedelta(seconds=95),
    LAST,
    LAST + dt.timedelta(days=1),
]


def write_history(engine: Engine, history: list[Rev]) -> None:
    """The revisions, one insert each (their ids follow the list's order)."""
    revisions = metadata.tables["revisions"]
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        for r in history:
            counts[r.entity_id] = counts.get(r.entity_id, 0) + 1
            row = {
                "entity_type": r.entity_type,
                "entity_id": r.entity_id,
                "revision": counts[r.entity_id],
                "action": r.action,
                "actor": "test",
                "recorded_at": r.recorded_at,
                "reason": None,
                "diff": {},
                "citations": [],
                "state": r.state,
            }
            conn.execute(insert(revisions), row)


@pytest.fixture(scope="module")
def history_engine(databases: DatabaseFactory, backend: str) -> Iterator[Engine]:
    engine = migrated_engine(databases, backend)
    write_history(engine, HISTORY)
    yield engine
    engine.dispose()


# --- the reference -------------------------------------------------------------------------


def states_at(entity_type: str, at: dt.datetime) -> dict[str, State]:
    latest: dict[str, Rev] = {}
    for r in HISTORY:  # in id order: a later id replaces an earlier one
        if r.entity_type == entity_type and r.recorded_at <= at:
            latest[r.entity_id] = r
    return {i: dict(r.state) for i, r in latest.items() if r.action != "delete" and r.state}


def text_order(engine: Engine) -> dict[str, int]:
    """Every string of the history ranked as the database orders text (its collation)."""
    values: set[str] = set()
    for r in HISTORY:
        values.add(r.entity_id)
        for v in (r.state or {}).values():
            if isinstance(v, str):
                values.add(v)
    parts = [select(literal(v).label("v")) for v in sorted(values)]
    merged = union_all(*parts).subquery()
    with engine.connect() as conn:
        ordered = list(conn.execute(select(merged.c.v).order_by(merged.c.v)).scalars())
    return {v: i for i, v in enumerate(ordered)}


def reference(
    engine: Engine, entity_type: str, at: dt.datetime, sort: str | None, keep: Keep
) -> list[State]:
    ranks = text_order(engine)
    orgs = states_at("organization", at)
    kept = [s for s in states_at(entity_type, at).values() if keep(s, orgs)]
    keys = parse_sort(sort, COLLECTIONS[entity_type].sort)

    def compare(a: State, b: State) -> int:
        for key in keys:
            x, y = a.get(key.name), b.get(key.name)
            if x == y:
                continue
            if x is None:
                return 1
            if y is None:
                return -1
            if isinstance(x, str):
                x, y = ranks[x], ranks[y]
            order = -1 if x < y else 1
            return -order if key.descending else order
        return 0

    return sorted(kept, key=functools.cmp_to_key(compare))


Keep = Callable[[State, dict[str, State]], bool]


def investor_ids(state: State) -> list[Any]:
    return [i.get("organization_id") for i in state.get("investors") or []]


def country_of(orgs: dict[str, State], org_id: Any) -> Any:
    return (orgs.get(org_id or "") or {}).get("country")


def every(_: State, __: dict[str, State]) -> bool:
    return True


def named(state: State, q: str) -> bool:
    """`q` as GET /v1/search matches names (the matching itself is tested elsewhere)."""
    needle = parse_needle(q)
    return any(classify(needle, n) is not None for n in [state["name"], *state["aliases"]])


@dataclass(frozen=True)
class Case:
    entity_type: str
    sort: str | None = None
    filters: object | None = None
    keep: Keep = every


CASES = [
    Case("model"),
    Case("model", "-name"),
    Case("model", "parameters"),
    Case("model", "-parameters"),
    Case("model", "release_date"),
    Case("model", "-release_date"),
    Case("model", "-developer_id,name"),
    Case("model", "developer_id,-parameters"),
    Case("model", "-developer_id,release_date"),
    Case("model", "release_date,parameters"),
    Case("model", "id"),
    Case("model", "-id"),
    Case(
        "model",
        "-parameters",
        ModelFilters(developer_id=("org-a", "org-c")),
        lambda s, _: s.get("developer_id") in ("org-a", "org-c"),
    ),
    Case(
        "model",
        None,
        ModelFilters(developer_country=("CN", "FR")),
        lambda s, orgs: country_of(orgs, s.get("developer_id")) in ("CN", "FR"),
    ),
    Case(
        "model",
        "-release_date",
        ModelFilters(open_weights=True, disputed=False),
        lambda s, _: s.get("open_weights") is True and s.get("disputed") is False,
    ),
    Case(
        "model",
        None,
        ModelFilters(parameters_gte=70, parameters_lte=10**12),
        lambda s, _: s.get("parameters") is not None and 70 <= s["parameters"] <= 10**12,
    ),
    Case(
        "model",
        "parameters",
        ModelFilters(parameters_gte=70),
        lambda s, _: s.get("parameters") is not None and s["parameters"] >= 70,
    ),
    Case(
        "model",
        "name",
        ModelFilters(release_date_from=dt.date(2024, 1, 1), release_date_null=False),
        lambda s, _: s.get("release_date") is not None and s["release_date"] >= "2024-01-01",
    ),
    Case(
        "model",
        "-parameters",
        ModelFilters(parameters_null=True, license_null=False),
        lambda s, _: s.get("parameters") is None and s.get("license") is not None,
    ),
    Case(
        "model",
        None,
        ModelFilters(developer_id_null=True, reasoning=False),
        lambda s, _: s.get("developer_id") is None and s.get("reasoning") is False,
    ),
    Case("model", "-name", ModelFilters(q="alpha"), lambda s, _: named(s, "alpha")),
    Case(
        "model",
        "parameters",
        ModelFilters(q="ecole", developer_id=("org-a", "org-b", "org-d")),
        lambda s, _: named(s, "ecole") and s.get("developer_id") in ("org-a", "org-b", "org-d"),
    ),
    Case(
        "organization",
        "-country",
        OrganizationFilters(country=("CN", "US")),
        lambda s, _: s.get("country") in ("CN", "US"),
    ),
    Case("investment"),
    Case("investment", "-amount_usd_max"),
    Case("investment", "amount_usd_min"),
    Case(
        "investment",
        None,
        InvestmentFilters(investor_id=("org-b", "org-e")),
        lambda s, _: any(o in ("org-b", "org-e") for o in investor_ids(s)),
    ),
    Case(
        "investment",
        "-announced_on",
        InvestmentFilters(investor_country=("US",)),
        lambda s, orgs: any(country_of(orgs, o) == "US" for o in investor_ids(s)),
    ),
    Case(
        "investment",
        "name",
        InvestmentFilters(organization_id="org-c"),
        lambda s, _: "org-c" in investor_ids(s) or s.get("recipient_id") == "org-c",
    ),
    Case(
        "investment",
        "-amount_usd_max",
        InvestmentFilters(amount_usd_gte=5 * 10**10, kind=("equity",)),
        lambda s, _: (
            s.get("amount_usd_max") is not None
            and s["amount_usd_max"] >= 5 * 10**10
            and s.get("kind") == "equity"
        ),
    ),
    Case(
        "investment",
        None,
        InvestmentFilters(recipient_id=("org-a", "org-f"), announced_on_null=False),
        lambda s, _: (
            s.get("recipient_id") in ("org-a", "org-f") and s.get("announced_on") is not None
        ),
    ),
]


def pages(
    engine: Engine, case: Case, at: dt.datetime, limit: int
) -> Iterator[tuple[list[State], str | None]]:
    cursor: str | None = None
    for _ in range(1000):
        with Session(engine) as session:
            page = PageParams(limit=limit, cursor=cursor, sort=case.sort)
            items, cursor = list_at(
                session=session,
                entity_type=case.entity_type,
                at=at,
                filters=case.filters,
                page=page,
            )
        yield items, cursor
        if cursor is None:
            return
    raise AssertionError("the pages never end")


@pytest.mark.parametrize("read", ["by-index", "in-order"])
@pytest.mark.parametrize(
    "case", CASES, ids=lambda c: f"{c.entity_type}:{c.sort}:{type(c.filters).__name__}"
)
def test_every_page_at_every_instant_is_the_reference(
    history_engine: Engine, case: Case, read: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if read == "in-order":
        monkeypatch.setattr(snapshot, "_PROBE", 0)
    seen_any = False
    for at in INSTANTS:
        expected = reference(history_engine, case.entity_type, at, case.sort, case.keep)
        seen_any = seen_any or bool(expected)
        for limit in (1, 500):
            got: list[State] = []
            for items, cursor in pages(history_engine, case, at, limit):
                assert len(items) <= limit
                assert (cursor is None) == (len(got) + len(items) == len(expected)), (at, limit)
                got.extend(items)
            assert [s["id"] for s in got] == [s["id"] for s in expected], (at, limit)
            assert got == expected, (at, limit)
    assert seen_any, "the case keeps nothing at any instant"


def test_the_history_has_what_the_cases_need() -> None:
    """Creates after, deletes after, changes, ties in time, a backfill."""
    early, late = states_at("model", INSTANTS[1]), states_at("model", LAST)
    assert set(late) - set(early), "models created after an instant"
    deleted = {r.entity_id for r in HISTORY if r.action == "delete"}
    assert deleted & set(early), "models deleted after an instant"
    assert deleted - set(late), "models deleted for good"
    changed = [i for i in set(early) & set(late) if early[i] != late[i]]
    assert changed, "models changed after an instant"
    times = [(r.entity_id, r.recorded_at) for r in HISTORY]
    assert len(times) > len(set(times)), "two revisions of an item at one instant"
    assert any(a.recorded_at > b.recorded_at for a, b in itertools.pairwise(HISTORY)), "backfill"
    assert states_at("model", LAST)[HISTORY[-1].entity_id]["name"] == "backfilled"
