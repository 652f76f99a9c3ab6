"""Bearer-token checks for the endpoints that change state or expose tools.

Without a configured key those endpoints are closed (403), never open: forgetting to set a key
must not publish an admin endpoint.
"""

import secrets

from service.errors import Forbidden, Unauthorized
from service.settings import ServiceSettings


def check_bearer(settings: ServiceSettings, authorization: str | None) -> None:
    """Raise unless ``authorization`` is ``Bearer <api_key>`` and a key is configured."""
    if settings.api_key is None:
        raise Forbidden("this endpoint is disabled: set NEWSQA_API_KEY to enable it")
    scheme, _, token = (authorization or "").partition(" ")
    # Compared as UTF-8 bytes: ``compare_digest`` refuses non-ASCII ``str`` with a TypeError,
    # and a header that a client mangled is a wrong key (401), not a server error.
    given = token.strip().encode("utf-8", "surrogateescape")
    expected = settings.api_key.get_secret_value().encode("utf-8")
    if scheme.lower() != "bearer" or not secrets.compare_digest(given, expected):
        raise Unauthorized("missing or wrong API key: send 'Authorization: Bearer <key>'")
