"""ssh:// engines against a real OpenSSH server on loopback whose user's `docker` reaches
the session's test dockerd: the runtime check, the pull (and a connection killed in the
middle of it), the gateway and the dashboard, and every diagnosis the issue lists.

The client side is the system `ssh`, given the test's own ssh_config through
HERMES_TUI_SSH_CONFIG (its key, its known_hosts): nothing of root's ~/.ssh is used.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hermes_tui.engine.detect import SOURCE_FLAG, Candidate, Outcome, client, probe
from hermes_tui.engine.pull import LayerState
from hermes_tui.engine.ssh import SSH_CONFIG_ENV, connection_for
from hermes_tui.paths import Paths
from hermes_tui.state import StepId, StepStatus
from hermes_tui.ui.screens.dashboard import DashboardScreen
from hermes_tui.ui.widgets.layer_bars import LayerBars
from tests.engine.test_dashboard import gateway_line, wait_for
from tests.engine.test_engine_screens import make, text
from tests.support import sshd
from tests.support.states import at


@pytest.fixture
def over_ssh(ssh_server, ssh_engine_host, monkeypatch) -> sshd.SshServer:
    """An sshd whose user's docker reaches the session engine; the app trusts its key."""
    server = ssh_server(docker_host=ssh_engine_host)
    monkeypatch.setenv(SSH_CONFIG_ENV, str(server.client_config()))
    return server


def trusting(server: sshd.SshServer, monkeypatch, known_host: str = "ok") -> sshd.SshServer:
    monkeypatch.setenv(SSH_CONFIG_ENV, str(server.client_config(known_host=known_host)))
    return server


async def check(url: str):
    return await probe(Candidate(SOURCE_FLAG, url), timeout=3.0)


def shown(app, selector: str) -> str:
    """The text of ``selector`` on the current screen, "" while it is not made yet."""
    from textual.css.query import NoMatches

    try:
        return text(app, selector)
    except NoMatches:
        return ""


def connections(server: sshd.SshServer) -> int:
    """SSH connections the server holds now (one sshd child per connection)."""
    return len(sshd._children(server.listener_pid))


# --------------------------------------------------------------------------------------------
# Found, over one connection
# --------------------------------------------------------------------------------------------


async def test_engine_over_ssh_is_found_and_every_request_shares_one_connection(over_ssh):
    verdict, info = await check(over_ssh.url)
    assert verdict.outcome is Outcome.OK, verdict.detail
    assert info is not None and info.api_version
    assert info.remote == f"{over_ssh.destination}:{over_ssh.port} over SSH"
    assert info.place.startswith("remote host ")
    docker = client(info)
    try:
        for _ in range(3):  # several requests, several pooled connections: one SSH login
            await docker.images.list()
            await docker.version()
    finally:
        await docker.close()
    assert connections(over_ssh) == 1


async def test_docker_context_with_an_ssh_endpoint_reaches_the_engine(over_ssh, tmp_path):
    from hermes_tui.engine.detect import diagnose
    from tests.unit.test_detect_candidates import write_context

    write_context(tmp_path, "build-server", over_ssh.url)
    found = await diagnose(env={"HOME": str(tmp_path)}, home=tmp_path, timeout=3.0)
    assert found.engine is not None, found.headline
    assert found.engine.source == "Docker context 'build-server'"
    assert found.engine.url == over_ssh.url and "over SSH" in (found.engine.remote or "")


# --------------------------------------------------------------------------------------------
# Diagnoses
# --------------------------------------------------------------------------------------------


async def test_host_that_does_not_answer_is_unreachable(ssh_user, monkeypatch, ssh_server,
                                                        ssh_engine_host):
    server = trusting(ssh_server(docker_host=ssh_engine_host), monkeypatch)
    closed = sshd._free_port()
    verdict, info = await check(f"ssh://{ssh_user.name}@127.0.0.1:{closed}")
    assert info is None and verdict.outcome is Outcome.SSH
    assert "Cannot reach" in verdict.detail and "Connection refused" in verdict.detail
    assert f"ssh -p {closed} {ssh_user.name}@127.0.0.1 true" in verdict.fix
    assert server.port != closed


async def test_unknown_host_key_is_shown_with_its_fingerprint_and_not_accepted(
        ssh_server, ssh_engine_host, monkeypatch):
    server = trusting(ssh_server(docker_host=ssh_engine_host), monkeypatch, "unknown")
    config = Path(server.client_config(known_host="unknown"))
    verdict, info = await check(server.url)
    assert info is None
    assert "is not a known host" in verdict.detail
    assert server.host_key_fingerprint in verdict.detail
    assert "answer yes" in verdict.fix
    # Nothing was written to the known hosts: the key is still unknown.
    known = [line for line in config.read_text().splitlines() if "UserKnownHostsFile" in line]
    assert known and Path(known[0].split()[-1]).read_text().strip() == ""


async def test_changed_host_key_is_refused_with_the_new_fingerprint(
        ssh_server, ssh_engine_host, monkeypatch):
    server = trusting(ssh_server(docker_host=ssh_engine_host), monkeypatch, "changed")
    verdict, info = await check(server.url)
    assert info is None
    assert "CHANGED" in verdict.detail and server.host_key_fingerprint in verdict.detail
    assert f"-R '[127.0.0.1]:{server.port}'" in verdict.fix


async def test_refused_login_says_no_key_is_authorised(ssh_server, ssh_engine_host,
                                                       monkeypatch):
    server = trusting(ssh_server(docker_host=ssh_engine_host, authorized=False), monkeypatch)
    verdict, info = await check(server.url)
    assert info is None and verdict.outcome is Outcome.SSH
    assert "refused the login" in verdict.detail and "publickey" in verdict.detail
    assert "authorized_keys" in verdict.fix


async def test_no_docker_on_the_remote_host(ssh_server, ssh_engine_host, monkeypatch,
                                            visible_dir):
    empty = visible_dir / "bin"  # a PATH without docker (the login shell is absolute)
    empty.mkdir()
    server = trusting(ssh_server(docker_host=ssh_engine_host, path=str(empty)), monkeypatch)
    verdict, info = await check(server.url)
    assert info is None and verdict.outcome is Outcome.MISSING
    assert "has no docker command" in verdict.detail
    assert "Install Docker" in verdict.fix


async def test_remote_daemon_not_running(ssh_server, monkeypatch, visible_dir):
    gone = visible_dir / "gone.sock"  # where the remote user can look: no socket there
    server = trusting(ssh_server(docker_host=f"unix://{gone}"), monkeypatch)
    verdict, info = await check(server.url)
    assert info is None and verdict.outcome is Outcome.REFUSED
    assert "is not running" in verdict.detail and str(gone) in verdict.detail
    assert "systemctl start docker" in verdict.fix


async def test_remote_user_not_allowed_to_use_the_daemon(ssh_server, ssh_user, monkeypatch,
                                                         forbidden_socket):
    server = trusting(ssh_server(docker_host=f"unix://{forbidden_socket}"), monkeypatch)
    verdict, info = await check(server.url)
    assert info is None and verdict.outcome is Outcome.PERMISSION
    assert "may not use its Docker daemon" in verdict.detail
    assert f"usermod -aG docker {ssh_user.name}" in verdict.fix


# --------------------------------------------------------------------------------------------
# The wizard over ssh://: steps 1 and 2, the connection killed mid-pull, step 7, dashboard
# --------------------------------------------------------------------------------------------


@pytest.fixture
def data(tmp_path: Path) -> Paths:
    return Paths(tmp_path / "data")


async def test_runtime_and_pull_over_ssh_survive_a_connection_killed_mid_pull(
        data, cold_engine, throttled_registry, over_ssh):
    image = throttled_registry.repository("1")
    app = make(data, docker_host=over_ssh.url, image=image)
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_for(pilot, lambda: "--docker-host — ok" in shown(app, "#runtime-probes"))
        assert "over SSH" in text(app, "#runtime-engine")
        assert app.state.engine_url == over_ssh.url
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.STEP is StepId.PULL
        bars = app.screen.query_one(LayerBars)
        for _ in range(600):  # the relay is slow: wait until bytes flow
            await pilot.pause(0.05)
            progress = bars.progress
            if progress and any(layer.state is LayerState.DOWNLOADING
                                for layer in progress.layers.values()):
                break
        else:
            pytest.fail("no layer started downloading over ssh://")
        assert over_ssh.kill_connections() >= 1
        await wait_for(pilot, lambda: app.screen.failed)
        problem = text(app, "#pull-problem")
        assert "SSH connection to" in problem and "dropped" in problem, problem
        assert "Press r to retry" in problem
        assert app.state.status(StepId.PULL) is StepStatus.FAILED

        await pilot.press("r")  # connects again; the engine kept what it had
        await wait_for(pilot, lambda: "Pulled" in text(app, "#pull-result")
                       or "up to date" in text(app, "#pull-result"), seconds=120)
        assert app.state.status(StepId.PULL) is StepStatus.DONE
        assert app.state.image_digest


async def test_completion_and_dashboard_over_ssh_reach_a_healthy_gateway_from_a_volume(
        data, pulled, over_ssh):
    from hermes_tui.app import HermesApp
    from hermes_tui.profile import create_profile
    from hermes_tui.settings import Settings
    from hermes_tui.state import StateStore

    create_profile(data, "remote-bot")
    store = StateStore(data.state_file)
    loaded = store.load()
    loaded.state = at(StepId.DONE, profile="remote-bot", image_ref=pulled.image)
    store.save(loaded.state)
    app = HermesApp(Settings(paths=data, docker_host=over_ssh.url, image=pulled.image),
                    store, loaded.state)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.screen.STEP is StepId.DONE
        await pilot.press("g")
        await wait_for(pilot, lambda: "health ok" in str(
            app.screen.query_one("#gateway-state").render()).lower(), seconds=60)
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        await wait_for(pilot, lambda: "running" in gateway_line(app)
                       and "health ok" in gateway_line(app), seconds=60)
        await pilot.press("r")
        await wait_for(pilot, lambda: "running" in gateway_line(app)
                       and "restarts" in gateway_line(app), seconds=60)

    # /health was asked through the SSH connection: a forward to the API port exists.
    api_port = int(_env(data, "remote-bot")["API_SERVER_PORT"])
    assert api_port in connection_for(over_ssh.url).forwards
    # The gateway's home is a volume on the engine, not a folder of this machine.
    mounts = _inspect(pulled, "hermes-remote-bot")["Mounts"]
    assert [m["Type"] for m in mounts] == ["volume"], mounts

    # status and doctor, in their own processes, say the gateway runs on the remote host.
    where = f"remote host {over_ssh.destination}:{over_ssh.port} over SSH"
    status = _cli(data, over_ssh.url, pulled.image, "status", "--json")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    (bot,) = report["profiles"]
    assert bot["gateway"]["state"] == "running" and bot["gateway"]["health"] == "ok"
    assert bot["gateway"]["engine"] == where
    assert report["engine"]["remote"] == where.removeprefix("remote host ")
    doctor = _cli(data, over_ssh.url, pulled.image, "doctor", "--profile", "remote-bot")
    assert f"hermes-remote-bot on {where} running" in doctor.stdout, doctor.stdout


def _cli(data: Paths, url: str, image: str, *args: str):
    import os
    import subprocess
    import sys

    environ = dict(os.environ, HOME=str(data.root / "home"))  # HERMES_TUI_SSH_CONFIG set
    argv = [sys.executable, "-m", "hermes_tui.cli", "--data-dir", str(data.root),
            "--docker-host", url, "--image", image, *args]
    return subprocess.run(argv, env=environ, capture_output=True, text=True, timeout=180,
                          stdin=subprocess.DEVNULL, check=False)


def _env(data: Paths, profile: str) -> dict[str, str]:
    from hermes_tui.envfile import read_env

    return read_env(data.profile_dir(profile) / ".env")


def _inspect(engine, name: str) -> dict:
    status, body = engine.engine_request("GET", f"/containers/{name}/json")
    assert status == 200, body
    return json.loads(body)


async def test_api_port_taken_on_the_remote_host_is_seen_through_the_connection(over_ssh):
    import asyncio
    import socket

    connection = connection_for(over_ssh.url)
    await connection.connect()
    with socket.socket() as held:  # the "remote" host is this one: hold a port there
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        assert not await asyncio.to_thread(connection.port_is_free, port)
    assert await asyncio.to_thread(connection.port_is_free, port)


def test_a_killed_hermes_tui_leaves_no_ssh_connection_behind(over_ssh):
    import os
    import signal
    import subprocess
    import sys
    import time

    script = (
        "import asyncio, sys, time\n"
        "from hermes_tui.engine.ssh import connection_for\n"
        "c = connection_for(sys.argv[1])\n"
        "asyncio.run(c.connect())\n"
        "print(c.master_pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script, over_ssh.url],
                             stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        master = int(child.stdout.readline())
        os.kill(master, 0)  # the master runs
        assert connections(over_ssh) == 1
        child.send_signal(signal.SIGKILL)  # no atexit, no cleanup of any kind
        child.wait(timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(master, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"the ssh master {master} outlived the killed hermes-tui by 30 s")
    finally:
        child.kill()
        child.wait()


def test_real_hermes_over_ssh_runs_from_a_volume_and_chats_through_the_connection(
        over_ssh, local_engine, hermes_image, hermes_router, tmp_path):
    """The oracle over ssh://: ``setup`` starts the image holding the real Hermes from a
    volume; /health answers as hermes-agent and a chat sent through the SSH connection
    reaches the router with the profile's default model."""
    import asyncio
    import os

    from hermes_tui.envfile import read_env
    from tests.support.real_hermes import chat_through_the_gateway, run_setup, setup_env

    data = tmp_path / "data"
    env = setup_env(data / "home")
    env[SSH_CONFIG_ENV] = os.environ[SSH_CONFIG_ENV]
    try:
        done = run_setup(over_ssh.url, hermes_image, data, hermes_router, env=env)
        report = f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
        assert done.returncode == 0, report
        assert "(hermes-agent 0.19.0)" in done.stdout and "over SSH" in done.stdout, report

        values = read_env(data / "profiles" / "bot" / ".env")
        port, key = int(values["API_SERVER_PORT"]), values["API_SERVER_KEY"]
        assert key not in done.stdout + done.stderr
        mounts = _inspect(local_engine, "hermes-bot")["Mounts"]
        assert [(m["Type"], m["Name"]) for m in mounts] == [("volume", "hermes-bot-data")]

        async def forward() -> int:
            return await connection_for(over_ssh.url).forward(port)

        chat_through_the_gateway(asyncio.run(forward()), key, hermes_router)
    finally:
        local_engine.engine_request("DELETE", "/containers/hermes-bot?force=1")
        local_engine.engine_request("DELETE", "/volumes/hermes-bot-data?force=1")
