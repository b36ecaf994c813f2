"""Completion and the dashboard against the real engine: start, stop, restart, find again."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from hermes_tui.app import HermesApp
from hermes_tui.paths import Paths
from hermes_tui.profile import create_profile
from hermes_tui.settings import Settings
from hermes_tui.state import StateStore, StepId, StepStatus
from hermes_tui.ui.screens.dashboard import DashboardScreen
from hermes_tui.ui.widgets.problem_view import ProblemView
from tests.support.states import at

#: The image's own `gateway run`: the test image's stand-in keeps Hermes's contracts (it
#: reads the profile's .env, needs API_SERVER_KEY, answers /health as hermes-agent).
HEALTH_SERVER = None
CRASH = ("sh", "-c", "echo 'config broken: no model' >&2; exit 3")


def make(tmp_path: Path, engine, command, step: StepId = StepId.DONE) -> HermesApp:
    paths = Paths(tmp_path / "data")
    create_profile(paths, "gw-bot")
    store = StateStore(paths.state_file)
    loaded = store.load()
    if not paths.state_file.exists():
        loaded.state = at(step, profile="gw-bot", image_ref=engine.image)
        if step is StepId.DONE:
            loaded.state.steps[StepId.DONE].status = StepStatus.DONE
    store.save(loaded.state)
    settings = Settings(paths=paths, docker_host=engine.docker_host, image=engine.image,
                        gateway_command=command)
    return HermesApp(settings, store, loaded.state)


async def wait_for(pilot, predicate, seconds: float = 30) -> None:
    for _ in range(int(seconds / 0.1)):
        await pilot.pause(0.1)
        if predicate():
            return
    screen = pilot.app.screen
    shown = [str(w.render()) for w in screen.query("Static") if w.display]
    raise AssertionError(f"condition not met in time; screen shows: {shown}")


def gateway_line(app) -> str:
    return str(app.screen.query_one("#dash-gateway", Static).render())


async def test_completion_starts_the_gateway_and_opens_the_dashboard(tmp_path, pulled):
    app = make(tmp_path, pulled, HEALTH_SERVER)
    app.state.steps[StepId.DONE].status = StepStatus.PENDING  # first time on step 7
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.screen.STEP is StepId.DONE
        await pilot.press("g")
        await wait_for(pilot, lambda: "health ok" in str(
            app.screen.query_one("#gateway-state").render()).lower())
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        await wait_for(pilot, lambda: "running" in gateway_line(app))


async def test_dashboard_on_launch_starts_a_stopped_gateway_and_follows_events(tmp_path, pulled):
    app = make(tmp_path, pulled, HEALTH_SERVER)
    async with app.run_test(size=(100, 30)) as pilot:
        assert isinstance(app.screen, DashboardScreen)
        await wait_for(pilot, lambda: "running" in gateway_line(app) and "health ok" in gateway_line(app))
        await pilot.press("x")
        await wait_for(pilot, lambda: "stopped by you" in gateway_line(app))
        await pilot.press("s")
        await wait_for(pilot, lambda: "running" in gateway_line(app))
        await pilot.press("r")
        await wait_for(pilot, lambda: "running" in gateway_line(app) and "restarts" in gateway_line(app))

    again = make(tmp_path, pulled, HEALTH_SERVER)  # the app restarts: the container is found again
    async with again.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: "running" in gateway_line(again))


async def test_a_gateway_that_exits_at_once_shows_its_log_and_exit_code(tmp_path, pulled):
    app = make(tmp_path, pulled, CRASH)
    async with app.run_test(size=(100, 30)) as pilot:
        log = app.screen.query_one("#dash-log")
        # The engine's "die" event may repaint the status line before the start worker has
        # read the log tail: wait for both, not for the first.
        await wait_for(pilot, lambda: "exited with code 3" in gateway_line(app)
                       and log.display and any("config broken" in line for line in log.lines))
        assert "3" in app.screen.query_one("#dash-problem", ProblemView).text


async def test_rerunning_a_step_from_the_dashboard_returns_there(tmp_path, pulled):
    app = make(tmp_path, pulled, HEALTH_SERVER)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: "running" in gateway_line(app))
        await pilot.press("w")
        await pilot.press("down", "down", "down", "enter")  # 4 Channels
        await pilot.pause()
        assert app.screen.STEP is StepId.CHANNELS
        await pilot.press("n")  # the dashboard's event watcher never completes: poll instead
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_stop_and_restart_say_so_at_once_and_restart_applies_a_changed_env(
        tmp_path, pulled):
    from hermes_tui.engine.api_server import PORT_ENV
    from hermes_tui.envfile import update_env
    from hermes_tui.ui.widgets.gateway_stats import GatewayStats

    app = make(tmp_path, pulled, HEALTH_SERVER)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: "running" in gateway_line(app)
                       and "health ok" in gateway_line(app))
        # The engine's stats stream feeds the plots while the gateway runs.
        await wait_for(pilot, lambda: app.screen.query_one(GatewayStats).samples >= 2)
        # The key's action, called directly: what it shows before the engine is asked.
        app.screen.action_stop()
        assert "stopping…" in gateway_line(app)
        await wait_for(pilot, lambda: "stopped by you" in gateway_line(app))
        assert "exited with code" not in gateway_line(app)
        await pilot.press("s")
        await wait_for(pilot, lambda: "running" in gateway_line(app)
                       and "health ok" in gateway_line(app))

        port = free_port()
        env = app.settings.paths.profile_dir("gw-bot") / ".env"
        update_env(env, {PORT_ENV: str(port)})
        app.screen.action_restart()
        assert "restarting…" in gateway_line(app)
        await wait_for(pilot, lambda: "running" in gateway_line(app)
                       and "health ok" in gateway_line(app)
                       and app.screen._status.api_port == port)
        assert "API port" not in gateway_line(app)  # the container runs the .env's port
