"""The same sentence-transformers model run by onnxruntime, in fp32 or dynamically quantized int8.

Serving needs only ``tokenizers`` and ``onnxruntime`` (no torch import, so the service starts in
about a second). The ONNX files are exported once from the local model folder with
sentence-transformers' own exporter into ``onnx_cache_dir`` (the Docker image does it at build
time), then quantized by onnxruntime's quantizer; exporting needs torch, and happens only when
the cache lacks the file.

Inference is the model's own recipe done by hand: tokenize (truncated at the model's
``max_seq_length``), run the transformer, mean-pool over the attention mask, L2-normalise.
Texts are sorted by token count before batching so a batch pads to similar lengths.
"""

import contextlib
import json
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from indexer.embedding.base import BaseEmbedder, TokenSums
from indexer.embedding.onnx_export import ensure_export
from indexer.errors import EmbeddingModelError


class _Session:
    """One onnxruntime session on one model file, with ``threads`` threads per inference, opened
    on first use (or ahead of it by ``open_early``)."""

    def __init__(self, file: Path, threads: int = 1) -> None:
        self.file = file
        self.threads = threads
        self._session: Any = None
        self._token_types = False
        self._shrink: Any = None
        self._lock = threading.Lock()

    def open_early(self, *also: "_Session") -> None:
        """Open the session (then ``also`` these) on a background thread; a failure is raised
        again, to the caller, by the first inference."""

        def open_quietly() -> None:
            for session in (self, *also):
                with contextlib.suppress(EmbeddingModelError):
                    session._ready()

        threading.Thread(target=open_quietly, name="onnx-session", daemon=True).start()

    def token_sums(self, ids: list[list[int]], shrink: bool = False) -> np.ndarray:
        """Token-embedding sums of a batch of tokenized texts. ``shrink``: give the memory
        onnxruntime's arena took for this run back afterwards (passage batches: a build's
        large activations would otherwise stay with the arena, and the process, for good)."""
        session = self._ready()
        width = max(len(row) for row in ids)
        input_ids = np.zeros((len(ids), width), dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for i, row in enumerate(ids):
            input_ids[i, : len(row)] = row
            mask[i, : len(row)] = 1
        feed: dict[str, Any] = {"input_ids": input_ids, "attention_mask": mask}
        if self._token_types:
            feed["token_type_ids"] = np.zeros_like(input_ids)
        tokens = session.run(None, feed, self._shrink if shrink else None)[0]
        sums = np.einsum("btd,bt->bd", tokens, mask.astype(np.float32))
        return sums.astype(np.float32, copy=False)

    def _ready(self) -> Any:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    session = self._open()
                    names = {i.name for i in session.get_inputs()}
                    self._token_types = "token_type_ids" in names
                    self._session = session
        return self._session

    def _open(self) -> Any:
        try:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            self._shrink = ort.RunOptions()
            self._shrink.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
            return ort.InferenceSession(str(self.file), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors on bad files
            raise EmbeddingModelError(f"cannot load the ONNX model {self.file}: {exc}") from exc


class OnnxEmbedder(BaseEmbedder):
    """A mean-pooling sentence-transformers model (such as all-MiniLM-L6-v2) on onnxruntime.

    Single-threaded sessions, called from ``threads`` threads at once (but for a query alone
    in the service, ``encode_lone_query``): passage batches are spread over a thread pool, and
    the service runs ``parallel_queries`` queries at a time. Measured on the 2-core machine:
    two one-thread inferences side by side encoded passages 1.2-1.8x faster than one two-thread
    inference, and a one-thread query was twice as fast as a two-thread one under load; a
    thread pool inside one inference stalls whenever the machine deschedules one of its
    threads, two independent inferences do not.

    int8 runs two files of the same quantized model: a fused graph for single queries and the
    plain one for batches (see ``_fuse``). A session (importing onnxruntime and loading the
    model, ~0.1-0.3 s) is opened by a background thread from construction on, the queries' one
    when ``serving`` (the service's first inference is a query), else the passages' one (an
    indexer run reads and chunks its articles meanwhile); the other opens on first use.
    """

    def __init__(
        self,
        model_path: Path,
        name: str,
        cache_dir: Path,
        quantized: bool = True,
        batch_size: int = 16,
        threads: int = 2,
        serving: bool = False,
    ) -> None:
        export = ensure_export(model_path, cache_dir, quantized)
        self.name = name
        self.quantized = quantized
        self.backend = f"onnx-int8 ({export.passages})" if quantized else "onnx"
        self.batch_size = batch_size
        self.parallel_queries = threads
        self.query_batch_limit = 1 if quantized else 64
        self.max_length, self.dimension = _read_recipe(export.folder)
        self._threads = threads
        self._passages = _Session(export.folder / export.passages)
        self._queries = (
            _Session(export.folder / export.queries)
            if export.queries != export.passages
            else self._passages
        )
        self._lone_queries = (
            _Session(self._queries.file, threads) if quantized and threads > 1 else self._queries
        )
        try:
            from tokenizers import Tokenizer

            self._tokenizer = Tokenizer.from_file(str(export.folder / "tokenizer.json"))
        except Exception as exc:  # tokenizers raises untyped errors on bad files
            raise EmbeddingModelError(
                f"cannot load the tokenizer of {export.folder}: {exc}"
            ) from exc
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(self.max_length)
        if serving:
            self._queries.open_early(self._lone_queries)
        else:
            self._passages.open_early()

    def encode_query(self, text: str) -> np.ndarray:
        return self._query_vector(text, self._queries)

    def encode_lone_query(self, text: str) -> np.ndarray:
        """``encode_query`` for a query its caller knows to be the only one in flight: it runs
        on all ``threads`` cores (measured at one client, fused int8 graph, 2 cores: 1.64
        against 2.38 ms), where queries side by side serve more of them each on one core (see
        the class docstring). The vectors are the same to the bit (int8 products sum exactly,
        whichever thread computes them; tested)."""
        return self._query_vector(text, self._lone_queries)

    def _query_vector(self, text: str, session: _Session) -> np.ndarray:
        ids = [self._tokenizer.encode(text).ids]
        return TokenSums(session.token_sums(ids)).vectors()[0]

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Several queries at once: what the service's micro-batcher calls.

        Dynamic int8 quantization scales activations per tensor, so a query's vector would
        depend on which other queries shared its batch (cosine ~0.98 between the two). A query
        must get the same answer whatever the load, so the int8 model encodes them one by one.
        """
        if self.quantized:
            return np.stack([self.encode_query(text) for text in texts])
        ids = [e.ids for e in self._tokenizer.encode_batch(list(texts))]
        return TokenSums(self._queries.token_sums(ids)).vectors()

    def batch_plan(self, texts: Sequence[str]) -> list[list[int]]:
        return self._plan(self._tokenizer.encode_batch(list(texts)))

    def _plan(self, encodings: Sequence[Any]) -> list[list[int]]:
        # Longest first, so the slowest batch shows early in the progress bar and padding is
        # limited to neighbours of similar length.
        order = sorted(range(len(encodings)), key=lambda i: -len(encodings[i].ids))
        return [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]

    def encode_token_sums(self, texts: Sequence[str], progress: bool = False) -> TokenSums:
        sums = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return TokenSums(sums)
        encodings = self._tokenizer.encode_batch(list(texts))
        batches = self._plan(encodings)

        def encode(rows: list[int]) -> None:
            sums[rows] = self._passages.token_sums([encodings[i].ids for i in rows], shrink=True)

        with ThreadPoolExecutor(self._threads) as pool:
            done: Iterable[None] = pool.map(encode, batches)
            if progress:
                from tqdm import tqdm

                done = tqdm(done, total=len(batches), desc="embedding", unit="batch")
            for _ in done:
                pass
        return TokenSums(sums)


def _read_recipe(folder: Path) -> tuple[int, int]:
    """Max sequence length and dimension, refusing models this backend would pool wrongly."""
    try:
        config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EmbeddingModelError(f"{folder} is not a sentence-transformers export: {exc}") from exc
    # sentence-transformers 5 writes ``pooling_mode``; older folders carry one flag per mode.
    mode = pooling.get("pooling_mode") or next(
        (
            key[len("pooling_mode_") : -len("_tokens")]
            for key, on in pooling.items()
            if on is True and key.startswith("pooling_mode_")
        ),
        None,
    )
    if mode != "mean":
        raise EmbeddingModelError(
            f"{folder}: the ONNX backend does mean pooling only (this model pools by {mode}); "
            "use embedding_backend=torch"
        )
    dimension = pooling.get("embedding_dimension") or pooling.get("word_embedding_dimension")
    return int(config.get("max_seq_length", 256)), int(dimension)
