"""Step 4 headless (steps.channels): what .env configures, and saving the choice."""

from __future__ import annotations

import pytest

from hermes_tui.state import StateStore
from hermes_tui.steps.channels import (
    ChannelChoice,
    ChannelsError,
    choose_channels,
    configured_channels,
    save_channels,
)
from hermes_tui.steps.flow import Flow


def test_only_completely_configured_channels_count():
    assert configured_channels({"TELEGRAM_BOT_TOKEN": "t"}) == ["telegram"]
    assert configured_channels({"SLACK_BOT_TOKEN": "x"}) == []  # the app token is missing
    assert configured_channels({}) == []


async def test_save_writes_env_and_records_the_channels(tmp_path):
    store = StateStore(tmp_path / "wizard.toml")
    flow = Flow(store.new_state(), store)
    env = tmp_path / ".env"
    env.write_text("KEEP=1\nDISCORD_BOT_TOKEN=old\n")
    await save_channels(flow, env, ChannelChoice(
        ["telegram"], {"TELEGRAM_BOT_TOKEN": "t", "DISCORD_BOT_TOKEN": None}))
    text = env.read_text()
    assert "KEEP=1" in text and "TELEGRAM_BOT_TOKEN=t" in text and "DISCORD" not in text
    assert store.load().state.channels == ["telegram"]


async def test_a_value_that_cannot_go_into_env_is_a_problem_and_records_nothing(tmp_path):
    store = StateStore(tmp_path / "wizard.toml")
    flow = Flow(store.new_state(), store)
    with pytest.raises(ChannelsError) as caught:
        await save_channels(flow, tmp_path / ".env", ChannelChoice(
            ["telegram"], {"TELEGRAM_BOT_TOKEN": "nul\x00char"}))
    assert caught.value.problem.what
    assert flow.state.channels == []


def test_a_channel_complete_in_env_stays_on_unless_given_up():
    env = {"DISCORD_BOT_TOKEN": "d"}
    kept = choose_channels(env, {"telegram": {"TELEGRAM_BOT_TOKEN": "t"}})
    assert kept.selected == ["telegram", "discord"] and kept.kept == ["discord"]
    assert "DISCORD_BOT_TOKEN" not in kept.updates
    dropped = choose_channels(env, {"telegram": {"TELEGRAM_BOT_TOKEN": "t"}},
                              given_up=["discord"])
    assert dropped.selected == ["telegram"] and dropped.kept == []
    assert dropped.updates["DISCORD_BOT_TOKEN"] is None


def test_the_channels_are_recorded_in_catalog_order_whatever_the_order_chosen():
    choice = choose_channels({}, {"discord": {"DISCORD_BOT_TOKEN": "d"},
                                  "telegram": {"TELEGRAM_BOT_TOKEN": "t"}})
    assert choice.selected == ["telegram", "discord"]  # the catalog's order


def test_a_required_field_left_empty_is_missing_and_the_choice_incomplete():
    choice = choose_channels({}, {"slack": {"SLACK_BOT_TOKEN": "x"}})
    assert not choice.complete
    assert [f.key for f in choice.missing["slack"]] == ["SLACK_APP_TOKEN"]
