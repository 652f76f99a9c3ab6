"""The tools a chat assistant can call: names, descriptions, JSON Schemas and quotable text.

One catalogue serves both tool protocols: the MCP server (``service/mcp.py``) lists and runs
these tools, and ``GET /tools`` publishes the same ``search`` and ``ask`` as OpenAI-style
function definitions that a host wires to ``POST /search`` and ``POST /ask``. Every schema is
generated from the pydantic models in ``service/schemas.py``, so neither can drift from the API.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from service.engine import usecases
from service.engine.search import Searcher
from service.schemas import (
    AskRequest,
    AskResponse,
    Citation,
    DocumentRequest,
    DocumentResponse,
    Interpreted,
    SearchRequest,
    SearchResponse,
    SearchResult,
)
from service.settings import ServiceSettings

HOW_TO_CITE = (
    "Every passage carries a citation (doc_id, title, source, start, end): quote the text "
    "verbatim and cite it as Title, Source (doc_id, chars start-end); get_document(doc_id) "
    "returns the full article, whose text[start:end] is exactly the quoted text."
)


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """One tool: what it is for, what it takes and returns, how to run it and render it."""

    name: str
    description: str
    request: type[BaseModel]
    response: type[BaseModel]
    run: Callable[[Searcher, Any, ServiceSettings], Awaitable[BaseModel]]
    render: Callable[[Any], str]

    def input_schema(self) -> dict[str, Any]:
        return json_schema(self.request)

    def output_schema(self) -> dict[str, Any]:
        return json_schema(self.response)


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON Schema with every ``$ref`` inlined and pydantic's ``title`` labels
    dropped: tool hosts differ in how well they follow references, and titles only repeat the
    field names."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def clean(node: Any) -> Any:
        if isinstance(node, list):
            return [clean(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            return clean(definitions[node["$ref"].rsplit("/", 1)[-1]])
        out = {}
        for key, value in node.items():
            if key == "title":
                continue
            if key == "properties":
                out[key] = {name: clean(field) for name, field in value.items()}
            else:
                out[key] = clean(value)
        return out

    cleaned: dict[str, Any] = clean(schema)
    return cleaned


def cite(citation: Citation) -> str:
    """``Title, Source, 2024-05-31 (doc_id, chars 812–1190)``: how a model should cite a text
    (the date is the publication day, when known, so a reader can tell an old report)."""
    day = citation.published[:10] if citation.published else None
    where = ", ".join(part for part in (citation.title, citation.source, day) if part)
    return f"{where} ({citation.doc_id}, chars {citation.start}–{citation.end})"


def quote(text: str) -> str:
    """A text on one line, in quotes: paragraph breaks become spaces so that a rendering stays
    one line per passage (the structured result keeps the exact text)."""
    return f'"{" ".join(text.split())}"'


def _passage_lines(results: list[SearchResult]) -> list[str]:
    return [f"[{r.rank}] {quote(r.text)} — {cite(r.citation)}{_copies(r)}" for r in results]


def _copies(result: SearchResult) -> str:
    """`` (also in: Boston Globe, MSN)``: the outlets that ran the same story, if any."""
    if not result.also_in:
        return ""
    names = dict.fromkeys(copy.source or copy.doc_id for copy in result.also_in)
    return f" (also in: {', '.join(names)})"


def render_interpreted(interpreted: Interpreted | None) -> list[str]:
    """The line saying what the time words were read as, if there were any."""
    if interpreted is None:
        return []
    after, before = interpreted.published_after.date(), interpreted.published_before.date()
    return [f"(Read {interpreted.from_!r} as published {after} to {before}: preferred.)"]


def render_search(response: SearchResponse) -> str:
    if not response.results:
        return f"No passages found for {response.query!r}."
    return "\n".join([*render_interpreted(response.interpreted), *_passage_lines(response.results)])


def render_ask(response: AskResponse) -> str:
    if response.answer is None:
        head = f"No answer in these articles: {response.reason}"
        title = "Closest passages (none answers the question confidently):"
    else:
        parts = response.answer.parts
        sure = f"confidence {response.answer.confidence:.2f}"
        head = f"Answer ({sure}): {quote(response.answer.text)} — {cite(response.answer.citation)}"
        if len(parts) > 1:
            listed = [f"{i}. {quote(p.text)} — {cite(p.citation)}" for i, p in enumerate(parts, 1)]
            head = "\n".join([f"Answer, in {len(parts)} parts ({sure}):", *listed])
        title = "Supporting passages:"
    head = "\n".join([*render_interpreted(response.interpreted), head])
    if not response.passages:
        return head
    return "\n".join([head, "", title, *_passage_lines(response.passages)])


def render_document(response: DocumentResponse) -> str:
    byline = f"by {', '.join(response.authors)}" if response.authors else None
    header = [
        response.title,
        *(v for v in (byline, response.source, response.url, response.published) if v),
    ]
    return f"{' — '.join(header)} ({response.doc_id})\n\n{response.text}"


async def _document(
    searcher: Searcher, request: DocumentRequest, settings: ServiceSettings
) -> DocumentResponse:
    return usecases.document(searcher, request.doc_id)


TOOLS: dict[str, ToolSpec] = {
    spec.name: spec
    for spec in (
        ToolSpec(
            name="search",
            description=(
                "Search the indexed news articles for passages about a topic, person, place or "
                "event. Call it to gather evidence or explore a subject; for a direct question "
                "prefer ask. Returns up to k passages ranked by relevance, each with its score "
                "and, in highlight, the sentence that matches best; a story that several "
                "outlets ran is returned once, its other copies in also_in. " + HOW_TO_CITE
            ),
            request=SearchRequest,
            response=SearchResponse,
            run=lambda searcher, request, settings: usecases.search(searcher, request),
            render=render_search,
        ),
        ToolSpec(
            name="ask",
            description=(
                "Answer a factual question from the indexed news articles. Call it when the "
                "user asks something the news may answer (who, what, when, how many...). "
                "Returns the single best answering sentence with its citation and, in "
                "answer.parts, every part of the answer with its own citation (several when "
                "the question asks for several things, such as a deal's phases), plus the k "
                "passages it was chosen from; when no sentence answers confidently, answer is "
                "null and reason says why: then say the articles do not answer it rather than "
                "guessing. " + HOW_TO_CITE
            ),
            request=AskRequest,
            response=AskResponse,
            run=lambda searcher, request, settings: usecases.ask(
                searcher, request, settings.abstention()
            ),
            render=render_ask,
        ),
        ToolSpec(
            name="get_document",
            description=(
                "Fetch one whole article by the doc_id from a search or ask citation: its "
                "title, source, url, publication date and full text. Call it to read more "
                "context around a passage or to check a quote: text[start:end] is exactly the "
                "cited text."
            ),
            request=DocumentRequest,
            response=DocumentResponse,
            run=_document,
            render=render_document,
        ),
    )
}

HTTP_TOOLS = ("search", "ask")
"""The tools ``GET /tools`` offers: each maps onto one JSON endpoint (``POST /<name>``)."""


def openai_tools() -> list[dict[str, Any]]:
    """OpenAI function-calling definitions; a call's arguments are the ``POST /<name>`` body."""
    return [
        {
            "type": "function",
            "function": {
                "name": TOOLS[name].name,
                "description": TOOLS[name].description,
                "parameters": TOOLS[name].input_schema(),
            },
        }
        for name in HTTP_TOOLS
    ]
