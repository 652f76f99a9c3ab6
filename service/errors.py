"""The service's exceptions. Raised deep, turned into HTTP responses in one place (app.py)
and into MCP tool errors in one place (mcp.py).

    ServiceError
    ├── BadQuery            the question or its parameters cannot be answered as given   → 422
    ├── Unauthorized        missing or wrong API key                                     → 401
    ├── Forbidden           the endpoint is disabled (no API key configured)             → 403
    ├── DocumentNotFound    no document with that id in the live index                   → 404
    ├── DocumentConflict    a push or delete of a document that a source file holds      → 409
    ├── UnsupportedBody     a body in a format the endpoint does not read                → 415
    ├── IndexUnavailable    no index is loaded (never built, or incompatible)            → 503
    └── Overloaded          too many queries wait for the model already      → 503, Retry-After

Indexer errors that reach a request (a corrupt generation) are answered as 503 too, except
``IndexLocked`` (another indexer kept the index busy past the lock timeout): 409.
"""

from collections.abc import Sequence
from typing import Any, ClassVar


class ServiceError(Exception):
    """Base class of everything the service raises on purpose."""

    headers: ClassVar[dict[str, str]] = {}
    """HTTP headers its response carries (``Retry-After``), beside its status."""


class BadQuery(ServiceError):
    """The request is well-formed JSON but asks for something we cannot do."""


class Unauthorized(ServiceError):
    """The request lacks the right ``Authorization: Bearer`` key."""


class Forbidden(ServiceError):
    """The endpoint is switched off because no API key is configured."""


class DocumentNotFound(ServiceError):
    """The document id is not in the live index."""


class DocumentConflict(ServiceError):
    """The document comes from a file of the configured sources: change that file instead."""


class UnsupportedBody(ServiceError):
    """The request body's content type is not one the endpoint reads."""


class IndexUnavailable(ServiceError):
    """There is no usable index to answer from right now."""


class Overloaded(ServiceError):
    """More queries wait for the model than ``max_pending_queries``: refused at once (503 with
    ``Retry-After``) rather than queued behind a wait every client would time out on."""

    retry_after_seconds = 1
    headers: ClassVar[dict[str, str]] = {"Retry-After": str(retry_after_seconds)}


class ReindexFailed(ServiceError):
    """A reindex failed for a reason the indexer does not foresee (a full disk, a damaged
    file): the live generation stays, and the caller is told (503)."""


def describe_validation_errors(errors: Sequence[Any], skip_origin: bool = False) -> str:
    """One readable line per problem, e.g. ``query: String should have at least 1 character``."""
    lines = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ())][1 if skip_origin else 0 :]
        where = ".".join(location) or "request"
        if error.get("type") == "json_invalid":
            lines.append("request body is not valid JSON")
        else:
            lines.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(lines) or "invalid request"
