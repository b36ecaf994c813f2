"""Status marks that read everywhere: Unicode in a modern terminal, ASCII on a Linux console."""

from __future__ import annotations

import os

from hermes_tui.progress import StepStatus

_UNICODE = {"done": "✓", "current": "▶", "pending": "·", "skipped": "↷", "failed": "✗"}
_ASCII = {"done": "+", "current": ">", "pending": "-", "skipped": "~", "failed": "x"}


def plain_console() -> bool:
    """The Linux virtual console's font lacks most symbols; so may a user who asks for ASCII."""
    return os.environ.get("TERM") == "linux" or bool(os.environ.get("HERMES_TUI_ASCII"))


def mark(kind: str | StepStatus) -> str:
    table = _ASCII if plain_console() else _UNICODE
    return table[str(kind)]
