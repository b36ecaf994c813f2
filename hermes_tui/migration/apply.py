"""Carry out a migration plan, with a backup of everything replaced, and undo it.

Each run gets ``<profile>/migration/openclaw/<YYYYmmddTHHMMSS>/`` holding ``backups/``
(pre-write copies of every replaced file), ``archive/`` (reference copies, never
activated), ``overflow/`` (memory entries over the cap), ``report.json`` (secrets
redacted), ``summary.md`` and ``manifest.json`` (what undo needs: paths and hashes only).

Every target is written atomically; ``.env`` through ``envfile.update_env`` so the user's
other lines stay. Nothing under the Claw directory is ever written, renamed or deleted:
each target is checked to lie outside it before the write.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from hermes_tui.envfile import update_env
from hermes_tui.fsutil import atomic_write, describe_os_error
from hermes_tui.migration.plan import (
    RUNS_DIR,
    UNDONE_MARKER,
    Edit,
    ItemStatus,
    Plan,
    PlanItem,
    compose,
    default_mode,
)
from hermes_tui.migration.redact import redact_json, redact_text
from hermes_tui.paths import display_path
from hermes_tui.problem import Problem, ProblemError
from hermes_tui.yamledit import ConfigError

MANIFEST = "manifest.json"
REPORT = "report.json"
SUMMARY = "summary.md"


class ApplyError(ProblemError):
    """The plan cannot be applied as it stands; the message says why and what to do."""


class ConflictsPending(ApplyError):
    def __init__(self, items: list[PlanItem]) -> None:
        self.items = items
        ids = ", ".join(item.id for item in items)
        super().__init__(Problem(
            f"{len(items)} conflict(s) need a choice before applying: {ids}.",
            "Choose overwrite, skip or rename for each (or deselect it).",
            subject=ids,
        ))


@dataclass
class ApplyResult:
    run_dir: Path
    #: Profile-relative paths created by this run.
    created: list[str] = field(default_factory=list)
    #: Profile-relative paths replaced (each backed up under run_dir/backups/ first).
    replaced: list[str] = field(default_factory=list)
    #: Paths under run_dir/archive/.
    archived: list[str] = field(default_factory=list)
    #: Paths under run_dir/overflow/.
    overflow: list[str] = field(default_factory=list)
    #: One sentence per target that could not be written; the rest went ahead.
    errors: list[str] = field(default_factory=list)

    @property
    def report_path(self) -> Path:
        return self.run_dir / REPORT

    @property
    def summary_path(self) -> Path:
        return self.run_dir / SUMMARY

    @property
    def backup_dir(self) -> Path:
        return self.run_dir / "backups"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def new_run_dir(profile_dir: Path, now: datetime) -> Path:
    base = profile_dir / RUNS_DIR / now.strftime("%Y%m%dT%H%M%S")
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


class _Writer:
    """Writes into the profile and the run folder only, remembering what it created."""

    def __init__(self, plan: Plan, run_dir: Path) -> None:
        self.profile = plan.profile_dir
        self.claw_real = plan.claw_dir.resolve()
        self.run_dir = run_dir
        self.created_dirs: list[str] = []

    def guard(self, path: Path) -> None:
        real = path.parent.resolve() / path.name
        if real.is_relative_to(self.claw_real):
            raise ApplyError(f"refusing to write {display_path(path)}: it lies inside the Claw folder")

    def mkdirs(self, folder: Path) -> None:
        missing = []
        current = folder
        while not current.exists():
            missing.append(current)
            current = current.parent
        for path in reversed(missing):
            self.guard(path)
            path.mkdir(mode=0o700)
            # Folders of the run's own record stay with the record; undo leaves them.
            if path.is_relative_to(self.profile) and not (
                    path.is_relative_to(self.run_dir) or self.run_dir.is_relative_to(path)):
                self.created_dirs.append(path.relative_to(self.profile).as_posix())

    def write(self, path: Path, data: bytes, mode: int) -> None:
        self.guard(path)
        self.mkdirs(path.parent)
        atomic_write(path, data, mode=mode)


def apply_plan(plan: Plan, *, now: datetime | None = None) -> ApplyResult:
    """Apply the selected items of ``plan``. Raises ``ConflictsPending`` when any selected
    item is still an unresolved conflict (nothing is written then)."""
    pending = plan.unresolved_conflicts()
    if pending:
        raise ConflictsPending(pending)
    now = now or datetime.now()
    run_dir = new_run_dir(plan.profile_dir, now)
    writer = _Writer(plan, run_dir)
    writer.guard(run_dir)
    writer.mkdirs(run_dir)
    result = ApplyResult(run_dir)
    files: list[dict[str, object]] = []
    failed_paths: set[str] = set()

    edits = plan.active_edits()
    for rel, path_edits in edits.items():
        target = plan.profile_dir / rel
        try:
            entry = _apply_one(plan, writer, rel, target, path_edits, result)
        except (OSError, ApplyError, ValueError, ConfigError) as exc:
            why = describe_os_error(exc, target) if isinstance(exc, OSError) else f"{rel}: {exc}"
            result.errors.append(why)
            failed_paths.add(rel)
            continue
        if entry is not None:
            files.append(entry)

    for rel, data in plan.archive_files():
        dest = run_dir / "archive" / rel
        try:
            writer.write(dest, data, 0o600)
            result.archived.append(rel)
        except (OSError, ApplyError) as exc:
            result.errors.append(describe_os_error(exc, dest) if isinstance(exc, OSError) else str(exc))

    failed_items = {item.id for item in plan.items if item.active
                    and any(e.path in failed_paths for e in item.edits)}
    _write_records(plan, writer, result, files, failed_items, now)
    return result


def _apply_one(plan: Plan, writer: _Writer, rel: str, target: Path, edits: list[Edit],
               result: ApplyResult) -> dict[str, object] | None:
    planned_before = plan.base.get(rel)
    current = _read(target)
    if current != planned_before:
        raise ApplyError("changed since the plan was made; plan again to see the new state")
    composed = compose(rel, current, edits)
    # Entries over a memory cap go to the run's overflow/ file the plan names, also when
    # none fitted (the target itself is then unchanged).
    for name, entries in composed.overflow.items():
        out = writer.run_dir / "overflow" / f"{name}_overflow.txt"
        writer.write(out, ("\n".join(entries) + "\n").encode("utf-8"), 0o600)
        result.overflow.append(out.relative_to(writer.run_dir).as_posix())
    if composed.data is None or composed.data == current:
        return None
    backup_rel = None
    if current is not None:
        mode = stat.S_IMODE(target.stat().st_mode)
        backup = writer.run_dir / "backups" / rel
        writer.mkdirs(backup.parent)
        shutil.copy2(target, backup, follow_symlinks=True)
        backup_rel = f"backups/{rel}"
    else:
        mode = composed.mode if composed.mode is not None else default_mode(rel)
    if rel == ".env":
        updates: dict[str, str | None] = {}
        for edit in edits:
            updates.update(edit.data)
        writer.guard(target)
        update_env(target, updates)  # rewrites only these keys, keeps the rest, mode 0600
        written = _read(target) or b""
    else:
        writer.write(target, composed.data, mode)
        written = composed.data
    (result.replaced if current is not None else result.created).append(rel)
    return {"path": rel, "action": "replaced" if current is not None else "created",
            "backup": backup_rel, "sha256": _sha(written)}


def _write_records(plan: Plan, writer: _Writer, result: ApplyResult,
                   files: list[dict[str, object]], failed_items: set[str], now: datetime) -> None:
    secrets = plan.secret_values()
    items = plan.to_json()
    for entry in items:
        if entry["id"] in failed_items:
            entry["status"] = str(ItemStatus.error)
            entry["reason"] = "not written: " + "; ".join(result.errors)
    manifest = {
        "version": 1,
        "created_at": now.isoformat(),
        "profile": str(plan.profile_dir),
        "files": files,
        "dirs_created": writer.created_dirs,
    }
    writer.write(result.run_dir / MANIFEST, _json(manifest), 0o600)
    report = {
        "version": 1,
        "created_at": now.isoformat(),
        "source": str(plan.claw_dir),
        "profile": str(plan.profile_dir),
        "run_dir": str(result.run_dir),
        "counts": {str(k): v for k, v in plan.counts().items()},
        "items": items,
        "files": files,
        "archived": result.archived,
        "overflow": result.overflow,
        "errors": result.errors,
    }
    writer.write(result.run_dir / REPORT, _json(redact_json(report, secrets)), 0o600)
    writer.write(result.run_dir / SUMMARY,
                 redact_text(render_summary(plan, result, now), secrets).encode("utf-8"), 0o600)


def _json(data: object) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def render_summary(plan: Plan, result: ApplyResult, now: datetime) -> str:
    counts = plan.counts()
    lines = [
        "# OpenClaw → Hermes migration",
        "",
        f"- When: {now.isoformat(timespec='seconds')}",
        f"- From: {display_path(plan.claw_dir)} (read only; nothing there was changed)",
        f"- Into: {display_path(plan.profile_dir)}",
        "- Counts: " + ", ".join(f"{counts[s]} {s}" for s in ItemStatus),
        (f"- Files created: {len(result.created)}; replaced (backed up under backups/): "
         f"{len(result.replaced)}"),
        "",
        "| Status | Kind | Source | Destination | Reason |",
        "|---|---|---|---|---|",
    ]
    for item in plan.to_json():
        cells = [item["status"], item["kind"], item["source"], item["destination"], item["reason"]]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    if result.errors:
        lines += ["", "## Not written", "", *(f"- {e}" for e in result.errors)]
    lines += ["", ("Undo restores every replaced file from backups/ and removes the files this "
                   "run created (the Undo key in the migration step).")]
    return "\n".join(lines) + "\n"


def undo(run_dir: Path) -> list[str]:
    """Put the profile back as it was before ``run_dir``'s apply.

    Replaced files come back from ``backups/``; files the run created are removed, and so
    are folders it created once empty. A file changed since the apply is saved under
    ``run_dir/undo-saved/`` before it is restored. Returns the profile-relative paths it
    restored or removed; an already undone run returns [].
    """
    run_dir = Path(run_dir)
    if (run_dir / UNDONE_MARKER).exists():
        return []
    manifest = json.loads((run_dir / MANIFEST).read_text(encoding="utf-8"))
    profile = Path(manifest["profile"])
    done: list[str] = []
    for entry in reversed(manifest["files"]):
        rel = str(entry["path"])
        target = profile / rel
        current = _read(target)
        if current is not None and _sha(current) != entry.get("sha256"):
            saved = run_dir / "undo-saved" / rel
            saved.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            atomic_write(saved, current, mode=0o600)
        if entry["action"] == "replaced":
            backup = run_dir / str(entry["backup"])
            mode = stat.S_IMODE(backup.stat().st_mode)
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            atomic_write(target, backup.read_bytes(), mode=mode)
            done.append(rel)
        elif current is not None:
            target.unlink()
            done.append(rel)
    for rel in reversed(manifest.get("dirs_created", [])):
        folder = profile / rel
        try:
            folder.rmdir()
        except OSError:
            pass  # not empty (someone added files) or already gone: leave it
    atomic_write(run_dir / UNDONE_MARKER,
                 f"undone at {datetime.now().isoformat(timespec='seconds')}\n".encode(), 0o600)
    return done
