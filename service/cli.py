"""``newsqa ask|search|status``: the running service from a terminal, over its HTTP API.

    newsqa ask "what are the deal's phases?"
    newsqa search "ceasefire talks" -k 3 --source Reuters --published-after 2024-07-01
    newsqa status

Prints the answer (or the reason there is none) with its citation, the ranked passages, or the
live index; ``--json`` prints the service's own JSON instead. The service's address is
``--url`` or ``NEWSQA_URL`` (default ``http://127.0.0.1:8000``). Errors are one line on stderr
and exit code 1 (2 for bad arguments); an unreachable service says so.
"""

import argparse
import os
import sys
from typing import Any

import httpx
from pydantic import BaseModel

from service.client import APIError, NewsQAClient
from service.schemas import DEFAULT_K, AskResponse, Citation, SearchResponse

URL_VARIABLE = "NEWSQA_URL"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="newsqa", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get(URL_VARIABLE, "http://127.0.0.1:8000"))
    parser.add_argument("--api-key", default=os.environ.get("NEWSQA_API_KEY"))
    parser.add_argument("--json", action="store_true", help="print the service's JSON")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("ask", "question"), ("search", "query")):
        command = commands.add_parser(name, help=f"{name} the indexed articles")
        command.add_argument(text)
        command.add_argument("-k", type=int, default=DEFAULT_K, help="passages to retrieve")
        command.add_argument("--source", action="append", help="only this publisher (repeat)")
        command.add_argument("--published-after", help="ISO date or datetime")
        command.add_argument("--published-before", help="ISO date or datetime")
        command.add_argument("--doc-id-prefix", help="only documents whose id starts so")
        command.add_argument("--now", help="what 'this week' is relative to (ISO datetime)")
    commands.add_parser("status", help="the live index")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        with NewsQAClient(args.url, api_key=args.api_key) as client:
            response = _call(client, args)
    except APIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except httpx.TransportError as exc:
        print(f"error: cannot reach the service at {args.url}: {exc}", file=sys.stderr)
        return 1
    print(response.model_dump_json(indent=2) if args.json else _render(response))
    return 0


def _call(client: NewsQAClient, args: argparse.Namespace) -> BaseModel:
    if args.command == "status":
        return client.ready()
    filters: dict[str, Any] = {
        name: getattr(args, name)
        for name in ("source", "published_after", "published_before", "doc_id_prefix", "now")
        if getattr(args, name) is not None
    }
    if args.command == "ask":
        return client.ask(args.question, k=args.k, **filters)
    return client.search(args.query, k=args.k, **filters)


def _render(response: BaseModel) -> str:
    if isinstance(response, AskResponse):
        if response.answer is None:
            return f"No answer: {response.reason}"
        # Every part cited, the answer sentence first (more for "what are the deal's phases?").
        lines = [
            line
            for part in response.answer.parts
            for line in (part.text, f"  {_cite(part.citation)}")
        ]
        lines.append(f"confidence {response.answer.confidence:.2f}")
        return "\n".join(lines)
    if isinstance(response, SearchResponse):
        if not response.results:
            return "No passage matches."
        return "\n\n".join(
            f"{hit.rank}. {hit.text}\n   {_cite(hit.citation)}" for hit in response.results
        )
    return "\n".join(f"{key}: {value}" for key, value in response.model_dump().items())


def _cite(citation: Citation) -> str:
    source = f", {citation.source}" if citation.source else ""
    return f"[{citation.title}{source}; {citation.doc_id} {citation.start}-{citation.end}]"


if __name__ == "__main__":
    sys.exit(main())
