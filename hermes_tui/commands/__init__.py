"""The command-line subcommands that work without the full screen: doctor, status, setup.

They reuse the very domain code the wizard's screens use (``engine``, ``bridge``,
``profile``, ``channels``, ``migration``) and print plain lines. Nothing here imports
Textual; the heavy client libraries are imported only by the command that needs them.

Output is TTY-aware (`Console`): symbols and colour only on a terminal that can show
them, ``ok``/``FAIL`` words and no escape codes when piped, on the Linux console, or when
``NO_COLOR`` is set.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from hermes_tui.settings import Settings
    from hermes_tui.state import LoadResult, StateStore, WizardState

#: Exit code when the progress file cannot be used (same as the wizard's).
EXIT_STATE_ERROR = 3

_SYMBOLS = {"ok": "✓", "fail": "✗", "skip": "-", "info": "·"}
_WORDS = {"ok": "ok", "fail": "FAIL", "skip": "skip", "info": "--"}
_COLOURS = {"ok": "32", "fail": "31", "skip": "33", "info": "2"}


def _env_flag(name: str) -> bool:
    return bool(os.environ.get(name))


@dataclass
class Console:
    """Where a command prints, and how: ``fancy`` marks and ``colour`` only on a real TTY."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    tty: bool = False
    fancy: bool = False
    colour: bool = False

    @classmethod
    def detect(cls, out: TextIO | None = None, err: TextIO | None = None) -> Console:
        out = out or sys.stdout
        err = err or sys.stderr
        try:
            tty = out.isatty()
        except (AttributeError, ValueError):
            tty = False
        term = os.environ.get("TERM", "")
        no_colour = "NO_COLOR" in os.environ or term == "dumb"
        plain_font = term == "linux" or _env_flag("HERMES_TUI_ASCII")
        return cls(
            out=out,
            err=err,
            tty=tty,
            fancy=tty and not plain_font and not no_colour,
            colour=tty and not no_colour,
        )

    def mark(self, kind: str) -> str:
        """The status mark for ``kind`` (ok, fail, skip, info), padded to one width."""
        text = (_SYMBOLS if self.fancy else _WORDS)[kind]
        text = text.ljust(1 if self.fancy else 4)
        if self.colour:
            return f"\x1b[{_COLOURS[kind]}m{text}\x1b[0m"
        return text

    def bold(self, text: str) -> str:
        return f"\x1b[1m{text}\x1b[0m" if self.colour else text

    def print(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def error(self, text: str) -> None:
        print(text, file=self.err, flush=True)


def settings_from(args: argparse.Namespace) -> Settings:
    """The same `Settings` the wizard builds from the same top-level options."""
    from hermes_tui.paths import Paths
    from hermes_tui.settings import DEFAULT_IMAGE, Settings

    claw = getattr(args, "claw_dir", None)
    return Settings(
        paths=Paths.resolve(getattr(args, "data_dir", None)),
        image=getattr(args, "image", None) or DEFAULT_IMAGE,
        docker_host=getattr(args, "docker_host", None),
        router_url=getattr(args, "router_url", None),
        claw_dir=Path(claw).expanduser() if claw else None,
    )


def load_state(settings: Settings, console: Console) -> tuple[StateStore, LoadResult]:
    """Read ``wizard.toml`` like the wizard does; raises ``StateError`` when it cannot.

    A damaged file is moved aside by the store; the notice goes to stderr.
    """
    from hermes_tui.state import StateStore

    store = StateStore(settings.paths.state_file)
    loaded = store.load()
    if loaded.notice:
        console.error(f"hermes-tui: {loaded.notice}")
    return store, loaded


@dataclass(frozen=True)
class Opened:
    """What a read-only command (doctor, status) starts from."""

    console: Console
    settings: Settings
    state: WizardState


def open_command(args: argparse.Namespace) -> Opened | None:
    """The start-up doctor and status share: the console, the settings from the same
    options the wizard takes, and the progress file read as the wizard reads it. None when
    that file cannot be used (said on stderr): exit with ``EXIT_STATE_ERROR``."""
    from hermes_tui.state import StateError

    console = Console.detect()
    settings = settings_from(args)
    try:
        _, loaded = load_state(settings, console)
    except StateError as exc:
        console.error(f"hermes-tui: {exc}")
        return None
    return Opened(console, settings, loaded.state)


def indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())
