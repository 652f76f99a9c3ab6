"""The ONNX backends compute the same model as sentence-transformers on torch."""

import json
from pathlib import Path

import numpy as np
import pytest

from indexer import IndexSettings, make_embedder
from indexer.embedding.onnx import OnnxEmbedder, _read_recipe
from indexer.embedding.onnx_export import ensure_export
from indexer.errors import EmbeddingModelError
from tests.conftest import REPO

TEXTS = [
    "Short one.",
    "The ceasefire's first phase began on Friday, with hostages released in exchange for "
    "prisoners, and aid trucks entering through two crossings.",
    "A medium sentence about the weather in Paris.",
]


@pytest.fixture(scope="module", params=["onnx", "onnx-int8"])
def onnx_embedder(request: pytest.FixtureRequest) -> OnnxEmbedder:
    # The repository's git-ignored cache: exported once per machine, as the Dockerfile does.
    settings = IndexSettings(embedding_backend=request.param, onnx_cache_dir=REPO / ".cache/onnx")
    embedder = make_embedder(settings)
    assert isinstance(embedder, OnnxEmbedder)
    return embedder


@pytest.mark.slow
def test_onnx_vectors_agree_with_torch_in_input_order(onnx_embedder, real_embedder) -> None:
    ours = onnx_embedder.encode_passages(TEXTS)
    reference = real_embedder.encode_passages(TEXTS)
    assert ours.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, rtol=1e-5)
    # int8 rounding moves vectors a little; a different order would move them a lot
    assert np.min(np.sum(ours * reference, axis=1)) >= 0.98
    # int8 scales activations per batch, so alone or among passages a text moves slightly
    alone = onnx_embedder.encode_query(TEXTS[1])
    assert float(alone @ ours[1]) >= (0.98 if onnx_embedder.quantized else 0.99999)


@pytest.mark.slow
def test_a_lone_query_on_every_core_gets_the_same_vector_to_the_bit(onnx_embedder) -> None:
    for text in TEXTS:
        assert np.array_equal(
            onnx_embedder.encode_lone_query(text), onnx_embedder.encode_query(text)
        )


@pytest.mark.slow
def test_a_query_vector_does_not_depend_on_the_other_queries_encoded_with_it(
    onnx_embedder,
) -> None:
    one_by_one = np.stack([onnx_embedder.encode_query(text) for text in TEXTS])
    together = onnx_embedder.encode_queries(TEXTS)
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)
    assert onnx_embedder.encode_passages([]).shape == (0, 384)
    np.testing.assert_allclose(np.linalg.norm(onnx_embedder.encode_query("")), 1.0, rtol=1e-5)


def test_a_model_pooling_other_than_by_mean_is_refused(tmp_path: Path) -> None:
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 128}))
    (tmp_path / "1_Pooling" / "config.json").write_text(
        json.dumps({"word_embedding_dimension": 384, "pooling_mode_cls_token": True})
    )
    with pytest.raises(EmbeddingModelError, match="mean pooling only"):
        _read_recipe(tmp_path)


def test_an_unwritable_export_cache_is_a_clear_model_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(EmbeddingModelError, match="cannot write the ONNX export cache"):
        ensure_export(tmp_path, blocker / "cache", quantized=True)


def test_int8_runs_queries_on_the_fused_graph_and_batches_on_the_plain_one() -> None:
    from indexer.embedding import default_model_path

    int8 = ensure_export(default_model_path(), REPO / ".cache/onnx", quantized=True)
    fp32 = ensure_export(default_model_path(), REPO / ".cache/onnx", quantized=False)
    assert int8.is_complete() and "fused" in int8.queries and "fused" not in int8.passages
    assert fp32.queries == fp32.passages
