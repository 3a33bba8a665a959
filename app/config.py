"""Settings from the environment (12-factor); one cached instance, overridable in tests."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


def normalize_database_url(url: str) -> str:
    """Accept URLs as users paste them: postgres:// and postgresql:// use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = f"sqlite:///{ROOT / 'data' / 'aifacts.db'}"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # text for a person at a terminal; json (one object per line) for log collectors.
    log_format: Literal["json", "text"] = "text"
    # Seconds a statement may run before the database cancels it (PostgreSQL only).
    statement_timeout_s: float = 5.0
    # Worker threads (and so pool connections) that text search and as_of reads may hold at
    # once; every other read runs on the event loop with the rest of the pool.
    slow_read_threads: int = Field(default=4, ge=1)
    # Seconds a slow read may wait for one of them before it is refused with 503.
    slow_read_wait_s: float = Field(default=5.0, gt=0)

    # `python -m app.cli start` (the container's entry point)
    workers: int = Field(default=1, ge=1)
    seed_on_start: bool = False

    # Limits. The rate limiter counts per client IP in each process: with N workers or
    # replicas a client gets up to N times the rate, so size it per process.
    rate_limit_enabled: bool = False
    rate_limit_per_minute: int = Field(default=600, ge=1)
    rate_limit_writes_per_minute: int = Field(default=60, ge=1)
    max_body_bytes: int = Field(default=1024 * 1024, ge=0)
    # Origins allowed to call the API from a browser, comma-separated; empty = none.
    cors_origins: Annotated[list[str], NoDecode] = []
    metrics_enabled: bool = True
    # FastAPI's own OpenTelemetry spans, metrics and logs, sent to the providers configured in
    # the process (e.g. by `opentelemetry-instrument`). Off, no request asks for them: checking
    # the three providers took 4% of a list's CPU.
    opentelemetry: bool = False

    # In-process cache of whole GET answers, dropped on every write (any process or replica:
    # PostgreSQL LISTEN/NOTIFY, SQLite's data_version polled every interval).
    response_cache_enabled: bool = True
    response_cache_mb: int = Field(default=64, ge=1)
    response_cache_entry_kb: int = Field(default=1024, ge=1)
    dataset_poll_interval_s: float = Field(default=0.25, gt=0, le=1)

    @field_validator("database_url")
    @classmethod
    def _normalize_url(cls, value: str) -> str:
        return normalize_database_url(value)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
