"""The current profile's gateway: turns wizard state into a ``GatewaySpec`` and runs it.

Shared by the Completion step, the dashboard and ``hermes-tui setup``/``status``/``doctor``,
so all of them start the very same container the same way. On an engine on another machine
(`hermes_tui.engine.route.engine_is_remote`) the gateway's home is a named volume filled
from the profile folder (`hermes_tui.engine.volume`), and ``/health`` is asked through the
engine's `ApiRoute`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

from hermes_tui.bridge.router import is_loopback_host, uses_host_network
from hermes_tui.engine.api_server import ApiServer, ApiServerError, ensure_api_server
from hermes_tui.engine.detect import EngineInfo, client
from hermes_tui.engine.gateway import (
    HERMES_IMAGE_ID,
    GatewayAction,
    GatewayError,
    GatewaySpec,
    GatewayStatus,
    container_name,
    engine_ports,
    gateway_status,
    start_gateway,
    stop_gateway,
)
from hermes_tui.engine.route import ApiRoute, engine_is_remote, route_for
from hermes_tui.envfile import read_env
from hermes_tui.paths import Paths
from hermes_tui.problem import Problem, ProblemError

if TYPE_CHECKING:
    import aiodocker

T = TypeVar("T")


class EngineLost(ProblemError):
    """The engine stopped answering in the middle of a conversation (it stopped, crashed or
    its socket went away): a condition to show with its fix, not an unexpected error."""


def engine_lost(engine: EngineInfo, error: BaseException) -> EngineLost:
    if engine.url.startswith("ssh://"):
        from hermes_tui.engine.ssh import explain_lost

        lost = explain_lost(engine.url)
        if lost is not None:
            return EngineLost(Problem(
                lost.problem.what, lost.problem.fix,
                details=(f"{type(error).__name__}: {error}",), subject=engine.url,
            ))
    return EngineLost(Problem(
        f"The container engine at {engine.url} stopped answering.",
        "Start the engine again (e.g. systemctl start docker, or Docker Desktop), then "
        "press r; if it now lives elsewhere, re-run step 1.",
        details=(f"{type(error).__name__}: {error}",),
        subject=engine.url,
    ))


def _is_connection_failure(error: BaseException) -> bool:
    """A failure to reach the engine at all, as opposed to an answer it gave (a 404 or a
    409 is the engine talking: those stay the caller's to handle)."""
    from aiodocker.exceptions import DockerError
    from aiohttp import ClientError

    if isinstance(error, DockerError):
        return error.status == 900  # aiodocker's code for "could not connect"
    return isinstance(error, ClientError | ConnectionError | FileNotFoundError)


@asynccontextmanager
async def engine_client(engine: EngineInfo) -> AsyncIterator[aiodocker.Docker]:
    """A client for ``engine``, closed afterwards. Losing the engine inside the block
    raises `EngineLost` (a Problem with its fix) instead of the client library's error."""
    docker = client(engine)
    try:
        yield docker
    except Exception as error:
        if _is_connection_failure(error):
            raise engine_lost(engine, error) from error
        if _is_engine_answer(error):
            raise engine_refused(engine, error) from error
        raise
    finally:
        await docker.close()


def _is_engine_answer(error: BaseException) -> bool:
    from aiodocker.exceptions import DockerError

    return isinstance(error, DockerError)


def engine_refused(engine: EngineInfo, error: BaseException) -> GatewayError:
    """An engine answer nothing inside handled (an unexpected 4xx/5xx): the engine's own
    words, as a gateway problem with what to check — never the client library's traceback."""
    status = getattr(error, "status", None)
    said = getattr(error, "message", None) or str(error)
    return GatewayError(
        f"The container engine at {engine.url} refused a request (HTTP {status}): {said}",
        "Check that the engine is healthy (docker info, or podman info) and recent enough "
        "for API 1.41, then try again.",
    )


def engine_on_this_host(engine: EngineInfo) -> bool:
    """Whether the engine publishes ports on this machine's loopback (a local socket or a
    loopback TCP address; Docker Desktop forwards its VM's ports here too), so that a
    bind test here tells whether a port is free for the gateway. Never for ``ssh://``:
    that engine's ports are the remote host's."""
    if engine.url.startswith("ssh://"):
        return False
    if engine.url.startswith(("tcp://", "http://", "https://")):
        return is_loopback_host(urlsplit(engine.url).hostname or "")
    return True


def _port_probe(engine: EngineInfo) -> bool | Callable[[int], bool]:
    """How to tell a free API port: a bind test here for an engine on this host, a test
    through the SSH connection for an ``ssh://`` one (the gateway shares that host's
    network), none for a ``tcp://`` engine elsewhere (only its containers are known)."""
    if engine.url.startswith("ssh://"):
        from hermes_tui.engine.ssh import connection_for

        return connection_for(engine.url).port_is_free
    return engine_on_this_host(engine)


@dataclass(frozen=True)
class ProfileGateway:
    paths: Paths
    profile: str
    image: str
    engine: EngineInfo
    #: Mounted read-only when the user migrated from OpenClaw.
    claw_dir: Path | None = None
    command: tuple[str, ...] | None = None

    @property
    def profile_dir(self) -> Path:
        return self.paths.profile_dir(self.profile)

    @property
    def remote(self) -> bool:
        """Whether the gateway's home is a named volume (the engine is on another machine)."""
        return engine_is_remote(self.engine)

    @property
    def route(self) -> ApiRoute:
        """Where this machine reaches the gateway's API port (see `route_for`). An SSH
        route holds a forward: each call makes a new route; close it (``aclose``)."""
        return route_for(self.engine)

    async def prepare(
        self, docker: aiodocker.Docker, route: ApiRoute | None = None
    ) -> tuple[GatewaySpec, ApiServer]:
        """The container to run. Records the profile's API server in its ``.env`` first:
        a port nothing on the engine's host holds (this profile's own running gateway
        aside) and a key when it has none. On a remote engine the spec names the profile's
        volume, the image's own user and ``route``'s publish address."""
        name = container_name(self.profile)
        data_dir = str(self.paths.profiles.absolute())
        own = await gateway_status(docker, self.profile, check=False)
        ours = own.exists and own.data_dir in (None, data_dir)
        taken = await engine_ports(docker, exclude_name=name if ours else None)
        try:
            api = await asyncio.to_thread(
                ensure_api_server,
                self.paths.profiles,
                self.profile,
                taken=taken,
                own_port=own.api_port if ours and own.running else None,
                probe=_port_probe(self.engine),
            )
        except ApiServerError as exc:
            raise GatewayError(exc.message, exc.fix) from exc
        from hermes_tui.engine.volume import volume_name

        remote = self.remote
        spec = GatewaySpec(
            profile=self.profile,
            profile_dir=self.profile_dir,
            image=self.image,
            api_port=api.port,
            host_network=uses_host_network(self.engine),
            uid=HERMES_IMAGE_ID if remote else os.getuid(),
            gid=HERMES_IMAGE_ID if remote else os.getgid(),
            claw_dir=None if remote else self.claw_dir,
            volume=volume_name(self.profile) if remote else None,
            publish_ip=await self._publish_ip(route),
            **({"command": self.command} if self.command else {}),
        )
        return spec, api

    async def _publish_ip(self, route: ApiRoute | None) -> str:
        if route is not None:
            return route.publish_ip
        route = self.route
        try:
            return route.publish_ip
        finally:
            await route.aclose()

    async def _with(
        self, action: Callable[[aiodocker.Docker, ApiRoute], Awaitable[T]]
    ) -> T:
        route = self.route
        try:
            async with engine_client(self.engine) as docker:
                return await action(docker, route)
        finally:
            await route.aclose()

    async def start(self, health_timeout: float = 30.0, *, restart: bool = False) -> GatewayStatus:
        async def run(docker: aiodocker.Docker, route: ApiRoute) -> GatewayStatus:
            spec, _api = await self.prepare(docker, route)
            env = read_env(self.profile_dir / ".env")
            return await start_gateway(docker, spec, env, health_timeout=health_timeout,
                                       restart=restart, route=route)

        return await self._with(run)

    async def run(self, action: GatewayAction, health_timeout: float = 30.0) -> GatewayStatus:
        """Carry out ``action``; the new status (raises `GatewayError` as each one does)."""
        if action is GatewayAction.START:
            return await self.start(health_timeout)
        if action is GatewayAction.STOP:
            return await self.stop()
        return await self.restart(health_timeout)

    async def stop(self) -> GatewayStatus:
        return await self._with(lambda docker, _route: stop_gateway(docker, self.profile))

    async def restart(self, health_timeout: float = 30.0) -> GatewayStatus:
        """Restart on the profile's current configuration: as `start` does, the container
        is replaced when its configuration (the ``.env``'s API port or key, the image, the
        mounts) changed since it was made, and restarted otherwise, so Hermes reads the
        ``.env`` and ``config.yaml`` again either way."""
        return await self.start(health_timeout, restart=True)

    async def status(self) -> GatewayStatus:
        return await self._with(lambda docker, route: gateway_status(
            docker, self.profile, data_dir=self.paths.profiles, route=route))
