"""Small filesystem helpers shared by every writer: atomic replace, friendly OS errors.

`describe_os_error` says what failed in one sentence naming the file; `os_error_problem`
adds the fix for that cause (free space, permissions, a read-only disk), and `WriteError`
carries that problem while staying an ``OSError`` for callers that catch those.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from hermes_tui.problem import Problem, ProblemError


def atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` so a reader sees the old file or the new one, never half.

    The bytes go to a temp file in the same folder (same filesystem), are fsynced, then
    ``os.replace``d over the target; the folder is fsynced so the rename survives a crash.
    The temp file is created with ``mode`` from the start, so a secret is never readable by
    others, not even for a moment.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


_FRIENDLY = {
    errno.EAGAIN: "another process is writing it",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "the filesystem is read-only",
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EEXIST: "something is already there",
    errno.ENAMETOOLONG: "the path is too long",
}


def describe_os_error(exc: OSError, path: Path | str | None = None, action: str = "write") -> str:
    """One sentence naming the path and the cause, e.g. 'Cannot write /x: the disk is full.'"""
    from hermes_tui.paths import display_path

    where = display_path(path or exc.filename or "the file")
    cause = _FRIENDLY.get(exc.errno or -1) or (exc.strerror or str(exc)).lower()
    return f"Cannot {action} {where}: {cause}."


def _folder_of(path: Path | str) -> str:
    from hermes_tui.paths import display_path

    return display_path(Path(path).parent)


def os_error_fix(exc: OSError, path: Path | str | None = None, action: str = "write") -> str:
    """What the user can do about ``exc`` on ``path``; "" when there is nothing specific."""
    folder = _folder_of(path or exc.filename or ".")
    code = exc.errno
    if code == errno.ENOSPC:
        return (f"Free some space on the disk that holds {folder} (df -h {folder} shows "
                "what is left), then try again.")
    if code == errno.EDQUOT:
        return (f"Free some space within your disk quota for {folder} (or ask for a larger "
                "quota), then try again.")
    if code == errno.EROFS:
        return (f"{folder} is on a read-only filesystem: remount it read-write, or choose "
                "another --data-dir, then try again.")
    if code in (errno.EACCES, errno.EPERM):
        verb = "read" if action == "read" else "write to"
        return (f"Let your user {verb} it (ls -l {folder} shows the owner; run as that user "
                "or change it with chown), or choose another --data-dir.")
    if code == errno.EAGAIN:
        return "Wait for the other hermes-tui to finish (or stop it), then try again."
    return ""


def os_error_problem(exc: OSError, path: Path | str | None = None,
                     action: str = "write") -> Problem:
    """``exc`` as a problem: the sentence naming the file, the fix, the file as subject."""
    from hermes_tui.paths import display_path

    where = path or exc.filename
    return Problem(describe_os_error(exc, where, action), os_error_fix(exc, where, action),
                   subject=display_path(where) if where else None)


class WriteError(ProblemError, OSError):
    """An ``OSError`` while reading or writing one of the wizard's files, as a problem.

    Still an ``OSError`` (with the original ``errno`` and the file as ``filename``), so
    callers that catch those keep working; ``str()`` is the sentence naming the file, never
    a bare "[Errno 28]".
    """

    def __init__(self, problem: Problem, errno_: int | None = None,
                 filename: str | None = None) -> None:
        super().__init__(problem)
        self.errno = errno_
        self.strerror = problem.what
        self.filename = filename

    @classmethod
    def wrap(cls, exc: OSError, path: Path | str, action: str = "write") -> WriteError:
        if isinstance(exc, WriteError):
            return exc
        return cls(os_error_problem(exc, path, action), exc.errno, str(path))

    def __str__(self) -> str:
        return self.problem.what
