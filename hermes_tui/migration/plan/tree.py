"""Reading the source safely: a read-only view of a folder that refuses to leave it.

Also the small source-side helpers every mapper uses: dotted lookups in openclaw.json and
the earlier migration runs of the profile (for "already archived" / "already overflowed").
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hermes_tui.fsutil import describe_os_error
from hermes_tui.limits import MAX_CONFIG_BYTES, FileTooLarge, read_bounded
from hermes_tui.migration.detect import parse_config_text

RUNS_DIR = "migration/openclaw"
UNDONE_MARKER = "UNDONE"


class SourceError(Exception):
    """A source file that cannot be used; the message says why in a sentence."""


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


@dataclass
class SourceTree:
    """A read-only view of one source folder that refuses to leave it through links."""

    root: Path
    label: Path  # what relative names are shown against (the Claw dir)

    def __post_init__(self) -> None:
        self.real = self.root.resolve()

    def name(self, path: Path) -> str:
        return _rel(path, self.label)

    def check_inside(self, path: Path) -> None:
        try:
            real = path.resolve()
        except (OSError, RuntimeError) as exc:
            raise SourceError(f"{self.name(path)}: cannot follow the link ({exc}).") from None
        if not real.is_relative_to(self.real):
            raise SourceError(
                f"{self.name(path)} is a symbolic link to {real}, outside the OpenClaw folder: "
                "not followed, not copied."
            )

    def read_bytes(self, path: Path, limit: int | None = None) -> bytes:
        """The file's bytes (at most ``limit``: a larger file is a ``SourceError`` naming
        its size and the limit, and is not read)."""
        self.check_inside(path)
        try:
            st = path.stat()
            if not stat.S_ISREG(st.st_mode):
                raise SourceError(f"{self.name(path)} is not a regular file.")
            if limit is None:
                with open(path, "rb") as handle:
                    return handle.read()
            return read_bounded(path, limit)
        except FileTooLarge as exc:
            raise SourceError(exc.sentence(self.name(path))) from None
        except OSError as exc:
            raise SourceError(describe_os_error(exc, path, action="read")) from None

    def read_text(self, path: Path, limit: int = MAX_CONFIG_BYTES) -> str:
        """A text file the plan parses (JSON, .env, Markdown): UTF-8, at most ``limit``."""
        data = self.read_bytes(path, limit)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SourceError(
                f"{self.name(path)} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
                f"{exc.start}); convert it to UTF-8 and plan again."
            ) from None

    def read_json(self, path: Path) -> dict[str, Any]:
        """A JSON (or JSON5) object file of the Claw folder: ``SourceError`` when it cannot
        be read or is too large, ``ConfigSyntaxError`` when it is malformed or too deep."""
        return parse_config_text(self.read_text(path))

    def walk(self, top: Path) -> tuple[list[tuple[str, bytes, int]], list[str], list[str]]:
        """Files under ``top`` as (relative path, bytes, mode), link escapes, other errors.

        Links are never descended into; a link to a file inside the tree is copied by
        content, a link that leads outside is reported and left out.
        """
        files: list[tuple[str, bytes, int]] = []
        escapes: list[str] = []
        errors: list[str] = []

        def onerror(exc: OSError) -> None:
            errors.append(describe_os_error(exc, exc.filename, action="read"))

        for dirpath, dirnames, filenames in os.walk(top, onerror=onerror, followlinks=False):
            here = Path(dirpath)
            for d in sorted(dirnames):
                p = here / d
                if p.is_symlink():
                    try:
                        self.check_inside(p)  # inside: simply not descended into
                    except SourceError as exc:
                        escapes.append(str(exc))
            dirnames[:] = sorted(d for d in dirnames if not (here / d).is_symlink())
            for f in sorted(filenames):
                p = here / f
                try:
                    data = self.read_bytes(p)
                    mode = 0o755 if p.stat().st_mode & 0o111 else 0o644
                except SourceError as exc:
                    (escapes if p.is_symlink() else errors).append(str(exc))
                    continue
                files.append((p.relative_to(top).as_posix(), data, mode))
        return files, escapes, errors

def dig(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data



def read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes() if path.is_file() and not path.is_symlink() else None
    except OSError:
        return None


def previous_archives(profile_dir: Path) -> list[Path]:
    """Earlier (not undone) migration runs in this profile, newest first."""
    runs = profile_dir / RUNS_DIR
    try:
        found = [p for p in runs.iterdir() if p.is_dir() and not (p / UNDONE_MARKER).exists()]
    except OSError:
        return []
    return sorted(found, reverse=True)

