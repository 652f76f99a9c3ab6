"""``POST /documents`` and ``DELETE /documents/{doc_id}``: articles pushed over HTTP (admin key).

The body is read here rather than by FastAPI so that one route takes both a JSON object
(``{"documents": [...]}``) and a JSONL body (``Content-Type: application/x-ndjson``, one
document a line, as a CMS export or ``jq -c`` writes it), validated by the same model.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from service.api.deps import live_index, settings
from service.api.routes.admin import KEY_ERRORS
from service.api.routes.search import ERRORS
from service.auth import check_bearer
from service.engine import pushing
from service.engine.live import LiveIndex
from service.errors import BadQuery, UnsupportedBody, describe_validation_errors
from service.schemas import DeleteResponse, ErrorResponse, PushedDocument, PushRequest, PushResponse
from service.settings import ServiceSettings

router = APIRouter(tags=["documents"])

JSON_TYPES = ("application/json",)
JSONL_TYPES = ("application/x-ndjson", "application/jsonl", "application/x-jsonlines")
ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    **KEY_ERRORS,
    409: {
        "model": ErrorResponse,
        "description": "The document comes from a source file, or the index stayed locked.",
    },
    **ERRORS,
}
PUSH_BODY = {
    "requestBody": {
        "required": True,
        "description": (
            "A JSON object, or JSONL (Content-Type: application/x-ndjson): one document "
            "object a line."
        ),
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PushRequest"}}},
    }
}


@router.post(
    "/documents",
    response_model=PushResponse,
    responses={
        **ADMIN_ERRORS,
        415: {"model": ErrorResponse, "description": "A body neither JSON nor JSONL."},
    },
    openapi_extra=PUSH_BODY,
)
async def push_documents(
    request: Request,
    config: Annotated[ServiceSettings, Depends(settings)],
    live: Annotated[LiveIndex, Depends(live_index)],
    authorization: Annotated[str | None, Header()] = None,
) -> PushResponse:
    """Add or replace articles; answers once they are searchable. Stored under the index
    folder, so that restarts and full rebuilds keep them."""
    check_bearer(config, authorization)
    body = _read(await request.body(), request.headers.get("content-type", ""))
    return await run_in_threadpool(
        pushing.push, body, request.app.state.pushed, request.app.state.reindexer, live.snapshot()
    )


@router.delete(
    "/documents/{doc_id:path}",
    response_model=DeleteResponse,
    responses={
        404: {"model": ErrorResponse, "description": "No such pushed document."},
        **ADMIN_ERRORS,
    },
)
async def delete_document(
    request: Request,
    doc_id: str,
    config: Annotated[ServiceSettings, Depends(settings)],
    live: Annotated[LiveIndex, Depends(live_index)],
    authorization: Annotated[str | None, Header()] = None,
) -> DeleteResponse:
    """Remove a pushed article; answers once searches no longer find it."""
    check_bearer(config, authorization)
    return await run_in_threadpool(
        pushing.delete,
        doc_id,
        request.app.state.pushed,
        request.app.state.reindexer,
        live.snapshot(),
    )


def _read(body: bytes, content_type: str) -> PushRequest:
    """The request model of a JSON or JSONL body; a line's problems name its line."""
    kind = content_type.partition(";")[0].strip().lower()
    if kind in JSON_TYPES or not kind:
        return PushRequest.model_validate_json(body or b"{}")
    if kind not in JSONL_TYPES:
        raise UnsupportedBody(
            f'cannot read a {kind} body: send application/json ({{"documents": [...]}}) or '
            "application/x-ndjson (one document a line)"
        )
    documents = []
    for number, line in enumerate(body.splitlines(), start=1):
        if line.strip():
            try:
                documents.append(PushedDocument.model_validate_json(line))
            except ValidationError as exc:
                problems = describe_validation_errors(exc.errors())
                raise BadQuery(f"line {number}: {problems}") from None
    return PushRequest(documents=documents)
