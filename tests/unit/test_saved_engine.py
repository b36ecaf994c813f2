"""An engine given once with ``--docker-host`` is remembered: the next ``status`` and
``doctor`` use ``engine_url`` from wizard.toml, say so, and say what to do when it is gone.

The commands run as the user runs them (``python -m hermes_tui.cli`` in a child process,
no ``--docker-host``, no DOCKER_HOST) against the Engine API double on a unix socket.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hermes_tui.paths import Paths
from hermes_tui.state import StateStore, StepId
from tests.support.fake_engine import FakeEngine
from tests.support.states import at
from tests.unit.conftest import REPO, child_env


def run(data: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = child_env()
    for key in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "NO_COLOR", "TERM",
                "XDG_RUNTIME_DIR"):
        env.pop(key, None)
    env["HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "hermes_tui.cli", "--data-dir", str(data),
                           *args], env=env, cwd=REPO, text=True, capture_output=True,
                          timeout=120, stdin=subprocess.DEVNULL, check=False)


def save_engine(data: Path, url: str) -> None:
    StateStore(Paths.resolve(data).state_file).save(at(StepId.PULL, engine_url=url))


def test_status_and_doctor_use_the_engine_saved_by_the_last_run(tmp_path):
    engine = FakeEngine(tmp_path / "sock" / "docker.sock").start()
    try:
        save_engine(tmp_path / "data", engine.url)
        status = run(tmp_path / "data", tmp_path, "status", "--json")
        text = run(tmp_path / "data", tmp_path, "status")
        doctor = run(tmp_path / "data", tmp_path, "doctor")
    finally:
        engine.stop()
    assert status.returncode == 0, status.stderr
    info = json.loads(status.stdout)["engine"]
    assert (info["reachable"], info["url"], info["source"]) == (
        True, engine.url, "saved from last run")
    assert f"Docker 20.10.24 · API 1.41 · linux/amd64 (saved from last run: {engine.url})" \
        in text.stdout
    engine_line = doctor.stdout.splitlines()[0]
    assert "saved from last run" in engine_line and engine.url in engine_line, doctor.stdout


def test_a_saved_engine_that_is_gone_is_named_with_the_fix(tmp_path):
    gone = f"unix://{tmp_path}/gone/docker.sock"
    save_engine(tmp_path / "data", gone)
    doctor = run(tmp_path / "data", tmp_path, "doctor")
    status = run(tmp_path / "data", tmp_path, "status", "--json")
    if "No socket at" not in doctor.stdout:
        # This machine has an engine of its own at a well-known place: it is used instead.
        assert json.loads(status.stdout)["engine"]["source"] != "saved from last run"
        return
    assert f"No socket at {tmp_path}/gone/docker.sock." in doctor.stdout
    assert "found by the last run (engine_url in wizard.toml)" in doctor.stdout
    assert "--docker-host" in doctor.stdout
    assert json.loads(status.stdout)["engine"]["reachable"] is False
