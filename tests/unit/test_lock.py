"""The data dir's writer lock and the per-folder read-modify-write lock, between real
processes: a holder is a child Python that takes the lock and waits for a line on stdin.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hermes_tui.envfile import read_env, update_env
from hermes_tui.fsutil import WriteError
from hermes_tui.lock import (
    LOCK_FILE_NAME,
    DataDirBusy,
    DataDirLock,
    Holder,
    LockUnavailable,
    command_line,
    current_holder,
    locked_folder,
)
from tests.support.lock_holder import HOLD_FOLDER, Child, dead_pid, hold, started_children


@pytest.fixture
def children() -> Iterator[list[Child]]:
    yield from started_children()


# --- the data dir's lock ---------------------------------------------------------------------


def test_a_second_writer_is_refused_naming_the_holders_pid_command_and_start(
    tmp_path, children
):
    holder = hold(children, tmp_path, "hermes-tui", "setup", "--non-interactive",
                  "--profile", "work")

    with pytest.raises(DataDirBusy) as caught:
        DataDirLock(tmp_path).acquire()

    problem = caught.value.problem
    assert caught.value.holder.pid == holder.pid
    assert f"pid {holder.pid} (hermes-tui setup --non-interactive --profile work)" in problem.what
    assert str(tmp_path) in problem.what and "since " in problem.what and " ago)" in problem.what
    assert f"kill {holder.pid}" in problem.fix and "hermes-tui status" in problem.fix
    assert problem.subject == str(tmp_path / LOCK_FILE_NAME)


def test_the_holder_writes_its_record_and_clears_it_on_release(tmp_path, children):
    holder = hold(children, tmp_path, "hermes-tui", "--data-dir", str(tmp_path))
    record = json.loads((tmp_path / LOCK_FILE_NAME).read_text())
    assert record["pid"] == holder.pid
    assert record["command"] == f"hermes-tui --data-dir {tmp_path}"
    assert record["since"] and record["host"]

    holder.send("release")
    holder.expect("released")
    assert (tmp_path / LOCK_FILE_NAME).read_bytes() == b""
    assert current_holder(tmp_path) is None
    with DataDirLock(tmp_path) as lock:
        assert lock.held


def test_a_holder_killed_with_sigkill_leaves_the_data_dir_free(tmp_path, children):
    holder = hold(children, tmp_path)
    holder.kill()

    # Its record is still in the file; the lock (the truth) is free.
    assert json.loads((tmp_path / LOCK_FILE_NAME).read_text())["pid"] == holder.pid
    assert current_holder(tmp_path) is None
    lock = DataDirLock(tmp_path, argv=["hermes-tui", "setup"])
    assert lock.acquire()
    try:
        assert json.loads((tmp_path / LOCK_FILE_NAME).read_text())["pid"] == os.getpid()
    finally:
        lock.release()


def test_a_stale_record_naming_a_dead_process_does_not_lock_anything(tmp_path):
    stale = Holder(dead_pid(), "hermes-tui setup", None, None)
    (tmp_path / LOCK_FILE_NAME).write_bytes(stale.to_json())

    assert current_holder(tmp_path) is None
    with DataDirLock(tmp_path) as lock:
        assert lock.held


def test_a_record_that_names_another_process_is_corrected_from_the_kernel(
    tmp_path, children
):
    holder = hold(children, tmp_path, "hermes-tui", "setup")
    # Someone wrote over the record: it names this (live) test process, which holds nothing.
    (tmp_path / LOCK_FILE_NAME).write_bytes(Holder(os.getpid(), "pytest").to_json())

    found = current_holder(tmp_path)

    assert found is not None and found.pid == holder.pid
    with pytest.raises(DataDirBusy) as caught:
        DataDirLock(tmp_path).acquire()
    assert f"pid {holder.pid}" in caught.value.problem.what


def test_waiting_takes_the_lock_once_the_holder_lets_go(tmp_path, children):
    holder = hold(children, tmp_path)
    seen: list[Holder] = []
    lock = DataDirLock(tmp_path)

    def on_wait(who: Holder) -> None:
        seen.append(who)
        holder.send("release")  # the holder finishes while we wait

    try:
        assert lock.acquire(wait=60, waiting=on_wait)
        assert [who.pid for who in seen] == [holder.pid]
    finally:
        lock.release()


def test_status_and_doctor_see_the_holder_without_taking_the_lock(tmp_path, children):
    assert current_holder(tmp_path) is None  # no lock file: nothing created
    assert not (tmp_path / LOCK_FILE_NAME).exists()
    holder = hold(children, tmp_path, "hermes-tui", "migrate", "--profile", "work")
    found = current_holder(tmp_path)
    assert found is not None and found.pid == holder.pid
    assert found.command == "hermes-tui migrate --profile work"


def test_a_missing_data_dir_is_not_created_when_asked_not_to(tmp_path):
    lock = DataDirLock(tmp_path / "absent")
    assert lock.acquire(create=False) is False
    assert not (tmp_path / "absent").exists()


def test_a_data_dir_that_is_a_file_is_a_problem_naming_it(tmp_path):
    (tmp_path / "data").write_text("a file")
    with pytest.raises(LockUnavailable) as caught:
        DataDirLock(tmp_path / "data").acquire()
    assert str(tmp_path / "data") in caught.value.problem.what
    assert "not a folder" in caught.value.problem.what


def test_command_line_hides_a_urls_password_and_names_the_program():
    line = command_line(["/usr/lib/python3/site-packages/hermes_tui/cli.py", "--router-url",
                         "http://me:s3cret@127.0.0.1:11434/v1",
                         "--router-url=https://tok@example.com/v1",
                         "https://example.com/v1?api_key=k3y", "--profile", "work"])
    assert "s3cret" not in line and "tok@" not in line and "k3y" not in line
    assert line == ("hermes-tui --router-url http://***@127.0.0.1:11434/v1 "
                    "--router-url=https://***@example.com/v1 https://example.com/v1?*** "
                    "--profile work")


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A root-owned folder user nobody can enter but not write (tmp_path is root-only)."""
    folder = Path(tempfile.mkdtemp(prefix="hermes-tui-lock-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_data_dir_another_user_owns_is_a_problem_naming_the_lock_file(
    nobody_python, shared_dir
):
    snippet = """
import json, sys
from pathlib import Path
from hermes_tui.lock import DataDirLock, LockUnavailable
try:
    DataDirLock(Path(sys.argv[1])).acquire()
except LockUnavailable as exc:
    print(json.dumps([exc.problem.what, exc.problem.fix]))
"""
    done = nobody_python(snippet, [str(shared_dir)])
    assert done.returncode == 0, done.stderr
    what, fix = json.loads(done.stdout)
    assert what == f"Cannot write {shared_dir / LOCK_FILE_NAME}: permission denied."
    assert f"ls -l {shared_dir}" in fix and "--data-dir" in fix


# --- one read-modify-write per folder ----------------------------------------------------------


def test_a_folder_kept_locked_by_another_process_times_out_naming_the_file(
    tmp_path, children
):
    holder = Child(HOLD_FOLDER, str(tmp_path))
    children.append(holder)
    holder.expect("held")

    with pytest.raises(WriteError) as caught, locked_folder(tmp_path, timeout=0.2,
                                                            file=tmp_path / ".env"):
        pytest.fail("the folder lock was taken while another process held it")

    assert isinstance(caught.value, OSError)
    assert caught.value.problem.what == (
        f"Cannot update {tmp_path / '.env'}: another process kept it locked for 0.2 s.")
    assert "try again" in caught.value.problem.fix


def test_an_update_waits_for_the_other_writer_and_keeps_its_keys(tmp_path, children):
    env = tmp_path / ".env"
    env.write_text("THEIRS=1\n")
    holder = Child(HOLD_FOLDER, str(tmp_path))
    children.append(holder)
    holder.expect("held")
    errors: list[BaseException] = []

    def write() -> None:
        try:
            update_env(env, {"OURS": "2"})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    env.write_text("THEIRS=1\nLATER=3\n")  # what the holder "wrote" under its lock
    holder.send("go")
    holder.expect("released")
    writer.join(60)
    assert not writer.is_alive(), "update_env did not finish after the lock was released"
    assert not errors
    assert read_env(env) == {"THEIRS": "1", "LATER": "3", "OURS": "2"}


def test_the_folder_lock_is_reentrant_within_a_thread(tmp_path):
    with locked_folder(tmp_path), locked_folder(tmp_path / "."):
        update_env(tmp_path / ".env", {"A": "1"})  # takes the same lock again
    assert read_env(tmp_path / ".env") == {"A": "1"}


def test_a_missing_folder_is_not_locked_and_the_write_reports_it(tmp_path):
    with pytest.raises(OSError) as caught:
        update_env(tmp_path / "absent" / ".env", {"A": "1"})
    assert str(tmp_path / "absent") in str(caught.value)
