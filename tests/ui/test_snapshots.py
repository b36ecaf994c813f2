"""Every screen and its error states, pinned as SVG at 80×24 and 120×40 (snapshots/)."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from hermes_tui.profile import create_profile
from hermes_tui.state import STEP_ORDER, StepId, StepStatus, WizardState

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}

FAKE_TOKEN = "7001:FAKE-telegram-token"


def at(step: StepId, **fields) -> WizardState:
    """A state whose earlier steps are settled, open at ``step``."""
    state = WizardState(current_step=step, **fields)
    for earlier in STEP_ORDER[: STEP_ORDER.index(step)]:
        record = state.steps[earlier]
        if earlier in (StepId.PROFILE, StepId.CHANNELS):
            record.status = StepStatus.DONE
        else:
            record.status, record.reason = StepStatus.SKIPPED, "not built yet"
    return state


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    for box in pilot.app.screen.query(Input):
        box.cursor_blink = False
    await pilot.pause()


@pytest.fixture(params=list(SIZES), ids=list(SIZES))
def size(request) -> tuple[int, int]:
    return SIZES[request.param]


def test_runtime_step(snap_compare, make_app, size):
    assert snap_compare(make_app(), terminal_size=size, run_before=settle)


def test_pull_step(snap_compare, make_app, size):
    assert snap_compare(make_app(at(StepId.PULL)), terminal_size=size, run_before=settle)


def test_profile_empty(snap_compare, make_app, size):
    assert snap_compare(make_app(at(StepId.PROFILE)), terminal_size=size, run_before=settle)


def test_profile_invalid_name(snap_compare, make_app, size):
    app = make_app(at(StepId.PROFILE))
    assert snap_compare(app, press=[*"My Bot"], terminal_size=size, run_before=settle)


def test_profile_valid_new_name(snap_compare, make_app, size):
    app = make_app(at(StepId.PROFILE))
    assert snap_compare(app, press=[*"my-assistant"], terminal_size=size, run_before=settle)


def test_profile_existing_is_offered_for_reuse(snap_compare, make_app, paths, size):
    create_profile(paths, "work")
    app = make_app(at(StepId.PROFILE))
    assert snap_compare(app, press=[*"work"], terminal_size=size, run_before=settle)


def test_profile_cannot_be_created(snap_compare, make_app, paths, size):
    paths.root.mkdir(parents=True, exist_ok=True)
    paths.profiles.write_text("not a folder")
    app = make_app(at(StepId.PROFILE))

    async def type_and_submit(pilot) -> None:
        await pilot.press(*"my-bot", "enter")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=type_and_submit)


def test_channels_none_selected(snap_compare, make_app, paths, size):
    create_profile(paths, "my-bot")
    app = make_app(at(StepId.CHANNELS, profile="my-bot"))
    assert snap_compare(app, terminal_size=size, run_before=settle)


def test_channels_form_with_masked_token(snap_compare, make_app, paths, size):
    create_profile(paths, "my-bot")
    app = make_app(at(StepId.CHANNELS, profile="my-bot"))
    assert snap_compare(app, press=["space", "tab", *FAKE_TOKEN], terminal_size=size,
                        run_before=settle)


def test_channels_missing_required_field(snap_compare, make_app, paths, size):
    create_profile(paths, "my-bot")
    app = make_app(at(StepId.CHANNELS, profile="my-bot"))
    assert snap_compare(app, press=["down", "down", "space", "n"], terminal_size=size,
                        run_before=settle)


def test_channels_profile_folder_missing(snap_compare, make_app, size):
    app = make_app(at(StepId.CHANNELS, profile="gone"))
    assert snap_compare(app, terminal_size=size, run_before=settle)


def test_bridge_step(snap_compare, make_app, paths, size):
    app = make_app(at(StepId.BRIDGE, profile="my-bot"), router_url="http://127.0.0.1:11434/v1")
    app.state.router_url = "http://127.0.0.1:11434/v1"
    assert snap_compare(app, terminal_size=size, run_before=settle)


def test_migration_step(snap_compare, make_app, size):
    assert snap_compare(make_app(at(StepId.MIGRATION, profile="my-bot")), terminal_size=size,
                        run_before=settle)


def test_completion_summary(snap_compare, make_app, size):
    app = make_app(at(StepId.DONE, profile="my-bot", channels=["telegram", "slack"]))
    assert snap_compare(app, terminal_size=size, run_before=settle)


def test_help_modal(snap_compare, make_app, size):
    assert snap_compare(make_app(), press=["question_mark"], terminal_size=size,
                        run_before=settle)


def test_corrupt_progress_notice(snap_compare, make_app, paths, size):
    paths.root.mkdir(parents=True)
    paths.state_file.write_text("current_step = [unclosed\n")
    assert snap_compare(make_app(), terminal_size=size, run_before=settle)
