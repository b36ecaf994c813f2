"""``hermes-tui status`` with many profiles, run as the user runs it (a child process),
against the Engine API double on a unix socket and real ``/health`` servers on loopback:
every profile is listed with its gateway's state, found by one container listing whatever
the number of profiles, the containers inspected concurrently, and a failing inspection
said in the JSON, as before, without a traceback.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from hermes_tui.bridge.sync import write_models
from hermes_tui.engine.gateway import GatewaySpec, container_config, container_name
from hermes_tui.envfile import update_env
from hermes_tui.paths import Paths
from hermes_tui.profile import create_profile
from hermes_tui.state import StateStore
from tests.support.fake_engine import FakeEngine
from tests.unit.conftest import REPO, child_env

PROFILES = [f"p{n:02d}" for n in range(30)]
MODELS = ["llama3.2:3b", "qwen2.5:7b"]
HERMES = {"status": "ok", "platform": "hermes-agent", "version": "0.19.0"}
#: Inspections the double holds until this many are in flight at once.
OVERLAP = 4
OVERLAP_WAIT = 20.0


# --- real /health servers ------------------------------------------------------------------


class _Health(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[Callable[[dict[str, Any]], int]]:
    """Start a loopback server answering ``GET /health`` with a JSON body; its port."""
    servers: list[ThreadingHTTPServer] = []

    def start(body: dict[str, Any]) -> int:
        handler = type("Health", (_Health,), {"body": json.dumps(body).encode()})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return int(server.server_address[1])

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


# --- the Engine API double -----------------------------------------------------------------


@dataclass
class OverlapEngine(FakeEngine):
    """Holds the first inspections until `OVERLAP` of them are in flight at once, so a
    client that inspects one container after the other is caught (`most` says how many
    ever were at once)."""

    most: int = 0
    waited_in_vain: bool = False
    fail_inspect: str | None = None
    _in_flight: int = 0
    _gate: asyncio.Event | None = None

    async def _inspect_container(self, request: web.Request) -> web.Response:
        if self._gate is None:
            self._gate = asyncio.Event()
        self._in_flight += 1
        self.most = max(self.most, self._in_flight)
        if self._in_flight >= OVERLAP:
            self._gate.set()
        try:
            await asyncio.wait_for(self._gate.wait(), OVERLAP_WAIT)
        except TimeoutError:
            self.waited_in_vain = True
            self._gate.set()
        finally:
            self._in_flight -= 1
        if request.match_info["name"] == self.fail_inspect:
            return web.json_response({"message": "engine hiccup"}, status=500)
        return await super()._inspect_container(request)


def container(paths: Paths, profile: str, status: str, *, port: int | None = None,
              exit_code: int = 0, restarts: int = 0) -> dict[str, Any]:
    """``profile``'s gateway container as the launcher labels it (`container_config`), as
    ``GET /containers/{id}/json`` describes it in ``status``."""
    spec = GatewaySpec(profile=profile, profile_dir=paths.profile_dir(profile),
                       image="hermes-test:1", api_port=port or 8642, host_network=True,
                       uid=1000, gid=1000)
    env = {"API_SERVER_ENABLED": "true"} if port else {}
    labels = container_config(spec, env)["Labels"]
    restarting = status == "restarting"
    return {
        "Id": f"{paths.root.name}-{profile}".ljust(64, "0"),
        "Name": f"/{container_name(profile)}",
        "RestartCount": restarts,
        "State": {"Status": "running" if restarting else status,
                  "Running": status in ("running", "restarting"), "Restarting": restarting,
                  "ExitCode": exit_code, "StartedAt": "2026-11-27T09:00:00.000000000Z"},
        "Config": {"Labels": labels},
    }


def make_profiles(paths: Paths) -> None:
    """`PROFILES` with the real writers: models in some, a Telegram token in others."""
    for index, name in enumerate(PROFILES):
        create_profile(paths, name)
        if index % 3 == 0:
            write_models(paths.profile_dir(name) / "config.yaml",
                         base_url="http://127.0.0.1:11434/v1", models=MODELS,
                         default=MODELS[index % 2], api_key_ref=None)
        if index % 2:
            update_env(paths.profile_dir(name) / ".env",
                       {"TELEGRAM_BOT_TOKEN": f"{index}:not-a-real-token"})
    store = StateStore(paths.state_file)
    state = store.new_state()
    state.profile, state.channels = "p00", ["discord"]
    store.save(state)


def scene(paths: Paths, other: Paths, healthy: int, impostor: int) -> tuple[
        list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The containers on the engine, and the gateway JSON each profile should get."""
    containers: list[dict[str, Any]] = []
    expected: dict[str, dict[str, Any]] = {}

    def gateway(state: str, *, exit_code: int | None = None, health: str | None = None,
                port: int | None = None, restarts: int = 0,
                version: str | None = None) -> dict[str, Any]:
        return {"state": state, "exit_code": exit_code, "health": health, "api_port": port,
                "restart_count": restarts, "version": version, "engine": "this machine"}

    for name in PROFILES[:10]:
        containers.append(container(paths, name, "running", port=healthy))
        expected[name] = gateway("running", health="ok", port=healthy, version="0.19.0")
    for name in PROFILES[10:14]:  # API server off: nothing to ask
        containers.append(container(paths, name, "running", restarts=2))
        expected[name] = gateway("running", restarts=2)
    for name in PROFILES[14:18]:
        containers.append(container(paths, name, "exited", port=healthy, exit_code=3))
        expected[name] = gateway("exited", exit_code=3, port=healthy)
    for name in PROFILES[18:20]:
        containers.append(container(paths, name, "restarting", exit_code=1, restarts=5))
        expected[name] = gateway("restarting", exit_code=1, restarts=5)
    containers.append(container(paths, "p20", "running", port=impostor))
    expected["p20"] = gateway("running", health="failing", port=impostor)
    containers.append(container(paths, "p21", "created"))
    expected["p21"] = gateway("created")
    for name in PROFILES[22:]:
        expected[name] = gateway("missing")
    # Another data dir's gateway of a same-named profile, and a container not ours.
    containers.append(container(other, "p22", "running", port=healthy))
    stranger = container(other, "stranger", "running")
    stranger["Config"]["Labels"] = {"maintainer": "someone"}
    containers.append(stranger)
    return containers, expected


def status(data: Path, engine: FakeEngine, *args: str) -> subprocess.CompletedProcess[str]:
    env = child_env()
    for key in ("DOCKER_HOST", "DOCKER_CONTEXT", "NO_COLOR", "TERM"):
        env.pop(key, None)
    argv = [sys.executable, "-m", "hermes_tui.cli", "status", *args, "--data-dir", str(data),
            "--docker-host", engine.url]
    return subprocess.run(argv, env=env, cwd=REPO, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL, check=False)


@pytest.fixture
def many(tmp_path: Path, socket_dir: Path,
         health_server: Callable[[dict[str, Any]], int]) -> Iterator[
             tuple[Paths, OverlapEngine, dict[str, dict[str, Any]]]]:
    paths, other = Paths.resolve(tmp_path / "data"), Paths.resolve(tmp_path / "other")
    make_profiles(paths)
    healthy = health_server(HERMES)
    impostor = health_server({"status": "ok", "platform": "some-other-server"})
    containers, expected = scene(paths, other, healthy, impostor)
    engine = OverlapEngine(socket_dir / "docker.sock", containers=containers).start()
    try:
        yield paths, engine, expected
    finally:
        engine.stop()


def test_status_lists_every_profile_with_its_gateway_from_one_container_listing(many):
    paths, engine, expected = many

    done = status(paths.root, engine, "--json")

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    data = json.loads(done.stdout)
    assert data["engine"]["reachable"] is True and data["engine"]["note"] is None
    assert [p["name"] for p in data["profiles"]] == PROFILES
    assert {p["name"]: p["gateway"] for p in data["profiles"]} == expected
    by_name = {p["name"]: p for p in data["profiles"]}
    assert by_name["p00"]["current"] and by_name["p00"]["channels"] == ["discord"]
    assert by_name["p03"]["models"] == MODELS and by_name["p03"]["default_model"] == MODELS[1]
    assert by_name["p03"]["channels"] == ["telegram"] and by_name["p04"]["channels"] == []
    assert all(p["error"] is None for p in data["profiles"])
    assert "not-a-real-token" not in done.stdout

    # One listing for all 30 profiles; each of this data dir's 22 gateways inspected once
    # by id; never a lookup by name per profile, nor another data dir's gateway inspected.
    containers = [r for r in engine.requests if r.startswith("GET /containers/")]
    assert containers.count("GET /containers/json") == 1
    ours = {c["Id"] for c in engine.containers if c["Id"].startswith("data-")}
    inspected = [r.removeprefix("GET /containers/").removesuffix("/json")
                 for r in containers if r != "GET /containers/json"]
    assert sorted(inspected) == sorted(ours) and len(ours) == 22
    assert not engine.waited_in_vain, (
        f"the inspections went one after the other: at most {engine.most} in flight, "
        f"{OVERLAP} awaited for {OVERLAP_WAIT:g} s")


def test_status_text_shows_every_profiles_gateway(many):
    paths, engine, _expected = many

    done = status(paths.root, engine)

    assert done.returncode == 0, done.stderr
    out = done.stdout
    for name in PROFILES:
        assert f"\n{name}" in out
    assert out.count("Gateway   running, health ok (Hermes 0.19.0), port") == 10
    assert out.count("Gateway   exited with code 3, port") == 4
    assert out.count("Gateway   restarting, 5 restart(s)") == 2
    assert out.count("Gateway   not created") == 8


def test_a_failing_inspection_leaves_every_gateway_unknown_and_says_why(many):
    paths, engine, _expected = many
    engine.fail_inspect = engine.containers[5]["Id"]

    done = status(paths.root, engine, "--json")

    assert done.returncode == 0, done.stderr
    assert done.stderr == "", "no traceback, no task left behind"
    data = json.loads(done.stdout)
    note = data["engine"]["note"]
    assert note.startswith("gateway state unknown: the engine failed to list containers")
    assert "engine hiccup" in note
    assert {p["gateway"]["state"] for p in data["profiles"]} == {"unknown"}
    assert len(data["profiles"]) == len(PROFILES)
