"""Does a faster backend retrieve as well? Dense hit@1 and hit@5 on the shared SQuAD sample.

Each answerable question should find its own paragraph; every backend encodes the same
paragraphs and questions, so the only difference is how the model runs.

    python -m benchmarks.speed_quality [--data DIR]
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

from benchmarks.questions import SQUAD, require_beir
from indexer import IndexSettings, make_embedder

DATA = SQUAD
BACKENDS = ("torch", "onnx", "onnx-int8")


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="a BEIR folder with metadata")
    args = parser.parse_args()
    require_beir(args.data)
    corpus = read_jsonl(args.data / "corpus.jsonl")
    queries = [q for q in read_jsonl(args.data / "queries.jsonl") if q["metadata"]["answerable"]]
    ids = [doc["_id"] for doc in corpus]
    wanted = np.array([ids.index(q["metadata"]["paragraph"]) for q in queries])
    print(f"{len(corpus)} paragraphs, {len(queries)} answerable questions")
    print(f"{'backend':<10} {'hit@1':>6} {'hit@5':>6} {'encode s':>9} {'min cos vs torch':>17}")
    reference: np.ndarray | None = None
    for backend in BACKENDS:
        embedder = make_embedder(IndexSettings(embedding_backend=backend))
        began = time.perf_counter()
        passages = embedder.encode_passages([doc["text"] for doc in corpus])
        questions = embedder.encode_queries([q["text"] for q in queries])
        seconds = time.perf_counter() - began
        ranked = np.argsort(-(questions @ passages.T), axis=1)[:, :5]
        hit1 = float(np.mean(ranked[:, 0] == wanted))
        hit5 = float(np.mean((ranked == wanted[:, None]).any(axis=1)))
        if reference is None:
            reference = passages
        agreement = float(np.min(np.sum(passages * reference, axis=1)))
        print(f"{backend:<10} {hit1:6.3f} {hit5:6.3f} {seconds:9.1f} {agreement:17.4f}")


if __name__ == "__main__":
    main()
