"""Where the stylesheets are: ``styles/`` in the repository, ``hermes_tui/styles`` in the
wheel. ``app.tcss`` holds what the first screen needs (the shell every step shares); each
screen that needs its own rules names its file, which Textual reads when that screen is
first shown, so start-up parses only the shell's rules."""

from __future__ import annotations

from pathlib import Path


def styles_dir() -> Path:
    """``styles/`` beside the package when installed (wheel), else the repository's."""
    here = Path(__file__).resolve().parent.parent
    installed = here / "styles"
    return installed if installed.is_dir() else here.parent / "styles"


def stylesheet(name: str) -> Path:
    return styles_dir() / name
