"""GET routes whose dependencies are solved by a plan made once, not per request.

FastAPI solves a route's dependencies on every request with machinery general enough for
every feature it offers (overrides, scopes, security, generators entered on exit stacks,
telemetry): on a list that was about a third of the request's CPU. The reads here use a
small subset: the `Request`, path and query parameters, async functions depending on the
same, and the database session. `LeanRoute` turns such a route's dependency tree into a
plan when the route is declared and runs it directly. The parameters are validated from
FastAPI's own field definitions (a step's query parameters as one pydantic model, as
`app.query_params` does), so the errors and the OpenAPI document are unchanged;
`tests/test_leanroute.py` compares the answers with FastAPI's handler. A route using anything
else (a body, headers, cookies, a sync or generator dependency, security scopes) is left to
FastAPI as it is. It leans on FastAPI's `Dependant` and fields (the locked version's).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from fastapi._compat import ModelField, is_scalar_field
from fastapi.datastructures import DefaultPlaceholder
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_params_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute, serialize_response
from pydantic import BaseModel, ConfigDict, ValidationError, create_model
from sqlmodel import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from app.db import get_session, loop_session, on_the_loop, read_session

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
# A request's parameters of one kind, validated: (values by name, errors).
Check = Callable[[Request], tuple[dict[str, Any], list[Any]]]

_READ_METHODS = frozenset({"GET"})


@dataclass(frozen=True, slots=True)
class _Step:
    """One dependency (or the endpoint): its arguments, then the call."""

    call: Callable[..., Any]
    name: str | None
    needs: tuple[_Step | None, ...]  # None: the session
    need_names: tuple[str, ...]
    checks: tuple[Check, ...]  # its path and query parameters, validated
    request_name: str | None
    uses_session: bool


def _is_async(call: Any) -> bool:
    if inspect.isasyncgenfunction(call) or inspect.isgeneratorfunction(call):
        return False
    if inspect.iscoroutinefunction(call):
        return True
    dunder = getattr(call, "__call__", None)  # noqa: B004 - instances such as QueryParams
    return inspect.iscoroutinefunction(dunder)


def _checks(dependant: Dependant) -> tuple[Check, ...]:
    checks: list[Check] = []
    if path := dependant.path_params:
        checks.append(lambda request: request_params_to_args(path, request.path_params))
    if query := dependant.query_params:
        if _QueryModel.fits(query):
            model = _QueryModel(query)
            checks.append(lambda request: model.validate(request.query_params))
        else:
            checks.append(lambda request: request_params_to_args(query, request.query_params))
    return tuple(checks)


def _plan(dependant: Dependant) -> _Step | None:
    """The step for `dependant`, or None when it uses more than the subset."""
    if (
        dependant.call is None
        or not _is_async(dependant.call)
        or dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
        or dependant.own_oauth_scopes
        or dependant.concurrency is not None
    ):
        return None
    needs: list[_Step | None] = []
    names: list[str] = []
    for sub in dependant.dependencies:
        if sub.name is None:  # a route-level `dependencies=[...]`: run for its effect
            return None
        if sub.call is get_session:
            needs.append(None)
        else:
            step = _plan(sub)
            if step is None:
                return None
            needs.append(step)
        names.append(sub.name)
    return _Step(
        call=dependant.call,
        name=dependant.name,
        needs=tuple(needs),
        need_names=tuple(names),
        checks=_checks(dependant),
        request_name=dependant.request_param_name,
        uses_session=any(need is None or need.uses_session for need in needs),
    )


class _QueryModel:
    """A step's query parameters validated as one pydantic model, in one call (FastAPI
    validates each on its own: a third of an item's CPU), as `app.query_params` does for
    the lists; the errors are the fields' own, located in the query."""

    def __init__(self, fields: Sequence[ModelField]) -> None:
        self.names = frozenset(field.name for field in fields)
        definitions: dict[str, Any] = {
            field.name: (field.field_info.annotation, field.field_info) for field in fields
        }
        self.model: type[BaseModel] = create_model(
            "Query", __config__=ConfigDict(extra="ignore"), **definitions
        )

    @staticmethod
    def fits(fields: Sequence[ModelField]) -> bool:
        """Scalars under their own names (a list parameter repeats, an alias renames)."""
        return all(is_scalar_field(f) and f.alias == f.name for f in fields)

    def validate(self, given: Mapping[str, Any]) -> tuple[dict[str, Any], list[Any]]:
        # The last value of a repeated parameter wins, as with FastAPI's own parameters.
        data = {key: value for key, value in given.items() if key in self.names}
        try:
            return dict(self.model.model_validate(data).__dict__), []
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            return {}, [{**error, "loc": ("query", *error["loc"])} for error in errors]


class _Run:
    """One request's run of a plan: each dependency called once, as FastAPI caches them."""

    __slots__ = ("errors", "request", "results", "session")

    def __init__(self, request: Request, session: Session | None) -> None:
        self.request = request
        self.session = session
        self.results: dict[Callable[..., Any], Any] = {}
        self.errors: list[Any] = []

    async def arguments(self, step: _Step) -> dict[str, Any] | None:
        """The step's arguments, or None when some failed validation (in `errors`)."""
        values: dict[str, Any] = {}
        complete = True
        for name, need in zip(step.need_names, step.needs, strict=True):
            if need is None:
                values[name] = self.session
                continue
            if need.call in self.results:
                values[name] = self.results[need.call]
                continue
            arguments = await self.arguments(need)
            if arguments is None:
                complete = False
                continue
            values[name] = self.results[need.call] = await need.call(**arguments)
        request = self.request
        for check in step.checks:
            found, errors = check(request)
            values.update(found)
            self.errors.extend(errors)
            complete = complete and not errors
        if step.request_name is not None:
            values[step.request_name] = request
        return values if complete else None


class LeanRoute(APIRoute):
    """An `APIRoute` whose GET handler runs its dependency plan (see the module's doc)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        super().__init__(path, endpoint, **options)
        if self.lean:
            # FastAPI's wrapper opens two exit stacks per request for generator dependencies
            # (a plan has none) and handles errors as the app's ExceptionMiddleware does.
            self.app = self._asgi(self._handler)

    def get_route_handler(self) -> Handler:
        reads = self.methods is not None and self.methods <= _READ_METHODS
        plan = _plan(self.dependant) if reads else None
        self.lean = plan is not None
        if plan is None:
            return super().get_route_handler()
        self._handler = self._lean_handler(plan)
        return self._handler

    @staticmethod
    def _asgi(handler: Handler) -> ASGIApp:
        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            response = await handler(Request(scope, receive, send))
            await response(scope, receive, send)

        return app

    def _lean_handler(self, plan: _Step) -> Handler:
        status_code = self.status_code or 200
        response_field = self.response_field
        given = self.response_class
        response_class: type[Response] = (
            given.value if isinstance(given, DefaultPlaceholder) else given
        )

        async def answer(request: Request, session: Session | None) -> Any:
            # The session closes as soon as the endpoint returns, before the answer is sent
            # (as the `scope="function"` dependency does).
            with session if session is not None else nullcontext():
                run = _Run(request, session)
                arguments = await run.arguments(plan)
                if arguments is None:
                    raise RequestValidationError(run.errors)
                return await plan.call(**arguments)

        async def handle(request: Request) -> Response:
            if not plan.uses_session:
                raw = await answer(request, None)
            elif (session := loop_session(request)) is not None:
                raw = await on_the_loop(answer(request, session), request.app.state.loop_turns)
            else:
                raw = await answer(request, read_session(request))
            if isinstance(raw, Response):
                return raw
            content = await serialize_response(
                field=response_field,
                response_content=raw,
                include=self.response_model_include,
                exclude=self.response_model_exclude,
                by_alias=self.response_model_by_alias,
                exclude_unset=self.response_model_exclude_unset,
                exclude_defaults=self.response_model_exclude_defaults,
                exclude_none=self.response_model_exclude_none,
            )
            return response_class(content, status_code=status_code)

        return handle
