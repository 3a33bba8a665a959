from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from app.api import (
    INVALID,
    NOT_FOUND,
    DateQuery,
    ItemId,
    ListAsOf,
    Page,
    PageParams,
    item_response,
    page_params,
    split_values,
)
from app.db import SessionDep
from app.documents.schemas import DocumentDetail, DocumentPublic
from app.documents.service import SORT, DocumentFilters, get_document, list_documents
from app.history.views import respond_collection
from app.streaming import LIST_CONTENT, FormatQuery
from app.views import View

router = APIRouter(prefix="/v1/documents", tags=["documents"])
DocumentPage = Annotated[PageParams, Depends(page_params(SORT))]


@router.get(
    "", response_model=Page[DocumentPublic], responses={**INVALID, 200: {"content": LIST_CONTENT}}
)
async def documents_list(
    request: Request,
    session: SessionDep,
    page: DocumentPage,
    as_of: ListAsOf,
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
    format: FormatQuery = None,
) -> Any:
    """The source documents every citation points into (without their text)."""
    filters = DocumentFilters(
        q=q,
        language=split_values(language.lower()) if language else None,
        published_from=published_from,
        published_to=published_to,
    )
    return await respond_collection(
        request,
        session,
        entity_type="document",
        at=as_of,
        filters=filters,
        page=page,
        view=View(),
        format=format,
        name="documents",
        fetch=lambda s, p: list_documents(session=s, filters=filters, page=p),
    )


@router.get("/{id}", response_model=DocumentDetail, responses=NOT_FOUND)
async def documents_get(request: Request, session: SessionDep, id: ItemId) -> Any:
    """One document with its full text, so every quote can be checked."""
    return item_response(request, get_document(session=session, document_id=id))
