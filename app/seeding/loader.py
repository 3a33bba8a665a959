"""Load the curated seed (documents + facts) through the same write path as the API.

Everything is parsed and validated before the first write, and the whole load is one
transaction: a bad file changes nothing, and the error names the file, the fact and the field.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlmodel import Session

from app.config import ROOT
from app.curation.service import COLLECTIONS, InvalidFact, Outcome, upsert_document, upsert_fact
from app.documents.schemas import DocumentCreate
from app.facts_base import FactIn

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
