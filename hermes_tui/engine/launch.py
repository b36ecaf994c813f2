"""The current profile's gateway: turns wizard state into a ``GatewaySpec`` and runs it.

Shared by the Completion step, the dashboard and ``hermes-tui setup``/``status``/``doctor``,
so all of them start the very same container the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from hermes_tui.bridge.router import uses_host_network
from hermes_tui.engine.detect import EngineInfo, client
from hermes_tui.engine.gateway import (
    GatewaySpec,
    GatewayStatus,
    ensure_api_port,
    gateway_status,
    restart_gateway,
    start_gateway,
    stop_gateway,
)
from hermes_tui.envfile import read_env
from hermes_tui.paths import Paths

if TYPE_CHECKING:
    import aiodocker

T = TypeVar("T")


@asynccontextmanager
async def engine_client(engine: EngineInfo) -> AsyncIterator[aiodocker.Docker]:
    docker = client(engine)
    try:
        yield docker
    finally:
        await docker.close()


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

    def spec(self) -> GatewaySpec:
        """The container to run; records this profile's own API port in its .env first."""
        port = ensure_api_port(self.paths.profiles, self.profile)
        return GatewaySpec(
            profile=self.profile,
            profile_dir=self.profile_dir,
            image=self.image,
            api_port=port,
            host_network=uses_host_network(self.engine),
            claw_dir=self.claw_dir,
            **({"command": self.command} if self.command else {}),
        )

    async def _with(self, action: Callable[[aiodocker.Docker], Awaitable[T]]) -> T:
        async with engine_client(self.engine) as docker:
            return await action(docker)

    async def start(self, health_timeout: float = 30.0) -> GatewayStatus:
        spec = self.spec()
        env = read_env(self.profile_dir / ".env")
        return await self._with(
            lambda docker: start_gateway(docker, spec, env, health_timeout=health_timeout))

    async def stop(self) -> GatewayStatus:
        return await self._with(lambda docker: stop_gateway(docker, self.profile))

    async def restart(self) -> GatewayStatus:
        return await self._with(lambda docker: restart_gateway(docker, self.profile))

    async def status(self) -> GatewayStatus:
        return await self._with(lambda docker: gateway_status(docker, self.profile))
