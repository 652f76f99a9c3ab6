"""The HTTP contract, in the fast run: every front door takes the parameters of one request
model and refuses the rest with a 4xx that says why. A real uvicorn server on 127.0.0.1 over
seeds/ indexed with the fake embedder."""

from collections.abc import Iterator

import httpx
import pytest
from mcp import Client

from service.client import APIError, NewsQAClient
from tests.conftest import RunningServer

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def client(fake_server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake_server.base_url, timeout=30) as http:
        yield http


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "mentions"),
    [
        ("GET", "/search", {"params": {"q": ""}}, "q"),
        ("GET", "/search", {"params": {"q": "   "}}, "q"),
        ("GET", "/search", {}, "q: Field required"),
        ("GET", "/search", {"params": {"q": "x" * 1001}}, "1000"),
        ("GET", "/search", {"params": {"q": "deal", "k": 0}}, "k"),
        ("GET", "/search", {"params": {"q": "deal", "k": 51}}, "k"),
        ("GET", "/ask", {"params": {"q": "deal", "k": "many"}}, "k"),
        ("GET", "/search", {"params": {"q": "deal", "region": "Europe"}}, "region"),
        ("GET", "/ask", {"params": {"q": "deal", "region": "Europe"}}, "region"),
        (
            "POST",
            "/search",
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            "JSON",
        ),
        ("POST", "/search", {"json": {"query": 42}}, "query"),
        ("POST", "/search", {"json": {"query": "deal", "k": "5"}}, "k"),
        (
            "GET",
            "/search",
            {"params": {"q": "deal", "k": "5.0"}},
            "k: must be a whole",
        ),
        ("GET", "/documents", {"params": {"limit": "2.5"}}, "limit: must be a whole"),
        ("POST", "/search", {"json": {"query": "deal", "k": 100}}, "k"),
        ("POST", "/search", {"json": {"query": "deal", "region": "Europe"}}, "region"),
        ("POST", "/ask", {"json": {"query": "wrong field"}}, "question"),
        ("POST", "/ask", {"json": {"question": " \n\t "}}, "question"),
        ("POST", "/ask", {"json": ["not", "an", "object"]}, "request"),
        ("GET", "/documents/no/such/doc.txt", {}, "no/such/doc.txt"),
    ],
)
def test_bad_input_gets_a_4xx_with_a_message(client, method, path, kwargs, mentions) -> None:
    response = client.request(method, path, **kwargs)
    assert 400 <= response.status_code < 500, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and mentions in detail


@pytest.mark.parametrize("path", ["/search", "/ask"])
def test_get_and_post_take_the_same_parameters(client: httpx.Client, path: str) -> None:
    field = "query" if path == "/search" else "question"
    got = client.get(path, params={"q": "first phase of the deal", "k": "2"})
    posted = client.post(path, json={field: "first phase of the deal", "k": 2})
    assert got.status_code == posted.status_code == 200
    strip = lambda body: {key: value for key, value in body.items() if key != "took_ms"}  # noqa: E731
    assert strip(got.json()) == strip(posted.json())
    passages = got.json()["results" if path == "/search" else "passages"]
    assert len(passages) == 2


def test_openapi_documents_the_get_parameters_from_the_request_models(client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/search", "/ask"):
        parameters = {p["name"]: p for p in paths[path]["get"]["parameters"]}
        assert set(parameters) == {
            "q",
            "k",
            "source",
            "published_after",
            "published_before",
            "doc_id_prefix",
            "now",
            "recency",
        }
        assert parameters["source"]["schema"]["anyOf"][0]["type"] == "array"
        assert parameters["q"]["required"] and not parameters["k"]["required"]
        assert parameters["k"]["schema"]["maximum"] == 50


def test_the_python_client_surfaces_the_servers_refusal(fake_server: RunningServer) -> None:
    with NewsQAClient(fake_server.base_url) as api:
        assert api.search("first phase of the deal", k=1).results
        with pytest.raises(APIError) as refused:
            api.search("deal", k=0)
    assert refused.value.status_code == 422 and "k" in refused.value.detail


async def test_mcp_refuses_unknown_arguments_as_a_tool_error(fake_server: RunningServer) -> None:
    async with Client(f"{fake_server.base_url}/mcp") as mcp:
        refused = await mcp.call_tool("search", {"query": "deal", "region": "Europe"})
        answered = await mcp.call_tool("ask", {"question": "first phase of the deal", "k": 2})
    assert refused.is_error and "region" in refused.content[0].text
    assert not answered.is_error and len(answered.structured_content["passages"]) == 2


def test_every_documented_422_is_the_error_body_the_service_sends(client: httpx.Client) -> None:
    schema = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    documented = [
        operation["responses"]["422"]["content"]["application/json"]["schema"]
        for operations in schema["paths"].values()
        for operation in operations.values()
        if "422" in operation["responses"]
    ]
    assert documented and all(
        s == {"$ref": "#/components/schemas/ErrorResponse"} for s in documented
    )
    invalid = client.get("/documents", params={"limit": "many"})
    assert invalid.status_code == 422 and set(invalid.json()) == {"detail", "request_id"}


def test_a_405_names_every_method_the_path_takes(client: httpx.Client) -> None:
    for path in ("/ask", "/search"):
        refused = client.put(path)
        assert refused.status_code == 405
        assert refused.headers["allow"] == "GET, POST"
