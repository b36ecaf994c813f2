"""A real, throw-away Docker engine and image registry for engine tests.

`LocalEngine` starts Debian's ``dockerd`` and the CNCF ``docker-registry`` as
root, bound only to a private unix socket and to loopback, with every piece of
state (data, sockets, logs, pid files, registry storage) inside one temporary
folder.  It then builds a small multi-layer image *offline* (from the static
busybox binary), pushes two tags of it to the registry and deletes them from
the engine again, so that the first pull a test makes is a real, cold pull with
progress events.

Only the standard library is used, so the harness works before (and
independently of) the application's own dependencies.  ``stop()`` ends exactly
the processes this object started (plus, as a fallback, the containerd and
container shims that belong to *its* state folder); nothing is ever killed by
name.

Run ``python -m tests.support.engine up`` from the repository root to get an
engine for manual work; it prints the environment to use and stops cleanly on
Ctrl+C or SIGTERM.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import errno
import http.client
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Final, Literal

DOCKERD: Final = "dockerd"
#: How long deleting one image may take (the real-Hermes image is large; CI is busy).
IMAGE_DELETE_TIMEOUT: Final = 300.0
REGISTRY_BINARY: Final = "docker-registry"
#: The Debian client: it still supports the legacy builder (DOCKER_BUILDKIT=0)
#: and matches the 20.10 engine; /usr/local/bin/docker may be a different one.
DOCKER_CLIENT: Final = "/usr/bin/docker"
BUSYBOX_CANDIDATES: Final = ("/bin/busybox", "/usr/bin/busybox")

#: Applets linked into the test image's /bin (busybox dispatches on argv[0]).
BUSYBOX_APPLETS: Final = (
    "sh",
    "echo",
    "ls",
    "cat",
    "sleep",
    "true",
    "false",
    "httpd",
    "env",
    "wget",
    # for the entrypoint's stage-2 hook and the stand-in gateway
    "su",
    "id",
    "chown",
    "chmod",
    "sed",
    "grep",
    "tail",
    "tr",
    "mkdir",
    "mktemp",
    "stat",
    "printf",
)

IMAGE_REPOSITORY: Final = "hermes-test"
BASE_IMAGE: Final = "hermes-test-base:latest"
LAYER_SIZE: Final = 4 * 1024 * 1024  # random, incompressible: pulls show progress
#: Any free loopback port: a fixed one is shared with whatever else runs on the machine
#: (another test session's registry took it between a stop and a restart).
DEFAULT_REGISTRY_PORT: Final = 0
DEFAULT_TIMEOUT: Final = 60.0

_MNT_DETACH: Final = 2

# --------------------------------------------------------------------------- #
# The stand-in for the published Hermes image's contracts
# --------------------------------------------------------------------------- #

#: The published image's data folder (``ENV HERMES_HOME``), where the profile is mounted.
HERMES_HOME: Final = "/opt/data"
#: The hermes user's uid and gid when HERMES_UID/HERMES_GID (PUID/PGID) are unset or invalid.
HERMES_DEFAULT_ID: Final = 10000
HERMES_VERSION: Final = "0.19.0"
ENTRYPOINT_PATH: Final = "/usr/local/bin/hermes-entrypoint"
HERMES_STAND_IN_PATH: Final = "/usr/local/bin/hermes"
IMAGE_PATH_ENV: Final = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: Sub-folders of HERMES_HOME the published image's stage-2 hook hands to hermes recursively.
HERMES_MANAGED_DIRS: Final = (
    "cron", "sessions", "logs", "hooks", "memories", "skills", "skins", "plans",
    "workspace", "home", "profiles", "pairing", "platforms/pairing", "lazy-packages",
)
#: The stand-in gateway logs this first, so a test (or a person) can tell it from Hermes.
STAND_IN_BANNER: Final = "hermes-test stand-in for hermes gateway run, not the real Hermes"
#: The real gateway's log line when the API server has no key (word for word).
REFUSAL: Final = "[Api_Server] Refusing to start: API_SERVER_KEY is required for the API server"
#: What the entrypoint says when started with ``--user``.
USER_REFUSAL: Final = "must start as root"

# The published image's start-up contract (see ../shared/reference/real-hermes.md): start
# as root or be refused; remap `hermes` to HERMES_UID/HERMES_GID (aliases PUID/PGID) when
# 1-65534, else 10000; when /opt/data is not that user's, give it /opt/data itself (not
# recursively) and the hermes-managed sub-folders; always give it the top-level files
# (owner rw); then run the command as hermes with HOME=/opt/data. `gateway run` (any
# argument that is not an executable) goes to `hermes`; an executable runs as given.
# busybox has no setuidgid: `su -p` keeps the environment and execs, it does not fork.
_ENTRYPOINT_SCRIPT: Final = r"""#!/bin/sh
set -eu
HERMES_HOME="${HERMES_HOME:-@HOME@}"

is_id() {
    case "$1" in ''|*[!0-9]*) return 1 ;; esac
    [ "$1" -ge 1 ] && [ "$1" -le 65534 ]
}

run_as_hermes() {
    export HOME="$HERMES_HOME"
    if [ "$(id -u)" != 0 ]; then exec "$@"; fi
    exec su -p -s /bin/sh hermes -c 'exec "$@"' hermes "$@"
}

me="$(id -u)"
if [ "$me" != 0 ] && [ "$me" != "$(id -u hermes)" ]; then
    echo "hermes-test: started as uid $me (docker run --user): this image @USER_REFUSAL@ to" \
         "give $HERMES_HOME to its hermes user. Start it without --user and pass" \
         "HERMES_UID/HERMES_GID (or PUID/PGID) to choose that user's ids." >&2
    exit 1
fi

if [ "$me" = 0 ]; then
    uid="${HERMES_UID:-${PUID:-}}"
    gid="${HERMES_GID:-${PGID:-}}"
    is_id "$uid" || uid=@DEFAULT_ID@
    is_id "$gid" || gid=@DEFAULT_ID@
    sed -i "s/^hermes:x:[0-9]*:[0-9]*:/hermes:x:$uid:$gid:/" /etc/passwd
    sed -i "s/^hermes:x:[0-9]*:/hermes:x:$gid:/" /etc/group
    mkdir -p "$HERMES_HOME"
    if [ "$(stat -c %u "$HERMES_HOME")" != "$uid" ]; then
        echo "hermes-test: giving $HERMES_HOME to hermes ($uid:$gid)"
        chown "$uid:$gid" "$HERMES_HOME"
        for sub in @MANAGED@; do
            if [ -e "$HERMES_HOME/$sub" ] && [ ! -L "$HERMES_HOME/$sub" ]; then
                chown -R "$uid:$gid" "$HERMES_HOME/$sub"
            fi
        done
    fi
    for path in "$HERMES_HOME"/* "$HERMES_HOME"/.[!.]* "$HERMES_HOME"/..?*; do
        if [ -f "$path" ] && [ ! -L "$path" ]; then
            chown "$uid:$gid" "$path"
            chmod u+rw "$path"
        fi
    done
fi

[ "$#" -gt 0 ] || set -- gateway run
case "$1" in */*) run_as_hermes "$@" ;; esac
if command -v "$1" >/dev/null 2>&1; then run_as_hermes "$@"; fi
run_as_hermes hermes "$@"
"""

# `hermes gateway run`, keeping the real gateway's API server contract: it reads
# $HERMES_HOME/.env itself and .env beats the container's environment (python-dotenv,
# override=True; plain, "double-quoted" with \" and \\, and 'single-quoted' values); the
# API server is off unless API_SERVER_ENABLED is truthy; without a key of 16+ characters
# it refuses and the process keeps running without listening; otherwise GET /health
# answers the real JSON (busybox httpd sends no Content-Type for an extension-less file).
_HERMES_SCRIPT: Final = r"""#!/bin/sh
set -u
if [ "${1:-}" != gateway ] || [ "${2:-}" != run ]; then
    echo "hermes-test: only 'hermes gateway run' exists in this stand-in (got: $*)" >&2
    exit 2
fi
HERMES_HOME="${HERMES_HOME:-@HOME@}"
env_file="$HERMES_HOME/.env"

# The value python-dotenv reads for $1 (its last binding); status 1 when there is none.
dotenv_value() {
    [ -r "$env_file" ] || return 1
    line="$(tr -d '\r' < "$env_file" \
        | grep -E "^[[:space:]]*(export[[:space:]]+)?$1[[:space:]]*=" | tail -n 1)"
    [ -n "$line" ] || return 1
    value="$(printf '%s' "${line#*=}" | sed 's/^[[:space:]]*//')"
    case "$value" in
        \"*) printf '%s' "$value" \
                 | sed -e 's/^"\(\([^"\\]\|\\.\)*\)".*$/\1/' -e 's/\\\(["\\]\)/\1/g' ;;
        \'*) printf '%s' "$value" | sed "s/^'\([^']*\)'.*$/\1/" ;;
        *) printf '%s' "$value" | sed -e 's/[[:space:]][[:space:]]*#.*$//' -e 's/[[:space:]]*$//' ;;
    esac
}

for key in API_SERVER_ENABLED API_SERVER_HOST API_SERVER_PORT API_SERVER_KEY; do
    if value="$(dotenv_value "$key")"; then export "$key=$value"; fi
done
host="${API_SERVER_HOST:-127.0.0.1}"
port="${API_SERVER_PORT:-8642}"
key="${API_SERVER_KEY:-}"
echo "@BANNER@ (HERMES_HOME=$HERMES_HOME, uid $(id -u), gid $(id -g))"

idle() {
    # Foreground sleeps: under su, SIGCHLD may be ignored, and then `wait` returns at once
    # and a `sleep & wait` loop forks without end (it exhausted the host's pids once).
    while :; do sleep 3600; done
}

enabled="$(printf '%s' "${API_SERVER_ENABLED:-}" | tr 'A-Z' 'a-z' | tr -d ' \t')"
case "$enabled" in
    1|true|yes|on) ;;
    *) echo "hermes-test: the API server is off (API_SERVER_ENABLED is not true)"; idle ;;
esac
if [ -z "$key" ]; then
    echo "@REFUSAL@, including loopback-only binds on $host."
    idle
fi
if [ "${#key}" -lt 16 ]; then
    echo "[Api_Server] Refusing to start: API_SERVER_KEY is a placeholder or too short" \
         "(<16 chars)."
    idle
fi
www="$(mktemp -d /tmp/hermes-test-www.XXXXXX)"
printf '%s' '{"status": "ok", "platform": "hermes-agent", "version": "@VERSION@"}' \
    > "$www/health"
echo "hermes-test: API server on http://$host:$port (GET /health)"
httpd -f -p "$host:$port" -h "$www" &
server=$!
trap 'kill "$server" 2>/dev/null; exit 0' TERM INT
wait "$server"
"""


def _fill(script: str) -> str:
    for token, value in (
        ("@HOME@", HERMES_HOME),
        ("@DEFAULT_ID@", str(HERMES_DEFAULT_ID)),
        ("@MANAGED@", " ".join(HERMES_MANAGED_DIRS)),
        ("@BANNER@", STAND_IN_BANNER),
        ("@REFUSAL@", REFUSAL),
        ("@USER_REFUSAL@", USER_REFUSAL),
        ("@VERSION@", HERMES_VERSION),
    ):
        script = script.replace(token, value)
    return script


#: ``docker import --change`` lines: the published image's ENTRYPOINT/ENV/CMD shape.
IMAGE_CHANGES: Final = (
    f'ENTRYPOINT ["{ENTRYPOINT_PATH}"]',
    'CMD ["gateway", "run"]',
    f"ENV HERMES_HOME={HERMES_HOME}",
    f"ENV PATH={IMAGE_PATH_ENV}",
)


class EngineError(RuntimeError):
    """The local engine or registry could not be started, used or stopped."""


# --------------------------------------------------------------------------- #
# TLS for a tcp:// listener (``dockerd --tlsverify``), made with the openssl CLI
# --------------------------------------------------------------------------- #

OPENSSL: Final = "openssl"


@dataclass(frozen=True)
class TLSMaterial:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all in
    ``folder``. The client's files carry the docker CLI's names (``ca.pem``,
    ``cert.pem``, ``key.pem``), so ``DOCKER_CERT_PATH=folder`` finds them."""

    folder: Path

    @property
    def ca(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def server_cert(self) -> Path:
        return self.folder / "server-cert.pem"

    @property
    def server_key(self) -> Path:
        return self.folder / "server-key.pem"

    @property
    def client_cert(self) -> Path:
        return self.folder / "cert.pem"

    @property
    def client_key(self) -> Path:
        return self.folder / "key.pem"


def _openssl(folder: Path, *args: str) -> None:
    result = subprocess.run(
        [OPENSSL, *args], cwd=folder, capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode != 0:
        raise EngineError(f"openssl {' '.join(args[:2])} failed: {result.stderr.strip()}")


def make_tls_material(folder: Path) -> TLSMaterial:
    """Make a throw-away CA (EC P-256, one day), a server certificate for the IP
    127.0.0.1 (subjectAltName, serverAuth) and a client certificate (clientAuth)."""
    if shutil.which(OPENSSL) is None:
        raise EngineError("openssl is missing (apt-get install openssl)")
    folder.mkdir(parents=True, exist_ok=True)
    tls = TLSMaterial(folder)
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    _openssl(folder, "req", "-x509", *ec, "-keyout", "ca-key.pem", "-out", "ca.pem",
             "-days", "1", "-subj", "/CN=hermes-tui test CA")
    for name, subject, extensions in (
        ("server", "/CN=127.0.0.1",
         "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth"),
        ("client", "/CN=hermes-tui test client", "extendedKeyUsage=clientAuth"),
    ):
        (folder / f"{name}.ext").write_text(extensions + "\n")
        key = "server-key.pem" if name == "server" else "key.pem"
        cert = "server-cert.pem" if name == "server" else "cert.pem"
        _openssl(folder, "req", *ec, "-keyout", key, "-out", f"{name}.csr", "-subj", subject)
        _openssl(folder, "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem",
                 "-CAkey", "ca-key.pem", "-CAcreateserial", "-days", "1", "-out", cert,
                 "-extfile", f"{name}.ext")
    for key in (tls.server_key, tls.client_key, folder / "ca-key.pem"):
        key.chmod(0o600)
    return tls


# --------------------------------------------------------------------------- #
# Small stdlib HTTP helpers
# --------------------------------------------------------------------------- #


class _UnixHTTPConnection(http.client.HTTPConnection):
    """`http.client` connection that talks HTTP over a unix domain socket."""

    def __init__(self, socket_path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._socket_path = socket_path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def unix_request(
    socket_path: str | os.PathLike[str],
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    timeout: float = 10.0,
) -> tuple[int, bytes]:
    """Send one HTTP request to a unix socket (e.g. the Engine API) -> (status, body)."""
    conn = _UnixHTTPConnection(os.fspath(socket_path), timeout)
    try:
        conn.request(method, path, body=body)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def tcp_request(
    address: str, method: str, path: str, *, timeout: float = 10.0
) -> tuple[int, bytes]:
    """Send one plain-HTTP request to ``host:port`` -> (status, body)."""
    host, _, port = address.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# --------------------------------------------------------------------------- #
# Environment checks and process helpers
# --------------------------------------------------------------------------- #


def _busybox_path() -> str | None:
    """Return a statically linked busybox (it must run inside an empty rootfs)."""
    for candidate in BUSYBOX_CANDIDATES:
        path = Path(candidate)
        if path.is_file() and _is_static_elf(path):
            return candidate
    return None


def _is_static_elf(path: Path) -> bool:
    """True when `path` is an ELF binary without a PT_INTERP (dynamic loader)."""
    try:
        data = path.read_bytes()
    except OSError:
        return False
    if data[:4] != b"\x7fELF" or data[4] != 2:  # only 64-bit is relevant here
        return False
    byteorder: Literal["little", "big"] = "little" if data[5] == 1 else "big"
    phoff = int.from_bytes(data[0x20:0x28], byteorder)
    phentsize = int.from_bytes(data[0x36:0x38], byteorder)
    phnum = int.from_bytes(data[0x38:0x3A], byteorder)
    pt_interp = 3
    for index in range(phnum):
        start = phoff + index * phentsize
        if int.from_bytes(data[start : start + 4], byteorder) == pt_interp:
            return False
    return True


def can_run() -> tuple[bool, str]:
    """Say whether a local engine can be started here, and if not, why not."""
    if sys.platform != "linux":
        return False, f"a local dockerd needs Linux (this is {sys.platform})"
    if os.geteuid() != 0:
        return False, "a local dockerd needs root (euid is not 0)"
    missing = [name for name in (DOCKERD, REGISTRY_BINARY) if shutil.which(name) is None]
    if not os.access(DOCKER_CLIENT, os.X_OK):
        missing.append(DOCKER_CLIENT)
    if _busybox_path() is None:
        missing.append("a static busybox")
    if missing:
        return False, (
            "missing "
            + ", ".join(missing)
            + " (apt-get install docker.io docker-registry busybox-static;"
            " see .ci/apt-packages.txt)"
        )
    return True, "ok"


def _free_port(preferred: int) -> int:
    """Return `preferred` if it can be bound on 127.0.0.1, else any free port."""
    for port in (preferred, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise EngineError("no free TCP port on 127.0.0.1")


def _terminate(process: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM one process we started, wait `grace` seconds, then SIGKILL it."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _tail(path: Path, lines: int = 25) -> str:
    """Return the last `lines` lines of a log file, for error messages."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _running(pid: int) -> bool:
    """True when `pid` exists and is not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    state = stat.rpartition(")")[2].split()[0]
    return state not in ("Z", "X")


# --------------------------------------------------------------------------- #
# The engine
# --------------------------------------------------------------------------- #


class LocalEngine:
    """A private dockerd plus a loopback registry holding two test image tags.

    Use as a context manager (or call `start()` / `stop()`).  After start:

    - `docker_host`: ``unix://S/docker.sock`` (for ``DOCKER_HOST``)
    - `socket_path`: the same socket as a plain path
    - `registry`: ``127.0.0.1:PORT`` (plain HTTP; loopback is insecure-allowed)
    - `image`: ``127.0.0.1:PORT/hermes-test:1`` (base + 3 random-data layers)
    - `image2`: ``…/hermes-test:2``, sharing the base and first two data
      layers with `image` but with a different last layer
    - `state_dir`: the folder S holding all state and the logs
      (``dockerd.log``, ``registry.log``)
    - `tcp_host`: ``tcp://127.0.0.1:PORT``, only when started with ``tls``: dockerd
      then also listens there with ``--tlsverify`` on those certificates

    Neither tag is present in the engine after start: the first pull is cold.
    """

    def __init__(
        self,
        *,
        registry_port: int = DEFAULT_REGISTRY_PORT,
        timeout: float = DEFAULT_TIMEOUT,
        build_images: bool = True,
        tls: TLSMaterial | None = None,
    ) -> None:
        self._tls = tls
        self._tcp_port: int | None = None
        self._preferred_port = registry_port
        self._timeout = timeout
        self._build_images = build_images
        self._dockerd: subprocess.Popen[bytes] | None = None
        self._registry: subprocess.Popen[bytes] | None = None
        self._storage_driver = "overlay2"
        self._state: Path | None = None
        self._port: int | None = None
        self.build_seconds: float = 0.0
        self.start_seconds: float = 0.0

    # -- public attributes -------------------------------------------------- #

    @property
    def state_dir(self) -> Path:
        if self._state is None:
            raise EngineError("the engine has not been started")
        return self._state

    @property
    def socket_path(self) -> str:
        return str(self.state_dir / "docker.sock")

    @property
    def docker_host(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def tcp_host(self) -> str:
        """The TLS-verified TCP listener (``tcp://127.0.0.1:PORT``), when started with one."""
        if self._tcp_port is None:
            raise EngineError("the engine was started without a TLS tcp:// listener")
        return f"tcp://127.0.0.1:{self._tcp_port}"

    @property
    def registry(self) -> str:
        if self._port is None:
            raise EngineError("the engine has not been started")
        return f"127.0.0.1:{self._port}"

    @property
    def image(self) -> str:
        return f"{self.registry}/{IMAGE_REPOSITORY}:1"

    @property
    def image2(self) -> str:
        return f"{self.registry}/{IMAGE_REPOSITORY}:2"

    @property
    def storage_driver(self) -> str:
        """The storage driver dockerd runs with (overlay2, or vfs as fallback)."""
        return self._storage_driver

    def env(self) -> dict[str, str]:
        """The environment a client (or a person) needs to use this engine."""
        return {
            "DOCKER_HOST": self.docker_host,
            "REGISTRY": self.registry,
            "IMAGE": self.image,
            "IMAGE2": self.image2,
        }

    # -- requests and resets ------------------------------------------------ #

    def engine_request(
        self, method: str, path: str, *, body: bytes | None = None, timeout: float = 30.0
    ) -> tuple[int, bytes]:
        """One Engine API request over the unix socket -> (status, body)."""
        return unix_request(self.socket_path, method, path, body=body, timeout=timeout)

    def registry_request(self, method: str, path: str) -> tuple[int, bytes]:
        """One registry API request (e.g. ``GET /v2/hermes-test/tags/list``)."""
        return tcp_request(self.registry, method, path)

    def remove_local_images(self) -> None:
        """Delete every container and image in the engine: the next pull is cold.

        The registry keeps both tags; only the engine's local copies go.
        """
        self._remove_containers()
        for _attempt in range(5):
            status, body = self.engine_request("GET", "/images/json?all=1")
            if status != 200:
                raise EngineError(f"listing images failed: {status} {body!r}")
            images = json.loads(body)
            if not images:
                return
            for image in images:
                # 404/409 are fine: removing a child may already have removed it. An
                # image of the real Hermes is thousands of files: on a loaded machine
                # overlay2 takes well over the default 30 s to delete them.
                try:
                    self.engine_request("DELETE", f"/images/{image['Id']}?force=1",
                                        timeout=IMAGE_DELETE_TIMEOUT)
                except TimeoutError as exc:
                    raise EngineError(
                        f"the engine did not delete image {image['Id'][:19]} "
                        f"({', '.join(image.get('RepoTags') or ['untagged'])}) within "
                        f"{IMAGE_DELETE_TIMEOUT:.0f} s") from exc
        raise EngineError("images are still present after five removal rounds")

    def _remove_containers(self) -> None:
        """Force-remove every container (running ones are killed first)."""
        status, body = self.engine_request("GET", "/containers/json?all=1")
        if status != 200:
            raise EngineError(f"listing containers failed: {status} {body!r}")
        for container in json.loads(body):
            self.engine_request("DELETE", f"/containers/{container['Id']}?force=1&v=1")

    # -- lifecycle ---------------------------------------------------------- #

    def __enter__(self) -> LocalEngine:  # noqa: PYI034 - start() returns self
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> LocalEngine:
        """Create the state folder, start registry and engine, publish images."""
        if self._state is not None:
            raise EngineError("already started")
        ok, reason = can_run()
        if not ok:
            raise EngineError(reason)
        self._state = Path(tempfile.mkdtemp(prefix="hermes-engine-", dir=_temp_base()))
        atexit.register(self.stop)  # safety net if the owner forgets stop()
        try:
            began = time.monotonic()
            self._port = _free_port(self._preferred_port)
            if self._tls is not None:
                self._tcp_port = _free_port(0)
            self._write_configs()
            self.start_registry()
            self._start_first_engine()
            self.start_seconds = time.monotonic() - began
            if self._build_images:
                began = time.monotonic()
                self._publish_test_images()
                self.build_seconds = time.monotonic() - began
        except BaseException:
            self.stop()
            raise
        return self

    def start_registry(self) -> None:
        """Start (or restart) the registry on the same port with the same data."""
        if self._registry is not None and self._registry.poll() is None:
            return
        state = self.state_dir
        with open(state / "registry.log", "ab") as log:
            self._registry = subprocess.Popen(
                [REGISTRY_BINARY, "serve", str(state / "registry.yml")],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=state,
                start_new_session=True,  # Ctrl+C goes to us; we stop it in order
            )
        self._wait_until(
            "registry",
            self._registry,
            state / "registry.log",
            lambda: tcp_request(self.registry, "GET", "/v2/", timeout=2)[0] == 200,
        )

    def stop_registry(self) -> None:
        """Stop the registry process (the data stays, see `start_registry`)."""
        if self._registry is not None:
            _terminate(self._registry, grace=10)
            self._registry = None

    def start_engine(self) -> None:
        """Start (or restart) dockerd on the same socket, data and storage driver."""
        if self._dockerd is not None and self._dockerd.poll() is None:
            return
        self._forget_dead_containerd()
        self._launch_dockerd()

    def _start_first_engine(self) -> None:
        """First start: overlay2 if dockerd can use it here, else vfs.

        vfs is slower but works on any backing filesystem (overlay2 does not
        work on top of overlayfs, for example).  The choice is kept for
        restarts, which must find the same images and containers.
        """
        try:
            self._launch_dockerd()
        except EngineError:
            if self._dockerd is not None:
                _terminate(self._dockerd, grace=20)
                self._wait_for_containerd_exit()
            self._forget_dead_containerd()
            shutil.rmtree(self.state_dir / "data", ignore_errors=True)
            self._storage_driver = "vfs"
            self._launch_dockerd()

    def kill_engine(self) -> None:
        """SIGKILL dockerd, as a crash would; its containerd dies with it.

        Returns once containerd is gone too, so `start_engine()` can follow
        immediately.
        """
        if self._dockerd is not None and self._dockerd.poll() is None:
            self._dockerd.kill()
            self._dockerd.wait(timeout=10)
            self._wait_for_containerd_exit()
        self._dockerd = None

    def stop(self) -> None:
        """Stop exactly what was started, unmount what is left, delete S."""
        state = self._state
        if state is None:
            return
        problems: list[str] = []
        if self._dockerd is not None and self._dockerd.poll() is None:
            # Containers that ignore SIGTERM would delay the shutdown by 10 s;
            # if this fails, the shutdown and the leftover sweep still apply.
            with contextlib.suppress(OSError, http.client.HTTPException, ValueError):
                self._remove_containers()
            _terminate(self._dockerd, grace=30)
        self._dockerd = None
        self.stop_registry()
        try:
            self._reap_leftovers(state)
        except OSError as error:  # pragma: no cover - best effort
            problems.append(f"cleaning up processes: {error}")
        _unmount_below(state)
        shutil.rmtree(state, ignore_errors=True)
        if state.exists():
            problems.append(f"could not remove {state}")
        self._state = None
        atexit.unregister(self.stop)
        if problems:
            raise EngineError("; ".join(problems))

    # -- internals: processes ------------------------------------------------ #

    def _write_configs(self) -> None:
        state = self.state_dir
        (state / "registry-data").mkdir()
        # JSON is YAML, so no YAML library is needed for the registry config.
        registry_config = {
            "version": 0.1,
            "log": {"level": "info"},
            "storage": {
                "filesystem": {"rootdirectory": str(state / "registry-data")},
                "delete": {"enabled": True},
            },
            "http": {"addr": self.registry},
        }
        (state / "registry.yml").write_text(json.dumps(registry_config, indent=2) + "\n")
        # Our own daemon config keeps a host /etc/docker/daemon.json out; the
        # key path stops dockerd 20.10 from creating /etc/docker/key.json.
        daemon_config = {"deprecated-key-path": str(state / "key.json")}
        (state / "daemon.json").write_text(json.dumps(daemon_config) + "\n")
        (state / "client").mkdir()

    def _launch_dockerd(self) -> None:
        state = self.state_dir
        command = [
            DOCKERD,
            f"--host=unix://{state / 'docker.sock'}",
            f"--data-root={state / 'data'}",
            f"--exec-root={state / 'exec'}",
            f"--pidfile={state / 'dockerd.pid'}",
            f"--config-file={state / 'daemon.json'}",
            "--iptables=false",
            "--ip6tables=false",
            "--bridge=none",
            f"--storage-driver={self._storage_driver}",
        ]
        if self._tls is not None and self._tcp_port is not None:
            command += [
                f"--host=tcp://127.0.0.1:{self._tcp_port}",
                "--tlsverify",
                f"--tlscacert={self._tls.ca}",
                f"--tlscert={self._tls.server_cert}",
                f"--tlskey={self._tls.server_key}",
            ]
        with open(state / "dockerd.log", "ab") as log:
            log.write(f"\n=== {' '.join(command)}\n".encode())
            log.flush()
            self._dockerd = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=state,
                start_new_session=True,
            )
        self._wait_until(
            "dockerd",
            self._dockerd,
            state / "dockerd.log",
            lambda: unix_request(self.socket_path, "GET", "/_ping", timeout=2) == (200, b"OK"),
        )

    @property
    def _containerd_pidfile(self) -> Path:
        return self.state_dir / "exec" / "containerd" / "containerd.pid"

    def _containerd_pid(self) -> int | None:
        try:
            return int(self._containerd_pidfile.read_text().strip())
        except (OSError, ValueError):
            return None

    def _wait_for_containerd_exit(self, timeout: float = 10) -> None:
        """Wait until the containerd dockerd started is gone (or a zombie)."""
        pid = self._containerd_pid()
        deadline = time.monotonic() + timeout
        while pid is not None and _running(pid) and time.monotonic() < deadline:
            time.sleep(0.1)

    def _forget_dead_containerd(self) -> None:
        """Drop a pid file naming a dead containerd.

        dockerd reuses the containerd named in that file while the PID
        exists.  After a SIGKILL, containerd lingers as a zombie until init
        reaps it (seconds, here), and dockerd would wait for it in vain.
        """
        pid = self._containerd_pid()
        if pid is not None and not _running(pid):
            self._containerd_pidfile.unlink(missing_ok=True)

    def _wait_until(
        self,
        name: str,
        process: subprocess.Popen[bytes],
        log: Path,
        ready: Callable[[], bool],
    ) -> None:
        """Poll `ready` until it holds; fail early if `process` exits."""
        deadline = time.monotonic() + self._timeout
        while True:
            if process.poll() is not None:
                raise EngineError(
                    f"{name} exited with {process.returncode} while starting;"
                    f" end of {log.name}:\n{_tail(log)}"
                )
            try:
                if ready():
                    return
            except (OSError, http.client.HTTPException):
                pass
            if time.monotonic() > deadline:
                raise EngineError(
                    f"{name} not ready after {self._timeout:.0f} s;"
                    f" end of {log.name}:\n{_tail(log)}"
                )
            time.sleep(0.1)

    def _reap_leftovers(self, state: Path) -> None:
        """End processes that belong to this state folder and outlived dockerd.

        Normally nothing is left.  After `kill_engine()` without a restart,
        container shims (and the containers they hold) can survive; they are
        found by the state folder in their command line, which is unique to us.
        """
        runc = shutil.which("runc")
        runtime_roots = sorted((state / "exec").glob("runtime-runc/*"))
        if runc is not None:
            for root in runtime_roots:
                for container in root.iterdir():
                    subprocess.run(
                        [runc, "--root", str(root), "delete", "--force", container.name],
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                        timeout=30,
                        check=False,
                    )
        marker = str(state).encode() + b"/"
        own = {os.getpid()}
        leftovers = [pid for pid in _pids_mentioning(marker) if pid not in own]
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in leftovers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and any(_running(p) for p in leftovers):
                time.sleep(0.1)
            leftovers = [p for p in leftovers if _running(p)]
            if not leftovers:
                return

    # -- internals: the test images ------------------------------------------ #

    def docker_cli(self, *args: str) -> tuple[list[str], dict[str, str]]:
        """The argv and environment that run the Debian docker CLI against this engine
        (for callers that stream, e.g. a tar into ``docker import -``)."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("DOCKER_")}
        env["DOCKER_CONFIG"] = str(self.state_dir / "client")  # not ~/.docker
        env["DOCKER_BUILDKIT"] = "0"  # no BuildKit here: the legacy builder
        return [DOCKER_CLIENT, "-H", self.docker_host, *args], env

    def docker(self, *args: str, timeout: float = 180) -> str:
        """Run the docker CLI against this engine; its output (`EngineError` on failure)."""
        return self._docker(*args, timeout=timeout)

    def _docker(self, *args: str, timeout: float = 180) -> str:
        """Run the Debian docker CLI against this engine; return its output."""
        argv, env = self.docker_cli(*args)
        result = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=env,
            timeout=timeout,
            check=False,
        )
        output = result.stdout.decode(errors="replace") + result.stderr.decode(errors="replace")
        if result.returncode != 0:
            raise EngineError(f"docker {' '.join(args)} failed ({result.returncode}):\n{output}")
        return output

    def _publish_test_images(self) -> None:
        """Build both tags offline, push them, and delete them from the engine."""
        build = self.state_dir / "build"
        build.mkdir()
        rootfs_tar = build / "rootfs.tar"
        rootfs_tar.write_bytes(_busybox_rootfs())
        changes = [arg for change in IMAGE_CHANGES for arg in ("--change", change)]
        self._docker("import", *changes, str(rootfs_tar), BASE_IMAGE)

        for name in ("layer-a", "layer-b", "layer-c", "layer-d"):
            (build / name).write_bytes(os.urandom(LAYER_SIZE))
        shared = [
            f"FROM {BASE_IMAGE}",
            "COPY layer-a /data/layer-a",
            "COPY layer-b /data/layer-b",
        ]
        dockerfiles = {
            self.image: [*shared, "COPY layer-c /data/layer-c"],
            self.image2: [*shared, "COPY layer-d /data/layer-d"],
        }
        for ref, lines in dockerfiles.items():
            dockerfile = build / f"Dockerfile.{ref.rsplit(':', 1)[1]}"
            dockerfile.write_text("\n".join([*lines, 'LABEL org.hermes.test="1"', ""]))
            self._docker("build", "--quiet", "-f", str(dockerfile), "-t", ref, str(build))
            self._docker("push", ref)
        self._docker("rmi", "--force", self.image, self.image2, BASE_IMAGE)
        self.remove_local_images()  # normally a no-op: also any dangling build images
        shutil.rmtree(build)


def _temp_base() -> str:
    """A short temp folder: unix socket paths under S must stay < 108 bytes."""
    base = tempfile.gettempdir()
    return base if len(base) <= 40 else "/tmp"


def hermes_etc_files() -> dict[str, tuple[str, int]]:
    """``/etc/passwd`` and ``/etc/group`` with root and a ``hermes`` user (uid and gid
    10000, home /opt/data) as the published image has them: path → (text, mode)."""
    hid = HERMES_DEFAULT_ID
    return {
        "/etc/passwd": (
            f"root:x:0:0:root:/root:/bin/sh\nhermes:x:{hid}:{hid}:Hermes:{HERMES_HOME}:/bin/sh\n",
            0o644,
        ),
        "/etc/group": (f"root:x:0:\nhermes:x:{hid}:\n", 0o644),
    }


def add_file(tar: tarfile.TarFile, path: str, data: bytes, mode: int, mtime: int) -> None:
    """Add a regular file owned by root to ``tar`` (``path`` absolute or relative)."""
    info = tarfile.TarInfo(path.lstrip("/"))
    info.size, info.mode, info.mtime = len(data), mode, mtime
    tar.addfile(info, io.BytesIO(data))


def _busybox_rootfs() -> bytes:
    """A tar of a minimal root filesystem: static busybox plus applet links, and the
    stand-in's entrypoint, `hermes` script, users and /opt/data."""
    busybox = _busybox_path()
    if busybox is None:
        raise EngineError("no static busybox")
    buffer = io.BytesIO()
    now = int(time.time())
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        folders = (
            ("bin", 0o755), ("etc", 0o755), ("tmp", 0o1777), ("root", 0o700),
            ("usr", 0o755), ("usr/local", 0o755), ("usr/local/bin", 0o755),
            ("opt", 0o755), (HERMES_HOME.lstrip("/"), 0o755),
        )
        for directory, mode in folders:
            info = tarfile.TarInfo(directory)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, mode, now
            tar.addfile(info)
        files = {
            **hermes_etc_files(),
            ENTRYPOINT_PATH: (_fill(_ENTRYPOINT_SCRIPT), 0o755),
            HERMES_STAND_IN_PATH: (_fill(_HERMES_SCRIPT), 0o755),
        }
        for path, (text, mode) in files.items():
            add_file(tar, path, text.encode(), mode, now)
        tar.add(busybox, arcname="bin/busybox")
        for applet in BUSYBOX_APPLETS:
            info = tarfile.TarInfo(f"bin/{applet}")
            info.type, info.linkname, info.mode, info.mtime = tarfile.SYMTYPE, "busybox", 0o777, now
            tar.addfile(info)
    return buffer.getvalue()


def _pids_mentioning(marker: bytes) -> list[int]:
    """PIDs whose command line contains `marker` (our unique state folder)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if marker in cmdline:
            pids.append(int(entry.name))
    return pids


def _unmount_below(state: Path) -> None:
    """Lazily unmount every mount point at or below `state`, deepest first."""
    prefix = str(state)
    points: list[str] = []
    try:
        mountinfo = Path("/proc/self/mountinfo").read_text()
    except OSError:
        return
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) < 5:
            continue
        point = _unescape_mount_path(fields[4])
        if point == prefix or point.startswith(prefix + "/"):
            points.append(point)
    if not points:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for point in sorted(set(points), key=len, reverse=True):
        if libc.umount2(point.encode(), _MNT_DETACH) != 0:
            err = ctypes.get_errno()
            if err not in (errno.EINVAL, errno.ENOENT):
                print(f"umount {point}: {os.strerror(err)}", file=sys.stderr)


def _unescape_mount_path(raw: str) -> str:
    """Undo mountinfo's octal escapes (``\\040`` for a space, …)."""
    return raw.encode().decode("unicode_escape").encode("latin-1").decode(errors="replace")


# --------------------------------------------------------------------------- #
# Script entry point
# --------------------------------------------------------------------------- #


def main(argv: list[str] | None = None) -> int:
    """``up``: start an engine, print its environment, run until interrupted."""
    args = sys.argv[1:] if argv is None else argv
    if args != ["up"]:
        print("usage: python -m tests.support.engine up", file=sys.stderr)
        return 2
    ok, reason = can_run()
    if not ok:
        print(f"cannot start a local engine: {reason}", file=sys.stderr)
        return 1

    stopping = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    engine = LocalEngine()
    try:
        engine.start()
        for key, value in engine.env().items():
            print(f"{key}={value}")
        print(f"STATE_DIR={engine.state_dir}")
        print(
            f"# ready in {engine.start_seconds:.1f} s + images {engine.build_seconds:.1f} s;"
            " Ctrl+C to stop",
            flush=True,
        )
        while not stopping:
            time.sleep(0.5)
    finally:
        engine.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
