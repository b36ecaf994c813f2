"""Step 1, "Runtime check": find a container runtime and say precisely why one is unreachable.

The wizard needs an engine that speaks the Docker Engine API (Docker, Podman, Colima,
Rancher Desktop, ...) or, on Apple Silicon, Apple Container. `candidates` lists the places
to look, in the order a user would expect them to win; `probe` tries one place for real and
classifies what went wrong (no socket, permission, daemon down, TLS, too old, ...) with a
one-sentence cause naming the path or address and the remedy the spec gives; `diagnose`
tries them in order and summarises. `client` hands later steps (pull, gateway) an aiodocker
client for the engine found, built exactly the way the probe reached it.

No Textual here, and aiodocker/aiohttp are imported inside the functions that use them:
importing aiodocker alone costs ~340 ms of start-up.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import json
import os
import platform
import re
import shutil
import ssl
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from hermes_tui.problem import Problem

if TYPE_CHECKING:
    import aiodocker
    import aiohttp

#: Docker 20.10: ``host-gateway`` in ExtraHosts and the pull stream we parse need it.
MIN_API_VERSION = "1.41"

#: The pseudo-URL of the Apple Container CLI (it has no Docker Engine API).
APPLE_URL = "container"

DOCKER_INSTALL_URL = "https://docs.docker.com/get-docker/"
DOCKER_DESKTOP_URL = "https://www.docker.com/products/docker-desktop/"
PODMAN_INSTALL_URL = "https://podman.io/docs/installation"
APPLE_CONTAINER_URL = "https://github.com/apple/container/releases"

# Human names of the places we look; the UI shows them as-is.
SOURCE_FLAG = "--docker-host"
SOURCE_ENV = "DOCKER_HOST"
#: The engine the last run found, as ``wizard.toml`` records it (``engine_url``).
SOURCE_SAVED = "saved from last run"
SOURCE_SOCKET = "Docker socket"
SOURCE_DESKTOP = "Docker Desktop"
SOURCE_PODMAN_USER = "Podman (rootless)"
SOURCE_PODMAN_ROOT = "Podman (rootful)"
SOURCE_COLIMA = "Colima"
SOURCE_RANCHER = "Rancher Desktop"
SOURCE_APPLE = "Apple Container"
_CONTEXT_PREFIX = "Docker context"

_DEFAULT_TCP_PORT = 2375
_DEFAULT_TLS_PORT = 2376


class Product(StrEnum):
    DOCKER = "Docker"
    PODMAN = "Podman"
    APPLE = "Apple Container"
    OTHER = "Docker-compatible engine"


class Outcome(StrEnum):
    OK = "ok"
    MISSING = "no socket"
    PERMISSION = "permission denied"
    REFUSED = "connection refused"
    TLS = "TLS error"
    TOO_OLD = "API too old"
    TIMEOUT = "timed out"
    NOT_AN_ENGINE = "not a Docker API"
    SSH = "SSH failed"
    ERROR = "error"
    NOT_TRIED = "not tried"


@dataclass(frozen=True)
class TLSFiles:
    """TLS material for a ``tcp://``/``https://`` engine; a file that is absent is None.

    ``cert_path`` is the folder the files were looked for in when it came from
    ``DOCKER_CERT_PATH`` (or its default ``~/.docker``), so a missing file can be named.
    """

    ca: Path | None
    cert: Path | None
    key: Path | None
    verify: bool
    cert_path: Path | None = None


@dataclass(frozen=True)
class Candidate:
    """One place an engine may answer.

    ``source`` says in the user's words where it came from ("DOCKER_HOST", "Colima", ...);
    ``url`` is ``unix:///path``, ``tcp://host:port``, ``https://...`` or ``container``
    (the Apple Container CLI). ``problem`` is set when the setting itself is broken (a
    Docker context whose files are missing): such a candidate fails without a connection.
    """

    source: str
    url: str
    tls: TLSFiles | None = None
    problem: str | None = None

    @property
    def explicit(self) -> bool:
        """True when the user chose this place (flag, environment or Docker context)."""
        return self.source in (SOURCE_FLAG, SOURCE_ENV) or self.source.startswith(
            _CONTEXT_PREFIX
        )


@dataclass(frozen=True)
class EngineInfo:
    """The engine found, as its /version reported it, and how it was reached."""

    product: Product
    version: str
    api_version: str
    os: str
    arch: str
    url: str
    source: str
    tls: TLSFiles | None = None

    @property
    def summary(self) -> str:
        """E.g. ``Docker 20.10.24 · API 1.41 · linux/amd64``."""
        parts = [f"{self.product} {self.version}".strip()]
        if self.api_version:
            parts.append(f"API {self.api_version}")
        platform_ = "/".join(part for part in (self.os, self.arch) if part)
        if platform_:
            parts.append(platform_)
        return " · ".join(parts)

    @property
    def candidate(self) -> Candidate:
        return Candidate(source=self.source, url=self.url, tls=self.tls)

    @property
    def remote(self) -> str | None:
        """Where the engine runs when it is reached over the network, in words
        ("ops@host:2222 over SSH", "host:2376 over TLS"); None for this machine's socket.

        Such an engine cannot see this machine's files: the gateway gets its profile
        through a volume (see `hermes_tui.engine.volume`)."""
        return remote_place(self.url, self.tls)

    @property
    def place(self) -> str:
        """"this machine" or "remote host …": what doctor and status print per gateway."""
        remote = self.remote
        return f"remote host {remote}" if remote else "this machine"


@dataclass(frozen=True)
class Probe:
    """The verdict on one candidate: ``detail`` is the cause in one sentence naming the
    path or address; ``fix`` is what the user can do about it ("" when nothing useful)."""

    candidate: Candidate
    outcome: Outcome
    detail: str
    fix: str

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    @property
    def problem(self) -> Problem:
        return Problem(self.detail, self.fix, subject=self.candidate.url)


SAVED_FIX = (
    "This engine was found by the last run (engine_url in wizard.toml). Start it again, or "
    "give the one to use with --docker-host or DOCKER_HOST."
)

NOTHING_FOUND_HEADLINE = "No container runtime found: no Docker, Podman or Apple Container answers."
NOTHING_FOUND_FIX = (
    f"Install Docker ({DOCKER_INSTALL_URL}; Docker Desktop: {DOCKER_DESKTOP_URL}), "
    "or start it if it is installed (Linux: sudo systemctl start docker; macOS and Windows: "
    "open Docker Desktop). On an Apple Silicon Mac you can install Apple Container instead "
    f"({APPLE_CONTAINER_URL})."
)


@dataclass(frozen=True)
class Diagnosis:
    """Every probe made, in order, and the engine found (None when none answered)."""

    probes: tuple[Probe, ...]
    engine: EngineInfo | None

    @property
    def ok(self) -> bool:
        return self.engine is not None

    @property
    def culprit(self) -> Probe | None:
        """The failure most worth showing, or None when an engine was found or nothing exists.

        A place the user chose (flag, DOCKER_HOST, Docker context) that fails beats
        everything: they expect it to work. Next, the first failure that is not a plain
        "no socket" (a socket that refuses or is locked is the runtime the user has).
        """
        if self.ok:
            return None
        failed = [p for p in self.probes if p.outcome not in (Outcome.OK, Outcome.NOT_TRIED)]
        for probe_ in failed:
            if probe_.candidate.explicit:
                return probe_
        for probe_ in failed:
            if probe_.candidate.source == SOURCE_SAVED:
                return probe_
        for probe_ in failed:
            if probe_.outcome is not Outcome.MISSING:
                return probe_
        return None

    @property
    def headline(self) -> str:
        if self.engine is not None:
            return f"Found {self.engine.summary} ({self.engine.source}: {self.engine.url})."
        culprit = self.culprit
        return culprit.detail if culprit is not None else NOTHING_FOUND_HEADLINE

    @property
    def fix(self) -> str:
        if self.engine is not None:
            return ""
        culprit = self.culprit
        return culprit.fix if culprit is not None else NOTHING_FOUND_FIX

    @property
    def problem(self) -> Problem | None:
        """Why no engine was found (None when one was)."""
        if self.engine is not None:
            return None
        culprit = self.culprit
        return culprit.problem if culprit is not None else Problem(NOTHING_FOUND_HEADLINE,
                                                                   NOTHING_FOUND_FIX)


def remote_place(url: str, tls: TLSFiles | None = None) -> str | None:
    """See `EngineInfo.remote`."""
    parts = urlsplit(url)
    if parts.scheme == "ssh":
        from hermes_tui.engine.ssh_diagnosis import parse_ssh_url

        try:
            return f"{parse_ssh_url(url).display} over SSH"
        except ValueError:
            return f"{url} over SSH"
    if parts.scheme in ("tcp", "http", "https"):
        secure = tls is not None or parts.scheme == "https"
        return f"{_tcp_netloc(url, secure)} over {'TLS' if secure else 'plain TCP'}"
    return None


class UnsupportedEngineError(ValueError):
    """The runtime found has no Docker Engine API we can talk to (e.g. Apple Container)."""


# --------------------------------------------------------------------------------------------
# Where to look
# --------------------------------------------------------------------------------------------


def candidates(
    docker_host: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    system: str | None = None,
    machine: str | None = None,
    uid: int | None = None,
    saved: str | None = None,
) -> list[Candidate]:
    """The places to try, best first, without touching the network.

    ``--docker-host`` (``docker_host``) is the only candidate when given: the user chose
    it. Otherwise DOCKER_HOST, then ``saved`` (the engine a previous run found and
    recorded in ``wizard.toml``: an engine given once with ``--docker-host`` is used
    again without repeating it), the current Docker context, then the well-known sockets of
    Docker, Docker Desktop, Podman, Colima and Rancher Desktop, and on Apple Silicon the
    Apple Container CLI. Identical URLs are listed once (the first source wins). Every
    parameter defaults to this machine; tests pass their own.
    """
    env = os.environ if env is None else env
    if home is None:
        home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    system = system or platform.system()
    machine = machine or platform.machine()
    if uid is None:
        uid = os.getuid() if hasattr(os, "getuid") else 0
    config_dir = Path(env["DOCKER_CONFIG"]) if env.get("DOCKER_CONFIG") else home / ".docker"

    if docker_host:
        url = _normalise_url(docker_host)
        return [Candidate(SOURCE_FLAG, url, _env_tls(url, env, config_dir))]

    found: list[Candidate] = []
    if env.get("DOCKER_HOST"):
        url = _normalise_url(env["DOCKER_HOST"])
        found.append(Candidate(SOURCE_ENV, url, _env_tls(url, env, config_dir)))
    if saved:
        url = _normalise_url(saved)
        found.append(Candidate(SOURCE_SAVED, url, _env_tls(url, env, config_dir)))
    context = _context_candidate(env, config_dir)
    if context is not None:
        found.append(context)

    def unix(source: str, path: Path | str) -> None:
        found.append(Candidate(source, f"unix://{path}"))

    unix(SOURCE_SOCKET, "/var/run/docker.sock")
    unix(SOURCE_DESKTOP, home / ".docker/run/docker.sock")
    if system == "Linux":
        unix(SOURCE_DESKTOP, home / ".docker/desktop/docker.sock")
    runtime_dir = env.get("XDG_RUNTIME_DIR") or f"/run/user/{uid}"
    unix(SOURCE_PODMAN_USER, Path(runtime_dir) / "podman/podman.sock")
    unix(SOURCE_PODMAN_ROOT, "/run/podman/podman.sock")
    unix(SOURCE_COLIMA, home / ".colima/default/docker.sock")
    unix(SOURCE_COLIMA, home / ".colima/docker.sock")
    unix(SOURCE_RANCHER, home / ".rd/docker.sock")
    if system == "Darwin" and machine == "arm64":
        found.append(Candidate(SOURCE_APPLE, APPLE_URL))
    return _dedup(found)


def _normalise_url(raw: str) -> str:
    """Accept what users type: a bare socket path means ``unix://`` that path."""
    raw = raw.strip()
    if raw.startswith("/"):
        return f"unix://{raw}"
    return raw


def _dedup_key(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return "unix://" + os.path.normpath(parts.path or parts.netloc)
    return url.rstrip("/")


def _dedup(found: list[Candidate]) -> list[Candidate]:
    seen: set[str] = set()
    unique: list[Candidate] = []
    for candidate in found:
        if candidate.url:  # a broken context has no URL and is never a duplicate
            key = _dedup_key(candidate.url)
            if key in seen:
                continue
            seen.add(key)
        unique.append(candidate)
    return unique


def _existing(path: Path) -> Path | None:
    return path if path.is_file() else None


def _env_tls(url: str, env: Mapping[str, str], config_dir: Path) -> TLSFiles | None:
    """TLS for a TCP address the way the docker CLI reads it from the environment.

    TLS is on for ``https://``, or when DOCKER_TLS_VERIFY, DOCKER_TLS or DOCKER_CERT_PATH
    is set; the certificate is verified when DOCKER_TLS_VERIFY is non-empty and not "0".
    The files are ca.pem, cert.pem and key.pem in DOCKER_CERT_PATH (default ~/.docker).
    """
    scheme = urlsplit(url).scheme
    if scheme not in ("tcp", "https"):
        return None
    verify_flag = env.get("DOCKER_TLS_VERIFY", "")
    wanted = (
        scheme == "https"
        or verify_flag != ""
        or env.get("DOCKER_TLS", "") not in ("", "0")
        or bool(env.get("DOCKER_CERT_PATH"))
    )
    if not wanted:
        return None
    cert_dir = Path(env["DOCKER_CERT_PATH"]) if env.get("DOCKER_CERT_PATH") else config_dir
    return TLSFiles(
        ca=_existing(cert_dir / "ca.pem"),
        cert=_existing(cert_dir / "cert.pem"),
        key=_existing(cert_dir / "key.pem"),
        verify=verify_flag not in ("", "0"),
        cert_path=cert_dir,
    )


#: Advice for a user who may not use the engine that is there. Never "chmod the socket":
#: access to a rootful engine's socket is root on this machine.
_OWN_ENGINE = (
    "rootless Podman (systemctl --user start podman.socket: hermes-tui finds it) or rootless "
    "Docker (dockerd-rootless-setuptool.sh install, then set DOCKER_HOST as it says)"
)


def _json_failure(exc: BaseException) -> str:
    """Why a Docker CLI JSON file could not be used; json's RecursionError (a file nested
    hundreds of levels deep) in words."""
    if isinstance(exc, RecursionError):
        return "it is nested too deeply to be the Docker CLI's JSON"
    return str(exc)


def context_dir_name(name: str) -> str:
    """The docker CLI stores context ``name`` under a folder named by its SHA-256."""
    return hashlib.sha256(name.encode("utf-8")).hexdigest()


def _context_candidate(env: Mapping[str, str], config_dir: Path) -> Candidate | None:
    """The current Docker context's endpoint, or None for the "default" context.

    Same layout as the docker CLI: ``DOCKER_CONTEXT`` or ``currentContext`` in
    ``config.json`` names the context; ``contexts/meta/<sha256>/meta.json`` holds
    ``Endpoints.docker.Host``; ``contexts/tls/<sha256>/docker/{ca,cert,key}.pem`` the TLS
    files. A context that is selected but unreadable becomes a candidate with a
    ``problem``, since the docker CLI would fail on it too and the user should know.
    """
    name = env.get("DOCKER_CONTEXT", "").strip()
    config_file = config_dir / "config.json"
    if not name:
        try:
            config = json.loads(config_file.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError, RecursionError) as exc:
            return Candidate(
                f"{_CONTEXT_PREFIX} (config.json)", "",
                problem=f"Cannot read {config_file}: {_json_failure(exc)}."
            )
        name = str(config.get("currentContext") or "") if isinstance(config, dict) else ""
    if not name or name == "default":
        return None

    source = f"{_CONTEXT_PREFIX} '{name}'"
    digest = context_dir_name(name)
    meta_file = config_dir / "contexts" / "meta" / digest / "meta.json"
    try:
        endpoint = json.loads(meta_file.read_bytes())["Endpoints"]["docker"]
        host = str(endpoint["Host"])
    except FileNotFoundError:
        return Candidate(
            source,
            "",
            problem=f"Docker context '{name}' is selected but {meta_file} does not exist.",
        )
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        return Candidate(
            source,
            "",
            problem=f"Docker context '{name}' has no usable engine address in {meta_file} "
            f"({type(exc).__name__}: {_json_failure(exc)}).",
        )
    url = _normalise_url(host)
    tls: TLSFiles | None = None
    if urlsplit(url).scheme in ("tcp", "https"):
        tls_dir = config_dir / "contexts" / "tls" / digest / "docker"
        ca, cert, key = (_existing(tls_dir / f"{n}.pem") for n in ("ca", "cert", "key"))
        if ca or cert or key or url.startswith("https://"):
            tls = TLSFiles(ca, cert, key, verify=not endpoint.get("SkipTLSVerify", False))
    return Candidate(source, url, tls)


# --------------------------------------------------------------------------------------------
# Connecting
# --------------------------------------------------------------------------------------------


def ssl_context(tls: TLSFiles) -> ssl.SSLContext:
    """An SSL context from the TLS files (raises OSError/ssl.SSLError if they are unusable)."""
    context = ssl.create_default_context(cafile=str(tls.ca) if tls.ca else None)
    if not tls.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if tls.cert is not None:
        context.load_cert_chain(str(tls.cert), str(tls.key) if tls.key else None)
    return context


def _tcp_netloc(url: str, tls: bool) -> str:
    parts = urlsplit(url)
    if parts.port is None:
        return f"{parts.hostname}:{_DEFAULT_TLS_PORT if tls else _DEFAULT_TCP_PORT}"
    return parts.netloc


def client(
    target: EngineInfo | Candidate,
    *,
    timeout: aiohttp.ClientTimeout | None = None,
) -> aiodocker.Docker:
    """An aiodocker client for ``target``, reaching it with the same URL and TLS as the probe.

    Call it inside a running event loop (aiohttp needs one) and ``await client.close()``
    when done. For an `EngineInfo` the API version is pinned to the one the engine reported,
    which saves aiodocker a round trip. Without ``timeout`` only connecting is bounded (10 s):
    pull streams may legitimately run for minutes.
    Raises `UnsupportedEngineError` for Apple Container and for addresses we cannot use.
    """
    import aiodocker
    import aiohttp

    if timeout is None:
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10.0)
    api_version = "auto"
    if isinstance(target, EngineInfo):
        if target.product is Product.APPLE:
            raise UnsupportedEngineError(
                "Apple Container has no Docker Engine API; drive it with its `container` CLI."
            )
        if target.api_version:
            api_version = f"v{target.api_version}"
    url, tls = target.url, target.tls
    scheme = urlsplit(url).scheme
    if url == APPLE_URL:
        raise UnsupportedEngineError(
            "Apple Container has no Docker Engine API; drive it with its `container` CLI."
        )
    if scheme == "unix":
        return aiodocker.Docker(url=url, timeout=timeout, api_version=api_version)
    if scheme == "ssh":
        from hermes_tui.engine.ssh import connection_for

        try:
            bridge = connection_for(url).socket_path()
        except ValueError as exc:
            raise UnsupportedEngineError(str(exc)) from exc
        return aiodocker.Docker(url=f"unix://{bridge}", timeout=timeout, api_version=api_version)
    if scheme in ("tcp", "http", "https"):
        secure = tls is not None or scheme == "https"
        netloc = _tcp_netloc(url, secure)
        if secure:
            context = ssl_context(tls) if tls is not None else ssl.create_default_context()
            return aiodocker.Docker(
                url=f"https://{netloc}",
                ssl_context=context,
                timeout=timeout,
                api_version=api_version,
            )
        # ssl_context=False, not None: with None, aiodocker would read DOCKER_TLS_VERIFY from
        # os.environ and turn TLS on behind our back. Whether to use TLS is decided above.
        return aiodocker.Docker(
            url=f"http://{netloc}",
            ssl_context=False,  # type: ignore[arg-type]
            timeout=timeout,
            api_version=api_version,
        )
    raise UnsupportedEngineError(f"hermes-tui cannot connect to {url!r}.")


# --------------------------------------------------------------------------------------------
# Probing one candidate
# --------------------------------------------------------------------------------------------


async def probe(
    candidate: Candidate,
    timeout: float = 3.0,
    *,
    system: str | None = None,
) -> tuple[Probe, EngineInfo | None]:
    """Try ``candidate`` for real, within ``timeout`` seconds, and classify the result.

    For a unix socket the file is checked first (so "no socket" is cheap and certain),
    then ``GET /_ping`` and ``GET /version`` go over a real connection. ``system``
    (default: this machine's) only shapes the advice, e.g. systemctl vs Docker Desktop.
    Never raises for anything the engine or the network does.
    """
    system = system or platform.system()
    judge = _Judge(candidate, system)
    if candidate.problem:
        return judge.verdict(Outcome.ERROR, candidate.problem, judge.context_fix()), None
    if candidate.url == APPLE_URL:
        return await _probe_apple(judge, timeout)

    scheme = urlsplit(candidate.url).scheme
    if scheme == "npipe":
        return judge.verdict(
            Outcome.ERROR,
            f"Windows named pipes are not supported ({candidate.url}).",
            "Run hermes-tui inside WSL 2 with Docker Desktop's WSL integration turned on.",
        ), None
    if scheme == "ssh":
        return await _probe_ssh(judge, timeout)
    if scheme == "unix":
        early = judge.check_socket_file()
        if early is not None:
            return early, None
    elif scheme not in ("tcp", "http", "https"):
        return judge.verdict(
            Outcome.ERROR,
            f"{candidate.url!r} is not an engine address hermes-tui understands.",
            "Use unix:///path/to/docker.sock or tcp://host:port.",
        ), None

    if candidate.tls is not None:
        problem = _tls_files_problem(candidate.tls)
        if problem is not None:
            return judge.verdict(Outcome.TLS, problem, judge.tls_files_fix()), None
    return await _probe_http(judge, timeout)


class _Judge:
    """Turns observations about one candidate into Probe verdicts with the right advice."""

    def __init__(self, candidate: Candidate, system: str) -> None:
        self.candidate = candidate
        self.system = system
        parts = urlsplit(candidate.url)
        self.is_unix = parts.scheme == "unix"
        self.path = (parts.path or parts.netloc) if self.is_unix else ""
        self.where = self.path if self.is_unix else candidate.url
        self.podman = candidate.source.startswith("Podman")

    def verdict(self, outcome: Outcome, detail: str, fix: str = "") -> Probe:
        return Probe(self.candidate, outcome, detail, fix)

    # -- the socket file ----------------------------------------------------------------- #

    def check_socket_file(self) -> Probe | None:
        """MISSING / PERMISSION / NOT_AN_ENGINE from the file alone; None to go on."""
        try:
            mode = os.stat(self.path).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return self.missing()
        except PermissionError:
            folder = self._blocked_folder()
            return self.verdict(
                Outcome.PERMISSION,
                f"Permission denied: cannot look inside {folder}, so {self.path} is "
                "out of reach for this user.",
                f"Run hermes-tui as the user this engine belongs to (the owner of {folder}), "
                f"or use an engine of your own: {_OWN_ENGINE}. Opening {folder} to other "
                "users is not the fix: it exposes what is inside.",
            )
        except OSError as exc:
            return self.verdict(Outcome.ERROR, f"Cannot check {self.path}: {exc.strerror or exc}.")
        if not stat.S_ISSOCK(mode):
            return self.verdict(
                Outcome.NOT_AN_ENGINE,
                f"{self.path} exists but is not a socket, so no engine can listen there.",
                self.wrong_address_fix(),
            )
        return None

    def _blocked_folder(self) -> str:
        """The first folder on the way to the socket this user may not enter."""
        for parent in reversed(Path(self.path).parents):
            if not os.access(parent, os.X_OK):
                return str(parent)
        return str(Path(self.path).parent)

    def missing(self) -> Probe:
        if self.candidate.source == SOURCE_FLAG:
            fix = "Check the path given to --docker-host, or leave the option out to search."
        elif self.candidate.source == SOURCE_ENV:
            fix = "Correct DOCKER_HOST, or unset it to let hermes-tui search the usual places."
        elif self.candidate.source.startswith(_CONTEXT_PREFIX):
            fix = self.context_fix()
        elif self.candidate.source == SOURCE_SAVED:
            fix = SAVED_FIX
        else:
            fix = ""  # one of many places we look: its absence alone is no advice
        return self.verdict(Outcome.MISSING, f"No socket at {self.path}.", fix)

    # -- advice -------------------------------------------------------------------------- #

    def context_fix(self) -> str:
        return (
            "Repair the context, or switch back to the local engine: docker context use default."
        )

    def wrong_address_fix(self) -> str:
        if self.candidate.source == SOURCE_FLAG:
            return "Point --docker-host at the engine's socket or address."
        if self.candidate.source == SOURCE_ENV:
            return "Point DOCKER_HOST at the engine's socket or address, or unset it."
        if self.candidate.explicit:
            return self.context_fix()
        if self.candidate.source == SOURCE_SAVED:
            return SAVED_FIX
        return ""

    def start_fix(self) -> str:
        """How to start the daemon that should be behind this candidate."""
        source = self.candidate.source
        if self.podman:
            if self.system == "Darwin":
                return "Start the Podman machine: podman machine start."
            if source == SOURCE_PODMAN_ROOT:
                return "Start Podman's API socket: sudo systemctl start podman.socket."
            return "Start Podman's API socket: systemctl --user start podman.socket."
        if source == SOURCE_COLIMA:
            return "Start Colima: colima start."
        if source == SOURCE_RANCHER:
            return "Start Rancher Desktop."
        if not self.is_unix:
            return f"Start the engine at {self.where}, or check the host and port."
        desktop = (
            "Start Docker Desktop from the Applications folder and wait for the whale icon "
            "in the menu bar or taskbar to settle."
        )
        if source == SOURCE_DESKTOP or self.system in ("Darwin", "Windows"):
            return desktop
        return "Start the Docker daemon: sudo systemctl start docker (or start Docker Desktop)."

    def restart_fix(self) -> str:
        """For an engine that is there but hung or unhealthy."""
        source = self.candidate.source
        if self.podman:
            if self.system == "Darwin":
                return "Restart the Podman machine: podman machine stop, then podman machine start."
            sudo = "sudo " if source == SOURCE_PODMAN_ROOT else ""
            user = "" if sudo else "--user "
            return f"Restart Podman's API service: {sudo}systemctl {user}restart podman.service."
        if source == SOURCE_COLIMA:
            return "Restart Colima: colima restart."
        if source == SOURCE_RANCHER:
            return "Restart Rancher Desktop."
        if not self.is_unix:
            return f"Restart the engine at {self.where}, and check that nothing in between drops it."
        if source == SOURCE_DESKTOP or self.system in ("Darwin", "Windows"):
            return "Restart Docker Desktop (whale icon in the menu bar or taskbar → Restart)."
        return "Restart the Docker daemon: sudo systemctl restart docker."

    def permission_fix(self) -> str:
        if self.podman:
            return (
                "Use your own rootless Podman socket instead: systemctl --user start podman.socket."
            )
        return (
            "Add yourself to the docker group: sudo usermod -aG docker $USER, then log out and "
            f"back in (or run newgrp docker). Or use an engine of your own: {_OWN_ENGINE}. "
            f"Do not chmod {self.path} for everyone: whoever can use this engine controls "
            "the machine as root."
        )

    def tls_files_fix(self) -> str:
        tls = self.candidate.tls
        if tls is not None and tls.cert_path is not None:
            return (
                f"Put this engine's ca.pem, cert.pem and key.pem in {tls.cert_path}, or set "
                "DOCKER_CERT_PATH to the folder that holds them."
            )
        return self.context_fix()


def _tls_files_problem(tls: TLSFiles) -> str | None:
    """Say which TLS files are missing or unusable before a handshake hides the reason."""
    folder = tls.cert_path or (tls.cert or tls.key or tls.ca or Path(".")).parent
    if (tls.cert is None) != (tls.key is None):
        have, lack = ("cert.pem", "key.pem") if tls.cert else ("key.pem", "cert.pem")
        return f"TLS client files are incomplete: {folder} has {have} but no {lack}."
    if tls.verify and tls.ca is None and tls.cert_path is not None:
        missing = [n for n, f in (("ca.pem", tls.ca), ("cert.pem", tls.cert),
                                  ("key.pem", tls.key)) if f is None]
        return (
            f"TLS verification is on (DOCKER_TLS_VERIFY) but {folder} (DOCKER_CERT_PATH) "
            f"has no {', '.join(missing)}."
        )
    try:
        ssl_context(tls)
    except (OSError, ssl.SSLError, ValueError) as exc:
        return f"Cannot load the TLS files in {folder}: {_ssl_reason(exc)}."
    return None


def _ssl_reason(exc: BaseException) -> str:
    """The short OpenSSL reason ("wrong version number") or the message."""
    if isinstance(exc, ssl.SSLCertVerificationError) and exc.verify_message:
        return f"certificate verify failed: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return str(exc.reason).replace("_", " ").lower()
    return str(getattr(exc, "strerror", None) or exc)


_NOT_TLS_REASONS = ("wrong version number", "packet length too long", "record layer failure",
                    "http request", "unknown protocol")
_CLIENT_CERT_REASONS = ("certificate required", "bad certificate", "unknown ca",
                        "certificate unknown", "handshake failure")


async def _probe_http(judge: _Judge, timeout: float) -> tuple[Probe, EngineInfo | None]:
    """GET /_ping and /version over a real connection; classify every way it can fail."""
    import aiohttp

    candidate = judge.candidate
    docker = None
    try:
        async with asyncio.timeout(timeout):
            docker = client(candidate, timeout=aiohttp.ClientTimeout(total=timeout))
            status, body, _ = await _get(docker, "_ping")
            if status != 200 or body.strip() != b"OK":
                return _bad_ping(judge, status, body), None
            status, body, content_type = await _get(docker, "version")
            return _judge_version(judge, status, body, content_type)
    except TimeoutError:
        if judge.is_unix:  # connecting to a listening unix socket never waits
            detail = (
                f"{judge.where} accepted the connection but did not answer within {timeout:g} s."
            )
            fix = judge.restart_fix()
        else:
            detail = (
                f"{judge.where} did not answer within {timeout:g} s: the host may be down, "
                "a firewall may drop the port, or the engine is hung."
            )
            fix = "Check that the host is up and the port is reachable. " + judge.restart_fix()
        return judge.verdict(Outcome.TIMEOUT, detail, fix), None
    except aiohttp.ClientConnectorCertificateError as exc:
        return _tls_verify_failed(judge, exc.certificate_error), None
    except (aiohttp.ClientSSLError, ssl.SSLError) as exc:
        # aiohttp keeps the ssl.SSLError (with OpenSSL's reason) in os_error.
        return _tls_failed(judge, getattr(exc, "os_error", None) or exc), None
    except aiohttp.ClientConnectorDNSError as exc:
        host = urlsplit(candidate.url).hostname
        return judge.verdict(
            Outcome.ERROR,
            f"Cannot resolve the host name {host!r} of {candidate.url}: "
            f"{(exc.os_error.strerror or str(exc.os_error)).lower()}.",
            judge.wrong_address_fix() or f"Check the host name in {candidate.url}.",
        ), None
    except aiohttp.ClientConnectorError as exc:
        return _connect_failed(judge, exc.os_error), None
    except aiohttp.ServerDisconnectedError as exc:
        if candidate.tls is not None:
            # Under TLS 1.3 a server that refuses our client certificate says so only after
            # the handshake: the client just sees the connection close.
            return _tls_closed(judge, candidate.tls), None
        return judge.verdict(
            Outcome.NOT_AN_ENGINE,
            f"{judge.where} closed the connection without answering ({exc}). "
            "It may expect TLS: set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH."
            if not judge.is_unix
            else f"{judge.where} closed the connection without answering ({exc}).",
            judge.wrong_address_fix(),
        ), None
    except (aiohttp.ClientResponseError, aiohttp.ClientPayloadError) as exc:
        hint = ""
        if not judge.is_unix and candidate.tls is None:
            hint = " It may expect TLS: set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH."
        return judge.verdict(
            Outcome.NOT_AN_ENGINE,
            f"{judge.where} did not answer like the Docker Engine API "
            f"({type(exc).__name__}: {exc}).{hint}",
            judge.wrong_address_fix(),
        ), None
    except OSError as exc:
        return _connect_failed(judge, exc), None
    except aiohttp.ClientError as exc:
        return judge.verdict(
            Outcome.ERROR, f"Talking to {judge.where} failed: {type(exc).__name__}: {exc}."
        ), None
    except UnsupportedEngineError as exc:
        return judge.verdict(Outcome.ERROR, str(exc), judge.wrong_address_fix()), None
    finally:
        if docker is not None:
            await docker.close()


#: An SSH login (a jump host, a slow key exchange) takes longer than a local socket.
SSH_PROBE_TIMEOUT = 15.0


async def _probe_ssh(judge: _Judge, timeout: float) -> tuple[Probe, EngineInfo | None]:
    """Connect over SSH (one master connection, kept for the later steps), then ask the
    remote engine /_ping and /version through ``docker system dial-stdio``. What OpenSSH or
    the remote docker said names the cause when either fails."""
    from hermes_tui.engine.ssh import SshError, SshFailure, connection_for

    outcomes = {
        SshFailure.DAEMON_DOWN: Outcome.REFUSED,
        SshFailure.DAEMON_FORBIDDEN: Outcome.PERMISSION,
        SshFailure.NO_DOCKER: Outcome.MISSING,
        SshFailure.UNREACHABLE: Outcome.SSH,
    }

    def failed(error: SshError) -> tuple[Probe, None]:
        problem = error.problem
        return judge.verdict(outcomes.get(error.kind, Outcome.SSH), problem.what,
                             problem.fix), None

    try:
        connection = connection_for(judge.candidate.url)
    except ValueError as exc:
        return judge.verdict(Outcome.ERROR, str(exc), judge.wrong_address_fix()), None
    budget = max(timeout, SSH_PROBE_TIMEOUT)
    try:
        await connection.connect(budget)
    except SshError as error:
        return failed(error)
    connection.last_failure = None
    verdict, info = await _probe_http(judge, budget)
    if info is None and connection.last_failure is not None:
        return failed(connection.last_failure)
    return verdict, info


async def _get(docker: aiodocker.Docker, path: str) -> tuple[int, bytes, str]:
    """One unversioned GET through the client's own session (same connector and TLS)."""
    async with docker.session.get(f"{docker.docker_host}/{path}") as response:
        return response.status, await response.read(), response.headers.get("Content-Type", "")


def _bad_ping(judge: _Judge, status: int, body: bytes) -> Probe:
    if status >= 500:
        return judge.verdict(
            Outcome.ERROR,
            f"The engine at {judge.where} is unhealthy: GET /_ping answered HTTP {status} "
            f"({_snippet(body)}).",
            judge.restart_fix(),
        )
    return judge.verdict(
        Outcome.NOT_AN_ENGINE,
        f"{judge.where} answered GET /_ping with HTTP {status} ({_snippet(body)}): "
        "that is a web server, not the Docker Engine API.",
        judge.wrong_address_fix(),
    )


def _snippet(body: bytes, limit: int = 60) -> str:
    text = " ".join(body.decode("utf-8", "replace").split())
    if not text:
        return "empty body"
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _judge_version(
    judge: _Judge, status: int, body: bytes, content_type: str
) -> tuple[Probe, EngineInfo | None]:
    data: Any = None
    if status == 200:
        try:
            data = json.loads(body)
        except ValueError:
            data = None
    if not isinstance(data, dict) or not isinstance(data.get("ApiVersion"), str):
        return judge.verdict(
            Outcome.NOT_AN_ENGINE,
            f"{judge.where} answers /_ping but GET /version gave HTTP {status} "
            f"({content_type or 'no content type'}) without an API version: "
            "not a Docker Engine API.",
            judge.wrong_address_fix(),
        ), None

    candidate = judge.candidate
    info = EngineInfo(
        product=_product(data),
        version=str(data.get("Version", "")),
        api_version=data["ApiVersion"],
        os=str(data.get("Os", "")),
        arch=str(data.get("Arch", "")),
        url=candidate.url,
        source=candidate.source,
        tls=candidate.tls,
    )
    if _version_tuple(info.api_version) < _version_tuple(MIN_API_VERSION):
        if info.product is Product.PODMAN:
            upgrade, guide = "upgrade Podman to 4.0 or newer", PODMAN_INSTALL_URL
        else:
            upgrade, guide = "upgrade Docker to 20.10 or newer", DOCKER_INSTALL_URL
        return judge.verdict(
            Outcome.TOO_OLD,
            f"Engine API {info.api_version} ({info.product} {info.version} at {judge.where}) "
            f"is older than {MIN_API_VERSION}: {upgrade}.",
            f"{upgrade[0].upper()}{upgrade[1:]}: {guide}",
        ), None
    return judge.verdict(Outcome.OK, f"{info.summary} answers at {judge.where}."), info


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", text)[:3]) or (0,)


def _product(version: Mapping[str, Any]) -> Product:
    """Podman and Docker both fill /version; their component and platform names differ."""
    names = [
        str(component.get("Name", ""))
        for component in version.get("Components") or []
        if isinstance(component, dict)
    ]
    platform_name = str((version.get("Platform") or {}).get("Name", ""))
    labels = " ".join([*names, platform_name]).lower()
    if "podman" in labels:
        return Product.PODMAN
    if "Engine" in names or "docker" in labels:
        return Product.DOCKER
    return Product.OTHER


def _connect_failed(judge: _Judge, exc: OSError) -> Probe:
    code = exc.errno
    where = judge.where
    if code in (errno.EACCES, errno.EPERM):
        return judge.verdict(
            Outcome.PERMISSION,
            f"Permission denied on {where}: this user may not talk to the engine.",
            judge.permission_fix(),
        )
    if code == errno.ECONNREFUSED:
        detail = (
            f"Nothing is listening on {where}: the socket is left over, the daemon is not "
            "running."
            if judge.is_unix
            else f"Connection refused by {where}: no engine listens on that port."
        )
        return judge.verdict(Outcome.REFUSED, detail, judge.start_fix())
    if code in (errno.ENOENT, errno.ENOTDIR):
        return judge.missing()
    if code == errno.ETIMEDOUT:
        return judge.verdict(
            Outcome.TIMEOUT,
            f"Connecting to {where} timed out.",
            "Check that the host is up and that no firewall drops the port.",
        )
    if code in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return judge.verdict(
            Outcome.ERROR, f"Cannot reach {where}: {exc.strerror}.", judge.wrong_address_fix()
        )
    return judge.verdict(
        Outcome.ERROR, f"Cannot connect to {where}: {exc.strerror or exc}.", judge.start_fix()
    )


def _tls_verify_failed(judge: _Judge, exc: BaseException) -> Probe:
    tls = judge.candidate.tls
    ca = tls.ca if tls is not None and tls.ca is not None else "the system's trusted CAs"
    return judge.verdict(
        Outcome.TLS,
        f"TLS certificate verify failed for {judge.where} ({_ssl_reason(exc)}): its "
        f"certificate is not signed by {ca}.",
        judge.tls_files_fix(),
    )


def _tls_closed(judge: _Judge, tls: TLSFiles) -> Probe:
    folder = tls.cert_path or (tls.cert.parent if tls.cert else None)
    if tls.cert is None:
        cause = "it most likely requires a client certificate, and " + (
            f"{folder} has no cert.pem and key.pem" if folder else "none is configured"
        )
    else:
        cause = f"it most likely does not trust the client certificate {tls.cert}"
    return judge.verdict(
        Outcome.TLS,
        f"{judge.where} closed the TLS connection without answering: {cause}.",
        judge.tls_files_fix(),
    )


def _tls_failed(judge: _Judge, exc: BaseException) -> Probe:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _tls_verify_failed(judge, exc)
    reason = _ssl_reason(exc)
    if any(marker in reason for marker in _NOT_TLS_REASONS):
        return judge.verdict(
            Outcome.TLS,
            f"TLS failed with {reason!r}: {judge.where} does not speak TLS (plain HTTP?).",
            "Unset DOCKER_TLS_VERIFY and DOCKER_CERT_PATH for a plain port (usually 2375), "
            "or use the engine's TLS port (usually 2376).",
        )
    if any(marker in reason for marker in _CLIENT_CERT_REASONS):
        return judge.verdict(
            Outcome.TLS,
            f"{judge.where} rejected the TLS handshake ({reason}): it wants a client "
            "certificate it trusts (cert.pem and key.pem).",
            judge.tls_files_fix(),
        )
    return judge.verdict(
        Outcome.TLS, f"TLS handshake with {judge.where} failed: {reason}.", judge.tls_files_fix()
    )


# --------------------------------------------------------------------------------------------
# Apple Container
# --------------------------------------------------------------------------------------------


async def _run_cli(argv: list[str], timeout: float) -> tuple[int, str]:
    """Run a CLI command with a deadline; the child is killed if it overstays."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with asyncio.timeout(timeout):
            output, _ = await process.communicate()
    except BaseException:
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    return process.returncode or 0, output.decode("utf-8", "replace")


async def _probe_apple(judge: _Judge, timeout: float) -> tuple[Probe, EngineInfo | None]:
    """Apple Container has no socket to dial: ask its CLI whether its services run."""
    executable = shutil.which("container")
    if executable is None:
        return judge.verdict(
            Outcome.MISSING, "The Apple Container CLI (`container`) is not installed."
        ), None
    try:
        code, output = await _run_cli([executable, "system", "status"], timeout)
        if code != 0:
            first = output.strip().splitlines()[0] if output.strip() else f"exit code {code}"
            return judge.verdict(
                Outcome.REFUSED,
                f"Apple Container is installed but its services are not running ({first}).",
                "Start them: container system start.",
            ), None
        _, version_text = await _run_cli([executable, "--version"], timeout)
    except TimeoutError:
        return judge.verdict(
            Outcome.TIMEOUT,
            f"`{executable} system status` did not finish within {timeout:g} s.",
            "Restart Apple Container: container system stop, then container system start.",
        ), None
    except OSError as exc:
        return judge.verdict(
            Outcome.ERROR, f"Cannot run {executable}: {exc.strerror or exc}."
        ), None
    match = re.search(r"version\s+v?([0-9][\w.+-]*)", version_text)
    info = EngineInfo(
        product=Product.APPLE,
        version=match.group(1) if match else "",
        api_version="",
        os="linux",  # Apple Container runs Linux containers in lightweight VMs
        arch="arm64",
        url=APPLE_URL,
        source=judge.candidate.source,
    )
    return judge.verdict(Outcome.OK, f"{info.summary} is running."), info


# --------------------------------------------------------------------------------------------
# Everything together
# --------------------------------------------------------------------------------------------


async def diagnose(
    docker_host: str | None = None,
    *,
    timeout: float = 3.0,
    candidate_list: Sequence[Candidate] | None = None,
    on_probe: Callable[[Probe], None] | None = None,
    **candidate_kwargs: Any,
) -> Diagnosis:
    """Probe the candidates in order and stop at the first engine that answers.

    The ones after it are reported as NOT_TRIED. Each probe is bounded by ``timeout``.
    ``candidate_list`` replaces the search (``candidates(docker_host, **candidate_kwargs)``);
    ``on_probe`` is called with each verdict as it is made, so a screen can show progress.
    """
    system = candidate_kwargs.get("system") or platform.system()
    if candidate_list is None:
        candidate_list = candidates(docker_host, **candidate_kwargs)
    probes: list[Probe] = []
    engine: EngineInfo | None = None
    for candidate in candidate_list:
        if engine is not None:
            verdict = Probe(
                candidate,
                Outcome.NOT_TRIED,
                f"Not tried: {engine.product} already answers at {engine.url}.",
                "",
            )
        else:
            verdict, engine = await probe(candidate, timeout, system=system)
        probes.append(verdict)
        if on_probe is not None:
            on_probe(verdict)
    return Diagnosis(tuple(probes), engine)
