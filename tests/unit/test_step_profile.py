"""Step 3 headless (steps.profile): create or reuse, choose, or record the failure."""

from __future__ import annotations

import pytest

from hermes_tui.paths import Paths
from hermes_tui.profile import ProfileError
from hermes_tui.state import StateStore, StepId, StepStatus
from hermes_tui.steps import profile as step
from hermes_tui.steps.flow import Flow


@pytest.fixture
def setup(tmp_path):
    paths = Paths.resolve(tmp_path / "data")
    store = StateStore(paths.state_file)
    return Flow(store.new_state(), store), paths


async def test_creates_then_reuses_and_chooses_the_profile(setup):
    flow, paths = setup
    first = await step.make_profile(flow, paths, "bot")
    again = await step.make_profile(flow, paths, "bot")
    assert first.created and not again.created
    assert flow.store.load().state.profile == "bot"


async def test_a_folder_that_cannot_be_made_fails_the_step(setup, monkeypatch):
    flow, paths = setup

    def refuse(_paths, _name):
        raise ProfileError("Cannot create the folder: read-only file system")

    monkeypatch.setattr(step, "create_profile", refuse)
    with pytest.raises(ProfileError):
        await step.make_profile(flow, paths, "bot")
    state = flow.store.load().state
    assert state.profile is None
    assert state.steps[StepId.PROFILE].status is StepStatus.FAILED
    assert state.steps[StepId.PROFILE].reason == step.NOT_CREATED
