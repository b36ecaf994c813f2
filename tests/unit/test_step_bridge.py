"""Step 5 headless (steps.bridge): list, sync, and the state change, without a screen."""

from __future__ import annotations

import pytest

from hermes_tui.bridge.router import RouterError
from hermes_tui.bridge.sync import Badge, read_synced
from hermes_tui.profile import create_profile
from hermes_tui.state import StateStore, StepId, StepStatus
from hermes_tui.steps.bridge import BridgeStep, SyncError, choose_default
from hermes_tui.steps.flow import Flow
from tests.support.openai_router import OpenAIRouter


@pytest.fixture
def router():
    server = OpenAIRouter(models=["a", "b"]).start()
    yield server
    server.stop()


@pytest.fixture
def step(tmp_path):
    from hermes_tui.paths import Paths

    paths = Paths.resolve(tmp_path / "data")
    create_profile(paths, "bot")
    store = StateStore(paths.state_file)
    flow = Flow(store.new_state(), store)
    flow.state.profile = "bot"
    return BridgeStep(flow, paths.profile_dir("bot"), host_network=True)


def test_choose_default_prefers_the_wanted_then_the_current_then_the_first():
    assert choose_default(["a", "b"], "b") == "b"
    assert choose_default(["a", "b"], "x", None, "b") == "b"
    assert choose_default(["a", "b"], None, "x") == "a"


async def test_list_then_sync_records_router_models_and_done(step, router):
    listing = await step.list(router.url, None)
    assert listing.ids == ["a", "b"] and step.flow.state.router_url == router.url
    outcome = await step.sync(listing, None, "b")
    assert outcome.complete and outcome.default == "b"
    assert outcome.marks == {"a": Badge.SYNCED, "b": Badge.SYNCED}
    state = step.flow.store.load().state
    assert (state.synced_models, state.default_model) == (["a", "b"], "b")
    assert state.status(StepId.BRIDGE) is StepStatus.DONE
    assert read_synced(step.config_path).default == "b"


async def test_unreachable_router_is_recorded_as_failed(step):
    with pytest.raises(RouterError) as caught:
        await step.list("http://127.0.0.1:9/v1", None)
    record = step.flow.state.steps[StepId.BRIDGE]
    assert record.status is StepStatus.FAILED and record.reason == caught.value.kind.value
    assert step.flow.state.router_url is None
    saved = step.flow.store.load().state.steps[StepId.BRIDGE]  # saved before it returned
    assert (saved.status, saved.reason) == (StepStatus.FAILED, caught.value.kind.value)


async def test_a_config_that_cannot_be_read_fails_with_a_problem(step, router):
    step.config_path.write_text("model: [unclosed\n")
    listing = await step.list(router.url, None)
    with pytest.raises(SyncError) as caught:
        await step.sync(listing, None)
    assert caught.value.problem.what
    assert step.flow.state.steps[StepId.BRIDGE].reason == "config.yaml not written"
    assert step.flow.store.load().state.steps[StepId.BRIDGE].reason == "config.yaml not written"
