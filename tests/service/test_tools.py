"""``GET /tools``: OpenAI function-calling definitions that match the HTTP API's parameters,
and the text rendering a model quotes. No model or index needed."""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator, ValidationError, validate

from service.api.app import create_app
from service.schemas import Citation
from service.settings import ServiceSettings
from service.tools import cite
from tests.conftest import FakeEmbedder

# The shape of one entry of the ``tools`` list in OpenAI's chat completions API.
OPENAI_TOOL = {
    "type": "object",
    "required": ["type", "function"],
    "additionalProperties": False,
    "properties": {
        "type": {"const": "function"},
        "function": {
            "type": "object",
            "required": ["name", "description", "parameters"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,64}$"},
                "description": {"type": "string", "minLength": 1},
                "parameters": {
                    "type": "object",
                    "required": ["type", "properties"],
                    "properties": {"type": {"const": "object"}},
                },
                "strict": {"type": "boolean"},
            },
        },
    },
}

# The JSON Schema keywords that say what a value may be; titles and descriptions aside.
BOUNDS = ("type", "minLength", "maxLength", "minimum", "maximum", "default")


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = ServiceSettings(index_dir=tmp_path_factory.mktemp("no-index"))
    with TestClient(create_app(settings, embedder=FakeEmbedder())) as client:
        yield client


@pytest.fixture(scope="module")
def tools(http: TestClient) -> dict[str, dict[str, Any]]:
    response = http.get("/tools")
    assert response.status_code == 200
    return {tool["function"]["name"]: tool for tool in response.json()}


def test_tools_are_openai_function_definitions(tools: dict[str, dict[str, Any]]) -> None:
    assert set(tools) == {"search", "ask"}
    for tool in tools.values():
        validate(tool, OPENAI_TOOL)
        parameters = tool["function"]["parameters"]
        Draft202012Validator.check_schema(parameters)
        assert "$ref" not in str(parameters) and "$defs" not in parameters


@pytest.mark.parametrize(
    ("tool", "body_model"), [("search", "SearchRequest"), ("ask", "AskRequest")]
)
def test_tool_parameters_match_the_api_body(
    http: TestClient, tools: dict[str, dict[str, Any]], tool: str, body_model: str
) -> None:
    openapi = http.get("/openapi.json").json()
    body = openapi["paths"][f"/{tool}"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": f"#/components/schemas/{body_model}"}
    api = openapi["components"]["schemas"][body_model]
    parameters = tools[tool]["function"]["parameters"]
    assert parameters["required"] == api["required"]
    assert parameters["additionalProperties"] is False and api["additionalProperties"] is False
    assert set(parameters["properties"]) == set(api["properties"])
    for name, field in api["properties"].items():
        bounds = {key: field[key] for key in BOUNDS if key in field}
        assert {key: parameters["properties"][name].get(key) for key in bounds} == bounds
        assert parameters["properties"][name]["description"]


@pytest.mark.parametrize(
    "arguments",
    [{"question": ""}, {"question": "x", "k": 0}, {"question": "x", "k": 51}, {"k": 3}],
)
def test_arguments_the_schema_refuses_the_api_refuses_too(
    http: TestClient, tools: dict[str, dict[str, Any]], arguments: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        validate(arguments, tools["ask"]["function"]["parameters"])
    assert http.post("/ask", json=arguments).status_code == 422


def test_citation_reads_as_title_source_id_and_character_range() -> None:
    citation = Citation(
        doc_id="a/b.txt",
        title="T",
        source="Pub",
        path=None,
        start=812,
        end=1190,
        chunk_id=0,
        url=None,
        published="2024-05-31T09:00:00+00:00",
        generation="g",
        content_hash="h",
        indexed_at=None,
    )
    assert cite(citation) == "T, Pub, 2024-05-31 (a/b.txt, chars 812–1190)"
    undated = citation.model_copy(update={"source": None, "published": None})
    assert cite(undated) == "T (a/b.txt, chars 812–1190)"
