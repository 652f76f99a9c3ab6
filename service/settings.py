"""The service's configuration: the indexer's settings plus how to serve and when to abstain.

Every field reads the environment variable ``NEWSQA_<FIELD>``; see the README's table.
"""

from pydantic import Field, SecretStr

from indexer.settings import IndexSettings


class ServiceSettings(IndexSettings):
    """Everything ``python -m service`` can be told, with defaults that work out of the box."""

    host: str = Field("127.0.0.1", description="Interface to listen on.")
    port: int = Field(8000, ge=1, le=65535, description="TCP port to listen on.")
    min_answer_score: float = Field(
        0.30,
        ge=-1.0,
        le=1.0,
        description=(
            "An answer sentence needs at least this score (cosine similarity of question and "
            "sentence, blended with its passage's); below it /ask abstains. Chosen by "
            "measurement, see the README."
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
    api_key: SecretStr | None = Field(
        None,
        description=(
            "Bearer key for the admin endpoints (and MCP over HTTP when required). Unset: "
            "admin endpoints answer 403."
        ),
    )
