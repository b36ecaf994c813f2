"""Run the real ``hermes-tui`` command line and SIGKILL it at its Nth filesystem change.

Test-only fault injector for the kill tests: ``python -m tests.support.killpoint ARGS…``
runs ``hermes_tui.cli.main(ARGS)`` (``--exec CODE``: that Python code instead, for a
domain function no command reaches alone) in this process after wrapping the calls that can
change a file or a folder (``os.open`` for writing, ``os.write``, ``os.fsync``,
``os.replace``/``rename``, ``os.mkdir``/``rmdir``/``unlink``, ``os.link``/``symlink``,
``os.chmod``/``fchmod``/``fchown``, ``os.truncate``/``ftruncate``, ``open`` in a writing
mode). The wrappers only count; the real call always runs, unless the count has reached:

- ``KILLPOINT_AT=N``: just before the Nth change the process sends itself SIGKILL, as
  ``kill -9`` would: no handler, no ``finally``, no flush.
- ``KILLPOINT_COUNT=FILE``: at exit, the number of changes made is written to FILE (a
  run without a kill, to learn how many points there are).

Nothing in ``hermes_tui`` reads these variables: the harness sets the trap around the
unmodified program. The same inputs make the same sequence of changes, so a kill point
is reproducible (temp file names differ, their number does not).
"""

from __future__ import annotations

import atexit
import builtins
import io
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_lock = threading.Lock()
_count = 0
_kill_at = 0


def _change() -> None:
    global _count
    with _lock:
        _count += 1
        if _kill_at and _count >= _kill_at:
            os.kill(os.getpid(), signal.SIGKILL)


def _counting(real: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _change()
        return real(*args, **kwargs)

    wrapper.__wrapped__ = real  # type: ignore[attr-defined]
    return wrapper


def _install() -> None:
    for name in ("write", "fsync", "replace", "rename", "mkdir", "rmdir", "unlink", "remove",
                 "link", "symlink", "chmod", "fchmod", "fchown", "chown", "truncate",
                 "ftruncate"):
        setattr(os, name, _counting(getattr(os, name)))

    real_open = os.open

    def os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & _WRITE_FLAGS:
            _change()
        return real_open(path, flags, *args, **kwargs)

    os.open = os_open

    real_io_open = io.open

    def io_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, (str, bytes, os.PathLike)) and any(c in mode for c in "wax+"):
            _change()
        return real_io_open(file, mode, *args, **kwargs)

    io.open = builtins.open = io_open


def run(args: list[str], *, kill_at: int = 0, count_file: str | os.PathLike[str] | None = None,
        env: dict[str, str] | None = None, cwd: str | os.PathLike[str] | None = None,
        timeout: float = 120) -> Any:
    """Run ``python -m tests.support.killpoint ARGS`` in a child (for the tests): returns
    the ``CompletedProcess``; a kill shows as return code -9."""
    import subprocess
    import sysconfig
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    child = dict(env if env is not None else os.environ)
    child.pop("HERMES_TUI_DATA_DIR", None)
    child["PYTHONPATH"] = os.pathsep.join([str(repo), sysconfig.get_paths()["purelib"]])
    child["PYTHONDONTWRITEBYTECODE"] = "1"
    if kill_at:
        child["KILLPOINT_AT"] = str(kill_at)
    if count_file is not None:
        child["KILLPOINT_COUNT"] = str(count_file)
    return subprocess.run([sys.executable, "-m", "tests.support.killpoint", *args],  # noqa: PLW1510
                          env=child, cwd=cwd or repo, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def count(args: list[str], tmp: os.PathLike[str], **kwargs: Any) -> tuple[int, Any]:
    """Run ``args`` to the end; (the number of changes it made, its CompletedProcess)."""
    from pathlib import Path

    counter = Path(tmp) / f"killpoint-count-{os.getpid()}-{threading.get_ident()}"
    done = run(args, count_file=counter, **kwargs)
    try:
        text = counter.read_text()
    except FileNotFoundError:
        raise AssertionError(f"the counting run wrote no count; stderr: {done.stderr[-2000:]}") from None
    counter.unlink()
    return int(text), done


APPLY = """\
from datetime import datetime
from pathlib import Path
from hermes_tui.migration.apply import apply_plan
from hermes_tui.migration.plan import build_plan
plan = build_plan(Path({claw!r}), Path({profile!r}))
apply_plan(plan, now=datetime.fromisoformat({now!r}))
"""


def interrupt_apply(claw: os.PathLike[str], profile: os.PathLike[str], scratch: os.PathLike[str],
                    *, now: str = "2026-11-27T09:30:00", fraction: float = 0.5) -> Any:
    """Kill an apply of ``claw`` into ``profile`` (plan defaults: no secrets) about
    ``fraction`` of the way through its changes, with a fixed start time; returns the run
    folder. The changes are counted on a copy of the profile first."""
    import shutil
    from pathlib import Path

    twin = Path(scratch) / "interrupt-apply-twin"
    shutil.copytree(profile, twin, symlinks=True)
    total, done = count(["--exec", APPLY.format(claw=str(claw), profile=str(twin), now=now)],
                        scratch)
    assert done.returncode == 0, done.stderr
    shutil.rmtree(twin)
    killed = run(["--exec", APPLY.format(claw=str(claw), profile=str(profile), now=now)],
                 kill_at=max(1, int(total * fraction)))
    assert killed.returncode == -9, killed.stderr
    runs = sorted((Path(profile) / "migration/openclaw").iterdir())
    assert len(runs) == 1, runs
    return runs[0]


def main() -> int:
    global _kill_at
    _kill_at = int(os.environ.pop("KILLPOINT_AT", "0") or 0)
    count_file = os.environ.pop("KILLPOINT_COUNT", None)
    _install()
    if count_file:
        def report() -> None:
            with _lock:
                done = _count
            with io.FileIO(count_file, "w") as handle:  # FileIO: not counted
                handle.write(f"{done}\n".encode())

        atexit.register(report)
    if sys.argv[1:2] == ["--exec"]:
        code = compile(sys.argv[2], "<killpoint --exec>", "exec")
        exec(code, {"__name__": "__killpoint__"})  # noqa: S102 - the calling test's own snippet
        return 0
    from hermes_tui.cli import main as hermes_main

    return hermes_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
