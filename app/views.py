"""`include=` expansions and `fields=` selection, shared by every collection."""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Query
from sqlmodel import Session, SQLModel

from app.citations.service import load_citations
from app.documents.service import FIELDS as DOCUMENT_FIELDS
from app.documents.service import LIST_COLUMNS
from app.listing import read_cited_or_404, rows_by_ids
from app.rows import as_items

Item = dict[str, Any]
# ids -> public dicts of the referenced items, in one query
Loader = Callable[[Session, Sequence[str]], dict[str, Item]]


@dataclass(frozen=True)
class View:
    include: frozenset[str] = frozenset()
    fields: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Embed:
    """Embed the item referenced by `source` (an id field) under `name`."""

    name: str
    source: str
    loader: Loader


def _csv_pattern(names: Sequence[str]) -> str:
    name = "(?:" + "|".join(sorted(names)) + ")"
    return rf"^\s*{name}\s*(?:,\s*{name}\s*)*$"


def _split(raw: str | None) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()] if raw else []


def view_params(includes: Sequence[str], fields: Sequence[str]) -> Callable[..., Awaitable[View]]:
    """The `include` and `fields` parameters of one collection (names checked)."""
    include_doc = ", ".join(includes)

    async def dependency(
        include: Annotated[
            str | None,
            Query(
                max_length=500,
                pattern=_csv_pattern(includes),
                description=f"Comma-separated expansions to embed: {include_doc}.",
                examples=[includes[0]],
            ),
        ] = None,
        fields: Annotated[
            str | None,
            Query(
                max_length=1000,
                pattern=_csv_pattern(fields),
                description=(
                    "Comma-separated fields to return (`id` always comes too), e.g. "
                    f"`{','.join(fields[1:3])}`."
                ),
            ),
        ] = None,
    ) -> View:
        selected = _split(fields)
        return View(
            include=frozenset(_split(include)),
            fields=tuple(dict.fromkeys(["id", *selected])) if selected else None,
        )

    return dependency


def documents_by_id(session: Session, ids: Sequence[str]) -> dict[str, Item]:
    if not ids:
        return {}
    rows = rows_by_ids(session, LIST_COLUMNS, ids)
    return {item["id"]: item for item in as_items(rows, DOCUMENT_FIELDS)}


def finish(
    session: Session,
    items: list[Item],
    *,
    entity: str,
    view: View,
    embeds: Mapping[str, Embed] | None = None,
    always_cite: bool = False,
    cited: Mapping[str, list[dict[str, Any]]] | None = None,
) -> list[Item]:
    """Attach what `view.include` asks for (one query per expansion), then select fields.

    `cited`: the items' citations by id, when already read with them."""
    include = view.include
    if always_cite or "citations" in include or "documents" in include:
        if cited is None:
            cited = load_citations(session, entity, [item["id"] for item in items])
        if always_cite or "citations" in include:
            for item in items:
                item["citations"] = cited.get(item["id"], [])
        if "documents" in include:
            doc_ids = sorted({c["document_id"] for cs in cited.values() for c in cs})
            documents = documents_by_id(session, doc_ids)
            for item in items:
                used = dict.fromkeys(c["document_id"] for c in cited.get(item["id"], []))
                item["documents"] = [documents[d] for d in used if d in documents]
    for name, embed in (embeds or {}).items():
        if name not in include:
            continue
        refs = sorted({item[embed.source] for item in items if item.get(embed.source)})
        found = embed.loader(session, refs)
        for item in items:
            ref = item.get(embed.source)
            item[name] = found.get(ref) if ref else None
    if view.fields is not None:
        keep = set(view.fields) | (include - {"citations"} if include else set())
        if always_cite or "citations" in include:
            keep.add("citations")
        items = [{k: v for k, v in item.items() if k in keep} for item in items]
    return items


def cited_item(
    session: Session,
    model: type[SQLModel],
    public: Callable[[Any], Item],
    *,
    entity: str,
    label: str,
    item_id: str,
    view: View,
    embeds: Mapping[str, Embed] | None = None,
) -> Item:
    """One item as answers show it (`public` of its row), its citations read with it, then
    what `view` asks for; 404 (410 if deleted)."""
    row, cited = read_cited_or_404(session, model, entity, label, item_id)
    items = finish(
        session,
        [public(row)],
        entity=entity,
        view=view,
        embeds=embeds,
        always_cite=True,
        cited={row.id: cited},
    )
    return items[0]
