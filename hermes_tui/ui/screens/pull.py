"""Step 2 — Image pull. Reads the engine from step 1; writes ``image_ref``/``image_digest``.

The step itself is ``steps.pull.pull_step`` (shared with ``setup``); events land in a
``PullProgress`` model, and ``LayerBars`` repaints the rows that changed, at most 10 times a
second and not at all while nothing changes. Quitting mid-pull leaves the step open: the
next run pulls again and the layers already fetched show "Already exists".
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from hermes_tui.engine.pull import PullError, PullErrorKind, PullProgress
from hermes_tui.state import StepId
from hermes_tui.steps.pull import describe, pull_step
from hermes_tui.ui.help_text import HELP
from hermes_tui.ui.screens.base import StepScreen
from hermes_tui.ui.widgets.layer_bars import LayerBars
from hermes_tui.ui.widgets.problem_view import ProblemView
from hermes_tui.ui.widgets.status_line import StatusLine


class PullScreen(StepScreen):
    STEP = StepId.PULL
    RETRY_KEY = "r"
    HELP = HELP[StepId.PULL]
    BINDINGS = [
        Binding("r", "retry", "Retry", id="retry"),
        Binding("1", "runtime", "Step 1", id="to-runtime"),
    ]

    #: What the footer offers: Retry after a failure, step 1 when the engine went away.
    failed: reactive[bool] = reactive(False, bindings=True)
    engine_lost: reactive[bool] = reactive(False, bindings=True)

    def compose_body(self) -> ComposeResult:
        image = self.wizard.settings.image
        yield Static(Content.assemble(("Image   ", "bold"), image), id="pull-image")
        yield Static("", id="pull-engine", classes="note")
        yield LayerBars(id="layer-bars")
        yield StatusLine(id="pull-result", classes="summary")
        yield ProblemView(id="pull-problem")

    def busy(self) -> str | None:
        progress = self.query_one(LayerBars).progress
        if progress is None or progress.done or self.failed or not progress.layers:
            return None
        done, total = progress.finished_layers, len(progress.layers)
        kept = ("The engine keeps the layers it finished" if done
                else "No layer is finished yet")
        return (
            f"The image is still downloading ({done} of {total} layers done). Quitting "
            f"stops the pull. {kept}: the next run shows those as \"Already exists\" and "
            f"downloads the other {total - done} again. Your progress in the wizard is kept."
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "retry":
            return self.failed
        if action == "runtime":
            return self.engine_lost
        return super().check_action(action, parameters)

    def on_mount(self) -> None:
        self.can_advance = False
        self._pull()

    def action_retry(self) -> None:
        self._pull()

    def action_runtime(self) -> None:
        self.wizard.goto(StepId.RUNTIME)

    @work(exclusive=True, group="pull", exit_on_error=False)
    async def _pull(self) -> None:
        self.failed = self.engine_lost = False
        self.query_one("#pull-problem", ProblemView).clear()
        diagnosis = await self.wizard.find_engine()
        engine = diagnosis.engine
        if engine is not None:
            self.query_one("#pull-engine", Static).update(
                Content.assemble(("Engine  ", "bold"), f"{engine.summary} via {engine.source}"
                                 + (f", on {engine.remote}" if engine.remote else "")))
        image = self.wizard.settings.image
        progress = PullProgress(clock=self.wizard.monotonic)
        bars = self.query_one(LayerBars)
        bars.display = True
        bars.show_progress(progress)
        try:  # the step itself: steps.pull (shared with setup)
            result = await pull_step(self.wizard.flow, diagnosis, image, progress)
        except PullError as error:
            self._fail(error)
            return
        finally:
            bars.flush()
        self.query_one("#pull-result", Static).update(
            Content.assemble((describe(result), "$text-success"), "\n", ("Digest  ", "bold"),
                             result.digest or "unknown")
        )
        self.can_advance = True

    def _fail(self, error: PullError) -> None:
        bars = self.query_one(LayerBars)
        if bars.progress is None or not bars.progress.layers:
            bars.display = False  # nothing was fetched: no empty progress to look at
        self.query_one("#pull-problem", ProblemView).show(error.problem, retry_key=self.RETRY_KEY)
        self.failed = True
        self.engine_lost = error.kind is PullErrorKind.ENGINE_GONE

    def show_problem(self, problem, worker=None) -> None:
        """An unexpected failure: shown like a pull error, and r retries."""
        super().show_problem(problem, worker)
        self.failed = True

    def advance(self) -> None:
        self.wizard.finish_step(self.STEP)
