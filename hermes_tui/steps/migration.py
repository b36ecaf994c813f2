"""Step 6 — Claw migration, headless: detect, plan (a dry run), apply, undo, skip, and an
apply that was interrupted (killed, power cut): find it, undo it or finish it.

Inputs: the Claw folder asked for (None: ``~/.openclaw``), the profile folder, whether
secrets may be migrated; the front end's choices are made on the ``Plan`` itself (select,
resolve). Outcomes: a ``ClawDetection`` (with ``auto_skip_reason``), a ``Plan``, an
``ApplyResult`` or the paths an undo restored; failures are ``MigrationError`` carrying a
Problem. State changes: ``state.migration`` (skipped, dry-run, applied), ``state.claw_dir``,
``state.channels`` (after an apply, finish or undo: what the profile's ``.env`` configures)
and the step's status. Opening the next step is left to the front end: ``MigrationScreen``
and ``setup``.

An interrupted apply blocks planning (``make_plan`` raises ``InterruptedApply``): a plan of
a half-migrated profile would call half the files "already migrated". Finishing it writes
the rest of the plan it recorded, byte for byte; re-planning would instead pick up whatever
changed in the Claw folder since and lose the choices made for that apply.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from hermes_tui.envfile import read_env
from hermes_tui.fsutil import describe_os_error
from hermes_tui.migration.apply import (
    ApplyError,
    ApplyResult,
    RecordError,
    RunRecord,
    apply_plan,
    finish_run,
    interrupted_problem,
    interrupted_runs,
    undo,
)
from hermes_tui.migration.detect import (
    ERROR_NOT_FOUND,
    NOT_FOUND_FIX,
    ClawDetection,
    ConfigReading,
    detect,
    plan_home,
)
from hermes_tui.migration.journal import latest_applied
from hermes_tui.migration.plan import Plan, PlanError, build_plan
from hermes_tui.paths import display_path
from hermes_tui.problem import Problem, ProblemError
from hermes_tui.state import MigrationDecision, StepId, StepStatus
from hermes_tui.steps.channels import configured_channels
from hermes_tui.steps.flow import Flow

STEP = StepId.MIGRATION
SKIPPED_BY_YOU = "skipped by you"
PLAN_FAILED = "plan failed"
NOT_FOUND = "no Claw folder"
APPLY_FAILED = "apply failed"
INTERRUPTED = "apply interrupted"


class MigrationError(ProblemError):
    """The Claw folder cannot be planned from, or the plan could not be applied."""


class ClawNotFound(MigrationError):
    """CLAW_CONFIG_NOT_FOUND: the folder named does not exist or is not a folder."""


class InterruptedApply(MigrationError):
    """An apply into this profile stopped half way; ``run`` is its record."""

    def __init__(self, run: RunRecord) -> None:
        self.run = run
        super().__init__(interrupted_problem(run))


def interrupted(profile_dir: Path) -> RunRecord | None:
    """The newest apply into ``profile_dir`` that was interrupted and not undone, if any."""
    found = interrupted_runs(profile_dir)
    return found[0] if found else None


def interrupted_notice(profile_dir: Path) -> str | None:
    """One sentence for a launch: an apply was interrupted, and where to deal with it."""
    run = interrupted(profile_dir)
    if run is None:
        return None
    done, total = run.progress()
    return (f"A migration apply into profile {profile_dir.name} was interrupted ({done} of "
            f"{total} file(s) written). Open step 6, Claw migration (w on the dashboard), to "
            "undo it or finish it.")


async def find_claw(claw_dir: Path | None,
                    progress: Callable[[ConfigReading], None] | None = None) -> ClawDetection:
    """Look for an OpenClaw setup (reads files off the event loop, probes one loopback
    port); ``progress`` hears how far reading openclaw.json got while that takes long."""
    return await detect(claw_dir, progress=progress)


def auto_skip_reason(found: ClawDetection, claw_dir: Path | None) -> str | None:
    """Why the step skips itself, or None when it runs: the spec's three conditions (no
    Claw gateway running, no Claw folder, no managed channels) at the default location.
    A folder named with ``--claw-dir`` is never skipped: missing, it is CLAW_CONFIG_NOT_FOUND
    to show (the user pointed there and expects it to be read)."""
    if claw_dir is not None:
        return None
    return found.skip_reason if found.auto_skip else None


def skip(flow: Flow, reason: str = SKIPPED_BY_YOU) -> str:
    """Record the step as skipped (by the user, or by ``auto_skip_reason``)."""
    flow.state.migration = MigrationDecision.SKIPPED
    flow.record(STEP, StepStatus.SKIPPED, reason)
    return reason


async def make_plan(flow: Flow, found: ClawDetection, profile_dir: Path,
                    claw_dir: Path | None, migrate_secrets: bool = False) -> Plan:
    """The dry run: what migrating ``found`` into ``profile_dir`` would do. Writes nothing.

    Raises ``MigrationError``: ``InterruptedApply`` (undo or finish it first),
    CLAW_CONFIG_NOT_FOUND, or the folders cannot be read.
    """
    stopped = await asyncio.to_thread(interrupted, profile_dir)
    if stopped is not None:
        flow.fail(STEP, INTERRUPTED)
        raise InterruptedApply(stopped)
    if found.path is None or not (found.exists and found.is_dir):
        flow.fail(STEP, NOT_FOUND)
        # Front ends name their own way to skip (a key, a flag) in place of this fix.
        raise ClawNotFound(Problem(
            found.not_found_message, NOT_FOUND_FIX,
            subject=display_path(found.path) if found.path else None))
    if flow.state.migration is not MigrationDecision.APPLIED:
        # An apply that completed just before a kill, before the progress said so: the
        # profile holds it, so the progress does too.
        done = await asyncio.to_thread(latest_applied, profile_dir)
        if done is not None:
            flow.state.migration = MigrationDecision.APPLIED
            flow.state.claw_dir = done.source or str(found.path)
    try:
        return await asyncio.to_thread(build_plan, found.path, profile_dir,
                                       migrate_secrets=migrate_secrets,
                                       home=plan_home(claw_dir))
    except (PlanError, OSError, ValueError) as exc:
        flow.fail(STEP, PLAN_FAILED)
        raise MigrationError(Problem(
            f"Could not plan the migration from {display_path(found.path)}: {exc}",
            "Fix the folder's permissions or the file named, then look again.",
            subject=display_path(found.path),
        )) from exc


def accept_dry_run(flow: Flow) -> None:
    """Going on after looking at the plan without applying it: done, as a dry run (an
    earlier apply of this profile stays recorded: its files are in the profile)."""
    if flow.state.migration is not MigrationDecision.APPLIED:
        flow.state.migration = MigrationDecision.DRY_RUN
    flow.record(STEP, StepStatus.DONE)


async def apply(flow: Flow, plan: Plan, claw_path: Path) -> ApplyResult:
    """Write the plan's selected items into the profile (backups first) and record it.

    Every item written: done. Some items not written (``result.errors``): failed, and the
    run stays undoable. Raises ``MigrationError`` when nothing could be applied.
    """
    try:
        result = await asyncio.to_thread(apply_plan, plan)
    except (ApplyError, OSError) as error:
        flow.fail(STEP, APPLY_FAILED)
        stopped = await asyncio.to_thread(interrupted, plan.profile_dir)
        if stopped is not None:  # it began writing, then stopped: undo or finish it
            raise InterruptedApply(stopped) from error
        problem = error.problem if isinstance(error, ApplyError) else Problem(str(error))
        raise MigrationError(replace(problem, what=f"Nothing was applied: {problem.what}")) from error
    await _record_channels(flow, plan.profile_dir)
    return _applied(flow, result, claw_path)


async def finish(flow: Flow, run_dir: Path) -> ApplyResult:
    """Finish an interrupted apply from its record, and record it as ``apply`` does."""
    def finish_and_source() -> tuple[ApplyResult, str, Path]:
        result = finish_run(run_dir)
        record = RunRecord.load(run_dir)
        return result, record.source or "", record.profile

    try:
        result, source, profile_dir = await asyncio.to_thread(finish_and_source)
    except (ApplyError, RecordError, OSError) as error:
        flow.fail(STEP, APPLY_FAILED)
        problem = getattr(error, "problem", None) or Problem(
            f"The apply could not be finished: {error}",
            "Fix what the message names, then press f again, or undo the run with u.",
            subject=display_path(run_dir))
        raise MigrationError(problem) from error
    await _record_channels(flow, profile_dir)
    return _applied(flow, result, source)


def _applied(flow: Flow, result: ApplyResult, claw_path: Path | str) -> ApplyResult:
    flow.state.migration = MigrationDecision.APPLIED
    flow.state.claw_dir = str(claw_path)
    if result.errors:
        flow.fail(STEP, f"{len(result.errors)} item(s) not written")
    else:
        flow.record(STEP, StepStatus.DONE)
    return result


async def _record_channels(flow: Flow, profile_dir: Path) -> None:
    """``state.channels`` is what the profile's ``.env`` configures after a migration wrote
    (or undid) channel settings — the rule step 4 follows, so the wizard, the dashboard and
    ``status`` name the same channels. Unreadable, the state stays as it was (the dashboard
    and ``status`` say why when they read the file)."""
    try:
        env = await asyncio.to_thread(read_env, profile_dir / ".env")
    except (OSError, UnicodeDecodeError):
        return
    flow.state.channels = configured_channels(env)


async def undo_apply(flow: Flow, run_dir: Path) -> list[str]:
    """Put the profile back as before ``run_dir``'s apply; the step is open again."""
    try:
        profile_dir = await asyncio.to_thread(lambda: RunRecord.load(run_dir).profile)
    except (RecordError, OSError):
        profile_dir = None
    try:
        restored = await asyncio.to_thread(undo, run_dir)
    except RecordError as error:
        raise MigrationError(error.problem) from error
    except OSError as error:
        raise MigrationError(Problem(
            f"The undo stopped: {describe_os_error(error, error.filename, action='restore')}",
            f"Fix what the message names, then press u again; the run's backups are in "
            f"{display_path(run_dir)}/backups/.", subject=display_path(run_dir))) from error
    if profile_dir is not None:
        await _record_channels(flow, profile_dir)
    flow.state.migration = None
    flow.record(STEP, StepStatus.PENDING)
    return restored


__all__ = ["ERROR_NOT_FOUND", "ClawNotFound", "InterruptedApply", "MigrationError", "accept_dry_run",
           "apply", "auto_skip_reason", "find_claw", "finish", "interrupted", "interrupted_notice",
           "make_plan", "skip", "undo_apply"]
