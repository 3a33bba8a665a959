"""The write API, generated for every collection of the COLLECTIONS registry: POST, PATCH
(JSON merge patch), DELETE, history; document uploads; and the changes feed.

Every write needs a key with the `write` scope; PATCH and DELETE need `If-Match` with the
item's current ETag. Everything goes through the curation write path (app.curation.service),
the same one the seed loader uses.
"""

from __future__ import annotations

from types import UnionType
from typing import Annotated, Any, Union, cast, get_args, get_origin

from fastapi import APIRouter, Body, Header, Query, Request
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    create_model,
)
from starlette.responses import Response

from app.api import (
    INVALID,
    NOT_FOUND,
    ItemId,
    Page,
    Problem,
    cacheable_json,
    etag_of,
    if_match_matches,
    written_json,
)
from app.auth.dependency import Writer
from app.citations.schemas import CitationIn
from app.curation.service import (
    COLLECTIONS,
    Collection,
    InvalidFact,
    create_document,
    create_fact,
    delete_fact,
    upsert_fact,
)
from app.db import SessionDep
from app.documents.schemas import DocumentCreate, DocumentPublic
from app.errors import AppError, InvalidParameter, PreconditionFailed, PreconditionRequired
from app.facts_base import FactIn
from app.history.service import (
    ENTITY_PATHS,
    LABELS,
    current_state,
    list_changes,
    list_history,
)
from app.leanroute import LeanRoute
from app.listing import get_or_404
from app.models import Document

router = APIRouter(route_class=LeanRoute)

Reason = Annotated[
    str | None, Field(default=None, max_length=2000, description="Why (kept in the history).")
]


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "model": Problem}


AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _problem("The body is not JSON (or not UTF-8)."),
    401: _problem("No API key, or not a valid one (see WWW-Authenticate)."),
    403: _problem("The key lacks the `write` scope, or was revoked."),
    413: _problem("The body is larger than the server accepts."),
    422: _problem("An invalid body or parameter, named in detail and errors."),
}
CONDITIONAL: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    410: _problem("The item was deleted; its history is linked (rel=history)."),
    412: _problem("If-Match does not match the item's current ETag: someone changed it."),
    428: _problem("If-Match is required: GET the item and send its ETag."),
}
IfMatch = Annotated[
    str | None,
    Header(
        max_length=1000,
        description="The ETag of the item as you read it (required; `*` for any version).",
    ),
]


class RevisionPublic(BaseModel):
    revision: int = Field(description="The item's revision number after this write.")
    action: str = Field(examples=["update"], description="create, update or delete.")
    actor: str = Field(description="The API key's name, `seed`, or `migration`.")
    recorded_at: str = Field(description="UTC, RFC 3339 with microseconds.")
    reason: str | None
    diff: dict[str, Any] = Field(description="{field: [old, new]} for each changed value.")
    citations: list[dict[str, Any]] = Field(description="The citations given with the write.")


class Change(RevisionPublic):
    cursor: str = Field(description="Pass as `since` to get the writes after this one.")
    collection: str = Field(examples=["models"])
    entity_type: str = Field(examples=["model"])
    id: str
    state: dict[str, Any] | None = Field(
        description="The item after the write (null for a delete)."
    )


class ChangesPage(BaseModel):
    data: list[Change]
    next_cursor: str | None = Field(description="Set when more writes follow at once.")
    cursor: str = Field(description="The cursor of the last write listed: poll with it.")


def _invalid_body(exc: ValidationError) -> AppError:
    errors = [
        {"loc": ["body", *[p if isinstance(p, int) else str(p) for p in e["loc"]]], "msg": e["msg"]}
        for e in exc.errors()
    ]
    where = "; ".join(
        f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}" for e in errors
    )
    error = AppError(f"Invalid body: {where}", errors=errors)
    error.status = 422
    return error


def _post_model(collection: Collection) -> type[FactIn]:
    model = create_model(
        f"{collection.schema.__name__}Post",
        __base__=collection.schema,
        __doc__=f"A new {collection.entity} with at least one citation.",
        reason=(Reason, None),
    )
    # `reason` is about the write, not a field a quote can support.
    setattr(model, "_uncitable", collection.schema._uncitable | {"reason"})  # noqa: B010
    return cast(type[FactIn], model)


def _patch_model(collection: Collection) -> type[BaseModel]:
    # A merge patch is JSON: booleans and integers are taken as they are, never coerced
    # ("yes" or 0 is not a boolean); the merged result is validated by the XCreate schema.
    strict: dict[Any, Any] = {bool: StrictBool, int: StrictInt}
    fields: dict[str, Any] = {}
    for name, info in collection.schema.model_fields.items():
        if name in ("id", "citations"):
            continue
        annotation = info.annotation
        args = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else ()
        base = next((a for a in args if a is not type(None)), annotation) if args else annotation
        fields[name] = (strict.get(base, annotation) | None, None)  # type: ignore[operator]
    fields["citations"] = (
        list[CitationIn] | None,
        Field(
            default=None,
            description="Appended to the item's citations; required when a value changes.",
        ),
    )
    fields["reason"] = (Reason, None)
    model: type[BaseModel] = create_model(
        f"{collection.schema.__name__.removesuffix('Create')}Patch",
        __config__=ConfigDict(extra="forbid"),
        __doc__=(
            f"A JSON merge patch (RFC 7396) of a {collection.entity}: the fields to change"
            " (null removes a value), the citations supporting the change, and a reason."
        ),
        **fields,
    )
    return model


def _create_payload(collection: Collection, state: dict[str, Any]) -> dict[str, Any]:
    """The item's current state as its XCreate payload (what a merge patch applies to)."""
    names = [n for n in collection.schema.model_fields if n not in ("id", "citations")]
    payload = {n: state.get(n) for n in names}
    if "investors" in payload:
        payload["investors"] = [
            {"organization_id": i["organization_id"], "role": i["role"]}
            for i in state.get("investors") or []
        ]
    return payload


def _check_if_match(if_match: str | None, state: dict[str, Any], label: str, item_id: str) -> None:
    if if_match is None:
        raise PreconditionRequired(
            f"Send If-Match with the ETag of the {label} {item_id!r} as you read it"
            " (GET it first), so that no one else's change is lost."
        )
    if not if_match_matches(if_match, etag_of(state)):
        raise PreconditionFailed(
            f"The {label} {item_id!r} changed since you read it (If-Match does not match"
            " its current ETag): GET it again, reapply your change, and resend."
        )


def _add_fact_routes(collection: Collection) -> None:
    path = f"/v1/{ENTITY_PATHS[collection.entity]}"
    tag = ENTITY_PATHS[collection.entity]
    label = LABELS[collection.entity]
    entity = collection.entity
    post_model = _post_model(collection)
    patch_model = _patch_model(collection)

    def create(session: SessionDep, writer: Writer, body: Any) -> Response:
        data = body.model_dump(exclude={"reason"}, exclude_unset=True)
        try:
            payload = collection.schema.model_validate(data)
        except ValidationError as exc:
            raise _invalid_body(exc) from exc
        fact_id = create_fact(session, collection, payload, actor=writer.name, reason=body.reason)
        state = current_state(session, entity, fact_id)
        return written_json(state, status_code=201, headers={"Location": f"{path}/{fact_id}"})

    create.__annotations__["body"] = Annotated[post_model, Body()]
    router.add_api_route(
        path,
        create,
        methods=["POST"],
        status_code=201,
        tags=[tag],
        summary=f"Create a {label}",
        description=(
            f"A new {label}: every value needs at least one citation whose quote is in a"
            " stored document (offsets are found when only the quote is given). The id is"
            " made from the name when not given; a taken id answers 409."
        ),
        responses={
            **AUTH_RESPONSES,
            201: {"description": "Created; Location and ETag name the new item."},
            409: _problem("The id is taken (or was used before)."),
        },
        operation_id=f"create_{collection.name}",
    )

    def patch(
        session: SessionDep,
        writer: Writer,
        id: ItemId,
        body: Any,
        if_match: IfMatch = None,
    ) -> Response:
        row = get_or_404(session, collection.table, label, id)
        state = current_state(session, entity, id)
        _check_if_match(if_match, state, label, id)
        changes = body.model_dump(exclude_unset=True)
        new_citations = (
            [CitationIn.model_validate(c) for c in changes.pop("citations") or []]
            if ("citations" in changes)
            else []
        )
        reason = changes.pop("reason", None)
        base = _create_payload(collection, state)
        merged = {**base, **changes}
        current_citations = [CitationIn.model_validate(c) for c in state.get("citations") or []]
        try:
            old = collection.schema.model_validate(
                {**base, "id": id, "citations": current_citations}
            )
            new = collection.schema.model_validate(
                {**merged, "id": id, "citations": [*current_citations, *new_citations]}
            )
        except ValidationError as exc:
            raise _invalid_body(exc) from exc
        values_changed = new.model_dump(exclude={"citations"}) != old.model_dump(
            exclude={"citations"}
        )
        if values_changed and not new_citations:
            raise InvalidFact(
                ["citations"],
                "a change of value needs at least one citation whose quote supports it",
            )
        if not values_changed and not new_citations:
            return written_json(state)
        upsert_fact(
            session,
            collection,
            new,
            actor=writer.name,
            reason=reason,
            given_citations=new_citations,
            expected_revision=row.revision,  # type: ignore[attr-defined]
        )
        return written_json(current_state(session, entity, id))

    patch.__annotations__["body"] = Annotated[patch_model, Body()]
    schema_ref = {"$ref": f"#/components/schemas/{patch_model.__name__}"}
    router.add_api_route(
        f"{path}/{{id}}",
        patch,
        methods=["PATCH"],
        tags=[tag],
        summary=f"Change a {label}",
        description=(
            "A JSON merge patch (RFC 7396; `application/merge-patch+json` or"
            " `application/json`) of the item's fields, with `citations` (appended; required"
            " when a value changes) and an optional `reason`. Needs If-Match: a stale ETag"
            " answers 412 and changes nothing."
        ),
        responses={**AUTH_RESPONSES, **CONDITIONAL, 200: {"description": "The item as changed."}},
        openapi_extra={
            "requestBody": {"content": {"application/merge-patch+json": {"schema": schema_ref}}}
        },
        operation_id=f"patch_{collection.name}",
    )

    def remove(
        session: SessionDep,
        writer: Writer,
        id: ItemId,
        if_match: IfMatch = None,
        reason: Annotated[
            str | None, Query(max_length=2000, description="Why (kept in the history).")
        ] = None,
    ) -> Response:
        if reason is not None and "\x00" in reason:
            raise InvalidParameter("reason", "must not contain the NUL character (U+0000)")
        row = get_or_404(session, collection.table, label, id)
        state = current_state(session, entity, id)
        _check_if_match(if_match, state, label, id)
        delete_fact(
            session,
            collection,
            id,
            expected_revision=row.revision,  # type: ignore[attr-defined]
            actor=writer.name,
            reason=reason,
        )
        return Response(status_code=204)

    router.add_api_route(
        f"{path}/{{id}}",
        remove,
        methods=["DELETE"],
        status_code=204,
        tags=[tag],
        summary=f"Delete a {label}",
        description=(
            "Removes the item with its citations; its history stays, and GET answers 410."
            " An item other items reference answers 409 listing them (nothing cascades)."
        ),
        responses={
            **AUTH_RESPONSES,
            **CONDITIONAL,
            204: {"description": "Deleted."},
            409: _problem("Other items reference this one; they are listed."),
        },
        response_class=Response,
        operation_id=f"delete_{collection.name}",
    )
    _add_history_route(path, tag, entity)


def _add_history_route(path: str, tag: str, entity: str) -> None:
    async def history(request: Request, session: SessionDep, id: ItemId) -> Any:
        return cacheable_json(
            request, {"data": list_history(session, entity, id), "next_cursor": None}
        )

    router.add_api_route(
        f"{path}/{{id}}/history",
        history,
        methods=["GET"],
        tags=[tag],
        summary=f"History of a {LABELS[entity]}",
        description=(
            "Every write of the item, oldest first: who, when, what changed (`diff`), the"
            " citations given and the reason. Deleted items keep their history."
        ),
        response_model=Page[RevisionPublic],
        responses={**NOT_FOUND, **INVALID},
        operation_id=f"history_{ENTITY_PATHS[entity].replace('-', '_')}",
    )


for _collection in COLLECTIONS.values():
    _add_fact_routes(_collection)


class DocumentPost(DocumentCreate):
    """A source document: its text is repaired (mojibake, NFC; the original is kept) and
    hashed; the same text uploaded again answers with the stored document."""


@router.post(
    "/v1/documents",
    tags=["documents"],
    status_code=201,
    response_model=DocumentPublic,
    responses={
        **AUTH_RESPONSES,
        200: {
            "description": "The same text is already stored: that document.",
            "model": DocumentPublic,
        },
        201: {"description": "Stored; Location names it."},
        409: _problem("The id is taken by a document with another text."),
    },
    summary="Upload a document",
)
def documents_create(session: SessionDep, writer: Writer, body: DocumentPost) -> Response:
    """Store a source document that citations can quote (deduplicated by its text)."""
    doc_id, created = create_document(session, body, actor=writer.name)
    row = session.get(Document, doc_id)
    assert row is not None
    state = current_state(session, "document", doc_id)
    return written_json(
        state, status_code=201 if created else 200, headers={"Location": f"/v1/documents/{doc_id}"}
    )


_add_history_route("/v1/documents", "documents", "document")

_CURSOR = r"^(0|[1-9][0-9]{0,17})$"


@router.get(
    "/v1/changes",
    tags=["changes"],
    response_model=ChangesPage,
    responses=INVALID,
    summary="The feed of all writes",
)
async def changes(
    request: Request,
    session: SessionDep,
    since: Annotated[
        str,
        Query(pattern=_CURSOR, description="The `cursor` of the last write you have; 0: all."),
    ] = "0",
    limit: Annotated[int, Query(ge=1, le=1000, description="Writes per page (1–1000).")] = 100,
) -> Any:
    """Every write (seed included) in the order it was recorded, so a mirror can follow the
    dataset: apply each `state` (null: delete), then poll again with `since=<cursor>`."""
    data, last, more = list_changes(session, since=int(since), limit=limit)
    return cacheable_json(
        request,
        {"data": data, "next_cursor": str(last) if more else None, "cursor": str(last)},
    )
