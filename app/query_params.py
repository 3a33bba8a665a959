"""A route's query parameters validated as one pydantic model, in one call.

FastAPI validates each declared query parameter on its own, and inspects its annotation
again on every request: on a list with 26 parameters that cost about a fifth of the
request's CPU. Here the parameters are still declared the usual way, as the arguments of
small functions (`Annotated[..., Query(...)]` with their constraints and descriptions); their
union becomes one pydantic model, validated once per request, and each function is then
called with its share. The OpenAPI operation lists the same model's fields.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, TypeVar

from fastapi import Request
from fastapi.dependencies.utils import get_typed_signature
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, ValidationError, create_model

R = TypeVar("R")

Part = Callable[..., Awaitable[Any]]


class _Query(BaseModel):
    # Unknown parameters are ignored, as FastAPI ignores them.
    model_config = ConfigDict(extra="ignore")


class QueryParams(Generic[R]):
    """A dependency: `build(**{name: await part(**its parameters)})` for each part.

    `parts` maps a name to an async function whose arguments are query parameters, or to an
    annotation (`Annotated[T, Query(...)]`), a single parameter of that name given as is.
    Declare the route with `openapi_extra=params.openapi` so the document lists them.
    """

    def __init__(self, name: str, build: Callable[..., R], **parts: Part | Any) -> None:
        fields: dict[str, Any] = {}
        self._parts: list[tuple[str, Part | None, tuple[str, ...]]] = []
        for key, part in parts.items():
            if inspect.iscoroutinefunction(part):
                names = []
                for parameter in get_typed_signature(part).parameters.values():
                    if parameter.name in fields:
                        raise ValueError(f"query parameter {parameter.name!r} declared twice")
                    fields[parameter.name] = (parameter.annotation, parameter.default)
                    names.append(parameter.name)
                self._parts.append((key, part, tuple(names)))
            else:
                if key in fields:
                    raise ValueError(f"query parameter {key!r} declared twice")
                fields[key] = (part, None)
                self._parts.append((key, None, (key,)))
        self._build = build
        self._names = frozenset(fields)
        self.model: type[BaseModel] = create_model(name, __base__=_Query, **fields)
        self.openapi: dict[str, Any] = {"parameters": _parameters(self.model)}

    async def __call__(self, request: Request) -> R:
        given = request.query_params
        # The last value of a repeated parameter wins, as with FastAPI's own parameters.
        data = {key: value for key, value in given.items() if key in self._names}
        try:
            values = self.model.model_validate(data).__dict__
        except ValidationError as exc:
            raise RequestValidationError(
                [{**err, "loc": ("query", *err["loc"])} for err in exc.errors(include_url=False)]
            ) from None
        results: dict[str, Any] = {}
        for key, part, names in self._parts:
            if part is None:
                results[key] = values[key]
            else:
                results[key] = await part(**{name: values[name] for name in names})
        return self._build(**results)


def _parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """The model's fields as OpenAPI query parameters, as FastAPI would declare them."""
    schema = model.model_json_schema()
    definitions: Mapping[str, Any] = schema.get("$defs", {})
    parameters = []
    for name, prop in schema["properties"].items():
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": False,
            "schema": _inline(prop, definitions),
        }
        if "description" in prop:
            parameter["description"] = prop["description"]
        parameters.append(parameter)
    return parameters


def _inline(node: Any, definitions: Mapping[str, Any]) -> Any:
    """The schema with its local `$defs` references replaced by their definitions."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(definitions[ref.removeprefix("#/$defs/")], definitions)
        return {key: _inline(value, definitions) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, definitions) for item in node]
    return node
