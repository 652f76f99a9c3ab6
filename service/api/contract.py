"""The OpenAPI schema as the service really answers, where FastAPI's defaults say otherwise.

FastAPI documents every 422 as its own ``HTTPValidationError`` (a list of error objects), but
this service words every error in one place as ``{"detail": "...", "request_id": "..."}``
(``app.py``), so the schema says that instead; and a 405 names every method the path takes,
where Starlette's names only those of the first route that matched (``/ask`` has a GET route
and a POST route); the request limits' refusals are documented on the operations they apply
to; and request bodies that a route reads itself (``POST /documents`` takes
JSON or JSONL) are described by their models.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorResponse"}
_FASTAPI_ERRORS = ("HTTPValidationError", "ValidationError")


def install_contract(app: FastAPI, bodies: tuple[type[BaseModel], ...] = ()) -> None:
    """Serve the corrected schema at ``/openapi.json`` (built once, on first request);
    ``bodies`` are the models of request bodies routes read themselves, which they refer to as
    ``#/components/schemas/<Model>``."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, summary=app.summary, routes=app.routes
            )
            _errors_as_answered(schema)
            _describe(schema, bodies)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """The methods the documented operation at ``path`` takes (empty for undocumented)."""
    operations = app.openapi()["paths"].get(path, {})
    return sorted(method.upper() for method in operations)


LIMITS = {
    "431": "Request headers over NEWSQA_MAX_HEADER_BYTES.",
    "413": "Request body over NEWSQA_MAX_BODY_BYTES.",
    "408": "Request body not received within NEWSQA_BODY_READ_TIMEOUT_SECONDS.",
}
"""What the request limits (``limits.py``) answer, before any route: the header limit on every
operation, the body ones on those that take a body."""


def _errors_as_answered(schema: dict[str, Any]) -> None:
    error = {"application/json": {"schema": ERROR_SCHEMA}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            answer = responses.get("422")
            if answer is not None:
                answer["content"] = error
            for status, description in LIMITS.items():
                if status == "431" or "requestBody" in operation:
                    responses.setdefault(status, {"description": description, "content": error})
    components = schema.get("components", {}).get("schemas", {})
    for name in _FASTAPI_ERRORS:
        components.pop(name, None)


def _describe(schema: dict[str, Any], models: tuple[type[BaseModel], ...]) -> None:
    if not models:
        return
    _, definitions = models_json_schema(
        [(model, "validation") for model in models], ref_template="#/components/schemas/{model}"
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(definitions.get("$defs", {}))
