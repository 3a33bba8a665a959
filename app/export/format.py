"""The export format, shared by the exporter and the seed loader.

One JSON object per line, `{"type": ..., "data": {...}}`:

- first a `header` (`{"format": "aifacts-export", "version": 1}`),
- then every `document` (with `text`, `original_text` and `sha256`),
- then the facts in dependency order — `organization` (parents before their children),
  `chip`, `model`, `chip_support`, `investment` — each `data` being exactly the fact's
  `XCreate` payload: its fields, `investors` for investments, and `citations` with offsets,
- last a `footer` with the number of records of each type, so a cut stream is detected.
"""

from __future__ import annotations

from typing import Final

from app.curation.service import COLLECTIONS, Collection

FORMAT: Final = "aifacts-export"
VERSION: Final = 1
HEADER: Final = "header"
FOOTER: Final = "footer"
DOCUMENT: Final = "document"

# Fact collections in load order: every reference points at something written before it.
FACT_ORDER: Final = ("organizations", "chips", "models", "chip_support", "investments")
FACTS: Final[dict[str, Collection]] = {COLLECTIONS[n].entity: COLLECTIONS[n] for n in FACT_ORDER}
# Record types in the order they appear in an export.
RECORD_ORDER: Final = (DOCUMENT, *FACTS)

DOCUMENT_FIELDS: Final = (
    "id",
    "title",
    "publisher",
    "language",
    "url",
    "published_on",
    "note",
    "sha256",
    "text",
    "original_text",
)
CITATION_FIELDS: Final = (
    "document_id",
    "quote",
    "start",
    "end",
    "field",
    "stance",
    "attributed_to",
    "note",
)
INVESTOR_FIELDS: Final = ("organization_id", "role")
# Keys of a fact's payload that are not columns of its table.
_CHILDREN: Final = frozenset({"id", "citations", "investors"})


def fact_fields(collection: Collection) -> tuple[str, ...]:
    """The columns a fact's XCreate schema takes (so the export follows the schema)."""
    return tuple(name for name in collection.schema.model_fields if name not in _CHILDREN)
