"""Step 5 — LLM bridge, headless: list what the router serves, sync it into the profile.

Inputs: the router URL and optional API key, the default model wanted (None: keep the
current one if still served, else the first), whether the engine uses host networking
(it decides the URL Hermes calls from its container), and the profile folder.
Outcome: the models served, what ``config.yaml`` reads back as synced, the default, one
badge per model; or an error carrying a ``Problem`` (``RouterError`` when listing,
``SyncError`` when writing). State change: ``router_url`` once the router answered;
``default_model``, ``synced_models`` and the step's status once the file was read back.

``BridgeScreen`` and ``setup --non-interactive`` both drive this class.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from hermes_tui.bridge.router import (
    Model,
    RouterError,
    container_base_url,
    list_models,
    normalise_base_url,
)
from hermes_tui.bridge.sync import (
    Badge,
    ConfigError,
    Synced,
    badges,
    save_router_key,
    sync_models,
)
from hermes_tui.fsutil import os_error_problem
from hermes_tui.problem import ProblemError
from hermes_tui.state import StepId, StepStatus
from hermes_tui.steps.flow import Flow

STEP = StepId.BRIDGE
NOT_SYNCED = "not every model synced"
NOT_WRITTEN = "config.yaml not written"


class SyncError(ProblemError):
    """``config.yaml`` or ``.env`` could not be written or read back."""


@dataclass(frozen=True)
class Listing:
    """What the router at ``base`` serves."""

    base: str
    models: list[Model]

    @cached_property
    def ids(self) -> list[str]:
        return [m.id for m in self.models]


@dataclass(frozen=True)
class BridgeOutcome:
    """``config.yaml`` after the sync, as read back."""

    served: list[str]
    synced: Synced
    #: The default asked for (the file's may differ if the write did not take).
    default: str
    marks: dict[str, Badge] = field(default_factory=dict)

    @cached_property
    def done(self) -> list[str]:
        return [m for m in self.served if self.marks.get(m) is Badge.SYNCED]

    @property
    def complete(self) -> bool:
        return len(self.done) == len(self.served) and self.synced.default == self.default


def choose_default(served: Sequence[str], wanted: str | None, *current: str | None) -> str:
    """``wanted`` if served, else the first of ``current`` still served, else the first."""
    for candidate in (wanted, *current):
        if candidate is not None and candidate in served:
            return candidate
    return served[0]


class BridgeStep:
    """Step 5 over one profile folder; records its state change through ``flow``."""

    def __init__(self, flow: Flow, profile_dir: Path, host_network: bool) -> None:
        self.flow = flow
        self.profile_dir = Path(profile_dir)
        self.host_network = host_network

    @property
    def env_path(self) -> Path:
        return self.profile_dir / ".env"

    @property
    def config_path(self) -> Path:
        return self.profile_dir / "config.yaml"

    def container_url(self, base: str) -> str:
        """The URL Hermes calls from its container."""
        return container_base_url(base, self.host_network)

    async def list(self, url: str, api_key: str | None) -> Listing:
        """List the models; a router that answered becomes ``state.router_url``.

        Raises ``RouterError`` (a bad URL, or the router did not answer: the step is
        recorded as failed with the error's kind).
        """
        base = normalise_base_url(url)
        try:
            models = await list_models(base, api_key or None)
        except RouterError as error:
            await self._record(StepStatus.FAILED, error.kind.value)
            raise
        self.flow.state.router_url = base
        await asyncio.to_thread(self.flow.save)
        return Listing(base, models)

    async def sync(self, listing: Listing, api_key: str | None,
                   wanted: str | None = None) -> BridgeOutcome:
        """Write the served models into ``config.yaml`` (the key into ``.env``), read the
        file back, and record the outcome: done when every model synced with the default
        asked for, else failed. Raises ``SyncError`` (recorded as failed) when a file
        could not be written or read.
        """
        served = listing.ids
        state = self.flow.state

        def write() -> BridgeOutcome:
            # The file is read once, under its lock: the default kept from it, the key
            # stored once it proved to be YAML; then read back from the disk (verified
            # before anything is called synced).
            default, synced = sync_models(
                self.config_path, base_url=self.container_url(listing.base), models=served,
                choose_default=lambda current: choose_default(
                    served, wanted, state.default_model, current),
                api_key_ref=lambda: save_router_key(self.env_path, api_key or None))
            outcome = BridgeOutcome(served, synced, default, badges(served, synced))
            outcome.done  # noqa: B018 - worked out here, off the event loop
            return outcome

        try:
            outcome = await asyncio.to_thread(write)
        except (ConfigError, OSError) as error:
            await self._record(StepStatus.FAILED, NOT_WRITTEN)
            what = (error.problem if isinstance(error, ProblemError)
                    else os_error_problem(error, self.profile_dir))
            raise SyncError(what) from error
        state.default_model = outcome.synced.default
        state.synced_models = outcome.done
        if outcome.complete:
            await self._record(StepStatus.DONE)
        else:
            await self._record(StepStatus.FAILED, NOT_SYNCED)
        return outcome

    async def _record(self, status: StepStatus, reason: str | None = None) -> None:
        """``flow.record`` with the progress saved in a thread: with 50,000 synced models
        ``wizard.toml`` takes a third of a second to write, a stall no key gets through."""
        self.flow.record(STEP, status, reason, save=False)
        await asyncio.to_thread(self.flow.save)
