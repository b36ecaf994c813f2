"""Step 5: listing a real router's models and syncing them into config.yaml."""

from __future__ import annotations

import socket
import stat

import pytest
from dotenv import dotenv_values
from textual.widgets import Input

from hermes_tui.bridge.sync import ROUTER_KEY_ENV, Badge, read_synced
from hermes_tui.profile import create_profile
from hermes_tui.state import StateStore, StepId, StepStatus
from hermes_tui.ui.widgets.model_list import ModelList
from hermes_tui.ui.widgets.problem_view import ProblemView
from tests.support.openai_router import OpenAIRouter, many_models
from tests.support.states import at


@pytest.fixture
def router():
    server = OpenAIRouter(models=["llama3.2:3b", "qwen2.5:7b"]).start()
    yield server
    server.stop()


@pytest.fixture
def bridge_app(make_app, paths):
    create_profile(paths, "my-bot")

    def build(url: str):
        return make_app(at(StepId.BRIDGE, profile="my-bot"), router_url=url)

    return build


def rows(app) -> list[str]:
    return [row.prompt.plain for row in app.screen.query_one("#models", ModelList).rows]


def text(app, selector: str) -> str:
    widget = app.screen.query_one(selector)
    return widget.text if isinstance(widget, ProblemView) else str(widget.render())


async def settle(app, pilot) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_models_are_listed_synced_and_verified_in_config(bridge_app, router, paths):
    app = bridge_app(router.url)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(app, pilot)
        assert rows(app) == ["★ llama3.2:3b  library  [Synced]", "  qwen2.5:7b  library  [Synced]"]
        assert "Hermes calls" in text(app, "#router-urls")
        assert app.state.status(StepId.BRIDGE) is StepStatus.DONE
        await pilot.press("enter")  # URL unchanged since the listing: Enter means Next
        await settle(app, pilot)
        # Step 6 follows (and skips itself at once: this HOME has no OpenClaw setup).
        assert app.state.current_step in (StepId.MIGRATION, StepId.DONE)
    synced = read_synced(paths.profile_dir("my-bot") / "config.yaml")
    assert synced.models == ("llama3.2:3b", "qwen2.5:7b") and synced.default == "llama3.2:3b"
    assert app.state.synced_models == ["llama3.2:3b", "qwen2.5:7b"]
    assert app.state.router_url == router.url


async def test_space_on_a_model_makes_it_the_default(bridge_app, router, paths):
    app = bridge_app(router.url)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(app, pilot)
        listing = app.screen.query_one("#models", ModelList)
        assert app.focused is listing and listing.highlighted == 0  # on the default
        await pilot.press("down", "space")  # Space picks; Enter stays Next
        await settle(app, pilot)
        assert rows(app)[1].startswith("★ qwen2.5:7b")
        assert app.screen.STEP is StepId.BRIDGE
    assert read_synced(paths.profile_dir("my-bot") / "config.yaml").default == "qwen2.5:7b"
    assert app.state.default_model == "qwen2.5:7b"


async def test_refresh_shows_new_models_and_marks_ones_no_longer_served(bridge_app, router):
    app = bridge_app(router.url)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(app, pilot)
        router.models = ["llama3.2:3b", "mistral:7b"]
        app.screen.query_one("#models", ModelList).focus()
        await pilot.press("r")
        await settle(app, pilot)
        assert rows(app) == [
            "★ llama3.2:3b  library  [Synced]",
            "  mistral:7b  library  [Synced]",
        ]
    # qwen left the router: the config keeps only what is served; nothing else was lost.


async def test_a_router_that_needs_a_key_asks_for_one_and_keeps_it_in_env(bridge_app, paths):
    server = OpenAIRouter(models=["gpt-local"], api_key="sk-FAKE-router-key").start()
    try:
        app = bridge_app(server.url)
        async with app.run_test(size=(100, 40)) as pilot:
            await settle(app, pilot)
            assert "401" in text(app, "#bridge-problem") or "key" in text(app, "#bridge-error")
            assert app.screen.check_action("next", ()) is None
            key = app.screen.query_one("#router-key", Input)
            key.focus()
            key.value = "sk-FAKE-router-key"
            await pilot.press("enter")
            await settle(app, pilot)
            assert rows(app) == ["★ gpt-local  library  [Synced]"]
    finally:
        server.stop()
    env = paths.profile_dir("my-bot") / ".env"
    assert dotenv_values(env)[ROUTER_KEY_ENV] == "sk-FAKE-router-key"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert "sk-FAKE-router-key" not in paths.state_file.read_text()
    assert "sk-FAKE-router-key" not in (paths.profile_dir("my-bot") / "config.yaml").read_text()


async def test_an_empty_router_says_no_models_loaded(bridge_app):
    server = OpenAIRouter(models=[]).start()
    try:
        app = bridge_app(server.url)
        async with app.run_test(size=(100, 40)) as pilot:
            await settle(app, pilot)
            assert text(app, "#bridge-problem").startswith("No models loaded.")
            assert app.screen.check_action("next", ()) is None
    finally:
        server.stop()


async def test_nothing_listening_is_explained_and_blocks_next(bridge_app):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = bridge_app(f"http://127.0.0.1:{port}/v1")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(app, pilot)
        assert str(port) in text(app, "#bridge-problem")
        assert "Start your router" in text(app, "#bridge-problem")
        assert app.state.status(StepId.BRIDGE) is StepStatus.FAILED


async def test_a_broken_config_yaml_is_never_overwritten_and_models_stay_pending(
    bridge_app, router, paths
):
    config = paths.profile_dir("my-bot") / "config.yaml"
    config.write_text("model: [unclosed\n")
    app = bridge_app(router.url)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(app, pilot)
        assert all("[Pending]" in row for row in rows(app))
        assert "config.yaml" in text(app, "#bridge-problem")
    assert config.read_text() == "model: [unclosed\n"


async def test_a_list_longer_than_one_network_read_is_listed_whole_and_navigable(
    bridge_app, paths
):
    # 2,500 models are ~170 kB: more than one read of the socket returns (the list used to
    # be called "not JSON"), sent in small chunks as a streaming proxy would.
    server = OpenAIRouter(models=many_models(2_500), chunked=8192).start()
    try:
        app = bridge_app(server.url)
        async with app.run_test(size=(100, 40)) as pilot:
            await settle(app, pilot)
            listed = rows(app)
            assert len(listed) == 2_500 and all(r.endswith("[Synced]") for r in listed)
            listing = app.screen.query_one("#models", ModelList)
            listing.focus()
            await pilot.press("end", "space")
            await settle(app, pilot)
            assert rows(app)[-1].startswith(f"★ {server.models[-1]}")
            assert listing.highlighted == 2_499
    finally:
        server.stop()
    assert read_synced(paths.profile_dir("my-bot") / "config.yaml").default == server.models[-1]


async def test_letters_are_actions_and_never_reach_the_url_field(bridge_app, router):
    app = bridge_app(router.url)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(app, pilot)
        url = app.screen.query_one("#router-url", Input)
        assert not isinstance(app.focused, Input)  # the step never opens in a field
        before = len(router.requests)
        await pilot.press("r")
        await settle(app, pilot)
        assert url.value == router.url and len(router.requests) > before  # listed again
        await pilot.press("tab")
        assert app.focused is url and url.selection.is_empty  # entered, nothing selected
        await pilot.press("escape")  # leaves the field, stays on the step
        assert app.focused is app.screen.query_one("#models", ModelList)
        assert app.screen.STEP is StepId.BRIDGE and url.value == router.url


async def test_a_failed_relist_leaves_no_synced_badge_behind(bridge_app, router):
    app = bridge_app(router.url)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(app, pilot)
        assert all(row.endswith("[Synced]") for row in rows(app))
        assert text(app, "#bridge-status").startswith("All 2 models synced")
        router.stop()
        await pilot.press("r")
        await settle(app, pilot)
        assert text(app, "#bridge-problem")  # why the listing failed
        assert rows(app) == [] and not app.screen.query_one("#models", ModelList).display
        assert "Synced" not in text(app, "#bridge-status")
        assert app.screen.check_action("next", ()) is None


async def test_at_80_columns_the_footer_shows_every_key_of_the_listed_models(bridge_app, router):
    from textual.widgets._footer import FooterKey

    app = bridge_app(router.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        keys = list(app.screen.query(FooterKey))
        shown = [key.description for key in keys]
        assert shown[:3] == ["Next", "Refresh", "Default"] and "Quit" in shown
        assert all(key.region.right <= 80 for key in keys)
        assert "palette" not in shown  # Ctrl+P still works; the footer needs the room


async def test_fifty_thousand_models_are_listed_synced_and_the_last_one_reached(
    bridge_app, paths
):
    models = many_models(50_000)
    server = OpenAIRouter(models=models).start()
    try:
        app = bridge_app(server.url)
        async with app.run_test(size=(100, 40)) as pilot:
            await settle(app, pilot)
            listing = app.screen.query_one("#models", ModelList)
            assert listing.row_count == 50_000
            assert [listing.row(i).mark for i in range(50_000)] == [Badge.SYNCED] * 50_000
            assert text(app, "#bridge-status").startswith("All 50000 models synced")
            assert app.screen.check_action("next", ()) is True
            assert app.focused is listing
            await pilot.press("end")
            await pilot.pause()
            assert listing.highlighted == 49_999
            shown = [listing.render_line(y).text.strip()
                     for y in range(listing.scrollable_content_region.height)]
            assert shown[-1] == f"{models[-1]}  library  [Synced]"
    finally:
        server.stop()
    synced = read_synced(paths.profile_dir("my-bot") / "config.yaml")
    assert synced.models == tuple(models) and synced.default == models[0]
    saved = StateStore(paths.state_file).load().state
    assert saved.synced_models == models and saved.status(StepId.BRIDGE) is StepStatus.DONE
