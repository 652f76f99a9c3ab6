"""The service's exceptions. Raised deep, turned into HTTP responses in one place (app.py).

    ServiceError
    ├── BadQuery            the question or its parameters cannot be answered as given   → 422
    ├── DocumentNotFound    no document with that id in the live index                   → 404
    └── IndexUnavailable    no index is loaded (never built, or incompatible)            → 503

Indexer errors that reach a request (a corrupt generation) are answered as 503 too.
"""


class ServiceError(Exception):
    """Base class of everything the service raises on purpose."""


class BadQuery(ServiceError):
    """The request is well-formed JSON but asks for something we cannot do."""


class DocumentNotFound(ServiceError):
    """The document id is not in the live index."""


class IndexUnavailable(ServiceError):
    """There is no usable index to answer from right now."""
