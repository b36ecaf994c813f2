"""Steps 1 and 2 on screen, against the real engine and registry on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from hermes_tui.app import HermesApp
from hermes_tui.engine.pull import LayerState
from hermes_tui.paths import Paths
from hermes_tui.settings import Settings
from hermes_tui.state import StateStore, StepId, StepStatus
from hermes_tui.ui.widgets.confirm import ConfirmModal
from hermes_tui.ui.widgets.layer_bars import LayerBars
from hermes_tui.ui.widgets.problem_view import ProblemView
from tests.support.states import at


@pytest.fixture
def data(tmp_path: Path) -> Paths:
    return Paths(tmp_path / "data")


def make(data: Paths, state=None, **settings) -> HermesApp:
    store = StateStore(data.state_file)
    loaded = store.load()
    if state is not None:
        loaded.state = state
    store.save(loaded.state)
    return HermesApp(Settings(paths=data, **settings), store, loaded.state)


def text(app: HermesApp, selector: str) -> str:
    widget = app.screen.query_one(selector)
    return widget.text if isinstance(widget, ProblemView) else str(widget.render())


async def settle(app: HermesApp, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_runtime_step_finds_the_engine_and_records_it(data, local_engine):
    app = make(data, docker_host=local_engine.docker_host)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert "--docker-host — ok" in text(app, "#runtime-probes")
        assert "Docker" in text(app, "#runtime-engine") and "API 1.41" in text(app, "#runtime-engine")
        assert app.state.status(StepId.RUNTIME) is StepStatus.DONE
        assert app.state.engine_url == local_engine.docker_host
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.STEP is StepId.PULL


async def test_runtime_step_names_a_missing_socket_and_retry_finds_it_later(data, tmp_path, local_engine):
    link = tmp_path / "later.sock"
    app = make(data, docker_host=f"unix://{link}")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert str(link) in text(app, "#runtime-problem")
        assert app.state.status(StepId.RUNTIME) is StepStatus.FAILED
        await pilot.press("enter")
        assert app.screen.STEP is StepId.RUNTIME
        link.symlink_to(local_engine.socket_path)  # the engine "starts"
        await pilot.press("r")
        await settle(app, pilot)
        assert app.state.status(StepId.RUNTIME) is StepStatus.DONE
        assert app.screen.check_action("next", ()) is True


async def test_pull_step_pulls_every_layer_and_records_the_digest(data, cold_engine):
    app = make(data, at(StepId.PULL), docker_host=cold_engine.docker_host, image=cold_engine.image)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(app, pilot)
        bars = app.screen.query_one(LayerBars)
        layers = list(bars.progress.layers.values())
        assert len(layers) >= 4
        assert all(layer.state is LayerState.COMPLETE for layer in layers)
        assert "Pulled." in text(app, "#pull-result")
        assert app.state.image_digest and app.state.image_digest.startswith("sha256:")
        assert app.state.status(StepId.PULL) is StepStatus.DONE
        assert app.state.image_digest in text(app, "#pull-result")

    again = make(data, docker_host=cold_engine.docker_host, image=cold_engine.image)
    async with again.run_test(size=(100, 40)) as pilot:
        await settle(again, pilot)
        assert "Already up to date" in text(again, "#pull-result")


async def test_pull_of_a_removed_tag_says_manifest_unknown_and_offers_retry(data, local_engine):
    missing = f"{local_engine.registry}/hermes-test:removed"
    app = make(data, at(StepId.PULL), docker_host=local_engine.docker_host, image=missing)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert "manifest unknown" in text(app, "#pull-problem")
        assert "Upgrade hermes-tui" in text(app, "#pull-problem")
        assert app.screen.check_action("retry", ()) is True
        assert app.state.status(StepId.PULL) is StepStatus.FAILED
        assert app.screen.check_action("next", ()) is None


async def test_pull_without_a_reachable_engine_points_back_to_step_one(data, tmp_path):
    app = make(data, at(StepId.PULL), docker_host=f"unix://{tmp_path}/gone.sock")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert "No container engine is reachable" in text(app, "#pull-problem")
        assert app.screen.check_action("runtime", ()) is True
        await pilot.press("1")
        await pilot.pause()
        assert app.screen.STEP is StepId.RUNTIME


async def test_quitting_mid_pull_asks_first_and_reopening_resumes_the_step(
    data, cold_engine, throttled_registry
):
    image = throttled_registry.repository("1")
    app = make(data, at(StepId.PULL), docker_host=cold_engine.docker_host, image=image)
    async with app.run_test(size=(100, 40)) as pilot:
        bars = app.screen.query_one(LayerBars)
        for _ in range(600):  # the relay is slow: wait until one layer is in
            await pilot.pause(0.05)
            progress = bars.progress
            if progress and any(l.state is LayerState.COMPLETE for l in progress.layers.values()):
                break
        else:
            pytest.fail("no layer completed through the throttled registry")
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")  # keep going
        assert app.screen.STEP is StepId.PULL and app.is_running
        await pilot.press("ctrl+q")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await pilot.pause()
    assert not app.is_running
    assert StateStore(data.state_file).load().state.current_step is StepId.PULL

    again = make(data, docker_host=cold_engine.docker_host, image=image)
    async with again.run_test(size=(100, 40)) as pilot:
        await settle(again, pilot)
        assert again.screen.STEP is StepId.PULL
        assert again.state.status(StepId.PULL) is StepStatus.DONE
        assert again.state.image_digest.startswith("sha256:")
