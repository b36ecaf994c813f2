"""``hermes-tui setup --non-interactive``, ``doctor`` and ``status`` against a real dockerd.

The router is a real OpenAI-style ``/v1/models`` server (aiohttp, on loopback, in a thread).
The test image is busybox, not Hermes, but its ``gateway run`` keeps the published image's
contracts (it reads the mounted .env, refuses the API server without API_SERVER_KEY,
answers /health as hermes-agent); tests/hermes/ runs the same command on the real Hermes.
Every container a test creates is removed afterwards.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from hermes_tui.engine.gateway import container_name
from hermes_tui.envfile import read_env
from hermes_tui.state import MigrationDecision, StateStore, StepId, StepStatus
from tests.support.engine import LocalEngine

REPO = Path(__file__).resolve().parents[2]
TOKEN = "123456:telegram-secret-token"
MODELS = ["tiny-1b", "big-70b"]


class ModelsServer:
    """``GET /v1/models`` in the OpenAI shape, served by aiohttp on its own loop and thread."""

    def __init__(self, models: list[str]) -> None:
        self.models = models
        self.requests = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def _models(self, _request: web.Request) -> web.Response:
        self.requests += 1
        return web.json_response(
            {"object": "list", "data": [{"id": m, "object": "model", "owned_by": "test"}
                                        for m in self.models]})

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get("/v1/models", self._models)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    def start(self) -> ModelsServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


@pytest.fixture
def router() -> Iterator[ModelsServer]:
    server = ModelsServer(MODELS).start()
    try:
        yield server
    finally:
        server.stop()


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("DOCKER_", "HERMES_TUI_")) and k not in (
                "OPENAI_BASE_URL", "NO_COLOR", "TERM", "TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN")}
    base["PYTHONPATH"] = str(REPO)
    base["PYTHONDONTWRITEBYTECODE"] = "1"
    base.update(extra)
    return base


def hermes(engine: LocalEngine, data: Path, *args: str,
           environ: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI with HOME in the test's folder: no ~/.openclaw of the machine is seen."""
    environ = dict(environ or env())
    environ["HOME"] = str(data / "home")
    argv = [sys.executable, "-m", "hermes_tui.cli", "--data-dir", str(data),
            "--docker-host", engine.docker_host, "--image", engine.image, *args]
    return subprocess.run(argv, env=environ, capture_output=True, text=True,
                          timeout=180, stdin=subprocess.DEVNULL, cwd=REPO, check=False)


@pytest.fixture
def remove_gateway(local_engine: LocalEngine) -> Iterator[None]:
    yield
    local_engine.engine_request("DELETE", f"/containers/{container_name('bot')}?force=1")


def step_lines(out: str) -> dict[int, str]:
    found = {}
    for line in out.splitlines():
        match = re.match(r"^(ok|FAIL|skip)\s+step (\d)/7 ", line)
        if match:
            found[int(match.group(2))] = line
    return found


def check_line(out: str, name: str) -> str:
    return next(line for line in out.splitlines() if re.match(rf"^\S+\s+{name}\b", line))


def test_setup_runs_every_step_on_a_real_engine_and_leaves_a_healthy_gateway(
    cold_engine: LocalEngine, router: ModelsServer, tmp_path: Path, remove_gateway: None
) -> None:
    done = hermes(cold_engine, tmp_path, "setup", "--non-interactive", "--profile", "bot",
                  "--channel", "telegram", "--router-url", router.url,
                  "--default-model", "big-70b", "--health-timeout", "5",
                  environ=env(TELEGRAM_BOT_TOKEN=TOKEN))
    report = f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"

    # Steps 1-7 finish (6 skipped: no migration asked for).
    assert done.returncode == 0, report
    lines = step_lines(done.stdout)
    assert sorted(lines) == [1, 2, 3, 4, 5, 6, 7], report
    for number in (1, 2, 3, 4, 5, 7):
        assert lines[number].startswith("ok"), report
    assert "Docker" in lines[1] and cold_engine.docker_host in lines[1]
    assert cold_engine.image in lines[2] and "pulled" in lines[2] and "sha256:" in lines[2]
    assert "  pull: " in done.stdout and "\r" not in done.stdout  # piped: plain lines
    assert "Telegram" in lines[4]
    assert "2 model(s) synced" in lines[5] and "default big-70b" in lines[5]
    assert lines[6].startswith("skip") and "no OpenClaw setup found" in lines[6]
    assert "gateway running at http://127.0.0.1:" in lines[7], report
    assert "(hermes-agent 0.19.0)" in lines[7], report
    assert TOKEN not in done.stdout + done.stderr

    profile = tmp_path / "profiles" / "bot"
    config = (profile / "config.yaml").read_text()
    assert "big-70b" in config and "tiny-1b" in config
    assert f"base_url: {router.url}" in config  # host networking: the URL is unchanged
    values = read_env(profile / ".env")
    assert values["TELEGRAM_BOT_TOKEN"] == TOKEN
    assert stat.S_IMODE((profile / ".env").stat().st_mode) == 0o600
    assert values["API_SERVER_ENABLED"] == "true" and values["API_SERVER_PORT"].isdigit()
    # The generated API key: in .env only, shown masked with where it is and how to use it.
    key = values["API_SERVER_KEY"]
    assert len(key) >= 32 and key not in done.stdout + done.stderr
    assert f"API: http://127.0.0.1:{values['API_SERVER_PORT']}/v1" in done.stdout
    assert f"API key: ••••••••{key[-4:]}, in " in done.stdout and "as API_SERVER_KEY" in done.stdout

    state_file = tmp_path / "wizard.toml"
    assert TOKEN not in state_file.read_text() and key not in state_file.read_text()
    state = StateStore(state_file).load().state
    assert state.current_step is StepId.DONE
    assert [state.status(s) for s in StepId] == [
        StepStatus.DONE, StepStatus.DONE, StepStatus.DONE, StepStatus.DONE, StepStatus.DONE,
        StepStatus.SKIPPED, StepStatus.DONE]
    assert state.steps[StepId.MIGRATION].reason == "no OpenClaw setup found"  # as the TUI
    assert state.profile == "bot" and state.channels == ["telegram"]
    assert state.engine_url == cold_engine.docker_host and state.engine_summary
    assert state.image_ref == cold_engine.image and (state.image_digest or "").startswith("sha256:")
    assert state.router_url == router.url
    assert state.synced_models == MODELS and state.default_model == "big-70b"
    assert state.migration is MigrationDecision.SKIPPED

    # docker inspect shows no secret: Hermes reads them from the mounted .env.
    inspected = cold_engine.docker("inspect", container_name("bot"))
    assert TOKEN not in inspected and key not in inspected
    assert f"HERMES_UID={os.getuid()}" in inspected

    doctor = hermes(cold_engine, tmp_path, "doctor", "--router-url", router.url)
    report = f"stdout:\n{doctor.stdout}\nstderr:\n{doctor.stderr}"
    assert doctor.returncode == 0, report
    for name in ("engine", "image", "profile", "owner", "config", "router", "gateway"):
        assert check_line(doctor.stdout, name).startswith("ok"), report
    assert state.image_digest in check_line(doctor.stdout, "image")
    assert "lists 2 model(s)" in check_line(doctor.stdout, "router")
    assert "answers as hermes-agent 0.19.0" in check_line(doctor.stdout, "gateway"), report
    assert "All checks passed." in doctor.stdout

    status = hermes(cold_engine, tmp_path, "status", "--json")
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert data["engine"]["reachable"] is True and data["engine"]["note"] is None
    (bot,) = data["profiles"]
    assert bot["name"] == "bot" and bot["current"] is True
    assert bot["channels"] == ["telegram"]
    assert bot["models"] == MODELS and bot["default_model"] == "big-70b"
    assert bot["router_url"] == router.url
    assert bot["gateway"]["state"] == "running" and bot["gateway"]["health"] == "ok"
    assert bot["gateway"]["version"] == "0.19.0"
    assert bot["gateway"]["engine"] == "this machine" and data["engine"]["remote"] is None
    assert bot["gateway"]["api_port"] == int(values["API_SERVER_PORT"])
    assert TOKEN not in status.stdout and key not in status.stdout


def test_setup_fails_at_step_4_naming_the_missing_credential_and_keeps_steps_1_to_3(
    local_engine: LocalEngine, tmp_path: Path
) -> None:
    done = hermes(local_engine, tmp_path, "setup", "--non-interactive", "--profile", "bot",
                  "--channel", "discord")
    report = f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"

    assert done.returncode == 14, report
    assert "DISCORD_BOT_TOKEN" in done.stderr
    assert done.stderr.startswith("step 4 (Channels) failed: "), report
    state = StateStore(tmp_path / "wizard.toml").load().state
    assert state.current_step is StepId.CHANNELS
    assert [state.status(s) for s in list(StepId)[:4]] == [
        StepStatus.DONE, StepStatus.DONE, StepStatus.DONE, StepStatus.FAILED]
    assert state.steps[StepId.CHANNELS].reason == "missing DISCORD_BOT_TOKEN"
    assert "DISCORD_BOT_TOKEN" not in read_env(tmp_path / "profiles" / "bot" / ".env")


def test_setup_fails_at_step_2_when_the_image_tag_does_not_exist(
    local_engine: LocalEngine, tmp_path: Path
) -> None:
    missing = f"{local_engine.registry}/hermes-test:no-such-tag"
    argv = [sys.executable, "-m", "hermes_tui.cli", "setup", "--non-interactive", "--profile",
            "bot", "--data-dir", str(tmp_path), "--docker-host", local_engine.docker_host,
            "--image", missing]
    done = subprocess.run(argv, env=env(), capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL, cwd=REPO, check=False)

    assert done.returncode == 12, done.stderr
    assert done.stderr.startswith("step 2 (Image pull) failed: "), done.stderr
    assert "manifest unknown" in done.stderr and "\nFix: " in done.stderr
    state = StateStore(tmp_path / "wizard.toml").load().state
    assert state.steps[StepId.PULL].status is StepStatus.FAILED
    assert state.steps[StepId.PULL].reason == "manifest unknown"
    assert state.current_step is StepId.PULL


def test_setup_applies_a_claw_migration_and_skips_the_bridge_without_a_router_url(
    local_engine: LocalEngine, tmp_path: Path, remove_gateway: None
) -> None:
    from tests.support.claw_tree import FAKE_SECRETS, build_claw_tree, fingerprint

    claw = build_claw_tree(tmp_path / "claw" / ".openclaw")
    before = fingerprint(claw)
    data = tmp_path / "data"

    done = hermes(local_engine, data, "setup", "--non-interactive", "--profile", "bot",
                  "--migrate-claw", "apply", "--claw-dir", str(claw), "--health-timeout", "3")
    report = f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"

    assert done.returncode == 0, report
    lines = step_lines(done.stdout)
    assert lines[5].startswith("skip") and "no router URL" in lines[5], report
    assert lines[6].startswith("ok") and "applied:" in lines[6], report
    assert "  migrated  soul" in done.stdout  # the plan is printed before it is applied
    assert fingerprint(claw) == before
    profile = data / "profiles" / "bot"
    assert (profile / "SOUL.md").is_file()
    assert list((profile / "migration" / "openclaw").iterdir())
    state_text = (data / "wizard.toml").read_text()
    for secret in FAKE_SECRETS.values():
        assert secret not in done.stdout + done.stderr + state_text
    state = StateStore(data / "wizard.toml").load().state
    assert state.steps[StepId.BRIDGE].status is StepStatus.SKIPPED
    assert state.steps[StepId.BRIDGE].reason == "no router URL"
    assert state.steps[StepId.MIGRATION].status is StepStatus.DONE
    assert state.migration is MigrationDecision.APPLIED
    assert state.claw_dir == str(claw)


def test_setup_dry_run_prints_the_plan_writes_nothing_and_records_it_as_the_wizard_does(
    local_engine: LocalEngine, tmp_path: Path, remove_gateway: None
) -> None:
    from tests.support.claw_tree import build_claw_tree

    claw = build_claw_tree(tmp_path / "claw" / ".openclaw")
    data = tmp_path / "data"

    done = hermes(local_engine, data, "setup", "--non-interactive", "--profile", "bot",
                  "--migrate-claw", "dry-run", "--claw-dir", str(claw), "--health-timeout", "3")
    report = f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"

    lines = step_lines(done.stdout)
    assert lines[6].startswith("ok") and "dry run:" in lines[6] and "nothing written" in lines[6]
    assert "  migrated  soul" in done.stdout, report
    assert not (data / "profiles" / "bot" / "SOUL.md").exists()
    assert not (data / "profiles" / "bot" / "migration").exists()
    state = StateStore(data / "wizard.toml").load().state
    assert state.steps[StepId.MIGRATION].status is StepStatus.DONE
    assert state.migration is MigrationDecision.DRY_RUN
    assert state.claw_dir is None


def test_setup_skips_migration_the_user_declined_even_when_a_claw_folder_exists(
    local_engine: LocalEngine, tmp_path: Path, remove_gateway: None
) -> None:
    from tests.support.claw_tree import build_claw_tree

    data = tmp_path / "data"
    build_claw_tree(data / "home" / ".openclaw")  # the default place, found by detection

    done = hermes(local_engine, data, "setup", "--non-interactive", "--profile", "bot",
                  "--health-timeout", "3")

    assert "skipped (--migrate-claw no)" in step_lines(done.stdout)[6], done.stdout
    state = StateStore(data / "wizard.toml").load().state
    assert state.steps[StepId.MIGRATION].status is StepStatus.SKIPPED
    assert state.steps[StepId.MIGRATION].reason == "skipped by you"
