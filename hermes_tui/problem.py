"""The one shape a problem takes on its way to the user: what happened, the fix, details and
the path or item it concerns.

Every domain error is a ``ProblemError`` (or offers a ``.problem``), so the wizard's screens
(``ui.widgets.problem_view.ProblemView``) and the plain commands (``problem_lines``) show
every failure the same way. No Textual here: ``doctor`` and ``setup`` use it too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    #: What happened, in one sentence.
    what: str
    #: What the user can do about it ("" when nothing useful).
    fix: str = ""
    #: Extra lines shown below: log tails, exit codes, the entries concerned.
    details: tuple[str, ...] = field(default=())
    #: The path or item the problem concerns (a file, a container, a plan item, a URL).
    subject: str | None = None

    @classmethod
    def unexpected(cls, error: BaseException, log_path: Path | str | None = None,
                   retry_key: str | None = "r") -> Problem:
        """A failure nobody foresaw: its type and message, and where the full log is."""
        message = str(error).strip()
        what = f"Unexpected error: {type(error).__name__}" + (f": {message}" if message else "")
        steps = []
        if retry_key:
            steps.append(f"Press {retry_key} to retry")
        if log_path is not None:
            steps.append(f"the full log is at {log_path}")
        fix = "; ".join(steps)
        return cls(what, fix[:1].upper() + fix[1:] + "." if fix else "")


class ProblemError(Exception):
    """A domain error that carries its ``Problem``.

    Built from a ``Problem``, or (for the older error classes) from a message alone.
    Subclasses that keep their own attributes override the ``problem`` property.
    """

    def __init__(self, problem: Problem | str = "", *args: object) -> None:
        if not isinstance(problem, Problem):
            problem = Problem(str(problem))
        super().__init__(problem.what, *args)
        self._problem = problem

    @property
    def problem(self) -> Problem:
        return self._problem


def problem_of(error: BaseException, log_path: Path | str | None = None,
               retry_key: str | None = "r") -> Problem:
    """The error's own problem when it has one, else an "Unexpected error" one."""
    problem = getattr(error, "problem", None)
    if isinstance(problem, Problem):
        return problem
    return Problem.unexpected(error, log_path, retry_key)


def problem_lines(problem: Problem, *, lead: str = "", indent: str = "  ",
                  fix_indent: str = "") -> list[str]:
    """A problem as plain text: the headline (after ``lead``), the details (``indent``),
    then the path and ``Fix: …`` (``fix_indent``). The path is left out when the headline
    already names it."""
    lines = [lead + problem.what]
    lines += [indent + line for detail in problem.details for line in detail.splitlines()]
    if problem.subject and problem.subject not in problem.what:
        lines.append(f"{fix_indent}Concerns: {problem.subject}")
    if problem.fix:
        lines.append(f"{fix_indent}Fix: {problem.fix}")
    return lines
