"""The wizard's state transitions (steps.flow), shared by the TUI and setup."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hermes_tui.state import MigrationDecision, StateStore, StepId, StepStatus
from hermes_tui.steps.flow import Flow

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


@pytest.fixture
def store(tmp_path):
    return StateStore(tmp_path / "wizard.toml", clock=lambda: NOW)


@pytest.fixture
def flow(store):
    return Flow(store.new_state(), store)


def saved(store):
    return store.load().state


def test_finish_records_and_opens_the_next_step(flow, store):
    assert flow.finish(StepId.RUNTIME) is StepId.PULL
    state = saved(store)
    assert state.current_step is StepId.PULL
    record = state.steps[StepId.RUNTIME]
    assert (record.status, record.reason, record.updated_at) == (StepStatus.DONE, None, NOW)


def test_finishing_the_last_step_stays_there(flow, store):
    flow.goto(StepId.DONE)
    assert flow.finish(StepId.DONE) is None
    state = saved(store)
    assert state.current_step is StepId.DONE and state.status(StepId.DONE) is StepStatus.DONE


def test_skip_records_the_reason_and_moves_on(flow, store):
    flow.goto(StepId.MIGRATION)
    assert flow.skip(StepId.MIGRATION, "skipped by you") is StepId.DONE
    record = saved(store).steps[StepId.MIGRATION]
    assert (record.status, record.reason) == (StepStatus.SKIPPED, "skipped by you")


def test_fail_keeps_the_step_open(flow, store):
    flow.goto(StepId.BRIDGE)
    flow.fail(StepId.BRIDGE, "router unreachable")
    state = saved(store)
    assert state.current_step is StepId.BRIDGE
    assert state.steps[StepId.BRIDGE].status is StepStatus.FAILED
    assert state.steps[StepId.BRIDGE].reason == "router unreachable"


def test_go_back_opens_the_previous_step_and_not_before_the_first(flow, store):
    flow.goto(StepId.CHANNELS)
    assert flow.go_back(StepId.CHANNELS) is StepId.PROFILE
    assert saved(store).current_step is StepId.PROFILE
    flow.goto(StepId.RUNTIME)
    assert flow.go_back(StepId.RUNTIME) is None
    assert saved(store).current_step is StepId.RUNTIME


def test_rerun_opens_the_step_keeping_statuses_then_back_to_done(flow, store):
    flow.finish(StepId.CHANNELS)
    flow.rerun(StepId.CHANNELS)
    state = saved(store)
    assert state.current_step is StepId.CHANNELS
    assert state.status(StepId.CHANNELS) is StepStatus.DONE
    flow.back_to_dashboard()
    assert saved(store).current_step is StepId.DONE


def _settled(flow):
    state = flow.state
    state.profile = "old"
    state.channels = ["telegram"]
    state.synced_models = ["llama3.2"]
    state.default_model = "llama3.2"
    state.migration = MigrationDecision.APPLIED


def test_renaming_the_profile_clears_what_steps_4_to_6_recorded(flow, store):
    _settled(flow)
    assert flow.choose_profile("new") is True
    state = saved(store)
    assert state.profile == "new"
    assert state.channels == [] and state.synced_models == []
    assert state.default_model is None and state.migration is None


def test_keeping_the_profile_name_keeps_everything(flow, store):
    _settled(flow)
    assert flow.choose_profile("old") is False
    state = saved(store)
    assert state.channels == ["telegram"] and state.synced_models == ["llama3.2"]
    assert state.default_model == "llama3.2" and state.migration is MigrationDecision.APPLIED


def test_new_profile_starts_steps_3_on_over_and_keeps_engine_and_image(flow, store):
    for step in StepId:
        flow.finish(step)
    _settled(flow)
    flow.state.engine_url, flow.state.image_ref = "unix:///x.sock", "img:1"
    flow.new_profile()
    state = saved(store)
    assert state.current_step is StepId.PROFILE
    assert state.status(StepId.RUNTIME) is state.status(StepId.PULL) is StepStatus.DONE
    for step in (StepId.PROFILE, StepId.CHANNELS, StepId.BRIDGE, StepId.MIGRATION, StepId.DONE):
        assert state.status(step) is StepStatus.PENDING
    assert state.profile is None and state.channels == [] and state.migration is None
    assert (state.engine_url, state.image_ref) == ("unix:///x.sock", "img:1")


def test_the_save_hook_is_used(store):
    seen = []
    flow = Flow(store.new_state(), store, save=seen.append)
    flow.finish(StepId.RUNTIME)
    assert seen and not store.path.exists()
