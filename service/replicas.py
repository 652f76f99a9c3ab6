"""Replicated serving on Ray Serve: ``python -m service --ray ADDRESS --replicas R``.

The same app as single-node serving (``create_app``: every route, ``/mcp``, the web page, the
middleware) runs in R replicas of one Ray Serve deployment behind Ray Serve's HTTP proxy, as
a FastAPI ingress built on each replica (the builder runs there, so each replica loads its
own model and opens the index folder itself). Each replica reserves one CPU and runs its
model on it. Hot swap is the single-node one, per replica: each polls the index folder's
``CURRENT`` and swaps a new generation in between requests, whoever wrote it; with
``--watch`` one replica (the one that claims the folder) reindexes the sources and the others
follow. The folder must be one that every replica's machine sees (a local cluster, or a
shared file system).

Nothing here schedules or routes by hand: Ray Serve places the replicas, balances requests
over them and restarts one that dies.
"""

import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from indexer.embedding.cluster import connect
from service.api.app import create_app
from service.settings import ServiceSettings

log = logging.getLogger(__name__)

APP_NAME = "newsqa"


def start_replicas(settings: ServiceSettings, address: str, replicas: int) -> Any:
    """Deploy ``replicas`` replicas of the app on the cluster at ``address`` (``local``,
    ``auto`` or ``ray://host:port``), listening on ``settings.host:settings.port``; returns
    once every replica is ready to answer. ``stop_replicas`` undoes it."""
    connect(address)
    from ray import serve

    each = settings.model_copy(update={"threads": 1, "workers": 1, **_absolute_paths(settings)})

    def build() -> FastAPI:
        return create_app(each)

    deployment = serve.deployment(
        name="newsqa",
        num_replicas=replicas,
        ray_actor_options={"num_cpus": 1},
        # A replica is healthy while its process answers; readiness stays /ready's to say.
        health_check_period_s=10,
        # As a single server's NEWSQA_GRACEFUL_SHUTDOWN_SECONDS: in-flight requests finish.
        graceful_shutdown_wait_loop_s=1,
        graceful_shutdown_timeout_s=settings.graceful_shutdown_seconds,
    )(serve.ingress(build)())
    serve.start(http_options={"host": settings.host, "port": settings.port})
    return serve.run(deployment.bind(), name=APP_NAME, route_prefix="/")


def stop_replicas() -> None:
    """Take the replicas and Ray Serve's proxy down (the cluster stays)."""
    from ray import serve

    serve.shutdown()


def _absolute_paths(settings: ServiceSettings) -> dict[str, Any]:
    """The settings' paths made absolute: replicas run in Ray's working directories, where
    ``index`` would name another folder."""
    fixed: dict[str, Any] = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, Path):
            fixed[name] = value.absolute()
        elif isinstance(value, list) and all(isinstance(item, Path) for item in value):
            fixed[name] = [item.absolute() for item in value]
    return fixed
