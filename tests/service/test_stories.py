"""One story once, through the real server: a wire story six outlets ran is one result whose
``also_in`` names the other five copies."""

from collections.abc import Iterator

import httpx
import pytest

from indexer import IndexSettings, build_index
from service.schemas import SearchResponse
from service.settings import ServiceSettings
from service.testing import free_port
from service.tools import render_search
from tests.conftest import FakeEmbedder, RunningServer, serve
from tests.syndication import COPIES, copy_records, write_corpus

QUESTION = "How many survivors did rescue crews pull from the capsized ferry Aurora?"
COPY_IDS = {doc_id for doc_id, *_ in COPIES}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    folder = tmp_path_factory.mktemp("stories")
    write_corpus(folder / "corpus.jsonl")
    settings = IndexSettings(index_dir=folder / "index")
    build_index([folder / "corpus.jsonl"], settings, FakeEmbedder(), progress=False)
    yield from serve(ServiceSettings(index_dir=folder / "index", port=free_port()), FakeEmbedder())


def test_six_copies_come_back_as_one_result_naming_the_other_five(server: RunningServer) -> None:
    body = httpx.get(f"{server.base_url}/search", params={"q": QUESTION, "k": 10}).json()
    shown = [r for r in body["results"] if r["citation"]["doc_id"] in COPY_IDS]
    assert len({r["citation"]["doc_id"] for r in shown}) == 1
    named = [(c["doc_id"], c["source"], c["url"]) for c in shown[0]["also_in"]]
    others = [r for r in copy_records() if r["_id"] != shown[0]["citation"]["doc_id"]]
    assert sorted(named) == sorted((r["_id"], r["source"], r["url"]) for r in others)
    assert len(named) == 5
    # Results that are not copies say so.
    assert all(r["also_in"] == [] for r in body["results"] if r not in shown)
    rendered = render_search(SearchResponse.model_validate(body))
    assert "(also in: " in rendered


def test_copies_the_filters_exclude_are_not_named(server: RunningServer) -> None:
    params = [("q", QUESTION), ("source", "AP"), ("source", "MSN"), ("source", "Local Times")]
    body = httpx.get(f"{server.base_url}/search", params=params).json()
    shown = [r for r in body["results"] if r["citation"]["doc_id"] in COPY_IDS]
    pair = {shown[0]["citation"]["source"], *(c["source"] for c in shown[0]["also_in"])}
    assert pair == {"AP", "MSN"}
    ask = httpx.get(f"{server.base_url}/ask", params=params).json()
    assert {p["citation"]["doc_id"] for p in ask["passages"]} & COPY_IDS == {
        shown[0]["citation"]["doc_id"]
    }


def test_the_same_events_other_article_is_its_own_result(server: RunningServer) -> None:
    query = {"q": "Aurora ferry Baltic Line relatives Nynashamn", "k": 10}
    body = httpx.get(f"{server.base_url}/search", params=query).json()
    ids = {r["citation"]["doc_id"] for r in body["results"]}
    assert "other/families" in ids and len(ids & COPY_IDS) == 1
