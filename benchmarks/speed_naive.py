"""The naive pipeline anyone would write, measured on its own: sentence-transformers on torch,
an exact ``IndexFlatIP``, and encode + search in the caller's process.

``benchmarks/speed.py`` runs it as a subprocess on the same passages and questions and compares;
it prints one JSON object.

    python -m benchmarks.speed_naive PASSAGES.json QUESTIONS.json INDEX_SIZE
    python -m benchmarks.speed_naive PASSAGES.json QUESTIONS.json INDEX_SIZE --latencies

With ``--latencies`` it only loads the model and the index, then times questions as they come:
one JSON list of questions per line of stdin, one JSON list of seconds per line of stdout. The
speed benchmark alternates blocks of them with blocks of its HTTP requests, so both sides' query
latencies are measured in the same minutes of a machine whose speed drifts.
"""

import json
import resource
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BEGAN = time.perf_counter()
REPEATS = 3

import faiss  # noqa: E402
import numpy as np  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

from indexer.embedding import default_model_path  # noqa: E402


def main() -> None:
    passages = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    questions = json.loads(Path(sys.argv[2]).read_text(encoding="utf-8"))
    index_size = int(sys.argv[3])
    model = SentenceTransformer(str(default_model_path()), device="cpu", local_files_only=True)
    loaded = time.perf_counter()
    vectors = model.encode(passages, batch_size=32, normalize_embeddings=True)
    # The median of three encodes, as the indexer's figure is the median of three runs: one run
    # of either moved by up to 2x with the machine's load.
    runs = [time.perf_counter() - loaded]
    for _ in range(REPEATS - 1):
        began = time.perf_counter()
        model.encode(passages, batch_size=32, normalize_embeddings=True)
        runs.append(time.perf_counter() - began)
    encode_seconds = statistics.median(runs)
    tiled = np.tile(vectors, (index_size // len(vectors) + 1, 1))[:index_size]
    indexed = time.perf_counter()
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(tiled)
    # Ready = imports + model load + index load; encoding the corpus is not part of a start.
    ready = (loaded - BEGAN) + (time.perf_counter() - indexed)

    def query(text: str) -> float:
        began = time.perf_counter()
        vector = model.encode([text], normalize_embeddings=True)
        index.search(vector, 5)
        return time.perf_counter() - began

    if "--latencies" in sys.argv[4:]:
        print(json.dumps({"ready": True}), flush=True)
        for line in sys.stdin:
            print(json.dumps([query(text) for text in json.loads(line)]), flush=True)
        return
    for text in questions[:20]:
        query(text)
    throughput = {}
    for clients in (8, 32):
        batch = questions[:240]
        began = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(query, batch))
        throughput[clients] = len(batch) / (time.perf_counter() - began)
    words = sum(len(text.split()) for text in passages)
    print(
        json.dumps(
            {
                "encode_passages_per_s": len(passages) / encode_seconds,
                "encode_words_per_s": words / encode_seconds,
                "ready_s": ready,
                "rps": throughput,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
