"""``GET /metrics``, request ids and request log lines, on real servers (the fake embedder's:
what is counted does not depend on the model)."""

import json
import logging
import re
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from indexer import build_index
from service.logs import JsonFormatter
from service.settings import ServiceSettings
from tests.conftest import (
    ADMIN_AUTH,
    ADMIN_KEY,
    REPO,
    SEEDS,
    FakeEmbedder,
    RunningServer,
    free_port,
    serve,
)

KEY, AUTH = ADMIN_KEY, ADMIN_AUTH
SEED_ID = "000_8cbc50e82d9fbfeb.txt"


def scrape(client: httpx.Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of ``/metrics``, by name and labels."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def requests(samples, route: str, method: str, status: int) -> float:
    key = frozenset({("route", route), ("method", method), ("status", str(status))})
    return samples.get(("newsqa_http_requests_total", key), 0.0)


def stage_count(samples, stage: str) -> float:
    return samples.get(("newsqa_search_stage_seconds_count", frozenset({("stage", stage)})), 0.0)


@pytest.fixture
def server(keyed_server: RunningServer) -> RunningServer:
    return keyed_server


def test_requests_through_every_front_door_are_counted_by_route(server: RunningServer) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        before = scrape(client)
        assert client.get("/search", params={"q": "deal phases"}).status_code == 200  # fast path
        assert client.post("/ask", json={"question": "What are the phases?"}).status_code == 200
        assert client.get(f"/documents/{SEED_ID}").status_code == 200
        assert client.get("/documents/no-such-article").status_code == 404
        assert client.get("/search", params={"q": ""}).status_code == 422
        client.post("/mcp", json={})  # MCP over HTTP: whatever it answers, it is counted
        assert client.get("/no/such/page").status_code == 404
        after = scrape(client)

    def added(route: str, method: str, status: int) -> float:
        return requests(after, route, method, status) - requests(before, route, method, status)

    assert added("/search", "GET", 200) == 1
    assert added("/ask", "POST", 200) == 1
    assert added("/documents/{doc_id}", "GET", 200) == 1
    assert added("/documents/{doc_id}", "GET", 404) == 1  # a template, never the raw path
    assert added("/search", "GET", 422) == 1
    assert added("unmatched", "GET", 404) == 1
    mcp = [k for k in after if k[0] == "newsqa_http_requests_total" and ("route", "/mcp") in k[1]]
    assert mcp, "no /mcp requests counted"
    duration = (
        "newsqa_http_request_duration_seconds_count",
        frozenset({("route", "/search"), ("method", "GET")}),
    )
    assert after[duration] - before.get(duration, 0.0) == 2
    # Two searches ran (GET /search, POST /ask), one of them answered.
    for stage in ("encode", "retrieve", "rank"):
        assert stage_count(after, stage) - stage_count(before, stage) == 2
    assert stage_count(after, "answer") - stage_count(before, "answer") == 1


def test_the_generation_gauge_and_reindex_counters_follow_a_reindex(
    server: RunningServer,
) -> None:
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        before = scrape(client)
        old = client.get("/ready").json()["generation"]
        assert before[("newsqa_index_generation", frozenset({("generation", old)}))] == 1
        assert before[("newsqa_index_documents", frozenset())] == 1
        (server.settings.sources[0] / "ferry.txt").write_text(
            "Harbour news\n\nThe ferry to the island was cancelled.\n", encoding="utf-8"
        )
        new = client.post("/admin/reindex", headers=AUTH).json()["generation"]
        after = scrape(client)
    assert new != old
    assert after[("newsqa_index_generation", frozenset({("generation", new)}))] == 1
    assert ("newsqa_index_generation", frozenset({("generation", old)})) not in after
    assert after[("newsqa_index_documents", frozenset())] == 2
    runs = ("newsqa_reindex_runs_total", frozenset({("outcome", "ok")}))
    assert after[runs] - before.get(runs, 0.0) == 1
    assert 0 <= after[("newsqa_index_age_seconds", frozenset())] < 60


def test_metrics_can_require_the_key(tmp_path: Path) -> None:
    build_index([SEEDS], ServiceSettings(index_dir=tmp_path), FakeEmbedder(), progress=False)
    settings = ServiceSettings(
        index_dir=tmp_path, port=free_port(), api_key=KEY, metrics_require_api_key=True
    )
    for running in serve(settings, FakeEmbedder()):
        with httpx.Client(base_url=running.base_url) as client:
            assert client.get("/metrics").status_code == 401
            assert client.get("/metrics", headers=AUTH).status_code == 200


def test_every_response_carries_a_request_id_that_its_log_line_and_error_share(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="newsqa.access")
    with httpx.Client(base_url=server.base_url) as client:
        given = client.get("/health", headers={"X-Request-ID": "client-id.42"})
        made = client.get("/health")
        # Not a sane token (a space, or too long): replaced, never echoed into logs.
        for hostile in ("two words", "x" * 129):
            response = client.get("/health", headers={"X-Request-ID": hostile})
            assert response.headers["x-request-id"] != hostile
        error = client.get("/documents/no-such-article", headers={"X-Request-ID": "err-1"})
        invalid = client.get("/search", params={"q": "x", "k": "many"})
    assert given.headers["x-request-id"] == "client-id.42"
    assert len(made.headers["x-request-id"]) == 32
    assert error.json() == {"detail": error.json()["detail"], "request_id": "err-1"}
    assert invalid.status_code == 422
    assert invalid.json()["request_id"] == invalid.headers["x-request-id"]
    lines = [r for r in caplog.records if r.name == "newsqa.access"]
    mine = [r for r in lines if getattr(r, "request_id", None) == "err-1"]
    assert len(mine) == 1
    assert (mine[0].route, mine[0].status) == ("/documents/{doc_id}", 404)
    assert "no-such-article" not in mine[0].getMessage()


def test_json_log_lines_carry_the_request_fields_and_the_traceback() -> None:
    record = logging.makeLogRecord(
        {"name": "newsqa.access", "levelname": "INFO", "msg": "GET /search 200", "request_id": "r1"}
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "GET /search 200" and line["request_id"] == "r1"
    assert line["logger"] == "newsqa.access" and line["time"].endswith("+00:00")
    try:
        raise ValueError("boom")
    except ValueError:
        failed = logging.makeLogRecord({"msg": "failed", "exc_info": sys.exc_info()})
    assert "ValueError: boom" in json.loads(JsonFormatter().format(failed))["traceback"]


def test_the_sample_dashboard_charts_only_metrics_the_service_exports(
    server: RunningServer,
) -> None:
    dashboard = (REPO / "docs" / "grafana-dashboard.json").read_text(encoding="utf-8")
    charted = {
        re.sub(r"_(bucket|sum|count|total)$", "", name)
        for name in re.findall(r"newsqa_\w+", dashboard)
    }
    text = httpx.get(f"{server.base_url}/metrics").text
    exported = {family.name for family in text_string_to_metric_families(text)}
    assert charted and charted <= exported
