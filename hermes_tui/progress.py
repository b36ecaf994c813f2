"""The wizard's steps, and a quick look at the progress file before anything heavy loads.

``state.py`` holds the validated model (pydantic) and the store that writes it. Importing
pydantic and building the model costs about 0.1 s, so start-up does not wait for it: the
first screen is drawn from an `Outline` read here with ``tomllib`` alone, and the app
loads (and validates) the state right after that first frame. When the validated state
says otherwise (a damaged file is set aside, for one), the app redraws from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from hermes_tui.problem import ProblemError

SCHEMA_VERSION = 1


class StepId(StrEnum):
    RUNTIME = "runtime"
    PULL = "pull"
    PROFILE = "profile"
    CHANNELS = "channels"
    BRIDGE = "bridge"
    MIGRATION = "migration"
    DONE = "done"


STEP_ORDER: tuple[StepId, ...] = tuple(StepId)

STEP_TITLES: dict[StepId, str] = {
    StepId.RUNTIME: "Runtime check",
    StepId.PULL: "Image pull",
    StepId.PROFILE: "Profile",
    StepId.CHANNELS: "Channels",
    StepId.BRIDGE: "LLM bridge",
    StepId.MIGRATION: "Claw migration",
    StepId.DONE: "Completion",
}


def step_number(step: StepId) -> int:
    return STEP_ORDER.index(step) + 1


class StepStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"


class StateError(ProblemError):
    """The progress file cannot be used; the message says why and what to do.

    ``str()`` is the whole sentence, fix included (the wizard shows it as one notice).
    """

    def __str__(self) -> str:
        problem = self.problem
        return f"{problem.what} {problem.fix}" if problem.fix else problem.what


class NewerSchemaError(StateError):
    """The progress file was written by a newer hermes-tui; it must not be overwritten."""


def newer_schema_error(path: Path, version: int) -> NewerSchemaError:
    return NewerSchemaError(
        f"{path} was written by a newer hermes-tui (progress format "
        f"{version}; this version reads {SCHEMA_VERSION}). It was left untouched. "
        "Upgrade hermes-tui, or start over with --reset (the old file is backed up)."
    )


if TYPE_CHECKING:  # a Protocol class costs start-up time; only the type checker needs it
    from typing import Protocol

    class Progress(Protocol):
        """What the step list and the choice of first screen read: the validated
        ``WizardState`` and the start-up `Outline` both answer it."""

        @property
        def current_step(self) -> StepId: ...

        def status(self, step: StepId) -> StepStatus: ...

        def reason(self, step: StepId) -> str | None: ...

        def visited(self, step: StepId) -> bool: ...


def visited(progress: Progress, step: StepId) -> bool:
    """A step the user may jump back to: finished in some way, or the one open now."""
    return step == progress.current_step or progress.status(step) is not StepStatus.PENDING


def setup_complete(progress: Progress) -> bool:
    """Every step done: the app opens the dashboard instead of a step."""
    return progress.current_step is StepId.DONE and progress.status(StepId.DONE) is StepStatus.DONE


@dataclass(frozen=True)
class Outline:
    """The progress file as far as the first frame needs it, read without validating.

    Values that do not look right are read as a fresh start's; the validated load that
    follows the first frame has the last word.
    """

    current_step: StepId = StepId.RUNTIME
    statuses: dict[StepId, StepStatus] = field(default_factory=dict)
    reasons: dict[StepId, str] = field(default_factory=dict)

    def status(self, step: StepId) -> StepStatus:
        return self.statuses.get(step, StepStatus.PENDING)

    def reason(self, step: StepId) -> str | None:
        return self.reasons.get(step)

    def visited(self, step: StepId) -> bool:
        return visited(self, step)


def read_outline(path: Path) -> Outline:
    """The outline of ``path``; a fresh one when it is absent or damaged (the full load
    sets a damaged file aside and says so).

    Raises `StateError` when the file cannot be read at all and `NewerSchemaError` when a
    newer hermes-tui wrote it: both stop the wizard before it starts, as the full load would.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Outline()
    except OSError as exc:
        from hermes_tui.fsutil import os_error_problem

        raise StateError(os_error_problem(exc, path, "read")) from exc
    import tomllib  # only when there is a file: a first start has none

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return Outline()
    version = data.get("schema_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
        raise newer_schema_error(path, version)
    steps = data.get("steps")
    statuses: dict[StepId, StepStatus] = {}
    reasons: dict[StepId, str] = {}
    if isinstance(steps, dict):
        for step in STEP_ORDER:
            record = steps.get(step.value)
            if not isinstance(record, dict):
                continue
            status = record.get("status")
            if status in StepStatus.__members__.values():
                statuses[step] = StepStatus(status)
            reason = record.get("reason")
            if isinstance(reason, str):
                reasons[step] = reason
    current = data.get("current_step")
    current_step = StepId(current) if current in StepId.__members__.values() else StepId.RUNTIME
    return Outline(current_step, statuses, reasons)


__all__ = [
    "SCHEMA_VERSION", "STEP_ORDER", "STEP_TITLES", "NewerSchemaError", "Outline",
    "StateError", "StepId", "StepStatus", "newer_schema_error", "read_outline",
    "setup_complete", "step_number", "visited",
]
