"""The Textual application: owns the wizard state, saves it on every change, switches steps.

Screens never write the state file themselves: they call ``app.update_state``,
``app.finish_step`` and ``app.goto``, which save first and then move on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from importlib import import_module
from typing import TYPE_CHECKING

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from hermes_tui.progress import (
    STEP_ORDER,
    STEP_TITLES,
    Outline,
    StateError,
    StepId,
    StepStatus,
    setup_complete,
    step_number,
)
from hermes_tui.settings import Settings
from hermes_tui.ui.stylesheets import stylesheet

if TYPE_CHECKING:
    from textual.worker import Worker

    from hermes_tui.engine.detect import Diagnosis
    from hermes_tui.engine.launch import ProfileGateway
    from hermes_tui.progress import Progress
    from hermes_tui.state import StateStore, WizardState
    from hermes_tui.steps.flow import Flow


@dataclass(frozen=True)
class Opening:
    """How the wizard opens when it loads the progress file itself, after the first frame:
    what that frame shows, and the command line's choices for the load."""

    outline: Outline
    reset: bool = False
    router_url: str | None = None
    #: The command paused the garbage collector for start-up: resume it once ready.
    collector_paused: bool = False


class HermesApp(App[int]):
    """Seven steps, one screen each, resumable from ``wizard.toml``."""

    TITLE = "Hermes setup"
    CSS_PATH = [stylesheet("app.tcss")]
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True, id="quit-anywhere"),
    ]

    def __init__(self, settings: Settings, store: StateStore | None = None,
                 state: WizardState | None = None, notice: str | None = None, *,
                 opening: Opening | None = None) -> None:
        """With ``state`` the wizard opens on it; without, it opens on ``opening``'s
        outline and loads the state right after the first frame (see `progress`)."""
        super().__init__()
        self.settings = settings
        self._store = store
        self._state = state
        #: Whether the first screen is drawn from the outline (the state loads after it).
        self._from_outline = state is None
        self._opening = opening or Opening(Outline())
        self._notice = notice
        #: Why the progress file could not be loaded (the app then exits with 3).
        self.state_error: StateError | None = None
        self._flow: Flow | None = None
        #: Start the gateway when the dashboard first opens (the spec: it starts on launch).
        self.autostart = True
        #: Set while the user re-runs one step from the dashboard: Next returns there.
        self.rerunning = False
        #: Clock for rates and ETAs (tests freeze it so snapshots do not depend on speed).
        self.monotonic = time.monotonic
        #: The last runtime diagnosis (step 1), shared by the steps that need the engine.
        self.diagnosis: Diagnosis | None = None

    # -- the progress -----------------------------------------------------------------

    @property
    def store(self) -> StateStore:
        if self._store is None:
            from hermes_tui.state import StateStore

            self._store = StateStore(self.settings.paths.state_file)
        return self._store

    @property
    def state(self) -> WizardState:
        """The validated progress, loaded on first use (right after the first frame)."""
        if self._state is None:
            self._load_state()
        assert self._state is not None
        return self._state

    @property
    def progress(self) -> Progress:
        """What the step list shows: the state once loaded, the outline until then."""
        return self._state if self._state is not None else self._opening.outline

    @property
    def flow(self) -> Flow:
        """Every change to the progress goes through the flow (as setup's does)."""
        if self._flow is None:
            from hermes_tui.steps.flow import Flow

            self._flow = Flow(self.state, self.store, save=lambda _state: self.save(),
                              recorded=lambda _step: self._show_progress())
        return self._flow

    def _load_state(self) -> None:
        """Load (or, with --reset, restart) the progress as the command line asked; it is
        saved once after the first frame. A file that cannot be used ends the app (3)."""
        opening = self._opening
        try:
            loaded = self.store.reset() if opening.reset else self.store.load()
        except StateError as exc:
            self._state_unusable(exc)
            return
        if opening.router_url and opening.router_url != loaded.state.router_url:
            loaded.state.router_url = opening.router_url
        self._state = loaded.state
        self._notice = loaded.notice

    def _state_unusable(self, error: StateError) -> None:
        self.state_error = error
        if self._state is None:
            self._state = self.store.new_state()  # in memory only, while the app exits
        self.exit(return_code=3)  # the command's EXIT_STATE_ERROR

    def get_default_screen(self) -> Screen:
        """The first screen is the bottom of the stack (not pushed over an empty one:
        drawing that costs start-up time), chosen from the progress as it stands."""
        from hermes_tui.ui.glyphs import plain_console

        if plain_console():
            self.add_class("-plain-console")  # square borders: the console font has them
        screen = self._opening_screen(self.progress)
        # Textual 8 gives a pushed or switched-to screen these two; its default screen
        # gets neither: its own stylesheet, and the result callback switch_screen takes
        # back when another step replaces it.
        self._load_screen_css(screen)
        screen._push_result_callback(screen, None)
        return screen

    async def on_mount(self) -> None:
        # The app is ready (keys, pilots) once its first screen is: a pushed screen would
        # be mounted here; the default one mounts in its own task. (Textual's AwaitMount
        # would also re-lay out the whole app: ~30 ms of start-up for nothing.)
        await self.screen._mounted_event.wait()
        if self._from_outline:
            self.call_after_refresh(self._state_after_first_frame)
        else:
            self._state_ready()

    def _opening_screen(self, progress: Progress) -> Screen:
        """The dashboard once set up, else the step the progress is at."""
        if setup_complete(progress):
            from hermes_tui.ui.screens.dashboard import DashboardScreen

            return DashboardScreen()
        return self._screen_for(progress.current_step)

    def _state_after_first_frame(self) -> None:
        """Load the state the first frame was drawn without (unless its screen already
        needed it); redraw where it differs from the outline that frame showed."""
        shown = self._opening.outline
        state = self.state
        if self.state_error is None:
            try:
                self.store.save(state)  # as the command line left it (--reset, --router-url)
            except StateError as exc:
                self._state_unusable(exc)
        if self.state_error is not None:
            return
        if (setup_complete(state), state.current_step) != (setup_complete(shown),
                                                             shown.current_step):
            self.switch_screen(self._opening_screen(state))
        else:
            self._show_progress()
        self._state_ready()
        if self._opening.collector_paused:
            import gc

            gc.freeze()  # what start-up made lives as long as the app: never walk it again
            gc.enable()

    def _state_ready(self) -> None:
        if self._notice:
            self.notify(self._notice, title="Progress file", severity="warning", timeout=20)
        # The migration step says it itself; elsewhere a notice does (off the event loop:
        # it imports the migration code).
        opens_migration = (self.state.current_step is StepId.MIGRATION
                           and not self.setup_complete)
        if self.state.profile is not None and not opens_migration:
            self.run_worker(self._interrupted_migration, thread=True, exit_on_error=False,
                            group="start-notice")

    def _interrupted_migration(self) -> None:
        """Say at start when an apply of the OpenClaw migration was interrupted."""
        from hermes_tui.steps.migration import interrupted_notice

        notice = interrupted_notice(self.settings.paths.profile_dir(self.state.profile or ""))
        if notice is not None:
            self.call_from_thread(self.notify, notice, title="Claw migration",
                                  severity="warning", timeout=20)

    def action_quit(self) -> None:
        """Ctrl+Q from anywhere: the step screen decides whether to ask first."""
        from hermes_tui.ui.screens.base import StepScreen

        if isinstance(self.screen, StepScreen):
            self.screen.action_quit()
        else:
            self.exit()

    def get_key_display(self, binding: Binding) -> str:
        from hermes_tui.ui.glyphs import plain_console

        if plain_console() and binding.key == "enter":
            return "Enter"
        return super().get_key_display(binding)

    async def find_engine(self, fresh: bool = False) -> Diagnosis:
        """Diagnose the container runtime once per run (or again when ``fresh``)."""
        if fresh or self.diagnosis is None or not self.diagnosis.ok:
            # aiodocker/aiohttp take ~0.3 s to import: do it off the event loop.
            await asyncio.to_thread(import_module, "aiodocker")
            from hermes_tui.engine.detect import diagnose

            self.diagnosis = await diagnose(
                self.settings.docker_host, saved=self.state.engine_url
            )
        return self.diagnosis

    async def profile_gateway(self) -> ProfileGateway | None:
        """The current profile's gateway on the engine found, or None without an engine."""
        from hermes_tui.steps.completion import profile_gateway

        diagnosis = await self.find_engine()
        if diagnosis.engine is None or self.state.profile is None:
            return None
        return profile_gateway(self.settings, self.state, diagnosis.engine)

    # -- failures -------------------------------------------------------------------------

    def worker_failed(self, worker: Worker, screen: Screen) -> None:
        """The one handler for a worker that raised (workers run with exit_on_error=False;
        screens forward ``Worker.StateChanged`` here, since it does not bubble).

        A domain error shows its own Problem; anything else shows "Unexpected error" with
        the screen's retry key and the log file. The traceback goes to the log either way.
        """
        from hermes_tui.crashlog import log_failure
        from hermes_tui.paths import display_path
        from hermes_tui.problem import problem_of

        error = worker.error
        if error is None:
            return
        logged = log_failure(self.settings.paths.log_file, error, f"worker {worker.name} failed")
        retry_key = getattr(screen, "retry_key_for", lambda _worker: None)(worker)
        problem = problem_of(error, display_path(logged) if logged else None, retry_key)
        show = getattr(screen, "show_problem", None)
        if show is not None:
            show(problem, worker)
        else:
            self.notify(f"{problem.what} {problem.fix}", severity="error", timeout=20)

    def _handle_exception(self, error: Exception) -> None:
        self._crash = error
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        """A crash that still escapes. Textual (8.x) renders the fatal traceback with
        ``show_locals=True`` and has no setting to turn that off, so this override writes
        the traceback without locals to the log file and prints one line naming it."""
        import sys

        from rich.text import Text
        from textual.worker import WorkerFailed

        from hermes_tui.crashlog import log_failure

        error = getattr(self, "_crash", None) or sys.exc_info()[1]
        if isinstance(error, WorkerFailed):
            error = error.error
        self.bell()
        if error is None:
            where = None
            message = "hermes-tui stopped after an unexpected error."
        else:
            where = log_failure(self.settings.paths.log_file, error, "crash")
            message = f"hermes-tui stopped after an unexpected error: {type(error).__name__}: {error}"
        note = (f" The full traceback is in {where}." if where
                else " The log file could not be written.")
        self._exit_renderables.append(Text(message + note))
        self._close_messages_no_wait()

    def open_dashboard(self) -> None:
        from hermes_tui.ui.screens.dashboard import DashboardScreen

        self.switch_screen(DashboardScreen())

    # -- navigation -------------------------------------------------------------------

    def _screen_for(self, step: StepId) -> Screen:
        from hermes_tui.ui.screens import screen_class

        return screen_class(step)()

    def save(self) -> bool:
        """Persist the state; on failure tell the user and keep going in memory."""
        try:
            self.store.save(self.state)
        except StateError as exc:
            self.notify(str(exc), title="Progress not saved", severity="error", timeout=20)
            return False
        return True

    def goto(self, step: StepId) -> None:
        self.flow.goto(step)
        self.switch_screen(self._screen_for(step))

    def set_status(self, step: StepId, status: StepStatus, reason: str | None = None) -> None:
        self.flow.record(step, status, reason)

    def _show_progress(self) -> None:
        from hermes_tui.ui.widgets.step_sidebar import StepSidebar

        for sidebar in self.screen.query(StepSidebar):
            sidebar.show_state(self.progress)

    @property
    def setup_complete(self) -> bool:
        return setup_complete(self.state)

    def rerun_step(self, step: StepId) -> None:
        """Open ``step`` from the dashboard; its Next comes back to the dashboard."""
        self.rerunning = True
        self.flow.rerun(step)
        self.switch_screen(self._screen_for(step))

    def new_profile(self) -> None:
        """Set up another profile: steps 3 onwards start over; engine and image are kept."""
        self.rerunning = False
        self.flow.new_profile()
        self.switch_screen(self._screen_for(StepId.PROFILE))

    def choose_profile(self, name: str) -> bool:
        """Use profile ``name``; another name clears what steps 4-6 recorded (as setup does)."""
        return self.flow.choose_profile(name)

    def finish_step(self, step: StepId, status: StepStatus = StepStatus.DONE,
                    reason: str | None = None) -> None:
        """Record how ``step`` ended and open the next one (or the dashboard, on a re-run)."""
        self.set_status(step, status, reason)
        if self.rerunning:
            self.rerunning = False
            self.flow.back_to_dashboard()
            self.open_dashboard()
            return
        following = self.flow.advance(step)
        if following is not None:
            self.switch_screen(self._screen_for(following))

    def go_back(self, step: StepId) -> None:
        earlier = self.flow.go_back(step)
        if earlier is not None:
            self.switch_screen(self._screen_for(earlier))

    def can_jump(self, step: StepId) -> bool:
        return self.state.visited(step)

    def jump(self, step: StepId) -> None:
        if self.can_jump(step):
            self.goto(step)
        else:
            self.notify(f"Finish the earlier steps before {STEP_TITLES[step]}.", severity="warning")

    # -- command palette --------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for step in STEP_ORDER:
            if self.can_jump(step) and step != self.state.current_step:
                yield SystemCommand(
                    f"Go to step {step_number(step)}: {STEP_TITLES[step]}",
                    f"Open the {STEP_TITLES[step]} step ({self.state.status(step).value})",
                    partial(self.jump, step),
                )
