"""Talk to the user's OpenAI-compatible router: list its models, find it on the usual ports.

Every router the wizard supports (Backend.AI GO's router, Ollama, vLLM, llama.cpp's server,
LM Studio, LiteLLM) serves ``GET <base>/models`` in the OpenAI shape
``{"object": "list", "data": [{"id": ...}, ...]}``. ``list_models`` asks for that list and
turns every way it can fail into a ``RouterError`` whose ``message`` names the URL and whose
``fix`` says what to do; an empty list is not an error (the screen says "No models loaded").

The URL the wizard reaches from the host is not always the URL Hermes can reach from inside
its container: ``container_base_url`` and ``uses_host_network`` decide that, for this step
and for the Completion step alike.

aiohttp is imported inside the functions that use it: importing it costs ~320 ms.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import json
import platform
import socket
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from hermes_tui.engine.detect import Product
from hermes_tui.problem import Problem, ProblemError

if TYPE_CHECKING:
    import aiohttp

    from hermes_tui.engine.detect import EngineInfo

#: Default ports of Ollama, LM Studio, vLLM, llama.cpp's server and LiteLLM, in that order.
LOCAL_PORTS = (11434, 1234, 8000, 8080, 4000)

#: The environment variable the wizard offers as a starting URL (the OpenAI SDK's own).
BASE_URL_ENV = "OPENAI_BASE_URL"

#: Where a container that is not on the host's network reaches the host. Docker Desktop
#: provides it; on a Linux engine the gateway adds it with ``--add-host ...:host-gateway``.
CONTAINER_HOST = "host.docker.internal"

EXAMPLE_URL = "http://127.0.0.1:11434/v1"

#: The most of a ``/models`` answer that is read: about 100,000 plain entries. A longer
#: answer is refused (saying so) rather than allowed to fill memory.
MAX_BODY = 8 * 1024 * 1024
#: How much of the body is taken per read while it streams in.
_CHUNK = 256 * 1024

_REFUSED = {errno.ECONNREFUSED}
_NO_ROUTE = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN, errno.EADDRNOTAVAIL}

_FIX_START = "Start your router (e.g. `ollama serve`) or correct the URL"
_FIX_KEY = (
    "This router needs an API key: enter it below (it is stored in the profile's .env, "
    "never in the progress file)"
)
_FIX_WRONG_KEY = (
    "Check the API key (copy it again from the router's settings) and enter it below; it is "
    "stored in the profile's .env, never in the progress file"
)
_FIX_API_ROOT = (
    f"Use the router's OpenAI-compatible API root, e.g. {EXAMPLE_URL} for Ollama or "
    "http://127.0.0.1:1234/v1 for LM Studio (the wizard adds /models itself)"
)


@dataclass(frozen=True)
class Model:
    """One model the router serves, as ``/models`` lists it."""

    id: str
    owned_by: str | None = None


class RouterErrorKind(StrEnum):
    UNREACHABLE = "nothing listening"
    TIMEOUT = "timed out"
    UNAUTHORIZED = "needs an API key"
    NOT_OPENAI = "not an OpenAI API"
    HTTP = "HTTP error"
    TLS = "TLS error"
    INVALID_URL = "invalid URL"
    TOO_LARGE = "answer too large"


@dataclass(eq=False)  # exceptions compare and hash by identity
class RouterError(ProblemError):
    """Why the router could not be used: ``message`` names the URL, ``fix`` the remedy."""

    kind: RouterErrorKind
    message: str
    fix: str
    #: The HTTP status when the router answered one (401, 404, 500, ...).
    status: int | None = None

    def __post_init__(self) -> None:
        ProblemError.__init__(self, self.problem)

    @property
    def problem(self) -> Problem:
        details = (f"HTTP status: {self.status}",) if self.status is not None else ()
        return Problem(self.message, self.fix, details)

    def __str__(self) -> str:
        return f"{self.message} {self.fix}."


# --- URLs --------------------------------------------------------------------------------------


def _invalid(text: str, why: str) -> RouterError:
    shown = text if len(text) <= 80 else text[:77] + "..."
    return RouterError(
        RouterErrorKind.INVALID_URL,
        f"'{shown}' is not a router URL: {why}.",
        f"Enter the router's base URL, e.g. {EXAMPLE_URL}",
    )


def normalise_base_url(text: str) -> str:
    """The router's API root for what the user typed, e.g. ``http://127.0.0.1:11434/v1``.

    Trims blanks, adds ``http://`` when no scheme is given, drops a trailing ``/`` and a
    trailing ``/models`` (users paste the models URL), and appends ``/v1`` when there is no
    path at all (the OpenAI convention every supported router follows). A path that is
    there is kept as-is (LiteLLM and proxies may serve the API under another prefix).
    Raises ``RouterError(INVALID_URL)`` for text that cannot be a router URL. Idempotent.
    """
    raw = text.strip()
    if not raw:
        raise _invalid(text, "it is empty")
    if any(ch.isspace() for ch in raw):
        raise _invalid(raw, "it contains spaces")
    candidate = raw if "://" in raw else f"http://{raw}"
    try:
        parts = urlsplit(candidate)
        port = parts.port
    except ValueError as exc:  # a bad port or a broken [IPv6] host
        raise _invalid(raw, str(exc).rstrip(".").lower()) from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise _invalid(raw, f"the scheme must be http or https, not '{parts.scheme}'")
    host = parts.hostname
    if not host:
        raise _invalid(raw, "it has no host")
    if parts.username is not None or parts.password is not None:
        raise _invalid(raw, "it holds credentials; enter the API key in its own field")
    if parts.query or parts.fragment:
        raise _invalid(raw, "a router URL has no ?query or #fragment")
    if port == 0:
        raise _invalid(raw, "port 0 is not a port")
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    path = parts.path.rstrip("/")
    if path.lower().endswith("/models"):
        path = path[: -len("/models")].rstrip("/")
    if not path:
        path = "/v1"
    return urlunsplit((scheme, netloc, path, "", ""))


def initial_router_url(
    cli_url: str | None, saved_url: str | None, env: Mapping[str, str]
) -> str | None:
    """The URL to start from: ``--router-url``, then the saved state, then ``OPENAI_BASE_URL``.

    Returned as typed (trimmed), not normalised, so the screen can show the user's own text
    next to a ``normalise_base_url`` verdict. None when no source has one.
    """
    for value in (cli_url, saved_url, env.get(BASE_URL_ENV)):
        if value and value.strip():
            return value.strip()
    return None


def is_loopback_host(host: str) -> bool:
    """True for names that mean "this machine": 127.0.0.0/8, ::1, 0.0.0.0, ::, localhost."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_unspecified


def container_base_url(base_url: str, host_networking: bool) -> str:
    """The URL Hermes must call from inside its container to reach ``base_url``.

    On the host's network (a Linux engine running the gateway with ``--network host``) the
    container shares the host's loopback, so the URL is unchanged. Otherwise a loopback host
    (127.0.0.0/8, ``localhost``, ``[::1]``, ``0.0.0.0``) would be the container itself, so it
    becomes ``host.docker.internal``, keeping scheme, port and path. Remote hosts are kept.
    """
    if host_networking:
        return base_url
    parts = urlsplit(base_url)
    host = parts.hostname
    if not host or not is_loopback_host(host):
        return base_url
    userinfo, at, _ = parts.netloc.rpartition("@")
    netloc = f"{userinfo}{at}{CONTAINER_HOST}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


# Engines that run containers in a VM: "host networking" there is the VM's, not this machine's.
_VM_MARKERS = (
    "docker desktop", "desktop-linux", "/.docker/desktop/", "/.docker/run/",
    "colima", "rancher", "/.rd/", "/.lima/",
)


def uses_host_network(engine: EngineInfo | None, system: str | None = None) -> bool:
    """Whether the gateway container runs with ``--network host`` and shares our loopback.

    True only for a Linux engine running natively on a Linux host (dockerd, rootful or
    rootless Podman). False for Docker Desktop (by its source or socket), Colima, Rancher
    Desktop and Apple Container (all run containers in a VM), on macOS and Windows hosts,
    and for an engine reached over TCP on another machine. An ``ssh://`` engine's host is
    another machine too, but the gateway is reached through the SSH connection on that
    host's own loopback: there host networking keeps the API port private to it. ``system`` defaults to
    ``platform.system()``; with no engine known the host system alone decides.

    Rootless *Docker* puts ``--network host`` in RootlessKit's namespace, which cannot
    reach the host's 127.0.0.1 either; that setup needs the router to listen on a non-
    loopback address, and is left to the user (the URL is shown on screen).
    """
    system = platform.system() if system is None else system
    if system != "Linux":
        return False
    if engine is None:
        return True
    if engine.product == Product.APPLE:
        return False
    if engine.os and engine.os.lower() != "linux":
        return False
    where = f"{engine.source} {engine.url}".lower()
    if any(marker in where for marker in _VM_MARKERS):
        return False
    if engine.url.startswith(("tcp://", "http://", "https://")):
        host = urlsplit(engine.url).hostname or ""
        return is_loopback_host(host)
    return True


# --- HTTP ----------------------------------------------------------------------------------------


def _models_url(base_url: str) -> str:
    return f"{base_url}/models"


def _host_port(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname or "?"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _connect_error(exc: OSError, url: str) -> RouterError:
    cause = exc.os_error if hasattr(exc, "os_error") else exc  # aiohttp.ClientConnectorError
    where = _host_port(url)
    if isinstance(cause, socket.gaierror):
        host = urlsplit(url).hostname
        return RouterError(
            RouterErrorKind.UNREACHABLE,
            f"Cannot resolve the host '{host}' in {url}.",
            "Check the host name in the URL, or use the router's IP address",
        )
    code = getattr(cause, "errno", None)
    text = str(cause).lower()
    if code in _REFUSED or "refused" in text:
        return RouterError(
            RouterErrorKind.UNREACHABLE,
            f"Nothing is listening at {where} ({url}).",
            _FIX_START,
        )
    if code in _NO_ROUTE:
        return RouterError(
            RouterErrorKind.UNREACHABLE,
            f"{where} cannot be reached from this machine ({url}): "
            f"{(cause.strerror or text).lower()}.",
            "Check the address, and that no firewall or VPN blocks it",
        )
    detail = getattr(cause, "strerror", None) or str(cause) or type(cause).__name__
    return RouterError(
        RouterErrorKind.UNREACHABLE,
        f"Cannot connect to {url}: {detail.lower()}.",
        _FIX_START,
    )


def _status_error(status: int, reason: str | None, url: str, keyed: bool) -> RouterError:
    if status in (401, 403):
        if keyed:
            return RouterError(
                RouterErrorKind.UNAUTHORIZED,
                f"{url} refused the API key (HTTP {status}).",
                _FIX_WRONG_KEY,
                status,
            )
        return RouterError(
            RouterErrorKind.UNAUTHORIZED,
            f"{url} needs an API key (HTTP {status}).",
            _FIX_KEY,
            status,
        )
    label = f"HTTP {status} {reason}".rstrip() if reason else f"HTTP {status}"
    if status == 404:
        fix = _FIX_API_ROOT
    elif status >= 500:
        fix = "The router reported an error of its own: check its log, then retry"
    else:
        fix = _FIX_API_ROOT
    return RouterError(RouterErrorKind.HTTP, f"{url} answered {label}.", fix, status)


def _not_openai(url: str, detail: str, fix: str = _FIX_API_ROOT) -> RouterError:
    return RouterError(RouterErrorKind.NOT_OPENAI, f"{url} {detail}.", fix)


def _too_large(url: str, size: int | None) -> RouterError:
    limit = f"{MAX_BODY // (1024 * 1024)} MiB ({MAX_BODY:,} bytes, about 100,000 models)"
    said = f"{size:,} bytes, more than the {limit}" if size is not None else f"more than {limit}"
    return RouterError(
        RouterErrorKind.TOO_LARGE,
        f"{url} answered a models list of {said} the wizard reads.",
        "Check that the URL is the router's OpenAI-compatible API root; if it really serves "
        "this many models, unload the ones Hermes does not need, then retry",
    )


async def _read_body(resp: aiohttp.ClientResponse, url: str) -> bytes:
    """The whole body, read as it streams in (one read returns only what has arrived so
    far), refused with ``TOO_LARGE`` past ``MAX_BODY`` - from its Content-Length when the
    router states one, before anything is read."""
    declared = resp.content_length
    if declared is not None and declared > MAX_BODY:
        raise _too_large(url, declared)
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(_CHUNK):
        size += len(chunk)
        if size > MAX_BODY:
            raise _too_large(url, declared)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_models(body: bytes, url: str) -> list[Model]:
    """The models in an OpenAI ``/models`` answer, in the server's order, ids deduplicated.

    Accepts ``{"object": "list", "data": [{"id": "..."}]}``, also without ``"object"``;
    anything else raises ``RouterError(NOT_OPENAI)`` saying what was wrong.
    """
    try:
        doc: Any = json.loads(body)
    except RecursionError:  # json's own guard, at about 1,000 levels: no models list is
        raise _not_openai(url, "answered JSON nested too deeply to be a models list") from None
    except ValueError:
        head = body.lstrip()[:200].lower()
        if head.startswith(b"<"):
            raise _not_openai(
                url,
                "answered with a web page, not the OpenAI models list",
                "Use the router's API address (usually ending in /v1), not its web UI",
            ) from None
        raise _not_openai(url, "answered something that is not JSON") from None
    if not isinstance(doc, dict):
        raise _not_openai(url, f"answered a JSON {type(doc).__name__}, not an OpenAI models list")
    if "object" in doc and doc["object"] != "list":
        raise _not_openai(url, f"answered JSON with object={doc['object']!r}, not 'list'")
    data = doc.get("data")
    if not isinstance(data, list):
        raise _not_openai(url, 'answered JSON without a "data" list of models')
    models: list[Model] = []
    seen: set[str] = set()
    for index, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            raise _not_openai(url, f'answered a models list whose entry {index} has no string "id"')
        if item["id"] in seen:
            continue
        seen.add(item["id"])
        owner = item.get("owned_by")
        models.append(Model(item["id"], owner if isinstance(owner, str) and owner else None))
    return models


async def _fetch_models(
    session: aiohttp.ClientSession, base_url: str, api_key: str | None, timeout: float
) -> list[Model]:
    import aiohttp

    url = _models_url(base_url)
    headers = {"Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    try:
        async with session.get(
            url, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)
        ) as resp:
            if resp.status != 200:
                raise _status_error(resp.status, resp.reason, url, bool(api_key))
            body = await _read_body(resp, url)
    except RouterError:
        raise
    except TimeoutError:  # asyncio.TimeoutError and aiohttp's ServerTimeoutError
        raise RouterError(
            RouterErrorKind.TIMEOUT,
            f"{url} did not answer within {timeout:g} s.",
            "The router may be busy (loading a model?): wait and retry, or check the URL and port",
        ) from None
    except (aiohttp.ClientSSLError, ssl.SSLError) as exc:
        raise RouterError(
            RouterErrorKind.TLS,
            f"The TLS handshake with {url} failed: {exc}.",
            "Use http:// for a local router, or give the router a certificate this machine trusts",
        ) from None
    except aiohttp.ClientConnectorError as exc:
        raise _connect_error(exc, url) from None
    except aiohttp.InvalidURL as exc:
        raise _invalid(str(exc.url), "aiohttp cannot request it") from None
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientResponseError,
            aiohttp.ClientPayloadError) as exc:
        raise _not_openai(
            url,
            f"did not answer in HTTP ({type(exc).__name__})",
            "Check the port: it must be the router's OpenAI-compatible API",
        ) from None
    except (aiohttp.ClientError, OSError) as exc:
        raise _connect_error(exc if isinstance(exc, OSError) else OSError(str(exc)), url) from None
    if len(body) < _CHUNK:
        return parse_models(body, url)
    # A long list (50,000 models are 3.5 MB) takes a tenth of a second to parse: not on
    # the event loop, which would read no key meanwhile.
    return await asyncio.to_thread(_parse_long, body, url)


def _parse_long(body: bytes, url: str) -> list[Model]:
    from hermes_tui.gcpause import paused_gc

    with paused_gc():  # 100,000 new objects: see hermes_tui.gcpause
        return parse_models(body, url)


def _session() -> aiohttp.ClientSession:
    import aiohttp

    # trust_env=False: a proxy from HTTP_PROXY must not sit between us and a local router.
    return aiohttp.ClientSession(trust_env=False)


async def list_models(
    base_url: str, api_key: str | None = None, timeout: float = 5.0
) -> list[Model]:
    """``GET <base_url>/models``: the models the router serves, in its order, ids deduplicated.

    ``base_url`` goes through ``normalise_base_url`` first. ``api_key``, when given, is sent
    as ``Authorization: Bearer``. An empty list is a valid answer (no model loaded). Every
    failure raises ``RouterError``.
    """
    base = normalise_base_url(base_url)
    async with _session() as session:
        return await _fetch_models(session, base, api_key, timeout)


@dataclass(frozen=True)
class Discovered:
    """A router found by ``discover``.

    ``needs_key`` is True when it answered 401/403: a router is there but wants an API key,
    so ``models`` is empty until ``list_models`` is called with one.
    """

    base_url: str
    needs_key: bool = False
    models: tuple[str, ...] = ()


async def discover(
    host: str = "127.0.0.1", ports: Iterable[int] = LOCAL_PORTS, timeout: float = 0.7
) -> list[Discovered]:
    """Probe ``http://<host>:<port>/v1/models`` on every port at once.

    Returns, in ``ports`` order, the routers that answered in the OpenAI shape or with
    401/403 (present, needs a key). Ports where nothing listens, something else answers or
    nothing answers within ``timeout`` seconds are left out. Never raises ``RouterError``.
    """
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    bases = [f"http://{shown}:{port}/v1" for port in dict.fromkeys(ports)]

    async with _session() as session:

        async def probe(base: str) -> Discovered | None:
            try:
                models = await _fetch_models(session, base, None, timeout)
            except RouterError as exc:
                if exc.kind is RouterErrorKind.UNAUTHORIZED:
                    return Discovered(base, needs_key=True)
                return None
            return Discovered(base, models=tuple(model.id for model in models))

        found = await asyncio.gather(*(probe(base) for base in bases))
    return [item for item in found if item is not None]
