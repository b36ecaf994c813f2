"""Contract tests for the steps that need an engine (1 Runtime check, 2 Image pull,
7 Completion): the wizard, driven with Pilot, and ``setup --non-interactive``'s steps, on
the same real engine and registry, leave the same progress and profile files.

Each front end gets its own HOME; the gateway one front end started is removed before the
other runs (a profile's container belongs to one data dir).
"""

from __future__ import annotations

import re
from pathlib import Path

import aiodocker

from hermes_tui.app import HermesApp
from hermes_tui.engine.detect import diagnose
from hermes_tui.engine.gateway import remove_gateway
from hermes_tui.paths import Paths
from hermes_tui.profile import create_profile
from hermes_tui.settings import Settings
from hermes_tui.state import StateStore, StepId, WizardState
from tests.support.contracts import NOW, PROFILE, comparable, run_setup
from tests.support.states import at


def wizard_app(home: Path, monkeypatch, state: WizardState, **settings: object) -> HermesApp:
    monkeypatch.setenv("HOME", str(home))
    paths = Paths.resolve(None)
    store = StateStore(paths.state_file, clock=lambda: NOW)
    store.save(state)
    return HermesApp(Settings(paths=paths, **settings), store, state)


async def wait_until(pilot, predicate, what: str, seconds: float = 60) -> None:
    for _ in range(int(seconds / 0.1)):
        await pilot.pause(0.1)
        if predicate():
            return
    raise AssertionError(f"{what}: not reached in {seconds:.0f} s")


async def test_runtime_and_pull_steps_record_the_same_progress_from_the_wizard_and_setup(
        tmp_path, monkeypatch, cold_engine):
    engine = {"docker_host": cold_engine.docker_host, "image": cold_engine.image}
    app = wizard_app(tmp_path / "tui-home", monkeypatch, WizardState(), **engine)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.screen.can_advance, "the runtime step finding the engine")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen.STEP is StepId.PULL and app.screen.can_advance,
                         "the pull finishing")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.STEP is StepId.PROFILE
        app.exit()
    wizard = comparable(app.settings.paths, profile_files=())

    # setup: the image is on the engine now, so its pull is the idempotent one.
    cli_paths = await run_setup((StepId.RUNTIME, StepId.PULL), tmp_path / "cli-home",
                                monkeypatch, WizardState(), {}, settings=engine)
    cli = comparable(cli_paths, profile_files=())

    toml = wizard["wizard.toml"]
    assert toml["current_step"] == "profile"
    assert toml["engine_url"] == cold_engine.docker_host
    assert toml["image_ref"] == cold_engine.image and toml["image_digest"].startswith("sha256:")
    assert toml["steps"]["runtime"] == toml["steps"]["pull"] == {"status": "done"}
    assert cli == wizard


def api_masked(text: str) -> str:
    """``.env`` with the API server's key and port (made per run) masked."""
    return re.sub(r"^(API_SERVER_(?:KEY|PORT))=.+$", r"\1=<made>", text, flags=re.MULTILINE)


async def test_completion_starts_the_gateway_and_records_it_alike_from_the_wizard_and_setup(
        tmp_path, monkeypatch, pulled):
    engine = pulled
    found = (await diagnose(engine.docker_host)).engine
    assert found is not None

    def state() -> WizardState:
        return at(StepId.DONE, profile=PROFILE, image_ref=engine.image,
                  engine_url=found.url, engine_summary=found.summary)

    settings = {"docker_host": engine.docker_host, "image": engine.image}
    app = wizard_app(tmp_path / "tui-home", monkeypatch, state(), **settings)
    create_profile(app.settings.paths, PROFILE)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.screen.STEP is StepId.DONE
        await pilot.press("g")
        await wait_until(pilot, lambda: "health ok" in str(
            app.screen.query_one("#gateway-state").render()).lower(), "the gateway's health")
        app.exit()
    wizard = comparable(app.settings.paths)
    docker = aiodocker.Docker(url=engine.docker_host)
    try:
        await remove_gateway(docker, PROFILE)
    finally:
        await docker.close()

    cli_paths = await run_setup((StepId.RUNTIME, StepId.DONE), tmp_path / "cli-home",
                                monkeypatch, state(), {}, settings=settings,
                                health_timeout=60.0)
    cli = comparable(cli_paths)

    assert wizard["wizard.toml"]["steps"]["done"] == {"status": "done"}
    assert "API_SERVER_KEY=" in wizard[".env"]
    for outcome in (wizard, cli):
        outcome[".env"] = api_masked(outcome[".env"])
    assert cli == wizard
