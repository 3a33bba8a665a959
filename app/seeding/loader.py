"""Load the curated seed (documents + facts) through the same write path as the API.

Everything is parsed and validated before the first write, and the whole load is one
transaction: a bad file changes nothing, and the error names the file, the fact and the field.

The same goes for an export (`GET /v1/export`, NDJSON): `check_export` reads the file once to
validate every line, then `load_export` reads it again and writes each record through the
same write path, so memory does not grow with the size of the file.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml
from pydantic import ValidationError
from sqlmodel import Session

from app.config import ROOT
from app.curation.service import COLLECTIONS, InvalidFact, Outcome, upsert_document, upsert_fact
from app.documents.schemas import DocumentCreate
from app.export import format as export_format
from app.facts_base import FactIn
from app.text import repair_text

SEED_DIR = ROOT / "seed"
# Load order: every reference points at something loaded before it.
ORDER = ("organizations", "chips", "models", "chip_support", "investments")


class SeedError(Exception):
    """Why the seed cannot be loaded; nothing has been written."""


@dataclass
class SeedData:
    documents: list[DocumentCreate] = field(default_factory=list)
    facts: dict[str, list[tuple[Path, FactIn]]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.documents) + sum(len(v) for v in self.facts.values())


def _loc(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(fact)"


def _read_yaml(path: Path, key: str) -> list[Any]:
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SeedError(f"{path}: cannot read: {exc}") from exc
    if not isinstance(content, dict) or not isinstance(content.get(key), list):
        raise SeedError(f"{path}: expected a mapping with a list under {key!r}")
    items: list[Any] = content[key]
    return items


def _validation_message(path: Path, label: str, exc: ValidationError) -> str:
    problems = "; ".join(f"field {_loc(e['loc'])}: {e['msg']}" for e in exc.errors())
    return f"{path}: {label}: {problems}"


def read_seed(seed_dir: Path = SEED_DIR) -> SeedData:
    """Parse and validate every seed file; raise SeedError listing every problem found."""
    data = SeedData()
    errors: list[str] = []

    docs_path = seed_dir / "documents.yaml"
    for index, raw in enumerate(_read_yaml(docs_path, "documents")):
        label = f"documents[{index}] ({raw.get('id') if isinstance(raw, dict) else '?'})"
        if not isinstance(raw, dict) or not isinstance(raw.get("file"), str):
            errors.append(f"{docs_path}: {label}: field file: a file name is required")
            continue
        source = seed_dir / "documents" / raw["file"]
        try:
            text = source.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(f"{docs_path}: {label}: field file: cannot read {source}: {exc}")
            continue
        fields = {k: v for k, v in raw.items() if k != "file"}
        try:
            data.documents.append(DocumentCreate(**fields, text=text))
        except ValidationError as exc:
            errors.append(_validation_message(docs_path, label, exc))

    for name in ORDER:
        collection = COLLECTIONS[name]
        path = seed_dir / "facts" / f"{name}.yaml"
        seen: set[str] = set()
        parsed: list[tuple[Path, FactIn]] = []
        for index, raw in enumerate(_read_yaml(path, name)):
            label = f"{name}[{index}] ({raw.get('id') if isinstance(raw, dict) else '?'})"
            try:
                fact = collection.schema.model_validate(raw)
            except ValidationError as exc:
                errors.append(_validation_message(path, label, exc))
                continue
            if fact.id is None:
                errors.append(f"{path}: {label}: field id: seed facts need an explicit id")
            elif fact.id in seen:
                errors.append(f"{path}: {label}: field id: {fact.id!r} is used twice")
            else:
                seen.add(fact.id)
                parsed.append((path, fact))
        data.facts[name] = parsed

    if errors:
        raise SeedError("\n".join(errors))
    data.facts["organizations"] = _parents_first(data.facts["organizations"])
    return data


def _parents_first(items: list[tuple[Path, FactIn]]) -> list[tuple[Path, FactIn]]:
    by_id = {fact.id: (path, fact) for path, fact in items}
    ordered: list[tuple[Path, FactIn]] = []
    placed: set[str | None] = set()

    def place(fact_id: str | None, trail: tuple[str | None, ...]) -> None:
        if fact_id in placed or fact_id not in by_id:
            return
        if fact_id in trail:
            path = by_id[fact_id][0]
            raise SeedError(f"{path}: organizations ({fact_id}): field parent_id: a cycle")
        path, fact = by_id[fact_id]
        place(getattr(fact, "parent_id", None), (*trail, fact_id))
        placed.add(fact_id)
        ordered.append((path, fact))

    for fact_id in by_id:
        place(fact_id, ())
    return ordered


def load_seed(
    session: Session,
    data: SeedData,
    *,
    advance: Callable[[], None] | None = None,
) -> Counter[tuple[str, Outcome]]:
    """Write the seed through the curation write path; the caller commits."""
    summary: Counter[tuple[str, Outcome]] = Counter()
    for document in data.documents:
        _, outcome = upsert_document(session, document)
        summary["documents", outcome] += 1
        if advance:
            advance()
    for name in ORDER:
        collection = COLLECTIONS[name]
        for path, fact in data.facts[name]:
            try:
                _, outcome = upsert_fact(session, collection, fact)
            except InvalidFact as exc:
                raise SeedError(
                    f"{path}: {name} ({fact.id}): field {_loc(tuple(exc.loc))}: {exc.msg}"
                ) from exc
            summary[name, outcome] += 1
            if advance:
                advance()
    return summary


# --- exports -------------------------------------------------------------------------------

# Problems listed before giving up on a bad export.
_MAX_EXPORT_PROBLEMS = 50
_EXPORT_ORDER = ", ".join(f"{t}s" for t in export_format.RECORD_ORDER)


class _BadRecord(Exception):
    pass


def _collection_name(record_type: str) -> str:
    if record_type == export_format.DOCUMENT:
        return "documents"
    return export_format.FACTS[record_type].name


def _export_document(data: dict[str, Any]) -> DocumentCreate:
    """The create payload of an exported document, checked to load back to the same text."""
    fields = {k: v for k, v in data.items() if k not in ("sha256", "original_text")}
    original = data.get("original_text")
    text = data.get("text")
    if original is not None:
        fields["text"] = original
    try:
        document = DocumentCreate.model_validate(fields)
    except ValidationError as exc:
        raise _BadRecord(
            "; ".join(f"field {_loc(e['loc'])}: {e['msg']}" for e in exc.errors())
        ) from exc
    if document.id is None:
        raise _BadRecord("field id: exported documents need an id")
    if not isinstance(text, str) or repair_text(document.text) != text:
        what = "original_text" if original is not None else "text"
        raise _BadRecord(f"field {what}: repairing it does not give the exported text")
    sha256 = data.get("sha256")
    if sha256 is not None and hashlib.sha256(text.encode("utf-8")).hexdigest() != sha256:
        raise _BadRecord("field sha256: not the SHA-256 of the text")
    return document


def _export_fact(record_type: str, data: dict[str, Any]) -> FactIn:
    try:
        fact = export_format.FACTS[record_type].schema.model_validate(data)
    except ValidationError as exc:
        raise _BadRecord(
            "; ".join(f"field {_loc(e['loc'])}: {e['msg']}" for e in exc.errors())
        ) from exc
    if fact.id is None:
        raise _BadRecord("field id: exported facts need an id")
    return fact


def _export_records(path: Path) -> Iterator[tuple[int, str, Any]]:
    """(line number, type, data) of each non-blank line; data is a _BadRecord for a line
    that is not a {"type", "data"} object."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise SeedError(f"{path}: cannot read: {exc}") from exc
    with handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                yield number, "", _BadRecord(f"not JSON: {exc}")
                continue
            if (
                not isinstance(record, dict)
                or not isinstance(record.get("type"), str)
                or not isinstance(record.get("data"), dict)
                or set(record) != {"type", "data"}
            ):
                yield number, "", _BadRecord('expected {"type": "...", "data": {...}}')
                continue
            yield number, record["type"], record["data"]


def _parse_export_record(record_type: str, data: dict[str, Any]) -> Any:
    if record_type == export_format.DOCUMENT:
        return _export_document(data)
    if record_type in export_format.FACTS:
        return _export_fact(record_type, data)
    if record_type in (export_format.HEADER, export_format.FOOTER):
        return data
    known = ", ".join((export_format.HEADER, *export_format.RECORD_ORDER, export_format.FOOTER))
    raise _BadRecord(f"unknown type {record_type!r} (one of: {known})")


def check_export(path: Path) -> dict[str, int]:
    """Validate every line of an export; returns the number of records of each collection.

    Raises SeedError listing the problems (by line) when any record would not load.
    """
    errors: list[str] = []
    counts: dict[str, int] = dict.fromkeys(export_format.RECORD_ORDER, 0)
    seen: dict[str, set[str]] = {t: set() for t in export_format.RECORD_ORDER}
    stage = -1  # index in RECORD_ORDER of the last record type seen
    header = footer = False
    for number, record_type, data in _export_records(path):
        where = f"{path}: line {number}"
        if len(errors) >= _MAX_EXPORT_PROBLEMS:
            errors.append(f"{path}: (more problems not listed)")
            break
        if not header:
            expected = {"format": export_format.FORMAT, "version": export_format.VERSION}
            if (
                record_type != export_format.HEADER
                or not isinstance(data, dict)
                or {k: data.get(k) for k in expected} != expected
            ):
                raise SeedError(
                    f"{where}: not an export: the first line must be"
                    f' {{"type": "header", "data": {orjson.dumps(expected).decode()}}}'
                )
            header = True
            continue
        try:
            if isinstance(data, _BadRecord):
                raise data
            if footer:
                raise _BadRecord("a record after the footer")
            payload = _parse_export_record(record_type, data)
        except _BadRecord as exc:
            errors.append(f"{where}: {record_type or 'record'} ({_record_id(data)}): {exc}")
            if record_type in counts:
                counts[record_type] += 1
            continue
        if record_type == export_format.HEADER:
            errors.append(f"{where}: a second header")
            continue
        if record_type == export_format.FOOTER:
            footer = True
            declared = payload.get("counts")
            if declared != counts:
                errors.append(f"{where}: footer: counts {declared} but the file has {counts}")
            continue
        index = export_format.RECORD_ORDER.index(record_type)
        if index < stage:
            errors.append(
                f"{where}: {record_type} ({payload.id}): out of order; an export lists"
                f" {_EXPORT_ORDER}"
            )
        stage = max(stage, index)
        if payload.id in seen[record_type]:
            errors.append(f"{where}: {record_type} ({payload.id}): field id: used twice")
        seen[record_type].add(payload.id)
        counts[record_type] += 1
    if not header:
        raise SeedError(f"{path}: empty: an export starts with its header")
    if not footer and len(errors) <= _MAX_EXPORT_PROBLEMS:
        errors.append(f"{path}: no footer: the export was cut short")
    if errors:
        raise SeedError("\n".join(errors))
    return {_collection_name(t): n for t, n in counts.items()}


def _record_id(data: Any) -> str:
    value = data.get("id") if isinstance(data, dict) else None
    return value if isinstance(value, str) else "?"


def load_export(
    session: Session,
    path: Path,
    *,
    advance: Callable[[], None] | None = None,
    checked: bool = False,
) -> Counter[tuple[str, Outcome]]:
    """Validate the export (unless `checked`: check_export passed), then write it through the
    curation write path; the caller commits.

    The records are written in file order (documents, then facts in dependency order). Facts
    already stored and absent from the file are left as they are.
    """
    if not checked:
        check_export(path)
    summary: Counter[tuple[str, Outcome]] = Counter()
    for number, record_type, data in _export_records(path):
        if record_type in (export_format.HEADER, export_format.FOOTER):
            continue
        payload = _parse_export_record(record_type, data)
        name = _collection_name(record_type)
        if isinstance(payload, DocumentCreate):
            _, outcome = upsert_document(session, payload)
        else:
            try:
                _, outcome = upsert_fact(session, export_format.FACTS[record_type], payload)
            except InvalidFact as exc:
                raise SeedError(
                    f"{path}: line {number}: {record_type} ({payload.id}):"
                    f" field {_loc(tuple(exc.loc))}: {exc.msg}"
                ) from exc
        summary[name, outcome] += 1
        if advance:
            advance()
    return summary
