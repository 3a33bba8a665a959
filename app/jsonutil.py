"""Fast JSON encoding (orjson) for responses and cursors."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse as StarletteJSONResponse


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


class JSONResponse(StarletteJSONResponse):
    """Starlette's JSON response (so the OpenAPI schema stays JSON), encoded by orjson."""

    def render(self, content: Any) -> bytes:
        return dumps(content)
