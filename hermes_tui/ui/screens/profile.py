"""Step 3 — Profile. Reads ``state.profile`` to prefill; on success writes it and marks done.

Validation is the domain's (``profile.validate_name``); this screen only shows the verdict
as the user types, and runs the file work in a worker thread.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.widgets import Input, Label, Static

from hermes_tui.paths import display_path
from hermes_tui.profile import (
    MAX_NAME,
    ProfileError,
    ProfileInfo,
    inspect_profile,
    validate_name,
)
from hermes_tui.state import StepId
from hermes_tui.steps.profile import make_profile
from hermes_tui.ui.help_text import HELP
from hermes_tui.ui.screens.base import StepScreen
from hermes_tui.ui.widgets.problem_view import ProblemView


class ProfileScreen(StepScreen):
    STEP = StepId.PROFILE
    AUTO_FOCUS = "#step-body"
    HELP = HELP[StepId.PROFILE]

    def compose_body(self) -> ComposeResult:
        yield Static(
            "Hermes keeps each agent's configuration, memory and channels in a named profile.",
            classes="prose",
        )
        yield Label("Profile name", classes="field-label")
        yield Input(
            value=self.wizard.state.profile or "",
            placeholder="my-assistant",
            max_length=MAX_NAME * 2,  # let an over-long paste show, so the message can say so
            id="profile-name",
            select_on_focus=False,  # entering the field never selects a name to type over
        )
        yield Static("", id="name-verdict", classes="verdict")
        yield Static("", id="profile-where", classes="note")
        yield ProblemView(id="profile-problem")

    def on_mount(self) -> None:
        self._show_verdict(self.query_one("#profile-name", Input).value)

    @on(Input.Changed, "#profile-name")
    def _changed(self, event: Input.Changed) -> None:
        self.query_one("#profile-problem", ProblemView).clear()
        self._show_verdict(event.value)

    @on(Input.Submitted, "#profile-name")
    def _submitted(self, event: Input.Submitted) -> None:
        """Enter in the field while the name cannot be used (Next is greyed out): say why."""
        if not event.value:
            verdict_box = self.query_one("#name-verdict", Static)
            verdict_box.update("Type a name first: lowercase letters, digits, - and _; "
                               "1 to 64 characters.")
            verdict_box.set_classes("verdict -error")

    def _show_verdict(self, name: str) -> None:
        verdict_box = self.query_one("#name-verdict", Static)
        where = self.query_one("#profile-where", Static)
        if not name:
            verdict_box.update("Lowercase letters, digits, - and _; 1 to 64 characters.")
            verdict_box.set_classes("verdict")
            where.update("")
            self.can_advance = False
            return
        verdict = validate_name(name)
        self.can_advance = verdict.ok
        verdict_box.set_classes(f"verdict {'-ok' if verdict.ok else '-error'}")
        if not verdict.ok:
            verdict_box.update(verdict.message)
            where.update("")
            return
        try:
            info = inspect_profile(self.wizard.settings.paths, name)
        except ProfileError as exc:
            verdict_box.set_classes("verdict -error")
            verdict_box.update(str(exc))
            self.can_advance = False
            return
        verdict_box.update(verdict.message)
        where.update(self._where_text(info))

    @staticmethod
    def _where_text(info: ProfileInfo) -> str:
        if not info.exists:
            return f"Will create {display_path(info.path)}/"
        if info.complete:
            return f"A profile with this name exists at {display_path(info.path)}/. Enter reuses it; its files are kept."
        return (
            f"A partly made profile exists at {display_path(info.path)}/ (missing: {', '.join(info.missing)}). "
            "Enter completes and reuses it; existing files are kept."
        )

    def advance(self) -> None:
        name = self.query_one("#profile-name", Input).value
        if validate_name(name).ok:
            self._create(name)

    @work(exclusive=True, group="profile", exit_on_error=False)
    async def _create(self, name: str) -> None:
        try:  # the step itself: steps.profile (shared with setup)
            outcome = await make_profile(self.wizard.flow, self.wizard.settings.paths, name)
        except ProfileError as exc:
            self.query_one("#profile-problem", ProblemView).show(exc.problem)
            return
        verb = "Created" if outcome.created else "Reusing"
        self.notify(f"{verb} profile {name} at {display_path(outcome.path)}/", timeout=4)
        self.wizard.finish_step(self.STEP)
