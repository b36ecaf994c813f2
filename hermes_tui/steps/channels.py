"""Step 4 — Channels, headless: which channels a ``.env`` already configures, and saving
the choice.

Inputs: the channels chosen (ids, in the order to record) and the ``.env`` updates for
them (``Channel.env_updates``; None removes a key). Outcome: ``.env`` written, keeping
every other line; or ``ChannelsError`` carrying a Problem. State change:
``state.channels``. How the values are gathered (the screen's forms, setup's environment)
and finishing the step are left to the front end: ``ChannelsScreen`` and ``setup``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from pathlib import Path

from hermes_tui import channels as catalog
from hermes_tui.envfile import EnvFileError, update_env
from hermes_tui.fsutil import describe_os_error
from hermes_tui.problem import Problem, ProblemError
from hermes_tui.steps.flow import Flow

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


async def save_channels(flow: Flow, env_path: Path, selected: Iterable[str],
                        updates: Mapping[str, str | None]) -> None:
    """Write ``updates`` into ``.env`` (0600), then record ``selected`` as the channels."""
    try:
        await asyncio.to_thread(update_env, env_path, dict(updates))
    except OSError as exc:
        raise ChannelsError(Problem(describe_os_error(exc, env_path), subject=str(env_path))) from exc
    except EnvFileError as exc:
        raise ChannelsError(Problem(str(exc), subject=str(env_path))) from exc
    flow.state.channels = list(selected)
    flow.save()
