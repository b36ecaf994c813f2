"""Child processes that hold hermes-tui's locks, for tests between real processes.

A `Child` is a Python talking line by line over stdin/stdout; every wait is bounded and
fails the test with a message.
"""

from __future__ import annotations

import selectors
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.conftest import REPO, child_env

HOLD_DATA_DIR = """
import sys
from pathlib import Path
from hermes_tui.lock import DataDirLock
lock = DataDirLock(Path(sys.argv[1]), argv=sys.argv[2:])
lock.acquire()
print("held", flush=True)
if sys.stdin.readline().strip() == "release":
    lock.release()
    print("released", flush=True)
    sys.stdin.readline()
"""

HOLD_FOLDER = """
import sys
from hermes_tui.lock import locked_folder
with locked_folder(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.readline()
print("released", flush=True)
"""


class Child:
    """A child Python talking line by line; every wait is bounded and fails with a message."""

    def __init__(self, script: str, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", script, *args], env=child_env(), cwd=REPO, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def expect(self, word: str, timeout: float = 30) -> None:
        assert self.proc.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            if not selector.select(timeout):
                pytest.fail(f"the child did not say {word!r} within {timeout:g} s")
        line = self.proc.stdout.readline().strip()
        if line != word:
            stderr = self.proc.stderr.read() if self.proc.poll() is not None else ""
            pytest.fail(f"the child said {line!r}, not {word!r}: {stderr[-2000:]}")

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(30)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


def started_children() -> Iterator[list[Child]]:
    """For a test module's ``children`` fixture: the children a test starts, all ended
    (killed if still running) at teardown."""
    started: list[Child] = []
    try:
        yield started
    finally:
        for child in started:
            child.close()


def hold(children: list[Child], root: Path, *argv: str) -> Child:
    child = Child(HOLD_DATA_DIR, str(root), *(argv or ("hermes-tui", "setup")))
    children.append(child)
    child.expect("held")
    return child


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(30)
    return proc.pid


