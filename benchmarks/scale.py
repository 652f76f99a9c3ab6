"""How search latency grows with the corpus: exact, flat fp16 and HNSW on synthetic corpora.

Corpus vectors are random but shaped like text: each is a real paragraph or sentence vector of
the shared SQuAD sample plus Gaussian noise, normalized (cosine ~0.8 to its origin). Uniformly
random unit vectors would be useless here: in 384 dimensions all their similarities are ~0 and
no index can tell neighbours apart (HNSW measured recall@10 0.18 on them at efSearch=64).
Queries are real SQuAD questions. One FAISS thread per query, as in the service.

    python -m benchmarks.scale [--sizes 100000 1000000] [--hnsw-up-to 200000]
"""

import argparse
import os
import time

import faiss
import numpy as np

from benchmarks.questions import require_beir
from benchmarks.speed_quality import DATA, read_jsonl
from indexer import IndexSettings, make_embedder
from indexer.vectors import HNSW_EF_CONSTRUCTION, HNSW_M, build_passage_index, set_faiss_threads

EF_SEARCH = (16, 32, 64, 128, 256)


def text_like_vectors(bases: np.ndarray, count: int, seed: int, noise: float = 0.75) -> np.ndarray:
    rng = np.random.default_rng(seed)
    dimension = bases.shape[1]
    out = np.empty((count, dimension), dtype=np.float32)
    for start in range(0, count, 100_000):  # in slices: float64 noise for 1M rows is 3 GB
        rows = min(100_000, count - start)
        block = bases[rng.integers(len(bases), size=rows)]
        block = block + rng.standard_normal((rows, dimension)) * noise / np.sqrt(dimension)
        out[start : start + rows] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def per_query_ms(index: faiss.Index, queries: np.ndarray, k: int = 10) -> tuple[float, np.ndarray]:
    """Median milliseconds of single-query searches, and every query's top ``k`` ids."""
    seconds, ids = [], []
    for query in queries:
        began = time.perf_counter()
        _, found = index.search(query.reshape(1, -1), k)
        seconds.append(time.perf_counter() - began)
        ids.append(found[0])
    return float(np.median(seconds) * 1000), np.array(ids)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(
        np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)])
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument(
        "--hnsw-up-to", type=int, default=200_000, help="skip HNSW builds above this size (slow)"
    )
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    require_beir(DATA)
    set_faiss_threads(1)
    embedder = make_embedder(IndexSettings())
    texts = [q["text"] for q in read_jsonl(DATA / "queries.jsonl")][: args.queries]
    queries = embedder.encode_passages(texts)
    paragraphs = [doc["text"] for doc in read_jsonl(DATA / "corpus.jsonl")]
    sentences = [s.strip() + "." for text in paragraphs for s in text.split(". ") if s.strip()]
    bases = embedder.encode_passages(paragraphs + sentences)
    print(f"{len(queries)} real queries; M={HNSW_M}, efConstruction={HNSW_EF_CONSTRUCTION}")
    print(f"{'passages':>9} {'index':<16} {'build s':>8} {'MB':>7} {'p50 ms':>7} {'recall@10':>9}")
    for size in args.sizes:
        vectors = text_like_vectors(bases, size, seed=size)
        began = time.perf_counter()
        exact = faiss.IndexFlatIP(vectors.shape[1])
        exact.add(vectors)
        built = time.perf_counter() - began
        exact_ms, truth = per_query_ms(exact, queries)
        mb = vectors.nbytes / 2**20
        print(
            f"{size:>9} {'exact (float32)':<16} {built:8.1f} {mb:7.0f} {exact_ms:7.3f} {1.0:9.3f}"
        )
        began = time.perf_counter()
        flat, _ = build_passage_index(vectors, hnsw_from=size + 1)
        built = time.perf_counter() - began
        flat_ms, found = per_query_ms(flat, queries)
        mb = len(faiss.serialize_index(flat)) / 2**20
        hits = recall(found, truth)
        print(f"{size:>9} {'flat fp16':<16} {built:8.1f} {mb:7.0f} {flat_ms:7.3f} {hits:9.3f}")
        if size > args.hnsw_up_to:
            continue
        set_faiss_threads(os.cpu_count() or 1)  # building is batch work: use every core
        began = time.perf_counter()
        hnsw, _ = build_passage_index(vectors, hnsw_from=0)
        built = time.perf_counter() - began
        set_faiss_threads(1)
        mb = len(faiss.serialize_index(hnsw)) / 2**20
        for ef in EF_SEARCH:
            faiss.downcast_index(hnsw).hnsw.efSearch = ef
            ms, found = per_query_ms(hnsw, queries)
            label, hits = f"hnsw ef={ef}", recall(found, truth)
            print(f"{size:>9} {label:<16} {built:8.1f} {mb:7.0f} {ms:7.3f} {hits:9.3f}")


if __name__ == "__main__":
    main()
