"""Step 4: picking channels, entering credentials, and where they are written."""

from __future__ import annotations

import stat

from dotenv import dotenv_values
from textual.widgets import Input, SelectionList, Static

from hermes_tui.state import StateStore, StepId, WizardState

SECRET = "7001:FAKE-telegram-token"


def on_channels(paths, channels: list[str] | None = None) -> WizardState:
    from hermes_tui.profile import create_profile

    create_profile(paths, "my-bot")
    state = WizardState(profile="my-bot", current_step=StepId.CHANNELS, channels=channels or [])
    return state


async def test_no_channel_selected_is_valid(make_app, paths):
    app = make_app(on_channels(paths))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "Selected: none" in str(app.screen.query_one("#channels-selected").render())
        await pilot.press("n")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.STEP is StepId.BRIDGE
    assert app.state.channels == []


async def test_selected_channel_requires_its_token(make_app, paths):
    app = make_app(on_channels(paths))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space", "n")
        await pilot.pause()
        assert app.screen.STEP is StepId.CHANNELS
        error = str(app.screen.query_one("#form-telegram .form-error", Static).render())
        assert error == "Telegram needs: Bot token (from @BotFather)."
        assert app.focused.id == "field-TELEGRAM_BOT_TOKEN"
    assert app.state.channels == []


async def test_channel_credentials_go_to_env_0600_and_never_to_state(make_app, paths):
    state = on_channels(paths)
    env = paths.profile_dir("my-bot") / ".env"
    env.write_text("# my notes\nOPENAI_API_KEY=sk-keep\n\nexport OTHER='x y'\n")
    app = make_app(state)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space", "tab", *SECRET, "tab", *"111, 222")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.STEP is StepId.BRIDGE
    text = env.read_text()
    assert text.startswith("# my notes\nOPENAI_API_KEY=sk-keep\n\nexport OTHER='x y'\n")
    values = dotenv_values(env)
    assert values["TELEGRAM_BOT_TOKEN"] == SECRET
    assert values["TELEGRAM_ALLOWED_USERS"] == "111,222"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert SECRET not in paths.state_file.read_text()
    assert StateStore(paths.state_file).load().state.channels == ["telegram"]


async def test_values_with_spaces_quotes_and_hashes_round_trip(make_app, paths):
    app = make_app(on_channels(paths))
    tricky = 'pa ss#"w=rd\''
    async with app.run_test(size=(100, 40)) as pilot:
        channels = app.screen.query_one(SelectionList)
        channels.select("email")
        await pilot.pause()
        fields = {
            "EMAIL_ADDRESS": "agent@example.com",
            "EMAIL_PASSWORD": tricky,
            "EMAIL_IMAP_HOST": "imap.example.com",
            "EMAIL_SMTP_HOST": "smtp.example.com",
        }
        for key, value in fields.items():
            app.screen.query_one(f"#field-{key}", Input).value = value
        await pilot.press("n")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.STEP is StepId.BRIDGE
    values = dotenv_values(paths.profile_dir("my-bot") / ".env")
    assert {k: values[k] for k in fields} == fields


async def test_secrets_are_masked_until_revealed(make_app, paths):
    app = make_app(on_channels(paths))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space", "tab", *SECRET)
        token = app.screen.query_one("#field-TELEGRAM_BOT_TOKEN", Input)
        assert token.password is True
        assert SECRET not in "".join(str(s) for s in token.render_line(0)._segments)
        await pilot.press("ctrl+r")
        assert token.password is False
        await pilot.press("ctrl+r")
        assert token.password is True


async def test_unticking_a_channel_removes_its_keys_from_env(make_app, paths):
    state = on_channels(paths, ["telegram"])
    env = paths.profile_dir("my-bot") / ".env"
    env.write_text(f"TELEGRAM_BOT_TOKEN={SECRET}\nTELEGRAM_ALLOWED_USERS=1\nKEEP=1\n")
    app = make_app(state)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.screen.query_one(SelectionList).selected == ["telegram"]
        await pilot.press("space", "n")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.STEP is StepId.BRIDGE
    assert env.read_text() == "KEEP=1\n"
    assert app.state.channels == []


async def test_channel_set_up_by_hand_in_env_shows_as_ticked(make_app, paths):
    state = on_channels(paths)
    (paths.profile_dir("my-bot") / ".env").write_text("DISCORD_BOT_TOKEN=abc\n")
    app = make_app(state)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.screen.query_one(SelectionList).selected == ["discord"]
        assert app.screen.query_one("#form-discord").display is True


async def test_missing_profile_folder_blocks_the_step_with_a_clear_message(make_app, paths):
    state = WizardState(profile="gone", current_step=StepId.CHANNELS)
    app = make_app(state)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = app.screen.query_one("#channels-problem").text
        assert "gone" in text and "does not exist" in text
        await pilot.press("n")
        assert app.screen.STEP is StepId.CHANNELS


def list_lines(app) -> list[str]:
    from hermes_tui.ui.widgets.channel_list import ChannelList

    view = app.screen.query_one(ChannelList)
    return [view.render_line(y).text for y in range(3)]


async def test_space_ticks_enter_is_next_and_the_tick_reads_without_colour(
    make_app, paths, monkeypatch
):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(on_channels(paths, ["discord"]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        first, second, _ = list_lines(app)
        assert first.startswith("[ ] Telegram") and second.startswith("[x] Discord")
        await pilot.press("space")
        assert list_lines(app)[0].startswith("[x] Telegram")
        await pilot.press("space")
        assert app.screen.query_one(SelectionList).selected == ["discord"]
        # Tab enters Discord's fields, Esc returns to the list: letters typed there stay
        # in the field, and outside it they are actions again.
        await pilot.press("tab")
        assert app.focused.id == "field-DISCORD_BOT_TOKEN"
        await pilot.press(*"FAKE-discord", "escape")
        assert app.focused.id == "channel-list"
        assert app.screen.query_one("#field-DISCORD_BOT_TOKEN", Input).value == "FAKE-discord"
        await pilot.press("enter")  # Next, never an untick of the highlighted row
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.STEP is StepId.BRIDGE
    assert app.state.channels == ["discord"]
