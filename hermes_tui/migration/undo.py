"""Undo a migration run, finished or interrupted, from its record (``journal``).

Separate from ``apply`` so that each reads in one sitting; ``apply.undo`` is this one.
"""

from __future__ import annotations

import stat
from datetime import datetime
from pathlib import Path

from hermes_tui.fsutil import atomic_write
from hermes_tui.migration.journal import (
    APPLYING,
    CREATED,
    REPLACED,
    WRITTEN,
    RunRecord,
    Target,
    read,
    sha,
    sweep_temp,
)
from hermes_tui.migration.plan import UNDONE_MARKER


def undo(run_dir: Path) -> list[str]:
    """Put the profile back as it was before ``run_dir``'s apply, finished or interrupted.

    Replaced files come back from ``backups/``; files the run created are removed, and so
    are folders it created once empty. A file changed since the apply is saved under
    ``run_dir/undo-saved/`` before it is restored. Of an interrupted run, what the journal
    says landed is undone, and any other file only if it holds what the run wrote. Undo
    may itself be interrupted and run again. Returns
    the profile-relative paths it restored or removed; an already undone run returns [].
    Raises ``RecordError`` when the run's record is missing or unreadable.
    """
    run_dir = Path(run_dir)
    if (run_dir / UNDONE_MARKER).exists():
        return []
    record = RunRecord.load(run_dir)
    landed = record.journal() if record.state == APPLYING else {}
    ours = []
    for index, target in enumerate(record.targets):
        if index in landed and landed[index][0] != WRITTEN:
            continue  # it failed: never written by this run
        if (record.state == APPLYING and index not in landed
                and sha(read(record.profile / target.path)) != target.after):
            continue  # not written yet (or someone else's since): not ours to undo
        ours.append(target)
    # Created files go first: removing them frees the room restoring the others may need
    # (an apply stopped by a full disk).
    ours.sort(key=lambda target: target.action != CREATED)
    done = [target.path for target in ours if _undo_one(record, target)]
    # Temp files of an apply, or of an earlier undo, that a kill stopped mid-write.
    sweep_temp(record.profile, record.targets)
    for rel in reversed(record.dirs_created):
        try:
            (record.profile / rel).rmdir()
        except OSError:
            pass  # not empty (someone added files), already gone, or never made: leave it
    atomic_write(run_dir / UNDONE_MARKER,
                 f"undone at {datetime.now().isoformat(timespec='seconds')}\n".encode(), 0o600)
    record.forget_pending()
    return done


def _undo_one(record: RunRecord, target: Target) -> bool:
    path = record.profile / target.path
    current = read(path)
    now = sha(current)
    if target.before is not None and now == target.before:
        return False  # already restored (an undo stopped half way and run again)
    if current is not None and now != target.after:
        saved = record.run_dir / "undo-saved" / target.path
        saved.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write(saved, current, mode=0o600)
    if target.action == REPLACED:
        backup = record.run_dir / str(target.backup)
        mode = stat.S_IMODE(backup.stat().st_mode)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write(path, backup.read_bytes(), mode=mode)
        return True
    if current is not None:
        path.unlink()
        return True
    return False
