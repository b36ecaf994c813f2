"""Helpers for the contract tests: run steps the way ``setup --non-interactive`` does, and
reduce what a front end left behind to what both must agree on."""

from __future__ import annotations

import argparse
import io
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hermes_tui.commands import Console
from hermes_tui.commands.setup import Setup
from hermes_tui.paths import Paths
from hermes_tui.profile import create_profile
from hermes_tui.settings import Settings
from hermes_tui.state import StateStore, StepId, WizardState

PROFILE = "my-bot"
NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def without_times(state: dict[str, Any]) -> dict[str, Any]:
    """A parsed ``wizard.toml`` without its timestamps."""
    for key in ("created_at", "updated_at"):
        state.pop(key, None)
    for record in state["steps"].values():
        record.pop("updated_at", None)
    return state


def comparable(paths: Paths, opened: str | None = None,
               profile_files: tuple[str, ...] = (".env", "config.yaml")) -> dict[str, object]:
    """What both front ends must agree on: progress without timestamps, profile files.

    ``opened``: the step the wizard opens next, whose screen starts its own work (setup
    runs no further); its record is left out. Step 7 is left out unless it is the step
    compared (``opened`` is then None and the state is at it).
    """
    state = without_times(tomllib.loads(paths.state_file.read_text()))
    if state.get("current_step") != StepId.DONE.value or opened is not None:
        state["steps"].pop("done")
    if opened is not None:
        state["steps"].pop(opened)
    profile = paths.profile_dir(state.get("profile", PROFILE))
    files = {name: (profile / name).read_text() for name in profile_files
             if (profile / name).exists()}
    return {"wizard.toml": state, **files}


async def run_setup(steps: tuple[StepId, ...], home: Path, monkeypatch, state: WizardState,
                    environ: dict[str, str], router_url: str | None = None,
                    settings: dict[str, object] | None = None, **options: object) -> Paths:
    """Run ``steps`` the way ``setup --non-interactive`` does, in its own HOME."""
    monkeypatch.setenv("HOME", str(home))
    paths = Paths.resolve(None)
    store = StateStore(paths.state_file, clock=lambda: NOW)
    store.save(state)
    args = argparse.Namespace(profile=PROFILE, channel=[], default_model=None,
                              migrate_claw="no", migrate_secrets=False, health_timeout=30.0)
    for name, value in options.items():
        setattr(args, name, value)
    setup = Setup(args, Settings(paths=paths, router_url=router_url, **(settings or {})),
                  store, state, Console(out=io.StringIO(), err=io.StringIO()), environ)
    if StepId.PROFILE not in steps:
        create_profile(paths, PROFILE)
    methods = {StepId.RUNTIME: setup.step_runtime, StepId.PULL: setup.step_pull,
               StepId.PROFILE: setup.step_profile, StepId.CHANNELS: setup.step_channels,
               StepId.BRIDGE: setup.step_bridge, StepId.MIGRATION: setup.step_migration,
               StepId.DONE: setup.step_done}
    for step in steps:
        setup.flow.goto(step)  # as Setup.run opens each step
        await methods[step](step)
    return paths
