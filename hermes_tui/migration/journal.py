"""The record of a migration run, written ahead of every change it makes to the profile.

While an apply is under way its run folder holds:

- ``pending.bin``: the bytes every target will get, one after the other. Written and
  fsynced first; it holds what ``.env`` will hold, so it is mode 0600 and removed as soon
  as the run is complete or undone.
- ``manifest.json`` (state ``applying``): for each target, in the order it is written,
  its path, whether it is created or replaced, the sha256 of its bytes before and after,
  where its backup goes and where its bytes sit in ``pending.bin``; and the folders the
  run will create. Replaced atomically (temp file, fsync, rename) before the first change.
- ``journal.log``: one line per target once it has landed (written, or failed and why),
  each appended with one write(2), so a kill leaves whole lines; fsynced every
  ``SYNC_EVERY`` lines and at the end. Rewriting a 5,000-file manifest after every file
  instead doubled a 10 s apply on this machine and grows with the square of the run.

When the apply ends, the report and summary are written, then the manifest is replaced by
the final one (state ``applied``, only the files written), then ``pending.bin`` and
``journal.log`` go. A manifest still saying ``applying`` means the run was interrupted
(killed, power cut). Every target with a journal line is settled; every other one is
judged by its bytes: it holds what the run writes (it landed), or it does not (untouched,
or someone else's). Each file and backup is written atomically and fsynced before the
next, so this holds even when a power cut lost the journal's last lines: they only give
the count shown and the reasons a file failed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from hermes_tui.fsutil import atomic_write
from hermes_tui.migration.plan import RUNS_DIR, UNDONE_MARKER
from hermes_tui.paths import display_path
from hermes_tui.problem import Problem, ProblemError

MANIFEST = "manifest.json"
JOURNAL = "journal.log"
PENDING = "pending.bin"
VERSION = 2
APPLYING = "applying"
APPLIED = "applied"
WRITTEN = "written"
FAILED = "failed"
CREATED = "created"
REPLACED = "replaced"


class RecordError(ProblemError):
    """A run folder's record is missing or unreadable; the message names it and the way out."""


@dataclass
class Target:
    """One profile file the run creates or replaces."""

    path: str
    action: str
    #: sha256 of the bytes the run writes.
    after: str
    #: sha256 of the bytes it replaces (None: the file did not exist, or a version 1 record).
    before: str | None = None
    #: Where the replaced bytes are kept, relative to the run folder.
    backup: str | None = None
    #: The mode a created file gets (a replaced file keeps its own).
    mode: int | None = None
    #: (offset, length) of the bytes in pending.bin.
    span: tuple[int, int] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "action": self.action, "backup": self.backup,
                               "sha256": self.after}
        if self.before is not None:
            out["before_sha256"] = self.before
        if self.mode is not None:
            out["mode"] = self.mode
        if self.span is not None:
            out["span"] = list(self.span)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Target:
        span = data.get("span")
        return cls(str(data["path"]), str(data["action"]), str(data.get("sha256")),
                   data.get("before_sha256"), data.get("backup"), data.get("mode"),
                   (int(span[0]), int(span[1])) if span else None)


@dataclass
class RunFile:
    """A file of the run's own record (``archive/…``, ``overflow/…``): never undone."""

    path: str
    span: tuple[int, int]

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "span": list(self.span)}


@dataclass
class RunRecord:
    """What ``manifest.json`` says about one run, and its journal."""

    run_dir: Path
    profile: Path
    state: str
    created_at: str
    targets: list[Target]
    #: Profile-relative folders the run creates, parents first.
    dirs_created: list[str] = field(default_factory=list)
    #: The Claw folder read (every target is checked to lie outside it).
    source: str | None = None
    run_files: list[RunFile] = field(default_factory=list)
    #: Targets that could not be composed at all (recorded before anything was written).
    errors: list[str] = field(default_factory=list)
    #: The plan's half of the report (redacted): counts, items, each item's paths.
    report: dict[str, Any] = field(default_factory=dict)
    version: int = VERSION

    @property
    def interrupted(self) -> bool:
        return self.state == APPLYING and not self.undone

    @property
    def undone(self) -> bool:
        return (self.run_dir / UNDONE_MARKER).exists()

    # -- the manifest ----------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "version": self.version, "state": self.state, "created_at": self.created_at,
            "profile": str(self.profile), "source": self.source,
            "files": [t.to_json() for t in self.targets],
            "dirs_created": self.dirs_created,
        }
        if self.state == APPLYING:
            out |= {"run_files": [f.to_json() for f in self.run_files], "errors": self.errors,
                    "report": self.report}
        return out

    def save(self) -> None:
        atomic_write(self.run_dir / MANIFEST, _json(self.to_json()), 0o600)

    @classmethod
    def load(cls, run_dir: Path) -> RunRecord:
        """The run's record; ``RecordError`` when it is missing or cannot be read."""
        run_dir = Path(run_dir)
        path = run_dir / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            record = cls(
                run_dir=run_dir, profile=Path(data["profile"]),
                state=str(data.get("state", APPLIED)), created_at=str(data.get("created_at", "")),
                targets=[Target.from_json(entry) for entry in data["files"]],
                dirs_created=[str(d) for d in data.get("dirs_created", [])],
                source=data.get("source"),
                run_files=[RunFile(str(f["path"]), (int(f["span"][0]), int(f["span"][1])))
                           for f in data.get("run_files", [])],
                errors=[str(e) for e in data.get("errors", [])],
                report=dict(data.get("report", {})), version=int(data.get("version", 1)))
        except FileNotFoundError as exc:
            raise RecordError(Problem(
                f"{display_path(run_dir)} holds no {MANIFEST}: it is not a migration run "
                "folder, or its record was deleted.",
                "Pass the run folder the apply printed (<profile>/migration/openclaw/<time>/).",
                subject=display_path(path))) from exc
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            raise RecordError(Problem(
                f"The record of the migration run {display_path(run_dir)} cannot be read "
                f"({type(exc).__name__}: {exc}).",
                f"Nothing was changed. Copy the files you need back by hand from "
                f"{display_path(run_dir / 'backups')}/.",
                subject=display_path(path))) from exc
        if record.state not in (APPLYING, APPLIED):
            raise RecordError(Problem(
                f"{display_path(path)} has an unknown state {record.state!r}: it was written "
                "by a newer hermes-tui.", "Upgrade hermes-tui to undo or finish this run.",
                subject=display_path(path)))
        return record

    # -- the journal -----------------------------------------------------------------

    def journal(self) -> dict[int, tuple[str, str | None]]:
        """Index → (written | failed, why) for each target that landed. A torn last line
        (a power cut mid-append) ends it: that target is judged by its bytes."""
        try:
            raw = (self.run_dir / JOURNAL).read_bytes()
        except FileNotFoundError:
            return {}
        landed: dict[int, tuple[str, str | None]] = {}
        for line in raw.splitlines():
            try:
                entry = json.loads(line)
                landed[int(entry["i"])] = (str(entry["done"]), entry.get("why"))
            except (ValueError, KeyError, TypeError):
                break
        return landed

    def journal_writer(self) -> JournalWriter:
        return JournalWriter(self)

    def in_flight(self, landed: dict[int, tuple[str, str | None]]) -> int:
        """The first target without a journal line (``len(targets)`` when none)."""
        index = 0
        while index in landed:
            index += 1
        return index

    # -- pending bytes ---------------------------------------------------------------

    def data(self, span: tuple[int, int] | None) -> bytes:
        if span is None:
            raise RecordError(Problem(f"{display_path(self.run_dir / MANIFEST)} names no bytes "
                                      "for a file to write."))
        offset, length = span
        try:
            with open(self.run_dir / PENDING, "rb") as handle:
                handle.seek(offset)
                data = handle.read(length)
        except FileNotFoundError as exc:
            raise RecordError(Problem(
                f"The bytes this run still had to write ({display_path(self.run_dir / PENDING)}) "
                "are gone, so it cannot be finished.",
                f"Undo it (hermes-tui migrate --undo {display_path(self.run_dir)}), then plan "
                "and apply again.", subject=display_path(self.run_dir))) from exc
        if len(data) != length:
            raise RecordError(Problem(f"{display_path(self.run_dir / PENDING)} is shorter than "
                                      "recorded: it cannot be finished.",
                                      "Undo the run, then plan and apply again.",
                                      subject=display_path(self.run_dir)))
        return data

    def progress(self) -> tuple[int, int]:
        """(targets settled, targets planned)."""
        landed = self.journal() if self.state == APPLYING else {}
        done = len(landed) if self.state == APPLYING else len(self.targets)
        return done, len(self.targets)

    def forget_pending(self) -> None:
        """Remove what only an unfinished run needs (pending.bin holds secrets)."""
        for name in (PENDING, JOURNAL):
            try:
                (self.run_dir / name).unlink()
            except FileNotFoundError:
                pass


def sha(data: bytes | None) -> str | None:
    """A file's sha256 as the record keeps it (None: no file)."""
    return None if data is None else hashlib.sha256(data).hexdigest()


def read(path: Path) -> bytes | None:
    """A file's bytes, or None when there is none."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


# ``fsutil.atomic_write``'s temp files: ".<name>." + mkstemp's 8 random characters + ".tmp".
_TEMP = re.compile(r"\.(?P<name>.+)\.[a-z0-9_]{8}\.tmp")


def sweep_temp(profile: Path, targets: list[Target]) -> None:
    """Remove the temp files a kill left beside ``targets`` (an atomic write stopped before
    its rename); one listing per folder."""
    names: dict[Path, set[str]] = {}
    for target in targets:
        path = profile / target.path
        names.setdefault(path.parent, set()).add(path.name)
    for folder, wanted in names.items():
        try:
            entries = os.listdir(folder)
        except OSError:
            continue
        for entry in entries:
            match = _TEMP.fullmatch(entry)
            if match and match["name"] in wanted:
                try:
                    (folder / entry).unlink()
                except FileNotFoundError:
                    pass


SYNC_EVERY = 64


class JournalWriter:
    """Appends a line per target as it lands; use as a context manager."""

    def __init__(self, record: RunRecord) -> None:
        self.record = record
        self.path = record.run_dir / JOURNAL
        self.fd = -1
        self.unsynced = 0

    def __enter__(self) -> Self:
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return self

    def note(self, index: int, done: str, why: str | None = None) -> None:
        line = json.dumps({"i": index, "path": self.record.targets[index].path, "done": done,
                           "why": why}, ensure_ascii=False).encode("utf-8") + b"\n"
        os.write(self.fd, line)  # one write(2): a kill leaves the whole line or none of it
        self.unsynced += 1
        if self.unsynced >= SYNC_EVERY:
            os.fsync(self.fd)
            self.unsynced = 0

    def __exit__(self, *exc: object) -> None:
        try:
            if self.unsynced and exc[0] is None:
                os.fsync(self.fd)
        finally:
            os.close(self.fd)


def write_pending(run_dir: Path, chunks: list[bytes]) -> None:
    """``pending.bin``, durably, before the manifest that points into it."""
    fd = os.open(run_dir / PENDING, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        (run_dir / PENDING).unlink(missing_ok=True)
        raise


def interrupted_runs(profile_dir: Path) -> list[RunRecord]:
    """The profile's runs whose apply stopped before it ended and that were not undone,
    newest first. Cheap when there are none: only run folders still holding
    ``pending.bin`` are read. A record that cannot be read is left out (an atomic replace
    never leaves one half written; ``undo`` on that folder says what to do)."""
    runs = Path(profile_dir) / RUNS_DIR
    try:
        candidates = sorted((p for p in runs.iterdir() if (p / PENDING).exists()
                             and (p / MANIFEST).exists() and not (p / UNDONE_MARKER).exists()),
                            reverse=True)
    except OSError:
        return []
    found = []
    for run_dir in candidates:
        try:
            record = RunRecord.load(run_dir)
        except RecordError:
            continue
        if record.interrupted:
            found.append(record)
    return found


def latest_applied(profile_dir: Path) -> RunRecord | None:
    """The newest run into the profile that completed and was not undone, if any."""
    runs = Path(profile_dir) / RUNS_DIR
    try:
        folders = sorted((p for p in runs.iterdir() if (p / MANIFEST).exists()
                          and not (p / UNDONE_MARKER).exists()), reverse=True)
    except OSError:
        return None
    for run_dir in folders:
        try:
            record = RunRecord.load(run_dir)
        except RecordError:
            continue
        if record.state == APPLIED:
            return record
    return None


def sweep_leftovers(profile_dir: Path) -> None:
    """Remove what kills left behind that no undo or finish needs, before a new apply:
    a run folder killed before its manifest was written (nothing in the profile had
    changed yet: it holds at most ``pending.bin`` and a temp manifest), and the pending
    bytes of a run killed just after its final manifest was written. Both can hold secrets.
    A folder holding anything else (an older version's run) is left as it is."""
    runs = Path(profile_dir) / RUNS_DIR
    try:
        folders = [p for p in runs.iterdir() if p.is_dir() and not p.is_symlink()]
    except OSError:
        return
    for run_dir in folders:
        try:
            names = os.listdir(run_dir)
        except OSError:
            continue
        if MANIFEST in names:
            if PENDING not in names:
                continue
            try:
                if RunRecord.load(run_dir).interrupted:
                    continue
            except RecordError:
                continue
            leftovers = [PENDING, JOURNAL]
        elif all(name in (PENDING, JOURNAL) or _TEMP_MANIFEST.fullmatch(name) for name in names):
            leftovers = names
        else:
            continue
        for name in leftovers:
            (run_dir / name).unlink(missing_ok=True)
        if MANIFEST not in names:
            try:
                run_dir.rmdir()
            except OSError:
                pass


#: ``fsutil.atomic_write``'s temp file for the manifest: ".manifest.json.<8 random>.tmp".
_TEMP_MANIFEST = re.compile(r"\.manifest\.json\.[a-z0-9_]{8}\.tmp")


def _json(data: object) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
