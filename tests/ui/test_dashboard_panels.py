"""What the dashboard shows at a glance: status, plots, API block and log tail all in view at
80×24, every profile with its gateway's state (from the engine), the last health checks,
and a key that copies the example call without the API key unless it is shown."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from textual.widgets import Static

from hermes_tui.engine.gateway import GatewayStatus
from hermes_tui.profile import create_profile
from hermes_tui.ui.screens.dashboard import DashboardScreen, PickModal
from tests.support.dashboard import dashboard_state, open_dashboard
from tests.support.fake_engine import FakeEngine, gateway_container
from tests.support.states import FAKE_API_KEY, FAKE_API_MASKED, with_api_key

CHECKED_AT = datetime(2026, 11, 27, 9, 31, 2, tzinfo=UTC)




def side(app) -> str:
    return str(app.screen.query_one("#dash-side", Static).render())


def running(**fields) -> GatewayStatus:
    return GatewayStatus(exists=True, state="running", profile="my-bot", api_port=8650,
                         **fields)


@pytest.fixture
def engine(tmp_path):
    engines: list[FakeEngine] = []

    def start(**kwargs) -> FakeEngine:
        engines.append(FakeEngine(tmp_path / "engine" / "docker.sock", **kwargs).start())
        return engines[-1]

    yield start
    for one in engines:
        one.stop()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_status_plots_api_and_log_are_all_in_view(make_app, paths, size):
    with_api_key(paths, "my-bot", port=8650)
    app = make_app(dashboard_state())
    async with app.run_test(size=size) as pilot:
        screen = await open_dashboard(app, pilot)
        screen.show_status(running(health="ok"))
        await pilot.pause()
        print([(w.id, w.region, w.styles.height, w.display) for w in screen.query("#dashboard > *, #dash-rest > *")])
        footer_top = size[1] - 1
        for selector in ("#dash-gateway", "#dash-stats", "#dash-api", "#dash-log"):
            region = screen.query_one(selector).region
            assert region.height > 0 and region.bottom <= footer_top, (
                selector, region, [(w.id, w.region) for w in screen.query("#dashboard > *, #dash-rest > *")])
        # Two lines of log at least, even with a problem shown (here: no engine).
        assert screen.query_one("#dash-log").region.height >= 4
        details = screen.query_one("#dash-details").region
        side_region = screen.query_one("#dash-side").region
        if size == (120, 40):  # the room is used: profiles and checks beside the details
            assert side_region.y == details.y and side_region.x > details.right
            assert side_region.bottom <= screen.query_one("#dash-log").region.y
            assert screen.query_one("#dash-log").region.height >= 15


async def test_health_history_lists_the_checks_the_dashboard_saw_newest_first(make_app, paths):
    with_api_key(paths, "my-bot", port=8650)
    app = make_app(dashboard_state())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_dashboard(app, pilot)
        assert "Checks    none yet" in side(app)
        moments = iter([CHECKED_AT, CHECKED_AT.replace(minute=35)])
        screen.now = lambda: next(moments)
        screen.show_status(running(health="ok"))
        screen.show_status(running(health="failing", health_detail="no answer on port 8650"))
        screen.show_status(screen._status, reload=False)  # the uptime tick: no new check
        screen.show_status(GatewayStatus(exists=True, state="exited", exit_code=0,
                                         profile="my-bot"))  # not running: nothing checked
        await pilot.pause()
        lines = [line.strip() for line in side(app).split("Checks", 1)[1].splitlines()]
        assert lines == ["09:35:02  failing", "09:31:02  ok"]


async def test_every_profile_is_listed_with_its_gateway_state_and_the_picker_says_it(
        make_app, paths, engine):
    for name in ("my-bot", "work", "spare"):
        create_profile(paths, name)
    fake = engine(containers=[gateway_container("my-bot", "exited", exit_code=0),
                              gateway_container("work", "running")])
    app = make_app(dashboard_state(), docker_host=fake.url)
    app.autostart = False  # this engine runs nothing: leave my-bot stopped
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for _ in range(500):  # the events stream stays open: wait for the list instead
            if "exited with code 0" in side(app):
                break
            await pilot.pause(0.02)
        else:
            raise AssertionError(f"the profile list never showed the engine's states: {side(app)}")
        profiles = side(app).split("Checks", 1)[0]
        assert "▸ my-bot  exited with code 0" in profiles
        assert "  spare   not created" in profiles and "  work    running" in profiles

        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, PickModal)
        labels = [str(o.prompt) for o in app.screen.query_one("#pick-list").options]
        assert labels == ["my-bot  exited with code 0  (current)", "spare   not created",
                          "work    running"]
        await pilot.press("down", "down", "enter")
        for _ in range(500):
            if isinstance(app.screen, DashboardScreen) and app.state.profile == "work":
                break
            await pilot.pause(0.02)
        else:
            raise AssertionError("picking 'work' did not open its dashboard")
        assert app.screen.query_one("#dashboard").border_title == "Hermes · work"


async def test_profiles_without_an_engine_say_unknown(make_app, paths):
    create_profile(paths, "my-bot")
    create_profile(paths, "work")
    app = make_app(dashboard_state())
    async with app.run_test(size=(120, 40)) as pilot:
        await open_dashboard(app, pilot)
        assert "▸ my-bot  unknown" in side(app) and "  work    unknown" in side(app)


async def test_copy_gives_the_call_without_the_key_unless_it_is_shown(make_app, paths):
    with_api_key(paths, "my-bot", port=8650)
    app = make_app(dashboard_state())
    async with app.run_test(size=(80, 24)) as pilot:
        await open_dashboard(app, pilot)
        await pilot.press("c")
        await pilot.pause()
        call = 'curl -H "Authorization: Bearer $API_SERVER_KEY" http://127.0.0.1:8650/v1/models'
        assert app.clipboard == call
        said = [n.message for n in app._notifications]
        assert any(call in message for message in said), said

        await pilot.press("k", "c")
        await pilot.pause()
        assert app.clipboard == call.replace("$API_SERVER_KEY", FAKE_API_KEY)
        said = [n.message for n in app._notifications]
        assert "with the API key in it" in said[-1]
        assert not any(FAKE_API_KEY in message for message in said)

        await pilot.press("k")  # hidden again: the key is masked, and copied no more
        await pilot.pause()
        assert FAKE_API_MASKED in str(app.screen.query_one("#api-key").render())
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == call


async def test_copy_is_not_offered_without_an_api(make_app, paths):
    create_profile(paths, "my-bot")
    app = make_app(dashboard_state())
    async with app.run_test(size=(80, 24)) as pilot:
        await open_dashboard(app, pilot)
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == ""
