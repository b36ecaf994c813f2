"""What every step screen shares: the sidebar, the title line, the keys and the help modal."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Input, OptionList, Static

from hermes_tui.progress import STEP_ORDER, STEP_TITLES, StepId, step_number
from hermes_tui.ui.stylesheets import stylesheet
from hermes_tui.ui.widgets.problem_view import ProblemView
from hermes_tui.ui.widgets.step_sidebar import StepSidebar

if TYPE_CHECKING:
    from textual.widget import Widget
    from textual.worker import Worker

    from hermes_tui.app import HermesApp
    from hermes_tui.problem import Problem


class HelpModal(ModalScreen[None]):
    """The current step's help and the spec's troubleshooting advice."""

    CSS_PATH = [stylesheet("modals.tcss")]

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
    """A wizard step. Subclasses set STEP and HELP and implement ``compose_body``.

    Keys and text fields follow one rule on every step: a screen never opens with a field
    focused; Tab (or Enter, while Next is not possible yet) enters the fields, Esc leaves
    them. Outside a field every letter is an action; inside one, letters type and the
    footer shows only the keys that still work there (Enter, Esc, the function keys).
    """

    #: Whether Enter on one of this screen's lists picks the row (else Enter is Next).
    ENTER_PICKS_ROWS: ClassVar[bool] = True

    STEP: ClassVar[StepId]
    HELP: ClassVar[str] = ""
    #: What has focus when the screen opens: never a field (screens with fields name
    #: their list, or the step body, which then scrolls with the arrow keys).
    AUTO_FOCUS = "#step-body *"

    BINDINGS = [
        # Enter is a priority binding so it means "Next" even while typing in a field.
        Binding("enter", "enter", "Next", id="next", key_display="⏎", priority=True),
        # While Next is not possible yet, Enter outside a field enters the first field.
        Binding("enter", "edit", "Edit", id="next-edits", key_display="⏎", priority=True),
        Binding("n", "next", "Next", id="next-n", show=False),
        Binding("escape", "leave_field", "Leave field", id="leave-field", key_display="esc"),
        Binding("escape", "back", "Back", id="back", key_display="esc"),
        Binding("b", "back", "Back", id="back-b", show=False),
        Binding("tab", "edit", "Edit", id="edit"),
        # Inside a field (or with none on the screen) Tab moves focus on, as usual.
        Binding("tab", "app.focus_next", "Focus next", id="focus-next", show=False),
        Binding("s,f2", "focus_steps", "Steps", id="steps"),
        Binding("question_mark,f1", "help", "Help", id="help"),
        Binding("q,ctrl+q", "quit", "Quit", id="quit"),
    ]
    #: Shown after the step's own keys, so a narrow footer drops these first.
    COMMON_KEYS: ClassVar[tuple[str, ...]] = (
        "escape", "tab", "s", "f2", "question_mark", "f1", "q", "ctrl+q")

    def __init__(self) -> None:
        super().__init__()
        # The footer lists keys in this order and cuts at the right edge: the step's own
        # keys (Start, Apply, Refresh…) come right after Next, the common ones last.
        keys = self._bindings.key_to_bindings
        common = [k for k in self.COMMON_KEYS if k in keys]
        first = [k for k in keys if k == "enter"]
        rest = [k for k in keys if k not in common and k not in first]
        self._bindings.key_to_bindings = {k: keys[k] for k in (*first, *rest, *common)}

    #: Whether "Next" is possible now; the footer greys the key out when it is not.
    can_advance: reactive[bool] = reactive(True, bindings=True)

    @property
    def wizard(self) -> HermesApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        with Horizontal(id="shell"):
            yield StepSidebar(self.wizard.progress, id="sidebar")
            with Vertical(id="step-pane"):
                yield Static(
                    f"Step {step_number(self.STEP)} of {len(STEP_ORDER)} · {STEP_TITLES[self.STEP]}",
                    id="step-title",
                )
                with VerticalScroll(id="step-body"):
                    yield from self.compose_body()
        yield Footer(compact=True, show_command_palette=self._palette_fits(self.app.size.width))

    def compose_body(self) -> ComposeResult:
        yield from ()

    def show_problem(self, problem: Problem, worker: Worker | None = None) -> None:
        """A screen without a ProblemView of its own shows a failed worker's problem at the
        end of its body, in one made then (not at start: most screens never need it)."""
        if not self.query(ProblemView):
            self.query_one("#step-body").mount(ProblemView(id="step-problem"))
        super().show_problem(problem, worker)

    #: Below this width the footer leaves out "^p palette" (Ctrl+P still opens it; the
    #: help and README say so): the step's own keys need the room at 80 columns.
    PALETTE_IN_FOOTER_FROM = 100

    def _palette_fits(self, width: int) -> bool:
        return width >= self.PALETTE_IN_FOOTER_FROM

    @on(events.Resize)
    def _fit_footer(self, event: events.Resize) -> None:
        footer = self.query_one(Footer)
        wide = self._palette_fits(event.size.width)
        if footer.show_command_palette != wide:
            footer.show_command_palette = wide
            footer.refresh(recompose=True)

    # -- fields -----------------------------------------------------------------------

    @property
    def in_field(self) -> bool:
        return isinstance(self.focused, Input)

    def fields(self) -> list[Input]:
        """The text fields a user can enter now (shown ones, in screen order)."""
        return [box for box in self.query("#step-body Input").results(Input)
                if box.display and box.parent is not None and box.parent.display]

    def home(self) -> Widget | None:
        """Where focus goes when Esc leaves a field (a list the step works with)."""
        return self.query_one("#step-body")

    def action_edit(self) -> None:
        """Tab outside a field: enter the first field (a later Tab moves between them)."""
        fields = self.fields()
        if fields:
            fields[0].focus()

    def action_leave_field(self) -> None:
        self.set_focus(self.home())

    def _picks_row(self) -> bool:
        """Enter on the step list jumps to its row; on a screen's own list it picks the row
        only where the screen says so (``ENTER_PICKS_ROWS``). A list of ticks never: Space
        ticks there, and Enter is Next as the footer says."""
        from textual.widgets import SelectionList  # loaded when a list is focused, not at start

        focused = self.focused
        if not isinstance(focused, OptionList) or isinstance(focused, SelectionList):
            return False
        return isinstance(focused, StepSidebar) or self.ENTER_PICKS_ROWS

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "enter":
            if self.can_advance or self._picks_row() or self.enter_is_busy():
                return True
            # Hidden: the "Edit" twin below takes Enter; inside a field it is greyed out.
            return False if self._enter_edits() else None
        if action == "next":
            return True if self.can_advance else None
        if action == "back":
            return True if self.STEP != STEP_ORDER[0] else None
        if action == "leave_field":
            return self.in_field
        if action == "edit":
            return not self.in_field and bool(self.fields())
        return True

    def enter_is_busy(self) -> bool:
        """Whether Enter has a meaning of the screen's own now (see ``enter_pressed``)."""
        return False

    def _enter_edits(self) -> bool:
        """While Next is not possible, Enter outside a field enters the first one."""
        return not self.in_field and bool(self.fields())

    def action_enter(self) -> None:
        """Enter picks the row of a focused list (the step list, a model list…), lets the
        screen use it for the focused field, and otherwise means Next (or, while Next is
        not possible yet, enters the first field)."""
        if self._picks_row():
            self.focused.action_select()  # type: ignore[union-attr]
        elif self.enter_pressed():
            return
        elif self.can_advance:
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
