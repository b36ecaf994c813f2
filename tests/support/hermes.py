"""The real Hermes (PyPI ``hermes-agent``) as the test suite's oracle.

`ensure_hermes_venv` installs ``hermes-agent`` (plus ``aiohttp``, which its API server
needs) into a venv of its own, outside the project's venv, and caches it: the first run
takes a few minutes, later runs reuse it. The venv is made from Debian's
``/usr/bin/python3`` when there is one, so that another user (``nobody``) can run it and
the same files can be copied into a container image (see `tests.support.hermes_image`).

Where it lives: ``$HERMES_TUI_TEST_CACHE`` when set, else ``/var/cache/hermes-tui-tests``
for root, else ``~/.cache/hermes-tui-tests``. Concurrent test runs take a file lock; a
half-built venv (killed install) has no ``.complete`` marker and is rebuilt.

Only the standard library is used.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

HERMES_VERSION = "0.19.0"
REQUIREMENTS = (f"hermes-agent=={HERMES_VERSION}", "aiohttp")
#: Debian's interpreter: readable by every user, and copyable into an image with its libs.
SYSTEM_PYTHON = "/usr/bin/python3"
INSTALL_TIMEOUT = 1200.0
MARKER = ".complete"


class HermesInstallError(RuntimeError):
    """The Hermes venv could not be made; the message holds pip's last lines."""


def cache_root() -> Path:
    explicit = os.environ.get("HERMES_TUI_TEST_CACHE")
    if explicit:
        return Path(explicit)
    if os.geteuid() == 0:
        return Path("/var/cache/hermes-tui-tests")
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hermes-tui-tests"


@dataclass(frozen=True)
class HermesVenv:
    """A venv holding ``hermes-agent`` ``HERMES_VERSION`` and ``aiohttp``."""

    path: Path

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    @property
    def hermes(self) -> Path:
        return self.path / "bin" / "hermes"

    @property
    def base_python(self) -> Path:
        """The interpreter the venv was made from (its ``pyvenv.cfg`` ``executable``)."""
        for line in (self.path / "pyvenv.cfg").read_text().splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "executable":
                return Path(value.strip())
        raise HermesInstallError(f"{self.path}/pyvenv.cfg names no executable")

    def environment(
        self, hermes_home: Path, extra: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """A clean environment for Hermes on ``hermes_home``: nothing of the caller's
        (no provider keys, no ``DOCKER_*``), ``HOME`` inside the profile as the image has it."""
        env = {
            "PATH": f"{self.path / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            "HERMES_HOME": str(hermes_home),
            "HOME": str(hermes_home),
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "NO_COLOR": "1",
        }
        env.update(extra or {})
        return env

    def run_python(
        self,
        code: str,
        hermes_home: Path,
        *args: str,
        env: Mapping[str, str] | None = None,
        timeout: float = 120.0,
        user: list[str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``code`` with the venv's Python on ``hermes_home`` (``user``: a setpriv
        prefix to run it as someone else)."""
        return subprocess.run(
            [*(user or []), str(self.python), "-c", code, *args],
            env=self.environment(hermes_home, env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
            cwd=str(hermes_home),
        )


def venv_dir() -> Path:
    return cache_root() / f"hermes-agent-{HERMES_VERSION}"


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_hermes_venv() -> HermesVenv:
    """The cached Hermes venv, installed first when missing or half-built.

    Raises `HermesInstallError` with pip's output when the install fails (no network,
    no such version, no interpreter).
    """
    target = venv_dir()
    venv = HermesVenv(target)
    if (target / MARKER).is_file():
        return venv
    with _locked(cache_root() / ".lock"):
        if (target / MARKER).is_file():  # another run finished it while we waited
            return venv
        shutil.rmtree(target, ignore_errors=True)
        base = SYSTEM_PYTHON if os.access(SYSTEM_PYTHON, os.X_OK) else sys.executable
        steps = [
            [base, "-m", "venv", str(target)],
            [str(venv.python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             *REQUIREMENTS],
        ]
        for argv in steps:
            try:
                done = subprocess.run(
                    argv, capture_output=True, text=True, timeout=INSTALL_TIMEOUT,
                    check=False, stdin=subprocess.DEVNULL,
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                shutil.rmtree(target, ignore_errors=True)
                raise HermesInstallError(f"{' '.join(argv)}: {exc}") from exc
            if done.returncode != 0:
                shutil.rmtree(target, ignore_errors=True)
                lines = [
                    line for line in (done.stdout + done.stderr).splitlines()
                    if "is ignored: it is neither a file nor a directory" not in line
                ]
                raise HermesInstallError(
                    f"{' '.join(argv)} exited {done.returncode}:\n" + "\n".join(lines[-20:])
                )
        # Readable and runnable by other users (tests run Hermes as nobody too).
        for folder in (cache_root(), target):
            folder.chmod(0o755)
        (target / MARKER).write_text(f"{' '.join(REQUIREMENTS)}\n")
    return venv
