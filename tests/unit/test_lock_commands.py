"""Which command takes the data dir's lock, and what a second one does: run as the user
runs them (``python -m hermes_tui.cli`` in a child process), against a holder that is a
real process — a child holding the lock, or a real ``setup`` stalled mid-pull on the
Engine API double.
"""

from __future__ import annotations

import json
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hermes_tui.commands import EXIT_BUSY
from hermes_tui.lock import LOCK_FILE_NAME, current_holder
from hermes_tui.paths import Paths
from hermes_tui.profile import create_profile
from tests.support.fake_engine import FakeEngine, cold_pull_events
from tests.support.lock_holder import Child, hold, started_children
from tests.unit.conftest import REPO, child_env

NO_ENGINE = "unix:///nonexistent/hermes-tui-test/docker.sock"
EXIT_STEP_1 = 11  # setup: step 1 (Runtime check) failed — it got past the lock


@pytest.fixture
def children() -> Iterator[list[Child]]:
    yield from started_children()


def env() -> dict[str, str]:
    out = child_env()
    for key in ("DOCKER_HOST", "DOCKER_CONTEXT", "NO_COLOR", "TERM"):
        out.pop(key, None)
    return out


def argv(data: Path, *args: str, engine: str = NO_ENGINE) -> list[str]:
    return [sys.executable, "-m", "hermes_tui.cli", "--data-dir", str(data),
            "--docker-host", engine, *args]


def cli(data: Path, *args: str, engine: str = NO_ENGINE) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv(data, *args, engine=engine), env=env(), cwd=REPO, text=True,
                          capture_output=True, timeout=120, stdin=subprocess.DEVNULL,
                          check=False)


SETUP = ("setup", "--non-interactive", "--profile", "work")


def assert_refused(done: subprocess.CompletedProcess[str], pid: int, command: str) -> None:
    assert done.returncode == EXIT_BUSY == 5, (done.returncode, done.stderr)
    assert "Another hermes-tui is already changing" in done.stderr, done.stderr
    assert f"pid {pid} ({command}" in done.stderr, done.stderr
    assert f"kill {pid}" in done.stderr


def test_the_wizard_setup_and_migrate_are_refused_while_another_holds_the_data_dir(
    tmp_path, children
):
    create_profile(Paths.resolve(tmp_path), "work")
    claw = tmp_path / "openclaw"
    claw.mkdir()
    (claw / "openclaw.json").write_text("{}")
    holder = hold(children, tmp_path, "hermes-tui", "setup", "--non-interactive")
    state_before = sorted(p.name for p in tmp_path.iterdir())

    setup = cli(tmp_path, *SETUP)
    assert_refused(setup, holder.pid, "hermes-tui setup --non-interactive")
    assert "--wait SECONDS" in setup.stderr

    wizard = cli(tmp_path)  # refused before any screen: no terminal needed
    assert_refused(wizard, holder.pid, "hermes-tui setup --non-interactive")
    assert wizard.stdout == ""

    migrate = cli(tmp_path, "migrate", "--profile", "work", "--claw-dir", str(claw))
    assert_refused(migrate, holder.pid, "hermes-tui setup --non-interactive")

    # Nothing was written by the refused commands: no progress file, no profile change.
    assert sorted(p.name for p in tmp_path.iterdir()) == state_before
    assert not (tmp_path / "wizard.toml").exists()


def test_reading_commands_take_no_lock_and_say_who_writes(tmp_path, children):
    holder = hold(children, tmp_path, "hermes-tui", "migrate", "--profile", "work")
    note = f"hermes-tui: note: pid {holder.pid} (hermes-tui migrate --profile work)"

    status = cli(tmp_path, "status", "--json")
    assert status.returncode == 0, status.stderr
    assert note in status.stderr
    json.loads(status.stdout)  # stdout stays parseable

    doctor = cli(tmp_path, "doctor")
    assert doctor.returncode != EXIT_BUSY
    assert note in doctor.stderr

    dry_run = cli(tmp_path, "migrate", "--profile", "work", "--dry-run")
    assert dry_run.returncode != EXIT_BUSY and "Another hermes-tui" not in dry_run.stderr


def test_setup_wait_waits_for_the_holder_then_runs(tmp_path, children):
    holder = hold(children, tmp_path, "hermes-tui")
    waiting = subprocess.Popen(argv(tmp_path, *SETUP, "--wait", "120"), env=env(), cwd=REPO,
                               text=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    try:
        assert waiting.stderr is not None
        with selectors.DefaultSelector() as selector:
            selector.register(waiting.stderr, selectors.EVENT_READ)
            if not selector.select(60):
                pytest.fail("setup --wait did not say it was waiting within 60 s")
        line = waiting.stderr.readline()
        assert line.startswith(f"hermes-tui: waiting up to 120 s for pid {holder.pid} "), line
        holder.send("release")
        _out, err = waiting.communicate(timeout=120)
    finally:
        if waiting.poll() is None:
            waiting.kill()
            waiting.wait(30)
    assert waiting.returncode == EXIT_STEP_1, err
    assert "Another hermes-tui" not in err
    assert (tmp_path / "wizard.toml").exists()


def test_setup_releases_the_lock_when_it_ends(tmp_path):
    first = cli(tmp_path, *SETUP)
    second = cli(tmp_path, *SETUP)
    assert (first.returncode, second.returncode) == (EXIT_STEP_1, EXIT_STEP_1), second.stderr
    assert (tmp_path / LOCK_FILE_NAME).read_bytes() == b""  # no record left behind


def wait_for_holder(root: Path, pid: int, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        holder = current_holder(root)
        if holder is not None and holder.pid == pid:
            return
        if proc.poll() is not None:
            pytest.fail(f"the first setup ended ({proc.returncode}) before it held the lock: "
                        f"{proc.stderr.read() if proc.stderr else ''}")
        time.sleep(0.05)
    pytest.fail(f"the first setup (pid {pid}) did not hold the data dir within {timeout:g} s")


def test_two_setups_at_once_one_runs_the_other_is_refused_and_a_crash_frees_it(
    tmp_path, socket_dir
):
    engine = FakeEngine(socket_dir / "docker.sock", pull_events=cold_pull_events(),
                        hang=True).start()
    first = subprocess.Popen(argv(tmp_path, *SETUP, engine=engine.url), env=env(), cwd=REPO,
                             text=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    try:
        wait_for_holder(tmp_path, first.pid, first)  # it stalls in the pull, holding it

        second = cli(tmp_path, *SETUP, engine=engine.url)
        assert_refused(second, first.pid,
                       f"hermes-tui --data-dir {tmp_path} --docker-host {engine.url} setup")
        wizard = cli(tmp_path, engine=engine.url)
        assert_refused(wizard, first.pid, "hermes-tui --data-dir")

        first.send_signal(signal.SIGKILL)  # a crash: the kernel drops the lock
        first.wait(30)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(30)
        for stream in (first.stdout, first.stderr):
            if stream is not None:
                stream.close()
        engine.stop()

    third = cli(tmp_path, *SETUP)  # the engine is gone: it stops at step 1, past the lock
    assert third.returncode == EXIT_STEP_1, third.stderr
    state = (tmp_path / "wizard.toml").read_text()
    assert 'current_step = "runtime"' in state


def test_a_data_dir_the_user_cannot_write_exits_3_naming_the_lock_file(nobody_python):
    folder = Path(tempfile.mkdtemp(prefix="hermes-tui-lock-"))
    folder.chmod(0o755)  # root's: user nobody may look, not write
    try:
        done = nobody_python(
            "import sys; from hermes_tui.cli import main; sys.exit(main(sys.argv[1:]))",
            ["--data-dir", str(folder), "--docker-host", NO_ENGINE, *SETUP],
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert done.returncode == 3, done.stderr
    assert f"Cannot write {folder / LOCK_FILE_NAME}: permission denied." in done.stderr
    assert "Fix: Let your user write to it" in done.stderr
