"""``hermes-tui migrate``: the migration plan and apply, with plain output.

Exit codes: 0 done (error items, if any, are listed), 1 the apply failed for some files,
2 usage or profile missing, 3 CLAW_CONFIG_NOT_FOUND, 4 unresolved conflicts (nothing
written), 5 another hermes-tui is changing the data dir (nothing written), 6 an earlier
apply into the profile was interrupted: nothing is planned or written until it is undone
(``--undo RUN_DIR``) or finished (``--finish RUN_DIR``). ``--json`` prints a JSON array,
one object per item, secrets redacted; every other message then goes to stderr so stdout
stays parseable.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from collections.abc import Callable

    from hermes_tui.migration.apply import ApplyResult
    from hermes_tui.problem import Problem

EXIT_OK = 0
EXIT_APPLY_FAILED = 1
EXIT_USAGE = 2
EXIT_CLAW_NOT_FOUND = 3
EXIT_CONFLICTS = 4
EXIT_INTERRUPTED = 6
#: Paths an undo lists (a run may have thousands).
SHOWN = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", metavar="NAME", help="the Hermes profile to migrate into (must exist)")
    # SUPPRESS: an absent option leaves a value given to the top-level parser in place.
    parser.add_argument("--claw-dir", metavar="DIR", default=argparse.SUPPRESS,
                        help="OpenClaw folder (default: ~/.openclaw, else ~/.clawdbot, ~/.moltbot)")
    parser.add_argument("--dry-run", action="store_true", help="show the plan; write nothing")
    parser.add_argument("--json", action="store_true",
                        help="print the plan as a JSON array (one object per item, secrets redacted)")
    parser.add_argument("--migrate-secrets", action="store_true",
                        help="select every secret item (tokens, API keys, passwords); off by default")
    parser.add_argument("--select", metavar="ITEM_ID", action="append", default=[],
                        help="select one item by id (e.g. secret:TELEGRAM_BOT_TOKEN); repeatable")
    parser.add_argument("--deselect", metavar="ITEM_ID", action="append", default=[],
                        help="leave one item out; repeatable")
    parser.add_argument("--on-conflict", choices=("ask", "skip", "overwrite", "rename"),
                        default="ask",
                        help="what to do with every conflict (default ask: refuse to apply); "
                             "rename applies to skills, other conflicts are then skipped")
    parser.add_argument("--undo", metavar="RUN_DIR",
                        help="undo an earlier apply (finished or interrupted) from its run "
                             "folder and exit")
    parser.add_argument("--finish", metavar="RUN_DIR",
                        help="finish an interrupted apply: write the rest of the plan it "
                             "recorded, then exit")


def _err(text: str) -> None:
    print(text, file=sys.stderr)


def _problem(problem: Problem, lead: str = "hermes-tui migrate: ") -> None:
    from hermes_tui.problem import problem_lines

    for line in problem_lines(problem, lead=lead):
        _err(line)


def _undo(run_dir: Path) -> int:
    from hermes_tui.fsutil import describe_os_error
    from hermes_tui.migration.apply import RecordError, undo
    from hermes_tui.paths import display_path

    try:
        restored = undo(run_dir)
    except RecordError as exc:
        _problem(exc.problem, lead=f"hermes-tui migrate: cannot undo {display_path(run_dir)}: ")
        return EXIT_USAGE
    except OSError as exc:
        _err(f"hermes-tui migrate: the undo stopped: "
             f"{describe_os_error(exc, exc.filename, action='restore')}")
        _err(f"Fix: fix that, then run hermes-tui migrate --undo {display_path(run_dir)} again "
             "(an undo can be repeated).")
        return EXIT_APPLY_FAILED
    print(f"Undone: {len(restored)} file(s) restored or removed." if restored
          else "Nothing to undo (already undone).")
    for rel in restored[:SHOWN]:
        print(f"  {rel}")
    if len(restored) > SHOWN:
        print(f"  … and {len(restored) - SHOWN} more")
    return EXIT_OK


def _finish(run_dir: Path) -> int:
    from hermes_tui.migration.apply import ApplyError, RecordError, finish_run
    from hermes_tui.paths import display_path

    try:
        result = finish_run(run_dir)
    except (RecordError, ApplyError) as exc:
        _problem(exc.problem, lead=f"hermes-tui migrate: cannot finish {display_path(run_dir)}: ")
        return EXIT_USAGE if isinstance(exc, RecordError) else EXIT_APPLY_FAILED
    print(f"Finished: {len(result.created)} file(s) created, {len(result.replaced)} replaced, "
          f"{len(result.archived)} archived in all.")
    return _applied(result, print)


def _applied(result: ApplyResult, info: Callable[[str], None]) -> int:
    """Where the run's record is and how to undo it; exit 1 when some files were not written."""
    from hermes_tui.paths import display_path

    info(f"Backups, report and summary: {display_path(result.run_dir)}")
    info(f"  report:  {display_path(result.report_path)}")
    info(f"  undo:    hermes-tui migrate --undo {display_path(result.run_dir)}")
    if result.errors:
        for line in result.errors:
            _err(f"  not written: {line}")
        return EXIT_APPLY_FAILED
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    """Plan, apply, undo or finish; all but a plan hold the data dir's writer lock (a second
    hermes-tui changing it is refused with ``EXIT_BUSY``, naming it)."""
    from hermes_tui.commands import lock_data_dir
    from hermes_tui.paths import Paths

    target = getattr(args, "undo", None) or getattr(args, "finish", None)
    if getattr(args, "dry_run", False) and not target:
        return _run(args)  # only reads
    root = Paths.resolve(getattr(args, "data_dir", None)).root
    if target:
        run_dir = Path(target).expanduser().absolute()
        if len(run_dir.parents) > 4 and run_dir.parents[3].name == "profiles":
            root = run_dir.parents[4]  # <data>/profiles/<name>/migration/openclaw/<time>
    lock = lock_data_dir(root, create=False, unavailable=EXIT_APPLY_FAILED)
    if isinstance(lock, int):
        return lock
    try:
        return _run(args)
    finally:
        lock.release()


def _run(args: argparse.Namespace) -> int:
    from hermes_tui.migration.apply import (
        ApplyError,
        ConflictsPending,
        InterruptedRunPending,
        apply_plan,
        interrupted_problem,
        interrupted_runs,
    )
    from hermes_tui.migration.detect import ERROR_NOT_FOUND, plan_home, resolve_claw_dir
    from hermes_tui.migration.plan import ItemStatus, PlanError, build_plan
    from hermes_tui.paths import Paths, display_path
    from hermes_tui.profile import validate_name

    if getattr(args, "undo", None):
        return _undo(Path(args.undo).expanduser())
    if getattr(args, "finish", None):
        return _finish(Path(args.finish).expanduser())

    name = getattr(args, "profile", None)
    if not name:
        _err("hermes-tui migrate: --profile NAME is required")
        return EXIT_USAGE
    verdict = validate_name(name)
    if not verdict.ok:
        _err(f"hermes-tui migrate: invalid profile name: {verdict.message}")
        return EXIT_USAGE
    paths = Paths.resolve(getattr(args, "data_dir", None))
    profile_dir = paths.profile_dir(name)
    if not profile_dir.is_dir():
        _err(f"hermes-tui migrate: profile '{name}' not found at {display_path(profile_dir)}; "
             "create it first (run hermes-tui, or hermes-tui setup --non-interactive).")
        return EXIT_USAGE
    stopped = interrupted_runs(profile_dir)
    if stopped:
        # A plan of a half-migrated profile would call half the files "already migrated".
        _problem(interrupted_problem(stopped[0]))
        _err("Nothing was planned or written.")
        return EXIT_INTERRUPTED

    claw_arg = getattr(args, "claw_dir", None)
    claw_dir = resolve_claw_dir(Path(claw_arg).expanduser() if claw_arg else None,
                                getattr(args, "home", None))
    if not claw_dir.is_dir():
        why = "is not a directory" if claw_dir.exists() else "does not exist"
        _err(f"hermes-tui migrate: {ERROR_NOT_FOUND}: {display_path(claw_dir)} {why}. There is "
             "no OpenClaw configuration to migrate. Pass --claw-dir DIR to point to the "
             "folder OpenClaw uses; if you have never used OpenClaw, there is nothing to migrate.")
        return EXIT_CLAW_NOT_FOUND

    home = getattr(args, "home", None)
    plan = build_plan(claw_dir, profile_dir, migrate_secrets=bool(getattr(args, "migrate_secrets", False)),
                      home=plan_home(claw_arg, home or None))
    try:
        for item_id in getattr(args, "select", None) or []:
            plan.select(item_id, True)
        for item_id in getattr(args, "deselect", None) or []:
            plan.select(item_id, False)
        choice = getattr(args, "on_conflict", "ask") or "ask"
        if choice != "ask":
            for item in plan.unresolved_conflicts():
                allowed = item.allowed + (("rename",) if item.renamer else ())
                plan.resolve(item.id, choice if choice in allowed else "skip")
    except PlanError as exc:
        _err(f"hermes-tui migrate: {exc}")
        return EXIT_USAGE

    as_json = bool(getattr(args, "json", False))
    out: TextIO = sys.stdout
    info = _err if as_json else print
    dry_run = bool(getattr(args, "dry_run", False))

    if dry_run:
        _print_plan(plan, as_json, out)
        if not as_json and plan.nothing_to_do:
            print("Nothing left to migrate.")
        return EXIT_OK

    conflicts = plan.unresolved_conflicts()
    if conflicts:
        _print_plan(plan, as_json, out)
        _err(f"hermes-tui migrate: apply refused: {len(conflicts)} conflict(s) need your choice:")
        for item in conflicts:
            _err(f"  {item.id}: {item.reason}")
        _err("Run hermes-tui and open the Migration step to choose per item, or re-run with "
             "--on-conflict skip|overwrite|rename, or leave an item out with --deselect ITEM_ID. "
             "Nothing was written.")
        return EXIT_CONFLICTS

    if plan.nothing_to_do:
        _print_plan(plan, as_json, out)
        info("Nothing left to migrate; nothing was written.")
        return EXIT_OK
    try:
        result = apply_plan(plan)
    except ConflictsPending as exc:  # pragma: no cover - checked above
        _err(f"hermes-tui migrate: {exc}")
        return EXIT_CONFLICTS
    except InterruptedRunPending as exc:  # another apply stopped since the check above
        _problem(exc.problem)
        return EXIT_INTERRUPTED
    except (ApplyError, OSError) as exc:
        stopped = interrupted_runs(profile_dir)
        if stopped:  # it began writing, then stopped: say why, then the two ways out
            _err(f"hermes-tui migrate: {exc}")
            _problem(interrupted_problem(stopped[0]))
        else:
            _err(f"hermes-tui migrate: apply failed: {exc}")
        return EXIT_APPLY_FAILED
    _print_plan(plan, as_json, out)
    info(f"Applied: {len(result.created)} file(s) created, {len(result.replaced)} replaced, "
         f"{len(result.archived)} archived.")
    errors = [i for i in plan.items if i.status is ItemStatus.error]
    if errors:
        info(f"{len(errors)} item(s) could not be migrated; see the report.")
    return _applied(result, info)


def _print_plan(plan: object, as_json: bool, out: TextIO) -> None:
    from hermes_tui.migration.plan import ItemStatus, Plan

    assert isinstance(plan, Plan)
    if as_json:
        out.write(json.dumps(plan.to_json(), indent=2, ensure_ascii=False) + "\n")
        return
    rows = plan.to_json()
    width = max((len(r["status"]) for r in rows), default=8)
    kind_w = max((len(r["kind"]) for r in rows), default=8)
    out.write(f"OpenClaw → Hermes: {plan.claw_dir} → {plan.profile_dir}\n\n")
    out.write(f"{'STATUS':<{width}}  {'KIND':<{kind_w}}  SOURCE → DESTINATION — REASON\n")
    for r in rows:
        mark = "" if not r["secret"] else (" [secret, selected]" if r["selected"] else " [secret]")
        out.write(f"{r['status']:<{width}}  {r['kind']:<{kind_w}}  {r['source']} → "
                  f"{r['destination']} — {r['reason']}{mark}\n")
        out.write(f"{'':<{width}}  {'':<{kind_w}}  id: {r['id']}\n")
    counts = plan.counts()
    out.write("\n" + ", ".join(f"{counts[s]} {s}" for s in ItemStatus) + "\n")
