"""``python -m indexer [PATH ...] [--index-dir DIR] [--full] [--watch] [--ray ADDRESS]
[--feed URL_OR_FILE ... [--every SECONDS] [--fetch-pages]]``: build the index."""

import argparse
import logging
import sys
from pathlib import Path
from typing import NoReturn

from indexer.embedding import make_embedder
from indexer.errors import IndexerError
from indexer.settings import IndexSettings, load_settings
from indexer.terminal import exit_now, quiet_library_probes


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m indexer",
        description=(
            "Read articles (.txt, .md, .html, .jsonl) from folders or files, cut them into "
            "passages with exact character offsets, embed them and write a new index "
            "generation, made live in one atomic step. Incremental: only added or changed "
            "documents are embedded. One indexer writes an index folder at a time; a second "
            "one waits for it (up to NEWSQA_LOCK_TIMEOUT_SECONDS)."
        ),
    )
    parser.add_argument(
        "paths", nargs="*", type=Path, help="folders or files to index (default: seeds/)"
    )
    parser.add_argument("--index-dir", type=Path, help="where the index lives (default: index/)")
    parser.add_argument(
        "--full", action="store_true", help="re-embed every document, not only changed ones"
    )
    parser.add_argument(
        "--watch",
        action="store_true",
        help="after building, keep watching the paths and reindex when they change",
    )
    parser.add_argument(
        "--ray",
        metavar="ADDRESS",
        help=(
            "embed on a Ray cluster: 'local' (start one on this machine), 'auto' (the one "
            "running here) or its address (ray://host:10001); needs the ray extra"
        ),
    )
    parser.add_argument(
        "--feed",
        action="append",
        metavar="URL_OR_FILE",
        help=(
            "import an RSS or Atom feed's entries as pushed articles (stored in the index "
            "folder) before building; repeatable. Without PATHs, only pushed articles are read"
        ),
    )
    parser.add_argument(
        "--every",
        type=float,
        metavar="SECONDS",
        help="with --feed: import the feeds and rebuild again every SECONDS, until stopped",
    )
    parser.add_argument(
        "--fetch-pages",
        action="store_true",
        help="with --feed: index the article page each entry links to, not the entry's text",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="only print errors")
    args = parser.parse_args(argv)
    if (args.every is not None or args.fetch_pages) and not args.feed:
        parser.error("--every and --fetch-pages need --feed")
    if args.every is not None and args.every <= 0:
        parser.error("--every must be a positive number of seconds")
    if args.every is not None and args.watch:
        parser.error("--every and --watch are two ways to keep running: choose one")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    quiet_library_probes()
    overrides: dict[str, object] = {}
    if args.paths or args.feed:
        overrides["sources"] = args.paths
    if args.index_dir:
        overrides["index_dir"] = args.index_dir
    try:
        settings = load_settings(IndexSettings, **overrides)
        embedder = make_embedder(settings)  # starts opening the model in the background
        if args.ray:
            from indexer.embedding.cluster import RayEmbedder

            embedder = RayEmbedder(settings, args.ray, embedder)
        # Imported only now, while the model opens (see indexer/__init__.py).
        from indexer.build import build_index
        from indexer.watch import watch_sources

        def build(full: bool = False) -> None:
            report = build_index(settings.sources, settings, embedder, full=full)
            print(report.summary(), flush=True)

        if args.feed:
            from indexer.feeds import follow_feeds

            follow_feeds(args.feed, settings.index_dir, args.fetch_pages, args.every, build)
            return 0
        build(full=args.full)
        if args.watch:
            watch_sources(
                settings.sources, settings.index_dir, settings.watch_debounce_seconds, build
            )
    except IndexerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a full disk, a folder that vanished: one line, not a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def run() -> NoReturn:
    """The console script's entry point: ``main``, then ``exit_now``."""
    exit_now(main())


if __name__ == "__main__":
    run()
