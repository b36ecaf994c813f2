"""Small filesystem helpers shared by every writer: atomic replace, friendly OS errors."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path


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
