"""Step 7 — Completion. Reads the whole state and summarises it; writes only its own status."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from hermes_tui import channels as catalog
from hermes_tui.paths import display_path
from hermes_tui.state import STEP_ORDER, STEP_TITLES, StepId, StepStatus, step_number
from hermes_tui.ui.glyphs import mark
from hermes_tui.ui.help_text import HELP
from hermes_tui.ui.screens.base import StepScreen


class DoneScreen(StepScreen):
    STEP = StepId.DONE
    HELP = HELP[StepId.DONE]

    def compose_body(self) -> ComposeResult:
        state = self.wizard.state
        settings = self.wizard.settings
        unfinished = [
            s for s in STEP_ORDER[:-1] if state.status(s) in (StepStatus.PENDING, StepStatus.FAILED)
        ]
        self.can_advance = False
        if unfinished:
            names = ", ".join(f"{step_number(s)} {STEP_TITLES[s]}" for s in unfinished)
            yield Static(f"Not finished yet: {names}.", id="done-headline", classes="note -pending")
        else:
            skipped = [s for s in STEP_ORDER[:-1] if state.status(s) is StepStatus.SKIPPED]
            headline = "Setup is complete."
            if skipped:
                headline = f"Setup finished; {len(skipped)} of {len(STEP_ORDER) - 1} steps skipped."
            yield Static(headline, id="done-headline", classes="note -ok")

        rows: list[tuple[str, str]] = []
        for step in STEP_ORDER[:-1]:
            record = state.steps[step]
            text = record.status.value + (f" ({record.reason})" if record.reason else "")
            rows.append((f"{mark(record.status)} {STEP_TITLES[step]}", text))
        yield Static(_table(rows), id="done-steps", classes="summary")

        profile_dir = settings.paths.profile_dir(state.profile) if state.profile else None
        names = [catalog.BY_ID[c].name if c in catalog.BY_ID else c for c in state.channels]
        details = [
            ("Image", settings.image),
            ("Profile", f"{state.profile}  ({display_path(profile_dir)}/)" if profile_dir else "none yet"),
            ("Channels", ", ".join(names) if names else "none (add later)"),
            ("Router", state.router_url or "not set"),
            ("Default model", state.default_model or "none"),
            ("Synced models", ", ".join(state.synced_models) or "none"),
            ("Migration", state.migration.value if state.migration else "not run"),
            ("Progress file", display_path(settings.paths.state_file)),
        ]
        yield Static(_table(details), id="done-details", classes="summary")

    def on_mount(self) -> None:
        state = self.wizard.state
        finished = all(
            state.status(s) in (StepStatus.DONE, StepStatus.SKIPPED) for s in STEP_ORDER[:-1]
        )
        if finished and state.status(self.STEP) is not StepStatus.DONE:
            self.wizard.set_status(self.STEP, StepStatus.DONE)


def _table(rows: list[tuple[str, str]]) -> str:
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label.ljust(width)}  {value}" for label, value in rows)
