"""Steps whose behaviour arrives in a later release (6).

Each says plainly what it will do and lets the user continue; the step is recorded as
skipped with that reason, so the sidebar and the summary stay honest.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.widgets import Static

from hermes_tui.state import StepId, StepStatus
from hermes_tui.ui.help_text import HELP
from hermes_tui.ui.screens.base import StepScreen

NOT_YET = "not built yet"


class PlannedStepScreen(StepScreen):
    WHAT: ClassVar[str]

    def compose_body(self) -> ComposeResult:
        yield Static(self.WHAT, id="planned-what", classes="prose")
        yield Static(
            "This step is not available in this version of hermes-tui yet. "
            "Press Enter to continue; it will be marked as skipped.",
            id="planned-note",
            classes="note -pending",
        )

    def advance(self) -> None:
        status = self.wizard.state.status(self.STEP)
        if status is StepStatus.DONE:
            self.wizard.finish_step(self.STEP)
        else:
            self.wizard.finish_step(self.STEP, StepStatus.SKIPPED, NOT_YET)


class MigrationScreen(PlannedStepScreen):
    """Step 6: migrate an existing OpenClaw setup (dry run, diff, apply)."""

    STEP = StepId.MIGRATION
    HELP = HELP[StepId.MIGRATION]
    WHAT = (
        "If you used OpenClaw (~/.openclaw), shows a dry run of what would move into the new "
        "profile (memories, skills, channel settings), a side-by-side diff of every file it "
        "would change, and applies it when you confirm. The OpenClaw side is never written."
    )
