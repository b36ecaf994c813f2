"""The gateway's OpenAI-compatible API server: its port, its key and its health.

Hermes (``gateway/platforms/api_server.py``) turns the API server on with
``API_SERVER_ENABLED=true``, listens on ``API_SERVER_HOST:API_SERVER_PORT`` (8642 by
default) and **refuses to start it without ``API_SERVER_KEY``**, also on loopback; every
``/v1/*`` call then needs ``Authorization: Bearer <key>``. ``GET /health`` needs no key and
answers ``{"status": "ok", "platform": "hermes-agent", "version": …}``.

So every profile gets, in its own ``.env`` (0600, read by Hermes itself):

- a port no other profile records, no container on the engine holds (gateways of other
  data dirs included) and nothing on this host listens on;
- a key of 43 random URL-safe characters (`secrets.token_urlsafe` of 32 bytes), made once
  and then kept. The key never goes to ``wizard.toml``, the container's environment,
  labels, logs or output: only `ApiServer.masked` is shown unless the user reveals it.

`probe_health` tells a Hermes gateway from anything else that happens to answer on the
port: only a JSON body with ``platform == "hermes-agent"`` counts.

No Textual; aiohttp is imported inside `probe_health`.
"""

from __future__ import annotations

import json
import secrets
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hermes_tui.envfile import edit_env, read_env
from hermes_tui.fsutil import WriteError
from hermes_tui.problem import Problem, ProblemError
from hermes_tui.profile import profile_names

DEFAULT_API_PORT = 8642
MAX_PORT = 65535
ENV_FILE = ".env"
KEY_ENV = "API_SERVER_KEY"
ENABLED_ENV = "API_SERVER_ENABLED"
PORT_ENV = "API_SERVER_PORT"
HOST_ENV = "API_SERVER_HOST"
#: Bytes of randomness in a generated key (43 URL-safe characters).
KEY_BYTES = 32
#: What Hermes's /health names itself.
HERMES_PLATFORM = "hermes-agent"
#: Values Hermes (and we) read as "on" for API_SERVER_ENABLED.
_TRUE = frozenset({"1", "true", "yes", "on"})
_MAX_HEALTH_BODY = 64 * 1024


class ApiServerError(ProblemError):
    """No port could be chosen, or ``.env`` could not be written; ``fix`` says what the
    user can do."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(Problem(message, fix))
        self.message = message
        self.fix = fix


def parse_port(text: str | None) -> int | None:
    try:
        port = int((text or "").strip())
    except ValueError:
        return None
    return port if 0 < port <= MAX_PORT else None


def api_enabled(env: Mapping[str, str]) -> bool:
    return env.get(ENABLED_ENV, "").strip().lower() in _TRUE


def mask_key(key: str | None) -> str:
    """A key as the screen shows it by default: its length in dots and its last 4 chars."""
    if not key:
        return "(none)"
    return "•" * 8 + key[-4:] if len(key) > 12 else "•" * 8


# --------------------------------------------------------------------------------------------
# Ports
# --------------------------------------------------------------------------------------------


def ports_in_use(profiles_root: Path, *, exclude: str | None = None) -> dict[int, str]:
    """API_SERVER_PORT of every profile under ``profiles_root`` (port → profile name).

    Hidden folders (a profile being created) and ``exclude`` are skipped; an unreadable
    or absent ``.env`` counts as no port.
    """
    used: dict[int, str] = {}
    for name in profile_names(profiles_root):
        if name == exclude:
            continue
        entry = Path(profiles_root) / name
        try:
            port = parse_port(read_env(entry / ENV_FILE).get(PORT_ENV))
        except (OSError, UnicodeDecodeError):
            continue
        if port is not None:
            used.setdefault(port, entry.name)
    return used


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when a server could listen on ``host:port`` right now (a real bind test).

    SO_REUSEADDR is set as servers set it, so a port whose last connection lingers in
    TIME_WAIT counts as free; a port someone listens on never does.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def choose_api_port(
    profiles_root: Path,
    profile: str,
    *,
    start: int = DEFAULT_API_PORT,
    taken: Mapping[int, str] | None = None,
    own_port: int | None = None,
    probe: bool | Callable[[int], bool] = True,
) -> int:
    """The API server port ``profile`` should use; nothing is written.

    ``taken``: ports the engine's containers hold (port → who, e.g. a gateway of another
    data dir), read by `engine.gateway.engine_ports`. ``own_port``: the port this profile's
    own running gateway listens on (it is busy because of us, so it is not bind-tested).
    ``probe``: bind-test candidates on this host's loopback — right when the engine
    shares this host's network, pointless for a remote engine; a callable (port → free?)
    asks the engine's host instead (an ``ssh://`` engine: `SshConnection.port_is_free`).

    The profile keeps the port in its ``.env`` unless another profile records it, the
    engine holds it for someone else, or (when not its own gateway's) something listens
    on it. Otherwise: the lowest port from ``start`` up that is none of those.
    Raises `ApiServerError` when no port up to 65535 is free.
    """
    profiles_root = Path(profiles_root)
    blocked: dict[int, str] = dict(taken or {})
    blocked.update({p: f"profile {n}" for p, n in ports_in_use(profiles_root, exclude=profile).items()})
    current = parse_port(read_env(profiles_root / profile / ENV_FILE).get(PORT_ENV))

    def usable(port: int) -> bool:
        if port in blocked:
            return False
        if not probe or port == own_port:
            return True
        return probe(port) if callable(probe) else port_is_free(port)

    if current is not None and usable(current):
        return current
    for port in range(max(1, start), MAX_PORT + 1):
        if usable(port):
            return port
    raise ApiServerError(
        f"No free API server port from {start} to {MAX_PORT} on 127.0.0.1.",
        "Stop programs that hold those ports, or set API_SERVER_PORT in the profile's .env.",
    )


# --------------------------------------------------------------------------------------------
# The profile's settings
# --------------------------------------------------------------------------------------------


def new_api_key() -> str:
    return secrets.token_urlsafe(KEY_BYTES)


@dataclass(frozen=True)
class ApiServer:
    """A profile's API server as its ``.env`` records it. ``key`` is a secret: it is left
    out of ``repr`` so that a logged or printed object never carries it."""

    port: int
    key: str = field(repr=False)
    env_path: Path | None = None

    @property
    def masked(self) -> str:
        return mask_key(self.key)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


def read_api_server(env_path: Path) -> ApiServer | None:
    """The profile's API server settings, or None when it has no port or no key yet."""
    env = read_env(env_path)
    port = parse_port(env.get(PORT_ENV))
    key = env.get(KEY_ENV) or ""
    if port is None or not key:
        return None
    return ApiServer(port, key, Path(env_path))


def ensure_api_server(
    profiles_root: Path,
    profile: str,
    *,
    start: int = DEFAULT_API_PORT,
    taken: Mapping[int, str] | None = None,
    own_port: int | None = None,
    probe: bool | Callable[[int], bool] = True,
) -> ApiServer:
    """Turn the profile's API server on, with its own port and a key, in its ``.env``.

    A key already there (the user's or ours) is kept; a missing or empty one is generated.
    Every other line of the file is kept; the file is not rewritten when nothing changes.
    The key is decided under the file's lock, so two starts at once agree on one key.
    Raises `ApiServerError` (naming the file, with the fix) when ``.env`` cannot be written.
    """
    port = choose_api_port(
        profiles_root, profile, start=start, taken=taken, own_port=own_port, probe=probe
    )
    env_path = Path(profiles_root) / profile / ENV_FILE
    fresh = new_api_key()

    def decide(current: dict[str, str]) -> dict[str, str]:
        # Under the file's lock: a key another process wrote meanwhile is the one kept.
        updates = {ENABLED_ENV: "true", PORT_ENV: str(port), KEY_ENV: current.get(KEY_ENV) or fresh}
        return updates if any(current.get(k) != v for k, v in updates.items()) else {}

    try:
        after = edit_env(env_path, decide)
    except WriteError as exc:
        raise ApiServerError(exc.problem.what, exc.problem.fix) from exc
    return ApiServer(port, after[KEY_ENV], env_path)


# --------------------------------------------------------------------------------------------
# Health
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Health:
    """What ``GET /health`` said. ``ok`` only for Hermes's own answer."""

    ok: bool
    detail: str
    version: str | None = None


def read_health(status: int, body: bytes) -> Health:
    """Judge a ``/health`` answer: 200 with ``{"status": "ok", "platform": "hermes-agent"}``."""
    if status != 200:
        return Health(False, f"answered HTTP {status}")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return Health(False, "answered, but not with JSON: something other than Hermes "
                             "listens on the port")
    if not isinstance(data, dict) or data.get("platform") != HERMES_PLATFORM:
        who = data.get("platform") if isinstance(data, dict) else None
        return Health(False, f"answered as {who!r}, not as {HERMES_PLATFORM}: something other "
                             "than Hermes listens on the port")
    version = data.get("version")
    version = str(version) if version is not None else None
    if data.get("status") != "ok":
        return Health(False, f"Hermes reports status {data.get('status')!r}", version)
    return Health(True, f"{HERMES_PLATFORM} {version or '(version unknown)'}", version)


async def probe_health(port: int, timeout: float = 2.0, *, host: str = "127.0.0.1") -> Health:
    """Ask ``GET http://host:port/health`` (no key: Hermes serves it without one)."""
    import aiohttp

    netloc = f"[{host}]" if ":" in host and not host.startswith("[") else host
    try:
        async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=timeout)
        ) as session, session.get(f"http://{netloc}:{port}/health") as response:
            body = await response.content.read(_MAX_HEALTH_BODY)
            return read_health(response.status, body)
    except TimeoutError:
        return Health(False, f"no answer within {timeout:g} s")
    except (aiohttp.ClientError, OSError) as exc:
        return Health(False, f"no answer ({type(exc).__name__})")
