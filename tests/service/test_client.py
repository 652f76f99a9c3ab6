"""The typed HTTP client against a real server: pydantic answers, typed errors."""

from collections.abc import Iterator

import pytest

from service.client import APIError, NewsQAClient
from service.schemas import AskResponse, SearchResponse
from tests.conftest import SEED_ID, RunningServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(seed_server: RunningServer) -> Iterator[NewsQAClient]:
    with NewsQAClient(seed_server.base_url) as news:
        yield news


def test_ask_returns_a_typed_answer_whose_citation_verifies(client: NewsQAClient) -> None:
    answer = client.ask("what are the deal's phases?", k=3)
    assert isinstance(answer, AskResponse) and answer.answer is not None
    assert len(answer.passages) == 3
    citation = answer.answer.citation
    document = client.document(citation.doc_id)
    assert document.text[citation.start : citation.end] == answer.answer.text


def test_search_and_ready(client: NewsQAClient) -> None:
    results = client.search("How many people have been killed in Gaza?", k=2)
    assert isinstance(results, SearchResponse)
    assert [r.rank for r in results.results] == [1, 2]
    assert client.ready().documents == 1


@pytest.mark.parametrize(
    ("call", "status", "mentions"),
    [
        (lambda c: c.ask("   "), 422, "question"),
        (lambda c: c.search("deal", k=0), 422, "k"),
        (lambda c: c.document("no/such/doc.txt"), 404, "no/such/doc.txt"),
    ],
)
def test_errors_carry_the_servers_status_and_detail(client, call, status, mentions) -> None:
    with pytest.raises(APIError) as caught:
        call(client)
    assert caught.value.status_code == status
    assert mentions in caught.value.detail and mentions in str(caught.value)


def test_document_ids_are_sent_as_paths(client: NewsQAClient) -> None:
    assert client.document(SEED_ID).source == "NBCNews.com"
