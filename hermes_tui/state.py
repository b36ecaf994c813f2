"""Wizard progress: the ``WizardState`` model and its TOML store.

The spec: "If you close it mid-way, it remembers your progress and resumes from the same
step when you reopen it." Every change is saved at once, atomically. Secrets never live
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

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hermes_tui.fsutil import atomic_write, describe_os_error
from hermes_tui.paths import display_path

SCHEMA_VERSION = 1

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


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

    def visited(self, step: StepId) -> bool:
        """A step the user may jump back to: finished in some way, or the one open now."""
        return step == self.current_step or self.status(step) is not StepStatus.PENDING

    def first_unfinished(self) -> StepId:
        for step in STEP_ORDER:
            if self.status(step) in (StepStatus.PENDING, StepStatus.FAILED):
                return step
        return StepId.DONE


class StateError(Exception):
    """The progress file cannot be used; the message says why and what to do."""


class NewerSchemaError(StateError):
    """The progress file was written by a newer hermes-tui; it must not be overwritten."""


@dataclass
class LoadResult:
    state: WizardState
    #: Something the user must be told (a file moved aside, a reset backup), or None.
    notice: str | None = None


class StateStore:
    """Reads and writes ``wizard.toml`` with atomic replaces."""

    def __init__(self, path: Path, clock: Clock = utc_now) -> None:
        self.path = Path(path)
        self.clock = clock

    def new_state(self) -> WizardState:
        now = self.clock()
        return WizardState(created_at=now, updated_at=now)

    def load(self) -> LoadResult:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return LoadResult(self.new_state())
        except OSError as exc:
            raise StateError(describe_os_error(exc, self.path, action="read")) from exc

        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            return self._set_aside(f"it is not valid TOML ({exc})")
        except RecursionError:  # tomllib recurses per nested array: hundreds deep end it
            return self._set_aside("it nests arrays or tables hundreds of levels deep")

        version = data.get("schema_version")
        if isinstance(version, int) and version > SCHEMA_VERSION:
            raise NewerSchemaError(
                f"{self.path} was written by a newer hermes-tui (progress format "
                f"{version}; this version reads {SCHEMA_VERSION}). It was left untouched. "
                "Upgrade hermes-tui, or start over with --reset (the old file is backed up)."
            )
        try:
            state = WizardState.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "file"
            return self._set_aside(f"{where}: {first['msg']}")
        return LoadResult(state)

    def save(self, state: WizardState) -> None:
        state.updated_at = self.clock()
        data = state.model_dump(mode="python", exclude_none=True)
        payload = tomli_w.dumps(data).encode("utf-8")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, payload, mode=0o600)
        except OSError as exc:
            raise StateError(describe_os_error(exc, self.path)) from exc

    def reset(self) -> LoadResult:
        """Start over, keeping the old file (of any version) as a backup beside it."""
        if not self.path.exists():
            return LoadResult(self.new_state())
        backup = self._aside_path("bak")
        try:
            os.replace(self.path, backup)
        except OSError as exc:
            raise StateError(describe_os_error(exc, backup)) from exc
        return LoadResult(self.new_state(), f"Started over. The old progress was kept in {display_path(backup)}.")

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
            os.replace(self.path, aside)
        except OSError as exc:
            raise StateError(
                f"{self.path} is damaged ({why}) and could not be moved aside: "
                f"{describe_os_error(exc, aside)}"
            ) from exc
        notice = (
            f"Your saved progress could not be read ({why}). It was moved to {display_path(aside)} "
            "and the wizard starts from the beginning."
        )
        return LoadResult(self.new_state(), notice)
