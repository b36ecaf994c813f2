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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from hermes_tui.lock import DataDirLock
    from hermes_tui.settings import Settings
    from hermes_tui.state import LoadResult, StateStore, WizardState

#: Exit code when the progress file cannot be used (same as the wizard's).
EXIT_STATE_ERROR = 3
#: Exit code when another hermes-tui is changing the data dir (the wizard, setup, migrate).
EXIT_BUSY = 5

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


def _stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def lock_data_dir(
    root: Path, *, wait: float = 0.0, hint: str = "", create: bool = True,
    err: Callable[[str], None] = _stderr, argv: Sequence[str] | None = None,
    unavailable: int = EXIT_STATE_ERROR,
) -> DataDirLock | int:
    """Take ``root``'s writer lock for this command (see `hermes_tui.lock`), waiting up to
    ``wait`` seconds; the held lock, or the exit code after saying why on ``err``:
    `EXIT_BUSY` when another process holds it (named, with how to go on), ``unavailable``
    when the lock file cannot be made (the file named, with the fix)."""
    from hermes_tui.lock import DataDirBusy, DataDirLock, Holder, LockUnavailable
    from hermes_tui.paths import display_path
    from hermes_tui.problem import problem_lines

    lock = DataDirLock(root, argv=argv, hint=hint)

    def waiting(holder: Holder) -> None:
        err(f"hermes-tui: waiting up to {wait:g} s for {holder.describe()} to finish with "
            f"{display_path(root)}…")

    try:
        lock.acquire(wait, create=create, waiting=waiting)
    except DataDirBusy as exc:
        for line in problem_lines(exc.problem, lead="hermes-tui: ", fix_indent="  "):
            err(line)
        return EXIT_BUSY
    except LockUnavailable as exc:
        for line in problem_lines(exc.problem, lead="hermes-tui: ", fix_indent="  "):
            err(line)
        return unavailable
    return lock


def note_writer(root: Path, err: Callable[[str], None]) -> None:
    """For the commands that only read (status, doctor): say on ``err`` when another
    process is changing the data dir, without taking its lock."""
    from hermes_tui.lock import current_holder

    holder = current_holder(root)
    if holder is not None:
        err(f"hermes-tui: note: {holder.describe()} is changing this data dir; what follows "
            "may change while it works.")


def open_command(args: argparse.Namespace) -> Opened | None:
    """The start-up doctor and status share: the console, the settings from the same
    options the wizard takes, and the progress file read as the wizard reads it. None when
    that file cannot be used (said on stderr): exit with ``EXIT_STATE_ERROR``. They only
    read, so they take no lock; when another process is writing, a note on stderr says so."""
    from hermes_tui.state import StateError

    console = Console.detect()
    settings = settings_from(args)
    note_writer(settings.paths.root, console.error)
    try:
        _, loaded = load_state(settings, console)
    except StateError as exc:
        console.error(f"hermes-tui: {exc}")
        return None
    return Opened(console, settings, loaded.state)


def indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())
