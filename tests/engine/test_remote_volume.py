"""The gateway on an engine on another machine: the profile in a named volume.

The volume tests run on the session engine (a unix socket) with ``GatewaySpec.volume`` set,
as `ProfileGateway` sets it for a remote engine, and the stand-in Hermes image's default
command (``hermes gateway run``, whose entrypoint gives ``/opt/data`` to HERMES_UID). The
TLS test starts a second private dockerd that also listens on ``tcp://127.0.0.1:<free
port>`` with ``--tlsverify`` on certificates made here with openssl (the session engine
cannot grow a listener without a restart); it pulls the stand-in image from the session
registry, is found through DOCKER_HOST/DOCKER_TLS_VERIFY/DOCKER_CERT_PATH like the docker
CLI finds it, and runs a profile's gateway from a volume.
"""

from __future__ import annotations

import io
import json
import os
import socket
import tarfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiodocker
import pytest

from hermes_tui.engine.api_server import ensure_api_server, probe_health
from hermes_tui.engine.detect import (
    SOURCE_ENV,
    EngineInfo,
    Product,
    candidates,
    client,
    probe,
)
from hermes_tui.engine.gateway import (
    LABEL_APP,
    LABEL_CONFIG,
    LABEL_DATA_DIR,
    LABEL_PROFILE,
    GatewayError,
    GatewaySpec,
    container_config,
    container_name,
    remove_gateway,
    restart_gateway,
    start_gateway,
)
from hermes_tui.engine.launch import ProfileGateway, engine_on_this_host
from hermes_tui.engine.route import (
    LOCAL_ROUTE,
    TcpRoute,
    engine_is_remote,
    route_for,
)
from hermes_tui.engine.volume import Entry, build_tar, is_temp_file, volume_name
from hermes_tui.envfile import read_env
from hermes_tui.paths import Paths
from tests.support.engine import (
    HERMES_DEFAULT_ID,
    EngineError,
    LocalEngine,
    can_run,
    make_tls_material,
)

CONFIG_V1 = "model:\n  default: tiny-1b\n"
CONFIG_V2 = "model:\n  default: tiny-2b\n"
HERMES_MEMORY = "written by Hermes in the volume\n"
LOCAL_MEMORY = "an older local copy\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def engine_info(url: str, product: Product = Product.DOCKER) -> EngineInfo:
    return EngineInfo(product, "20.10", "1.41", "linux", "amd64", url, SOURCE_ENV)


def make_profile(root: Path, name: str) -> Path:
    """A profile as the wizard leaves it, plus what a user and a migration add."""
    folder = root / "profiles" / name
    for sub in ("memories", "sessions", "skills", "logs"):
        (folder / sub).mkdir(parents=True, mode=0o700)
    (folder / ".env").write_text("# notes\nGREETING=hello\n")
    (folder / ".env").chmod(0o600)
    (folder / "config.yaml").write_text(CONFIG_V1)
    (folder / "SOUL.md").write_text("You are helpful.\n")
    (folder / "memories" / "MEMORY.md").write_text(LOCAL_MEMORY)
    # The wizard's own leftovers never reach the volume.
    (folder / ".config.yaml.k2j3.tmp").write_text("half-written")
    (folder / "migration" / "openclaw" / "t1").mkdir(parents=True)
    (folder / "migration" / "openclaw" / "t1" / "report.json").write_text("{}")
    ensure_api_server(folder.parent, name, start=free_port())
    return folder


def volume_spec(folder: Path, image: str, **extra: object) -> GatewaySpec:
    env = read_env(folder / ".env")
    values: dict[str, object] = {
        "profile": folder.name,
        "profile_dir": folder,
        "image": image,
        "api_port": int(env["API_SERVER_PORT"]),
        "host_network": True,
        "uid": os.getuid(),
        "gid": os.getgid(),
        "volume": volume_name(folder.name),
    }
    values.update(extra)
    return GatewaySpec(**values)  # type: ignore[arg-type]


async def volume_file(
    docker: aiodocker.Docker, profile: str, path: str
) -> tuple[tarfile.TarInfo, bytes] | None:
    """A file of the volume as the engine's archive API hands it out (None if absent)."""
    from aiodocker.exceptions import DockerError

    container = docker.containers.container(container_name(profile))
    try:
        archive = await container.get_archive(f"/opt/data/{path}")
    except DockerError as exc:
        if exc.status == 404:
            return None
        raise
    member = archive.getmembers()[0]
    handle = archive.extractfile(member)
    return member, handle.read() if handle else b""


async def write_as_hermes(docker: aiodocker.Docker, profile: str, path: str, text: str) -> None:
    """Write a file inside the running gateway as the image's hermes user, as Hermes does."""
    container = docker.containers.container(container_name(profile))
    execution = await container.exec(
        ["sh", "-c", f"printf '%s' \"$0\" > /opt/data/{path}", text],
        user=f"{HERMES_DEFAULT_ID}:{HERMES_DEFAULT_ID}",
    )
    async with execution.start(detach=False) as stream:
        while await stream.read_out() is not None:
            pass
    assert (await execution.inspect())["ExitCode"] == 0, f"could not write {path} as hermes"


async def remove_all(docker: aiodocker.Docker, profile: str) -> None:
    from aiodocker.exceptions import DockerError

    await remove_gateway(docker, profile)
    try:
        await docker.volumes.get(volume_name(profile))
    except DockerError:
        return
    await (await docker.volumes.get(volume_name(profile))).delete()


def touch_after(path: Path, started: str) -> None:
    """Give ``path`` an mtime one second after the engine's StartedAt (no clock race)."""
    from hermes_tui.engine.gateway import parse_time

    moment = parse_time(started)
    assert moment is not None
    stamp = moment.timestamp() + 1
    os.utime(path, (stamp, stamp))


# --------------------------------------------------------------------------------------------
# Without an engine: the decision, the route and the create body
# --------------------------------------------------------------------------------------------


def test_remote_means_ssh_or_any_tcp_engine_and_ssh_ports_are_not_ours() -> None:
    for url in ("ssh://me@box", "tcp://127.0.0.1:2376", "tcp://10.0.0.5:2376",
                "https://docker.example:2376", "http://localhost:2375"):
        assert engine_is_remote(engine_info(url)), url
    for url in ("unix:///var/run/docker.sock", "container"):
        assert not engine_is_remote(engine_info(url)), url
    assert not engine_is_remote(engine_info("container", Product.APPLE))
    assert not engine_on_this_host(engine_info("ssh://me@127.0.0.1"))
    assert engine_on_this_host(engine_info("tcp://127.0.0.1:2376"))
    assert not engine_on_this_host(engine_info("tcp://10.0.0.5:2376"))


async def test_route_is_loopback_locally_and_the_engine_host_over_tcp() -> None:
    assert route_for(engine_info("unix:///run/docker.sock")) is LOCAL_ROUTE
    assert await LOCAL_ROUTE.address(8642) == ("127.0.0.1", 8642)
    remote = route_for(engine_info("tcp://10.0.0.5:2376"))
    assert isinstance(remote, TcpRoute)
    assert await remote.address(8642) == ("10.0.0.5", 8642)
    assert remote.publish_ip == ""  # reachable from here: every interface of that host
    loop = route_for(engine_info("tcp://127.0.0.1:2376"))
    assert loop.publish_ip == "127.0.0.1"
    six = route_for(engine_info("tcp://[::1]:2376"))
    assert await six.health_url(9) == "http://[::1]:9/health"


def test_volume_mode_mounts_the_volume_as_the_image_user_and_changes_the_digest(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "profiles" / "beta"
    folder.mkdir(parents=True)
    claw = tmp_path / "openclaw"
    env = {"API_SERVER_ENABLED": "true", "API_SERVER_KEY": "k" * 43}
    bind = GatewaySpec("beta", folder, "img", 9001, host_network=False, uid=1234, gid=1234,
                       claw_dir=claw)
    vol = GatewaySpec("beta", folder, "img", 9001, host_network=False, uid=1234, gid=1234,
                      claw_dir=claw, volume="hermes-beta-data", publish_ip="")
    bound, mounted = container_config(bind, env), container_config(vol, env)
    assert bound["HostConfig"]["Binds"] and "Mounts" not in bound["HostConfig"]
    host = mounted["HostConfig"]
    assert "Binds" not in host  # and no Claw mount: that folder is on this machine
    assert host["Mounts"] == [{
        "Type": "volume", "Source": "hermes-beta-data", "Target": "/opt/data",
        "VolumeOptions": {"Labels": {LABEL_APP: "1", LABEL_PROFILE: "beta",
                                     LABEL_DATA_DIR: str(folder.parent)}},
    }]
    assert "HERMES_UID=10000" in mounted["Env"] and "HERMES_GID=10000" in mounted["Env"]
    assert "HERMES_UID=1234" in bound["Env"]
    assert host["PortBindings"] == {"9001/tcp": [{"HostIp": "", "HostPort": "9001"}]}
    assert bound["HostConfig"]["PortBindings"]["9001/tcp"][0]["HostIp"] == "127.0.0.1"
    assert bound["Labels"][LABEL_CONFIG] != mounted["Labels"][LABEL_CONFIG]
    assert "k" * 43 not in json.dumps(mounted)


def test_a_file_gone_since_the_walk_is_skipped_and_an_unreadable_one_named(
    tmp_path: Path,
) -> None:
    (tmp_path / "SOUL.md").write_text("soul\n")
    gone = Entry("gone.md", tmp_path / "gone.md", False)
    body = build_tar([Entry("SOUL.md", tmp_path / "SOUL.md", False), gone])
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        assert tar.getnames() == ["SOUL.md"]
    (tmp_path / "skills").mkdir()  # a file replaced by a folder meanwhile: cannot be read
    with pytest.raises(GatewayError) as caught:
        build_tar([Entry("skills", tmp_path / "skills", False)])
    assert str(tmp_path / "skills") in caught.value.problem.what
    assert "gateway's volume" in caught.value.problem.what


def test_the_wizards_temp_files_are_recognised() -> None:
    assert is_temp_file(".config.yaml.k2j3.tmp") and is_temp_file(".env.new-12-ab12cd34")
    assert not is_temp_file(".env") and not is_temp_file("notes.tmp")


# --------------------------------------------------------------------------------------------
# The volume on the session engine
# --------------------------------------------------------------------------------------------


@pytest.fixture
async def docker(local_engine: LocalEngine) -> AsyncIterator[aiodocker.Docker]:
    local_engine.start_registry()  # an earlier test may have stopped it
    local_engine.start_engine()  # … or killed the engine
    docker = aiodocker.Docker(url=local_engine.docker_host)
    try:
        await docker.images.pull(local_engine.image)
        yield docker
    finally:
        await docker.close()


async def test_gateway_runs_from_a_volume_refreshed_without_overwriting_hermes_files(
    docker: aiodocker.Docker, local_engine: LocalEngine, tmp_path: Path
) -> None:
    folder = make_profile(tmp_path, "vol")
    spec = volume_spec(folder, local_engine.image)
    try:
        first = await start_gateway(docker, spec, read_env(folder / ".env"), health_timeout=20)
        assert first.health == "ok"
        assert (await probe_health(spec.api_port)).ok
        data = await docker.containers.container(container_name("vol")).show()
        assert not data["HostConfig"].get("Binds")
        mounts = data["Mounts"]
        assert [(m["Type"], m["Name"], m["Destination"]) for m in mounts] == [
            ("volume", "hermes-vol-data", "/opt/data")]
        labels = (await (await docker.volumes.get("hermes-vol-data")).show())["Labels"]
        assert labels[LABEL_PROFILE] == "vol" and labels[LABEL_DATA_DIR] == str(folder.parent)

        env_file = await volume_file(docker, "vol", ".env")
        assert env_file is not None
        info, body = env_file
        assert (info.mode & 0o777, info.uid, info.gid) == (0o600, 10000, 10000)
        assert b"GREETING=hello" in body
        config = await volume_file(docker, "vol", "config.yaml")
        assert config is not None and config[1].decode() == CONFIG_V1
        assert config[0].uid == 10000 and config[0].mode & 0o600 == 0o600
        soul = await volume_file(docker, "vol", "SOUL.md")
        assert soul is not None and soul[0].uid == 10000
        for absent in (".config.yaml.k2j3.tmp", "migration"):
            assert await volume_file(docker, "vol", absent) is None, absent

        # Hermes writes its memory; locally the profile still has an older copy, and gains
        # a new skill and a new config.yaml after the gateway started.
        await write_as_hermes(docker, "vol", "memories/MEMORY.md", HERMES_MEMORY)
        (folder / "skills" / "greet").mkdir()
        (folder / "skills" / "greet" / "SKILL.md").write_text("# greet\n")
        (folder / "config.yaml").write_text(CONFIG_V2)
        touch_after(folder / "config.yaml", data["State"]["StartedAt"])

        second = await start_gateway(docker, spec, read_env(folder / ".env"), health_timeout=20,
                                     stop_grace=1)
        assert second.container_id == first.container_id and second.health == "ok"
        assert second.started_at and first.started_at and second.started_at > first.started_at
        config = await volume_file(docker, "vol", "config.yaml")
        assert config is not None and config[1].decode() == CONFIG_V2
        memory = await volume_file(docker, "vol", "memories/MEMORY.md")
        assert memory is not None and memory[1].decode() == HERMES_MEMORY
        skill = await volume_file(docker, "vol", "skills/greet/SKILL.md")
        assert skill is not None and skill[1] == b"# greet\n" and skill[0].uid == 10000

        # The dashboard's restart path refreshes too.
        (folder / "config.yaml").write_text(CONFIG_V1)
        third = await restart_gateway(docker, "vol", grace=1, health_timeout=20,
                                      profile_dir=folder)
        assert third.health == "ok"
        config = await volume_file(docker, "vol", "config.yaml")
        assert config is not None and config[1].decode() == CONFIG_V1
        memory = await volume_file(docker, "vol", "memories/MEMORY.md")
        assert memory is not None and memory[1].decode() == HERMES_MEMORY
    finally:
        await remove_all(docker, "vol")


async def test_a_volume_not_made_by_hermes_tui_is_refused_by_name(
    docker: aiodocker.Docker, local_engine: LocalEngine, tmp_path: Path
) -> None:
    folder = make_profile(tmp_path, "taken")
    spec = volume_spec(folder, local_engine.image)
    await docker.volumes.create({"Name": "hermes-taken-data"})
    try:
        with pytest.raises(GatewayError) as caught:
            await start_gateway(docker, spec, read_env(folder / ".env"), health_timeout=5)
        problem = caught.value.problem
        assert "hermes-taken-data" in problem.what and "not created by hermes-tui" in problem.what
        assert "docker volume rm hermes-taken-data" in problem.fix
        assert await volume_file(docker, "taken", ".env") is None  # no container was made
        await (await docker.volumes.get("hermes-taken-data")).delete()
        await docker.volumes.create({"Name": "hermes-taken-data", "Labels": {
            LABEL_APP: "1", LABEL_PROFILE: "taken", LABEL_DATA_DIR: "/elsewhere/profiles"}})
        with pytest.raises(GatewayError) as caught:
            await start_gateway(docker, spec, read_env(folder / ".env"), health_timeout=5)
        problem = caught.value.problem
        assert "another data dir (/elsewhere/profiles)" in problem.what
        assert "hermes-taken-data" in problem.fix
    finally:
        await remove_all(docker, "taken")


# --------------------------------------------------------------------------------------------
# A TCP+TLS engine on loopback
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_engine(
    local_engine: LocalEngine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LocalEngine, Path]]:
    """A second private dockerd, also on ``tcp://127.0.0.1:<port>`` with --tlsverify; its
    certificates' folder (ca.pem, cert.pem, key.pem for the client)."""
    ok, reason = can_run()
    if not ok:
        pytest.skip(f"no local engine: {reason}")
    material = make_tls_material(tmp_path_factory.mktemp("tls"))
    engine = LocalEngine(build_images=False, tls=material)
    try:
        engine.start()
    except EngineError as error:
        pytest.fail(f"the TLS engine did not start: {error}", pytrace=False)
    print(f"\nTLS engine {engine.tcp_host} started in {engine.start_seconds:.1f} s")
    try:
        yield engine, material.folder
    finally:
        engine.stop()


async def test_tls_tcp_engine_is_found_and_runs_the_gateway_from_a_volume(
    tls_engine: tuple[LocalEngine, Path], local_engine: LocalEngine, tmp_path: Path
) -> None:
    engine, certs = tls_engine
    local_engine.start_registry()  # the TLS engine pulls the stand-in image from it
    env = {"DOCKER_HOST": engine.tcp_host, "DOCKER_TLS_VERIFY": "1",
           "DOCKER_CERT_PATH": str(certs), "HOME": str(tmp_path)}
    found = candidates(env=env)[0]
    assert found.url == engine.tcp_host and found.tls is not None and found.tls.verify
    verdict, info = await probe(found, timeout=10)
    assert verdict.ok and info is not None, verdict.detail
    assert engine_is_remote(info)

    paths = Paths(tmp_path / "data")
    make_profile(paths.root, "far")
    gateway = ProfileGateway(paths, "far", local_engine.image, info)
    docker = client(info)
    try:
        await docker.images.pull(local_engine.image)
        status = await gateway.start(health_timeout=30)
        assert status.health == "ok" and status.running
        data = await docker.containers.container(container_name("far")).show()
        assert not data["HostConfig"].get("Binds")
        assert [(m["Type"], m["Name"]) for m in data["Mounts"]] == [("volume", "hermes-far-data")]
        assert "HERMES_UID=10000" in data["Config"]["Env"]
        env_file = await volume_file(docker, "far", ".env")
        assert env_file is not None and env_file[0].mode & 0o777 == 0o600
        assert (await gateway.status()).health == "ok"
    finally:
        try:
            await remove_all(docker, "far")
        finally:
            await docker.close()
