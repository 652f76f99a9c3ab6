"""Filters act inside retrieval, reach every front door, and refuse bad values with a 422."""

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from indexer import IndexSettings, IndexStore, build_index
from service.engine.query import Filters, SearchQuery
from service.engine.search import Searcher
from service.schemas import SearchRequest
from service.settings import ServiceSettings
from service.testing import free_port
from tests.conftest import FakeEmbedder, RunningServer, serve

WIRE = 300
"""Wire copies of the ferry story: far more than any top-k, so that a filter applied after
retrieval would find none of the rare ones."""


def write_corpus(path: Path) -> None:
    records = [
        {
            "_id": f"wire/{i:03d}",
            "title": "Ferry news",
            "text": f"The ferry to the island was cancelled again, report {i}. Storms all week.",
            "source": "Wire",
            "published": f"2023-07-{1 + i % 28:02d}",
        }
        for i in range(WIRE)
    ]
    records += [
        {
            "_id": "local/harbour",
            "title": "Harbour notes",
            "text": "Fishermen said the ferry might run on Friday, weather permitting.",
            "source": "Harbour Gazette",
            "published": "2024-01-15T08:30:00+00:00",
        },
        {
            "_id": "local/undated",
            "title": "Island diary",
            "text": "Nobody knows when the ferry will sail again.",
            "source": "Harbour Gazette",
        },
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("filters")
    write_corpus(folder / "corpus.jsonl")
    build_index(
        [folder / "corpus.jsonl"],
        IndexSettings(index_dir=folder / "index"),
        FakeEmbedder(),
        progress=False,
    )
    return folder / "index"


@pytest.fixture(scope="module")
def searcher(index_dir: Path) -> Searcher:
    embedder = FakeEmbedder()
    return Searcher(IndexStore(index_dir).open(embedder.name, embedder.dimension), embedder)


@pytest.fixture(scope="module")
def server(index_dir: Path) -> Iterator[RunningServer]:
    yield from serve(ServiceSettings(index_dir=index_dir, port=free_port()), FakeEmbedder())


def doc_ids(searcher: Searcher, filters: Filters, k: int = 5) -> list[str]:
    hits = searcher.search(SearchQuery("ferry to the island storms", k, filters))
    return [hit.passage.document.doc_id for hit in hits]


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_a_narrow_filter_still_finds_what_it_allows(searcher: Searcher, mode: str) -> None:
    narrow = Searcher(searcher.snapshot, searcher.embedder, mode=mode)  # type: ignore[arg-type]
    # Unfiltered, the rare articles are not even among the top 50 (the most any k asks).
    assert all(d.startswith("wire/") for d in doc_ids(narrow, Filters(), k=50))
    found = doc_ids(narrow, Filters(sources=("harbour gazette",)))
    assert sorted(found) == ["local/harbour", "local/undated"]


def test_dates_prefixes_and_their_combinations(searcher: Searcher) -> None:
    january = SearchRequest(
        query="x", published_after="2024-01-01", published_before="2024-01-31"
    ).filters()
    assert doc_ids(searcher, january) == ["local/harbour"]  # the undated article never passes
    july_3rd = SearchRequest(
        query="x", published_after="2023-07-03", published_before="2023-07-03"
    ).filters()
    found = doc_ids(searcher, july_3rd, k=50)
    assert found and len(found) == len([i for i in range(WIRE) if i % 28 == 2])
    assert doc_ids(searcher, Filters(doc_id_prefix="local/"), k=10) == doc_ids(
        searcher, Filters(sources=("Harbour Gazette",)), k=10
    )
    both = Filters(sources=("Wire",), doc_id_prefix="local/")
    assert doc_ids(searcher, both) == []


def test_get_post_and_repeated_sources_agree(server: RunningServer) -> None:
    query = [("q", "ferry island"), ("source", "Harbour Gazette"), ("source", "Nobody")]
    got = httpx.get(f"{server.base_url}/search", params=query)
    posted = httpx.post(
        f"{server.base_url}/search",
        json={"query": "ferry island", "source": ["Harbour Gazette", "Nobody"]},
    )
    assert got.status_code == posted.status_code == 200
    assert got.json()["results"] == posted.json()["results"]
    sources = {r["citation"]["source"] for r in got.json()["results"]}
    assert sources == {"Harbour Gazette"}
    asked = httpx.get(f"{server.base_url}/ask", params=[*query[:2], ("k", "2")])
    assert asked.json()["answer"]["citation"]["doc_id"].startswith("local/")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"published_after": "last week"}, "published_after: Value error, not an ISO 8601"),
        (
            {"published_after": "2024-02-01", "published_before": "2024-01-01"},
            "no article can match",
        ),
        ({"k": "5", "doc_id_prefix": ""}, "doc_id_prefix: String should have at least 1"),
        ({"published_before": "9999-12-31"}, "outside the years 1800-2200"),
        ({"now": "0001-01-01"}, "now: Value error, '0001-01-01' is outside the years"),
        ({"now": "2024-13-01"}, "now: Value error, not an ISO 8601"),
        ({"k": "5&k=6"}, "k: must be a whole number"),
    ],
)
def test_bad_filter_values_are_422_with_a_message(
    server: RunningServer, params: dict[str, str], message: str
) -> None:
    response = httpx.get(f"{server.base_url}/search", params={"q": "ferry", **params})
    assert response.status_code == 422
    assert message in response.json()["detail"]


def test_a_scalar_parameter_given_twice_is_refused(server: RunningServer) -> None:
    response = httpx.get(
        f"{server.base_url}/search", params=[("q", "ferry"), ("k", "2"), ("k", "3")]
    )
    assert response.status_code == 422 and "k: given more than once" in response.json()["detail"]


def test_the_client_and_the_mcp_tool_schema_take_the_filters(server: RunningServer) -> None:
    from service.client import NewsQAClient
    from service.tools import TOOLS

    with NewsQAClient(server.base_url) as client:
        reply = client.search("ferry", k=3, doc_id_prefix="local/")
    assert {r.citation.doc_id for r in reply.results} <= {"local/harbour", "local/undated"}
    for name in ("search", "ask"):
        properties = TOOLS[name].input_schema()["properties"]
        assert {"source", "published_after", "published_before", "doc_id_prefix"} <= set(properties)


def test_time_words_prefer_articles_of_that_time_and_are_reported(server: RunningServer) -> None:
    """'in January' asked in March 2024 means January 2024: the one article of then (among
    300 July 2023 wire copies) comes first, and the response says how it was read."""
    params = {"q": "ferry in January", "now": "2024-03-14T12:00:00+00:00", "k": "3"}
    reply = httpx.get(f"{server.base_url}/search", params=params).json()
    assert reply["results"][0]["citation"]["doc_id"] == "local/harbour"
    assert reply["interpreted"] == {
        "published_after": "2024-01-01T00:00:00Z",
        "published_before": "2024-01-31T23:59:59.999999Z",
        "from": "in January",
    }
    from service.schemas import SearchResponse
    from service.tools import render_search

    text = render_search(SearchResponse.model_validate(reply))
    assert text.startswith("(Read 'in January' as published 2024-01-01 to 2024-01-31")
    plain = httpx.get(f"{server.base_url}/ask", params={"q": "ferry", "k": "3"}).json()
    assert plain["interpreted"] is None
    assert plain["passages"][0]["citation"]["doc_id"].startswith("wire/")


def test_recency_prefers_newer_articles_by_their_age(server: RunningServer) -> None:
    """Half a year newer than 300 wire copies that keep it out of the top 50 candidates, the
    harbour article comes first once recency is asked for: the articles of the last two
    half-lives before 'now' are candidates too."""
    plain = {"q": "ferry to the island storms", "k": "3", "now": "2024-02-01"}
    first = httpx.get(f"{server.base_url}/search", params=plain).json()["results"][0]
    assert first["citation"]["doc_id"].startswith("wire/")
    for recency in ("strong", "30"):
        reply = httpx.get(f"{server.base_url}/search", params={**plain, "recency": recency})
        assert reply.json()["results"][0]["citation"]["doc_id"] == "local/harbour", recency
    # A year's half-life does not outweigh how much better the wire copies match.
    mild = httpx.get(f"{server.base_url}/search", params={**plain, "recency": "mild"}).json()
    assert mild["results"][0]["citation"]["doc_id"].startswith("wire/")
    posted = httpx.post(
        f"{server.base_url}/ask",
        json={
            "question": "ferry to the island storms",
            "recency": 30.0,
            "k": 3,
            "now": "2024-02-01",
        },
    ).json()
    assert posted["passages"][0]["citation"]["doc_id"] == "local/harbour"


@pytest.mark.parametrize("recency", ["-1", "0", "fast", "inf"])
def test_a_bad_recency_is_422(server: RunningServer, recency: str) -> None:
    response = httpx.get(f"{server.base_url}/search", params={"q": "ferry", "recency": recency})
    assert response.status_code == 422 and "recency" in response.json()["detail"]


def test_the_mcp_tools_filter_inside_retrieval_too(server: RunningServer) -> None:
    """Over /mcp with the SDK's own client: the narrow filter still finds what it allows."""
    import asyncio

    from mcp import Client

    async def call(tool: str, arguments: dict) -> dict:
        async with Client(f"{server.base_url}/mcp") as client:
            result = await client.call_tool(tool, arguments)
        assert not result.is_error, result.content
        return result.structured_content

    found = asyncio.run(
        call("search", {"query": "ferry to the island storms", "source": ["Harbour Gazette"]})
    )
    assert sorted(r["citation"]["doc_id"] for r in found["results"]) == [
        "local/harbour",
        "local/undated",
    ]
    dated = asyncio.run(
        call(
            "ask",
            {
                "question": "ferry to the island storms",
                "published_after": "2024-01-01",
                "published_before": "2024-01-31",
            },
        )
    )
    assert [p["citation"]["doc_id"] for p in dated["passages"]] == ["local/harbour"]
