"""The step tracker on the left of every step screen: where you are, what is done."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from hermes_tui.progress import STEP_ORDER, STEP_TITLES, StepId, StepStatus, step_number
from hermes_tui.ui.glyphs import mark

if TYPE_CHECKING:
    from hermes_tui.progress import Progress

_STYLE = {
    "done": "$text-success",
    "current": "$text-accent",
    "pending": "$text-muted",
    "skipped": "$text-warning",
    "failed": "$text-error",
}
#: The cells a row's text has: #sidebar is 26 wide (styles/app.tcss), less its border and
#: the row's padding, less the two-space indent of the lines under the title.
REASON_WIDTH = 26 - 2 - 2 - 2

_WORD = {"done": "done", "current": "now", "pending": "", "skipped": "skipped", "failed": "failed"}


def step_kind(state: Progress, step: StepId) -> str:
    if step == state.current_step:
        return "current"
    return state.status(step).value


class StepSidebar(OptionList):
    """One row per step with a mark and a word (never colour alone); Enter jumps to a row.

    Only steps already visited can be selected; the rest are shown but disabled.
    """

    def __init__(self, state: Progress, **kwargs) -> None:
        super().__init__(*self._rows(state), **kwargs)
        self.border_title = "Steps"
        self.highlighted = STEP_ORDER.index(state.current_step)

    def show_state(self, state: Progress) -> None:
        """Redraw every row from ``state`` (after a status change on the open step)."""
        self.set_options(self._rows(state))
        self.highlighted = STEP_ORDER.index(state.current_step)

    @staticmethod
    def _rows(state: Progress) -> list[Option]:
        options = []
        for step in STEP_ORDER:
            kind = step_kind(state, step)
            style = _STYLE[kind]
            title = STEP_TITLES[step]
            line = Content.assemble(
                (f"{mark(kind)} ", style),
                (f"{step_number(step)} {title}", "bold" if kind == "current" else ""),
            )
            word = _WORD[kind]
            if word:
                line = Content.assemble(line, "\n  ", (word, style))
            reason = state.reason(step)
            if reason and state.status(step) in (StepStatus.SKIPPED, StepStatus.FAILED):
                # Wrapped here, so every line of the reason keeps the indent.
                for part in textwrap.wrap(reason, REASON_WIDTH, break_on_hyphens=False):
                    line = Content.assemble(line, "\n  ", (part, "$text-muted"))
            options.append(Option(line, id=step.value, disabled=not state.visited(step)))
        return options
