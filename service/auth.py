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
    expected = settings.api_key.get_secret_value()
    if scheme.lower() != "bearer" or not secrets.compare_digest(token.strip(), expected):
        raise Unauthorized("missing or wrong API key: send 'Authorization: Bearer <key>'")
