"""Step 4 headless (steps.channels): what .env configures, and saving the choice."""

from __future__ import annotations

import pytest

from hermes_tui.state import StateStore
from hermes_tui.steps.channels import ChannelsError, configured_channels, save_channels
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
    await save_channels(flow, env, ["telegram"],
                        {"TELEGRAM_BOT_TOKEN": "t", "DISCORD_BOT_TOKEN": None})
    text = env.read_text()
    assert "KEEP=1" in text and "TELEGRAM_BOT_TOKEN=t" in text and "DISCORD" not in text
    assert store.load().state.channels == ["telegram"]


async def test_a_value_that_cannot_go_into_env_is_a_problem_and_records_nothing(tmp_path):
    store = StateStore(tmp_path / "wizard.toml")
    flow = Flow(store.new_state(), store)
    with pytest.raises(ChannelsError) as caught:
        await save_channels(flow, tmp_path / ".env", ["telegram"],
                            {"TELEGRAM_BOT_TOKEN": "nul\x00char"})
    assert caught.value.problem.what
    assert flow.state.channels == []
