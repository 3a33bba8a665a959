"""What matches a query and how well: pure Python, so SQLite and PostgreSQL rank alike.

The databases only find candidates (app/search/service.py); every candidate is judged here
on the folded strings. A name matches a query when

- a word key starts with it: the compact name (spaces removed) from one of its first
  `KEY_WORDS` words on starts with the compact query (`exact`, `prefix`, or `substring` when
  the match starts at a later word), found by a B-tree range on `search_names.key`;
- or the compact query (3 characters or more) is inside the compact name (`substring`),
  found by the trigram index (PostgreSQL) or the FTS5 trigram table (SQLite) on `grams`;
- or it is one or two edits from a run of the name's words (`fuzzy`): one edit when the run
  has 5 to 8 letters, two when it has 9 or more, none below 5. An edit is a letter added,
  removed or replaced, or two neighbouring letters swapped. Found among the trigram
  candidates (bounded by `CANDIDATES` in app.search.service).

Scores fall in disjoint bands, so sorting by score sorts by kind of match first:
exact 1.0 > prefix (0.8–0.95] > word (0.6–0.75] > substring (0.5–0.6] > fuzzy (0.05–0.35].
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from app.text import compact, fold, word_keys

SUBSTRING_MIN = 3
FUZZY_MIN_LETTERS = 5


class MatchKind(StrEnum):
    exact = "exact"
    prefix = "prefix"
    substring = "substring"
    fuzzy = "fuzzy"


@dataclass(frozen=True)
class Needle:
    """A query, folded once."""

    folded: str
    compact: str

    @classmethod
    def parse(cls, q: str) -> Needle | None:
        """None when nothing in `q` can match (empty, or punctuation only)."""
        folded = fold(q)
        return cls(folded, compact(folded)) if folded else None

    @property
    def substring_searchable(self) -> bool:
        return len(self.compact) >= SUBSTRING_MIN

    @property
    def fuzzy_searchable(self) -> bool:
        # A run of 5+ letters is at most one edit away from a query of 4+.
        return len(self.compact) >= FUZZY_MIN_LETTERS - 1


@dataclass(frozen=True)
class Match:
    kind: MatchKind
    score: float


def allowed_edits(letters: int) -> int:
    if letters < FUZZY_MIN_LETTERS:
        return 0
    return 1 if letters <= 8 else 2


# Names share their runs of words (a size, a version, a variant): a search meets the same
# (query, run) pairs again and again.
@lru_cache(maxsize=16384)
def edit_distance(a: str, b: str, limit: int) -> int | None:
    """Edit distance counting a swap of two neighbouring letters as one edit (optimal string
    alignment), when it is at most `limit`; else None. Banded: O(len × limit)."""
    n, m = len(a), len(b)
    if abs(n - m) > limit:
        return None
    over = limit + 1
    before: list[int] = []
    previous = [j if j <= limit else over for j in range(m + 1)]
    for i in range(1, n + 1):
        current = [over] * (m + 1)
        current[0] = i if i <= limit else over
        low, high = max(1, i - limit), min(m, i + limit)
        for j in range(low, high + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost, over)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, before[j - 2] + 1)
            current[j] = value
        if min(current[low - 1 : high + 1]) > limit:
            return None
        before, previous = previous, current
    return previous[m] if previous[m] <= limit else None


def _fuzzy_score(needle: Needle, words: list[str], name_length: int) -> float | None:
    """The best fuzzy score of the query against any run of consecutive words."""
    query = needle.compact
    best: float | None = None
    for start in range(len(words)):
        run = ""
        for word in words[start:]:
            run += word
            letters = len(run)
            if letters > len(query) + 2:
                break
            limit = allowed_edits(letters)
            if limit == 0 or abs(letters - len(query)) > limit:
                continue
            distance = edit_distance(query, run, limit)
            if distance is None:
                continue
            score = 0.45 - 0.1 * distance - 0.1 * (1 - letters / name_length)
            if best is None or score > best:
                best = score
    return best


def classify(needle: Needle, name: str) -> Match | None:
    """How `name` (as written) matches the query, or None."""
    return classify_folded(needle, fold(name))


def classify_folded(needle: Needle, folded: str) -> Match | None:
    """How a name, given folded (app.text.fold), matches the query, or None."""
    if not folded:
        return None
    whole = compact(folded)
    keys = word_keys(folded)
    query = needle.compact
    if keys[0].startswith(query):
        if whole == query:
            return Match(MatchKind.exact, 1.0)
        return Match(MatchKind.prefix, round(0.8 + 0.15 * len(query) / len(whole), 4))
    if any(key.startswith(query) for key in keys[1:]):
        return Match(MatchKind.substring, round(0.6 + 0.15 * len(query) / len(whole), 4))
    if needle.substring_searchable and query in whole:
        return Match(MatchKind.substring, round(0.5 + 0.1 * len(query) / len(whole), 4))
    if needle.fuzzy_searchable:
        score = _fuzzy_score(needle, folded.split(" "), len(whole))
        if score is not None:
            return Match(MatchKind.fuzzy, round(max(score, 0.05), 4))
    return None
