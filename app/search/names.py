"""The rows of `search_names` for one item: the write path and migration 0002 both use this."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.text import fold, trigram_text, word_keys

ENTITY_TYPES = ("organization", "model", "chip", "investment", "document")


def name_rows(entity_type: str, entity_id: str, names: Sequence[str]) -> list[dict[str, Any]]:
    """One row per distinct folded name and word it is indexed from; the first name is the
    item's own (`is_primary`), the others its aliases. Names with nothing to fold are left out.
    """
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for position, name in enumerate(names):
        folded = fold(name)
        if not folded or folded in seen:
            continue
        seen.add(folded)
        for word, key in enumerate(word_keys(folded)):
            rows.append(
                {
                    "entity_type": entity_type,
                    "entity_id": entity_id,
                    "name": name,
                    "is_primary": position == 0,
                    "word": word,
                    "key": key,
                    "grams": trigram_text(folded) if word == 0 else "",
                }
            )
    return rows
