"""What every step screen shares: the sidebar, the title line, the keys and the help modal."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, OptionList, Static

from hermes_tui.state import STEP_ORDER, STEP_TITLES, StepId, step_number
from hermes_tui.ui.widgets.problem_view import ProblemView
from hermes_tui.ui.widgets.step_sidebar import StepSidebar

if TYPE_CHECKING:
    from textual.worker import Worker

    from hermes_tui.app import HermesApp
    from hermes_tui.problem import Problem


class HelpModal(ModalScreen[None]):
    """The current step's help and the spec's troubleshooting advice."""

    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close", id="close-help"),
    ]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self._title = title
        self._text = text

    def compose(self) -> ComposeResult:
        from textual.widgets import Markdown  # markdown-it and friends: only when asked for

        with VerticalScroll(id="help-box") as box:
            box.border_title = self._title
            box.border_subtitle = "Esc closes"
            yield Markdown(self._text, id="help-text")


class ReportsWorkerFailures:
    """For screens that run workers: a failed worker's problem is shown on the screen.

    ``Worker.StateChanged`` does not bubble, so the screen forwards it to the App's one
    handler (``HermesApp.worker_failed``), which calls back ``show_problem``.
    """

    #: The key that retries what failed on this screen (None: nothing to retry).
    RETRY_KEY: ClassVar[str | None] = None

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        from textual.worker import WorkerState

        if event.state is WorkerState.ERROR:
            self.app.worker_failed(event.worker, self)  # type: ignore[attr-defined]

    def retry_key_for(self, worker: Worker) -> str | None:
        return self.RETRY_KEY

    def show_problem(self, problem: Problem, worker: Worker | None = None) -> None:
        """Show it in the screen's first ProblemView (every step screen has one)."""
        views = self.query(ProblemView)  # type: ignore[attr-defined]
        key = self.retry_key_for(worker) if worker is not None else self.RETRY_KEY
        if views:
            views.first().show(problem, retry_key=key)
        else:
            self.app.notify(f"{problem.what} {problem.fix}",  # type: ignore[attr-defined]
                            severity="error", timeout=20)


class StepScreen(ReportsWorkerFailures, Screen[None]):
    """A wizard step. Subclasses set STEP and HELP and implement ``compose_body``."""

    STEP: ClassVar[StepId]
    HELP: ClassVar[str] = ""
    AUTO_FOCUS = "#step-body *"

    BINDINGS = [
        # Enter is a priority binding so it means "Next" even while typing in a field.
        Binding("enter", "enter", "Next", id="next", key_display="⏎", priority=True),
        Binding("n", "next", "Next", id="next-n", show=False),
        Binding("escape", "back", "Back", id="back", key_display="esc"),
        Binding("b", "back", "Back", id="back-b", show=False),
        Binding("s,f2", "focus_steps", "Steps", id="steps"),
        Binding("question_mark,f1", "help", "Help", id="help"),
        Binding("q,ctrl+q", "quit", "Quit", id="quit"),
    ]

    #: Whether "Next" is possible now; the footer greys the key out when it is not.
    can_advance: reactive[bool] = reactive(True, bindings=True)

    @property
    def wizard(self) -> HermesApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        with Horizontal(id="shell"):
            yield StepSidebar(self.wizard.state, id="sidebar")
            with Vertical(id="step-pane"):
                yield Static(
                    f"Step {step_number(self.STEP)} of {len(STEP_ORDER)} · {STEP_TITLES[self.STEP]}",
                    id="step-title",
                )
                with VerticalScroll(id="step-body"):
                    yield from self.compose_body()
                    yield ProblemView(id="step-problem")  # a failed worker's, when no other
        yield Footer(compact=True)

    def compose_body(self) -> ComposeResult:
        yield from ()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "enter":
            return True if self.can_advance or isinstance(self.focused, OptionList) else None
        if action == "next":
            return True if self.can_advance else None
        if action == "back":
            return True if self.STEP != STEP_ORDER[0] else None
        return True

    def action_enter(self) -> None:
        """Enter picks the row of a focused list (the step list, a model list…), lets the
        screen use it for the focused field, and otherwise means Next."""
        if isinstance(self.focused, OptionList):
            self.focused.action_select()
        elif not self.enter_pressed() and self.can_advance:
            self.advance()

    def action_next(self) -> None:
        if self.can_advance:
            self.advance()

    def enter_pressed(self) -> bool:
        """A screen may give Enter a meaning for the focused field (True: handled)."""
        return False

    def advance(self) -> None:
        """Subclasses validate and record the step, then call ``self.wizard.finish_step``."""
        self.wizard.finish_step(self.STEP)

    def action_back(self) -> None:
        self.wizard.go_back(self.STEP)

    def busy(self) -> str | None:
        """What quitting now would interrupt, in words; None when nothing is under way."""
        return None

    def action_quit(self) -> None:
        """Quit at once (progress is saved), but ask first if work would be lost."""
        from hermes_tui.ui.widgets.confirm import ConfirmModal

        interrupted = self.busy()
        if interrupted is None:
            self.app.exit()
            return
        modal = ConfirmModal("Quit now?", interrupted, "quit anyway", "keep going")
        self.app.push_screen(modal, lambda yes: self.app.exit() if yes else None)

    def action_focus_steps(self) -> None:
        self.query_one(StepSidebar).focus()

    def action_help(self) -> None:
        title = f"Help · Step {step_number(self.STEP)}: {STEP_TITLES[self.STEP]}"
        self.app.push_screen(HelpModal(title, self.HELP or "No help for this step."))

    @on(OptionList.OptionSelected, "#sidebar")
    def _jump(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        target = StepId(event.option_id)
        if target != self.STEP:
            self.wizard.jump(target)
