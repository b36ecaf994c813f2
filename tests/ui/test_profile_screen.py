"""Step 3: live name validation, creation, reuse and errors."""

from __future__ import annotations

import stat

import pytest
from textual.widgets import Input, Static

from hermes_tui.state import StepId, StepStatus
from hermes_tui.ui.screens.base import HelpModal
from tests.support.states import at


async def open_profile(pilot) -> None:
    """Open the step and enter the name field (Tab: a field is never focused on opening)."""
    await pilot.pause()
    assert not isinstance(pilot.app.focused, Input)
    await pilot.press("tab")
    assert pilot.app.focused.id == "profile-name"


def verdict(app) -> str:
    return str(app.screen.query_one("#name-verdict", Static).render())


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("MyBot", "Uppercase letters are not allowed ('M')"),
        ("my bot", "Spaces are not allowed"),
        ("-bot", "Must start with a lowercase letter or a digit, not '-'"),
        ("my.bot", "'.' is not allowed"),
        ("a" * 65, "Too long: 65 characters; the limit is 64"),
        ("hermes", "'hermes' is reserved by Hermes"),
    ],
)
async def test_invalid_profile_name_shows_rule_and_keeps_input(make_app, paths, typed, expected):
    app = make_app(at(StepId.PROFILE))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_profile(pilot)
        if len(typed) > 8:  # a long name arrives as a paste: key by key buys nothing
            app.screen.query_one("#profile-name", Input).insert_text_at_cursor(typed)
            await pilot.pause()
        else:
            await pilot.press(*typed)
        assert expected in verdict(app)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.STEP is StepId.PROFILE
        assert app.screen.query_one("#profile-name", Input).value == typed
    assert not paths.profiles.exists()
    assert app.state.profile is None


async def test_valid_name_shows_where_the_profile_goes_and_creates_it(make_app, paths):
    app = make_app(at(StepId.PROFILE))
    async with app.run_test(size=(100, 30)) as pilot:
        await open_profile(pilot)
        await pilot.press(*"my-assistant")
        assert "valid profile name" in verdict(app)
        where = str(app.screen.query_one("#profile-where", Static).render())
        assert where == "Will create ~/.local/share/hermes/profiles/my-assistant/"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.STEP is StepId.CHANNELS
    profile = paths.profile_dir("my-assistant")
    assert (profile / "memories").is_dir() and (profile / "config.yaml").is_file()
    assert stat.S_IMODE((profile / ".env").stat().st_mode) == 0o600
    assert app.state.profile == "my-assistant"
    assert app.state.status(StepId.PROFILE) is StepStatus.DONE


async def test_existing_profile_is_offered_for_reuse_and_its_files_kept(make_app, paths):
    profile = paths.profile_dir("work")
    (profile / "memories").mkdir(parents=True)
    (profile / ".env").write_text("OPENAI_API_KEY=keep-me\n")
    (profile / "config.yaml").write_text("# mine\nmodel: {default: x}\n")
    app = make_app(at(StepId.PROFILE))
    async with app.run_test(size=(100, 30)) as pilot:
        await open_profile(pilot)
        await pilot.press(*"work")
        where = str(app.screen.query_one("#profile-where", Static).render())
        assert "partly made profile exists" in where and "existing files are kept" in where
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.STEP is StepId.CHANNELS
    assert (profile / ".env").read_text() == "OPENAI_API_KEY=keep-me\n"
    assert (profile / "config.yaml").read_text() == "# mine\nmodel: {default: x}\n"
    assert (profile / "skills").is_dir()


async def test_profile_that_cannot_be_created_names_the_path_and_is_not_done(make_app, paths):
    paths.root.mkdir(parents=True, exist_ok=True)
    paths.profiles.write_text("a file where the profiles folder should be")
    app = make_app(at(StepId.PROFILE))
    async with app.run_test(size=(100, 30)) as pilot:
        await open_profile(pilot)
        await pilot.press(*"my-bot", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        error = app.screen.query_one("#profile-problem").text
        assert "~/.local/share/hermes/profiles" in error
        assert app.screen.STEP is StepId.PROFILE
        assert app.screen.query_one("#profile-name", Input).value == "my-bot"
    assert app.state.profile is None
    assert app.state.status(StepId.PROFILE) is StepStatus.FAILED


async def test_renaming_the_profile_clears_channels_and_models_as_setup_does(make_app, paths):
    from hermes_tui.state import MigrationDecision

    state = at(StepId.PROFILE, profile="old-bot", channels=["telegram"],
               synced_models=["llama3.2"], default_model="llama3.2",
               migration=MigrationDecision.SKIPPED)
    app = make_app(state)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_profile(pilot)
        box = app.screen.query_one("#profile-name", Input)
        box.value = "new-bot"
        await pilot.pause()
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.STEP is StepId.CHANNELS
    saved = app.store.load().state
    assert saved.profile == "new-bot"
    assert saved.channels == [] and saved.synced_models == []
    assert saved.default_model is None and saved.migration is None


async def test_enter_on_an_empty_name_enters_the_field_then_says_what_to_type(make_app, paths):
    app = make_app(at(StepId.PROFILE))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.focused.id == "step-body"
        # Letters are actions outside the field: q would quit, so press ? (help) instead.
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpModal)
        await pilot.press("escape")  # closes the help
        assert app.screen.query_one("#profile-name", Input).value == ""
        await pilot.press("enter")  # Next is not possible yet: Enter enters the field
        assert app.focused.id == "profile-name"
        await pilot.press("enter")  # an empty name: said, not silently ignored
        await pilot.pause()
        assert verdict(app).startswith("Type a name first")
        assert app.screen.STEP is StepId.PROFILE
        await pilot.press(*"bq", "escape")  # letters type in the field; Esc leaves it
        assert app.screen.query_one("#profile-name", Input).value == "bq"
        assert app.focused.id == "step-body"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.STEP is StepId.CHANNELS
    assert app.state.profile == "bq"
