"""What the routes depend on: the live index and settings of the app, and the reading of GET
parameters into the same request models as JSON bodies, so that both accept the same fields.

The query routes read the app's state directly rather than through ``Depends``: even an async
dependency costs FastAPI a tenth of a millisecond to resolve, on routes whose own work is
about a millisecond.
"""

from collections.abc import Iterable
from functools import cache
from typing import Any, TypeVar, get_args, get_origin

from fastapi import Request
from pydantic import BaseModel, ValidationError

from service.engine.live import LiveIndex
from service.engine.search import Searcher
from service.errors import BadQuery, describe_validation_errors
from service.schemas import AskRequest, SearchRequest
from service.settings import ServiceSettings

Model = TypeVar("Model", bound=BaseModel)

TEXT_PARAMETER = "q"
"""The GET routes take a request's text as ``q`` (``/search?q=...``); every other field under
its own name."""

TEXT_FIELDS: dict[type[BaseModel], str] = {SearchRequest: "query", AskRequest: "question"}
"""Each request model's text field, which ``q`` stands for in a query string."""


def live_index(request: Request) -> LiveIndex:
    live: LiveIndex = request.app.state.live
    return live


def settings(request: Request) -> ServiceSettings:
    current: ServiceSettings = request.app.state.settings
    return current


def searcher(request: Request) -> Searcher:
    return live_index(request).searcher()


def from_query_string(model: type[Model], parameters: Iterable[tuple[str, str]]) -> Model:
    """The request model from a GET request's parameters (name-value pairs, in order): the
    same fields and constraints as its JSON form, values parsed from strings (``k=5``), a list
    field from its repeated parameter (``source=AP&source=Reuters``), and unknown parameters
    refused as unknown JSON fields are, so an option the model lacks is never silently
    ignored; so is a repeated parameter that is not a list. Raises ``BadQuery`` naming the
    parameters as the client sent them."""
    text_field = TEXT_FIELDS.get(model)
    lists = _list_fields(model)
    whole = _whole_number_fields(model)
    data: dict[str, Any] = {}
    for name, value in parameters:
        field = text_field if text_field and name == TEXT_PARAMETER else name
        if field in whole and not value.strip().lstrip("+-").isdigit():
            # As the JSON ``"k": 5.0`` is refused; lax parsing would read "5.0" as 5.
            raise BadQuery(f"{name}: must be a whole number")
        if field in lists:
            data.setdefault(field, []).append(value)
        elif field in data:
            raise BadQuery(f"{name}: given more than once")
        else:
            data[field] = value
    try:
        return model.model_validate(data, strict=False)
    except ValidationError as exc:
        renamed = [
            {
                **error,
                "loc": [TEXT_PARAMETER if part == text_field else part for part in error["loc"]],
            }
            for error in exc.errors()
        ]
        raise BadQuery(describe_validation_errors(renamed)) from exc


@cache
def _whole_number_fields(model: type[BaseModel]) -> frozenset[str]:
    """The fields of ``model`` that hold an int (found once per model: every GET asks)."""
    return frozenset(name for name, field in model.model_fields.items() if field.annotation is int)


@cache
def _list_fields(model: type[BaseModel]) -> frozenset[str]:
    """The fields of ``model`` that hold a list (``list[...]`` or ``list[...] | None``; found
    once per model)."""
    return frozenset(
        name
        for name, field in model.model_fields.items()
        if any(
            get_origin(option) is list for option in (field.annotation, *get_args(field.annotation))
        )
    )


def openapi_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """The query parameters of a GET route taking ``model``, for its OpenAPI description."""
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    text_field = TEXT_FIELDS.get(model)
    return [
        {
            "name": TEXT_PARAMETER if name == text_field else name,
            "in": "query",
            "required": name in required,
            "description": field.get("description", ""),
            "schema": {key: value for key, value in field.items() if key != "description"},
        }
        for name, field in schema["properties"].items()
    ]
