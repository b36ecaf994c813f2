"""Step 6 — Claw migration. Writes ``state.migration`` and ``state.claw_dir``.

Detection, the dry-run plan, apply, undo and skipping are ``steps.migration`` (shared with
``setup``; no Textual); this screen shows the plan, a side-by-side diff of every file it would change, and sends the
user's choices (secret opt-ins, conflict resolutions, Apply) back to the plan. An apply into
the profile that was interrupted (killed, power cut) comes first: the screen says so and
offers u (undo it) and f (finish it); nothing is planned until one is done.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import ContentSwitcher, OptionList, Static
from textual.widgets.option_list import Option

from hermes_tui.limits import format_size
from hermes_tui.migration.detect import ConfigReading
from hermes_tui.migration.plan import (
    FileChange,
    ItemStatus,
    Plan,
    PlanError,
    PlanItem,
    keep_choices,
)
from hermes_tui.paths import display_path
from hermes_tui.state import StepId, StepStatus
from hermes_tui.steps import migration
from hermes_tui.ui.help_text import HELP
from hermes_tui.ui.screens.base import StepScreen
from hermes_tui.ui.stylesheets import stylesheet
from hermes_tui.ui.widgets.confirm import ConfirmModal
from hermes_tui.ui.widgets.diff_view import DiffView, diff_rows
from hermes_tui.ui.widgets.problem_view import ProblemView
from hermes_tui.ui.widgets.status_line import StatusLine

if TYPE_CHECKING:
    from hermes_tui.migration.apply import ApplyResult

_STATUS_STYLE = {
    ItemStatus.migrated: "$text-success",
    ItemStatus.conflict: "bold $text-warning",
    ItemStatus.skipped: "$text-muted",
    ItemStatus.archived: "$text-primary",
    ItemStatus.error: "bold $text-error",
}


class MigrationScreen(StepScreen):

    CSS_PATH = [stylesheet("migration.tcss")]
    STEP = StepId.MIGRATION
    HELP = HELP[StepId.MIGRATION]
    #: Space selects a row of the plan; Enter is Next, as the footer says.
    ENTER_PICKS_ROWS = False
    BINDINGS = [
        Binding("space", "toggle", "Select", id="plan-toggle"),
        Binding("o", "resolve('overwrite')", "Overwrite", id="plan-overwrite"),
        Binding("k", "resolve('skip')", "Keep", id="plan-keep"),
        Binding("m", "resolve('rename')", "Rename", id="plan-rename"),
        Binding("v", "switch_view", "Plan/diff", id="plan-view"),
        Binding("d", "toggle_layout", "Layout", id="diff-layout"),
        # The diff's own ]/[ work only while it has focus; these work from the file list too.
        Binding("right_square_bracket", "hunk('next')", "Next change", id="plan-next-hunk",
                key_display="]"),
        Binding("left_square_bracket", "hunk('prev')", "Prev change", id="plan-prev-hunk",
                key_display="["),
        Binding("right_curly_bracket", "file(1)", "Next file", id="next-file", key_display="}"),
        Binding("left_curly_bracket", "file(-1)", "Prev file", id="prev-file", key_display="{"),
        Binding("a", "apply", "Apply", id="plan-apply"),
        Binding("u", "undo", "Undo", id="plan-undo"),
        Binding("f", "finish", "Finish", id="plan-finish"),
        Binding("x", "skip", "Skip step", id="skip-step"),
    ]

    has_plan: reactive[bool] = reactive(False, bindings=True)
    applied: reactive[Path | None] = reactive(None, bindings=True)
    #: The run folder of an interrupted apply, until it is undone or finished.
    interrupted: reactive[Path | None] = reactive(None, bindings=True)

    def __init__(self) -> None:
        super().__init__()
        self.plan: Plan | None = None
        #: What detection found; apply and re-planning use the same folder.
        self._found = None
        self._diffs: dict[str, object] = {}
        #: The files the plan would write, secrets masked, by path; None while they are
        #: worked out (composing a big config.yaml takes seconds: never on the event loop).
        self._changes: dict[str, FileChange] | None = None
        self._apply_asked = False
        #: Items the last apply wrote, and it in words; empty until an apply (or after undo).
        self._applied_ids: set[str] = set()
        self._applied_words = ""

    def compose_body(self) -> ComposeResult:
        yield Static("Looking for an OpenClaw setup…", id="claw-summary", classes="prose")
        yield ProblemView(id="claw-problem")
        with ContentSwitcher(initial="plan-view", id="claw-views"):
            with Vertical(id="plan-view"):
                yield OptionList(id="plan-items")
                yield Static("", id="plan-reason", classes="note")
            with Vertical(id="diff-view"):
                yield OptionList(id="plan-files")
                yield DiffView(id="plan-diff")
        yield StatusLine(id="claw-result", classes="summary")

    def on_mount(self) -> None:
        self.can_advance = False
        self.query_one("#claw-views").display = False
        self.call_after_refresh(self._detect)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Show only the keys that do something now (the footer is narrow at 80 columns)."""
        if not self.has_plan and action in ("toggle", "resolve", "switch_view", "file", "apply",
                                            "toggle_layout", "hunk"):
            return False
        in_diff = self.has_plan and self.query_one("#claw-views", ContentSwitcher).current == "diff-view"
        if action in ("file", "toggle_layout"):
            return in_diff
        if action == "hunk":  # shown by the diff itself while it has focus
            return in_diff and not self.query_one("#plan-diff", DiffView).has_focus
        if action in ("toggle", "resolve"):
            item = None if in_diff else self._current()
            if item is None:
                return False
            if action == "toggle":
                return item.toggleable
            return item.unresolved_conflict and parameters[0] in item.allowed
        if action == "undo":
            return self.applied is not None or self.interrupted is not None
        if action == "finish":
            return self.interrupted is not None
        if action == "skip" and self.interrupted is not None:
            return False  # half migrated is not skipped: undo or finish it first
        if action == "apply":
            return not self.plan.nothing_to_do
        return super().check_action(action, parameters)

    # -- detection and planning -----------------------------------------------------

    @work(exclusive=True, group="migration", exit_on_error=False)
    async def _detect(self) -> None:
        await self._look()

    async def _look(self) -> None:
        settings = self.wizard.settings
        flow = self.wizard.flow
        stopped = await asyncio.to_thread(migration.interrupted, self._profile_dir())
        if stopped is not None:  # undo or finish it before anything is planned
            self.interrupted = stopped.run_dir
            self.query_one("#claw-summary", Static).update("")
            problem = migration.InterruptedApply(stopped).problem
            self.query_one("#claw-problem", ProblemView).show(replace(
                problem, fix="Press u to undo it (the profile goes back to how it was before) "
                             "or f to finish it (the rest of that apply is written as planned)."))
            return
        found = await migration.find_claw(settings.claw_dir, self._show_reading)
        reason = migration.auto_skip_reason(found, settings.claw_dir)
        if reason is not None:
            migration.skip(flow, reason)
            self.notify(f"Claw migration skipped: {reason}.", timeout=6)
            self.wizard.finish_step(self.STEP, StepStatus.SKIPPED, reason)
            return
        self._found = found
        self.query_one("#claw-summary", Static).update(
            f"Planning the migration from {display_path(found.path)}… (a dry run)")
        try:
            self.plan = await migration.make_plan(flow, found, self._profile_dir(),
                                                  settings.claw_dir)
        except migration.MigrationError as error:
            self.query_one("#claw-summary", Static).update("")
            problem = error.problem
            if isinstance(error, migration.ClawNotFound):  # this screen's way out is a key
                problem = replace(problem, fix=(
                    "Press x to skip this step if you have never used OpenClaw, or start "
                    "hermes-tui again with --claw-dir DIR pointing at the folder OpenClaw uses."))
            self.query_one("#claw-problem", ProblemView).show(problem)
            return
        self.has_plan = True
        self.query_one("#claw-views").display = True
        self._redraw()
        self.query_one("#plan-items", OptionList).focus()
        self.can_advance = True  # Next without Apply: done as a dry run (as setup's)

    def _show_reading(self, reading: ConfigReading) -> None:
        """While a large openclaw.json is read (off the event loop): which, how far."""
        if reading.path is None:
            return
        done = f", {100 * reading.done // reading.total}%" if reading.total and reading.done else ""
        size = f" ({format_size(reading.total)}{done})" if reading.total else ""
        self.query_one("#claw-summary", Static).update(
            f"Looking for an OpenClaw setup… reading {display_path(reading.path)}{size}")

    def _profile_dir(self) -> Path:
        return self.wizard.settings.paths.profile_dir(self.wizard.state.profile or "")

    # -- drawing ---------------------------------------------------------------------

    def _redraw(self) -> None:
        plan = self.plan
        head = f"OpenClaw at {display_path(plan.claw_dir)} → profile {self.wizard.state.profile}."
        if self._applied_words:  # what the last apply wrote, then what a new one would
            words = f"Applied: {self._applied_words}." + (
                " Nothing left to migrate." if plan.nothing_to_do
                else f" Still to do: {_plan_words(plan)}.")
        elif plan.nothing_to_do:
            words = f"Nothing to migrate: {_plan_words(plan)}."
        else:
            words = f"Nothing is written yet. {_plan_words(plan).capitalize()}."
        self.query_one("#claw-summary", Static).update(
            Content.assemble((head, "bold"), f"\n{words}"))
        listing = self.query_one("#plan-items", OptionList)
        keep = listing.highlighted
        shared = Counter(item.destination for item in plan.items)
        listing.set_options(_item_option(item, shared[item.destination] > 1,
                                         item.id in self._applied_ids)
                            for item in plan.items)
        if listing.option_count:
            listing.highlighted = keep if keep is not None and keep < listing.option_count else 0
        self._changes = None
        self._diffs.clear()
        self.query_one("#plan-diff", DiffView).show(diff_rows(None, None))
        self._list_files()
        self._show_reason()

    @work(exclusive=True, group="migration-files", exit_on_error=False)
    async def _list_files(self) -> None:
        """The files the plan (as chosen now) would write, composed and masked in a thread."""
        plan = self.plan
        changes = await asyncio.to_thread(lambda: [c.redacted() for c in plan.file_changes()])
        self._changes = {change.path: change for change in changes}
        files = self.query_one("#plan-files", OptionList)
        files.set_options(Option(change.path, id=change.path) for change in changes)
        if files.option_count:
            files.highlighted = 0
        if self._apply_asked:  # a was pressed meanwhile
            self._apply_asked = False
            self.action_apply()

    @on(OptionList.OptionHighlighted, "#plan-items")
    def _show_reason(self) -> None:
        self.refresh_bindings()
        item = self._current()
        text = ""
        if item is not None:
            text = f"{item.source} → {item.destination}\n{item.reason}"
            if item.unresolved_conflict:
                text += "\nChoose: o overwrite (backed up first), k keep yours" + (
                    ", m rename" if "rename" in item.allowed else "")
        self.query_one("#plan-reason", Static).update(text)

    @on(OptionList.OptionHighlighted, "#plan-files")
    def _show_file(self, event: OptionList.OptionHighlighted) -> None:
        self._load_diff(event.option_id)

    @work(exclusive=True, group="migration-diff", exit_on_error=False)
    async def _load_diff(self, path: str | None) -> None:
        change = (self._changes or {}).get(path)  # secrets already masked
        if change is None:
            return
        if path not in self._diffs:  # difflib off the event loop: files can be large
            self._diffs[path] = await asyncio.to_thread(diff_rows, change.before, change.after)
        sources = ", ".join(dict.fromkeys(
            item.source for item in self.plan.items
            if item.active and any(edit.path == path for edit in item.edits)))
        # Both sides are the profile's file: as it is, and as the apply would leave it.
        before = "Hermes now" + (": no such file" if change.before is None else "")
        self.query_one("#plan-diff", DiffView).show(
            self._diffs[path], before, f"Hermes after apply ← OpenClaw {sources}".rstrip())

    def _current(self) -> PlanItem | None:
        listing = self.query_one("#plan-items", OptionList)
        if self.plan is None or listing.highlighted is None:
            return None
        return self.plan.items[listing.highlighted]

    # -- actions ---------------------------------------------------------------------

    def action_toggle(self) -> None:
        item = self._current()
        if item is None:
            return
        try:
            self.plan.select(item.id, not item.selected)
        except PlanError as error:
            self.notify(str(error), severity="warning")
        self._redraw()

    def action_resolve(self, choice: str) -> None:
        item = self._current()
        if item is None:
            return
        try:
            self.plan.resolve(item.id, choice)
        except PlanError as error:
            self.notify(str(error), severity="warning")
        self._redraw()

    def action_switch_view(self) -> None:
        switcher = self.query_one("#claw-views", ContentSwitcher)
        diff = switcher.current == "plan-view"
        switcher.current = "diff-view" if diff else "plan-view"
        self.refresh_bindings()
        files = self.query_one("#plan-files", OptionList)
        if diff:
            files.focus()
            if files.option_count and files.highlighted is None:
                files.highlighted = 0
        else:
            self.query_one("#plan-items", OptionList).focus()

    def action_hunk(self, where: str) -> None:
        view = self.query_one("#plan-diff", DiffView)
        view.action_next_hunk() if where == "next" else view.action_prev_hunk()

    def action_toggle_layout(self) -> None:
        layout = self.query_one("#plan-diff", DiffView).toggle_layout()
        self.notify("Side by side." if layout == "split" else "One column: removed, then added.",
                    timeout=2)

    def action_file(self, step: int) -> None:
        files = self.query_one("#plan-files", OptionList)
        if files.option_count:
            current = files.highlighted if files.highlighted is not None else -step
            files.highlighted = (current + step) % files.option_count

    def action_apply(self) -> None:
        pending = self.plan.unresolved_conflicts()
        if pending:
            names = ", ".join(item.destination for item in pending[:4])
            self.notify(f"Choose what to do with each conflict first: {names}.",
                        severity="warning", timeout=8)
            return
        if self._changes is None:  # still being worked out: asked once they are known
            self._apply_asked = True
            return
        question = (f"Write {len(self._changes)} file(s) into the profile? Every file replaced "
                    "is backed up first, and u undoes the whole run. Nothing under the OpenClaw "
                    "folder is changed.")
        self.app.push_screen(ConfirmModal("Apply the migration?", question, "apply", "not now"),
                             lambda yes: self._apply() if yes else None)

    @work(exclusive=True, group="migration", exit_on_error=False)
    async def _apply(self) -> None:
        try:  # the step itself: steps.migration (shared with setup)
            result = await migration.apply(self.wizard.flow, self.plan, self._found.path)
        except migration.MigrationError as error:
            self.query_one("#claw-problem", ProblemView).show(error.problem)
            return
        self.applied = result.run_dir
        self._applied_ids = {item.id for item in self.plan.items if item.active}
        self._applied_words = _applied_words(self.plan)
        self._show_applied(result, "Applied. ")
        await self._replan()

    def _show_applied(self, result: ApplyResult, head: str) -> None:
        failed = f" {len(result.errors)} failed: {'; '.join(result.errors[:3])}" if result.errors else ""
        self.query_one("#claw-result", StatusLine).update(Content.assemble(
            (head, "$text-success"),
            f"{len(result.created)} created, {len(result.replaced)} replaced (backed up), "
            f"{len(result.archived)} archived. Report: {display_path(result.run_dir)}/report.json."
            f"{failed} Press u to undo."))
        self.can_advance = not result.errors

    def action_undo(self) -> None:
        self.query_one("#claw-problem", ProblemView).clear()
        self._undo()

    def action_finish(self) -> None:
        self.query_one("#claw-problem", ProblemView).clear()
        self._finish()

    def retry_key_for(self, worker) -> str | None:
        return {"_undo": "u", "_apply": "a", "_finish": "f"}.get(worker.name)

    @work(exclusive=True, group="migration", exit_on_error=False)
    async def _undo(self) -> None:
        run_dir = self.applied or self.interrupted
        try:
            restored = await migration.undo_apply(self.wizard.flow, run_dir)
        except migration.MigrationError as error:
            self.query_one("#claw-problem", ProblemView).show(error.problem, retry_key="u")
            return
        self.query_one("#claw-result", StatusLine).update(
            f"Undone: {len(restored)} file(s) restored or removed.")
        if self.interrupted is not None:  # nothing was planned yet: look as on opening
            self.interrupted = None
            await self._look()
            return
        self.applied = None
        self._applied_ids, self._applied_words = set(), ""
        await self._replan()

    @work(exclusive=True, group="migration", exit_on_error=False)
    async def _finish(self) -> None:
        try:
            result = await migration.finish(self.wizard.flow, self.interrupted)
        except migration.MigrationError as error:
            self.query_one("#claw-problem", ProblemView).show(error.problem, retry_key="f")
            return
        self.interrupted, self.applied = None, result.run_dir
        self._show_applied(result, "Finished the interrupted apply. ")

    async def _replan(self) -> None:
        previous = self.plan
        try:
            plan = await migration.make_plan(self.wizard.flow, self._found,
                                             self._profile_dir(), self.wizard.settings.claw_dir)
        except migration.MigrationError as error:
            self.query_one("#claw-problem", ProblemView).show(error.problem)
            return
        if previous is not None:  # a conflict kept, an item left out: chosen once
            keep_choices(previous, plan)
        self.plan = plan
        self._redraw()

    def action_skip(self) -> None:
        migration.skip(self.wizard.flow)
        self.wizard.finish_step(self.STEP, StepStatus.SKIPPED, migration.SKIPPED_BY_YOU)

    def advance(self) -> None:
        if self.plan is not None and self.applied is None:
            migration.accept_dry_run(self.wizard.flow)
        self.wizard.finish_step(self.STEP)


#: What each status means before anything is written: what an apply would do.
_PLANNED = {
    ItemStatus.migrated: "migrate", ItemStatus.archived: "archive", ItemStatus.skipped: "skip",
    ItemStatus.conflict: "conflict", ItemStatus.error: "error",
}


def _plan_words(plan: Plan) -> str:
    counts = plan.counts()
    words = [f"{verb} {counts[status]}" for status, verb in (
        (ItemStatus.migrated, "will migrate"), (ItemStatus.archived, "will archive"))
        if counts[status]]
    words += [f"{counts[status]} {noun}" for status, noun in (
        (ItemStatus.conflict, "conflict(s) to choose"), (ItemStatus.error, "error(s)"),
        (ItemStatus.skipped, "skipped")) if counts[status]]
    return ", ".join(words) or "nothing found"


def _applied_words(plan: Plan) -> str:
    counts = Counter(item.status for item in plan.items if item.active)
    words = [f"{counts[status]} {word}" for status, word in (
        (ItemStatus.migrated, "migrated"), (ItemStatus.archived, "archived")) if counts[status]]
    return ", ".join(words) or "nothing"


def _item_option(item: PlanItem, shared_destination: bool = False, applied: bool = False) -> Option:
    box = ("[x] " if item.selected else "[ ] ") if item.toggleable else "    "
    if applied and item.status is ItemStatus.skipped:  # written by the last apply
        label, style = "applied", "$text-success"
    else:
        label, style = _PLANNED[item.status], _STATUS_STYLE.get(item.status, "")
    secret = " (secret)" if item.secret else ""
    # Two rows for one target (two values of one key) or none: the source tells them apart.
    where = item.source if item.destination == "—" else (
        f"{item.destination} ← {item.source}" if shared_destination else item.destination)
    return Option(Content.assemble(
        box, (f"{label:<9}", style), f" {item.kind.value:<16} ", (where + secret, "")), id=item.id)
