"""Step 1 — Runtime check: the front end of ``steps.runtime``.

The probing is ``engine.detect.diagnose`` (cached by the app for the run) and recording it
is ``steps.runtime.record_diagnosis`` (as ``setup`` does); this screen lists every probe
with its outcome, the engine found, or the exact cause and fix when none answers.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import Static

from hermes_tui.progress import StepId
from hermes_tui.ui.glyphs import mark
from hermes_tui.ui.help_text import HELP
from hermes_tui.ui.screens.base import StepScreen
from hermes_tui.ui.widgets.problem_view import ProblemView
from hermes_tui.ui.widgets.status_line import StatusLine

if TYPE_CHECKING:
    # The engine code loads with the first probe, after the screen is drawn.
    from hermes_tui.engine.detect import Diagnosis


def probe_lines(diagnosis: Diagnosis) -> Content:
    """Each probe on two lines: mark, where we looked and the outcome; then the address."""
    from hermes_tui.engine.detect import Outcome

    outcome_style = {Outcome.OK: "$text-success", Outcome.NOT_TRIED: "$text-muted",
                      Outcome.MISSING: "$text-muted"}
    rows = []
    for probe in diagnosis.probes:
        outcome = probe.outcome
        kind = "done" if outcome is Outcome.OK else "pending" if outcome in (
            Outcome.NOT_TRIED, Outcome.MISSING) else "failed"
        style = outcome_style.get(outcome, "$text-error")
        rows.append(Content.assemble(
            (f"{mark(kind)} ", style), (probe.candidate.source, "bold"), " — ",
            (outcome.value, style), "\n  ", (probe.candidate.url, "$text-muted"),
        ))
    return Content("\n").join(rows)


class RuntimeScreen(StepScreen):
    STEP = StepId.RUNTIME
    HELP = HELP[StepId.RUNTIME]
    BINDINGS = [Binding("r", "retry", "Retry", id="retry")]

    def compose_body(self) -> ComposeResult:
        yield Static(
            "Looking for a container engine that speaks the Docker API, or Apple Container…",
            id="runtime-status", classes="prose",
        )
        # The verdict and its fix come first: at 80x24 the probe list can run off screen.
        # The engine and probe lines follow it once there is something to show (empty,
        # they would only cost start-up time).
        yield ProblemView(id="runtime-problem")

    def _results(self) -> tuple[StatusLine, Static]:
        """The engine line and the probe list, made at the first outcome."""
        found = self.query("#runtime-engine")
        if not found:
            self.query_one("#step-body").mount(
                StatusLine(id="runtime-engine", classes="summary"),
                Static("", id="runtime-probes", classes="probes"),
                after=self.query_one("#runtime-problem"))
        return (self.query_one("#runtime-engine", StatusLine),
                self.query_one("#runtime-probes", Static))

    def __init__(self) -> None:
        super().__init__()
        # No Next until an engine answers: set before the first frame (no redraw for it).
        self.set_reactive(StepScreen.can_advance, False)

    def on_mount(self) -> None:
        self.call_after_refresh(self._probe)  # paint the screen first, then probe

    def action_retry(self) -> None:
        self._probe(fresh=True)

    @work(exclusive=True, group="runtime", exit_on_error=False)
    async def _probe(self, fresh: bool = False) -> None:
        self.query_one("#runtime-status", Static).update("Probing…")
        diagnosis = await self.wizard.find_engine(fresh=True)
        self._show(diagnosis)

    def _show(self, diagnosis: Diagnosis) -> None:
        from hermes_tui.steps.runtime import record_diagnosis

        record_diagnosis(self.wizard.flow, diagnosis)
        engine_line, probes = self._results()
        probes.update(probe_lines(diagnosis))
        engine = diagnosis.engine
        problem = diagnosis.problem  # its address is in the probe list below: not repeated
        self.query_one("#runtime-problem", ProblemView).show(
            problem and replace(problem, subject=None), retry_key="r")
        if engine is not None:
            self.query_one("#runtime-status", Static).update("Found a container engine.")
            remote: tuple[str | tuple[str, str], ...] = ()
            if engine.remote:
                remote = ("\n", ("Host    ", "bold"), (f"{engine.remote} (another machine: "
                          "each profile is copied into a volume there)"))
            engine_line.update(
                Content.assemble(("Engine  ", "bold"), engine.summary, "\n",
                                 ("Via     ", "bold"), f"{engine.source} ({engine.url})",
                                 *remote)
            )
        else:
            self.query_one("#runtime-status", Static).update("No container engine answered.")
            engine_line.update("")
        self.can_advance = engine is not None

    def advance(self) -> None:
        self.wizard.finish_step(self.STEP)
