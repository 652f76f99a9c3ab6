"""A small typed client for programs that embed the service over HTTP.

    with NewsQAClient("http://127.0.0.1:8000") as client:
        answer = client.ask("what are the deal's phases?", k=3)
        doc = client.document(answer.answer.citation.doc_id)

Answers are the same pydantic models the server returns (``service/schemas.py``); a 4xx or
5xx becomes an ``APIError`` carrying the server's status and one-line ``detail``.
"""

from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from service.schemas import (
    DEFAULT_K,
    AskResponse,
    DeleteResponse,
    DocumentList,
    DocumentResponse,
    PushResponse,
    Ready,
    SearchResponse,
)

Model = TypeVar("Model", bound=BaseModel)


class APIError(Exception):
    """The server refused or failed a request; ``detail`` is its explanation."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(f"HTTP {status_code}: {detail}")
        self.status_code = status_code
        self.detail = detail


class NewsQAClient:
    """Synchronous client; pass ``http`` to reuse a configured ``httpx.Client`` (its base_url
    must then point at the service). ``api_key`` is sent as a bearer token."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        *,
        api_key: str | None = None,
        timeout: float = 30.0,
        http: httpx.Client | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = http or httpx.Client(base_url=base_url, timeout=timeout, headers=headers)

    def search(self, query: str, k: int = DEFAULT_K, **filters: Any) -> SearchResponse:
        """Ranked passages for ``query``, each with a citation; ``filters`` are the request
        model's (``source=[...]``, ``published_after=``, ``published_before=``,
        ``doc_id_prefix=``)."""
        body = {"query": query, "k": k, **filters}
        return self._request("POST", "/search", SearchResponse, body)

    def ask(self, question: str, k: int = DEFAULT_K, **filters: Any) -> AskResponse:
        """The best answering sentence with its citation, or ``answer=None`` and a reason;
        ``filters`` as for ``search``."""
        body = {"question": question, "k": k, **filters}
        return self._request("POST", "/ask", AskResponse, body)

    def document(self, doc_id: str) -> DocumentResponse:
        """The whole document a citation points into."""
        return self._request("GET", f"/documents/{quote(doc_id)}", DocumentResponse)

    def documents(self, limit: int = 20, offset: int = 0, **filters: Any) -> DocumentList:
        """A page of the indexed documents (newest first, without texts); ``filters`` as for
        ``search``. The next page is at ``next_offset`` until it is None."""
        parameters: list[tuple[str, Any]] = [("limit", limit), ("offset", offset)]
        for name, value in filters.items():
            values = value if isinstance(value, list | tuple) else [value]
            parameters += [(name, item) for item in values]
        response = self._http.get("/documents", params=parameters)
        if response.is_error:
            raise APIError(response.status_code, _detail(response))
        return DocumentList.model_validate_json(response.content)

    def push(self, documents: list[dict[str, Any]]) -> PushResponse:
        """Add or replace articles (``{"doc_id", "title", "text", "source", "url",
        "published", "authors"}``; needs the client's ``api_key``); returns once they are
        searchable."""
        return self._request("POST", "/documents", PushResponse, {"documents": documents})

    def delete(self, doc_id: str) -> DeleteResponse:
        """Remove a pushed article (needs ``api_key``); returns once searches miss it."""
        return self._request("DELETE", f"/documents/{quote(doc_id)}", DeleteResponse)

    def ready(self) -> Ready:
        """The live index's generation and counts; ``APIError`` (503) while there is none."""
        return self._request("GET", "/ready", Ready)

    def _request(
        self, method: str, path: str, model: type[Model], body: dict[str, object] | None = None
    ) -> Model:
        # Arguments are not validated here: the server validates, and its message is the one
        # worth showing, so bad input surfaces as APIError(422, detail) like any other error.
        response = self._http.request(method, path, json=body)
        if response.is_error:
            raise APIError(response.status_code, _detail(response))
        return model.model_validate_json(response.content)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = body.get("detail") if isinstance(body, dict) else None
    return detail if isinstance(detail, str) else response.text or response.reason_phrase
