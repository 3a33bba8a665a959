"""`Authorization: Bearer <key>` on write operations (reads stay anonymous)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth.service import Principal, authenticate
from app.db import SessionDep
from app.errors import Forbidden, Unauthorized

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description="An API key made with `python -m app.cli keys create` (`af_…`).",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def require_scope(scope: str) -> Callable[..., Principal]:
    def dependency(session: SessionDep, credentials: Credentials) -> Principal:
        if credentials is None:
            raise Unauthorized(
                f"This operation needs an API key with the {scope!r} scope:"
                " send `Authorization: Bearer <key>`."
            )
        principal = authenticate(session, credentials.credentials)
        if principal is None:
            raise Unauthorized("The API key is not valid.", invalid_token=True)
        if principal.revoked:
            raise Forbidden("The API key has been revoked.")
        if scope not in principal.scopes:
            raise Forbidden(f"The API key lacks the {scope!r} scope.", scope=scope)
        return principal

    return dependency


Writer = Annotated[Principal, Depends(require_scope("write"))]
