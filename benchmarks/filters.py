"""What a filter costs, and whether a narrow one still returns k results.

``python -m benchmarks.filters [--set data/news-2023] [--questions 200] [--copies 3]``

In-process, over the news dev set's index (real pages with publication dates; ids
``rtq-<hash>``, so an id prefix keeps a fixed share of them): every question searched with
k=10 without a filter, with a broad one (published in the second half of the week's dates),
and with narrow ones (a doc_id prefix keeping about 6% and 0.4% of the articles). Prints the
share of passages each keeps, the p50 and p95 of a search, and the share of searches that
returned all k results although the filter allowed at least k passages.

``--copies C`` searches a stand-in corpus C times as large instead (C=3: 116k passages): the
dev set's pages C times over, as ``copy-<c>/<id>``, each page's copies under one of 100
publishers (``outlet-00`` ...), so that a source filter keeps 1% of it; the vectors are the
real ones, tiled (copies chunk as the originals did). Built once into the temp folder.
"""

import argparse
import shutil
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmarks.evaluate import cached_index
from benchmarks.questions import load_questions
from benchmarks.speed import write_tiled
from indexer import Embedder, IndexStore, make_embedder
from indexer.errors import IndexerError
from service.engine.filtering import DocumentFacets
from service.engine.query import Filters, SearchQuery
from service.engine.search import Searcher
from service.schemas import SearchRequest
from service.settings import ServiceSettings

REPO = Path(__file__).resolve().parent.parent
K = 10


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.filters", description=__doc__)
    parser.add_argument("--set", type=Path, default=REPO / "data" / "news-2023")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument(
        "--copies", type=int, default=1, help="a stand-in corpus this many times as large"
    )
    args = parser.parse_args(argv)
    if not (args.set / "corpus.jsonl").is_file():
        print(f"error: no dev set in {args.set}; see python -m benchmarks.news --help")
        return 1
    settings = ServiceSettings(**{})
    embedder = make_embedder(settings)
    index_dir = cached_index(args.set / "corpus.jsonl", settings, embedder)
    if args.copies > 1:
        index_dir = stand_in(index_dir, embedder, args.copies)
    snapshot = IndexStore(index_dir).open(embedder.name, embedder.dimension)
    searcher = Searcher(snapshot, embedder)
    questions = load_questions(args.set / "queries.jsonl", args.set / "qrels" / "dev.tsv")
    texts = [q.text for q in questions[: args.questions]]
    dates = sorted(doc.published for doc in snapshot.documents if doc.published)
    middle = dates[len(dates) // 2]
    cases = {
        "none": Filters(),
        f"published_after={middle} (broad)": SearchRequest(
            query="x", published_after=middle
        ).filters(),
        "doc_id_prefix=rtq-0 (narrow)": Filters(doc_id_prefix="rtq-0"),
        "doc_id_prefix=rtq-00 (narrowest)": Filters(doc_id_prefix="rtq-00"),
    }
    if args.copies > 1:
        cases = {
            **{name: f for name, f in cases.items() if "rtq-" not in name},
            "source=outlet-07 (1% of the documents)": Filters(sources=("outlet-07",)),
            "doc_id_prefix=copy-0/rtq-00 (narrowest)": Filters(doc_id_prefix="copy-0/rtq-00"),
        }
    facets = DocumentFacets(snapshot)
    print(f"{len(snapshot.passages)} passages, {len(texts)} questions, k={K}\n")
    print("| filter | passages kept | search p50 ms | p95 ms | k results when k exist |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, filters in cases.items():
        mask = facets.passage_mask(filters)
        kept = len(snapshot.passages) if mask is None else int(mask.sum())
        seconds, full = [], []
        for text in texts:
            began = time.perf_counter()
            hits = searcher.search(SearchQuery(text, K, filters))
            seconds.append(time.perf_counter() - began)
            if kept >= K:
                full.append(len(hits) == K)
        p50 = statistics.median(seconds) * 1000
        p95 = float(np.percentile(seconds, 95)) * 1000
        share = f"{np.mean(full):.3f}" if full else "-"
        print(
            f"| {name} | {kept} ({kept / len(snapshot.passages):.1%}) | {p50:.2f} | {p95:.2f} "
            f"| {share} |"
        )
    return 0


def stand_in(index_dir: Path, embedder: Embedder, copies: int) -> Path:
    """The generation of ``index_dir`` ``copies`` times over (see the module docstring)."""
    large = index_dir.with_name(f"{index_dir.name}-x{copies}")
    try:
        IndexStore(large).open(embedder.name, embedder.dimension)
        return large
    except IndexerError:
        shutil.rmtree(large, ignore_errors=True)
    originals = IndexStore(index_dir).open(embedder.name, embedder.dimension).documents
    documents = [
        replace(
            doc,
            doc_id=f"copy-{copy}/{doc.doc_id}",
            source=f"outlet-{row % 100:02d}",
            content_hash="",
            indexed_at=None,
        )
        for copy in range(copies)
        for row, doc in enumerate(originals)
    ]
    print(f"building a stand-in corpus of {len(documents)} documents in {large} ...")
    write_tiled(documents, index_dir, copies, large)
    return large


if __name__ == "__main__":
    sys.exit(main())
