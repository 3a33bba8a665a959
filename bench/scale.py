"""Scale data: N synthetic models and everything around them, to measure the service at size.

    .venv/bin/python -m bench.scale --database-url URL --models 1000000 [--seed 0]

Fills a database (migrated to head first) with organizations, models, chips, chip-support
relations, investments with their participants, documents and citations, and with what the
write path keeps beside each item: its `search_text`, its rows in `search_names` and its first
revision (by "seed", as the seed loader records it), so that lists, search, history and
`as_of` work as on curated data. The other counts derive from `--models` unless given.

The shapes are the real landscape's: a few developers with very many models and a long tail,
ranges of amounts, nulls in every nullable field, names and aliases in French, Italian,
Chinese and English, with accents. The same `--seed` gives the same data.

PostgreSQL: the tables' indexes and constraints are dropped, each table is loaded by COPY
FREEZE in its own transaction (one connection per table, so the server parses several
streams at once), and each table's indexes are rebuilt, from their own definitions, as soon
as it is loaded, while the others still load; foreign keys are then restored (validated) and
every table analyzed. If anything fails, the tables are emptied and their indexes and
constraints restored. SQLite: executemany of plain tuples in one transaction.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import hashlib
import itertools
import math
import multiprocessing
import os
import queue
import random
import re
import sys
import threading
import time
import unicodedata
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from app.config import normalize_database_url
from app.curation.service import slugify
from app.history.service import PARTITIONS
from app.migrate import upgrade
from app.text import KEY_MAX, KEY_WORDS, fold, trigram_text

if TYPE_CHECKING:
    import psycopg

# Items per chunk: one write per table and chunk, so memory stays bounded whatever N is.
CHUNK = 10_000
RECORDED_AT = "2025-01-01"  # the day of the seed's revisions, one microsecond apart
ACTOR = "seed"

# Each table's columns in COPY order, with what a value can be: s text (never a tab, newline
# or backslash: names built from the vocabulary below), t free text (escaped), j JSON
# (escaped), i integer, b boolean; "?" when it may be null.
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "documents": (
        ("id", "s"),
        ("title", "s"),
        ("publisher", "s?"),
        ("language", "s"),
        ("url", "s?"),
        ("published_on", "s?"),
        ("sha256", "s"),
        ("text", "t"),
        ("original_text", "t?"),
        ("note", "s?"),
        ("search_text", "s"),
    ),
    "organizations": (
        ("id", "s"),
        ("name", "s"),
        ("aliases", "j"),
        ("kind", "s"),
        ("country", "s?"),
        ("city", "s?"),
        ("parent_id", "s?"),
        ("description", "s?"),
        ("disputed", "b"),
        ("revision", "i"),
        ("search_text", "s"),
    ),
    "chips": (
        ("id", "s"),
        ("name", "s"),
        ("aliases", "j"),
        ("vendor_id", "s?"),
        ("description", "s?"),
        ("disputed", "b"),
        ("revision", "i"),
        ("search_text", "s"),
    ),
    "ai_models": (
        ("id", "s"),
        ("name", "s"),
        ("aliases", "j"),
        ("developer_id", "s?"),
        ("parameters", "i?"),
        ("active_parameters", "i?"),
        ("open_weights", "b?"),
        ("reasoning", "b?"),
        ("release_date", "s?"),
        ("release_date_precision", "s?"),
        ("license", "s?"),
        ("description", "s?"),
        ("disputed", "b"),
        ("revision", "i"),
        ("search_text", "s"),
    ),
    "chip_support": (
        ("id", "s"),
        ("model_id", "s"),
        ("chip_id", "s?"),
        ("vendor_id", "s?"),
        ("relation", "s"),
        ("announced_on", "s?"),
        ("announced_on_precision", "s?"),
        ("description", "s?"),
        ("disputed", "b"),
        ("revision", "i"),
    ),
    "investments": (
        ("id", "s"),
        ("name", "s"),
        ("kind", "s"),
        ("recipient_id", "s?"),
        ("amount_usd_min", "i?"),
        ("amount_usd_max", "i?"),
        ("amount_text", "s?"),
        ("amount_approximate", "b"),
        ("announced_on", "s?"),
        ("announced_on_precision", "s?"),
        ("period", "s?"),
        ("purpose", "s?"),
        ("status", "s"),
        ("description", "s?"),
        ("disputed", "b"),
        ("revision", "i"),
        ("search_text", "s"),
    ),
    "investment_participants": (
        ("investment_id", "s"),
        ("organization_id", "s"),
        ("role", "s"),
        ("position", "i"),
    ),
    "citations": (
        ("entity_type", "s"),
        ("entity_id", "s"),
        ("position", "i"),
        ("document_id", "s"),
        ("quote", "s"),
        ("start", "i"),
        ("end", "i"),
        ("field", "s?"),
        ("stance", "s"),
        ("attributed_to", "s?"),
        ("note", "s?"),
    ),
    "search_names": (
        ("entity_type", "s"),
        ("entity_id", "s"),
        ("name", "s"),
        ("is_primary", "b"),
        ("word", "i"),
        ("key", "s"),
        ("grams", "s"),
    ),
    "revisions": (
        ("id", "i"),
        ("entity_type", "s"),
        ("entity_id", "s"),
        ("revision", "i"),
        ("action", "s"),
        ("actor", "s"),
        ("recorded_at", "s"),
        ("reason", "s?"),
        ("diff", "j"),
        ("citations", "j"),
        ("state", "j"),
    ),
}
# Load order: every reference points at a table before it. The ids of citations and search
# names are left to their sequences: the rows are written in a fixed order, so the ids are
# the same from run to run, however the chunks were made. A revision's id is its item's
# place in the load order (one revision each), as its sequence would give it: on PostgreSQL
# each entity type's revisions go to their own partition, all loaded at once.
TABLES = tuple(COLUMNS)
# PostgreSQL: partitioned table -> entity type -> partition (migration 0011).
PARTITIONED: dict[str, dict[str, str]] = {"revisions": PARTITIONS}
Row = tuple[Any, ...]


@dataclass(frozen=True)
class Counts:
    models: int
    organizations: int
    chips: int
    chip_support: int
    investments: int
    documents: int

    @classmethod
    def derive(cls, models: int, **given: int | None) -> Counts:
        """The counts for `models` models: one organization per 20 models, a chip per 200,
        a chip-support relation per 4, an investment per 10 and a document per 100."""
        derived = {
            "organizations": max(20, models // 20),
            "chips": max(5, models // 200),
            "chip_support": models // 4,
            "investments": max(5, models // 10),
            "documents": max(10, models // 100),
        }
        derived.update({k: v for k, v in given.items() if v is not None})
        return cls(models=models, **derived)


# --- vocabulary ------------------------------------------------------------------------------

SYLLABLES = (
    "ka", "lo", "mi", "ra", "ve", "no", "sa", "ti", "zu", "an", "el", "or", "qu", "ly", "xi",
    "ba", "de", "fu", "ha", "ri", "mo", "ne", "pa", "su", "to", "vi", "ce", "da", "gi", "lu",
)  # fmt: skip
# Words that names in the sources' languages are made of: (as written, pinyin or None).
WORDS = {
    "fr": (
        ("Lumière", None), ("Étoile", None), ("Boréal", None), ("Éclair", None),
        ("Hélios", None), ("Cœur", None), ("Azur", None), ("Forêt", None), ("Mistral", None),
        ("Hirondelle", None), ("Pléiade", None), ("Aurore", None),
    ),
    "it": (
        ("Aurora", None), ("Stella", None), ("Fenice", None), ("Cielo", None),
        ("Vento", None), ("Nebbia", None), ("Libellula", None), ("Orizzonte", None),
        ("Città", None), ("Più", None), ("Velocità", None), ("Scintilla", None),
    ),
    "zh": (
        ("天工", "Tiangong"), ("智谱", "Zhipu"), ("深度", "Shendu"), ("月之", "Yuezhi"),
        ("星火", "Xinghuo"), ("悟道", "Wudao"), ("灵犀", "Lingxi"), ("乾坤", "Qiankun"),
        ("文心", "Wenxin"), ("通义", "Tongyi"), ("混元", "Hunyuan"), ("盘古", "Pangu"),
    ),
    "en": (
        ("Falcon", None), ("Beacon", None), ("Summit", None), ("Harbor", None),
        ("Quill", None), ("Atlas", None), ("Nimbus", None), ("Cascade", None),
    ),
}  # fmt: skip
COUNTRIES = (
    ("US", 30), ("CN", 18), ("FR", 7), ("GB", 6), ("DE", 5), ("IT", 5), ("JP", 4), ("IN", 4),
    ("AE", 3), ("KR", 3), ("CA", 3), ("IL", 2), ("CH", 2), ("SG", 2), ("NL", 2), ("ES", 2),
    ("SE", 1), ("SA", 1),
)  # fmt: skip
CITIES = {
    "US": ("San Francisco", "New York", "Seattle", "Boston", "Austin", "Palo Alto"),
    "CN": ("北京", "上海", "Shenzhen", "Hangzhou", "Pékin", "广州"),
    "FR": ("Paris", "Lyon", "Grenoble", "Toulouse", "Saclay", "Nice"),
    "GB": ("London", "Cambridge", "Oxford", "Edinburgh"),
    "DE": ("Berlin", "München", "Heidelberg", "Köln"),
    "IT": ("Milano", "Roma", "Torino", "Bologna", "Napoli", "Genova"),
    "JP": ("Tokyo", "Osaka", "Kyoto"),
    "IN": ("Bengaluru", "Mumbai", "Hyderabad"),
    "AE": ("Abu Dhabi", "Dubai"),
    "KR": ("Seoul", "Daejeon"),
    "CA": ("Montréal", "Toronto", "Québec"),
    "IL": ("Tel Aviv", "Haifa"),
    "CH": ("Zürich", "Genève", "Lausanne"),
    "SG": ("Singapore",),
    "NL": ("Amsterdam", "Delft"),
    "ES": ("Barcelona", "Madrid"),
    "SE": ("Stockholm",),
    "SA": ("Riyadh",),
}
# Other spellings of some places, as French and Italian sources write them.
PLACE_ALIASES = {
    "Abu Dhabi": ("Abou Dhabi", "Abou Dabi"),
    "München": ("Munich", "Monaco di Baviera"),
    "北京": ("Beijing", "Pékin", "Pechino"),
    "上海": ("Shanghai", "Changhaï"),
    "Genève": ("Geneva", "Ginevra"),
    "Milano": ("Milan",),
    "Roma": ("Rome",),
    "Torino": ("Turin",),
    "Montréal": ("Montreal",),
    "Köln": ("Cologne", "Colonia"),
}
LANGUAGE_OF = {"FR": "fr", "IT": "it", "CN": "zh", "CH": "fr", "CA": "fr"}
KINDS = (
    ("company", 55), ("lab", 15), ("university", 10), ("investment_fund", 10),
    ("government", 3), ("joint_venture", 2), ("other", 5),
)  # fmt: skip
COMPANY_SUFFIX = {
    "fr": ("IA", "SAS", "Technologies", "Intelligence"),
    "it": ("AI", "S.p.A.", "Tecnologie", "Intelligenza Artificiale"),
    "zh": ("科技", "智能", "AI"),
    "en": ("AI", "Labs", "Technologies", "Systems", "Inc."),
}
VERSIONS = ("1", "2", "3", "3.5", "4", "4o", "R1", "K2", "V2", "V3", "2.5", "Next", "X", "5")
# (as written, total parameters, active parameters of a mixture of experts)
SIZES = (
    ("1B", 1_000_000_000, None), ("3B", 3_000_000_000, None), ("7B", 7_000_000_000, None),
    ("8B", 8_000_000_000, None), ("13B", 13_000_000_000, None), ("14B", 14_000_000_000, None),
    ("32B", 32_000_000_000, None), ("34B", 34_000_000_000, None),
    ("70B", 70_000_000_000, None), ("72B", 72_000_000_000, None),
    ("110B", 110_000_000_000, None), ("405B", 405_000_000_000, None),
    ("8x7B", 46_700_000_000, 12_900_000_000), ("8x22B", 141_000_000_000, 39_000_000_000),
    ("671B", 671_000_000_000, 37_000_000_000), ("1T", 1_000_000_000_000, 32_000_000_000),
    ("235B-A22B", 235_000_000_000, 22_000_000_000),
)  # fmt: skip
VARIANTS = (
    "Instruct", "Chat", "Coder", "Vision", "Mini", "Pro", "Turbo", "Think", "Reasoning",
    "Ragionamento", "Pensée", "推理", "Base", "Lite", "Médium", "Veloce",
)  # fmt: skip
OPEN_LICENSES = (
    "apache-2.0", "mit", "llama-3-community", "cc-by-nc-4.0", "qwen-license", "openrail-m",
)  # fmt: skip
CHIP_SERIES = ("A", "H", "X", "MI", "TPU v", "Gaudi ", "Ascend ", "Kunlun ", "Tensor ", "Nova ")
RELATIONS = (("inference_support", 60), ("trained_on", 25), ("compatible", 15))
INVESTMENT_KINDS = (
    ("funding_round", 40), ("capital_expenditure", 10), ("infrastructure", 12),
    ("partnership", 10), ("joint_venture", 5), ("development_cost", 5),
    ("operating_budget", 5), ("national_program", 5), ("other", 8),
)  # fmt: skip
STATUSES = (
    ("announced", 40), ("committed", 15), ("completed", 20), ("reported", 15),
    ("estimated", 4), ("planned", 5), ("disputed", 1),
)  # fmt: skip
ROLES = ("investor", "lead", "partner")
PURPOSES = (
    "data centers", "centres de données", "ricerca e sviluppo", "compute capacity",
    "formation des modèles", "算力基础设施", "talent", "chip design", "expansion in Europe",
)  # fmt: skip
PERIODS = ("2025", "2025–2029", "over five years", "sur cinq ans", "entro il 2030", "2026")
LANGUAGES = (("fr", 35), ("it", 25), ("en", 25), ("zh", 10), ("de", 5))
PUBLISHERS = {
    "fr": ("Le Quotidien Numérique", "Les Échos de l'IA", "La Dépêche Tech"),
    "it": ("Il Corriere Digitale", "La Gazzetta dell'IA", "Il Sole Tecnologico"),
    "en": ("Tech Daily", "The Compute Review", "AI Ledger"),
    "zh": ("新华科技", "科技日报", "南方智能周刊"),
    "de": ("Digitale Rundschau", "KI-Zeitung"),
}
# Sentences per language; {a} and {b} are names, {n} a figure. Citations quote them.
SENTENCES = {
    "fr": (
        "{a} annonce un modèle de {n} milliards de paramètres.",
        "Selon {b}, {a} rivalise avec les systèmes américains.",
        "Les puces de {b} prennent en charge « {a} ».",
        "{a} investira {n} milliards d'euros.",
        "L'entraînement de {a} n'aurait coûté que {n} millions de dollars.",
        "Le gouvernement salue l'initiative de {a}.",
    ),
    "it": (
        "{a} presenta un modello da {n} miliardi di parametri.",
        "Secondo {b}, {a} è più efficiente.",
        "I chip di {b} supportano {a}.",
        "{a} investirà tra {n} e {n}5 miliardi di dollari.",
        "{a} punta sull'open source, dice {b}.",
    ),
    "en": (
        "{a} released a {n} billion parameter model.",
        "According to {b}, {a} trained on {n} thousand chips.",
        "{b} chips now support {a}.",
        "{a} raised ${n} billion in a round led by {b}.",
        "{a} will publish the weights, {b} said.",
    ),
    "zh": (
        "{a}发布了{n}0亿参数的大模型。",
        "据{b}报道，{a}接近国际领先水平。",
        "{b}的芯片已支持{a}。",
        "{a}计划投资{n}0亿元建设数据中心。",
    ),
    "de": (
        "{a} stellt ein Modell mit {n} Milliarden Parametern vor.",
        "Laut {b} ist {a} besonders effizient.",
    ),
}
TITLES = {
    "fr": ("L'essor de {a}", "{a} face à la concurrence", "IA : {a} accélère"),
    "it": ("L'ascesa di {a}", "{a} sfida i giganti", "La scommessa di {a}"),
    "en": ("Inside {a}", "{a} bets on compute", "What {a} means for AI"),
    "zh": ("{a}的崛起", "{a}发布新模型", "解读{a}的开源战略"),
    "de": ("Der Aufstieg von {a}", "{a} und die KI"),
}
NOTES = (
    "As reported by the company.",
    "Translated from the source.",
    "The article attributes the claim to an analyst.",
)

# --- text helpers: the write path's folding and slugs, word by word from caches -----------

_FOLDED: dict[str, str] = {}
_SLUGGED: dict[str, str] = {}


def _by_tokens(name: str, transform: Callable[[str], str], cache: dict[str, str], sep: str) -> str:
    """`transform` of each space-separated part (each part computed once per process), the
    non-empty results joined by `sep`."""
    parts: list[str] = []
    for token in name.split(" "):
        done = cache.get(token)
        if done is None:
            done = cache[token] = transform(token)
        if done:
            parts.append(done)
    return sep.join(parts)


def fast_fold(name: str) -> str:
    """app.text.fold(name), from the folds of its space-separated parts: folding works
    character by character and nothing joins across a space."""
    return _by_tokens(name, fold, _FOLDED, " ")


def slug(name: str) -> str:
    """The write path's slug of a name (empty when nothing in it is ASCII), part by part."""
    return _by_tokens(name, slugify, _SLUGGED, "-")


def search_rows(
    entity_type: str, entity_id: str, names: Sequence[str], folds: Sequence[str]
) -> list[Row]:
    """app.search.names.name_rows, as tuples in the same order (without ids), from the names
    and their fast_fold."""
    rows: list[Row] = []
    seen: set[str] = set()
    for position, (name, folded) in enumerate(zip(names, folds, strict=True)):
        if not folded or folded in seen:
            continue
        seen.add(folded)
        words = folded.split(" ")
        primary = position == 0
        rows.append(
            (
                entity_type,
                entity_id,
                name,
                primary,
                0,
                "".join(words)[:KEY_MAX],
                trigram_text(folded),
            )
        )
        for word in range(1, min(len(words), KEY_WORDS)):
            rows.append(
                (entity_type, entity_id, name, primary, word, "".join(words[word:])[:KEY_MAX], "")
            )
    return rows


def _mix(value: int) -> int:
    """splitmix64: 64 well-mixed bits from an integer."""
    z = (value + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return z ^ (z >> 31)


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _weights(pairs: Sequence[tuple[str, int]]) -> tuple[list[str], list[int]]:
    return [v for v, _ in pairs], list(itertools.accumulate(w for _, w in pairs))


# --- generation ------------------------------------------------------------------------------


@dataclass
class Quote:
    document: str
    text: str
    start: int
    end: int


class Batch(dict[str, list[Row]]):
    """The rows of one chunk, per table."""

    def __missing__(self, table: str) -> list[Row]:
        rows: list[Row] = []
        self[table] = rows
        return rows


class Generator:
    """Deterministic synthetic data, made a chunk at a time: each chunk has its own random
    stream (from the seed, the collection and the chunk), so chunks made in any process
    and any order are the same. Documents, organizations and chips are made first, in
    order, by the main process: the others refer to them."""

    def __init__(self, counts: Counts, seed: int) -> None:
        self.counts = counts
        self.seed = seed
        self.rng = random.Random(seed)
        self.random = self.rng.random
        # Each item's revision is a microsecond after the previous item's, in load order.
        self.first_item = dict(
            zip(
                ("documents", "organizations", "chips", "models", "chip_support", "investments"),
                itertools.accumulate(
                    (0, counts.documents, counts.organizations, counts.chips, counts.models,
                     counts.chip_support)
                ),
                strict=True,
            )
        )  # fmt: skip
        self.item = 0
        self.families: list[tuple[str, str | None, str]] = []
        self.quotes: list[Quote] = []
        self.quote_weights: list[float] = []
        self.org_ids: list[str] = []
        self.org_names: list[str] = []
        self.org_countries: list[str | None] = []
        self.developers: list[int] = []
        self.developer_weights: list[float] = []
        self.investors: list[int] = []
        self.investor_weights: list[float] = []
        self.vendors: list[int] = []
        self.chip_ids: list[str] = []
        self.chip_vendors: list[str | None] = []
        self.chip_weights: list[float] = []
        self.days = [(dt.date(2018, 1, 1) + dt.timedelta(days=d)).isoformat() for d in range(3300)]

    # shared pieces ------------------------------------------------------------------------

    def _reseed(self, *parts: object) -> None:
        self.rng = random.Random(":".join(map(str, (self.seed, *parts))))
        self.random = self.rng.random

    def _items(self, collection: str, first: int, count: int) -> range:
        """The items of the chunk starting at `first`, with its random stream."""
        self._reseed(collection, first)
        return range(first, min(first + CHUNK, count))

    def model(self, i: int) -> tuple[str, str, str, str | None, str, str, int, int | None]:
        """Model `i`'s id, name, family, its pinyin, version, size and the size's (total,
        active) parameters: a function of the seed and `i` alone, so that chip support made
        in another process refers to the same models."""
        h = _mix(self.seed * 0x1_0000_0000 + i)
        family, pinyin, _ = self.families[h % len(self.families)]
        version = VERSIONS[(h >> 24) % len(VERSIONS)]
        size, parameters, active = SIZES[(h >> 32) % len(SIZES)]
        name = f"{family} {version} {size}"
        if (h >> 40) & 1:
            name += " " + VARIANTS[(h >> 44) % len(VARIANTS)]
        return (
            f"{slug(name) or 'model'}-{i:x}",
            name,
            family,
            pinyin,
            version,
            size,
            parameters,
            active,
        )

    def _one(self, values: Sequence[Any]) -> Any:
        return values[int(self.random() * len(values))]

    def _zipf(self, n: int, s: float) -> list[float]:
        """Cumulative weights 1/rank^s of `n` items whose ranks are shuffled."""
        ranks = list(range(1, n + 1))
        random.Random(f"{self.seed}:zipf:{n}:{s}").shuffle(ranks)
        return list(itertools.accumulate(rank**-s for rank in ranks))

    def _weighted(self, cumulative: Sequence[float]) -> int:
        return bisect.bisect(cumulative, self.random() * cumulative[-1])

    def _date(self, first: int, days: int) -> tuple[str, str]:
        """A date (`first` + up to `days` days after 2018-01-01) and its precision: day,
        month or year, as the sources give them."""
        day = self.days[first + int(self.random() * days)]
        roll = self.random()
        if roll < 0.6:
            return day, "day"
        if roll < 0.9:
            return day[:8] + "01", "month"
        return day[:5] + "01-01", "year"

    def _root(self) -> tuple[str, str | None, str]:
        """A brand: (as written, its pinyin or None, language)."""
        if self.random() < 0.55:
            count = 2 if self.random() < 0.5 else 3
            return "".join(self._one(SYLLABLES) for _ in range(count)).capitalize(), None, "en"
        language = self._one(("fr", "it", "zh", "en"))
        written, pinyin = self._one(WORDS[language])
        if language == "zh":
            return written, pinyin, language
        return written + self._one(SYLLABLES), None, language  # most names distinct

    def _citations(
        self,
        batch: Batch,
        entity_type: str,
        entity_id: str,
        fields: Sequence[str],
        disputed: bool,
    ) -> list[dict[str, Any]]:
        """One to three citations (the last disputing when `disputed`): their rows, and the
        public form of each (as citation_public orders its keys)."""
        random_ = self.random
        roll = random_()
        count = 1 if roll < 0.8 else (2 if roll < 0.97 else 3)
        if disputed and count < 2:
            count = 2
        rows = batch["citations"]
        public: list[dict[str, Any]] = []
        for position in range(count):
            quote = self.quotes[self._weighted(self.quote_weights)]
            field_name = self._one(fields) if random_() < 0.5 else None
            stance = "dispute" if disputed and position == count - 1 else "support"
            attributed = self._one(self.org_names) if self.org_names and random_() < 0.1 else None
            note = self._one(NOTES) if random_() < 0.2 else None
            rows.append(
                (entity_type, entity_id, position, quote.document, quote.text, quote.start,
                 quote.end, field_name, stance, attributed, note)
            )  # fmt: skip
            public.append(
                {
                    "document_id": quote.document,
                    "quote": quote.text,
                    "start": quote.start,
                    "end": quote.end,
                    "field": field_name,
                    "note": note,
                    "stance": stance,
                    "attributed_to": attributed,
                }
            )
        return public

    def _names(self, batch: Batch, entity_type: str, entity_id: str, names: Sequence[str]) -> str:
        """The item's search names into the batch; its `search_text` (app.text.search_key of
        the names), from the same folds."""
        folded = [fast_fold(name) for name in names]
        batch["search_names"].extend(search_rows(entity_type, entity_id, names, folded))
        return "|".join(folded)

    def _revision(
        self, batch: Batch, entity_type: str, entity_id: str, state: dict[str, Any]
    ) -> None:
        """The item's first revision as upsert_fact records it: each non-null field in the
        diff, the citations as given (resolved), the state as GET serves it."""
        given = [
            {
                "document_id": c["document_id"],
                "quote": c["quote"],
                "start": c["start"],
                "end": c["end"],
                "field": c["field"],
                "stance": c["stance"],
                "attributed_to": c["attributed_to"],
                "note": c["note"],
            }
            for c in state.get("citations", ())
        ]
        diff = {k: [None, v] for k, v in state.items() if v is not None and k != "citations"}
        seconds, micro = divmod(self.item + 1, 1_000_000)
        hours, seconds = divmod(seconds, 3600)
        at = f"{RECORDED_AT} {hours:02d}:{seconds // 60:02d}:{seconds % 60:02d}.{micro:06d}"
        batch["revisions"].append(
            (self.item + 1, entity_type, entity_id, 1, "create", ACTOR, at, None, _json(diff),
             _json(given), _json(state))
        )  # fmt: skip

    # collections --------------------------------------------------------------------------

    def documents(self, first: int) -> Batch:
        items = self._items("documents", first, self.counts.documents)
        rng = self.rng
        languages, language_weights = _weights(LANGUAGES)
        batch = Batch()
        for i in items:
            self.item = self.first_item["documents"] + i
            language = languages[self._weighted(language_weights)]
            subject = self._root()[0]
            title = self._one(TITLES[language]).format(a=subject)
            words = [w for w in slug(title).split("-")[:4] if w] or ["document"]
            doc_id = "-".join([*words, f"{i:x}"])
            publisher = self._one(PUBLISHERS[language]) if self.random() < 0.9 else None
            published = self._date(0, 3000)[0] if self.random() < 0.9 else None
            pieces: list[str] = []
            spans: list[tuple[int, int]] = []
            offset = 0
            for number in range(rng.randint(8, 16)):
                sentence = self._one(SENTENCES[language]).format(
                    a=self._root()[0], b=self._root()[0], n=rng.randint(2, 900)
                )
                if number:
                    separator = "\n\n" if number % 4 == 0 else " "
                    pieces.append(separator)
                    offset += len(separator)
                pieces.append(sentence)
                spans.append((offset, offset + len(sentence)))
                offset += len(sentence)
            # The reference makes every text, and so its hash, unique.
            pieces.append(f"\n\nRéf. {i:06d}" if language == "fr" else f"\n\nRef. {i:06d}")
            body = unicodedata.normalize("NFC", "".join(pieces))
            weight = rng.paretovariate(1.2)  # a few documents are cited very often
            for start, end in spans:
                self.quotes.append(Quote(doc_id, body[start:end], start, end))
                self.quote_weights.append(weight)
            sha256 = hashlib.sha256(body.encode("utf-8")).hexdigest()
            url = f"https://news.example/{language}/{doc_id}" if self.random() < 0.8 else None
            note = "Synthetic text for load tests." if self.random() < 0.05 else None
            search_key = self._names(batch, "document", doc_id, [title])
            batch["documents"].append(
                (doc_id, title, publisher, language, url, published, sha256, body, None,
                 note, search_key)
            )  # fmt: skip
            state = {
                "id": doc_id,
                "title": title,
                "publisher": publisher,
                "language": language,
                "url": url,
                "published_on": published,
                "sha256": sha256,
                "note": note,
            }
            self._revision(batch, "document", doc_id, state)
        return batch

    def after_documents(self) -> None:
        self.quote_weights = list(itertools.accumulate(self.quote_weights))

    def organizations(self, first: int) -> Batch:
        items = self._items("organizations", first, self.counts.organizations)
        countries, country_weights = _weights(COUNTRIES)
        kinds, kind_weights = _weights(KINDS)
        fields = ("name", "kind", "country", "city", "parent_id")
        batch = Batch()
        for i in items:
            self.item = self.first_item["organizations"] + i
            kind = kinds[self._weighted(kind_weights)]
            country = countries[self._weighted(country_weights)] if self.random() < 0.92 else None
            city = self._one(CITIES[country]) if country and self.random() < 0.75 else None
            language = LANGUAGE_OF.get(country or "", "en")
            root, pinyin, _ = self._root()
            name, aliases = self._organization_name(kind, language, root, pinyin, city)
            org_id = f"{slug(name) or 'org'}-{i:x}"
            parent = (
                self.org_ids[int(self.random() * i)] if i > 10 and self.random() < 0.08 else None
            )
            place = city or country
            description = (
                f"{kind.replace('_', ' ').capitalize()} in {place}."
                if place and self.random() < 0.5
                else None
            )
            disputed = self.random() < 0.01
            citations = self._citations(batch, "organization", org_id, fields, disputed)
            search_key = self._names(batch, "organization", org_id, [name, *aliases])
            batch["organizations"].append(
                (org_id, name, _json(aliases), kind, country, city, parent, description,
                 disputed, 1, search_key)
            )  # fmt: skip
            state = {
                "id": org_id,
                "name": name,
                "aliases": aliases,
                "kind": kind,
                "country": country,
                "city": city,
                "parent_id": parent,
                "description": description,
                "disputed": disputed,
                "citations": citations,
            }
            self._revision(batch, "organization", org_id, state)
            self.org_ids.append(org_id)
            self.org_names.append(name)
            self.org_countries.append(country)
            if kind in ("company", "lab", "university"):
                self.developers.append(i)
            if kind in ("investment_fund", "company", "government"):
                self.investors.append(i)
            if kind == "company" and self.random() < 0.04:
                self.vendors.append(i)
        return batch

    def after_organizations(self) -> None:
        everyone = list(range(len(self.org_ids)))
        self.developers = self.developers or everyone
        self.investors = self.investors or everyone
        self.vendors = self.vendors or self.developers[:1]
        # A few developers with very many models, and a long tail with one or two.
        self.developer_weights = self._zipf(len(self.developers), 1.07)
        self.investor_weights = self._zipf(len(self.investors), 0.9)

    def _organization_name(
        self, kind: str, language: str, root: str, pinyin: str | None, city: str | None
    ) -> tuple[str, list[str]]:
        place = city or self._one(CITIES.get(language.upper(), CITIES["US"]))
        aliases: list[str] = []
        if kind == "company":
            suffix = self._one(COMPANY_SUFFIX.get(language, COMPANY_SUFFIX["en"]))
            name = f"{root}{suffix}" if language == "zh" and suffix != "AI" else f"{root} {suffix}"
        elif kind == "lab":
            labs = {"fr": f"Laboratoire {root}", "it": f"Laboratorio {root}", "zh": f"{root}研究院"}
            name = labs.get(language, f"{root} Research")
        elif kind == "university":
            universities = {
                "fr": f"Université {root} de {place}",
                "it": f"Università {root} di {place}",
                "zh": f"{place}{root}大学",
            }
            name = universities.get(language, f"{root} University of {place}")
            if language in ("fr", "it"):
                aliases.append(f"{root} University of {place}")
        elif kind == "investment_fund":
            funds = {"fr": f"Fonds {root}", "it": f"Fondo {root}"}
            name = funds.get(language, f"{root} {self._one(('Capital', 'Ventures', 'Partners'))}")
        elif kind == "government":
            governments = {
                "fr": f"Ministère du Numérique de {place}",
                "it": f"Ministero dell'Innovazione di {place}",
            }
            name = governments.get(language, f"Government of {place}")
            aliases.extend(
                f"{name.rsplit(' ', len(place.split()))[0]} {a}"
                for a in PLACE_ALIASES.get(place, ())
            )
        elif kind == "joint_venture":
            name = f"{root}-{self._root()[0]} Alliance"
        else:
            foundations = {"fr": f"Fondation {root}", "it": f"Associazione {root}"}
            name = foundations.get(language, f"{root} Foundation")
        roll = self.random()
        if pinyin is not None:
            aliases.append(name.replace(root, pinyin + " ").strip())
        elif roll < 0.15:
            bare = "".join(
                c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)
            )
            aliases.append(bare if bare != name else name.upper())
        elif roll < 0.3:
            initials = "".join(word[0] for word in name.split() if word[:1].isalpha())
            if len(initials) >= 2:
                aliases.append(initials.upper())
        return name, [a for a in dict.fromkeys(aliases) if a != name]

    def chips(self, first: int) -> Batch:
        items = self._items("chips", first, self.counts.chips)
        vendor_weights = self._zipf(len(self.vendors), 1.2)
        batch = Batch()
        for i in items:
            self.item = self.first_item["chips"] + i
            vendor = self.vendors[self._weighted(vendor_weights)] if self.random() < 0.97 else None
            brand = self.org_names[vendor].split(" ")[0] if vendor is not None else self._root()[0]
            number = int(self.random() * 9 + 1) * 100 + self._one((0, 10, 50))
            name = f"{brand} {self._one(CHIP_SERIES)}{number}"
            chip_id = f"{slug(name) or 'chip'}-{i:x}"
            aliases = [name.replace(" ", "-")] if self.random() < 0.3 else []
            if vendor is not None and self.org_countries[vendor] == "CN" and self.random() < 0.5:
                aliases.append(f"{brand}芯片")
            vendor_id = self.org_ids[vendor] if vendor is not None else None
            description = f"AI accelerator by {brand}." if self.random() < 0.4 else None
            disputed = self.random() < 0.01
            citations = self._citations(batch, "chip", chip_id, ("name", "vendor_id"), disputed)
            search_key = self._names(batch, "chip", chip_id, [name, *aliases])
            batch["chips"].append(
                (chip_id, name, _json(aliases), vendor_id, description, disputed, 1,
                 search_key)
            )  # fmt: skip
            state = {
                "id": chip_id,
                "name": name,
                "aliases": aliases,
                "vendor_id": vendor_id,
                "description": description,
                "disputed": disputed,
                "citations": citations,
            }
            self._revision(batch, "chip", chip_id, state)
            self.chip_ids.append(chip_id)
            self.chip_vendors.append(vendor_id)
        return batch

    def after_chips(self) -> None:
        self.chip_weights = self._zipf(len(self.chip_ids), 1.1)
        # Model families: several models (versions, sizes) share each.
        self._reseed("families")
        self.families = [self._root() for _ in range(max(50, self.counts.models // 8))]

    def models(self, first: int) -> Batch:
        items = self._items("models", first, self.counts.models)
        random_ = self.random
        one = self._one
        fields = ("parameters", "developer_id", "release_date", "open_weights", "license")
        batch = Batch()
        models = batch["ai_models"]
        for i in items:
            self.item = self.first_item["models"] + i
            model_id, name, family, pinyin, version, size, size_parameters, size_active = (
                self.model(i)
            )
            roll = random_()
            if pinyin is not None:
                aliases = [f"{pinyin} {version}"]
            elif roll < 0.15:
                aliases = [f"{family}-{version}"]
            elif roll < 0.25:
                aliases = [name.lower()]
            else:
                aliases = []
            developer = (
                self.developers[self._weighted(self.developer_weights)]
                if random_() < 0.95
                else None
            )
            developer_id = self.org_ids[developer] if developer is not None else None
            parameters = size_parameters if random_() < 0.6 else None
            active = size_active if parameters is not None else None
            roll = random_()
            open_weights = True if roll < 0.45 else (False if roll < 0.8 else None)
            roll = random_()
            reasoning = True if roll < 0.2 else (False if roll < 0.7 else None)
            release, precision = self._date(365, 2900) if random_() < 0.85 else (None, None)
            licence = (
                (one(OPEN_LICENSES) if open_weights else "proprietary") if random_() < 0.4 else None
            )
            description = (
                f"{'Open-weight' if open_weights else 'Closed'} {size} model."
                if random_() < 0.4
                else None
            )
            disputed = random_() < 0.01
            citations = self._citations(batch, "model", model_id, fields, disputed)
            search_key = self._names(batch, "model", model_id, [name, *aliases])
            models.append(
                (model_id, name, _json(aliases), developer_id, parameters, active,
                 open_weights, reasoning, release, precision, licence, description,
                 disputed, 1, search_key)
            )  # fmt: skip
            state = {
                "id": model_id,
                "name": name,
                "aliases": aliases,
                "developer_id": developer_id,
                "parameters": parameters,
                "active_parameters": active,
                "open_weights": open_weights,
                "reasoning": reasoning,
                "release_date": release,
                "release_date_precision": precision,
                "license": licence,
                "description": description,
                "disputed": disputed,
                "citations": citations,
            }
            self._revision(batch, "model", model_id, state)
        return batch

    def chip_support(self, first: int) -> Batch:
        items = self._items("chip_support", first, self.counts.chip_support)
        random_ = self.random
        relations, relation_weights = _weights(RELATIONS)
        fields = ("chip_id", "relation", "announced_on")
        models = self.counts.models
        batch = Batch()
        for i in items:
            self.item = self.first_item["chip_support"] + i
            model = int(random_() * models)
            if random_() < 0.92:
                chip = self._weighted(self.chip_weights)
                chip_id: str | None = self.chip_ids[chip]
                vendor_id = self.chip_vendors[chip] if random_() < 0.97 else None
            else:  # a source names the vendor, not the chip
                chip_id = None
                vendor_id = self.org_ids[self._one(self.vendors)]
            relation = relations[self._weighted(relation_weights)]
            announced, precision = self._date(730, 2500) if random_() < 0.7 else (None, None)
            model_id, model_name = self.model(model)[:2]
            support_id = f"{model_id[:60]}-{relation[:5]}-{i:x}"
            description = (
                f"{model_name} runs on {chip_id or vendor_id}." if random_() < 0.2 else None
            )
            disputed = random_() < 0.01
            citations = self._citations(batch, "chip_support", support_id, fields, disputed)
            batch["chip_support"].append(
                (support_id, model_id, chip_id, vendor_id, relation, announced,
                 precision, description, disputed, 1)
            )  # fmt: skip
            state = {
                "id": support_id,
                "model_id": model_id,
                "chip_id": chip_id,
                "vendor_id": vendor_id,
                "relation": relation,
                "announced_on": announced,
                "announced_on_precision": precision,
                "description": description,
                "disputed": disputed,
                "citations": citations,
            }
            self._revision(batch, "chip_support", support_id, state)
        return batch

    def _amount(self) -> tuple[int | None, int | None, str | None, bool]:
        """(min, max, as written, approximate): a single figure, or a range in a third of the
        cases, from a million to half a trillion dollars; unknown in 15%."""
        if self.random() < 0.15:
            return None, None, None, False
        exponent = 6 + self.random() * 5.7
        digits = int(exponent) - 1
        low = int(round(10**exponent, -digits))
        high = low
        if self.random() < 0.3:
            high = low + max(10**digits, int(round(low * self._one((0.1, 0.5, 1.0)), -digits)))
        billions = low >= 1_000_000_000
        scale = 1e9 if billions else 1e6
        a, b = f"{low / scale:g}", f"{high / scale:g}"
        fr, it = a.replace(".", ","), b.replace(".", ",")
        fr_unit, it_unit = ("milliards", "miliardi") if billions else ("millions", "milioni")
        en_unit = "billion" if billions else "million"
        if low == high:
            forms = (f"${a} {en_unit}", f"{fr} {fr_unit} de dollars", f"{fr} {it_unit} di dollari")
        else:
            forms = (
                f"${a}–{b} {en_unit}",
                f"{fr} à {it} {fr_unit} de dollars",
                f"tra {fr} e {it} {it_unit} di dollari",
            )
        amount_text = self._one((*forms, f"约{low / 1e8:g}亿美元"))
        approximate = self.random() < 0.2
        if approximate:
            amount_text = self._one(("environ ", "circa ", "about ")) + amount_text
        return low, high, amount_text, approximate

    def investments(self, first: int) -> Batch:
        items = self._items("investments", first, self.counts.investments)
        random_ = self.random
        kinds, kind_weights = _weights(INVESTMENT_KINDS)
        statuses, status_weights = _weights(STATUSES)
        fields = ("amount_usd_min", "amount_usd_max", "recipient_id", "announced_on", "status")
        batch = Batch()
        participants = batch["investment_participants"]
        for i in items:
            self.item = self.first_item["investments"] + i
            kind = kinds[self._weighted(kind_weights)]
            recipient = (
                self.developers[self._weighted(self.developer_weights)]
                if random_() < 0.92
                else None
            )
            recipient_id = self.org_ids[recipient] if recipient is not None else None
            target = self.org_names[recipient] if recipient is not None else "Programme national"
            phrase = kind.replace("_", " ")
            name = self._one(
                (f"{target} {phrase}", f"Levée de fonds de {target}",
                 f"Investimento in {target}", f"{target}融资")
            )  # fmt: skip
            investment_id = f"{slug(name)[:80].rstrip('-') or 'investment'}-{i:x}"
            low, high, amount_text, approximate = self._amount()
            announced, precision = self._date(0, 3200) if random_() < 0.85 else (None, None)
            period = self._one(PERIODS) if random_() < 0.2 else None
            purpose = self._one(PURPOSES) if random_() < 0.4 else None
            disputed = random_() < 0.01
            status = (
                "disputed"
                if disputed and random_() < 0.5
                else statuses[self._weighted(status_weights)]
            )
            description = f"{phrase.capitalize()} for {target}." if random_() < 0.4 else None
            investors: list[dict[str, Any]] = []
            seen: set[str] = set()
            for position in range(self._one((1, 1, 2, 2, 3, 4))):
                investor = self.org_ids[self.investors[self._weighted(self.investor_weights)]]
                if investor in seen:
                    continue
                seen.add(investor)
                role = "lead" if position == 0 and random_() < 0.5 else self._one(ROLES)
                participants.append((investment_id, investor, role, len(investors)))
                investors.append({"organization_id": investor, "role": role})
            citations = self._citations(batch, "investment", investment_id, fields, disputed)
            search_key = self._names(batch, "investment", investment_id, [name])
            batch["investments"].append(
                (investment_id, name, kind, recipient_id, low, high, amount_text,
                 approximate, announced, precision, period, purpose, status, description,
                 disputed, 1, search_key)
            )  # fmt: skip
            state = {
                "id": investment_id,
                "name": name,
                "kind": kind,
                "investors": investors,
                "recipient_id": recipient_id,
                "amount_usd_min": low,
                "amount_usd_max": high,
                "amount_text": amount_text,
                "amount_approximate": approximate,
                "announced_on": announced,
                "announced_on_precision": precision,
                "period": period,
                "purpose": purpose,
                "status": status,
                "description": description,
                "disputed": disputed,
                "citations": citations,
            }
            self._revision(batch, "investment", investment_id, state)
        return batch

    def collections(self) -> list[Collection]:
        c = self.counts
        return [
            Collection("documents", "documents", "documents", "document", c.documents,
                       parallel=False),
            Collection("organizations", "organizations", "organizations", "organization",
                       c.organizations, parallel=False),
            Collection("chips", "chips", "chips", "chip", c.chips, parallel=False),
            Collection("models", "models", "ai_models", "model", c.models),
            Collection("chip_support", "chip support", "chip_support", "chip_support",
                       c.chip_support),
            Collection("investments", "investments", "investments", "investment", c.investments),
        ]  # fmt: skip


@dataclass(frozen=True)
class Collection:
    method: str  # the Generator method making a chunk of it
    label: str
    table: str
    entity_type: str  # of its revisions
    count: int
    # Made by worker processes; else by the main process, in order (the collections after
    # it refer to its items).
    parallel: bool = True


# A chunk as a worker process sends it: COPY text and row count per table.
Chunk = tuple[dict[str, bytes], dict[str, int]]
_WORKER: list[Generator] = []


def _start_worker(generator: Generator) -> None:
    _WORKER.append(generator)


def _make_chunk(job: tuple[str, int]) -> Chunk:
    method, first = job
    batch: Batch = getattr(_WORKER[0], method)(first)
    # Bytes: encoded once here, in the worker; a str would be decoded again by the main
    # process's unpickling and encoded again by psycopg (5% of a fill's samples, py-spy).
    texts = {table: copy_text(table, rows).encode() for table, rows in batch.items()}
    return texts, {table: len(rows) for table, rows in batch.items()}


def _chunks_in_workers(
    generator: Generator, collections: Sequence[Collection], workers: int
) -> Iterator[tuple[Collection, Chunk]]:
    """The collections' chunks, in order, made by `workers` processes (one pool for all:
    they refer only to what the main process made before); at most two chunks per worker
    wait in memory."""
    jobs = iter([(c, first) for c in collections for first in range(0, c.count, CHUNK)])
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=_start_worker, initargs=(generator,)) as pool:
        pending: deque[tuple[Collection, Any]] = deque()

        def submit() -> None:
            job = next(jobs, None)
            if job is not None:
                collection, first = job
                pending.append(
                    (collection, pool.apply_async(_make_chunk, ((collection.method, first),)))
                )

        for _ in range(2 * workers):
            submit()
        while pending:
            collection, result = pending.popleft()
            chunk: Chunk = result.get()
            submit()
            yield collection, chunk


# --- COPY text -------------------------------------------------------------------------------

_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _escape(value: str) -> str:
    return value.translate(_COPY_ESCAPES) if _COPY_SPECIAL.search(value) else value


def _escape_json(value: str) -> str:
    # orjson writes control characters as escapes: only a backslash needs doubling.
    return value.replace("\\", "\\\\") if "\\" in value else value


def _line_formatter(columns: Sequence[tuple[str, str]]) -> Callable[[Row], str]:
    """A function from a row to its line of COPY text, built for the table's column kinds:
    one f-string, so a row costs a microsecond rather than a call per value."""
    cells: list[str] = []
    for index, (_, kind) in enumerate(columns):
        value = f"r[{index}]"
        base = kind.rstrip("?")
        if base == "b":
            cell = f'("t" if {value} else "f")'
        elif base == "t":
            cell = f"escape({value})"
        elif base == "j":
            cell = f"escape_json({value})"
        else:
            cell = value
        if kind.endswith("?"):
            cell = f"(NULL if {value} is None else {cell})"
        cells.append("{" + cell + "}")
    source = "lambda r: f'" + "\\t".join(cells) + "\\n'"
    formatter: Callable[[Row], str] = eval(
        source, {"escape": _escape, "escape_json": _escape_json, "NULL": "\\N"}
    )
    return formatter


FORMATTERS = {table: _line_formatter(columns) for table, columns in COLUMNS.items()}


def copy_text(table: str, rows: Sequence[Row]) -> str:
    return "".join(map(FORMATTERS[table], rows))


# --- loading ---------------------------------------------------------------------------------


def _names_of(table: str) -> str:
    return ", ".join(f'"{name}"' for name, _ in COLUMNS[table])


class Sink:
    """Where the rows go."""

    def route(self, table: str, entity_type: str) -> str:
        """Where the rows of `table` about items of `entity_type` are written."""
        return table

    def write(self, table: str, rows: list[Row]) -> None:
        raise NotImplementedError

    def write_text(self, table: str, text_: bytes) -> None:
        """Rows already in COPY text, UTF-8 (PostgreSQL only)."""
        raise NotImplementedError

    def loaded(self, table: str) -> None:
        """Every row of `table` is written."""

    def finish(self) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError


def _pg_conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class _Builders:
    """Threads rebuilding loaded tables' indexes, each on its own connection, while the main
    thread still generates and loads the other tables (psycopg waits without the GIL).

    The largest first: of the jobs waiting, those of the largest table (a table's keys
    before its other indexes, which would wait for their lock), then the widest index
    (its definition's length standing for it), so that the last to finish start early and
    the two threads end together (first come first served, the search names' widest index
    began last and ran alone for 8 s of a 1,000,000-model fill)."""

    def __init__(self, conninfo: str, count: int, log: Callable[[str], None]) -> None:
        import psycopg

        # (-table's bytes, 0 for keys, -definition's length, arrival, label, statement); a
        # stop (no statement) sorts after every job.
        self.jobs: queue.PriorityQueue[tuple[float, int, int, int, str, str]] = (
            queue.PriorityQueue()
        )
        self.arrivals = itertools.count()
        self.errors: list[BaseException] = []
        self.log = log
        self.connections = [psycopg.connect(conninfo, autocommit=True) for _ in range(count)]
        for connection in self.connections:
            connection.execute("SET statement_timeout = 0")
            connection.execute("SET maintenance_work_mem = '1GB'")
            # The builders and the loaders already keep both cores busy.
            connection.execute("SET max_parallel_maintenance_workers = 0")
        self.threads = [threading.Thread(target=self._run, args=(c,)) for c in self.connections]
        for thread in self.threads:
            thread.start()

    def _run(self, connection: psycopg.Connection[Any]) -> None:
        while True:
            *_, label, statement = self.jobs.get()
            if not statement:  # the stop
                return
            if self.errors:
                continue
            started = time.perf_counter()
            try:
                connection.execute(statement)
            except BaseException as exc:
                self.errors.append(exc)
                continue
            self.log(f"{label}: {time.perf_counter() - started:.1f} s")

    def add(self, label: str, statement: str, *, size: int, key: bool) -> None:
        """A job on a table of `size` bytes; `key`: it adds the table's keys."""
        rank = (-size, 0 if key else 1, -len(statement), next(self.arrivals))
        self.jobs.put((*rank, label, statement))

    def join(self, *, cancel: bool = False) -> None:
        if cancel:
            self.errors.append(RuntimeError("cancelled"))
            for connection in self.connections:
                connection.cancel_safe()
        for _ in self.threads:
            self.jobs.put((math.inf, 0, 0, next(self.arrivals), "stop", ""))
        for thread in self.threads:
            thread.join()
        for connection in self.connections:
            connection.close()
        if self.errors and not cancel:
            raise self.errors[0]


class _Loader:
    """One table's connection and its COPY ... FREEZE, in a transaction that emptied it."""

    def __init__(self, conninfo: str, table: str, columns: str) -> None:
        import psycopg
        from psycopg.copy import QueuedLibpqWriter

        self.connection = psycopg.connect(conninfo)
        self.connection.execute("SET statement_timeout = 0")
        self.connection.execute("SET synchronous_commit = off")
        self.connection.execute("SET client_encoding = 'UTF8'")  # the workers' bytes
        # FREEZE needs the table emptied (or made) in the same transaction.
        self.connection.execute(f"TRUNCATE {table}")
        self.cursor = self.connection.cursor()
        statement = f"COPY {table} ({columns}) FROM STDIN (FREEZE)"
        # A thread sends the data: the main thread goes on generating meanwhile.
        self.context = self.cursor.copy(statement, writer=QueuedLibpqWriter(self.cursor))
        self.copy = self.context.__enter__()

    def commit(self) -> None:
        self.context.__exit__(None, None, None)
        self.cursor.close()
        self.connection.commit()
        self.connection.close()

    def kill(self) -> None:
        """Drop the connection: the server rolls the transaction back."""
        self.connection.cancel_safe()
        self.connection.close()


class PostgresSink(Sink):
    """One connection per table (per partition of a partitioned one): TRUNCATE and COPY ...
    FREEZE in its own transaction (the rows are written frozen and all-visible, so nothing
    rewrites them on first read), the server parsing every table's stream at once; each
    table's primary key and indexes are rebuilt as soon as it is loaded (a partition's own as
    soon as its entity type is, those of a partitioned table once every partition is), the
    foreign keys once every table is. A partitioned table's primary key stays through the
    load, kept by the COPYs: added again, it would lock every partition at once."""

    def __init__(self, url: str, log: Callable[[str], None]) -> None:
        import psycopg

        self.conninfo = _pg_conninfo(url)
        self.log = log
        self.main = psycopg.connect(self.conninfo, autocommit=True)
        self.main.execute("SET statement_timeout = 0")
        self.constraints: list[tuple[str, str, str, str]] = []
        self.indexes: dict[str, list[tuple[str, str]]] = {}
        # Where the rows go -> the table whose columns (and COPY text) they have.
        self.parents = {
            target: table
            for table in TABLES
            for target in PARTITIONED.get(table, {table: table}).values()
        }
        self._save_and_drop()
        self.loaders = {
            target: _Loader(self.conninfo, target, _names_of(table))
            for target, table in self.parents.items()
        }
        self.builders = _Builders(self.conninfo, 2, log)

    def _run(self, statement: str) -> list[tuple[Any, ...]]:
        cursor = self.main.execute(statement)
        return list(cursor.fetchall()) if cursor.description else []

    def _save_and_drop(self) -> None:
        """Keep the definitions of the tables' constraints and secondary indexes, then drop
        them (foreign keys first) and empty the tables."""
        names = list(dict.fromkeys([*TABLES, *self.parents]))
        tables = "ARRAY[" + ", ".join(f"'{t}'::regclass" for t in names) + "]"
        # The partitions' parts of a partitioned table's keys and indexes go with them.
        self.constraints = [
            (str(name), str(table), str(kind), str(definition))
            for name, table, kind, definition in self._run(
                "SELECT conname, conrelid::regclass::text, contype, pg_get_constraintdef(oid)"
                " FROM pg_constraint WHERE contype IN ('p', 'u', 'f') AND conparentid = 0"
                f" AND (conrelid = ANY({tables}) OR confrelid = ANY({tables}))"
                " ORDER BY contype = 'f' DESC, conname"
            )
            if not (table in PARTITIONED and kind == "p")
        ]
        # With each index, its columns' statistics targets where set (pg_get_indexdef has
        # none of them: migration 0011 turns off the `_desc` as_of indexes').
        for name, table, definition in self._run(
            "SELECT c.relname, i.indrelid::regclass::text, pg_get_indexdef(i.indexrelid)"
            " || coalesce((SELECT string_agg(format('; ALTER INDEX %I ALTER COLUMN %s"
            " SET STATISTICS %s', c.relname, a.attnum, a.attstattarget), '' ORDER BY a.attnum)"
            " FROM pg_attribute a WHERE a.attrelid = i.indexrelid AND a.attstattarget >= 0), '')"
            " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            f" WHERE i.indrelid = ANY({tables}) AND NOT c.relispartition"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
            " ORDER BY c.relname"
        ):
            self.indexes.setdefault(str(table), []).append((str(name), str(definition)))
        with self.main.transaction():
            for name, table, _, _ in self.constraints:
                self._run(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for indexes in self.indexes.values():
                for name, _ in indexes:
                    self._run(f'DROP INDEX "{name}"')
            self._run(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY")

    def _size(self, table: str) -> int:
        """Bytes of the table, or of its partitions."""
        ((size,),) = self._run(
            f"SELECT coalesce(sum(pg_relation_size(relid)), 0) FROM pg_partition_tree('{table}')"
        )
        return int(size)

    def _keys(self, table: str, kinds: str) -> list[str]:
        return [
            f'ALTER TABLE {t} ADD CONSTRAINT "{name}" {definition}'
            for name, t, kind, definition in self.constraints
            if (t == table or table == "*") and kind in kinds
        ]

    def route(self, table: str, entity_type: str) -> str:
        return PARTITIONED.get(table, {}).get(entity_type, table)

    def write(self, table: str, rows: list[Row]) -> None:
        self.loaders[table].copy.write(copy_text(self.parents[table], rows))

    def write_text(self, table: str, text_: bytes) -> None:
        self.loaders[table].copy.write(text_)

    def loaded(self, table: str) -> None:
        """Commit the table (unless a partitioned one, whose partitions are) and hand its
        indexes to the builders: its primary key and unique constraints first (they lock
        the table), then the others."""
        loader = self.loaders.pop(table, None)
        if loader is not None:
            loader.commit()
        size = self._size(table)
        keys = self._keys(table, "pu")
        if keys:
            self.builders.add(f"{table}: primary key", "; ".join(keys), size=size, key=True)
        for name, definition in self.indexes.get(table, []):
            # A partitioned table's index as the catalog gives it is `ON ONLY` the table:
            # made on each partition too, without ONLY.
            made = definition.replace(" ON ONLY ", " ON ", 1)
            self.builders.add(f"{table}: {name}", made, size=size, key=False)

    def finish(self) -> None:
        for table in [*self.loaders, *PARTITIONED]:
            self.loaded(table)
        self.builders.join()
        # The revisions' ids were given: their sequence goes on after them.
        self._run(
            "SELECT setval(pg_get_serial_sequence('revisions', 'id'), max(id)) FROM revisions"
            " HAVING max(id) IS NOT NULL"
        )
        started = time.perf_counter()
        with self.main.transaction():
            for statement in self._keys("*", "f"):
                self._run(statement)
        self.log(f"foreign keys (validated): {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        # A table at a time on each of two connections, the largest first (a partitioned
        # table's ANALYZE does its partitions too).
        analyzers = _Builders(self.conninfo, 2, self.log)
        for table in TABLES:
            size = self._size(table)
            analyzers.add(f"{table}: analyze", f"ANALYZE {table}", size=size, key=False)
        analyzers.join()
        self.log(f"analyze: {time.perf_counter() - started:.1f} s")
        self.main.close()

    def abort(self) -> None:
        """Put the schema back as the migrations made it, with empty tables."""
        for loader in self.loaders.values():
            loader.kill()
        self.builders.join(cancel=True)
        existing = {
            str(name)
            for (name,) in self._run(
                "SELECT conname FROM pg_constraint UNION SELECT relname FROM pg_class"
            )
        }
        with self.main.transaction():
            self._run(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY")
            for kinds in ("pu", "f"):  # keys before the foreign keys that need them
                for name, table, kind, definition in self.constraints:
                    if kind in kinds and name not in existing:
                        self._run(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
                if kinds == "pu":
                    for indexes in self.indexes.values():
                        for name, definition in indexes:
                            if name not in existing:
                                self._run(definition)
        self.main.close()


class SQLiteSink(Sink):
    """executemany of the plain tuples, in one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.raw = engine.raw_connection()
        self.cursor = self.raw.cursor()
        self.cursor.execute("PRAGMA synchronous = OFF")

    def write(self, table: str, rows: list[Row]) -> None:
        marks = ", ".join("?" for _ in COLUMNS[table])
        self.cursor.executemany(f"INSERT INTO {table} ({_names_of(table)}) VALUES ({marks})", rows)

    def finish(self) -> None:
        self.raw.commit()
        self.cursor.execute("ANALYZE")
        self.raw.commit()
        self.raw.close()

    def abort(self) -> None:
        self.raw.rollback()
        self.raw.close()


@dataclass
class Report:
    counts: Counts
    rows: dict[str, int]
    seconds: float
    phases: list[tuple[str, float]] = field(default_factory=list)


class NotEmpty(Exception):
    """The database already holds data: the scale data goes into an empty one."""


def _nonempty(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return [
            table
            for table in TABLES
            if connection.execute(text(f"SELECT 1 FROM {table} LIMIT 1")).first() is not None
        ]


def fill(
    database_url: str,
    counts: Counts,
    *,
    seed: int = 0,
    console: Console | None = None,
    replace: bool = False,
    workers: int | None = None,
) -> Report:
    """Migrate the database to head and load the scale data; refuses a database that holds
    data unless `replace` (which empties the tables first). On PostgreSQL, `workers`
    processes (default: one per core) make the models, chip support and investments."""
    workers = (os.cpu_count() or 1) if workers is None else workers
    url = normalize_database_url(database_url)
    console = console or Console(stderr=True)
    began = time.perf_counter()
    phases: list[tuple[str, float]] = []

    def log(message: str) -> None:
        console.log(message)

    @contextmanager
    def phase(name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        took = time.perf_counter() - started
        phases.append((name, took))
        log(f"{name}: {took:.1f} s")

    engine = create_engine(url)
    try:
        with phase("migrate"):
            upgrade(engine)
        nonempty = _nonempty(engine)
        if nonempty and not replace:
            raise NotEmpty(f"not empty: {', '.join(nonempty)} (--replace empties them)")
        if nonempty and engine.dialect.name != "postgresql":
            with engine.begin() as connection:
                for table in reversed(TABLES):
                    connection.execute(text(f"DELETE FROM {table}"))
        with phase("prepare"):
            sink: Sink = (
                PostgresSink(url, log)
                if engine.dialect.name == "postgresql"
                else SQLiteSink(engine)
            )
        rows: dict[str, int] = dict.fromkeys(TABLES, 0)
        generator = Generator(counts, seed)
        as_text = isinstance(sink, PostgresSink) and workers > 0
        try:
            with (
                phase("generate and load"),
                Progress(
                    TextColumn("{task.description:<14}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    console=console,
                ) as progress,
            ):
                collections = generator.collections()
                tasks = {c.method: progress.add_task(c.label, total=c.count) for c in collections}
                remaining = {c.method: len(range(0, c.count, CHUNK)) for c in collections}

                def done(collection: Collection) -> None:
                    """Count one chunk; the last one of a collection commits its table."""
                    remaining[collection.method] -= 1
                    if remaining[collection.method] > 0:
                        return
                    after = getattr(generator, f"after_{collection.method}", None)
                    if after is not None:
                        after()
                    sink.loaded(collection.table)
                    for parent in PARTITIONED:  # and its entity type's partitions
                        if (target := sink.route(parent, collection.entity_type)) != parent:
                            sink.loaded(target)
                    if collection.table == "investments":
                        sink.loaded("investment_participants")

                in_order = [c for c in collections if not (as_text and c.parallel)]
                for collection in in_order:
                    method = getattr(generator, collection.method)
                    for first in range(0, collection.count, CHUNK):
                        batch: Batch = method(first)
                        for table in TABLES:  # references first
                            if batch.get(table):
                                sink.write(sink.route(table, collection.entity_type), batch[table])
                                rows[table] += len(batch[table])
                        progress.advance(
                            tasks[collection.method], len(batch.get(collection.table, ()))
                        )
                        done(collection)
                parallel = [c for c in collections if c not in in_order]
                if parallel:
                    for collection, (texts, counted) in _chunks_in_workers(
                        generator, parallel, workers
                    ):
                        for table in TABLES:
                            if counted.get(table):
                                target = sink.route(table, collection.entity_type)
                                sink.write_text(target, texts[table])
                                rows[table] += counted[table]
                        progress.advance(tasks[collection.method], counted.get(collection.table, 0))
                        done(collection)
            with phase("indexes, constraints, analyze"):
                sink.finish()
        except BaseException:
            sink.abort()
            raise
    finally:
        engine.dispose()
    return Report(counts=counts, rows=rows, seconds=time.perf_counter() - began, phases=phases)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--database-url", required=True, help="postgresql://... or sqlite:///...")
    parser.add_argument("--models", type=int, default=1_000_000)
    for name in ("organizations", "chips", "chip-support", "investments", "documents"):
        parser.add_argument(f"--{name}", type=int, help="default: derived from --models")
    parser.add_argument("--seed", type=int, default=0, help="the same seed gives the same data")
    parser.add_argument("--replace", action="store_true", help="empty the tables first")
    parser.add_argument(
        "--workers", type=int, help="processes making the data (default: one per core; 0: none)"
    )
    args = parser.parse_args(argv)
    counts = Counts.derive(
        args.models,
        organizations=args.organizations,
        chips=args.chips,
        chip_support=args.chip_support,
        investments=args.investments,
        documents=args.documents,
    )
    console = Console(stderr=True)
    try:
        report = fill(
            args.database_url,
            counts,
            seed=args.seed,
            console=console,
            replace=args.replace,
            workers=args.workers,
        )
    except NotEmpty as exc:
        console.print(f"[red]{exc}[/red]")
        return 2
    for table, count in report.rows.items():
        console.print(f"  {table:<24} {count:>12,}")
    console.print(
        f"Filled {report.counts.models:,} models ({sum(report.rows.values()):,} rows)"
        f" in {report.seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
