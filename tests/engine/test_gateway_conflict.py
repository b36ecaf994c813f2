"""Two starts racing for one gateway container: the engine's 409 Conflict, for real.

Between `start_gateway` and the real dockerd sits a forwarding proxy (HTTP over a unix
socket, every request passed on unchanged). When the wizard's ``POST /containers/create``
arrives, the proxy first lets "the other start" create a container of the same name
directly on the engine, then forwards the request: dockerd answers 409 ("Conflict. The
container name … is already in use") exactly as in a real race, deterministically.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiodocker
import aiohttp
import pytest
from aiohttp import web

from hermes_tui.engine.gateway import (
    LABEL_DATA_DIR,
    GatewayError,
    container_config,
    remove_gateway,
    start_gateway,
)
from tests.engine.test_gateway import make_profile, make_spec
from tests.support.engine import LocalEngine

Rival = Callable[[], Awaitable[str]]


class RacingProxy:
    """Forwards the Engine API to dockerd; runs ``rival`` once, just before the first
    container create reaches the engine, and records the engine's answers to creates."""

    def __init__(self, socket_path: Path, engine_socket: str, rival: Rival) -> None:
        self.socket_path = socket_path
        self.engine_socket = engine_socket
        self.rival = rival
        self.rival_id: str | None = None
        self.create_statuses: list[int] = []
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    async def start(self) -> None:
        self._client = aiohttp.ClientSession(
            connector=aiohttp.UnixConnector(path=self.engine_socket))
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.UnixSite(self._runner, str(self.socket_path)).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._client is not None:
            await self._client.close()

    async def _forward(self, request: web.Request) -> web.Response:
        creating = request.method == "POST" and request.path.endswith("/containers/create")
        if creating and self.rival_id is None:
            self.rival_id = await self.rival()  # the other start wins the race
        assert self._client is not None
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() in ("content-type", "x-registry-auth")}
        async with self._client.request(request.method, f"http://docker{request.path_qs}",
                                        data=await request.read(), headers=headers) as answer:
            body = await answer.read()
            if creating:
                self.create_statuses.append(answer.status)
            return web.Response(status=answer.status, body=body,
                                content_type=answer.content_type)


@pytest.fixture
def engine(docker_with_image: aiodocker.Docker) -> aiodocker.Docker:
    """A client straight to the engine (for the rival and for checking)."""
    return docker_with_image


async def race(local_engine: LocalEngine, socket_dir: Path, spec: Any, env: dict[str, str],
               rival_config: dict[str, Any], direct: aiodocker.Docker
               ) -> tuple[RacingProxy, Any]:
    """Start ``spec``'s gateway through the proxy while the rival creates its container."""

    async def rival() -> str:
        created = await direct.containers.create(rival_config, name=spec.name)
        return str(created.id)

    proxy = RacingProxy(socket_dir / "proxy.sock", local_engine.socket_path, rival)
    await proxy.start()
    client = aiodocker.Docker(url=proxy.url)
    try:
        try:
            outcome: Any = await start_gateway(client, spec, env, health_timeout=15,
                                               stop_grace=1)
        except GatewayError as error:
            outcome = error
    finally:
        await client.close()
        await proxy.stop()
    return proxy, outcome


async def test_a_container_another_start_created_for_this_profile_is_adopted(
    local_engine, engine, socket_dir, tmp_path
):
    folder = make_profile(tmp_path, "race")
    spec, env = make_spec(local_engine, folder)
    try:
        proxy, status = await race(local_engine, socket_dir, spec, env,
                                   container_config(spec, env), engine)
        assert proxy.create_statuses == [409]  # the engine really refused the second create
        assert not isinstance(status, GatewayError), status.problem
        assert status.container_id == proxy.rival_id
        assert status.state == "running" and status.health == "ok"
        names = [c["Names"] for c in await engine.containers.list(all=True)]
        assert names.count(["/hermes-race"]) == 1
    finally:
        await remove_gateway(engine, "race")


async def test_a_container_of_another_data_dir_is_named_not_reported_raw(
    local_engine, engine, socket_dir, tmp_path
):
    folder = make_profile(tmp_path / "mine", "twin")
    other = make_profile(tmp_path / "theirs", "twin")
    spec, env = make_spec(local_engine, folder)
    theirs = container_config(replace(spec, profile_dir=other), env)
    try:
        proxy, error = await race(local_engine, socket_dir, spec, env, theirs, engine)
        assert proxy.create_statuses == [409]
        assert isinstance(error, GatewayError)
        problem = error.problem
        assert problem.what == (
            "The engine already runs a gateway named hermes-twin for the profile 'twin' of "
            f"another data dir ({theirs['Labels'][LABEL_DATA_DIR]}).")
        assert "docker rm -f hermes-twin" in problem.fix
        assert "Conflict" not in str(problem) and "already in use" not in str(problem)
        # Theirs is left alone.
        data = await engine.containers.container(proxy.rival_id).show()
        assert data["Config"]["Labels"][LABEL_DATA_DIR] == str(other.parent)
    finally:
        await remove_gateway(engine, "twin")


async def test_a_container_hermes_tui_did_not_create_is_named_not_reported_raw(
    local_engine, engine, socket_dir, tmp_path
):
    folder = make_profile(tmp_path, "squat")
    spec, env = make_spec(local_engine, folder)
    stranger = {"Image": local_engine.image, "Cmd": ["sleep", "60"]}
    try:
        proxy, error = await race(local_engine, socket_dir, spec, env, stranger, engine)
        assert proxy.create_statuses == [409]
        assert isinstance(error, GatewayError)
        assert error.problem.what == (
            "A container named hermes-squat exists and was not created by hermes-tui.")
        assert "Conflict" not in str(error.problem)
    finally:
        await remove_gateway(engine, "squat")
