"""Contract tests: each step in ``hermes_tui.steps`` gives the same files through both
front ends — the wizard (driven with Pilot) and ``setup --non-interactive`` (its ``Setup``
step methods) — on the same inputs. Steps 1, 2 and 7 need an engine: their contracts are
in tests/engine/test_step_contracts_engine.py.

Compared: ``wizard.toml`` without timestamps, and the profile's files. Each front end gets
its own HOME, the same router double.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from textual.widgets import Input

from hermes_tui.bridge.sync import ROUTER_KEY_ENV
from hermes_tui.paths import Paths
from hermes_tui.profile import create_profile
from hermes_tui.state import MigrationDecision, StepId, WizardState
from tests.support.claw_tree import build_claw_tree
from tests.support.contracts import PROFILE, comparable, run_setup, without_times
from tests.support.openai_router import OpenAIRouter
from tests.support.states import at

KEY = "FAKE-router-key-for-tests"
#: Step 5, then step 6 (which skips itself in both: there is no OpenClaw in either HOME).
AFTER_BRIDGE = (StepId.BRIDGE, StepId.MIGRATION)


@pytest.fixture
def router():
    server = OpenAIRouter(models=["llama3.2:3b", "qwen2.5:7b"], api_key=KEY).start()
    yield server
    server.stop()


def bridge_state() -> WizardState:
    # Settled earlier steps, and an old migration decision the bridge must leave alone.
    return at(StepId.BRIDGE, profile=PROFILE, migration=MigrationDecision.SKIPPED)


async def test_bridge_step_writes_the_same_files_from_the_wizard_and_setup(
        make_app, paths, router, tmp_path, monkeypatch):
    # The wizard: the key typed into the form (the first listing, without it, is refused).
    create_profile(paths, PROFILE)
    app = make_app(bridge_state(), router_url=router.url)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        app.screen.query_one("#router-key", Input).value = KEY
        app.screen.action_refresh()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.can_advance
        app.finish_step(StepId.BRIDGE)  # what Next does; step 6 then opens
        await app.workers.wait_for_complete()  # and skips itself: no OpenClaw in HOME
        await pilot.pause()
        app.exit()
    wizard = comparable(paths)

    # setup --non-interactive: the key from the environment, as its help says.
    cli_paths = await run_setup(AFTER_BRIDGE, tmp_path / "cli-home", monkeypatch,
                                bridge_state(), {ROUTER_KEY_ENV: KEY}, router.url)
    cli = comparable(cli_paths)

    assert wizard["wizard.toml"]["steps"]["bridge"] == {"status": "done"}
    assert wizard["wizard.toml"]["synced_models"] == ["llama3.2:3b", "qwen2.5:7b"]
    assert KEY in wizard[".env"]
    assert cli == wizard


async def test_bridge_step_keeps_the_chosen_default_in_both(
        make_app, paths, router, tmp_path, monkeypatch):
    state = bridge_state()
    state.default_model = "qwen2.5:7b"  # chosen on an earlier run
    create_profile(paths, PROFILE)
    from hermes_tui.bridge.sync import save_router_key

    save_router_key(paths.profile_dir(PROFILE) / ".env", KEY)  # saved on that run
    app = make_app(state.model_copy(deep=True), router_url=router.url)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.finish_step(StepId.BRIDGE)
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.exit()
    wizard = comparable(paths)

    monkeypatch.setenv("HOME", str(tmp_path / "cli-home"))
    create_profile(Paths.resolve(None), PROFILE)
    save_router_key(Paths.resolve(None).profile_dir(PROFILE) / ".env", KEY)
    cli = comparable(await run_setup(AFTER_BRIDGE, tmp_path / "cli-home", monkeypatch,
                                     state.model_copy(deep=True), {}, router.url))
    assert wizard["wizard.toml"]["default_model"] == "qwen2.5:7b"
    assert cli == wizard


def renamed_state() -> WizardState:
    """Open at step 3 after a whole run for another profile (steps 4-6 recorded)."""
    return at(StepId.PROFILE, profile="old-bot", channels=["telegram"],
              synced_models=["llama3.2:3b"], default_model="llama3.2:3b",
              router_url="http://127.0.0.1:11434/v1", migration=MigrationDecision.SKIPPED)


async def test_profile_step_renaming_gives_the_same_files_from_the_wizard_and_setup(
        make_app, paths, tmp_path, monkeypatch):
    app = make_app(renamed_state())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.screen.query_one("#profile-name", Input).value = PROFILE
        await pilot.pause()
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.STEP is StepId.CHANNELS
        app.exit()
    wizard = comparable(paths)

    cli = comparable(await run_setup((StepId.PROFILE,), tmp_path / "cli-home", monkeypatch,
                                     renamed_state(), {}))
    toml = wizard["wizard.toml"]
    assert toml["profile"] == PROFILE and toml["current_step"] == "channels"
    assert toml["channels"] == [] and toml["synced_models"] == []
    assert "default_model" not in toml and "migration" not in toml
    assert cli == wizard


ENV_BEFORE = "KEEP=1\nTELEGRAM_BOT_TOKEN=123456:FAKE-token\nTELEGRAM_ALLOWED_USERS=111\n"


def seed_env(paths: Paths) -> None:
    create_profile(paths, PROFILE)
    (paths.profile_dir(PROFILE) / ".env").write_text(ENV_BEFORE)


async def test_channels_step_gives_the_same_files_from_the_wizard_and_setup(
        make_app, paths, tmp_path, monkeypatch):
    # The wizard: telegram is pre-ticked from .env, its form prefilled; n is Next.
    seed_env(paths)
    app = make_app(at(StepId.CHANNELS, profile=PROFILE))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("n")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.STEP is StepId.BRIDGE
        app.exit()
    wizard = comparable(paths, opened="bridge")  # its screen lists a router at once

    # setup --channel telegram, nothing in the environment: the values come from .env.
    monkeypatch.setenv("HOME", str(tmp_path / "cli-home"))
    seed_env(Paths.resolve(None))
    cli = comparable(await run_setup((StepId.CHANNELS,), tmp_path / "cli-home", monkeypatch,
                                     at(StepId.CHANNELS, profile=PROFILE), {},
                                     channel=["telegram"]), opened="bridge")
    assert wizard["wizard.toml"]["channels"] == ["telegram"]
    assert wizard["wizard.toml"]["current_step"] == "bridge"
    assert cli == wizard


# --- step 6: Claw migration ----------------------------------------------------------------


def profile_tree(paths: Paths, home: Path) -> dict[str, str]:
    """Every file of the profile but the migration run's own folder (its name is the time
    of the run), with the HOME each front end had written as ``~``."""
    root = paths.profile_dir(PROFILE)
    files = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not rel.startswith("migration/"):
            files[rel] = path.read_bytes().decode("utf-8", "replace").replace(str(home), "~")
    return files


def migration_outcome(paths: Paths, home: Path) -> dict[str, object]:
    state = without_times(tomllib.loads(paths.state_file.read_text().replace(str(home), "~")))
    state["steps"].pop("done")  # opened next; its screen is not part of step 6
    return {"wizard.toml": state, "profile": profile_tree(paths, home)}


def claw_state() -> WizardState:
    return at(StepId.MIGRATION, profile=PROFILE)


@pytest.mark.parametrize("apply", [True, False], ids=["apply", "dry-run"])
async def test_migration_step_gives_the_same_profile_from_the_wizard_and_setup(
        make_app, paths, home, tmp_path, monkeypatch, apply):
    # The wizard: the plan of ~/.openclaw, a to apply (y confirms), then n for Next.
    build_claw_tree(home / ".openclaw")
    create_profile(paths, PROFILE)
    app = make_app(claw_state())
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.STEP is StepId.MIGRATION and app.screen.plan is not None
        if apply:
            await pilot.press("a", "y")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert app.screen.applied is not None
        await pilot.press("n")
        await pilot.pause()
        assert app.screen.STEP is StepId.DONE
        app.exit()
    wizard = migration_outcome(paths, home)

    # setup --migrate-claw apply|dry-run over the same tree in its own HOME.
    cli_home = tmp_path / "cli-home"
    build_claw_tree(cli_home / ".openclaw")
    cli_paths = await run_setup((StepId.MIGRATION,), cli_home, monkeypatch, claw_state(), {},
                                migrate_claw="apply" if apply else "dry-run")
    cli = migration_outcome(cli_paths, cli_home)

    toml = wizard["wizard.toml"]
    assert toml["steps"]["migration"] == {"status": "done"}
    assert toml["migration"] == ("applied" if apply else "dry-run")
    if apply:
        assert toml["claw_dir"] == "~/.openclaw" and "SOUL.md" in wizard["profile"]
        assert toml["channels"] == ["whatsapp", "signal"]  # what the migrated .env configures
    else:
        assert "claw_dir" not in toml and "SOUL.md" not in wizard["profile"]
    assert cli == wizard


async def test_migration_step_skips_itself_alike_without_openclaw(
        make_app, paths, home, tmp_path, monkeypatch):
    create_profile(paths, PROFILE)
    app = make_app(claw_state())
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.STEP is StepId.DONE
        app.exit()
    wizard = migration_outcome(paths, home)
    cli_home = tmp_path / "cli-home"
    cli_paths = await run_setup((StepId.MIGRATION,), cli_home, monkeypatch, claw_state(), {},
                                migrate_claw="apply")
    assert wizard["wizard.toml"]["steps"]["migration"] == {
        "status": "skipped", "reason": "no OpenClaw setup found"}
    assert migration_outcome(cli_paths, cli_home) == wizard
