"""``GET /tools``: the ``search`` and ``ask`` tools as OpenAI-style function definitions."""

from typing import Any

from fastapi import APIRouter

from service.tools import openai_tools

router = APIRouter(tags=["tools"])


@router.get("/tools")
def tools() -> list[dict[str, Any]]:
    """OpenAI-style tool definitions for ``search`` and ``ask``: send a call's arguments as the
    JSON body of ``POST /search`` or ``POST /ask``."""
    return openai_tools()
