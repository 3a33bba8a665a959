from __future__ import annotations

from itertools import chain

from fastapi import APIRouter, Request
from starlette.responses import StreamingResponse

from app.export.service import export_stream
from app.leanroute import LeanRoute

router = APIRouter(prefix="/v1/export", tags=["export"], route_class=LeanRoute)

_EXAMPLE = (
    '{"type":"header","data":{"format":"aifacts-export","version":1}}\n'
    '{"type":"document","data":{"id":"cgtn-deepseek-cost-of-ai","title":"…","text":"…"}}\n'
    '{"type":"organization","data":{"id":"deepseek","name":"DeepSeek","kind":"lab",'
    '"citations":[{"document_id":"cgtn-deepseek-cost-of-ai","quote":"DeepSeek",'
    '"start":10,"end":18,"field":null,"stance":"support","attributed_to":null,"note":null}]}}\n'
    '{"type":"footer","data":{"counts":{"document":5,"organization":30}}}\n'
)


class NDJSONResponse(StreamingResponse):
    media_type = "application/x-ndjson"


@router.get(
    "",
    response_class=NDJSONResponse,
    responses={
        200: {
            "description": (
                "The whole dataset, one JSON object per line: a `header`, every `document`"
                " (with `text` and `original_text`), the facts in dependency order"
                " (`organization` parents first, `chip`, `model`, `chip_support`,"
                " `investment`; each one's `data` is its create payload with `citations` and"
                " their offsets), and a `footer` with the count of each type."
            ),
            "content": {
                "application/x-ndjson": {"schema": {"type": "string"}, "example": _EXAMPLE}
            },
        }
    },
)
def export(request: Request) -> NDJSONResponse:
    """Everything, streamed; `python -m app.cli seed --from-export FILE` loads it back.

    Memory stays bounded by one chunk of rows whatever the size of the database, and the
    stream reads one consistent snapshot. A stream that ends without its `footer` was cut.
    """
    # The body outlives the request's session, so the stream opens its own connection. Its
    # first step (connect, begin, header) runs now: a database that does not answer is a 503
    # problem, not a cut stream.
    stream = export_stream(request.app.state.engine)
    header = next(stream)
    return NDJSONResponse(
        chain([header], stream),
        headers={"Content-Disposition": 'attachment; filename="aifacts-export.ndjson"'},
    )
