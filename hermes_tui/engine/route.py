"""Where this machine reaches a gateway's API port, and whether its engine is elsewhere.

The gateway's API server listens on the engine's host. How we get there depends on how we
reach the engine:

- a unix socket (or Docker Desktop's VM, which forwards published ports here): the port
  is on this machine's loopback, ``127.0.0.1:<port>``;
- ``tcp://``/``http://``/``https://``: the Engine API over TCP carries no tunnel for any
  other port, so ``/health`` goes straight to the engine URL's host. The port is therefore
  published on the engine host's 127.0.0.1 when that host is loopback (nothing else needs
  it), and on all its interfaces otherwise, so that this machine can reach it. That is
  acceptable because Hermes refuses every ``/v1`` call without ``API_SERVER_KEY`` (which
  stays in the profile's ``.env``) and ``/health`` carries no secret; a firewall on the
  engine's host may still close it, and the dashboard then reports health as failing;
- ``ssh://``: through the SSH connection (``hermes_tui.engine.ssh.ssh_route``), so the port
  stays on the remote host's loopback.

`engine_is_remote` decides whether the gateway gets the profile from a named volume
(`hermes_tui.engine.volume`) instead of a bind mount of this machine's folder.

No Textual; nothing heavy is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from hermes_tui.bridge.router import is_loopback_host

if TYPE_CHECKING:
    from hermes_tui.engine.detect import EngineInfo

LOOPBACK = "127.0.0.1"
#: ``PortBindings`` HostIp meaning every interface of the engine's host.
ALL_INTERFACES = ""
_TCP_SCHEMES = ("tcp", "http", "https")


def url_host(host: str) -> str:
    """``host`` as it goes into a URL (an IPv6 address in brackets)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def engine_is_remote(engine: EngineInfo) -> bool:
    """Whether the engine's files are not this machine's files, so a bind mount of the
    profile folder would mount nothing of ours: True for ``ssh://`` and for any TCP URL
    (loopback included: a TCP engine may be a VM or another box behind a forward); False
    for unix sockets and Apple Container. The same test as `EngineInfo.remote`, which
    names the host for the screens."""
    return engine.remote is not None


class ApiRoute:
    """How this machine reaches a port the gateway listens on; the base class is the local
    route (this machine's loopback). ``publish_ip`` is the ``HostIp`` the port is published
    on, on the engine's host, when the container does not share the host's network."""

    publish_ip: str = LOOPBACK

    async def address(self, port: int) -> tuple[str, int]:
        """The (host, port) to connect to from here for the gateway's ``port``."""
        return LOOPBACK, port

    async def health_url(self, port: int) -> str:
        """``http://host:port/health`` as actually asked (for messages)."""
        host, real = await self.address(port)
        return f"http://{url_host(host)}:{real}/health"

    async def aclose(self) -> None:
        """Release what the route holds (a forward); nothing for direct routes."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


LOCAL_ROUTE = ApiRoute()


class TcpRoute(ApiRoute):
    """A ``tcp://`` engine: the port is reached on the engine URL's host directly."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.publish_ip = LOOPBACK if is_loopback_host(host) else ALL_INTERFACES

    async def address(self, port: int) -> tuple[str, int]:
        return self.host, port

    def __repr__(self) -> str:
        return f"TcpRoute({self.host!r})"


def reach_hint(engine: EngineInfo | None, port: int) -> str | None:
    """How a person on this machine calls a remote gateway's API at ``port`` (None when
    it is on this machine): an SSH tunnel for ``ssh://`` (the port stays on that host's
    loopback), the engine host's address for a non-loopback ``tcp://`` engine."""
    if engine is None:
        return None
    parts = urlsplit(engine.url)
    if parts.scheme == "ssh":
        from hermes_tui.engine.ssh_diagnosis import parse_ssh_url

        try:
            target = parse_ssh_url(engine.url)
        except ValueError:
            return None
        at = f"-p {target.port} " if target.port else ""
        return (f"from here: ssh -NL {port}:127.0.0.1:{port} {at}{target.destination}, "
                "then the URL above")
    if parts.scheme in _TCP_SCHEMES and not is_loopback_host(parts.hostname or ""):
        return f"from here: http://{url_host(parts.hostname or '')}:{port}/v1"
    return None


def route_for(engine: EngineInfo | None) -> ApiRoute:
    """The route to ``engine``'s gateways (the local one when ``engine`` is None)."""
    if engine is None:
        return LOCAL_ROUTE
    parts = urlsplit(engine.url)
    if parts.scheme == "ssh":
        from hermes_tui.engine.ssh import ssh_route

        return ssh_route(engine)
    if parts.scheme in _TCP_SCHEMES:
        return TcpRoute(parts.hostname or LOOPBACK)
    return LOCAL_ROUTE


__all__ = [
    "ALL_INTERFACES",
    "LOCAL_ROUTE",
    "LOOPBACK",
    "ApiRoute",
    "TcpRoute",
    "engine_is_remote",
    "reach_hint",
    "route_for",
    "url_host",
]
