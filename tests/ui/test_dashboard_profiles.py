"""The dashboard shows what the profile's own files configure (channels in .env, models
in config.yaml), and switching profile from it is the same transition as the wizard's
step 3 and setup (``Flow.choose_profile``)."""

from __future__ import annotations

import tomllib

from textual.widgets import Static

from hermes_tui.bridge.sync import write_models
from hermes_tui.envfile import update_env
from hermes_tui.profile import create_profile
from hermes_tui.state import MigrationDecision
from hermes_tui.ui.screens.dashboard import PickModal
from tests.support.dashboard import dashboard_state, open_dashboard

ROUTER_IN_CONTAINER = "http://host.docker.internal:11434/v1"


def set_up(paths, name: str, env: dict[str, str], models: list[str]) -> None:
    """A profile as steps 4 and 5 leave it: channel keys in .env, models in config.yaml."""
    create_profile(paths, name)
    folder = paths.profile_dir(name)
    update_env(folder / ".env", env)
    write_models(folder / "config.yaml", base_url=ROUTER_IN_CONTAINER, models=models,
                 default=models[0], api_key_ref=None)



def recorded_state(claw_dir: str):
    """my-bot's whole record: channels, router, models, an applied migration."""
    return dashboard_state(channels=["telegram"], router_url="http://127.0.0.1:11434/v1",
                           default_model="llama3.2:3b", synced_models=["llama3.2:3b"],
                           migration=MigrationDecision.APPLIED, claw_dir=claw_dir)

def details(app) -> str:
    return str(app.screen.query_one("#dash-details", Static).render())




async def test_switching_profile_clears_the_old_profiles_record_and_shows_the_new_ones_files(
        make_app, paths, tmp_path):
    set_up(paths, "my-bot", {"TELEGRAM_BOT_TOKEN": "7001:FAKE-telegram-token"}, ["llama3.2:3b"])
    set_up(paths, "work", {"DISCORD_BOT_TOKEN": "FAKE-discord-token"},
           ["qwen2.5:7b", "mistral:7b"])
    app = make_app(recorded_state(str(tmp_path / "openclaw")))
    async with app.run_test(size=(100, 30)) as pilot:
        await open_dashboard(app, pilot)
        assert "Telegram" in details(app) and "llama3.2:3b (default)" in details(app)

        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, PickModal)
        await pilot.press("down", "enter")  # my-bot (current), work
        await open_dashboard(app, pilot)

        assert app.screen.query_one("#dashboard").border_title == "Hermes · work"
        shown = details(app)
        assert "Discord" in shown and "Telegram" not in shown
        assert "qwen2.5:7b (default)  Synced" in shown and "mistral:7b  Synced" in shown
        assert "llama3.2:3b" not in shown

    saved = tomllib.loads(paths.state_file.read_text())
    assert saved["profile"] == "work"
    # What steps 4-6 recorded was about my-bot: cleared, as step 3 and setup clear it, so
    # my-bot's OpenClaw folder is not mounted into work's gateway either.
    assert saved["channels"] == [] and saved["synced_models"] == []
    assert "default_model" not in saved and "migration" not in saved
    # Engine, image and router are not the profile's: kept.
    assert saved["router_url"] == "http://127.0.0.1:11434/v1"
    assert saved["steps"]["done"]["status"] == "done"


async def test_picking_the_current_profile_keeps_its_record(make_app, paths, tmp_path):
    set_up(paths, "my-bot", {"TELEGRAM_BOT_TOKEN": "7001:FAKE-telegram-token"}, ["llama3.2:3b"])
    set_up(paths, "work", {}, ["qwen2.5:7b"])
    app = make_app(recorded_state(str(tmp_path / "openclaw")))
    async with app.run_test(size=(100, 30)) as pilot:
        await open_dashboard(app, pilot)
        await pilot.press("p")
        await pilot.pause()
        await pilot.press("enter")  # my-bot (current)
        await open_dashboard(app, pilot)
        assert app.screen.query_one("#dashboard").border_title == "Hermes · my-bot"

    saved = tomllib.loads(paths.state_file.read_text())
    assert saved["profile"] == "my-bot" and saved["channels"] == ["telegram"]
    assert saved["migration"] == "applied" and saved["default_model"] == "llama3.2:3b"


async def test_a_config_yaml_that_cannot_be_read_is_said_not_shown_as_no_models(make_app, paths,
                                                                                 tmp_path):
    set_up(paths, "my-bot", {"TELEGRAM_BOT_TOKEN": "7001:FAKE-telegram-token"}, ["llama3.2:3b"])
    (paths.profile_dir("my-bot") / "config.yaml").write_text("model: [unclosed\n")
    app = make_app(recorded_state(str(tmp_path / "openclaw")))
    async with app.run_test(size=(100, 30)) as pilot:
        await open_dashboard(app, pilot)
        shown = details(app)
        assert "Telegram" in shown
        assert "Models    unknown: " in shown and "none synced" not in shown
