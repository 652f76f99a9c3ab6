"""``python -m indexer [PATH ...] [--index-dir DIR]``: build the index from article files."""

import argparse
import logging
import sys
from pathlib import Path

from indexer.build import build_index
from indexer.embedding import make_embedder
from indexer.errors import IndexerError
from indexer.settings import IndexSettings


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m indexer",
        description=(
            "Read articles (.txt, .md, .html, .jsonl) from folders or files, cut them into "
            "passages with exact character offsets, embed them and write a new index "
            "generation, made live in one atomic step."
        ),
    )
    parser.add_argument(
        "paths", nargs="*", type=Path, help="folders or files to index (default: seeds/)"
    )
    parser.add_argument("--index-dir", type=Path, help="where the index lives (default: index/)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only print errors")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    overrides: dict[str, object] = {}
    if args.paths:
        overrides["sources"] = args.paths
    if args.index_dir:
        overrides["index_dir"] = args.index_dir
    settings = IndexSettings(**overrides)  # type: ignore[arg-type]
    try:
        embedder = make_embedder(settings)
        report = build_index(settings.sources, settings, embedder)
    except IndexerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    manifest = report.manifest
    print(
        f"indexed {manifest.document_count} documents, {manifest.passage_count} passages, "
        f"{manifest.sentence_count} sentences in {report.seconds:.1f}s "
        f"-> {settings.index_dir}/generations/{manifest.generation}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
