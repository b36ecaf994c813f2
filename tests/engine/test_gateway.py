"""The gateway container against a real dockerd (see tests/support/engine.py).

The test image is busybox, not Hermes: its command stands in for ``gateway run`` by
serving Hermes's ``/health`` JSON with busybox httpd on ``API_SERVER_HOST:API_SERVER_PORT``
on the host's network, which is what the engine here allows (``--bridge=none``).
Every container a test creates is removed in ``finally``.
"""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import replace
from pathlib import Path

import aiodocker
import pytest

from hermes_tui.engine.api_server import ensure_api_server, port_is_free, probe_health
from hermes_tui.engine.gateway import (
    LABEL_API_PORT,
    LABEL_APP,
    LABEL_DATA_DIR,
    LABEL_PROFILE,
    GatewayError,
    GatewayEvent,
    GatewaySpec,
    container_name,
    engine_ports,
    find_gateways,
    follow_logs,
    gateway_status,
    log_tail,
    remove_gateway,
    restart_gateway,
    start_gateway,
    stop_gateway,
    watch_events,
)
from hermes_tui.envfile import read_env
from tests.support.engine import LocalEngine

SERVE_HEALTH = (
    "sh",
    "-c",
    (
        "busybox mkdir -p /tmp/w && echo '{\"status\": \"ok\", \"platform\": \"hermes-agent\","
        " \"version\": \"0.19.0\"}' > /tmp/w/health && echo serving on $API_SERVER_PORT"
        " && exec httpd -f -p $API_SERVER_HOST:$API_SERVER_PORT -h /tmp/w"
    ),
)
TRICKY = 'a "quoted" value with spaces, $HOME and a \\ backslash'


@pytest.fixture
def docker(docker_with_image: aiodocker.Docker) -> aiodocker.Docker:
    return docker_with_image


def free_start() -> int:
    """A high port that is free now: the first port `ensure_api_server` tries."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def make_profile(tmp_path: Path, name: str) -> Path:
    root = tmp_path / "profiles"
    folder = root / name
    folder.mkdir(parents=True)
    (folder / ".env").write_text(f"# user's notes\nGREETING='{TRICKY}'\n")
    return folder


def make_spec(
    local_engine: LocalEngine, folder: Path, *, start: int | None = None, **overrides: object
) -> tuple[GatewaySpec, dict[str, str]]:
    api = ensure_api_server(folder.parent, folder.name, start=start or free_start())
    values: dict[str, object] = {
        "profile": folder.name,
        "profile_dir": folder,
        "image": local_engine.image,
        "api_port": api.port,
        "host_network": True,
        "uid": 0,
        "gid": 0,
        "command": SERVE_HEALTH,
    }
    values.update(overrides)
    return GatewaySpec(**values), read_env(folder / ".env")  # type: ignore[arg-type]


async def run(container: aiodocker.containers.DockerContainer, *argv: str) -> str:
    """Run ``argv`` in the container; its stdout."""
    execution = await container.exec(list(argv))
    output = b""
    async with execution.start(detach=False) as stream:
        while (message := await stream.read_out()) is not None:
            output += message.data
    return output.decode()


async def cleanup(docker: aiodocker.Docker, *profiles: str) -> None:
    for profile in profiles:
        await remove_gateway(docker, profile)


async def test_gateway_starts_with_profile_env_labels_mounts_and_health(
    docker: aiodocker.Docker, local_engine: LocalEngine, tmp_path: Path
) -> None:
    folder = make_profile(tmp_path, "alpha")
    claw = tmp_path / "openclaw"
    claw.mkdir()
    (claw / "openclaw.json").write_text("{}")
    spec, env = make_spec(local_engine, folder, claw_dir=claw)
    assert env["GREETING"] == TRICKY
    began = time.monotonic()
    try:
        status = await start_gateway(docker, spec, env, health_timeout=15)
        print(f"start → healthy in {time.monotonic() - began:.2f} s")
        assert status.state == "running" and status.health == "ok"
        assert status.api_port == spec.api_port and status.container_id
        assert status.version == "0.19.0"
        assert (await probe_health(spec.api_port)).ok

        container = await docker.containers.get(container_name("alpha"))
        data = await container.show()
        assert data["Name"] == "/hermes-alpha"
        labels = data["Config"]["Labels"]
        assert labels[LABEL_APP] == "1" and labels[LABEL_PROFILE] == "alpha"
        assert labels[LABEL_API_PORT] == str(spec.api_port)
        assert labels[LABEL_DATA_DIR] == str(folder.parent)
        # docker inspect shows no value of the profile's .env: Hermes reads the file.
        secret = env["API_SERVER_KEY"]
        assert secret not in str(data) and TRICKY not in str(data)
        host = data["HostConfig"]
        assert host["RestartPolicy"]["Name"] == "unless-stopped"
        assert host["NetworkMode"] == "host"
        mounts = {m["Destination"]: m for m in data["Mounts"]}
        assert mounts["/opt/data"]["Source"] == str(folder) and mounts["/opt/data"]["RW"]
        assert mounts["/opt/openclaw"]["Source"] == str(claw)
        assert mounts["/opt/openclaw"]["RW"] is False

        # The process gets our settings only; the .env it reads from the mount.
        seen = dict(
            line.split("=", 1) for line in (await run(container, "env")).splitlines() if "=" in line
        )
        assert "GREETING" not in seen and "API_SERVER_KEY" not in seen
        assert "GREETING=" in await run(container, "cat", "/opt/data/.env")
        assert seen["HERMES_HOME"] == "/opt/data"
        assert seen["API_SERVER_HOST"] == "127.0.0.1"
        assert seen["API_SERVER_PORT"] == str(spec.api_port)
        # A router URL naming host.docker.internal works under host networking too.
        hosts = await run(container, "cat", "/etc/hosts")
        mapping = ["127.0.0.1", "host.docker.internal"]
        assert any(line.split() == mapping for line in hosts.splitlines())

        # The profile folder is the container's Hermes home, the Claw folder read-only.
        check = await container.exec(
            ["sh", "-c", "cat /opt/data/.env >/dev/null && echo x > /opt/openclaw/new"]
        )
        async with check.start(detach=False) as stream:
            while await stream.read_out() is not None:
                pass
        assert (await check.inspect())["ExitCode"] != 0
        assert not (claw / "new").exists()
        assert "serving on" in "\n".join(await log_tail(docker, "alpha"))
    finally:
        await cleanup(docker, "alpha")
    assert (await gateway_status(docker, "alpha")).state == "missing"


async def test_identical_spec_reuses_the_container_a_changed_env_restarts_it(
    docker: aiodocker.Docker, local_engine: LocalEngine, tmp_path: Path
) -> None:
    folder = make_profile(tmp_path, "reuse")
    spec, env = make_spec(local_engine, folder)
    try:
        first = await start_gateway(docker, spec, env, health_timeout=15)
        again = await start_gateway(docker, spec, env, health_timeout=15)
        assert again.container_id == first.container_id
        assert again.started_at == first.started_at  # not restarted: nothing changed
        # A token written after the start: same container, restarted so Hermes reads it.
        # busybox httpd as PID 1 ignores SIGTERM: without a short grace each swap takes 10 s.
        env_path = folder / ".env"
        env_path.write_text(env_path.read_text() + "TELEGRAM_BOT_TOKEN=new\n")
        changed = await start_gateway(docker, spec, env, health_timeout=15, stop_grace=1)
        assert changed.container_id == first.container_id and changed.health == "ok"
        assert changed.started_at is not None and first.started_at is not None
        assert changed.started_at > first.started_at
        await docker.images.pull(local_engine.image2)
        other_image = await start_gateway(
            docker, replace(spec, image=local_engine.image2), env, health_timeout=15, stop_grace=1
        )
        assert other_image.container_id != changed.container_id
    finally:
        await cleanup(docker, "reuse")


async def test_stop_restart_and_found_again_by_a_fresh_client_with_events(
    docker: aiodocker.Docker, local_engine: LocalEngine, tmp_path: Path
) -> None:
    folder = make_profile(tmp_path, "cycle")
    spec, env = make_spec(local_engine, folder)
    seen: list[GatewayEvent] = []
    wanted = {"start", "stop", "restart"}

    async def collect() -> None:
        async for event in watch_events(docker, "cycle"):
            seen.append(event)
            if wanted <= {e.action for e in seen}:
                return

    watcher = asyncio.create_task(collect())
    try:
        running = await start_gateway(docker, spec, env, health_timeout=15)
        assert running.running

        stopped = await stop_gateway(docker, "cycle", grace=2)
        assert stopped.state == "exited" and stopped.health is None
        assert not (await probe_health(spec.api_port, timeout=0.5)).ok

        restarted = await restart_gateway(docker, "cycle", grace=2, health_timeout=15)
        assert restarted.running and restarted.health == "ok"
        assert restarted.container_id == running.container_id

        # "The app restarts": a brand-new client finds the gateway by its labels.
        fresh = aiodocker.Docker(url=local_engine.docker_host)
        try:
            found = await find_gateways(fresh)
            assert found["cycle"].running and found["cycle"].health == "ok"
            assert found["cycle"].container_id == running.container_id
            assert found["cycle"].uptime() is not None
        finally:
            await fresh.close()

        await asyncio.wait_for(watcher, timeout=10)
        actions = [e.action for e in seen]
        print("events:", actions)
        assert actions.index("start") < actions.index("stop")
        assert all(e.profile == "cycle" for e in seen)
        die = next(e for e in seen if e.action == "die")
        assert die.exit_code is not None and die.container_id == running.container_id
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
        await cleanup(docker, "cycle")


async def test_container_that_exits_at_once_reports_exit_code_and_log(
    docker: aiodocker.Docker, local_engine: LocalEngine, tmp_path: Path
) -> None:
    folder = make_profile(tmp_path, "crash")
    spec, env = make_spec(
        local_engine, folder, command=("sh", "-c", "echo starting; echo boom >&2; exit 3")
    )
    began = time.monotonic()
    try:
        with pytest.raises(GatewayError) as caught:
            await start_gateway(docker, spec, env, health_timeout=15)
        print(f"crash reported in {time.monotonic() - began:.2f} s")
        error = caught.value
        assert error.exit_code == 3
        assert "exited with code 3" in str(error)
        assert any("boom" in line for line in error.log_tail)
        assert error.fix
        # Stopped, not left crash-looping under its restart policy.
        status = await gateway_status(docker, "crash")
        assert status.state == "exited" and status.exit_code == 3
        assert status.summary == "exited with code 3"
    finally:
        await cleanup(docker, "crash")


async def test_health_that_never_answers_is_reported_with_the_log(
    docker: aiodocker.Docker, local_engine: LocalEngine, tmp_path: Path
) -> None:
    folder = make_profile(tmp_path, "silent")
    spec, env = make_spec(
        local_engine, folder, command=("sh", "-c", "echo no server here; exec sleep 60")
    )
    try:
        with pytest.raises(GatewayError) as caught:
            await start_gateway(docker, spec, env, health_timeout=1.5)
        assert caught.value.exit_code is None
        assert "/health" in str(caught.value)
        assert caught.value.log_tail[-1] == "no server here"
        status = await gateway_status(docker, "silent")
        assert status.running and status.health == "failing"
    finally:
        await cleanup(docker, "silent")


async def test_follow_logs_yields_lines_as_they_come(
    docker: aiodocker.Docker, local_engine: LocalEngine, tmp_path: Path
) -> None:
    folder = make_profile(tmp_path, "chatty")
    env_path = folder / ".env"
    env_path.write_text(env_path.read_text() + "API_SERVER_ENABLED=false\n")
    spec, env = make_spec(
        local_engine,
        folder,
        command=("sh", "-c", "for i in 1 2 3 4 5 6; do echo line $i; sleep 0.2; done; sleep 60"),
    )
    # ensure_api_server turned the API server on; this test wants it off.
    env["API_SERVER_ENABLED"] = "false"
    try:
        status = await start_gateway(docker, spec, env, settle=0.3)
        assert status.running and status.health is None and status.api_port is None
        lines: list[str] = []
        async with asyncio.timeout(10):
            async for line in follow_logs(docker, "chatty"):
                lines.append(line)
                if line == "line 6":
                    break
        # The image's start-up lines (its user remap) come first, then the command's.
        assert [line for line in lines if line.startswith("line ")] == [
            f"line {i}" for i in range(1, 7)]
    finally:
        await cleanup(docker, "chatty")


async def test_two_profiles_run_side_by_side_on_their_own_ports(
    docker: aiodocker.Docker, local_engine: LocalEngine, tmp_path: Path
) -> None:
    start = free_start()
    one = make_profile(tmp_path, "one")
    two = make_profile(tmp_path, "two")
    try:
        spec_one, env_one = make_spec(local_engine, one, start=start)
        await start_gateway(docker, spec_one, env_one, health_timeout=15)
        # "two" must not get the port "one" records, nor one that is busy now.
        spec_two, env_two = make_spec(local_engine, two, start=start)
        assert spec_two.api_port != spec_one.api_port
        await start_gateway(docker, spec_two, env_two, health_timeout=15)
        found = await find_gateways(docker)
        assert {found["one"].api_port, found["two"].api_port} == {
            spec_one.api_port,
            spec_two.api_port,
        }
        assert found["one"].health == found["two"].health == "ok"
    finally:
        await cleanup(docker, "one", "two")
    assert port_is_free(spec_one.api_port)


async def test_missing_image_and_foreign_container_are_explained(
    docker: aiodocker.Docker, local_engine: LocalEngine, tmp_path: Path
) -> None:
    folder = make_profile(tmp_path, "odd")
    spec, env = make_spec(local_engine, folder)
    with pytest.raises(GatewayError) as caught:
        await start_gateway(docker, replace(spec, image=f"{local_engine.registry}/nope:1"), env)
    assert "not on the engine" in str(caught.value) and "Pull" in caught.value.fix

    foreign = await docker.containers.create(
        {"Image": local_engine.image, "Cmd": ["true"]}, name=container_name("odd")
    )
    try:
        with pytest.raises(GatewayError) as caught:
            await start_gateway(docker, spec, env)
        assert "not created by hermes-tui" in str(caught.value)
        assert (await gateway_status(docker, "odd")).state == "missing"
    finally:
        await foreign.delete(force=True)


async def test_two_data_dirs_on_one_engine_get_two_ports_and_names_do_not_collide(
    docker: aiodocker.Docker, local_engine: LocalEngine, tmp_path: Path
) -> None:
    """Another data dir's gateway holds its port on the engine even where this data dir's
    profiles know nothing of it; the same profile name in both is refused, not replaced."""
    from hermes_tui.engine.detect import diagnose
    from hermes_tui.engine.launch import ProfileGateway
    from hermes_tui.paths import Paths

    engine = (await diagnose(local_engine.docker_host)).engine
    assert engine is not None
    first_dir, second_dir = Paths(tmp_path / "one"), Paths(tmp_path / "two")
    start = free_start()
    for paths in (first_dir, second_dir):
        folder = paths.profile_dir("shared")
        folder.mkdir(parents=True)
        # Both start from Hermes's default-like port: the same number in both .env files.
        (folder / ".env").write_text(f"API_SERVER_PORT={start}\n")
    first = ProfileGateway(first_dir, "shared", local_engine.image, engine,
                           command=SERVE_HEALTH)
    try:
        status = await first.start(health_timeout=15)
        assert status.api_port == start and status.health == "ok"
        held = await engine_ports(docker)
        assert str(first_dir.profiles) in held[start]

        second = ProfileGateway(second_dir, "shared", local_engine.image, engine,
                                command=SERVE_HEALTH)
        with pytest.raises(GatewayError) as caught:
            await second.start(health_timeout=15)
        assert "another data dir" in caught.value.message
        assert str(first_dir.profiles) in caught.value.message
        # The port was chosen before the name clash: not the one the other holds.
        assert read_env(second_dir.profile_dir("shared") / ".env")["API_SERVER_PORT"] != str(start)
        still = await gateway_status(docker, "shared")
        assert still.running and still.data_dir == str(first_dir.profiles)
        # Seen from the second data dir, that gateway is not its profile's.
        theirs = await gateway_status(docker, "shared", data_dir=second_dir.profiles)
        assert theirs.state == "missing"
        found = await find_gateways(docker, data_dir=second_dir.profiles)
        assert "shared" not in found

        other = ProfileGateway(second_dir, "other", local_engine.image, engine,
                               command=SERVE_HEALTH)
        second_dir.profile_dir("other").mkdir()
        (second_dir.profile_dir("other") / ".env").write_text(f"API_SERVER_PORT={start}\n")
        running = await other.start(health_timeout=15)
        assert running.health == "ok" and running.api_port != start
    finally:
        await cleanup(docker, "shared", "other")
