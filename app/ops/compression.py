"""Gzip for the clients that ask for it."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import Message, Receive, Scope, Send


def _accepts_gzip(scope: Scope) -> bool:
    # As Starlette decides: "gzip" anywhere in Accept-Encoding.
    for name, value in scope["headers"]:
        if name == b"accept-encoding":
            return b"gzip" in value
    return False


class CompressionMiddleware(GZipMiddleware):
    """Starlette's gzip when the request accepts it; otherwise the answer as it is, with
    `Vary: Accept-Encoding`.

    Starlette's own identity path makes a responder and parses the answer's headers on each
    request only to decide on that Vary header (~25 us of a ~300 us list); every answer here
    carries it, which is true of any answer large enough to compress and harmless on others.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _accepts_gzip(scope):
            await super().__call__(scope, receive, send)
            return

        async def send_with_vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).add_vary_header("Accept-Encoding")
            await send(message)

        await self.app(scope, receive, send_with_vary)
