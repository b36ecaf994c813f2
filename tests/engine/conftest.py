"""Fixtures for tests that need a real Docker engine and registry.

`local_engine` (session scope) starts one private dockerd plus a loopback
registry holding ``hermes-test:1`` and ``:2`` (see `tests.support.engine`).
Where that is impossible (not root, packages missing) the tests are skipped,
except under ``CI=true``, where a skip would hide missing coverage: there they
fail.  `cold_engine` hands out the same engine with no local containers or
images, so the first pull in a test is always a cold one. `hermes_image` (session scope)
adds an image with the real Hermes to the same registry (see `tests.support.hermes_image`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.support.engine import EngineError, LocalEngine, can_run
from tests.support.hermes import HermesVenv

if TYPE_CHECKING:
    from tests.support.openai_router import OpenAIRouter


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


@pytest.fixture(scope="session")
def local_engine() -> Iterator[LocalEngine]:
    """A running engine + registry for the whole session, stopped at its end."""
    ok, reason = can_run()
    if not ok:
        if _in_ci():
            pytest.fail(f"CI=true but the local engine cannot run: {reason}", pytrace=False)
        pytest.skip(f"no local engine: {reason}")
    engine = LocalEngine()
    failure = ""
    try:
        engine.start()  # stops (and cleans up) by itself when it fails
    except EngineError as error:
        failure = str(error)
    if failure:
        pytest.fail(f"the local engine did not start: {failure}", pytrace=False)
    try:
        yield engine
    finally:
        engine.stop()


@pytest.fixture(scope="session")
def hermes_image(local_engine: LocalEngine, hermes_venv: HermesVenv) -> str:
    """The real Hermes (the cached `hermes_venv`) as an image in the session registry:
    ``<registry>/hermes-real:0.19.0``, not present in the engine (the first use pulls it).

    Built once per session (~1 min: import ~16 s, push ~23 s; see
    `tests.support.hermes_image`). A build failure fails the tests that need it.
    """
    from tests.support.hermes_image import publish_hermes_image

    try:
        image = publish_hermes_image(local_engine, hermes_venv)
    except EngineError as error:
        pytest.fail(f"the real Hermes image could not be built: {error}", pytrace=False)
    print(
        f"\n{image.ref}: {image.bytes / 1e6:.0f} MB in {image.files} files, import "
        f"{image.import_seconds:.1f} s, push {image.push_seconds:.1f} s"
    )
    return image.ref


@pytest.fixture
def cold_engine(local_engine: LocalEngine) -> LocalEngine:
    """The session engine with every local container and image removed."""
    local_engine.start_registry()  # an earlier test may have stopped it
    local_engine.start_engine()  # … or killed the engine
    local_engine.remove_local_images()
    return local_engine


@pytest.fixture
async def docker_with_image(local_engine: LocalEngine):
    """A client straight to the session engine, the test image already pulled."""
    import aiodocker

    client = aiodocker.Docker(url=local_engine.docker_host)
    try:
        await client.images.pull(local_engine.image)  # no-op when already present
        yield client
    finally:
        await client.close()


@pytest.fixture
async def pulled(local_engine: LocalEngine):
    """The session engine with the test image pulled; every gateway container and volume
    the test made (any profile, any data dir) is removed after it."""
    import json

    import aiodocker

    from hermes_tui.engine.gateway import LABEL_APP

    docker = aiodocker.Docker(url=local_engine.docker_host)
    try:
        await docker.images.pull(local_engine.image)
        yield local_engine
        made = await docker.containers.list(
            all=True, filters=json.dumps({"label": [f"{LABEL_APP}=1"]}))
        for container in made:
            await container.delete(force=True)
        # A gateway on a remote-mode engine keeps its profile in a labelled volume.
        volumes = await docker.volumes.list(filters={"label": [f"{LABEL_APP}=1"]})
        for volume in volumes.get("Volumes") or []:
            await (await docker.volumes.get(volume["Name"])).delete()
    finally:
        await docker.close()


# --------------------------------------------------------------------------- #
# A throttled way to the registry, for tests that act *during* a pull
# --------------------------------------------------------------------------- #
# On loopback a pull of the test image takes ~0.5 s, too short to stop the
# registry or kill the engine while a layer is still downloading. dockerd talks
# to this relay instead (any 127.0.0.0/8 port is an insecure registry for it);
# the relay forwards to the real registry and lets registry→engine bytes through
# at a fixed rate per connection, so every 4 MiB layer downloads for seconds.

import asyncio
import threading

#: Registry→engine bytes per second, per connection: a 4 MiB layer takes ~4 s.
THROTTLE_RATE = 1024 * 1024


class ThrottledRegistry:
    """A TCP relay on 127.0.0.1 in front of the harness registry, slowed down.

    It runs its own event loop in a thread, so a busy test loop does not change
    its pace. `stop()` closes the listening socket *and* every relayed
    connection: together with `LocalEngine.stop_registry()` the engine sees what
    it sees when a registry host goes away (the transfer breaks, new
    connections are refused).
    """

    def __init__(self, upstream: str, rate: int = THROTTLE_RATE) -> None:
        self._upstream_host, _, port = upstream.rpartition(":")
        self._upstream_port = int(port)
        self._rate = rate
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def repository(self, tag: str) -> str:
        """The test image ``hermes-test:<tag>`` as the engine sees it through the relay."""
        return f"{self.address}/hermes-test:{tag}"

    def start(self) -> ThrottledRegistry:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._relay, "127.0.0.1", 0), self._loop
        ).result(timeout=10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        """Stop listening and cut every relayed connection (idempotent)."""
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        # Let the aborts close their sockets and the relay tasks end.
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        if tasks:
            await asyncio.wait(tasks, timeout=5)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection(
                self._upstream_host, self._upstream_port
            )
        except OSError:
            self._writers.discard(writer)
            writer.transport.abort()  # the registry is down: so are we
            return
        self._writers.add(up_writer)
        try:
            await asyncio.gather(
                self._pump(reader, up_writer, rate=None),
                self._pump(up_reader, writer, rate=self._rate),
            )
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            for end in (writer, up_writer):
                self._writers.discard(end)
                end.transport.abort()

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, rate: int | None
    ) -> None:
        chunk = 64 * 1024 if rate is None else max(1024, rate // 20)
        loop = asyncio.get_running_loop()
        began, sent = loop.time(), 0
        while data := await reader.read(chunk):
            writer.write(data)
            await writer.drain()
            if rate is not None:
                sent += len(data)
                ahead = sent / rate - (loop.time() - began)
                if ahead > 0:
                    await asyncio.sleep(ahead)
        if writer.can_write_eof():
            writer.write_eof()


@pytest.fixture
def throttled_registry(local_engine: LocalEngine) -> Iterator[ThrottledRegistry]:
    """A slowed-down relay to the session registry, stopped after the test."""
    relay = ThrottledRegistry(local_engine.registry).start()
    try:
        yield relay
    finally:
        relay.stop()


# --------------------------------------------------------------------------- #
# A real OpenSSH server, for ssh:// engines
# --------------------------------------------------------------------------- #
# `ssh_user` is one throw-away local account for the session (deleted at its end);
# `ssh_server(**kw)` starts Debian's sshd for it (see `tests.support.sshd.SshServer`
# for the keywords) and stops it after the test; `ssh_engine_host` lets that user's
# remote `docker` use the session engine; `forbidden_socket` is a daemon socket the
# user may not use.

from collections.abc import Callable
from pathlib import Path

from tests.support import sshd


def _require_sshd() -> None:
    ok, reason = sshd.can_run()
    if not ok:
        if _in_ci():
            pytest.fail(f"CI=true but the test sshd cannot run: {reason}", pytrace=False)
        pytest.skip(f"no test sshd: {reason}")


@pytest.fixture(scope="session")
def ssh_user() -> Iterator[sshd.TestUser]:
    """A real local user with an ed25519 key, for the whole session."""
    _require_sshd()
    failure = ""
    user = sshd.TestUser()
    try:
        user.create()  # deletes what it made when it fails
    except sshd.SshdError as error:
        failure = str(error)
    if failure:
        pytest.fail(f"the test user could not be made: {failure}", pytrace=False)
    try:
        yield user
    finally:
        user.delete()


@pytest.fixture
def ssh_server(ssh_user: sshd.TestUser) -> Iterator[Callable[..., sshd.SshServer]]:
    """``ssh_server(docker_host=…, path=…, authorized=…)`` → a started `SshServer`
    for `ssh_user`; every server it started is stopped after the test."""
    started: list[sshd.SshServer] = []

    def start(**options: object) -> sshd.SshServer:
        server = sshd.SshServer(ssh_user, **options)  # type: ignore[arg-type]
        started.append(server)
        try:
            return server.start()
        except sshd.SshdError as error:
            pytest.fail(f"the test sshd did not start: {error}", pytrace=False)

    try:
        yield start
    finally:
        for server in reversed(started):
            server.stop()


@pytest.fixture
def ssh_engine_host(local_engine: LocalEngine, ssh_user: sshd.TestUser) -> str:
    """The session engine's ``unix://`` address, usable by `ssh_user` (granted again
    for every test: a restarted dockerd makes a fresh root-only socket)."""
    local_engine.start_engine()  # an earlier test may have killed it
    sshd.grant_engine_access(local_engine.socket_path, ssh_user)
    return local_engine.docker_host


@pytest.fixture
def forbidden_socket() -> Iterator[str]:
    """A listening unix socket only root may use: ``permission denied`` for `ssh_user`."""
    with sshd.forbidden_socket() as path:
        yield path


@pytest.fixture
def visible_dir() -> Iterator[Path]:
    """A temp folder `ssh_user` can search (pytest's `tmp_path` is root-only)."""
    with sshd.visible_dir() as path:
        yield path


@pytest.fixture
def hermes_router() -> Iterator[OpenAIRouter]:
    """The router double of the real-Hermes tests (tests/support/real_hermes.py)."""
    from tests.support.real_hermes import router_double

    server = router_double()
    try:
        yield server
    finally:
        server.stop()
