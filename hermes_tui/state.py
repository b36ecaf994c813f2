"""Wizard progress: the ``WizardState`` model and its TOML store.

The spec: "If you close it mid-way, it remembers your progress and resumes from the same
step when you reopen it." Every change is saved at once, atomically, re-reading the file
under its folder's lock so another writer's change is merged, not lost. Secrets never live
here: channels are stored by name only, credentials go to the profile's ``.env``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hermes_tui.fsutil import atomic_write, os_error_problem
from hermes_tui.paths import display_path
from hermes_tui.problem import Problem
from hermes_tui.progress import (
    SCHEMA_VERSION,
    STEP_ORDER,
    STEP_TITLES,
    NewerSchemaError,
    StateError,
    StepId,
    StepStatus,
    newer_schema_error,
    step_number,
    visited,
)

#: The light names live in `hermes_tui.progress` (start-up reads them without pydantic);
#: they stay importable from here.
__all__ = [
    "SCHEMA_VERSION", "STEP_ORDER", "STEP_TITLES", "LoadResult", "MigrationDecision",
    "NewerSchemaError", "StateError", "StateStore", "StepId", "StepRecord", "StepStatus",
    "WizardState", "merge_states", "step_number", "utc_now",
]

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class MigrationDecision(StrEnum):
    SKIPPED = "skipped"
    DRY_RUN = "dry-run"
    APPLIED = "applied"
    DECLINED = "declined"


class StepRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: StepStatus = StepStatus.PENDING
    reason: str | None = None
    updated_at: datetime | None = None


def _fresh_steps() -> dict[StepId, StepRecord]:
    return {step: StepRecord() for step in STEP_ORDER}


class WizardState(BaseModel):
    """Everything the wizard remembers between runs. No secrets, ever."""

    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    #: Strict: a hand-edited "2" must not pass as 2 and lock the next run out.
    schema_version: int = Field(default=SCHEMA_VERSION, strict=True, ge=1)
    current_step: StepId = StepId.RUNTIME
    steps: dict[StepId, StepRecord] = Field(default_factory=_fresh_steps)
    profile: str | None = None
    channels: list[str] = Field(default_factory=list)
    router_url: str | None = None
    default_model: str | None = None
    synced_models: list[str] = Field(default_factory=list)
    migration: MigrationDecision | None = None
    #: The OpenClaw folder migrated from (mounted read-only into the gateway).
    claw_dir: str | None = None
    #: The engine step 1 found (URL and a one-line description); never credentials.
    engine_url: str | None = None
    engine_summary: str | None = None
    image_ref: str | None = None
    image_digest: str | None = None
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)

    @field_validator("steps")
    @classmethod
    def _every_step_present(cls, steps: dict[StepId, StepRecord]) -> dict[StepId, StepRecord]:
        return {step: steps.get(step, StepRecord()) for step in STEP_ORDER}

    @field_validator("profile")
    @classmethod
    def _profile_name_is_valid(cls, name: str | None) -> str | None:
        from hermes_tui.profile import validate_name

        if name is not None:
            verdict = validate_name(name)
            if not verdict.ok:
                raise ValueError(verdict.message)
        return name

    @field_validator("channels")
    @classmethod
    def _channels_are_ids(cls, channels: list[str]) -> list[str]:
        for channel in channels:
            if not channel or not all(c.isalnum() or c in "-_" for c in channel):
                raise ValueError(f"not a channel id: {channel!r}")
        return list(dict.fromkeys(channels))

    def status(self, step: StepId) -> StepStatus:
        return self.steps[step].status

    def reason(self, step: StepId) -> str | None:
        return self.steps[step].reason

    def visited(self, step: StepId) -> bool:
        """A step the user may jump back to: finished in some way, or the one open now."""
        return visited(self, step)

    def first_unfinished(self) -> StepId:
        for step in STEP_ORDER:
            if self.status(step) in (StepStatus.PENDING, StepStatus.FAILED):
                return step
        return StepId.DONE


@dataclass
class LoadResult:
    state: WizardState
    #: Something the user must be told (a file moved aside, a reset backup), or None.
    notice: str | None = None


def _os_state_error(exc: OSError, path: Path, action: str = "write") -> StateError:
    return StateError(os_error_problem(exc, path, action))


def merge_states(base: dict[str, Any] | None, ours: dict[str, Any],
                 theirs: dict[str, Any] | None) -> dict[str, Any]:
    """Three-way merge of plain (JSON-mode) states: what changed from ``base`` to ``ours``
    goes over ``theirs`` (the file as another writer left it), field by field and step by
    step; everything else stays theirs. Without a base or a readable file: ours."""
    if base is None or theirs is None:
        return ours
    merged = dict(theirs)
    for key, value in ours.items():
        if key == "steps":
            old_steps = base.get("steps") or {}
            steps = dict(theirs.get("steps") or {})
            steps.update({step: record for step, record in value.items()
                          if record != old_steps.get(step)})
            merged["steps"] = steps
        elif value != base.get(key):
            merged[key] = value
    merged["updated_at"] = ours["updated_at"]
    return merged


def _plain(state: WizardState) -> dict[str, Any]:
    return state.model_dump(mode="json")


class StateStore:
    """Reads and writes ``wizard.toml`` with atomic replaces.

    A save re-reads the file under its folder's lock and merges (`merge_states`): what
    this store changed since it last loaded or saved goes over what is on disk, so a
    change another process saved meanwhile is kept rather than overwritten. A symlinked
    ``wizard.toml`` stays a link: its target is rewritten, atomically in its own folder.
    """

    def __init__(self, path: Path, clock: Clock = utc_now) -> None:
        self.path = Path(path)
        self.clock = clock
        #: The state as this store last read or wrote it (None: overwrite on save).
        self._base: dict[str, Any] | None = None

    @property
    def target(self) -> Path:
        """The file really written: ``path``, or the file it links to."""
        return Path(os.path.realpath(self.path))

    def new_state(self) -> WizardState:
        now = self.clock()
        return WizardState(created_at=now, updated_at=now)

    def load(self) -> LoadResult:
        result = self._load()
        self._base = _plain(result.state)
        return result

    def _load(self) -> LoadResult:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return LoadResult(self.new_state())
        except OSError as exc:
            raise _os_state_error(exc, self.path, action="read") from exc

        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            return self._set_aside(f"it is not valid TOML ({exc})")
        except RecursionError:  # tomllib recurses per nested array: hundreds deep end it
            return self._set_aside("it nests arrays or tables hundreds of levels deep")

        version = data.get("schema_version")
        if isinstance(version, int) and version > SCHEMA_VERSION:
            raise newer_schema_error(self.path, version)
        try:
            state = WizardState.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "file"
            return self._set_aside(f"{where}: {first['msg']}")
        return LoadResult(state)

    def save(self, state: WizardState) -> None:
        """Write ``state``, merged over whatever another process saved since this store
        last read or wrote the file. Raises `StateError` (naming the file, with the fix);
        `NewerSchemaError` when a newer hermes-tui rewrote the file meanwhile."""
        from hermes_tui.lock import locked_folder

        state.updated_at = self.clock()
        ours = _plain(state)
        target = self.target
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _os_state_error(exc, target) from exc
        try:
            with locked_folder(target.parent, file=target):
                merged = merge_states(self._base, ours, self._on_disk(target))
                data = WizardState.model_validate(merged).model_dump(mode="python",
                                                                     exclude_none=True)
                atomic_write(target, tomli_w.dumps(data).encode("utf-8"), mode=0o600)
        except OSError as exc:
            raise _os_state_error(exc, target) from exc
        self._base = ours

    def _on_disk(self, target: Path) -> dict[str, Any] | None:
        """The file as it stands (plain), or None when absent or unusable (it is replaced)."""
        try:
            data = tomllib.loads(target.read_bytes().decode("utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return None
        version = data.get("schema_version")
        if isinstance(version, int) and version > SCHEMA_VERSION:
            raise NewerSchemaError(Problem(
                f"{self.path} was rewritten by a newer hermes-tui (progress format {version}) "
                "while this one ran; it was left untouched.",
                "Quit this hermes-tui and use the newer one.",
            ))
        try:
            return _plain(WizardState.model_validate(data))
        except ValidationError:
            return None

    def reset(self) -> LoadResult:
        """Start over, keeping the old file (of any version) as a backup beside it."""
        self._base = None  # starting over: the next save writes the fresh state as it is
        if not self.path.exists():
            return LoadResult(self.new_state())
        backup = self._aside_path("bak")
        try:
            self._move_aside(backup)
        except OSError as exc:
            raise _os_state_error(exc, backup) from exc
        return LoadResult(self.new_state(), f"Started over. The old progress was kept in {display_path(backup)}.")

    def _move_aside(self, aside: Path) -> None:
        """Move the file to ``aside``; a symlinked file's content is copied there and the
        link kept (the next save writes through it)."""
        if self.path.is_symlink():
            atomic_write(aside, self.path.read_bytes(), mode=0o600)
            os.unlink(self.target)
        else:
            os.replace(self.path, aside)

    def _aside_path(self, tag: str) -> Path:
        stamp = self.clock().strftime("%Y%m%dT%H%M%S")
        candidate = self.path.with_name(f"{self.path.name}.{tag}-{stamp}")
        n = 1
        while candidate.exists():
            n += 1
            candidate = self.path.with_name(f"{self.path.name}.{tag}-{stamp}-{n}")
        return candidate

    def _set_aside(self, why: str) -> LoadResult:
        aside = self._aside_path("corrupt")
        try:
            self._move_aside(aside)
        except OSError as exc:
            problem = os_error_problem(exc, aside)
            raise StateError(Problem(
                f"{self.path} is damaged ({why}) and could not be moved aside: {problem.what}",
                problem.fix, subject=problem.subject)) from exc
        notice = (
            f"Your saved progress could not be read ({why}). It was moved to {display_path(aside)} "
            "and the wizard starts from the beginning."
        )
        return LoadResult(self.new_state(), notice)
