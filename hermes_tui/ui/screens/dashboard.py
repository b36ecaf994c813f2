"""The Hermes dashboard: gateway status, API access, channels and models of the profile.

Shown on launch once setup is complete (and starts the gateway if it is stopped, as the
spec says). It follows the engine's event stream for the profile's container instead of
polling, so an idle dashboard costs next to nothing.
"""

from __future__ import annotations

import contextlib
from collections import deque
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker

from hermes_tui import channels as catalog
from hermes_tui.engine.api_server import ENV_FILE
from hermes_tui.engine.gateway import GatewayAction
from hermes_tui.problem import Problem
from hermes_tui.state import STEP_ORDER, STEP_TITLES, StepId, step_number
from hermes_tui.ui.screens.base import ReportsWorkerFailures
from hermes_tui.ui.stylesheets import stylesheet
from hermes_tui.ui.widgets.api_access import KEY_BINDINGS, ApiAccess, RevealsApiKey, engine_line
from hermes_tui.ui.widgets.gateway_stats import GatewayStats
from hermes_tui.ui.widgets.problem_view import ProblemView
from hermes_tui.ui.widgets.status_line import StatusLine
from hermes_tui.ui.widgets.stream_log import StreamLog
from hermes_tui.ui.widgets.summary import label_table

LOG_LINES = 500
#: Health checks kept in the history (newest first on screen).
CHECKS_KEPT = 5


def local_now() -> datetime:
    return datetime.now().astimezone()


def health_checks(checks: list[tuple[datetime, str]]) -> str:
    """The last ``/health`` checks, newest first: ``17:31:02  ok``."""
    if not checks:
        return "none yet: checked whenever the gateway changes"
    return "\n".join(f"{moment:%H:%M:%S}  {outcome}" for moment, outcome in reversed(checks))


def profile_states(names: list[str], states: dict[str, str] | None, current: str | None) -> str:
    """Every profile with its gateway's state; ``states`` None: the engine was not asked."""
    if not names:
        return "none"
    width = max(len(n) for n in names)
    lines = []
    for name in names:
        state = "unknown" if states is None else states.get(name, "not created")
        mark = "▸ " if name == current else "  "
        lines.append(f"{mark}{name.ljust(width)}  {state}")
    return "\n".join(lines)


def profile_channels(folder: Path | None) -> str:
    """The channels the profile's ``.env`` configures: what its gateway connects to.

    Read from the profile, not from the wizard's state: switching profile clears what the
    state recorded about the previous one (``Flow.choose_profile``)."""
    from hermes_tui.envfile import read_env
    from hermes_tui.fsutil import describe_os_error
    from hermes_tui.paths import display_path
    from hermes_tui.steps.channels import configured_channels

    if folder is None:
        return "none: add them by re-running step 4 (w)"
    env = folder / ENV_FILE
    try:
        ids = configured_channels(read_env(env))
    except OSError as exc:
        return f"unknown: {describe_os_error(exc, env, action='read')}"
    except UnicodeDecodeError:
        return f"unknown: {display_path(env)} is not UTF-8 text"
    names = [catalog.BY_ID[c].name for c in ids]
    return ", ".join(names) or "none: add them by re-running step 4 (w)"


def profile_models(folder: Path | None) -> str:
    """The models the profile's ``config.yaml`` lists for the router, the default marked."""
    from hermes_tui.bridge.sync import ConfigError, read_synced

    if folder is None:
        return "none synced: re-run step 5 (w)"
    try:
        synced = read_synced(folder / "config.yaml")
    except ConfigError as exc:
        return f"unknown: {exc}"
    models = [f"{model}{' (default)' if model == synced.default else ''}  Synced"
              for model in synced.models]
    return "\n".join(models) or "none synced: re-run step 5 (w)"


class PickModal(ModalScreen[str | None]):
    """Choose one of a few options (a step to re-run, a profile to switch to)."""

    CSS_PATH = [stylesheet("dashboard.tcss")]

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="pick-cancel")]

    def __init__(self, title: str, options: list[tuple[str, str]]) -> None:
        super().__init__()
        self._title, self._options = title, options

    def compose(self) -> ComposeResult:
        with Vertical(id="pick-box") as box:
            box.border_title = self._title
            yield OptionList(*(Option(label, id=value) for value, label in self._options),
                             id="pick-list")
        yield Footer()

    @on(OptionList.OptionSelected, "#pick-list")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option_id)


class DashboardScreen(ReportsWorkerFailures, RevealsApiKey, Screen[None]):

    CSS_PATH = [stylesheet("dashboard.tcss"), stylesheet("api_access.tcss")]
    RETRY_KEY = "r"  # restart the gateway, and follow the engine again
    # From 100 columns and 32 rows the profiles and health checks go beside the details.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    BINDINGS = [
        Binding("s", "start", "Start", id="gateway-start"),
        Binding("x", "stop", "Stop", id="gateway-stop"),
        Binding("r", "restart", "Restart", id="gateway-restart"),
        # "Log", not "Logs": with "k Show key" the footer must still fit 80 columns.
        Binding("l", "logs", "Log", id="gateway-logs"),
        *KEY_BINDINGS,
        Binding("c", "copy_call", "Copy", id="copy-call"),
        Binding("w", "rerun", "Re-run", id="rerun-step"),
        Binding("p", "switch_profile", "Profile", id="switch-profile"),
        Binding("n", "new_profile", "New", id="new-profile"),
        Binding("question_mark,f1", "help", "Help", id="dashboard-help"),
        Binding("q,ctrl+q", "app.quit", "Quit", id="dashboard-quit"),
    ]

    has_key: reactive[bool] = reactive(False, bindings=True)
    #: The gateway is up (running, restarting or paused): the footer offers Stop, else Start
    #: — one of the two, so every key of the dashboard fits 80 columns.
    gateway_up: reactive[bool] = reactive(False, bindings=True)
    key_shown: reactive[bool] = reactive(False, bindings=True)

    def compose(self) -> ComposeResult:
        # Status, plots and API on top, then what the profile configures (scrolls when short
        # of room), then the log tail: all of it visible at 80×24.
        with Vertical(id="dashboard") as body:
            body.border_title = f"Hermes · {self.app.state.profile}"
            yield Static("", id="dash-gateway", classes="summary")
            yield StatusLine(id="dash-health", classes="health-detail")
            yield ProblemView(id="dash-problem")
            yield GatewayStats(id="dash-stats")
            yield ApiAccess(id="dash-api")
            with Vertical(id="dash-rest"):
                with VerticalScroll(id="dash-middle"):
                    yield Static("", id="dash-details", classes="summary")
                    yield Static("", id="dash-side", classes="summary")
                log = StreamLog(max_lines=LOG_LINES, id="dash-log", auto_scroll=True)
                log.border_title = "Gateway log (l hides it)"
                yield log
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self._status = None
        #: The action under way ("Stopping"…): engine events meanwhile do not paint over it.
        self._busy: GatewayAction | None = None
        #: The user stopped the gateway here: its exit code is the stop's signal, not a crash.
        self._stopped_by_you = False
        #: The last /health checks seen (time, outcome): from the statuses shown, no timer.
        self._checks: deque[tuple[datetime, str]] = deque(maxlen=CHECKS_KEPT)
        #: Profile → its gateway's state on the engine (None: not asked yet, or no engine).
        self._states: dict[str, str] | None = None
        self._show_details()
        self._show_side()
        self._load_api()
        self._watch()
        self.set_interval(30, self._tick_uptime)  # uptime text only; no polling of the engine

    # -- data ------------------------------------------------------------------------

    def _show_details(self) -> None:
        state = self.app.state
        folder = None if state.profile is None else self.app.settings.paths.profile_dir(state.profile)
        rows = [
            ("Channels", profile_channels(folder)),
            ("Router", state.router_url or "not set: re-run step 5 (w)"),
            ("Models", profile_models(folder)),
            ("Image", state.image_ref or self.app.settings.image),
            ("Engine", engine_line(state.engine_summary, state.engine_url) or "unknown"),
        ]
        self.query_one("#dash-details", Static).update(label_table(rows))

    #: The clock of the health history (tests pin it).
    now = staticmethod(local_now)

    def _show_side(self) -> None:
        """Every profile with its gateway's state, and the last health checks."""
        from hermes_tui.profile import profile_names

        names = profile_names(self.app.settings.paths.profiles)
        current = self.app.state.profile
        self.query_one("#dash-side", Static).update(label_table([
            ("Profiles", profile_states(names, self._states, current) + "\n  (p switches)"),
            ("Checks", health_checks(list(self._checks))),
        ]))

    def api_env_path(self) -> Path | None:
        """Read again on every gateway change, since starting the gateway may write the key."""
        profile = self.app.state.profile
        return None if profile is None else self.app.settings.paths.profile_dir(profile) / ENV_FILE

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "copy_call":
            return self.has_key
        if action == "start":
            return not self.gateway_up
        if action == "stop":
            return self.gateway_up
        allowed = self.key_action(action)
        return True if allowed is None else allowed

    def show_status(self, status, *, reload: bool = True) -> None:
        self._status = status
        self.gateway_up = status.state in ("running", "restarting", "paused")
        if reload:
            self._load_api()
            if status.health is not None:  # a fresh status: its /health was just checked
                # The outcome only: what the last failing check answered is on the status
                # line's "Health check:" row.
                self._checks.append((self.now(), status.health))
                self._show_side()
            if self._states is not None and status.profile:
                self._states[status.profile] = status.summary
                self._show_side()
        if status.running:
            self._follow_running()
        if self._busy is not None:
            return  # "Stopping…" stays until the action says how it ended
        summary = status.summary
        if status.state == "exited" and self._stopped_by_you:
            summary = "stopped by you"
        parts = [(summary, "$text-success" if status.running else "$text-warning")]
        uptime = status.uptime(datetime.now(UTC))
        if uptime is not None:
            minutes = int(uptime.total_seconds() // 60)
            parts.append(f" · up {minutes // 60}h{minutes % 60:02d}m" if minutes >= 60
                         else f" · up {minutes} min")
        if status.health:
            parts.append((f" · health {status.health}",
                          "$text-success" if status.health == "ok" else "$text-error"))
        if status.version:
            parts.append(f" · Hermes {status.version}")
        parts.append(f" · restarts {status.restart_count}")
        api = self.query_one(ApiAccess).api
        if status.api_port and (api is None or api.port != status.api_port):
            # The API block shows the .env's port; a different one here means the running
            # container predates the .env (a restart picks the new one up).
            parts.append(f" · API port {status.api_port}")
        self.query_one("#dash-gateway", Static).update(
            Content.assemble(("Gateway   ", "bold"), *parts))
        detail = status.health_detail if status.health not in (None, "ok") else ""
        self.query_one("#dash-health", StatusLine).update(
            f"Health check: {detail}" if detail else "")

    def _tick_uptime(self) -> None:
        if self._status is not None:
            self.show_status(self._status, reload=False)

    def show_problem(self, problem: Problem, worker: Worker | None = None) -> None:
        """A failed worker's problem; when the engine is gone, the last state shown is no
        longer known either, so the status line says so instead of keeping it."""
        from hermes_tui.engine.launch import EngineLost

        self._busy = None
        super().show_problem(problem, worker)
        if worker is not None and isinstance(worker.error, EngineLost):
            self.query_one("#dash-gateway", Static).update(
                "Gateway   unknown: the engine is not answering")

    def say(self, problem: Problem | None = None) -> None:
        self.query_one("#dash-problem", ProblemView).show(problem, retry_key=self.RETRY_KEY)

    # -- engine ------------------------------------------------------------------------

    @work(exclusive=True, group="dashboard-events", exit_on_error=False)
    async def _watch(self) -> None:
        """Refresh on every engine event for this profile's container; start it if stopped."""
        from hermes_tui.engine.gateway import gateway_status, watch_events
        from hermes_tui.engine.launch import engine_client

        gateway = await self.app.profile_gateway()
        if gateway is None:
            self.query_one("#dash-gateway", Static).update(
                Content.assemble(("Gateway   ", "bold"), ("unknown", "$text-warning")))
            self.say(Problem("No container engine is reachable.",
                             "Re-run step 1 (press w) to see why, then come back."))
            return
        status = await gateway.status()
        self.show_status(status)
        self._find_states()
        if not status.running and self.app.autostart:
            self.app.autostart = False
            self.action_start()
        route = gateway.route
        async with engine_client(gateway.engine) as docker:
            events = watch_events(docker, gateway.profile)
            try:
                async with contextlib.aclosing(events):
                    async for _event in events:
                        self.show_status(await gateway_status(
                            docker, gateway.profile, data_dir=gateway.paths.profiles,
                            route=route))
            finally:
                await route.aclose()

    @work(exclusive=True, group="dashboard-action", exit_on_error=False)
    async def _act(self, action: GatewayAction) -> None:
        from hermes_tui.engine.gateway import GatewayError
        from hermes_tui.engine.launch import EngineLost

        gateway = await self.app.profile_gateway()
        if gateway is None:
            self._busy = None
            self.say(Problem("No container engine is reachable.", "Re-run step 1 (press w)."))
            return
        self.say()
        try:
            status = await gateway.run(action)
        except EngineLost as error:
            self._busy = None
            self.say(error.problem)
            self.query_one("#dash-gateway", Static).update(
                "Gateway   unknown: the engine is not answering")
            return
        except GatewayError as error:
            self._busy = None
            # The log tail goes to the log pane below, not into the problem.
            exit_code = () if error.exit_code is None else (f"Exit code: {error.exit_code}",)
            self.say(replace(error.problem, details=exit_code))
            if error.log_tail:
                log = self.query_one("#dash-log", StreamLog)
                log.display = True
                log.feed("--- last log lines ---", *error.log_tail)
            status = await gateway.status()
        self._busy = None
        self.show_status(status)

    def _begin(self, action: GatewayAction) -> None:
        """Say what is under way at once, before the engine answers, then do it."""
        self._busy = action
        self._stopped_by_you = action is GatewayAction.STOP
        self.query_one("#dash-gateway", Static).update(Content.assemble(
            ("Gateway   ", "bold"), (f"{action.progress.lower()}…", "$text-warning")))
        self._act(action)

    def action_start(self) -> None:
        self._begin(GatewayAction.START)

    def action_stop(self) -> None:
        self._begin(GatewayAction.STOP)

    def action_restart(self) -> None:
        self._begin(GatewayAction.RESTART)
        if not any(w.group == "dashboard-events" and not w.is_finished
                   for w in self.workers):
            self._watch()  # the watch ended (the engine went away): follow it again

    def action_logs(self) -> None:
        log = self.query_one("#dash-log", StreamLog)
        log.display = not log.display

    def _streaming(self, group: str) -> bool:
        return any(w.group == group and not w.is_finished for w in self.workers)

    def _follow_running(self) -> None:
        """A running gateway's log and stats stream in while it runs; the engine ends
        both streams when it stops, and the next "running" starts them again."""
        if not self._streaming("dashboard-logs"):
            self._follow()
        if not self._streaming("dashboard-stats"):
            self._stats()

    @work(exclusive=True, group="dashboard-logs", exit_on_error=False)
    async def _follow(self) -> None:
        from hermes_tui.engine.gateway import follow_logs
        from hermes_tui.engine.launch import engine_client

        gateway = await self.app.profile_gateway()
        if gateway is None:
            return
        log = self.query_one("#dash-log", StreamLog)
        log.clear()  # the tail below repeats the lines already shown
        async with engine_client(gateway.engine) as docker:
            lines = follow_logs(docker, gateway.profile, tail=100)
            async with contextlib.aclosing(lines):
                async for line in lines:
                    log.feed(line)

    @work(exclusive=True, group="dashboard-stats", exit_on_error=False)
    async def _stats(self) -> None:
        from hermes_tui.engine.gateway import watch_stats
        from hermes_tui.engine.launch import engine_client

        gateway = await self.app.profile_gateway()
        if gateway is None:
            return
        plots = self.query_one(GatewayStats)
        async with engine_client(gateway.engine) as docker:
            samples = watch_stats(docker, gateway.profile)
            async with contextlib.aclosing(samples):
                async for sample in samples:
                    plots.add(sample)
        plots.stopped()

    @work(exclusive=True, group="dashboard-profiles", exit_on_error=False)
    async def _find_states(self) -> None:
        """Every profile's gateway state, asked once (and again when the picker opens):
        other profiles' gateways send no events here, and nothing polls."""
        from hermes_tui.engine.gateway import find_gateways
        from hermes_tui.engine.launch import engine_client

        gateway = await self.app.profile_gateway()
        if gateway is None:
            return
        async with engine_client(gateway.engine) as docker:
            found = await find_gateways(docker, check=False, data_dir=gateway.paths.profiles)
        self._states = {name: status.summary for name, status in found.items()}
        if self._status is not None and self._status.profile:
            self._states[self._status.profile] = self._status.summary
        self._show_side()

    def action_copy_call(self) -> None:
        """Copy the example call (OSC 52). The key goes in only while it is shown (k)."""
        from hermes_tui.engine.api_server import KEY_ENV
        from hermes_tui.ui.widgets.api_access import example_call

        api = self.query_one(ApiAccess).api
        if api is None:
            self.notify("No API to call: the profile's .env has no API_SERVER_PORT yet "
                        "(starting the gateway writes it).", title="Nothing copied",
                        severity="warning")
            return
        call = example_call(api.base_url, 0)
        if self.key_shown:
            self.app.copy_to_clipboard(call.replace(f"${KEY_ENV}", api.key))
            self.notify("Copied the example call with the API key in it (k hides the key).",
                        title="Copied")
        else:
            self.app.copy_to_clipboard(call)
            self.notify(f"Copied: {call}\nIt reads the key from ${KEY_ENV}: set it, or "
                        "press k then c to copy the call with the key.", title="Copied")

    # -- wizard ------------------------------------------------------------------------

    def action_rerun(self) -> None:
        options = [(s.value, f"{step_number(s)}  {STEP_TITLES[s]}") for s in STEP_ORDER[:-1]]
        self.app.push_screen(PickModal("Re-run a step", options), self._rerun)

    def _rerun(self, step: str | None) -> None:
        if step:
            self.app.rerun_step(StepId(step))

    def action_switch_profile(self) -> None:
        from hermes_tui.profile import profile_names

        names = profile_names(self.app.settings.paths.profiles)
        width = max((len(n) for n in names), default=0)
        states = self._states or {}

        def label(name: str) -> str:
            state = states.get(name, "not created" if self._states is not None else "")
            current = "  (current)" if name == self.app.state.profile else ""
            return f"{name.ljust(width)}  {state}{current}".rstrip()

        options = [(n, label(n)) for n in names]
        self._find_states()  # fresh for the list on the dashboard after the pick
        self.app.push_screen(PickModal("Switch profile", options), self._switch)

    def _switch(self, name: str | None) -> None:
        if name and name != self.app.state.profile:
            # As the wizard's step 3 and setup do: what steps 4-6 recorded was about the
            # old profile, so it is cleared (its OpenClaw folder is not mounted either).
            self.app.choose_profile(name)
            self.app.open_dashboard()

    def action_new_profile(self) -> None:
        """Ask first: setting up another profile starts steps 3-7 over in the progress."""
        from hermes_tui.ui.widgets.confirm import ConfirmModal

        current = self.app.state.profile
        self.app.push_screen(ConfirmModal(
            "New profile",
            f"Set up another profile? The wizard opens at step 3; '{current}' and its "
            "gateway stay as they are, and you can switch back to it from the dashboard (p).",
            "Set up a new profile", "Stay on this dashboard (also Esc)",
        ), self._new_profile)

    def _new_profile(self, yes: bool | None) -> None:
        if yes:
            self.app.new_profile()

    def action_help(self) -> None:
        from hermes_tui.ui.help_text import DASHBOARD_HELP
        from hermes_tui.ui.screens.base import HelpModal

        self.app.push_screen(HelpModal("Help · Dashboard", DASHBOARD_HELP))

