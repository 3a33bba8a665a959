from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from app.api import (
    INVALID,
    NOT_FOUND,
    DateQuery,
    ItemId,
    Page,
    item_response,
    list_as_of,
    split_values,
)
from app.db import SessionDep
from app.documents.schemas import DocumentDetail, DocumentPublic
from app.documents.service import SORT, DocumentFilters, get_document, list_documents
from app.history.views import ListParams, list_params, respond_collection
from app.leanroute import LeanRoute
from app.streaming import LIST_CONTENT

router = APIRouter(prefix="/v1/documents", tags=["documents"], route_class=LeanRoute)


async def _document_filters(
    q: Annotated[
        str | None,
        Query(max_length=200, description="Case- and accent-insensitive match on the title."),
    ] = None,
    language: Annotated[
        str | None,
        Query(
            pattern=r"^[A-Za-z]{2}(?:,[A-Za-z]{2})*$",
            description="ISO 639-1 codes, comma-separated: `fr,it`.",
        ),
    ] = None,
    published_from: DateQuery = None,
    published_to: DateQuery = None,
) -> DocumentFilters:
    return DocumentFilters(
        q=q,
        language=split_values(language.lower()) if language else None,
        published_from=published_from,
        published_to=published_to,
    )


DOCUMENT_LIST = list_params(
    "DocumentListQuery", filters=_document_filters, sort=SORT, as_of=list_as_of
)
DocumentListQuery = Annotated[ListParams[DocumentFilters], Depends(DOCUMENT_LIST)]


@router.get(
    "",
    response_model=Page[DocumentPublic],
    responses={**INVALID, 200: {"content": LIST_CONTENT}},
    openapi_extra=DOCUMENT_LIST.openapi,
)
async def documents_list(request: Request, session: SessionDep, params: DocumentListQuery) -> Any:
    """The source documents every citation points into (without their text)."""
    filters = params.filters
    return await respond_collection(
        request,
        session,
        params,
        entity_type="document",
        filters=filters,
        name="documents",
        fetch=lambda s, p: list_documents(session=s, filters=filters, page=p),
    )


@router.get("/{id}", response_model=DocumentDetail, responses=NOT_FOUND)
async def documents_get(request: Request, session: SessionDep, id: ItemId) -> Any:
    """One document with its full text, so every quote can be checked."""
    return item_response(request, get_document(session=session, document_id=id))
