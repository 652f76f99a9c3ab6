"""The web page for people: ``/`` asks, ``/view`` shows a cited document, ``/docs`` is the
API's Swagger UI, ``/static`` serves their scripts and styles.

The page is static files that render the JSON API's answers in the browser, so the page and
the API cannot disagree. Every response carries a strict Content-Security-Policy: scripts and
styles come only from this origin and nothing inline runs, so even a bug that inserted text as
HTML could not execute it.
"""

import os
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from starlette.responses import Response
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

STATIC = Path(__file__).resolve().parent / "static"
# Swagger UI's release files, as the fastapi-offline package ships them.
SWAGGER_UI = Path(fastapi_offline.__file__).resolve().parent / "static"

PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # A browser revalidates, so a new release's page never runs last release's script.
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


# HEAD too: `curl -I` and uptime checkers probe a page that way.
@router.api_route("/", methods=["GET", "HEAD"])
@router.api_route("/view", methods=["GET", "HEAD"])
def page() -> FileResponse:
    """The page: ``/`` asks; ``/view?doc=ID&start=N&end=M`` shows a document with the cited
    span highlighted. One HTML file; its script picks the view from the path."""
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=PAGE_HEADERS)


@router.get("/docs")
def api_docs() -> FileResponse:
    """Swagger UI over ``/openapi.json``, from files served here (FastAPI's own page loads it
    from a CDN, blank offline, and starts it with an inline script this policy forbids)."""
    return FileResponse(STATIC / "docs.html", media_type="text/html", headers=PAGE_HEADERS)


class _SecureStaticFiles(StaticFiles):
    """Static files with the same security headers as the pages."""

    def file_response(
        self, full_path: PathLike, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(PAGE_HEADERS)
        return response


def install_web(app: FastAPI) -> None:
    """Add the pages and their static assets to ``app``."""
    app.include_router(router)
    app.mount("/static", _SecureStaticFiles(directory=STATIC), name="static")
    app.mount("/docs/assets", _SecureStaticFiles(directory=SWAGGER_UI), name="docs-assets")
