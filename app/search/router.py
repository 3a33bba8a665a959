from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from app.api import INVALID, split_values
from app.db import SessionDep, in_worker_thread
from app.jsonutil import JSONResponse
from app.leanroute import LeanRoute
from app.search.names import ENTITY_TYPES
from app.search.schemas import SearchPage
from app.search.service import search

router = APIRouter(prefix="/v1/search", tags=["search"], route_class=LeanRoute)

MAX_LIMIT = 100
_TYPE = "(?:" + "|".join(ENTITY_TYPES) + ")"
TypeList = Annotated[
    str | None,
    Query(
        alias="type",
        pattern=rf"^{_TYPE}(?:,{_TYPE})*$",
        max_length=500,
        description=f"Only these types, comma-separated: {', '.join(ENTITY_TYPES)}.",
        examples=["organization,model"],
    ),
]
_EXAMPLE = {
    "data": [
        {
            "type": "organization",
            "id": "deepseek",
            "name": "DeepSeek",
            "matched": "DeepSeek",
            "match": "fuzzy",
            "score": 0.35,
        },
        {
            "type": "model",
            "id": "deepseek-r1",
            "name": "DeepSeek R1",
            "matched": "DeepSeek R1",
            "match": "fuzzy",
            "score": 0.33,
        },
    ],
    "next_cursor": None,
}


@router.get(
    "",
    response_model=SearchPage,
    responses={
        **INVALID,
        200: {"content": {"application/json": {"examples": {"deepsek": {"value": _EXAMPLE}}}}},
    },
    summary="Search every collection by name, alias or title",
)
async def search_all(
    request: Request,
    session: SessionDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=200,
            description=(
                "A name, alias or title in any language the sources use: case-, accent- and"
                " punctuation-insensitive, and tolerant of typos. It needs a letter or digit."
            ),
            examples=["deepsek", "Abou-Dhabi", "universite mohamed bin zayed"],
        ),
    ],
    types: TypeList = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Hits (1–100).")] = 20,
) -> Any:
    """Organizations, models, chips, investments and documents whose name, alias or title
    matches `q`, best first: the exact name or alias, then names starting with it, then names
    with a word starting with it or containing it, then names one or two typos away. Ties go
    to an item's own name over an alias, then the shorter name, then by type and id, so the
    order is the same on every database. Each item appears once, by its best-matching name.
    """
    wanted = split_values(types)
    # A broad or fuzzy search can take a while: in a worker thread, off the event loop.
    hits = await in_worker_thread(
        request, lambda: search(session=session, q=q, types=wanted, limit=limit)
    )
    return JSONResponse({"data": hits, "next_cursor": None})
