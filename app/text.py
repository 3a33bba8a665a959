"""Text normalization shared by the seed loader, the write path and search."""

from __future__ import annotations

import re
import unicodedata

import ftfy

# ftfy repairs the common codecs (windows-1252, latin-1, windows-1250...). Some sources were
# decoded as ISO-8859-16 (Romanian latin-10: "Ă©" for "é", "ĂȘ" for "ê"), which ftfy does not
# know; those runs are re-decoded here, and only when that yields valid UTF-8.
_LATIN10_RUN = re.compile(r"[\u0080-\u024f\u0218-\u021b\u2018-\u201e\u20ac]+")


def _redecode_latin10(match: re.Match[str]) -> str:
    run = match.group(0)
    try:
        return run.encode("iso-8859-16").decode("utf-8")
    except UnicodeError:
        return run


def repair_text(text: str) -> str:
    """Repair mojibake and normalize to NFC; leaves correct text unchanged."""
    fixed = ftfy.fix_encoding(text)
    fixed = _LATIN10_RUN.sub(_redecode_latin10, fixed)
    return unicodedata.normalize("NFC", fixed)


_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def fold(text: str) -> str:
    """Search key: case-, accent- and punctuation-insensitive ("Abou Dabi" == "abou-dabi")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_NON_WORD.sub(" ", stripped).split())


def search_key(name: str, aliases: list[str] | None = None) -> str:
    """The stored search column: folded names joined by a separator fold() never emits."""
    return "|".join(fold(n) for n in [name, *(aliases or [])])
