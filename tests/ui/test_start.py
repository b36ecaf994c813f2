"""Start-up as the command runs it: the first screen is drawn from a quick read of the
progress file (`read_outline`, no pydantic), and the app loads, validates and saves the
state right after that first frame, redrawing where the validated state differs."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from textual.widgets import Input

from hermes_tui.app import HermesApp, Opening
from hermes_tui.paths import Paths
from hermes_tui.progress import (
    NewerSchemaError,
    Outline,
    StateError,
    StepId,
    StepStatus,
    read_outline,
)
from hermes_tui.settings import Settings
from hermes_tui.state import StateStore
from hermes_tui.ui.widgets.step_sidebar import StepSidebar
from tests.support.states import at
from tests.ui.conftest import FIXED_NOW, NO_ENGINE, NO_ROUTER

ROOT = Path(__file__).resolve().parents[2]


def opened(paths: Paths, *, reset: bool = False, router_url: str | None = None,
           outline: Outline | None = None) -> HermesApp:
    """The app as ``hermes-tui`` builds it: an outline now, the state after the first frame."""
    if outline is None:
        outline = Outline() if reset else read_outline(paths.state_file)
    settings = Settings(paths=paths, docker_host=NO_ENGINE, router_url=router_url or NO_ROUTER)
    app = HermesApp(settings, opening=Opening(outline, reset=reset, router_url=router_url))
    app.monotonic = lambda: 1000.0
    return app


def save(paths: Paths, state) -> None:
    StateStore(paths.state_file, clock=lambda: FIXED_NOW).save(state)


def step_of(app: HermesApp) -> StepId:
    return app.screen.STEP  # type: ignore[attr-defined]


# -- the outline ---------------------------------------------------------------------


def test_outline_of_a_missing_file_is_a_fresh_start(tmp_path):
    outline = read_outline(tmp_path / "wizard.toml")
    assert outline.current_step is StepId.RUNTIME
    assert all(outline.status(step) is StepStatus.PENDING for step in StepId)


def test_outline_reads_the_step_and_every_status_and_reason(paths):
    state = at(StepId.BRIDGE, profile="my-bot")
    state.steps[StepId.CHANNELS].status = StepStatus.SKIPPED
    state.steps[StepId.CHANNELS].reason = "no channels chosen"
    save(paths, state)
    outline = read_outline(paths.state_file)
    assert outline.current_step is StepId.BRIDGE
    for step in StepId:
        assert outline.status(step) is state.status(step)
        assert outline.reason(step) == state.reason(step)
        assert outline.visited(step) == state.visited(step)


@pytest.mark.parametrize("text", [
    "current_step = [unclosed\n",
    'current_step = "nowhere"\nsteps = "not a table"\n',
    '[steps.pull]\nstatus = 7\nreason = ["x"]\n',
    "\xff\xfe not utf-8",
])
def test_outline_of_a_damaged_file_is_a_fresh_start_and_the_file_is_left_alone(paths, text):
    paths.root.mkdir(parents=True)
    raw = text.encode("latin-1")
    paths.state_file.write_bytes(raw)
    outline = read_outline(paths.state_file)
    assert outline.current_step is StepId.RUNTIME
    assert outline.status(StepId.PULL) is StepStatus.PENDING
    assert paths.state_file.read_bytes() == raw


def test_outline_of_a_newer_file_refuses_naming_the_file_and_the_fix(paths):
    paths.root.mkdir(parents=True)
    paths.state_file.write_text('schema_version = 99\ncurrent_step = "pull"\n')
    with pytest.raises(NewerSchemaError) as caught:
        read_outline(paths.state_file)
    assert str(paths.state_file) in str(caught.value)
    assert "--reset" in str(caught.value)


def test_outline_of_an_unreadable_file_is_a_state_error_naming_it(paths):
    paths.state_file.mkdir(parents=True)  # a folder where the file should be
    with pytest.raises(StateError) as caught:
        read_outline(paths.state_file)
    assert "wizard.toml" in str(caught.value)


# -- the app opened the command's way ---------------------------------------------------


async def test_first_start_opens_step_one_and_saves_the_progress_after_the_first_frame(paths):
    app = opened(paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert step_of(app) is StepId.RUNTIME
        assert app.state_error is None
    saved = StateStore(paths.state_file).load().state
    assert saved.current_step is StepId.RUNTIME


async def test_resume_opens_the_saved_step_with_the_saved_state(paths):
    save(paths, at(StepId.PROFILE, profile="my-bot"))
    app = opened(paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert step_of(app) is StepId.PROFILE
        assert app.state.profile == "my-bot"
        assert app.screen.query_one("#profile-name", Input).value == "my-bot"
        rows = app.screen.query_one(StepSidebar)
        assert rows.highlighted == 2


async def test_a_file_the_outline_reads_but_validation_refuses_is_set_aside_and_step_one_opens(
        paths):
    # Good enough TOML for the first frame (step 4), but the profile name breaks the rule.
    paths.root.mkdir(parents=True)
    text = 'schema_version = 1\ncurrent_step = "channels"\nprofile = "Not A Name!"\n'
    paths.state_file.write_text(text)
    app = opened(paths)
    assert app.progress.current_step is StepId.CHANNELS  # what the first frame shows
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert step_of(app) is StepId.RUNTIME
        messages = [n.message for n in app._notifications]
        assert any("could not be read" in m and "corrupt-" in m for m in messages)
        sidebar = app.screen.query_one(StepSidebar)
        assert sidebar.highlighted == 0
    asides = list(paths.root.glob("wizard.toml.corrupt-*"))
    assert [a.read_text() for a in asides] == [text]


async def test_a_newer_file_written_after_the_first_look_ends_the_app_with_code_3_untouched(
        paths):
    save(paths, at(StepId.PULL))
    app = opened(paths)  # the outline is read here …
    newer = b'schema_version = 99\ncurrent_step = "pull"\n'
    paths.state_file.write_bytes(newer)  # … and a newer hermes-tui rewrites the file
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
    assert app.return_code == 3
    assert isinstance(app.state_error, NewerSchemaError)
    assert paths.state_file.read_bytes() == newer


async def test_reset_starts_over_after_the_first_frame_and_keeps_a_backup(paths):
    save(paths, at(StepId.BRIDGE, profile="my-bot"))
    before = paths.state_file.read_bytes()
    app = opened(paths, reset=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert step_of(app) is StepId.RUNTIME
        messages = [n.message for n in app._notifications]
        assert any(m.startswith("Started over.") for m in messages)
    backups = list(paths.root.glob("wizard.toml.bak-*"))
    assert [b.read_bytes() for b in backups] == [before]
    assert StateStore(paths.state_file).load().state.profile is None


async def test_router_url_from_the_command_line_is_saved_with_the_loaded_state(paths):
    save(paths, at(StepId.PULL))
    app = opened(paths, router_url="http://127.0.0.1:9/v1/other")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
    assert StateStore(paths.state_file).load().state.router_url == "http://127.0.0.1:9/v1/other"


async def test_a_finished_setup_opens_the_dashboard(paths):
    state = at(StepId.DONE, profile="my-bot")
    state.steps[StepId.DONE].status = StepStatus.DONE
    save(paths, state)
    app = opened(paths)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert type(app.screen).__name__ == "DashboardScreen"


async def test_leaving_the_first_screen_works_like_any_other(paths):
    save(paths, at(StepId.PROFILE, profile="my-bot"))
    app = opened(paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("escape")  # back to step 2: the first screen is switched away
        await pilot.pause()
        assert step_of(app) is StepId.PULL
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("y")
    assert app.return_code in (0, None)


def test_the_first_frame_is_drawn_before_pydantic_is_imported(tmp_path):
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from hermes_tui.app import HermesApp, Opening
        from hermes_tui.paths import Paths
        from hermes_tui.progress import read_outline
        from hermes_tui.settings import Settings

        class Probe(HermesApp):
            def _state_after_first_frame(self):
                self.at_first_frame = sorted(m for m in ("pydantic", "aiodocker", "ruamel")
                                             if m in sys.modules)
                self.title_drawn = "Step 1 of 7" in self.screen.query_one("#step-title").render().plain
                self.exit()

        paths = Paths.resolve({str(tmp_path / "data")!r})
        app = Probe(Settings(paths=paths, docker_host="unix:///nonexistent.sock"),
                    opening=Opening(read_outline(paths.state_file)))
        app.run(headless=True, size=(80, 24))
        print(app.at_first_frame, app.title_drawn)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[-2] == "[] True"


async def test_the_collector_paused_for_start_up_resumes_once_the_state_is_loaded(paths):
    import gc

    settings = Settings(paths=paths, docker_host=NO_ENGINE, router_url=NO_ROUTER)
    app = HermesApp(settings, opening=Opening(read_outline(paths.state_file),
                                              collector_paused=True))
    gc.disable()  # as the command does before it imports the app
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert app._state is not None
            assert gc.isenabled()
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.enable()


async def test_a_first_screen_with_its_own_stylesheet_is_drawn_with_it(paths):
    # Channels keeps its rules in styles/channels.tcss, read when the screen is first
    # shown; opened as the first screen it must have them too.
    from hermes_tui.profile import create_profile

    create_profile(paths, "my-bot")
    save(paths, at(StepId.CHANNELS, profile="my-bot"))
    app = opened(paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert step_of(app) is StepId.CHANNELS
        channel_list = app.screen.query_one("#channel-list")
        assert channel_list.styles.max_height is not None
        assert channel_list.styles.max_height.value == 10
        assert channel_list.styles.border_top[0] == "round"
