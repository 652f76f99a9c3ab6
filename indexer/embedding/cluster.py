"""Embedding on a Ray cluster: the indexer's one heavy step, spread over the cluster's CPUs.

``python -m indexer PATH --ray ADDRESS`` builds the same generation as a single-node build
(same documents, passages, sentences, BM25 and manifest; reading, chunking and writing stay
on the driver, which is fast next to embedding) with the texts to embed sent through a Ray
Data pipeline: ``map_batches`` over a pool of embedder actors, each loading the model once,
as many as the cluster has CPUs for (one core each: the ONNX backend runs a batch on one core
best). It plugs into the build as an ``Embedder`` (the seam the backends share), so
incremental builds send only changed documents' texts to the cluster.

ADDRESS is ``local`` (start a cluster in this process, on this machine's cores), ``auto`` (the
cluster ``ray start --head`` runs here) or a cluster's address (``ray://host:10001``).

Vectors agree with a single-node build's to cosine >= 0.999 row by row, not bit for bit: the
int8 model quantizes activations per batch, and the actors' batches are not the driver's.
"""

import logging
import os
import socket
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from indexer.embedding.base import BaseEmbedder, Embedder, TokenSums
from indexer.errors import ClusterUnavailable
from indexer.settings import IndexSettings

log = logging.getLogger(__name__)

LOCAL = "local"


class _EmbedActor:
    """One model per actor, loaded when the actor starts; embeds the batches it is sent."""

    def __init__(self, settings: dict[str, Any]) -> None:
        from indexer.embedding import make_embedder

        self.embedder = make_embedder(IndexSettings(**settings, threads=1))

    def __call__(self, batch: Any) -> Any:
        """``batch``: a pandas frame of planned batches (their rows and texts)."""
        batch["sums"] = [
            list(self.embedder.encode_token_sums(list(texts)).sums) for texts in batch["texts"]
        ]
        return batch[["rows", "sums"]]


class RayEmbedder(BaseEmbedder):
    """An ``Embedder`` for indexing whose ``encode_token_sums`` runs on a Ray cluster."""

    def __init__(self, settings: IndexSettings, address: str, local: Embedder) -> None:
        connect(address)
        import ray

        logging.getLogger("ray.data").setLevel(logging.WARNING)  # a line per stage otherwise
        self.settings = settings
        self.local = local
        """The same model on the driver, for what is not worth a trip to the cluster."""
        self.name, self.dimension = local.name, local.dimension
        self.backend = f"{local.backend} (ray)"
        self.actors = max(1, int(ray.cluster_resources().get("CPU", 1)))

    def encode_query(self, text: str) -> np.ndarray:
        return self.local.encode_query(text)

    def encode_token_sums(self, texts: Sequence[str], progress: bool = False) -> TokenSums:
        plan = self.local.batch_plan(texts)
        if len(plan) <= 1:  # not worth a trip to the cluster
            return self.local.encode_token_sums(texts, progress)
        import ray.data

        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = progress
        # One item per planned batch, sent whole to one actor: the batches the driver's own
        # embedder would encode, so the vectors are the ones it would make.
        batches = ray.data.from_items(
            [{"rows": rows, "texts": [texts[i] for i in rows]} for rows in plan]
        )
        embedded = batches.map_batches(
            _EmbedActor,
            fn_constructor_kwargs={"settings": self._actor_settings()},
            batch_size=1,
            concurrency=min(self.actors, len(plan)),
            num_cpus=1,
            batch_format="pandas",
        )
        sums = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for batch in embedded.iter_batches(batch_format="pandas", batch_size=None):
            for rows, found in zip(batch["rows"], batch["sums"], strict=True):
                sums[list(rows)] = np.stack(found)
        log.info("embedded %d texts on %d ray actors", len(texts), self.actors)
        return TokenSums(sums)

    def _actor_settings(self) -> dict[str, Any]:
        """What an actor needs to load the same model the same way (paths made absolute:
        actors may run in another directory)."""
        fields = ("model_path", "model_name", "embedding_backend", "batch_size", "onnx_cache_dir")
        values = self.settings.model_dump(include=set(fields))
        for key in ("model_path", "onnx_cache_dir"):
            if values.get(key) is not None:
                values[key] = str(os.path.abspath(values[key]))
        return values


def connect(address: str) -> None:
    """Join (or, ``local``, start) the Ray cluster at ``address`` unless this process has;
    ``ClusterUnavailable`` in seconds when Ray is missing or nothing answers there."""
    try:
        import ray
    except ImportError as exc:
        raise ClusterUnavailable(f"--ray needs Ray: pip install -e '.[ray]' ({exc})") from exc
    if ray.is_initialized():
        return
    _check_reachable(address)
    if address == LOCAL:
        ray.init(
            num_cpus=os.cpu_count(),
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
    else:
        ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Refuse a cluster address nothing answers at, in seconds: Ray itself retries an
    unreachable one for minutes before it gives up."""
    if address in (LOCAL, "auto"):
        return
    parts = urlsplit(address if "://" in address else f"ray://{address}")
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None:
        raise ClusterUnavailable(
            f"--ray {address!r} is not 'local', 'auto' or a cluster address (host:port)"
        )
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except OSError as exc:
        raise ClusterUnavailable(f"cannot reach the Ray cluster at {address}: {exc}") from exc
