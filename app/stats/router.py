from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.db import SessionDep
from app.jsonutil import JSONResponse
from app.leanroute import LeanRoute
from app.stats.schemas import Stats
from app.stats.service import get_stats

router = APIRouter(prefix="/v1/stats", tags=["stats"], route_class=LeanRoute)


@router.get("", response_model=Stats)
def stats(session: SessionDep) -> Any:
    """Counts of every collection, models by developer country, investment totals by
    investor country and by year, and the largest models — all computed by the database.

    Amount totals add up the known amounts only (`with_amount` says how many); a range adds
    its low end to `amount_usd_min` and its high end to `amount_usd_max`.
    """
    return JSONResponse(get_stats(session=session))
