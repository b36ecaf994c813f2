"""Step 7 — Completion. Summarises the state, starts the gateway, opens the dashboard.

Reads the whole state and the profile's ``.env`` (for the API block: URL and masked key);
writes only this step's status: done once the gateway started (``steps.completion``,
shared with ``setup``; the dashboard builds its gateway there too).
"""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from hermes_tui import channels as catalog
from hermes_tui.engine.api_server import ENV_FILE
from hermes_tui.paths import display_path
from hermes_tui.problem import Problem
from hermes_tui.state import STEP_ORDER, STEP_TITLES, StepId, StepStatus, step_number
from hermes_tui.steps import completion
from hermes_tui.ui.glyphs import mark
from hermes_tui.ui.help_text import HELP
from hermes_tui.ui.screens.base import StepScreen
from hermes_tui.ui.stylesheets import stylesheet
from hermes_tui.ui.widgets.api_access import KEY_BINDINGS, ApiAccess, RevealsApiKey, engine_line
from hermes_tui.ui.widgets.problem_view import ProblemView
from hermes_tui.ui.widgets.status_line import StatusLine
from hermes_tui.ui.widgets.summary import LabelTable

NEXT_LAUNCH_BEFORE = ("Quit now (q) and the next launch opens this step again: the gateway "
                      "starts only when you press g.")
NEXT_LAUNCH_AFTER = "The next launch opens the dashboard (and starts the gateway if it stopped)."


def status_words(status: StepStatus, reason: str | None) -> str:
    """"done", "skipped (no OpenClaw setup found)"; a reason that already says the
    status ("skipped by you") is shown alone, never "skipped (skipped by you)"."""
    if not reason:
        return status.value
    if reason.lower().startswith(status.value):
        return reason
    return f"{status.value} ({reason})"


class DoneScreen(RevealsApiKey, StepScreen):

    CSS_PATH = [stylesheet("api_access.tcss")]
    STEP = StepId.DONE
    AUTO_FOCUS = "#step-body"
    HELP = HELP[StepId.DONE]
    RETRY_KEY = "g"  # start the gateway again
    BINDINGS = [
        # Short descriptions: with "k Show key" the footer must still fit 80 columns.
        Binding("g", "start_gateway", "Start", id="start-gateway"),
        Binding("d", "dashboard", "Dashboard", id="open-dashboard"),
        *KEY_BINDINGS,
    ]

    ready: reactive[bool] = reactive(False, bindings=True)
    running: reactive[bool] = reactive(False, bindings=True)
    has_key: reactive[bool] = reactive(False, bindings=True)
    key_shown: reactive[bool] = reactive(False, bindings=True)

    def compose_body(self) -> ComposeResult:
        state = self.wizard.state
        settings = self.wizard.settings
        unfinished = completion.unfinished(state)
        self.can_advance = False
        self.ready = not unfinished and state.profile is not None
        if unfinished:
            names = ", ".join(f"{step_number(s)} {STEP_TITLES[s]}" for s in unfinished)
            yield Static(f"Not finished yet: {names}.", id="done-headline", classes="note -pending")
        else:
            skipped = [s for s in STEP_ORDER[:-1] if state.status(s) is StepStatus.SKIPPED]
            headline = "Setup is complete. Press g to start the gateway."
            if skipped:
                headline = (f"Setup finished; {len(skipped)} of {len(STEP_ORDER) - 1} steps "
                            "skipped. Press g to start the gateway.")
            yield Static(headline, id="done-headline", classes="note -ok")
            # Step 7 is done only once the gateway started: say what quitting now means.
            yield Static(NEXT_LAUNCH_BEFORE, id="done-next-launch", classes="note")

        rows: list[tuple[str, str]] = []
        for step in STEP_ORDER[:-1]:
            record = state.steps[step]
            text = status_words(record.status, record.reason)
            rows.append((f"{mark(record.status)} {STEP_TITLES[step]}", text))
        yield LabelTable(rows, id="done-steps", classes="summary")

        profile_dir = settings.paths.profile_dir(state.profile) if state.profile else None
        names = [catalog.BY_ID[c].name if c in catalog.BY_ID else c for c in state.channels]
        image = state.image_ref or settings.image
        if state.image_digest:
            image += f"\n@{state.image_digest}"
        details = [
            ("Engine", engine_line(state.engine_summary, state.engine_url) or "not found yet"),
            ("Image", image),
            ("Profile", f"{state.profile}  ({display_path(profile_dir)}/)" if profile_dir else "none yet"),
            ("Channels", ", ".join(names) if names else "none (add later)"),
            ("Router", state.router_url or "not set"),
            ("Default model", state.default_model or "none"),
            ("Synced models", ", ".join(state.synced_models) or "none"),
            ("Migration", state.migration.value if state.migration else "not run"),
            ("Progress file", display_path(settings.paths.state_file)),
        ]
        yield LabelTable(details, id="done-details", classes="summary")
        # The API block before the gateway's outcome, so what the last key press did
        # (started, or why not) stays at the bottom, next to each other.
        yield ApiAccess(id="done-api")
        yield StatusLine(id="gateway-state", classes="summary")
        yield StatusLine(id="gateway-health", classes="health-detail")
        yield ProblemView(id="gateway-problem")

    def on_mount(self) -> None:
        self._load_api()

    def api_env_path(self) -> Path | None:
        profile = self.wizard.state.profile
        return None if profile is None else self.wizard.settings.paths.profile_dir(profile) / ENV_FILE

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("enter", "next"):
            return False  # nothing follows step 7: g and d are its keys
        if action == "start_gateway":
            return True if self.ready else None
        if action == "dashboard":
            return True if self.ready else None
        allowed = self.key_action(action)
        if allowed is not None:
            return allowed
        return super().check_action(action, parameters)

    def action_start_gateway(self) -> None:
        self._start()

    def action_dashboard(self) -> None:
        self.wizard.open_dashboard()

    @work(exclusive=True, group="gateway", exit_on_error=False)
    async def _start(self) -> None:
        from hermes_tui.engine.gateway import GatewayError
        from hermes_tui.engine.launch import EngineLost

        show = self.query_one("#gateway-state", StatusLine)
        problem = self.query_one("#gateway-problem", ProblemView)
        problem.clear()
        self.query_one("#gateway-health", StatusLine).update("")
        show.update("Starting the gateway…")
        gateway = await self.wizard.profile_gateway()
        if gateway is None:
            show.update("")
            problem.show(Problem("No container engine is reachable.",
                                 "Go back to step 1 (Runtime check) to see why."),
                         retry_key=self.RETRY_KEY)
            self._show_outcome()
            return
        try:  # the step itself: steps.completion (shared with setup)
            status = await completion.start_gateway(self.wizard.flow, gateway)
        except (GatewayError, EngineLost) as error:
            show.update("")
            problem.show(error.problem, retry_key=self.RETRY_KEY)
            self._show_outcome()
            return
        self.show_started(status)

    def show_started(self, status) -> None:
        """What the started gateway reports: state, health and Hermes version, API block."""
        parts: list[str | tuple[str, str]] = [("Gateway ", "bold"),
                                              (status.summary, "$text-success")]
        if status.health == "ok":
            parts.append((", health ok", "$text-success"))
        elif status.health:
            parts.append((f", health {status.health}", "$text-error"))
        if status.version:
            parts.append(f", Hermes {status.version}")
        if status.api_port:
            parts.append(f", on port {status.api_port}")
        parts.append(". Press d to open the dashboard.")
        self.query_one("#gateway-state", StatusLine).update(Content.assemble(*parts))
        detail = status.health_detail if status.health not in (None, "ok") else ""
        self.query_one("#gateway-health", StatusLine).update(
            f"Health check: {detail}" if detail else "")
        self._load_api()
        self.running = True
        self.query_one("#done-headline", Static).update(
            "Setup is complete and the gateway is running. Press d to open the dashboard.")
        self.query_one("#done-next-launch", Static).update(NEXT_LAUNCH_AFTER)
        self._show_outcome()

    def _show_outcome(self) -> None:
        """The gateway's outcome is at the bottom: scroll it into view (80×24 included)."""
        body = self.query_one("#step-body")
        # After the next layout, when the new lines have their height.
        self.call_after_refresh(lambda: self.call_after_refresh(body.scroll_end, animate=False))

