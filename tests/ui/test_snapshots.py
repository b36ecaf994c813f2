"""Every screen and its error states, pinned as SVG at 80×24 and 120×40 (snapshots/)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from textual.widgets import Input

from hermes_tui.engine.gateway import GatewayStatus
from hermes_tui.profile import create_profile
from hermes_tui.state import StepId, StepStatus
from hermes_tui.ui.widgets.confirm import ConfirmModal
from hermes_tui.ui.widgets.layer_bars import LayerBars
from tests.support.claw_tree import build_claw_tree
from tests.support.fake_engine import FINISH, FakeEngine, cold_pull_events
from tests.support.openai_router import OpenAIRouter
from tests.support.states import FAKE_API_KEY, at, with_api_key

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}

FAKE_TOKEN = "7001:FAKE-telegram-token"


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    for box in pilot.app.screen.query(Input):
        box.cursor_blink = False
    await pilot.pause()


@pytest.fixture(params=list(SIZES), ids=list(SIZES))
def size(request) -> tuple[int, int]:
    return SIZES[request.param]


def test_runtime_no_engine(snap_compare, make_app, size):
    assert snap_compare(make_app(), terminal_size=size, run_before=settle)


def test_runtime_ssh_host_unreachable(snap_compare, make_app, tmp_path, monkeypatch, size):
    """A real ssh client against loopback port 1, where nothing listens: refused at once."""
    config = tmp_path / "ssh_config"  # none of root's ~/.ssh/config
    config.write_text("Host *\n  GlobalKnownHostsFile /dev/null\n")
    monkeypatch.setenv("HERMES_TUI_SSH_CONFIG", str(config))
    app = make_app(docker_host="ssh://ops@127.0.0.1:1")
    assert snap_compare(app, terminal_size=size, run_before=settle)


def test_profile_empty(snap_compare, make_app, size):
    assert snap_compare(make_app(at(StepId.PROFILE)), terminal_size=size, run_before=settle)


def test_profile_invalid_name(snap_compare, make_app, size):
    app = make_app(at(StepId.PROFILE))
    assert snap_compare(app, press=["tab", *"My Bot"], terminal_size=size, run_before=settle)


def test_profile_valid_new_name(snap_compare, make_app, size):
    app = make_app(at(StepId.PROFILE))
    assert snap_compare(app, press=["tab", *"my-assistant"], terminal_size=size, run_before=settle)


def test_profile_existing_is_offered_for_reuse(snap_compare, make_app, paths, size):
    create_profile(paths, "work")
    app = make_app(at(StepId.PROFILE))
    assert snap_compare(app, press=["tab", *"work"], terminal_size=size, run_before=settle)


def test_profile_cannot_be_created(snap_compare, make_app, paths, size):
    paths.root.mkdir(parents=True, exist_ok=True)
    paths.profiles.write_text("not a folder")
    app = make_app(at(StepId.PROFILE))

    async def type_and_submit(pilot) -> None:
        await pilot.press("tab", *"my-bot", "enter")
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


def test_migration_skipped_without_openclaw(snap_compare, make_app, paths, size):
    create_profile(paths, "my-bot")
    app = make_app(at(StepId.MIGRATION, profile="my-bot"))
    assert snap_compare(app, terminal_size=size, run_before=settle)


def migration_at(make_app, paths, home, **settings):
    create_profile(paths, "my-bot")
    return make_app(at(StepId.MIGRATION, profile="my-bot"), **settings)


def test_migration_claw_config_not_found(snap_compare, make_app, paths, home, size):
    (home / "openclaw-file").write_text("not a folder")
    app = migration_at(make_app, paths, home, claw_dir=home / "openclaw-file")
    assert snap_compare(app, terminal_size=size, run_before=settle)


def test_migration_plan(snap_compare, make_app, paths, home, size):
    build_claw_tree(home / ".openclaw")
    app = migration_at(make_app, paths, home)
    assert snap_compare(app, terminal_size=size, run_before=settle)


def test_migration_diff(snap_compare, make_app, paths, home, size):
    build_claw_tree(home / ".openclaw")
    app = migration_at(make_app, paths, home)

    async def open_diff(pilot) -> None:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=open_diff)


def test_migration_conflict(snap_compare, make_app, paths, home, size):
    build_claw_tree(home / ".openclaw")
    app = migration_at(make_app, paths, home)
    (paths.profile_dir("my-bot") / "SOUL.md").write_text("my own soul\n")

    async def on_conflict(pilot) -> None:
        await settle(pilot)
        plan = pilot.app.screen.plan
        conflict = next(i for i in plan.items if i.status.value == "conflict")
        listing = pilot.app.screen.query_one("#plan-items")
        listing.highlighted = listing.get_option_index(conflict.id)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=on_conflict)


def test_completion_summary(snap_compare, make_app, size):
    app = make_app(at(StepId.DONE, profile="my-bot", channels=["telegram", "slack"]))
    assert snap_compare(app, terminal_size=size, run_before=settle)


def completion_with_api(make_app, paths):
    with_api_key(paths, "my-bot", port=8650)
    return make_app(at(StepId.DONE, profile="my-bot", channels=["telegram", "slack"]))


def no_real_key(run_before):
    """Wrap ``run_before``: the fake key must not be on screen (only its masked form)."""

    async def checked(pilot) -> None:
        await run_before(pilot)
        assert FAKE_API_KEY not in pilot.app.export_screenshot()

    return checked


def test_completion_api_from_env(snap_compare, make_app, paths, size):
    app = completion_with_api(make_app, paths)

    async def scrolled(pilot) -> None:
        await settle(pilot)
        pilot.app.screen.query_one("#done-api").scroll_visible(animate=False)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=no_real_key(scrolled))


def test_completion_gateway_started(snap_compare, make_app, paths, size):
    app = completion_with_api(make_app, paths)
    status = GatewayStatus(exists=True, state="running", health="ok", profile="my-bot",
                           api_port=8650, version="0.19.0", health_detail="hermes-agent 0.19.0")

    async def started(pilot) -> None:
        await settle(pilot)
        pilot.app.screen.show_started(status)
        await pilot.pause()
        pilot.app.screen.query_one("#step-body").scroll_end(animate=False)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=no_real_key(started))


def test_help_modal(snap_compare, make_app, size):
    assert snap_compare(make_app(), press=["question_mark"], terminal_size=size,
                        run_before=settle)

def test_migration_interrupted_apply(snap_compare, make_app, paths, home, tmp_path, size):
    from tests.support.killpoint import interrupt_apply

    claw = build_claw_tree(home / ".openclaw")
    app = migration_at(make_app, paths, home)
    interrupt_apply(claw, paths.profile_dir("my-bot"), tmp_path)
    assert snap_compare(app, terminal_size=size, run_before=settle)


def test_corrupt_progress_notice(snap_compare, make_app, paths, size):
    paths.root.mkdir(parents=True)
    paths.state_file.write_text("current_step = [unclosed\n")
    assert snap_compare(make_app(), terminal_size=size, run_before=settle)


# -- steps 1 and 2 against a scripted Engine API double (fixed socket path and stream) ------

#: Each test's scripted engine gets its own socket folder: ``/tmp/hermes-tui-s`` plus
#: mkdtemp's 8 random characters, as long as the ``/tmp/hermes-tui-snapshots`` the SVGs
#: store, so the screen lays out the same; tests/conftest.py writes the stored name back
#: into every SVG before comparing.
SNAP_PREFIX = "hermes-tui-s"
PODMAN_VERSION = {
    "Version": "4.3.1", "ApiVersion": "1.41", "Os": "linux", "Arch": "amd64",
    "Components": [{"Name": "Podman Engine", "Version": "4.3.1", "Details": {}}],
    "Platform": {"Name": "linux/amd64/debian-12"},
}


@pytest.fixture
def fake_engine():
    """Start scripted engines on a socket of this test's own (removed afterwards)."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix=SNAP_PREFIX, dir="/tmp"))
    engines: list[FakeEngine] = []

    def start(**kwargs) -> FakeEngine:
        engine = FakeEngine(folder / "docker.sock", **kwargs).start()
        engines.append(engine)
        return engine

    try:
        yield start
    finally:
        for engine in engines:
            engine.stop()
        shutil.rmtree(folder, ignore_errors=True)


async def until_drawn(pilot, events: int) -> None:
    """Wait until the scripted stream has arrived whole and the bars show all of it."""
    bars = pilot.app.screen.query_one(LayerBars)
    for _ in range(1500):  # 30 s: generous on a loaded machine, then a loud failure
        if bars.progress is not None and bars.progress.events >= events and bars.up_to_date:
            break
        await pilot.pause(0.02)
    else:
        seen = bars.progress.events if bars.progress is not None else 0
        raise AssertionError(f"the pull screen drew {seen} of {events} events within 30 s")
    await pilot.pause()


def test_runtime_engine_found(snap_compare, make_app, fake_engine, size):
    engine = fake_engine()
    assert snap_compare(make_app(docker_host=engine.url), terminal_size=size, run_before=settle)


def test_pull_in_flight(snap_compare, make_app, fake_engine, size):
    engine = fake_engine(pull_events=cold_pull_events(layers=5, done=2), hang=True)
    app = make_app(at(StepId.PULL), docker_host=engine.url)

    async def until_layers(pilot) -> None:
        await until_drawn(pilot, 19)

    assert snap_compare(app, terminal_size=size, run_before=until_layers)


def test_pull_complete(snap_compare, make_app, fake_engine, size):
    engine = fake_engine(pull_events=cold_pull_events(layers=4, done=4) + FINISH)
    app = make_app(at(StepId.PULL), docker_host=engine.url)
    assert snap_compare(app, terminal_size=size, run_before=settle)


def test_pull_podman_thin_stream(snap_compare, make_app, fake_engine, size):
    events = [{"status": "Pulling fs layer", "id": f"{n:012x}"} for n in range(0xA0, 0xA4)]
    events += [{"status": "Download complete", "id": f"{n:012x}"} for n in range(0xA0, 0xA2)]
    engine = fake_engine(pull_events=events, hang=True, version=PODMAN_VERSION)
    app = make_app(at(StepId.PULL), docker_host=engine.url)

    async def until_layers(pilot) -> None:
        await until_drawn(pilot, 6)

    assert snap_compare(app, terminal_size=size, run_before=until_layers)


def test_pull_manifest_unknown(snap_compare, make_app, fake_engine, size):
    message = ("manifest for nousresearch/hermes-agent:v2026.9.24 "
               "not found: manifest unknown: manifest unknown")
    engine = fake_engine(pull_error=(404, message))
    app = make_app(at(StepId.PULL), docker_host=engine.url)
    assert snap_compare(app, terminal_size=size, run_before=settle)


def test_pull_without_engine(snap_compare, make_app, size):
    assert snap_compare(make_app(at(StepId.PULL)), terminal_size=size, run_before=settle)


def test_pull_quit_asks_first(snap_compare, make_app, fake_engine, size):
    engine = fake_engine(pull_events=cold_pull_events(layers=5, done=2), hang=True)
    app = make_app(at(StepId.PULL), docker_host=engine.url)

    async def until_layers_then_quit(pilot) -> None:
        await until_drawn(pilot, 19)
        await pilot.press("q")
        for _ in range(1500):
            if isinstance(pilot.app.screen, ConfirmModal):
                break
            await pilot.pause(0.02)
        else:
            raise AssertionError("q during a pull did not ask first within 30 s")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=until_layers_then_quit)


# -- step 5 against a real OpenAI-models server on a fixed loopback port --------------------

SNAP_ROUTER_PORT = 47811


@pytest.fixture
def snap_router():
    servers: list[OpenAIRouter] = []

    def start(models: list[str]) -> OpenAIRouter:
        server = OpenAIRouter(models=models, port=SNAP_ROUTER_PORT).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def bridge_at(make_app, paths, url: str):
    create_profile(paths, "my-bot")
    return make_app(at(StepId.BRIDGE, profile="my-bot"), router_url=url)


def test_bridge_models_synced(snap_compare, make_app, paths, snap_router, size):
    router = snap_router(["llama3.2:3b", "qwen2.5:7b", "mistral:7b"])
    app = bridge_at(make_app, paths, router.url)
    assert snap_compare(app, terminal_size=size, run_before=settle)


def test_bridge_models_pending_when_config_is_broken(snap_compare, make_app, paths, snap_router,
                                                      size):
    router = snap_router(["llama3.2:3b", "qwen2.5:7b"])
    app = bridge_at(make_app, paths, router.url)
    (paths.profile_dir("my-bot") / "config.yaml").write_text("model: [unclosed\n")
    assert snap_compare(app, terminal_size=size, run_before=settle)


def test_bridge_no_models_loaded(snap_compare, make_app, paths, snap_router, size):
    router = snap_router([])
    app = bridge_at(make_app, paths, router.url)
    assert snap_compare(app, terminal_size=size, run_before=settle)


def test_bridge_router_unreachable(snap_compare, make_app, paths, size):
    app = bridge_at(make_app, paths, "http://127.0.0.1:9/v1")
    assert snap_compare(app, terminal_size=size, run_before=settle)


# -- the dashboard: its rendering of a given gateway status (engine behaviour is tested in
#    tests/engine/test_dashboard.py against the real engine) ---------------------------------


def dashboard_app(make_app, paths):
    """'my-bot' as steps 4 and 5 leave it: the dashboard reads its channels from the
    profile's .env and its models from its config.yaml, the state says the same."""
    from hermes_tui.bridge.sync import write_models
    from hermes_tui.envfile import update_env

    create_profile(paths, "my-bot")  # or reuse the one with_api_key made
    folder = paths.profile_dir("my-bot")
    update_env(folder / ".env", {"TELEGRAM_BOT_TOKEN": FAKE_TOKEN})
    write_models(folder / "config.yaml", base_url="http://host.docker.internal:11434/v1",
                 models=["llama3.2:3b", "qwen2.5:7b"], default="llama3.2:3b", api_key_ref=None)
    state = at(StepId.DONE, profile="my-bot", channels=["telegram"],
               router_url="http://127.0.0.1:11434/v1", default_model="llama3.2:3b",
               synced_models=["llama3.2:3b", "qwen2.5:7b"], image_ref="nousresearch/hermes-agent:v2026.9.24")
    state.steps[StepId.DONE].status = StepStatus.DONE
    return make_app(state)


def shown(status):
    async def run_before(pilot) -> None:
        await settle(pilot)
        screen = pilot.app.screen
        screen.now = lambda: datetime(2026, 11, 27, 9, 31, 2, tzinfo=UTC)  # the health history
        screen.say()
        screen.show_status(status)
        await pilot.pause()

    return run_before


def test_dashboard_gateway_running(snap_compare, make_app, paths, size):
    started = datetime.now(UTC) - timedelta(minutes=12, seconds=5)
    status = GatewayStatus(exists=True, state="running", started_at=started, restart_count=0,
                           health="ok", profile="my-bot", api_port=8642)
    assert snap_compare(dashboard_app(make_app, paths), terminal_size=size, run_before=shown(status))


def test_dashboard_gateway_exited(snap_compare, make_app, paths, size):
    status = GatewayStatus(exists=True, state="exited", exit_code=3, restart_count=2,
                           profile="my-bot", api_port=8642)
    assert snap_compare(dashboard_app(make_app, paths), terminal_size=size, run_before=shown(status))


def test_dashboard_with_api_block(snap_compare, make_app, paths, size):
    with_api_key(paths, "my-bot", port=8650)
    started = datetime.now(UTC) - timedelta(minutes=12, seconds=5)
    status = GatewayStatus(exists=True, state="running", started_at=started, health="ok",
                           profile="my-bot", api_port=8650, version="0.19.0",
                           health_detail="hermes-agent 0.19.0")
    assert snap_compare(dashboard_app(make_app, paths), terminal_size=size,
                        run_before=no_real_key(shown(status)))


def test_dashboard_health_failing_says_what_answered(snap_compare, make_app, paths, size):
    with_api_key(paths, "my-bot", port=8650)
    status = GatewayStatus(
        exists=True, state="running", health="failing", profile="my-bot", api_port=8650,
        health_detail="answered as 'x', not as hermes-agent: something other than Hermes "
                      "listens on the port")
    assert snap_compare(dashboard_app(make_app, paths), terminal_size=size,
                        run_before=no_real_key(shown(status)))


def test_dashboard_live_log_and_stats(snap_compare, make_app, paths, size):
    from textual.widgets import Log

    from hermes_tui.engine.gateway import StatsSample
    from hermes_tui.ui.widgets.gateway_stats import GatewayStats

    started = datetime.now(UTC) - timedelta(minutes=3)
    status = GatewayStatus(exists=True, state="running", started_at=started, health="ok",
                           profile="my-bot", api_port=8642)

    async def run_before(pilot) -> None:
        await shown(status)(pilot)
        await pilot.app.workers.wait_for_complete()  # no engine: the streams end at once
        plots = pilot.app.screen.query_one(GatewayStats)
        for n in range(40):
            plots.add(StatsSample(cpu_percent=(n * 7) % 23 / 2, memory=48_000_000 + n * 150_000,
                                  memory_limit=2_000_000_000))
        pilot.app.screen.query_one(Log).write_lines(
            [f"2026-11-27 09:3{n}:00 INFO gateway: telegram poll ok ({n})" for n in range(8)])
        await pilot.pause()

    assert snap_compare(dashboard_app(make_app, paths), terminal_size=size,
                        run_before=run_before)


def test_dashboard_without_engine(snap_compare, make_app, paths, size):
    assert snap_compare(dashboard_app(make_app, paths), terminal_size=size, run_before=settle)
