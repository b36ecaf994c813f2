"""Moving through the wizard with the keyboard, and resuming after a restart."""

from __future__ import annotations

import tomllib

from textual.widgets import Input, Markdown, SelectionList

from hermes_tui.state import StateStore, StepId, StepStatus
from hermes_tui.ui.screens.base import HelpModal, StepScreen
from hermes_tui.ui.widgets.step_sidebar import StepSidebar
from tests.support.states import at


def current_step(app) -> StepId:
    assert isinstance(app.screen, StepScreen)
    return app.screen.STEP


async def test_starts_at_step_one_with_every_step_in_the_sidebar(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert current_step(app) is StepId.RUNTIME
        sidebar = app.screen.query_one(StepSidebar)
        assert sidebar.option_count == 7
        # Only the open step can be chosen; later ones are shown but disabled.
        assert not sidebar.get_option_at_index(0).disabled
        assert all(sidebar.get_option_at_index(i).disabled for i in range(1, 7))


async def test_next_waits_for_an_engine_on_step_one(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("enter", "n")
        assert current_step(app) is StepId.RUNTIME
        assert app.screen.check_action("next", ()) is None
        assert app.state.status(StepId.RUNTIME) is StepStatus.FAILED


async def test_enter_and_n_advance_and_each_change_is_saved(make_app, paths):
    from hermes_tui.profile import create_profile

    create_profile(paths, "my-bot")
    app = make_app(at(StepId.PROFILE, profile="my-bot"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert current_step(app) is StepId.CHANNELS
        await pilot.press("n")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert current_step(app) is StepId.BRIDGE
    saved = tomllib.loads(paths.state_file.read_text())
    assert saved["current_step"] == "bridge"
    assert saved["steps"]["channels"]["status"] == "done"
    assert saved["channels"] == []


async def test_escape_and_b_go_back_but_not_before_step_one(make_app):
    app = make_app(at(StepId.CHANNELS, profile="my-bot"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("escape")
        assert current_step(app) is StepId.PROFILE
        await pilot.press("tab", "escape")  # in the name field Esc leaves the field…
        assert current_step(app) is StepId.PROFILE
        assert app.focused.id == "step-body"
        await pilot.press("escape")  # …and outside it goes back
        assert current_step(app) is StepId.PULL
        await pilot.press("b")
        assert current_step(app) is StepId.RUNTIME
        await app.workers.wait_for_complete()
        await pilot.press("b")
        assert current_step(app) is StepId.RUNTIME


async def test_next_is_disabled_while_the_profile_name_is_invalid(make_app):
    app = make_app(at(StepId.PROFILE))
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.screen.check_action("next", ()) is None
        await pilot.press("enter")
        assert current_step(app) is StepId.PROFILE
        await pilot.press(*"ok")
        assert app.screen.check_action("next", ()) is True


async def test_sidebar_jumps_to_a_visited_step_and_refuses_a_pending_one(make_app):
    app = make_app(at(StepId.BRIDGE, profile="my-bot"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("escape")  # on Channels; Bridge stays pending
        assert current_step(app) is StepId.CHANNELS
        await pilot.press("s")
        assert isinstance(app.focused, StepSidebar)
        await pilot.press("home", "down", "down", "enter")
        assert current_step(app) is StepId.PROFILE
        # End lands on the last step that may be opened (Bridge: its listing failed when
        # it opened, with no router), never on a pending one (Claw migration).
        await pilot.press("s", "end", "enter")
        assert app.state.status(StepId.BRIDGE) is StepStatus.FAILED
        assert current_step(app) is StepId.BRIDGE
        app.jump(StepId.DONE)
        await pilot.pause()
        assert current_step(app) is StepId.BRIDGE
        assert any("Finish the earlier steps" in n.message for n in app._notifications)


async def test_palette_offers_go_to_step_for_visited_steps(make_app):
    app = make_app(at(StepId.BRIDGE, profile="my-bot"))
    async with app.run_test(size=(100, 30)) as pilot:
        commands = [c.title for c in app.get_system_commands(app.screen)]
        assert "Go to step 3: Profile" in commands
        assert "Go to step 4: Channels" in commands
        assert not any("Completion" in title for title in commands)
        await pilot.press("ctrl+p")
        await pilot.press(*"go to step 3")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert current_step(app) is StepId.PROFILE


async def test_help_shows_the_steps_troubleshooting_and_closes(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpModal)
        text = app.screen.query_one(Markdown).source
        assert "systemctl start docker" in text
        assert "usermod -aG docker" in text
        await pilot.press("escape")
        assert current_step(app) is StepId.RUNTIME


async def test_help_key_f1_works_while_typing_in_a_field(make_app):
    app = make_app(at(StepId.PROFILE))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("tab")
        assert isinstance(app.focused, Input)
        await pilot.press("question_mark")  # typed into the field, not a command
        assert app.focused.value == "?"
        await pilot.press("f1")
        assert isinstance(app.screen, HelpModal)
        assert "^[a-z0-9][a-z0-9_-]{0,63}$" in app.screen.query_one(Markdown).source


async def test_quit_keeps_progress_and_reopening_resumes_with_inputs(make_app, paths):
    app = make_app(at(StepId.PROFILE))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("tab", *"my-bot", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert current_step(app) is StepId.CHANNELS
        await pilot.press("space")  # tick Telegram
        await pilot.press("tab", *"12345:secret-token")
        await pilot.press("ctrl+q")  # quit in the middle of the form
    state = StateStore(paths.state_file).load().state
    assert state.current_step is StepId.CHANNELS
    assert state.profile == "my-bot"

    again = make_app()
    async with again.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert current_step(again) is StepId.CHANNELS
        await pilot.press("escape")
        assert current_step(again) is StepId.PROFILE
        assert again.screen.query_one("#profile-name", Input).value == "my-bot"


async def test_channels_step_resumes_with_choice_and_masked_token(make_app, paths):
    app = make_app(at(StepId.PROFILE))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("tab", *"my-bot", "enter")
        await app.workers.wait_for_complete()
        await pilot.press("space", "tab", *"12345:secret-token", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert current_step(app) is StepId.BRIDGE

    again = make_app()
    async with again.run_test(size=(80, 24)) as pilot:
        await pilot.press("escape")
        assert current_step(again) is StepId.CHANNELS
        assert again.screen.query_one(SelectionList).selected == ["telegram"]
        token = again.screen.query_one("#field-TELEGRAM_BOT_TOKEN", Input)
        assert token.value == "12345:secret-token"
        assert token.password is True


async def test_corrupt_progress_file_is_set_aside_and_user_told(make_app, paths):
    paths.root.mkdir(parents=True)
    paths.state_file.write_text("current_step = [unclosed\n")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("could not be read" in m and "corrupt-" in m for m in messages)
        assert current_step(app) is StepId.RUNTIME
    asides = list(paths.root.glob("wizard.toml.corrupt-*"))
    assert len(asides) == 1
    assert asides[0].read_text() == "current_step = [unclosed\n"


async def test_completion_summarises_choices_and_skipped_steps(make_app):
    state = at(StepId.DONE, profile="my-bot")
    state.steps[StepId.MIGRATION].status = StepStatus.SKIPPED
    state.steps[StepId.MIGRATION].reason = "no OpenClaw setup found"
    app = make_app(state)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert current_step(app) is StepId.DONE
        headline = str(app.screen.query_one("#done-headline").render())
        assert "1 of 6 steps skipped" in headline
        details = str(app.screen.query_one("#done-details").render())
        assert "my-bot" in details and "none (add later)" in details
        # Done once the gateway runs (steps.completion), as setup records it.
        assert app.state.status(StepId.DONE) is StepStatus.PENDING


async def test_linux_console_gets_ascii_marks_and_square_borders(make_app, monkeypatch):
    monkeypatch.setenv("TERM", "linux")
    app = make_app(at(StepId.PULL))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.has_class("-plain-console")
        sidebar = app.screen.query_one(StepSidebar)
        assert str(sidebar.get_option_at_index(0).prompt).startswith("+ 1 Runtime check")
        assert str(sidebar.get_option_at_index(1).prompt).startswith("> 2 Image pull")
        assert sidebar.styles.border_top[0] == "solid"
