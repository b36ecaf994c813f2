"""Carry out a migration plan, with a backup of everything replaced, and finish one that
was interrupted (``undo``, re-exported here, lives in ``migration.undo``).

Each run gets ``<profile>/migration/openclaw/<YYYYmmddTHHMMSS>/`` holding ``backups/``
(pre-write copies of every replaced file), ``archive/`` (reference copies, never
activated), ``overflow/`` (memory entries over the cap), ``report.json`` (secrets
redacted), ``summary.md`` and ``manifest.json`` (what undo needs: paths and hashes only).

The run is written ahead (``journal``): before the first change to the profile, the
manifest records every file the run will write, its hashes before and after, where its
backup goes and the folders it will create; a journal line follows each file as it lands.
A run killed at any moment can therefore be undone to the byte, or finished from the bytes
it recorded (``finish_run``: the rest of the recorded plan, exactly as planned; a file
changed since is left alone and reported, as during an apply).

Every target and backup is written atomically; ``.env`` keeps the user's other lines (its
new text is composed by ``envfile.render_update`` and checked against the file right before
it is replaced). Nothing under the Claw directory is ever written, renamed or deleted:
each target is checked to lie outside it before the write.
"""

from __future__ import annotations

import json
import stat
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from hermes_tui.envfile import ENV_MODE
from hermes_tui.fsutil import atomic_write, describe_os_error
from hermes_tui.migration.journal import (
    APPLIED,
    APPLYING,
    CREATED,
    FAILED,
    JOURNAL,
    MANIFEST,
    PENDING,
    REPLACED,
    WRITTEN,
    RecordError,
    RunFile,
    RunRecord,
    Target,
    interrupted_runs,
    read,
    sha,
    sweep_leftovers,
    sweep_temp,
    write_pending,
)
from hermes_tui.migration.plan import (
    RUNS_DIR,
    ItemStatus,
    Plan,
    PlanItem,
    compose,
    default_mode,
)
from hermes_tui.migration.redact import redact_json, redact_text
from hermes_tui.migration.undo import undo
from hermes_tui.paths import display_path
from hermes_tui.problem import Problem, ProblemError
from hermes_tui.yamledit import ConfigError

REPORT = "report.json"
SUMMARY = "summary.md"

__all__ = ["MANIFEST", "REPORT", "SUMMARY", "ApplyError", "ApplyResult", "ConflictsPending",
           "InterruptedRunPending", "RecordError", "RunRecord", "apply_plan", "finish_run",
           "interrupted_runs", "new_run_dir", "render_summary", "undo"]


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


class InterruptedRunPending(ApplyError):
    """An earlier apply into this profile stopped half way: undo or finish it first."""

    def __init__(self, record: RunRecord) -> None:
        self.record = record
        super().__init__(interrupted_problem(record))


def interrupted_problem(record: RunRecord) -> Problem:
    """What an interrupted run is and the two ways out, for every front end."""
    done, total = record.progress()
    where = display_path(record.run_dir)
    return Problem(
        f"An apply of the OpenClaw migration into this profile was interrupted "
        f"({done} of {total} file(s) written, started {record.created_at[:19].replace('T', ' ')}).",
        f"Undo it (the profile goes back to how it was before) or finish it (the rest of "
        f"that apply is written as it was planned): the u or f key in the wizard's Claw "
        f"migration step, or hermes-tui migrate --undo {where} / --finish {where}.",
        subject=where,
    )


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


def new_run_dir(profile_dir: Path, now: datetime) -> Path:
    base = profile_dir / RUNS_DIR / now.strftime("%Y%m%dT%H%M%S")
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


class _Writer:
    """Writes into the profile and the run folder only, never inside the Claw folder."""

    def __init__(self, profile: Path, claw_dir: Path | None, run_dir: Path) -> None:
        self.profile = profile
        self.claw_real = claw_dir.resolve() if claw_dir is not None else None
        self.run_dir = run_dir

    def guard(self, path: Path) -> None:
        real = path.parent.resolve() / path.name
        if self.claw_real is not None and real.is_relative_to(self.claw_real):
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

    def write(self, path: Path, data: bytes, mode: int) -> None:
        self.guard(path)
        self.mkdirs(path.parent)
        atomic_write(path, data, mode=mode)


# -- apply: record, then write --------------------------------------------------------------


def apply_plan(plan: Plan, *, now: datetime | None = None) -> ApplyResult:
    """Apply the selected items of ``plan``. Raises ``InterruptedRunPending`` when an
    earlier apply into the profile was interrupted, ``ConflictsPending`` when any selected
    item is still an unresolved conflict (nothing is written then)."""
    stopped = interrupted_runs(plan.profile_dir)
    if stopped:  # first: a plan of a half-migrated profile is not worth resolving
        raise InterruptedRunPending(stopped[0])
    pending = plan.unresolved_conflicts()
    if pending:
        raise ConflictsPending(pending)
    sweep_leftovers(plan.profile_dir)
    now = now or datetime.now()
    run_dir = new_run_dir(plan.profile_dir, now)
    writer = _Writer(plan.profile_dir, plan.claw_dir, run_dir)
    writer.guard(run_dir)
    writer.mkdirs(run_dir)
    record, chunks = _record(plan, run_dir, now)
    # The write-ahead: the bytes, then the manifest pointing into them, both durable before
    # the first change to the profile.
    try:
        write_pending(run_dir, chunks)
        record.save()
    except OSError as exc:
        record.forget_pending()
        try:
            run_dir.rmdir()
        except OSError:
            pass
        raise ApplyError(Problem(
            f"{describe_os_error(exc, exc.filename or run_dir)} Nothing in the profile was changed.",
            "The run's record needs room for every file the apply writes: free some space or "
            "fix the folder's permissions, then apply again.",
            subject=display_path(run_dir))) from exc
    return _carry_out(record, writer, plan.secret_values())


def finish_run(run_dir: Path) -> ApplyResult:
    """Write what an interrupted apply had not written yet, from its own record, and end
    it as the apply would have. ``RecordError`` when the run is not an interrupted one."""
    record = RunRecord.load(Path(run_dir))
    if not record.interrupted:
        how = "was undone" if record.undone else "is complete"
        raise RecordError(Problem(f"The migration run {display_path(record.run_dir)} {how}: "
                                  "there is nothing to finish.", subject=display_path(record.run_dir)))
    claw = Path(record.source) if record.source else None
    return _carry_out(record, _Writer(record.profile, claw, record.run_dir), ())


def _record(plan: Plan, run_dir: Path, now: datetime) -> tuple[RunRecord, list[bytes]]:
    """Compose every target (nothing is written yet) and describe the run."""
    chunks: list[bytes] = []
    offset = 0

    def keep(data: bytes) -> tuple[int, int]:
        nonlocal offset
        chunks.append(data)
        offset += len(data)
        return offset - len(data), len(data)

    targets: list[Target] = []
    run_files: list[RunFile] = []
    errors: list[str] = []
    for rel, edits in plan.active_edits().items():
        before = plan.base.get(rel)
        try:
            composed = compose(rel, before, edits)
        except (ValueError, ConfigError) as exc:
            errors.append(f"{rel}: {exc}")
            continue
        # Entries over a memory cap go to the run's overflow/ file the plan names, also
        # when none fitted (the target itself is then unchanged).
        for name, entries in composed.overflow.items():
            text = ("\n".join(entries) + "\n").encode("utf-8")
            run_files.append(RunFile(f"overflow/{name}_overflow.txt", keep(text)))
        if composed.data is None or composed.data == before:
            continue
        if before is None:
            mode = composed.mode if composed.mode is not None else default_mode(rel)
            targets.append(Target(rel, CREATED, sha(composed.data), mode=mode,
                                  span=keep(composed.data)))
        else:
            targets.append(Target(rel, REPLACED, sha(composed.data), sha(before),
                                  f"backups/{rel}", span=keep(composed.data)))
    for rel, data in plan.archive_files():
        run_files.append(RunFile(f"archive/{rel}", keep(data)))
    paths_of = {item.id: sorted({e.path for e in item.edits}) for item in plan.items if item.active}
    record = RunRecord(
        run_dir=run_dir, profile=plan.profile_dir, state=APPLYING, created_at=now.isoformat(),
        targets=targets, dirs_created=_missing_dirs(plan.profile_dir, run_dir, targets),
        source=str(plan.claw_dir), run_files=run_files, errors=errors,
        report={"source": str(plan.claw_dir),
                "counts": {str(k): v for k, v in plan.counts().items()},
                "items": plan.to_json(), "item_paths": paths_of},
    )
    return record, chunks


def _missing_dirs(profile: Path, run_dir: Path, targets: list[Target]) -> list[str]:
    """Folders the targets need that do not exist yet, parents first; the run folder's
    own (``migration/openclaw``) stay with the record and are left out."""
    missing: dict[str, None] = {}
    seen: set[Path] = {profile}  # folders already looked at: thousands of files share them
    for target in targets:
        chain = []
        folder = (profile / target.path).parent
        while folder not in seen and folder != folder.parent:
            seen.add(folder)
            if folder.exists():
                break
            chain.append(folder)
            folder = folder.parent
        for path in reversed(chain):
            if not (path.is_relative_to(run_dir) or run_dir.is_relative_to(path)):
                missing.setdefault(path.relative_to(profile).as_posix())
    return list(missing)


def _carry_out(record: RunRecord, writer: _Writer, secrets: tuple[str, ...]) -> ApplyResult:
    """Write every target the journal does not list yet, then the run's own files and
    records. A journal line that cannot be written stops the run: it stays interrupted,
    for undo or finish."""
    landed = record.journal()
    sweep_temp(record.profile, record.targets[record.in_flight(landed):])
    try:
        with record.journal_writer() as journal:
            for index, target in enumerate(record.targets):
                if index in landed:
                    continue
                path = record.profile / target.path
                try:
                    _land(record, writer, target, path)
                    done, why = WRITTEN, None
                except OSError as exc:
                    done, why = FAILED, describe_os_error(exc, exc.filename or path)
                except ApplyError as exc:
                    done, why = FAILED, f"{target.path}: {exc}"
                journal.note(index, done, why)
                landed[index] = (done, why)
        return _conclude(record, writer, landed, secrets)
    except OSError as exc:  # the run's own record (a full disk): it stays interrupted
        raise ApplyError(Problem(
            f"The apply stopped: {describe_os_error(exc, exc.filename or record.run_dir / JOURNAL)}",
            "Fix that, then finish the run or undo it (the wizard's Claw migration "
            f"step, or hermes-tui migrate --finish / --undo {display_path(record.run_dir)}).",
            subject=display_path(record.run_dir))) from exc


def _land(record: RunRecord, writer: _Writer, target: Target, path: Path) -> None:
    """Write one target, its backup first. Idempotent: a target that already holds the
    planned bytes (it landed just before a kill) is left as it is. ``writer`` refuses any
    path inside the Claw folder."""
    current = read(path)
    now = sha(current)
    if now == target.after:
        return
    if now != target.before:
        raise ApplyError("changed since the plan was made; plan again to see the new state")
    data = record.data(target.span)
    if sha(data) != target.after:
        raise RecordError(Problem(
            f"{display_path(record.run_dir / PENDING)} does not hold what the run recorded for "
            f"{target.path}: it cannot be finished.", "Undo the run, then plan and apply again.",
            subject=display_path(record.run_dir)))
    if target.action == REPLACED:
        assert current is not None and target.backup is not None
        mode = stat.S_IMODE(path.stat().st_mode)
        writer.write(record.run_dir / target.backup, current, mode)
        if target.path == ".env":
            mode = ENV_MODE  # it holds secrets: readable by the user alone
    else:
        mode = target.mode if target.mode is not None else default_mode(target.path)
    writer.write(path, data, mode)


def _conclude(record: RunRecord, writer: _Writer, landed: dict[int, tuple[str, str | None]],
              secrets: tuple[str, ...]) -> ApplyResult:
    """The run's own files, the report and summary, then the final manifest."""
    result = ApplyResult(record.run_dir, errors=list(record.errors))
    written: list[Target] = []
    failed_paths = {line.split(":", 1)[0] for line in record.errors}  # "<path>: <why>"
    for index, target in enumerate(record.targets):
        done, why = landed[index]
        if done == WRITTEN:
            written.append(target)
            (result.created if target.action == CREATED else result.replaced).append(target.path)
        else:
            result.errors.append(why or target.path)
            failed_paths.add(target.path)
    for run_file in record.run_files:
        dest = record.run_dir / run_file.path
        try:
            writer.write(dest, record.data(run_file.span), 0o600)
        except OSError as exc:
            result.errors.append(describe_os_error(exc, dest))
            continue
        kind, rel = run_file.path.split("/", 1)
        if kind == "archive":
            result.archived.append(rel)
        elif run_file.path not in result.overflow:
            result.overflow.append(run_file.path)

    plan_part = record.report
    items = [dict(item) for item in plan_part.get("items", [])]
    paths_of = plan_part.get("item_paths", {})
    for item in items:
        if failed_paths & set(paths_of.get(item["id"], ())):
            item["status"] = str(ItemStatus.error)
            item["reason"] = "not written: " + "; ".join(result.errors)
    files = [target.to_json() for target in written]
    for entry in files:
        entry.pop("span", None)
    report = {
        "version": 1, "created_at": record.created_at, "source": plan_part.get("source"),
        "profile": str(record.profile), "run_dir": str(record.run_dir),
        "counts": plan_part.get("counts", {}), "items": items, "files": files,
        "archived": result.archived, "overflow": result.overflow, "errors": result.errors,
    }
    writer.write(record.run_dir / REPORT, _json(redact_json(report, secrets)), 0o600)
    summary = render_summary(report, result, datetime.fromisoformat(record.created_at))
    writer.write(record.run_dir / SUMMARY, redact_text(summary, secrets).encode("utf-8"), 0o600)
    for target in written:
        target.span = None
    record.state, record.targets = APPLIED, written
    record.save()
    record.forget_pending()
    return result


def _json(data: object) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def render_summary(report: dict[str, Any], result: ApplyResult, now: datetime) -> str:
    counts = report.get("counts", {})
    lines = [
        "# OpenClaw → Hermes migration",
        "",
        f"- When: {now.isoformat(timespec='seconds')}",
        f"- From: {display_path(report.get('source') or '?')} (read only; nothing there was changed)",
        f"- Into: {display_path(report['profile'])}",
        "- Counts: " + ", ".join(f"{counts.get(str(s), 0)} {s}" for s in ItemStatus),
        (f"- Files created: {len(result.created)}; replaced (backed up under backups/): "
         f"{len(result.replaced)}"),
        "",
        "| Status | Kind | Source | Destination | Reason |",
        "|---|---|---|---|---|",
    ]
    for item in report.get("items", []):
        cells = [item["status"], item["kind"], item["source"], item["destination"], item["reason"]]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    if result.errors:
        lines += ["", "## Not written", "", *(f"- {e}" for e in result.errors)]
    lines += ["", ("Undo restores every replaced file from backups/ and removes the files this "
                   "run created (the Undo key in the migration step).")]
    return "\n".join(lines) + "\n"
