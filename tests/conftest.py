"""Shared test set-up: snapshot SVGs live in the top-level snapshots/ folder."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import pytest_textual_snapshot

ROOT = Path(__file__).resolve().parent.parent


#: A snapshot test's own engine socket folder (tests/ui/test_snapshots.py), and the name the
#: SVGs store for it: the same length, so only the characters differ.
SNAP_SOCKET_DIR = re.compile(r"/tmp/hermes-tui-s[a-z0-9_]{8}/")
SNAP_SOCKET_DIR_STORED = "/tmp/hermes-tui-snapshots/"


class TopLevelSnapshots(pytest_textual_snapshot.SVGImageExtension):
    """Store each test module's SVGs under ``snapshots/<module stem>/`` (see README)."""

    @classmethod
    def dirname(cls, *, test_location) -> str:
        return str(ROOT / "snapshots" / Path(test_location.filepath).stem)

    def serialize(self, *args, **kwargs):
        """Per-test socket folders are written as the one stored name before comparing."""
        return SNAP_SOCKET_DIR.sub(SNAP_SOCKET_DIR_STORED, super().serialize(*args, **kwargs))


# pytest-textual-snapshot looks this name up when `snap_compare` runs (plugin pinned in
# pyproject.toml), so swapping it here redirects every snapshot.
pytest_textual_snapshot.SVGImageExtension = TopLevelSnapshots


# Sessions and CI run as root; users do not. Permission errors are produced for real by
# dropping to the unprivileged user ``nobody`` with setpriv, never by patching a function.
AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]

NobodyPython = Callable[[str, list[str]], subprocess.CompletedProcess[str]]


def _unavailable(reason: str) -> None:
    """Skip where a developer cannot do this; under CI=true a skip would hide coverage."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"CI=true but tests as user nobody cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def nobody_python() -> NobodyPython:
    """Run a Python snippet as user ``nobody`` with this repo and venv importable."""
    if os.geteuid() != 0:
        _unavailable("running as another user needs root; this session is not root")
    if shutil.which("setpriv") is None:
        _unavailable("setpriv (util-linux) is not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "HERMES_TUI_"))}
    env.update(
        HOME="/nonexistent",
        PYTHONPATH=os.pathsep.join([str(ROOT), sysconfig.get_paths()["purelib"]]),
        PYTHONDONTWRITEBYTECODE="1",
    )

    def run(snippet: str, args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*AS_NOBODY, sys.executable, "-c", snippet, *args],
            env=env, capture_output=True, text=True, timeout=60, check=False,
            stdin=subprocess.DEVNULL, cwd="/",
        )

    probe = run("import json, aiohttp, hermes_tui.profile; print(json.dumps('ok'))", [])
    if probe.returncode != 0 or json.loads(probe.stdout or "null") != "ok":
        _unavailable(
            "user nobody cannot run this venv's Python or import the project (the venv or "
            f"the repo is not readable by others): {probe.stderr.strip()[-300:]}"
        )
    return run


@pytest.fixture(scope="session")
def hermes_venv():
    """The real Hermes (``hermes-agent`` 0.19.0 + aiohttp) in its own cached venv.

    Installed on first use (a few minutes; see tests/support/hermes.py), never into the
    project's venv. Where it cannot be installed the test is skipped with pip's reason,
    except under ``CI=true``, where the oracle missing is a failure.
    """
    from tests.support.hermes import HermesInstallError, ensure_hermes_venv

    try:
        return ensure_hermes_venv()
    except HermesInstallError as exc:
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(f"CI=true but the real Hermes could not be installed: {exc}",
                        pytrace=False)
        pytest.skip(f"the real Hermes could not be installed: {exc}")


@pytest.fixture
def nobody_dir() -> Iterator[Path]:
    """A fresh folder owned by user ``nobody`` that ``nobody`` can reach (pytest's own
    tmp_path sits under a root-only folder). Removed afterwards."""
    import tempfile

    if os.geteuid() != 0:
        _unavailable("a folder for another user needs root; this session is not root")
    folder = Path(tempfile.mkdtemp(prefix="hermes-tui-nobody-"))
    folder.chmod(0o755)
    os.chown(folder, 65534, 65534)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    """A fresh folder with a short path for unix sockets (their paths are limited to about
    100 characters, which pytest's tmp_path can exceed). Removed afterwards."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="hermes-tui-sock-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def _end_ssh_connections() -> Iterator[None]:
    """An ssh:// test's master connections and bridges end with the test, not at exit."""
    yield
    module = sys.modules.get("hermes_tui.engine.ssh")
    if module is not None:
        module.close_all()
