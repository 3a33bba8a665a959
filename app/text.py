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
# Latin letters that carry their "accent" in the letter itself (NFKD leaves them alone), and
# the Arabic tatweel (a stretching stroke, not a letter).
_UNDECOMPOSED = str.maketrans(
    {
        "ł": "l",
        "ø": "o",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "æ": "ae",
        "œ": "oe",
        "ı": "i",
        "ħ": "h",
        "ŧ": "t",
        "ŀ": "l",
        "\u0640": "",
    }
)


def fold(text: str) -> str:
    """Search key: case-, accent- and punctuation-insensitive ("Abou Dabi" == "abou-dabi").

    Words are separated by one space. Marks are stripped in every script (Latin accents,
    Arabic vowel signs); NFC at the end recomposes what is not a mark (Hangul syllables).
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_UNDECOMPOSED))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", " ".join(_NON_WORD.sub(" ", stripped).split()))


def search_key(name: str, aliases: list[str] | None = None) -> str:
    """The stored search column: folded names joined by a separator fold() never emits."""
    return "|".join(fold(n) for n in [name, *(aliases or [])])


# Search names (app/search): a name is indexed under the compact form (no spaces) of the
# folded text from each of its first KEY_WORDS words, truncated to KEY_MAX characters, so
# that a B-tree range finds every name with a word starting with the query.
KEY_WORDS = 16
KEY_MAX = 200


def compact(folded: str) -> str:
    """The folded text without its spaces: "open ai", "open-ai" and "OpenAI" are one name."""
    return folded.replace(" ", "")


def trigram_text(folded: str) -> str:
    """What the trigram indexes cover for a name: its folded form and, when it has several
    words, its compact form too, so that a typo next to a space ("xjap y" for "jxapy") still
    shares trigrams with the query."""
    return f"{folded} {compact(folded)}" if " " in folded else folded


def word_keys(folded: str) -> list[str]:
    """The index keys of a folded name: its compact form from word 0, 1, ... on."""
    words = folded.split(" ") if folded else []
    return [compact(" ".join(words[i:]))[:KEY_MAX] for i in range(min(len(words), KEY_WORDS))]
