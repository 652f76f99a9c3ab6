"""The README documents every setting that exists, by its environment variable."""

from pathlib import Path

from service.settings import ServiceSettings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented_in_the_readme() -> None:
    missing = [
        f"NEWSQA_{name.upper()}"
        for name in ServiceSettings.model_fields
        if f"`NEWSQA_{name.upper()}`" not in README
    ]
    assert not missing


def test_quickstart_is_the_two_make_commands() -> None:
    quickstart = README.split("## Quickstart", 1)[1].split("```", 2)[1]
    commands = [line.split("#")[0].strip() for line in quickstart.splitlines()[1:] if line.strip()]
    assert commands == ["make run", "make test"]


def test_every_code_fence_is_closed_before_the_next_heading() -> None:
    """An unclosed fence turns the rest of the README into code (it once swallowed a section)."""
    inside = None
    for number, line in enumerate(README.splitlines(), 1):
        if line.startswith("```"):
            inside = None if inside else number
        elif line.startswith("#") and inside:
            raise AssertionError(f"the code fence opened on line {inside} runs into a heading")
    assert inside is None
