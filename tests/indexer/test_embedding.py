"""Token sums: both backends pool like the model, and a passage pooled from its sentences stays
close to the passage encoded whole."""

import numpy as np
import pytest

from indexer import IndexSettings, SentenceTransformerEmbedder, make_embedder
from indexer.embedding import TokenSums
from indexer.sentences import sentence_spans
from tests.conftest import REPO, SEED_ID, SEEDS
from tests.indexer.test_embedding_onnx import TEXTS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def torch_embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(None, "all-MiniLM-L6-v2")


def test_torch_token_sums_give_the_models_own_vectors(torch_embedder) -> None:
    sums = torch_embedder.encode_token_sums(TEXTS)
    np.testing.assert_allclose(sums.vectors(), torch_embedder.encode_passages(TEXTS), atol=1e-5)
    assert torch_embedder.encode_token_sums([]).sums.shape == (0, 384)


def test_onnx_and_torch_token_sums_agree(torch_embedder) -> None:
    settings = IndexSettings(embedding_backend="onnx", onnx_cache_dir=REPO / ".cache/onnx")
    onnx = make_embedder(settings).encode_token_sums(TEXTS)
    torch = torch_embedder.encode_token_sums(TEXTS)
    assert np.min(np.sum(onnx.vectors() * torch.vectors(), axis=1)) >= 0.9999


def test_a_pooled_passage_is_close_to_the_passage_encoded_whole(real_embedder) -> None:
    text = (SEEDS / SEED_ID).read_text(encoding="utf-8")
    sentences = [text[start:end] for start, end in sentence_spans(text)[2:6]]
    pooled = real_embedder.encode_token_sums(sentences).pooled([range(len(sentences))])[0]
    whole = real_embedder.encode_passages([" ".join(sentences)])[0]
    others = real_embedder.encode_passages(["Apple prices rose sharply in October."])[0]
    assert float(pooled @ whole) >= 0.9 > float(pooled @ others) + 0.3


def test_pooling_weighs_every_token_alike() -> None:
    sums = TokenSums(np.array([[2.0, 0.0], [0.0, 1.0], [0.0, 0.0]], dtype=np.float32))
    # Mean of three tokens: (1,0), (1,0), (0,1), normalised; a group of one is the text itself.
    np.testing.assert_allclose(sums.pooled([[0, 1], [1]]), [[2, 1] / np.sqrt(5), [0, 1]], atol=1e-6)
    np.testing.assert_allclose(sums.vectors()[:2], [[1, 0], [0, 1]])
