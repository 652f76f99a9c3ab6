"""Speed of this service against the naive pipeline, on the same corpus, in the same run.

The corpus is the shared SQuAD sample's paragraphs, one article per title. Measured:

- indexing: a whole ``python -m indexer`` run (process start and model load included) against the
  naive pipeline's bare encode throughput of the same passages (sentence-transformers + torch),
  each the median of three;
- query latency p50/p95/p99 over HTTP at concurrency 1, with distinct questions (no cache hits),
  against the naive in-process encode + ``IndexFlatIP`` search, in alternating blocks of 20;
- requests/s at 8 and 32 concurrent HTTP clients (distinct questions; then cached ones apart),
  against the naive pipeline called from as many threads;
- cold start to ready with a ~10k-passage index, and peak RSS of both processes.

    python -m benchmarks.speed [--data DIR] [--index-size N]
"""

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import numpy as np

from benchmarks.questions import require_beir
from benchmarks.speed_quality import DATA, read_jsonl
from indexer import Document, IndexSettings, IndexStore
from indexer.build import unique_documents
from indexer.chunking import Chunker
from indexer.store import GenerationContent

REPO = Path(__file__).resolve().parent.parent


def write_articles(data: Path, folder: Path, copies: int = 1) -> int:
    """One .txt article per SQuAD title (``copies`` times, under distinct names); total words."""
    by_title: dict[str, list[str]] = defaultdict(list)
    for doc in read_jsonl(data / "corpus.jsonl"):
        by_title[doc["title"]].append(doc["text"])
    folder.mkdir(parents=True, exist_ok=True)
    words = 0
    for copy in range(copies):
        for title, paragraphs in by_title.items():
            text = title.replace("_", " ") + "\n\n" + "\n\n".join(paragraphs) + "\n"
            (folder / f"{title}-{copy}.txt").write_text(text, encoding="utf-8")
            words += len(text.split())
    return words


def run_indexer(articles: Path, index_dir: Path, env: dict[str, str]) -> float:
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "indexer", str(articles), "--index-dir", str(index_dir), "-q"],
        check=True,
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - began


def write_large_index(data: Path, work: Path, small: Path, size: int) -> int:
    """A ~``size``-passage generation from copies of the corpus, reusing the small index's
    vectors (copies chunk identically), so no time is spent encoding what start-up never reads."""
    manifest = IndexStore(small).read_manifest()
    copies = max(1, round(size / manifest.passage_count))
    write_articles(data, work / "copies", copies)
    return write_tiled(unique_documents([work / "copies"]), small, copies, work / "large")


def write_tiled(documents: list[Document], small: Path, copies: int, index_dir: Path) -> int:
    """A generation of ``documents``, which are ``copies`` copies (in order) of the documents
    of the generation ``small``, with its vectors tiled: the copies chunk as the originals
    did, so their passages and sentences are the same rows again. Returns its passage count."""
    store = IndexStore(small)
    manifest = store.read_manifest()
    generation = store.generations_dir / manifest.generation
    settings = IndexSettings(index_dir=index_dir)
    chunker = Chunker(settings.target_words, settings.max_words, settings.overlap_sentences)
    chunked = [item for item in (chunker.split(doc) for doc in documents) if item.passages]
    passage_vectors = np.load(generation / "passage_vectors.npy")
    sentence_vectors = np.load(generation / "sentence_vectors.npy")
    written = IndexStore(index_dir).write(
        GenerationContent(
            chunked,
            passage_vectors=np.tile(passage_vectors, (copies, 1)),
            sentence_vectors=np.tile(sentence_vectors, (copies, 1)),
            model_name=manifest.model_name,
            chunking=manifest.chunking,
            embedding_backend=manifest.embedding_backend,
            passage_vector_kind=manifest.passage_vectors,
        )
    )
    return written.passage_count


def passage_texts(index_dir: Path) -> list[str]:
    snapshot = IndexStore(index_dir).open(*_model_of(index_dir))
    return [snapshot.passage(i).text for i in range(len(snapshot.passages))]


def _model_of(index_dir: Path) -> tuple[str, int]:
    manifest = IndexStore(index_dir).read_manifest()
    return manifest.model_name, manifest.dimension


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_service(
    index_dir: Path,
    port: int,
    env: dict[str, str],
    workers: int = 1,
    command: list[str] | None = None,
    cwd: Path = REPO,
) -> tuple[subprocess.Popen, float]:
    """Start ``python -m service`` (or ``command``, which takes the same options after the
    index) in ``cwd`` (whose ``service`` it runs) and return it with the seconds until /ready
    answered 200."""
    began = time.perf_counter()
    command = command or [sys.executable, "-m", "service", "--index-dir", str(index_dir)]
    process = subprocess.Popen(
        [*command, "--port", str(port), "--workers", str(workers)],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
        while time.perf_counter() - began < 120:
            try:
                if client.get("/ready").status_code == 200:
                    return process, time.perf_counter() - began
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                break
            time.sleep(0.01)
    process.kill()
    raise RuntimeError("the service did not become ready")


def latencies_at_one(port: int, questions: list[str]) -> list[float]:
    """Seconds per request over one kept-alive connection."""
    answers = _ask_in_turn(port, iter(questions), threading.Lock())
    if any(status != 200 for _, status in answers):
        raise RuntimeError("/search answered an error at concurrency 1")
    return [seconds for seconds, _ in answers]


def interleaved_latencies(
    port: int, naive: subprocess.Popen, questions: list[str], block: int = 20
) -> tuple[list[float], list[float]]:
    """Seconds per question at concurrency 1, ours over HTTP and the naive pipeline's in its
    process, in alternating blocks of the same questions (each side first in every other
    block): the machine's speed drifts from minute to minute, and both sides see the same."""
    assert naive.stdin is not None and naive.stdout is not None
    ours: list[float] = []
    theirs: list[float] = []
    for number, start in enumerate(range(0, len(questions), block)):
        chunk = questions[start : start + block]
        for side in ("ours", "naive") if number % 2 else ("naive", "ours"):
            if side == "ours":
                ours += latencies_at_one(port, chunk)
            else:
                naive.stdin.write(json.dumps(chunk) + "\n")
                naive.stdin.flush()
                theirs += json.loads(naive.stdout.readline())
    return ours, theirs


def load(port: int, questions: list[str], clients: int) -> tuple[float, int]:
    """Requests/s with ``clients`` connections each sending its next question when answered,
    and how many answers were not 200."""
    pending, lock = iter(questions), threading.Lock()
    answers: list[list[tuple[float, int]]] = [[] for _ in range(clients)]

    def client(number: int) -> None:
        answers[number] = _ask_in_turn(port, pending, lock)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    statuses = [status for done in answers for _, status in done]
    return len(statuses) / seconds, sum(status != 200 for status in statuses)


def _ask_in_turn(
    port: int, questions: Iterator[str], lock: threading.Lock
) -> list[tuple[float, int]]:
    """One client: ``GET /search`` for each next question over one kept-alive connection; the
    seconds and status of each. The load generator shares the service's two cores, so it is
    the standard library's client in threads, ~0.3 ms of CPU a request, where an asyncio
    httpx client took ~2 ms and with it a fifth of the machine from the service."""
    out = []
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        while True:
            with lock:
                text = next(questions, None)
            if text is None:
                return out
            began = time.perf_counter()
            connection.request("GET", "/search?" + urlencode({"q": text, "k": 5}))
            response = connection.getresponse()
            response.read()
            out.append((time.perf_counter() - began, response.status))
    finally:
        connection.close()


def peak_rss_mb(pid: int) -> float:
    return memory_mb(pid, "VmHWM")


def memory_mb(pid: int, field: str) -> float:
    """A memory figure of ``/proc/<pid>/status`` (``VmRSS``, ``VmHWM``: the peak), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _children(pid: int) -> list[int]:
    """Process ids started by ``pid`` (uvicorn's workers): those whose parent it is."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def percentiles(seconds: list[float]) -> tuple[float, float, float]:
    p50, p95, p99 = np.percentile(np.array(seconds) * 1000, [50, 95, 99])
    return float(p50), float(p95), float(p99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="a BEIR folder (SQuAD sample)")
    parser.add_argument("--index-size", type=int, default=10_000, help="passages for serving")
    args = parser.parse_args()
    require_beir(args.data)
    questions = [q["text"] for q in read_jsonl(args.data / "queries.jsonl")]
    env = {
        **os.environ,
        "NEWSQA_ONNX_CACHE_DIR": str(REPO / ".cache" / "onnx"),
        "NEWSQA_QUERY_CACHE_SIZE": "4096",
        "PYTHONPATH": str(REPO),
    }
    with tempfile.TemporaryDirectory(prefix="bench-speed-") as tmp:
        work = Path(tmp)
        words = write_articles(args.data, work / "articles")
        # Once, as the Docker build does: the export is not part of an indexer run.
        run_indexer(work / "articles", work / "warmup", env)
        # The median of three whole runs (the naive encode is measured the same way).
        index_seconds = statistics.median(
            run_indexer(work / "articles", work / f"small-{run}", env) for run in range(3)
        )
        (work / "small-0").rename(work / "small")
        manifest = IndexStore(work / "small").read_manifest()
        texts = passage_texts(work / "small")
        size = write_large_index(args.data, work, work / "small", args.index_size)
        (work / "passages.json").write_text(json.dumps(texts))
        (work / "questions.json").write_text(json.dumps(questions))
        naive_args = [str(work / "passages.json"), str(work / "questions.json"), str(size)]
        naive = json.loads(
            subprocess.run(
                [sys.executable, "-m", "benchmarks.speed_naive", *naive_args],
                check=True,
                capture_output=True,
                text=True,
                env=env,
                cwd=REPO,
            ).stdout
        )
        naive_latencies = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.speed_naive", *naive_args, "--latencies"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=REPO,
        )
        assert naive_latencies.stdout is not None
        naive_latencies.stdout.readline()  # loaded
        port = free_port()
        process, ready_seconds = start_service(work / "large", port, env)
        try:
            # Warm-up, not measured.
            interleaved_latencies(port, naive_latencies, questions[-20:])
            at_one, naive_at_one = interleaved_latencies(port, naive_latencies, questions[:300])
            rps: dict[int | str, float] = {}
            errors = 0
            for clients, batch in ((8, questions[300:800]), (32, questions[800:1380])):
                rps[clients], failed = load(port, batch, clients)
                errors += failed
            cached, failed = load(port, questions[300:800], 8)
            errors += failed
            rss = peak_rss_mb(process.pid)
        finally:
            naive_latencies.kill()
            naive_latencies.wait(timeout=30)
            process.terminate()
            process.wait(timeout=30)
        # One process per core: the same questions again, new to these processes' caches.
        process, _ = start_service(work / "large", port, env, workers=2)
        try:
            latencies_at_one(port, questions[-20:])
            for clients, batch in ((8, questions[300:800]), (32, questions[800:1380])):
                rps[f"{clients}x2"], failed = load(port, batch, clients)
                errors += failed
            pids = [process.pid, *_children(process.pid)]
            rss_two = sum(peak_rss_mb(pid) for pid in pids)
        finally:
            process.terminate()
            process.wait(timeout=30)
    ours_p = percentiles(at_one)
    naive_p = percentiles(naive_at_one)
    ours_pps = manifest.passage_count / index_seconds
    rows = [
        (
            "indexing passages/s (whole run vs bare encode)",
            ours_pps,
            naive["encode_passages_per_s"],
        ),
        ("indexing words/s", words / index_seconds, naive["encode_words_per_s"]),
        ("query p50 ms (HTTP vs in-process)", ours_p[0], naive_p[0]),
        ("query p95 ms", ours_p[1], naive_p[1]),
        ("query p99 ms", ours_p[2], naive_p[2]),
        ("requests/s, 8 clients", rps[8], naive["rps"]["8"]),
        ("requests/s, 32 clients", rps[32], naive["rps"]["32"]),
        ("requests/s, 8 clients, cached queries", cached, naive["rps"]["8"]),
        ("requests/s, 8 clients, --workers 2", rps["8x2"], naive["rps"]["8"]),
        ("requests/s, 32 clients, --workers 2", rps["32x2"], naive["rps"]["32"]),
        (f"cold start to ready s ({size} passages)", ready_seconds, naive["ready_s"]),
        ("peak RSS MB", rss, naive["peak_rss_mb"]),
        ("peak RSS MB, --workers 2 (all processes)", rss_two, naive["peak_rss_mb"]),
    ]
    print(
        f"corpus: {manifest.document_count} articles, {manifest.passage_count} passages, "
        f"{manifest.sentence_count} sentences, {words} words; backend {manifest.embedding_backend}"
    )
    print(f"{'measure':<48} {'ours':>9} {'naive':>9} {'ours/naive':>11}")
    for label, ours, theirs in rows:
        print(f"{label:<48} {ours:9.2f} {theirs:9.2f} {ours / theirs:10.2f}x")
    print(f"HTTP errors: {errors}; p99/p50 at concurrency 1: {ours_p[2] / ours_p[0]:.2f}")


if __name__ == "__main__":
    main()
