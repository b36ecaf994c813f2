"""Fixtures for the domain unit tests: an injected clock, real tmpfs mounts, other users.

Nothing here imports Textual. Mount and other-user fixtures do things for real (the test
sessions run as root) and skip with the reason when the machine does not allow them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXED_NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
FIXED_STAMP = "20250102T030405"


@pytest.fixture
def fixed_now() -> datetime:
    return FIXED_NOW


@pytest.fixture
def fixed_stamp() -> str:
    """How ``FIXED_NOW`` appears in aside/backup file names."""
    return FIXED_STAMP


@pytest.fixture
def clock() -> Callable[[], datetime]:
    return lambda: FIXED_NOW


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a child Python: this repo importable, no data-dir override."""
    env = {k: v for k, v in os.environ.items() if k != "HERMES_TUI_DATA_DIR"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), sysconfig.get_paths()["purelib"]])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


@pytest.fixture(name="child_env")
def child_env_fixture() -> Callable[..., dict[str, str]]:
    return child_env


@pytest.fixture
def run_python() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run a Python snippet (or ``-m`` args) in a child interpreter of this venv."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 30,
            cwd: str | Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: PLW1510 - callers assert on the return code
            [sys.executable, *args],
            env=env or child_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            cwd=cwd or REPO,
        )

    return run


# --- real tmpfs mounts ---------------------------------------------------------------------


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)


def _cannot_mount(reason: str) -> None:
    """Skip with the missing capability; under CI=true a skip would hide coverage: fail."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"CI=true but a tmpfs cannot be mounted: {reason}", pytrace=False)
    pytest.skip(reason)


class Tmpfs:
    """Mount small tmpfs filesystems; every one is unmounted at teardown."""

    def __init__(self) -> None:
        self.mounted: list[Path] = []

    def mount(self, size: str) -> Path:
        if os.geteuid() != 0:
            _cannot_mount("mounting a tmpfs needs root; this session is not root")
        if shutil.which("mount") is None:
            _cannot_mount("the `mount` command is not installed")
        point = Path(tempfile.mkdtemp(prefix="hermes-tui-tmpfs-"))
        done = _run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(point)])
        if done.returncode != 0:
            point.rmdir()
            _cannot_mount(f"mount -t tmpfs is not permitted here (CAP_SYS_ADMIN): "
                          f"{done.stderr.strip()}")
        self.mounted.append(point)
        return point

    def remount_read_only(self, point: Path) -> None:
        done = _run(["mount", "-o", "remount,ro", str(point)])
        if done.returncode != 0:
            _cannot_mount(f"remounting read-only is not permitted: {done.stderr.strip()}")

    def cleanup(self) -> None:
        for point in reversed(self.mounted):
            if _run(["umount", str(point)]).returncode != 0:
                _run(["umount", "-l", str(point)])
            try:
                point.rmdir()
            except OSError:
                pass
        self.mounted.clear()


@pytest.fixture
def tmpfs() -> Iterator[Tmpfs]:
    mounts = Tmpfs()
    try:
        yield mounts
    finally:
        mounts.cleanup()
