"""``/health`` (the process is up) and ``/ready`` (an index is loaded, and which)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from service.api.deps import live_index
from service.api.routes.search import ERRORS
from service.engine.live import LiveIndex
from service.schemas import Health, Ready

router = APIRouter(tags=["status"])


@router.get("/health", response_model=Health)
def health() -> Health:
    """The process is up (says nothing about the index; see ``/ready``)."""
    return Health(status="ok")


@router.get("/ready", response_model=Ready, responses=ERRORS)
def ready(request: Request, live: Annotated[LiveIndex, Depends(live_index)]) -> Ready:
    """The live index: its generation, build time, model and counts, and whether it is stale
    because reindexing fails; 503 while there is none."""
    manifest = live.searcher().snapshot.manifest
    indexing = request.app.state.reindexer.status
    return Ready(
        status="ready",
        generation=manifest.generation,
        built_at=manifest.built_at,
        model=manifest.model_name,
        documents=manifest.document_count,
        passages=manifest.passage_count,
        sentences=manifest.sentence_count,
        stale=indexing.stale,
        indexing_error=indexing.error,
        failing_since=indexing.failing_since,
    )
