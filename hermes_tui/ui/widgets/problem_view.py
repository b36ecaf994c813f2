"""Shows one ``Problem``: the headline, "Fix: …", the details, the path or item it concerns
and the retry key when the screen has one. Takes no room while there is no problem.

The one renderer of problems in the wizard (the plain commands use ``problem_lines``);
its look is in styles/app.tcss (``ProblemView``).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content

from hermes_tui.problem import Problem
from hermes_tui.ui.widgets.status_line import StatusLine


class ProblemView(Vertical):
    """``show(problem, retry_key=...)`` to report it, ``clear()`` to take it away."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.problem: Problem | None = None
        self.display = False

    _PARTS = ("problem-what", "problem-fix", "problem-details", "problem-more")

    def compose(self) -> ComposeResult:
        # Its lines are made when a first problem is shown: most screens open without
        # one, and every widget in the first frame costs start-up time.
        yield from ()

    def show(self, problem: Problem | None, *, retry_key: str | None = None) -> None:
        self.problem = problem
        self.display = problem is not None
        parts = list(self.query(StatusLine))
        if problem is None:
            for part in parts:
                part.update("")
            return
        if not parts:
            parts = [StatusLine(classes=name) for name in self._PARTS]
            self.mount_all(parts)
        what, fix, details, more = parts
        what.update(problem.what)
        fix.update(Content.assemble(("Fix: ", "bold"), problem.fix) if problem.fix else "")
        details.update("\n".join(problem.details))
        lines: list[Content] = []
        if problem.subject and problem.subject not in problem.what:
            lines.append(Content.assemble(("Concerns: ", "bold"), problem.subject))
        if retry_key and f"Press {retry_key} " not in problem.fix:
            lines.append(Content.assemble("Press ", (retry_key, "bold"), " to retry."))
        more.update(Content("\n").join(lines) if lines else "")

    def clear(self) -> None:
        self.show(None)

    @property
    def text(self) -> str:
        """What it shows, as plain text ("" when nothing)."""
        return "\n".join(str(part.render()) for part in self.query(StatusLine) if part.display)
