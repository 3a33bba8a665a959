from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from app.api import (
    INVALID,
    NOT_FOUND,
    ItemId,
    Page,
    PageParams,
    item_response,
    list_response,
    page_params,
)
from app.db import SessionDep
from app.documents.schemas import DocumentDetail, DocumentPublic
from app.documents.service import SORT, DocumentFilters, get_document, list_documents

router = APIRouter(prefix="/v1/documents", tags=["documents"])
DocumentPage = Annotated[PageParams, Depends(page_params(SORT))]


@router.get("", response_model=Page[DocumentPublic], responses=INVALID)
def documents_list(
    request: Request,
    session: SessionDep,
    page: DocumentPage,
    q: Annotated[
        str | None,
        Query(max_length=200, description="Case- and accent-insensitive match on the title."),
    ] = None,
    language: Annotated[
        str | None, Query(pattern=r"^[A-Za-z]{2}$", description="ISO 639-1, e.g. fr.")
    ] = None,
) -> Any:
    """The source documents every citation points into (without their text)."""
    filters = DocumentFilters(q=q, language=language.lower() if language else None)
    data, next_cursor = list_documents(session=session, filters=filters, page=page)
    return list_response(request, data, next_cursor)


@router.get("/{id}", response_model=DocumentDetail, responses=NOT_FOUND)
def documents_get(session: SessionDep, id: ItemId) -> Any:
    """One document with its full text, so every quote can be checked."""
    return item_response(get_document(session=session, document_id=id))
