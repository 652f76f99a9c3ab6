"""The README and docs/: every setting documented, the two-command Quickstart, every code
fence closed, every link between the pages pointing at a page and heading that exist."""

import re
from pathlib import Path

import pytest

from service.settings import ServiceSettings

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def test_every_setting_is_documented() -> None:
    configuration = (REPO / "docs" / "operating.md").read_text(encoding="utf-8")
    missing = [
        f"NEWSQA_{name.upper()}"
        for name in ServiceSettings.model_fields
        if f"`NEWSQA_{name.upper()}`" not in configuration
    ]
    assert not missing


def _anchors(page: Path) -> set[str]:
    """GitHub's anchors for the headings of ``page``."""
    headings = re.findall(r"(?m)^#+ (.+)$", page.read_text(encoding="utf-8"))
    return {re.sub(r"[^\w\- ]", "", h.lower().strip()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if target.startswith(("http://", "https://")):
            continue
        file, _, anchor = target.partition("#")
        linked = (page.parent / file).resolve() if file else page
        if not linked.exists() or (anchor and anchor not in _anchors(linked)):
            broken.append(target)
    assert not broken


def test_quickstart_is_the_two_make_commands() -> None:
    quickstart = README.split("## Quickstart", 1)[1].split("```", 2)[1]
    commands = [line.split("#")[0].strip() for line in quickstart.splitlines()[1:] if line.strip()]
    assert commands == ["make run", "make test"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_code_fence_is_closed_before_the_next_heading(page: Path) -> None:
    """An unclosed fence turns the rest of a page into code (it once swallowed a section)."""
    inside = None
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```"):
            inside = None if inside else number
        elif line.startswith("#") and inside:
            raise AssertionError(f"the code fence opened on line {inside} runs into a heading")
    assert inside is None
