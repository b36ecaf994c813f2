"""One writer per data dir, and one read-modify-write per folder at a time.

Two kinds of lock, both ``fcntl.flock``: the kernel drops them when the process ends, even
on ``kill -9``, so a crash never leaves a data dir locked.

- `DataDirLock`: the wizard, ``setup`` and ``migrate`` (when it writes) hold
  ``<data>/hermes-tui.lock`` for their whole run; a second one is refused
  (`DataDirBusy`, naming the holder) or waits. The holder writes who it is into the file
  (pid, command line, since when, host) so the refusal can name it; that record is only
  information: the lock is the truth. A record left by a crashed holder is ignored (the
  lock is free) and overwritten; a record that names a process which does not hold the
  lock is replaced by the holder ``/proc/locks`` names, where there is one.
- `locked_folder`: every read-modify-write of ``wizard.toml``, ``.env`` and
  ``config.yaml`` holds an exclusive lock on the file's folder while it re-reads, merges
  and atomically replaces the file, so two writers never lose each other's keys even
  where the data-dir lock is not held (an older hermes-tui, two threads, a script). The
  folder itself is locked (not a sibling lock file) so no extra file appears in a profile.
  It is re-entrant within a thread.

``status`` and ``doctor`` only read: `current_holder` tells them who writes, without
taking the lock for more than an instant.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Self
from urllib.parse import urlsplit, urlunsplit

from hermes_tui.fsutil import WriteError, os_error_problem
from hermes_tui.paths import display_path
from hermes_tui.problem import Problem, ProblemError

LOCK_FILE_NAME = "hermes-tui.lock"
#: How long a refused start keeps trying anyway: `current_holder` holds a shared lock for
#: an instant, and a holder that is just exiting releases within moments.
GRACE = 0.5
#: How long a read-modify-write waits for another writer of the same folder.
FOLDER_TIMEOUT = 30.0
_POLL_MIN, _POLL_MAX = 0.002, 0.05


def _sleep_steps(deadline: float) -> Iterator[None]:
    """Yield before each retry until ``deadline`` (monotonic), backing off to 50 ms."""
    pause = _POLL_MIN
    while time.monotonic() < deadline:
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(_POLL_MAX, pause * 2)
        yield


def _try_flock(fd: int, operation: int) -> bool:
    try:
        fcntl.flock(fd, operation | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


# --------------------------------------------------------------------------------------------
# Who holds a data dir
# --------------------------------------------------------------------------------------------


def _redact(arg: str) -> str:
    """A command-line argument without a URL's user and password (``--router-url``)."""
    prefix, sep, value = arg.partition("=") if arg.startswith("--") else ("", "", arg)
    try:
        parts = urlsplit(value)
    except ValueError:
        return arg
    if parts.scheme and parts.netloc and ("@" in parts.netloc or parts.query):
        host = parts.netloc.rpartition("@")[2]
        user = "***@" if "@" in parts.netloc else ""
        query = "***" if parts.query else ""  # ?api_key=… would be a secret too
        return prefix + sep + urlunsplit((parts.scheme, user + host, parts.path, query, ""))
    return arg


def command_line(argv: Sequence[str] | None = None) -> str:
    """This process's command as a user would recognise it (``hermes-tui setup …``)."""
    args = list(sys.argv if argv is None else argv)
    if not args:
        return "hermes-tui"
    first = os.path.basename(args[0])
    if first.endswith(".py") or first in ("-m", "-c", "") or first.startswith("python"):
        first = "hermes-tui"
    return " ".join([first, *(_redact(a) for a in args[1:])])


@dataclass(frozen=True)
class Holder:
    """Who holds a data dir's lock: what its record (or the kernel) says."""

    pid: int | None
    command: str | None = None
    since: datetime | None = None
    host: str | None = None

    def describe(self, now: datetime | None = None) -> str:
        """E.g. "pid 4242 (hermes-tui setup --non-interactive --profile work), since
        2025-01-02 03:04:05 (2 min ago)"."""
        who = f"pid {self.pid}" if self.pid else "another process (its pid is unknown)"
        if self.host and self.host != socket.gethostname():
            who += f" on {self.host}"
        if self.command:
            who += f" ({self.command})"
        if self.since is not None:
            local = self.since.astimezone()
            now = now or datetime.now(UTC)
            who += f", since {local:%Y-%m-%d %H:%M:%S} ({_ago(now - self.since)})"
        return who

    def to_json(self) -> bytes:
        return (json.dumps({
            "pid": self.pid, "command": self.command, "host": self.host,
            "since": self.since.isoformat() if self.since else None,
        }) + "\n").encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes) -> Holder | None:
        try:
            data = json.loads(raw.decode("utf-8"))
            pid = data.get("pid")
            since = data.get("since")
            return cls(
                pid=pid if isinstance(pid, int) and pid > 0 else None,
                command=str(data["command"]) if data.get("command") else None,
                since=datetime.fromisoformat(since) if isinstance(since, str) else None,
                host=str(data["host"]) if data.get("host") else None,
            )
        except (UnicodeDecodeError, ValueError, AttributeError, TypeError):
            return None


def _ago(delta: object) -> str:
    seconds = int(getattr(delta, "total_seconds", lambda: 0)())
    if seconds < 60:
        return f"{max(seconds, 0)} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min ago"
    return f"{seconds // 86400} days ago"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _flock_pids(fd: int) -> set[int] | None:
    """The pids the kernel lists as holding a flock on ``fd``'s file (Linux ``/proc/locks``);
    None where that cannot be read. Pids outside this pid namespace are left out."""
    info = os.fstat(fd)
    ident = f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}"
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    pids: set[int] = set()
    for line in lines:
        fields = line.split()
        if "->" in fields or len(fields) < 6 or fields[1] != "FLOCK":
            continue  # "->" marks a waiter, not a holder
        if fields[5] == ident and fields[4].isdigit() and int(fields[4]) > 0:
            pids.add(int(fields[4]))
    return pids


def _cmdline(pid: int) -> str | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    args = [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]
    if args and os.path.basename(args[0]).startswith("python") and len(args) > 1:
        args = args[1:]  # "python -m hermes_tui …" reads better without the interpreter
    return command_line(args) if args else None


def _read_holder(fd: int) -> Holder:
    """The holder of the lock ``fd`` could not take: its record, checked against the
    kernel's list of holders (the record is information, the lock is the truth)."""
    record: Holder | None = None
    deadline = time.monotonic() + GRACE
    steps = _sleep_steps(deadline)
    while True:
        try:
            record = Holder.from_json(os.pread(fd, 64 * 1024, 0))
        except OSError:
            record = None
        fresh = record is not None and record.pid is not None and (
            record.host not in (None, socket.gethostname()) or _pid_alive(record.pid))
        if fresh or next(steps, None) is None:
            break  # a new holder writes its record right after it took the lock
    kernel = _flock_pids(fd)
    if kernel and (record is None or record.pid not in kernel):
        pid = min(kernel)
        return Holder(pid, _cmdline(pid))
    if record is not None and record.pid is not None and (
            record.host not in (None, socket.gethostname()) or _pid_alive(record.pid)):
        return record
    return Holder(None)


class DataDirBusy(ProblemError):
    """Another process holds the data dir's lock; the problem names it."""

    def __init__(self, problem: Problem, holder: Holder) -> None:
        super().__init__(problem)
        self.holder = holder


class LockUnavailable(ProblemError):
    """The lock file cannot be created or opened (permissions, a read-only disk)."""


def busy_problem(root: Path, holder: Holder, *, hint: str = "") -> Problem:
    lock = Path(root) / LOCK_FILE_NAME
    stop = ("quit it (q in the wizard, Ctrl+C in setup or migrate"
            + (f"; kill {holder.pid} if it is stuck)" if holder.pid else ")"))
    fix = (f"Wait for it to finish or {stop}, then run this again. hermes-tui status and "
           "hermes-tui doctor work meanwhile.")
    if hint:
        fix += " " + hint
    return Problem(
        f"Another hermes-tui is already changing {display_path(root)}: {holder.describe()}.",
        fix,
        subject=display_path(lock),
    )


class DataDirLock:
    """The data dir's writer lock, held from `acquire` until `release` (or process end)."""

    def __init__(self, root: Path, *, argv: Sequence[str] | None = None, hint: str = "") -> None:
        self.root = Path(root)
        self.path = self.root / LOCK_FILE_NAME
        self.argv = argv
        #: Appended to the refusal's fix (e.g. setup's "or pass --wait SECONDS").
        self.hint = hint
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, wait: float = 0.0, *, create: bool = True,
                waiting: Callable[[Holder], object] | None = None) -> bool:
        """Take the lock, trying for ``wait`` seconds (at least `GRACE`).

        ``create``: make the data dir if it does not exist; when False and it does not,
        nothing is locked and False is returned (a command that then finds nothing to do).
        ``waiting``: called with the `Holder` once, when the lock is busy and ``wait`` > 0.
        Raises `DataDirBusy` naming the holder, or `LockUnavailable` (with the file and the
        fix) when the lock file cannot be made.
        """
        if self._fd is not None:
            return True
        try:
            if not create and not self.root.is_dir():
                return False
            with contextlib.suppress(FileExistsError):  # a file there: open() says so
                self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise LockUnavailable(os_error_problem(exc, self.path)) from exc
        try:
            self._take(fd, wait, waiting)
        except DataDirBusy:
            os.close(fd)
            raise
        except OSError as exc:  # e.g. ENOLCK: a filesystem that cannot lock
            os.close(fd)
            raise LockUnavailable(os_error_problem(exc, self.path)) from exc
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self._write_record(fd)
        return True

    def _take(self, fd: int, wait: float, waiting: Callable[[Holder], object] | None) -> None:
        if _try_flock(fd, fcntl.LOCK_EX):
            return
        if wait > 0 and waiting is not None:
            waiting(_read_holder(fd))
        for _ in _sleep_steps(time.monotonic() + max(wait, GRACE)):
            if _try_flock(fd, fcntl.LOCK_EX):
                return
        holder = _read_holder(fd)
        raise DataDirBusy(busy_problem(self.root, holder, hint=self.hint), holder)

    def _write_record(self, fd: int) -> None:
        holder = Holder(os.getpid(), command_line(self.argv),
                        datetime.now(UTC).replace(microsecond=0), socket.gethostname())
        with contextlib.suppress(OSError):  # the record only informs; the lock is held
            data = holder.to_json()
            os.ftruncate(fd, 0)
            os.pwrite(fd, data, 0)

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)  # no record outlives a clean exit
        os.close(fd)  # closing drops the flock

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def current_holder(root: Path) -> Holder | None:
    """Who holds ``root``'s lock right now, or None. Never waits; holds a shared lock for
    an instant only (a writer starting at that moment retries within `GRACE`)."""
    try:
        fd = os.open(Path(root) / LOCK_FILE_NAME, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if _try_flock(fd, fcntl.LOCK_SH):
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        return _read_holder(fd)
    except OSError:
        return None  # a filesystem that cannot lock: nothing to say
    finally:
        os.close(fd)


# --------------------------------------------------------------------------------------------
# One read-modify-write per folder
# --------------------------------------------------------------------------------------------

_local = threading.local()


def _held_folders() -> dict[str, int]:
    held = getattr(_local, "folders", None)
    if held is None:
        held = _local.folders = {}
    return held


@contextlib.contextmanager
def locked_folder(folder: Path | str, *, timeout: float = FOLDER_TIMEOUT,
                  file: Path | str | None = None) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` for a read-modify-write of ``file`` in it.

    Re-entrant within a thread. A folder that cannot be opened (absent, unreadable) is
    not locked: the read or write that follows reports the real error. Raises
    `WriteError` (EAGAIN, naming ``file``) when another writer keeps it over ``timeout``.
    """
    key = os.path.realpath(folder)
    held = _held_folders()
    if held.get(key):
        held[key] += 1
        try:
            yield
        finally:
            held[key] -= 1
        return
    try:
        fd = os.open(key, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        fd = None
    if fd is not None:
        try:
            _lock_folder(fd, timeout, Path(file) if file else Path(key))
        except BaseException:
            os.close(fd)
            raise
    held[key] = 1
    try:
        yield
    finally:
        del held[key]
        if fd is not None:
            os.close(fd)  # drops the lock


def _lock_folder(fd: int, timeout: float, file: Path) -> None:
    try:
        if _try_flock(fd, fcntl.LOCK_EX):
            return
    except OSError:
        return  # a filesystem without flock on folders: write unlocked, as before
    for _ in _sleep_steps(time.monotonic() + timeout):
        if _try_flock(fd, fcntl.LOCK_EX):
            return
    problem = Problem(
        f"Cannot update {display_path(file)}: another process kept it locked for "
        f"{timeout:g} s.",
        "Wait for the other hermes-tui (or script) writing there to finish, or stop it, "
        "then try again.",
        subject=display_path(file),
    )
    raise WriteError(problem, errno.EAGAIN, str(file))
