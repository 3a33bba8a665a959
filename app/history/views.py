"""`as_of=<timestamp>` on single items: the item as the dataset recorded it then."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlmodel import Session

from app.api import item_response, parse_timestamp
from app.errors import InvalidParameter
from app.history.service import state_at
from app.views import View


def item_as_of(
    request: Request, session: Session, entity_type: str, item_id: str, as_of: str, view: View
) -> Any:
    if view.include or view.fields is not None:
        raise InvalidParameter(
            "as_of", "include and fields are not supported together with a timestamp as_of"
        )
    return item_response(request, state_at(session, entity_type, item_id, parse_timestamp(as_of)))
