"""The service's configuration: the indexer's settings plus how to serve and when to abstain.

Every field reads the environment variable ``NEWSQA_<FIELD>``; see docs/operating.md.
"""

from typing import Literal

from pydantic import Field, SecretStr

from indexer.settings import IndexSettings
from service.engine.answer import Abstention
from service.engine.query import RetrievalMode


class ServiceSettings(IndexSettings):
    """Everything ``python -m service`` can be told, with defaults that work out of the box."""

    host: str = Field("127.0.0.1", description="Interface to listen on.")
    port: int = Field(8000, ge=1, le=65535, description="TCP port to listen on.")
    min_answer_score: float = Field(
        0.35,
        ge=-1.0,
        le=1.0,
        description=(
            "/ask abstains when the best answer sentence's score, its evidence (0.7 x its "
            "cosine with the question + 0.3 x the idf-weighted share of the question's terms "
            "it or its title contains), is below this: the off-topic guard. Chosen by "
            "measurement, see docs/quality.md."
        ),
    )
    min_answer_confidence: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description=(
            "/ask also abstains when the answer's calibrated confidence (the estimated "
            "probability that the sentence holds the answer) is below this; 0 leaves it to "
            "min_answer_score. Raise it to trade answers for precision: docs/quality.md's "
            "risk-coverage tables say at what cost."
        ),
    )
    retrieval_mode: RetrievalMode = Field(
        "hybrid",
        description=(
            "hybrid: dense and BM25 signals fused; dense or lexical: one family only "
            "(for comparisons, see docs/quality.md)."
        ),
    )
    query_cache_size: int = Field(
        1024, ge=0, le=1_000_000, description="Query vectors kept in an LRU cache; 0 turns it off."
    )
    query_batch_wait_ms: float = Field(
        0.0,
        ge=0.0,
        le=50.0,
        description=(
            "How long the query encoder waits for more concurrent queries before encoding a "
            "batch (torch and fp32 ONNX); 0 batches only the queries already waiting."
        ),
    )
    max_pending_queries: int = Field(
        256,
        ge=1,
        le=100_000,
        description=(
            "Queries that may wait for the model at once (about 2 ms each here); one more is "
            "a 503 with Retry-After at once, instead of a wait clients would time out on."
        ),
    )
    api_key: SecretStr | None = Field(
        None,
        description=(
            "Bearer key for the admin endpoints (and MCP over HTTP when required). Unset: "
            "admin endpoints answer 403."
        ),
    )
    mcp_require_api_key: bool = Field(
        False,
        description=(
            "Require 'Authorization: Bearer <api_key>' on the MCP endpoint /mcp (401 without "
            "it; 403 while no api_key is set). Off: /mcp is as open as /search and /ask."
        ),
    )
    max_body_bytes: int = Field(
        256 * 1024,
        ge=1024,
        le=64 * 1024 * 1024,
        description=(
            "Request bodies over this many bytes are a 413, refused before they are read or "
            "parsed (a declared Content-Length) or as soon as they pass it (a streamed one)."
        ),
    )
    body_read_timeout_seconds: float = Field(
        15.0,
        gt=0,
        le=600,
        description=(
            "A request body that does not arrive within this long (a stalled or lying "
            "client) is a 408, and its connection is let go."
        ),
    )
    graceful_shutdown_seconds: int = Field(
        10,
        ge=1,
        le=600,
        description=(
            "On SIGTERM the service stops taking connections and gives requests in flight "
            "this long to finish, then exits anyway."
        ),
    )
    max_header_bytes: int = Field(
        16 * 1024,
        ge=1024,
        le=1024 * 1024,
        description=(
            "Requests whose headers (names and values) add up to more bytes are a 431, before "
            "any work (uvicorn's httptools parser itself takes headers of any size)."
        ),
    )
    max_connections: int = Field(
        1000,
        ge=2,
        le=1_000_000,
        description=(
            "Open connections the server holds at once (uvicorn's limit_concurrency): beyond "
            "it a new request is a 503 at once, so clients that hold connections open (slowly "
            "sent headers) cost a bounded amount. There is no header timeout: facing the "
            "internet, put a reverse proxy with one in front."
        ),
    )
    metrics_require_api_key: bool = Field(
        False,
        description=(
            "Require 'Authorization: Bearer <api_key>' on GET /metrics (401 without it). Off: "
            "/metrics is as open as /ready."
        ),
    )
    log_format: Literal["text", "json"] = Field(
        "text",
        description=(
            "text: one readable line per log record; json: one JSON object per line, with the "
            "request id, route, status and milliseconds of each request's line."
        ),
    )
    watch: bool = Field(
        False,
        description=(
            "Watch the sources and reindex into index_dir when they change (python -m service "
            "--watch); builds the index at startup if there is none."
        ),
    )
    reindex_retry_seconds: float = Field(
        5.0,
        gt=0,
        le=300,
        description=(
            "In watch mode, a failed reindex (a full disk, an unreadable file) is tried again "
            "after this long, then twice as long each time up to five minutes, until one "
            "succeeds; /ready reports the live generation stale meanwhile."
        ),
    )
    workers: int = Field(
        1,
        ge=1,
        le=64,
        description=(
            "Server processes sharing the port, each with its own model (~390 MB): one "
            "process's event loop keeps about two cores busy (its Python on one, inference on "
            "the other), so more help on bigger machines (docs/speed.md). One of them watches."
        ),
    )
    refresh_interval_seconds: float = Field(
        0.5,
        gt=0,
        le=60,
        description="How often the service checks whether a new index generation went live.",
    )

    def abstention(self) -> Abstention:
        """When ``/ask`` declines to answer, for ``answer.choose_answer``."""
        return Abstention(self.min_answer_score, self.min_answer_confidence)
