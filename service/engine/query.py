"""The query object: what one request asks, built once by a front door, passed unchanged.

Every front door (GET and POST routes, the fast path, MCP, ``/tools``, the Python client)
validates its input with the request models of ``service/schemas.py`` and turns them into a
``SearchQuery`` with their ``query()`` method; the engine reads nothing else. An option added
here (a filter, a date) reaches every front door through those models and every retriever
through ``Retriever.retrieve``, which takes the query itself.
"""

from dataclasses import dataclass
from typing import Literal

RetrievalMode = Literal["hybrid", "dense", "lexical"]

PROPOSERS: dict[RetrievalMode, tuple[str, ...]] = {
    "hybrid": ("dense", "lexical"),
    "dense": ("dense",),
    "lexical": ("lexical",),
}
"""The retrievers (``service/engine/retrieval.py``) that propose candidates in each mode."""


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A question or search text and how many passages to return."""

    text: str
    k: int
