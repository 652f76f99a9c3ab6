"""Full build vs incremental build: index a few thousand articles, change one, reindex.

    .venv/bin/python -m benchmarks.incremental [--articles 5000] [--stand-in-base]

With ``--stand-in-base`` the first (full) build embeds with a stand-in that returns random unit
vectors of the model's dimension under the model's name, and the full build's embedding time
is extrapolated from the real model's throughput measured on a sample of the corpus: on a
shared 2-core machine a real 5,000-article build takes hours. Everything else, including the
incremental build after the change, runs the real model and is measured.

Articles are realistic news-like text, not random bytes: sentences of the seed article and of
the shared SQuAD sample corpus (when present), shuffled into articles of 8-24 sentences in
paragraphs. Prints each build's phases (load = read, clean and hash every file; chunk; reuse =
find which stored rows each new row keeps; embed; write = the new generation, fsynced, with
unchanged documents' rows, records and vectors copied from the live one) so the parts that
grow with the corpus are visible separately from the embedding.
Last, query latency (the searcher the service uses) idle and while the service's
low-priority reindexer embeds ``--busy-articles`` edited articles.
"""

import argparse
import json
import logging
import random
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmarks.questions import SQUAD, require_beir
from indexer import Embedder, TokenSums, build_index, make_embedder
from indexer.build import BuildReport
from indexer.documents import load_documents
from indexer.sentences import sentence_spans
from indexer.store import IndexStore
from service.engine.live import LiveIndex
from service.engine.query import SearchQuery
from service.engine.reindex import Reindexer
from service.settings import ServiceSettings

REPO = Path(__file__).resolve().parent.parent
SQUAD_CORPUS = SQUAD / "corpus.jsonl"


def sentence_pool() -> list[str]:
    texts = [doc.text for doc in load_documents([REPO / "seeds"])]
    if SQUAD_CORPUS.exists():
        with SQUAD_CORPUS.open(encoding="utf-8") as handle:
            texts += [json.loads(line)["text"] for line in handle]
    return [text[s:e] for text in texts for s, e in sentence_spans(text) if e - s > 30]


def write_articles(folder: Path, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    pool = sentence_pool()
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        sentences = rng.sample(pool, rng.randint(8, 24))
        paragraphs = [" ".join(sentences[j : j + 4]) for j in range(0, len(sentences), 4)]
        title = " ".join(sentences[0].split()[:9]).rstrip(".,;:")
        (folder / f"article-{i:05d}.txt").write_text(
            title + "\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8"
        )


class StandIn:
    """Random unit vectors with the real model's name and dimension: only for the base build."""

    def __init__(self, name: str, dimension: int) -> None:
        self.name, self.dimension = name, dimension
        self._rng = np.random.default_rng(0)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode_passages([text])[0]

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self.encode_token_sums(texts, progress).vectors()

    def encode_token_sums(self, texts: Sequence[str], progress: bool = False) -> TokenSums:
        return TokenSums(self._rng.standard_normal((len(texts), self.dimension), np.float32))


def throughput(embedder: Embedder, texts: list[str]) -> float:
    """Texts per second of the real model on a sample like what a build embeds."""
    began = time.perf_counter()
    embedder.encode_passages(texts)
    return len(texts) / (time.perf_counter() - began)


def append_correction(article: Path) -> None:
    with article.open("a", encoding="utf-8") as handle:
        handle.write("\nA correction was appended to this article after publication.\n")


def query_latency(settings: ServiceSettings, embedder: Embedder, articles: list[Path]) -> None:
    """Search latency idle, then while the service's reindex thread re-embeds ``articles``."""
    live = LiveIndex(IndexStore(settings.index_dir), embedder)
    live.refresh()
    questions = sentence_pool()[500:600]

    def one(i: int) -> float:
        began = time.perf_counter()
        live.searcher().search(SearchQuery(questions[i % len(questions)], 5))
        return (time.perf_counter() - began) * 1000

    for i in range(20):  # warm up: first queries page in the memory-mapped vectors
        one(i)
    idle = [one(i) for i in range(60)]
    for article in articles:
        append_correction(article)
    reindexer = Reindexer(settings, embedder, live)
    worker = threading.Thread(target=reindexer.run)
    began = time.perf_counter()
    worker.start()
    busy = []
    while worker.is_alive():
        busy.append(one(len(busy)))
    took = time.perf_counter() - began
    reindexer.close()
    after = [one(i) for i in range(60)]
    for label, values in (
        ("idle, before", idle),
        (f"during reindex ({took:.0f}s)", busy),
        ("idle, after", after),
    ):
        print(
            f"query latency {label:<24} median {np.median(values):6.1f} ms  "
            f"p95 {np.percentile(values, 95):6.1f} ms  ({len(values)} queries)"
        )


def show(label: str, report: BuildReport, wall: float) -> None:
    parts = "  ".join(f"{name} {secs:7.2f}s" for name, secs in report.timings.items())
    print(
        f"{label:<22} wall {wall:8.2f}s  embedded {report.embedded:7d} texts  "
        f"+{report.added} ~{report.changed} -{report.deleted} ={report.unchanged}  {parts}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--workdir", type=Path, help="keep corpus and index here (default: temp)")
    parser.add_argument(
        "--busy-articles",
        type=int,
        default=20,
        help="articles edited for the query-latency-during-reindex measurement (0: skip)",
    )
    parser.add_argument(
        "--stand-in-base",
        action="store_true",
        help="embed the base build with random vectors; extrapolate its embedding time",
    )
    args = parser.parse_args()
    require_beir(SQUAD)
    logging.basicConfig(level=logging.WARNING)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-incremental-"))
    articles, index_dir = workdir / "articles", workdir / "index"
    shutil.rmtree(index_dir, ignore_errors=True)
    write_articles(articles, args.articles)
    settings = ServiceSettings(index_dir=index_dir, sources=[articles])
    embedder = make_embedder(settings)
    print(f"{args.articles} articles in {articles}; model {embedder.name}, CPU", flush=True)

    def timed(label: str, model: Embedder = embedder) -> BuildReport:
        began = time.perf_counter()
        report = build_index([articles], settings, model, progress=False)
        show(label, report, time.perf_counter() - began)
        return report

    if args.stand_in_base:
        report = timed("full build (stand-in)", StandIn(embedder.name, embedder.dimension))
        sample = sentence_pool()[:400]
        if settings.passage_vectors == "encoded":  # passages are read by the model too
            sample += [" ".join(sample[i : i + 6]) for i in range(0, 400, 6)]
        rate = throughput(embedder, sample)
        rest = sum(v for k, v in report.timings.items() if k != "embed")
        # The generated articles reuse a pool of sentences, which a build embeds once each; a
        # real corpus repeats few, so the figure for all-distinct text is printed too.
        every = report.manifest.sentence_count
        if settings.passage_vectors == "encoded":
            every += report.manifest.passage_count
        print(
            f"{'':<22} real model: {rate:.0f} texts/s on a sample -> full build "
            f"~{report.embedded / rate + rest:.0f}s ({report.embedded / rate:.0f}s embedding "
            f"{report.embedded} distinct texts; ~{every / rate:.0f}s if all {every} were distinct)"
        )
    else:
        report = timed("full build")
    print(
        f"{'':<22} {report.manifest.document_count} documents, "
        f"{report.manifest.passage_count} passages, {report.manifest.sentence_count} sentences"
    )
    timed("no change")
    changed = articles / f"article-{args.articles // 2:05d}.txt"
    append_correction(changed)
    report = timed("1 article changed")
    embed_io = sum(report.timings.get(part, 0.0) for part in ("embed", "reuse", "write"))
    print(f"{'':<22} embedding + I/O of the incremental build: {embed_io:.2f}s")
    if args.busy_articles:
        busy = sorted(articles.iterdir())[: args.busy_articles]
        query_latency(settings, embedder, busy)
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
