"""FastAPI returning a fixed 20-item list: the ceiling of the framework on this machine."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

app = FastAPI(title="fixed")

ITEMS: list[dict[str, Any]] = [
    {
        "id": f"model-{i}",
        "name": f"Model {i}",
        "aliases": [f"M{i}"],
        "developer_id": "lab",
        "parameters": 1_000_000_000 * i,
        "active_parameters": None,
        "open_weights": True,
        "reasoning": None,
        "release_date": None,
        "release_date_precision": None,
        "license": None,
        "description": "A fixed item.",
        "disputed": False,
    }
    for i in range(20)
]


# `async def`: no worker-thread hop, the fastest FastAPI route (a sync `def` did a third of it).
@app.get("/v1/models")
async def list_models() -> dict[str, Any]:
    return {"data": ITEMS, "next_cursor": None}


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
