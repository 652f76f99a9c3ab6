"""``python -m benchmarks.memory``: the service's resident memory across in-process reindexes.

A real ``python -m service`` process over the first ``--limit`` documents of a JSONL corpus
(default: the news-2023 dev set's pages, real news of about 1,000 words each), with an admin
key. Its resident set (``VmRSS``) is read after start and a warm-up of queries, then after
each of ``--rounds`` ``POST /admin/reindex?full=true`` (every article embedded again, the most
a reindex does) and the same queries; printed as a table with the peak (``VmHWM``). What
matters is the last column: memory a reindex takes and does not give back.

    python -m benchmarks.memory [--corpus FILE.jsonl] [--limit 1000] [--rounds 3]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from benchmarks.questions import require_beir
from benchmarks.speed import REPO, memory_mb, peak_rss_mb, start_service
from benchmarks.speed_quality import DATA, read_jsonl
from service.testing import free_port

KEY = "bench-memory-key"
NEWS = REPO / "data" / "news-2023"


def rss_mb(pid: int) -> float:
    return memory_mb(pid, "VmRSS")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=NEWS / "corpus.jsonl", help="JSONL")
    parser.add_argument("--limit", type=int, default=1000, help="documents of the corpus")
    parser.add_argument("--rounds", type=int, default=3, help="full reindexes")
    args = parser.parse_args()
    require_beir(DATA)
    if not args.corpus.is_file():
        sys.exit(f"error: no corpus at {args.corpus} (see benchmarks/news.py to build it)")
    questions = [q["text"] for q in read_jsonl(DATA / "queries.jsonl")][:200]
    env = {
        **os.environ,
        "NEWSQA_ONNX_CACHE_DIR": str(REPO / ".cache" / "onnx"),
        "NEWSQA_API_KEY": KEY,
        "PYTHONPATH": str(REPO),
    }
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        work = Path(tmp)
        (work / "articles").mkdir()
        documents = list(read_jsonl(args.corpus))[: args.limit]
        with (work / "articles" / "corpus.jsonl").open("w", encoding="utf-8") as out:
            out.writelines(json.dumps(doc) + "\n" for doc in documents)
        words = sum(len(doc["text"].split()) for doc in documents)
        index_dir = work / "index"
        subprocess.run(
            [sys.executable, "-m", "indexer", str(work / "articles"), "--index-dir",
             str(index_dir), "-q"],
            check=True, env=env, cwd=REPO,
        )  # fmt: skip
        env["NEWSQA_SOURCES"] = f'["{work / "articles"}"]'
        port = free_port()
        process, _ = start_service(index_dir, port, env)
        rows: list[tuple[str, float, float, float]] = []
        passages = 0
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as http:

                def ask_all() -> None:
                    for question in questions:
                        http.get("/search", params={"q": question, "k": 5}).raise_for_status()

                ask_all()
                started = rss_mb(process.pid)
                rows.append(("started, 200 queries", started, peak_rss_mb(process.pid), 0.0))
                auth = {"Authorization": f"Bearer {KEY}"}
                for round_ in range(1, args.rounds + 1):
                    reply = http.post("/admin/reindex", params={"full": "true"}, headers=auth)
                    reply.raise_for_status()
                    ask_all()
                    now = rss_mb(process.pid)
                    passages = reply.json()["passages"]
                    label = f"full reindex {round_} ({reply.json()['seconds']:.0f} s), queries"
                    rows.append((label, now, peak_rss_mb(process.pid), now - started))
        finally:
            process.terminate()
            process.wait(timeout=30)
    print(f"\n{words:,} words, {passages:,} passages\n")
    print("| after | RSS MB | peak MB | kept since start MB |\n| --- | ---: | ---: | ---: |")
    for label, rss, peak, kept in rows:
        print(f"| {label} | {rss:.0f} | {peak:.0f} | {kept:+.0f} |")


if __name__ == "__main__":
    main()
