"""Step 4 — Channels, headless: what a ``.env`` configures, what a choice writes, saving it.

Inputs: the profile's ``.env`` as it stands, the values for each channel chosen (the
screen's forms, setup's environment over ``.env``) and the channels given up (the screen's
unticked ones; setup never gives one up). Outcome: a ``ChannelChoice`` — the channels
configured afterwards, the ``.env`` updates, and what is missing — then ``.env`` written
keeping every other line; or ``ChannelsError`` carrying a Problem. State change:
``state.channels`` (catalog order) and, on a failed write, the step failing. One rule for
both front ends: a channel complete in ``.env`` stays on unless given up, and giving one
up removes its keys (Hermes turns a platform on whenever its keys are present).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hermes_tui import channels as catalog
from hermes_tui.envfile import EnvFileError, applied, update_env
from hermes_tui.fsutil import describe_os_error
from hermes_tui.paths import display_path
from hermes_tui.problem import Problem, ProblemError
from hermes_tui.state import StepId
from hermes_tui.steps.flow import Flow

STEP = StepId.CHANNELS
NOT_WRITTEN = "could not write .env"


class ChannelsError(ProblemError):
    """The profile's ``.env`` could not be written (or a value cannot go into it)."""


def configured_channels(env: Mapping[str, str]) -> list[str]:
    """Channels a ``.env`` configures completely (the step pre-ticks them), catalog order."""
    found = []
    for channel in catalog.CATALOG:
        present = [f for f in channel.fields if f.required and env.get(f.key)]
        if present and not channel.missing(env):
            found.append(channel.id)
    return found


@dataclass(frozen=True)
class ChannelChoice:
    """What choosing channels does to ``.env`` and to ``state.channels``."""

    #: Every channel configured afterwards, catalog order.
    selected: list[str]
    updates: dict[str, str | None]
    #: Required fields without a value, per channel chosen (empty: the choice can be saved).
    missing: dict[str, list[catalog.ChannelField]] = field(default_factory=dict)
    #: Channels kept on because ``.env`` configures them, though not chosen this time.
    kept: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not any(self.missing.values())


def choose_channels(env: Mapping[str, str], chosen: Mapping[str, Mapping[str, str]],
                    given_up: Iterable[str] = ()) -> ChannelChoice:
    """Channels ``chosen`` (id → field values) written over ``env``; ``given_up`` removed."""
    updates: dict[str, str | None] = {}
    missing: dict[str, list[catalog.ChannelField]] = {}
    for channel_id, values in chosen.items():
        channel = catalog.get(channel_id)
        lacking = channel.missing(values)
        if lacking:
            missing[channel_id] = lacking
        updates.update(channel.env_updates(values))
    dropped = set(given_up) - set(chosen)
    for channel_id in dropped:
        updates.update({key: None for key in catalog.get(channel_id).keys})
    after = applied(env, updates)
    kept = [c for c in configured_channels(after) if c not in chosen and c not in dropped]
    selected = [c.id for c in catalog.CATALOG if c.id in chosen or c.id in kept]
    return ChannelChoice(selected, updates, missing, kept)


async def save_channels(flow: Flow, env_path: Path, choice: ChannelChoice) -> None:
    """Write the choice's updates into ``.env`` (0600), then record its channels.

    Raises ``ChannelsError`` (the step recorded as failed)."""
    try:
        await asyncio.to_thread(update_env, env_path, dict(choice.updates))
    except (OSError, EnvFileError) as exc:
        flow.fail(STEP, NOT_WRITTEN)
        what = describe_os_error(exc, env_path) if isinstance(exc, OSError) else str(exc)
        fix = ("Correct that value, then save again." if isinstance(exc, EnvFileError)
               else "Fix the folder's permissions or free some space.")
        raise ChannelsError(Problem(what, fix, subject=display_path(env_path))) from exc
    flow.state.channels = list(choice.selected)
    flow.save()
