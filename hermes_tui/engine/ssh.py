"""Engines over SSH (``ssh://[user@]host[:port]``), reached the way the docker CLI does.

OpenSSH runs ``docker system dial-stdio`` on the remote host; that command joins its
standard input and output to the remote engine's socket, so the Engine API travels over
it. This module keeps **one SSH connection** per address (an OpenSSH ControlMaster with
its control socket in a private 0700 folder) and a **private local unix socket** in the
same folder; every connection aiodocker opens to that socket becomes one multiplexed
``dial-stdio`` session over the master connection. aiodocker itself sees a plain
``unix://`` engine.

The system ``ssh`` does the talking, so the user's own ``~/.ssh/config`` (host aliases,
ProxyJump, identities), their agent and their known hosts apply. Two settings are forced:
``BatchMode=yes`` (no prompt can hide behind the full-screen app) and
``StrictHostKeyChecking=yes``: a host key that is unknown or changed is never accepted; the
diagnosis shows its fingerprint and how to check and trust it. ``HERMES_TUI_SSH_CONFIG``
names another ssh_config file (``ssh -F``), e.g. for tests.

Failures become `SshError` problems with a cause and a fix: host unreachable, host key
unknown or changed, authentication refused, no ``docker`` on the remote host, remote daemon
not running, remote user not allowed to use it, and the connection dropping (the next
request connects again, so the step can be retried).

`ssh_route` reaches a gateway's API port on the remote host's loopback through the same
connection (an OpenSSH local forward), for ``/health`` and the dashboard.

No Textual here; nothing outside the standard library.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from hermes_tui.engine.route import LOOPBACK, ApiRoute
from hermes_tui.engine.ssh_diagnosis import (
    OPENSSH_INSTALL,
    SshError,
    SshFailure,
    SshTarget,
    classify_connect,
    classify_dial,
    dropped,
    last_line,
    offered_key,
    parse_ssh_url,
)
from hermes_tui.problem import Problem

if TYPE_CHECKING:
    from hermes_tui.engine.detect import EngineInfo

#: An ssh_config file to use instead of the user's (``ssh -F``).
SSH_CONFIG_ENV = "HERMES_TUI_SSH_CONFIG"
#: How long establishing the SSH connection may take (a slow jump host included).
CONNECT_TIMEOUT = 15.0
_RELAY_CHUNK = 256 * 1024
_STDERR_KEPT = 4000

# --------------------------------------------------------------------------------------------
# The connection
# --------------------------------------------------------------------------------------------


def _ssh_binary() -> str:
    found = shutil.which("ssh")
    if found is None:
        raise SshError(SshFailure.NO_CLIENT, Problem(
            "ssh:// engines need the OpenSSH client, and no ssh command is on the PATH.",
            OPENSSH_INSTALL,
        ))
    return found


def _config_file(env: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if env is None else env
    return env.get(SSH_CONFIG_ENV) or None


class SshConnection:
    """One OpenSSH master connection to ``target`` and the local socket bridged over it.

    `connect` (re)establishes the master; `socket_path` gives the running event loop's
    bridge socket (each accepted connection is relayed to a new ``dial-stdio`` session);
    `forward` opens a local port to a port on the remote host's loopback. ``last_failure``
    holds the latest thing that went wrong in the bridge (a failed ``dial-stdio``, a
    dropped connection), for the diagnosis of the request that saw only a closed socket.
    """

    def __init__(self, target: SshTarget, config: str | None = None) -> None:
        self.target = target
        self.config = config
        self.last_failure: SshError | None = None
        self._folder = Path(tempfile.mkdtemp(prefix="hermes-ssh-"))
        os.chmod(self._folder, 0o700)
        self._master: subprocess.Popen[bytes] | None = None
        self._generation = 0
        self._bridges: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Bridge] = (
            weakref.WeakKeyDictionary()
        )
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._forwards: dict[int, tuple[int, int]] = {}  # remote → (local, generation)
        self._closed = False

    @property
    def control_path(self) -> Path:
        return self._folder / "control"

    @property
    def alive(self) -> bool:
        return self._master is not None and self._master.poll() is None

    @property
    def master_pid(self) -> int | None:
        return self._master.pid if self.alive and self._master is not None else None

    @property
    def forwards(self) -> dict[int, int]:
        """Remote port → local port, for the forwards of the current connection."""
        return {remote: local for remote, (local, generation) in self._forwards.items()
                if generation == self._generation and self.alive}

    def _base(self, ssh: str) -> list[str]:
        args = [ssh]
        if self.config:
            args += ["-F", self.config]
        return args + [
            "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=yes",
            "-S", str(self.control_path),
            *self.target.port_args,
        ]

    def remote_command(self, *words: str) -> list[str]:
        """``ssh`` running ``words`` on the host as a session of the master connection."""
        return [*self._base(_ssh_binary()), "-o", "ControlMaster=no", "-T", "--",
                self.target.destination, *words]

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    async def connect(self, timeout: float = CONNECT_TIMEOUT) -> None:
        """Make sure the master connection is up; `SshError` with the cause if it cannot be."""
        if self.alive:
            return
        async with self._lock():
            if self.alive:
                return
            await self._start_master(timeout)

    async def _start_master(self, timeout: float) -> None:
        ssh = _ssh_binary()
        with contextlib.suppress(FileNotFoundError):
            self.control_path.unlink()
        log = self._folder / "master.log"
        argv = [
            *self._base(ssh), "-M", "-N", "-T",
            "-o", "ControlPersist=no",
            "-o", f"ConnectTimeout={max(1, int(timeout))}",
            "-o", "ServerAliveInterval=15",
            "-o", "ServerAliveCountMax=3",
            "-o", "ExitOnForwardFailure=no",
            "--", self.target.destination,
        ]
        master = self._master = _spawn(argv, log)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout + 2
        while True:
            if master.poll() is not None:
                stderr = _read_tail(log)
                self._master = None
                fingerprint = None
                if "host key verification failed" in stderr.lower() and (
                    "has changed" not in stderr.lower()
                ):
                    fingerprint = await self._offered_key(timeout)
                raise classify_connect(self.target, stderr, master.returncode, fingerprint)
            if self.control_path.exists():
                self._generation += 1
                self.last_failure = None
                return
            if loop.time() > deadline:
                _stop(master)
                self._master = None
                raise SshError(SshFailure.UNREACHABLE, Problem(
                    f"{self.target.display} did not complete the SSH login within "
                    f"{timeout:g} s.",
                    f"Check that the host is up and reachable; try {self.target.ssh_command()} "
                    "true.",
                    subject=f"ssh://{self.target.display}",
                ))
            await asyncio.sleep(0.02)

    async def _offered_key(self, timeout: float) -> str | None:
        """The fingerprint of the host key the server offers, as ``ssh -v`` reports it
        (so the user's own config, aliases and jump hosts apply); None if not seen."""
        argv = [*self._base(_ssh_binary()), "-v", "-o", "ControlMaster=no",
                "-o", f"ConnectTimeout={max(1, int(timeout))}", "-T", "--",
                self.target.destination, "true"]
        try:
            process = await asyncio.create_subprocess_exec(
                *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE, start_new_session=True,
            )
            async with asyncio.timeout(timeout + 2):
                _, err = await process.communicate()
        except (OSError, TimeoutError):
            return None
        return offered_key(err.decode("utf-8", "replace"))

    def socket_path(self) -> str:
        """The running event loop's bridge socket (made on first use): a unix socket in the
        private folder whose every connection is relayed to the remote engine."""
        loop = asyncio.get_running_loop()
        bridge = self._bridges.get(loop)
        if bridge is None or bridge.closed:
            path = self._folder / f"engine-{len(self._bridges)}-{id(loop):x}.sock"
            bridge = self._bridges[loop] = _Bridge(self, loop, path)
        return str(bridge.path)

    async def forward(self, remote_port: int) -> int:
        """A local port on 127.0.0.1 that reaches 127.0.0.1:``remote_port`` on the host,
        through the master connection (made once per port and connection)."""
        await self.connect()
        known = self._forwards.get(remote_port)
        if known is not None and known[1] == self._generation:
            return known[0]
        local = _free_port()
        spec = f"127.0.0.1:{local}:127.0.0.1:{remote_port}"
        argv = [*self._base(_ssh_binary()), "-O", "forward", "-L", spec, "--",
                self.target.destination]
        process = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE, start_new_session=True,
        )
        _, err = await process.communicate()
        if process.returncode != 0:
            raise SshError(SshFailure.OTHER, Problem(
                f"Could not forward a local port to port {remote_port} on "
                f"{self.target.display}: {last_line(err.decode('utf-8', 'replace'))}",
                "Allow TCP forwarding for this user on the host (AllowTcpForwarding in its "
                "sshd_config).",
                subject=f"ssh://{self.target.display}",
            ))
        self._forwards[remote_port] = (local, self._generation)
        return local

    def port_is_free(self, port: int, timeout: float = 10.0) -> bool:
        """Whether nothing listens on 127.0.0.1:``port`` of the remote host (blocking: for a
        worker thread). A stdio forward (``ssh -W``) over the master connection: a channel
        that opens (or no verdict in time) means taken; the host refusing the connection
        means free. Over a master, the refusal's words ("connect failed") are the master's:
        they are read from its log, so a session refused for another reason (sshd's
        MaxSessions) is not taken for a free port."""
        if not self.alive:
            return True  # no connection to ask through: the engine's listing decides
        log = self._folder / "master.log"
        try:
            before = log.stat().st_size
        except OSError:
            before = 0
        argv = [*self._base(_ssh_binary()), "-o", "ControlMaster=no",
                "-W", f"127.0.0.1:{port}", "--", self.target.destination]
        try:
            done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=timeout, check=False, start_new_session=True)
        except subprocess.TimeoutExpired:
            return False
        if done.returncode == 0:
            return False
        try:
            with open(log, "rb") as master:
                master.seek(before)
                said = master.read().decode("utf-8", "replace")
        except OSError:
            said = ""
        said += done.stderr.decode("utf-8", "replace")
        return "connect failed" in said.lower()

    def drop(self) -> None:
        """End the master connection (the next request connects again)."""
        if self._master is not None:
            _stop(self._master)
            self._master = None

    def close(self) -> None:
        """End the master connection, stop every bridge and remove the private folder."""
        if self._closed:
            return
        self._closed = True
        self.drop()
        for bridge in list(self._bridges.values()):
            bridge.close()
        self._bridges.clear()
        shutil.rmtree(self._folder, ignore_errors=True)


def _spawn(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    """Start the master connection, its messages going to ``log``. It is not the event
    loop's child (it outlives a loop: ``setup`` runs several), and it gets its own session:
    no terminal to prompt on, and Ctrl+C in the app's terminal does not reach it. On Linux
    it is also told to end with this process, so even a killed hermes-tui leaves no SSH
    connection behind (elsewhere `close_all` at exit ends it)."""
    with open(log, "wb") as sink:
        return subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=sink,
            start_new_session=True, preexec_fn=_end_with_parent,  # noqa: PLW1509
        )


def _end_with_parent() -> None:
    """In the child, before exec: SIGTERM when the parent dies (Linux's PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _read_tail(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return data[-_STDERR_KEPT:].decode("utf-8", "replace")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Bridge:
    """A unix socket on one event loop; each connection is relayed to ``dial-stdio``."""

    def __init__(self, owner: SshConnection, loop: asyncio.AbstractEventLoop,
                 path: Path) -> None:
        self.owner = owner
        self.path = path
        self.closed = False
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._socket.bind(str(path))
        self._socket.listen(64)
        self._socket.setblocking(False)
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # Listening already: connections made before the server runs wait in the backlog.
        self._start = loop.create_task(self._serve())

    async def _serve(self) -> None:
        self._server = await asyncio.start_unix_server(self._relay_quietly, sock=self._socket)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        owner = self.owner
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        process = None
        relayed = False
        try:
            try:
                await owner.connect()
                process = await asyncio.create_subprocess_exec(
                    *owner.remote_command("docker", "system", "dial-stdio"),
                    stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE, start_new_session=True,
                )
            except SshError as error:
                owner.last_failure = error
                return
            assert process.stdin and process.stdout and process.stderr
            errors = asyncio.ensure_future(process.stderr.read())

            async def upstream() -> None:
                assert process is not None and process.stdin is not None
                try:
                    while data := await reader.read(_RELAY_CHUNK):
                        process.stdin.write(data)
                        await process.stdin.drain()
                except (ConnectionError, OSError):
                    pass
                # An HTTP client never half-closes: its end means the exchange is over, so
                # the remote session ends now rather than when the engine drops it.
                if process.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        process.terminate()

            up = asyncio.ensure_future(upstream())
            try:
                while data := await process.stdout.read(_RELAY_CHUNK):
                    relayed = True
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass  # the client went away: end the remote session too
            finally:
                up.cancel()
                with contextlib.suppress(BaseException):
                    await up
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.terminate()
            code = await process.wait()
            stderr = (await errors).decode("utf-8", "replace")
            if code not in (0, -signal.SIGTERM) or (not relayed and stderr.strip()):
                if relayed or not owner.alive:
                    owner.last_failure = dropped(owner.target, last_line(stderr))
                else:
                    owner.last_failure = classify_dial(owner.target, stderr, code)
        finally:
            if process is not None and process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            if task is not None:
                self._tasks.discard(task)

    async def _relay_quietly(self, reader: asyncio.StreamReader,
                             writer: asyncio.StreamWriter) -> None:
        # A relay still running when its loop shuts down is cancelled: that is its end,
        # not an error for asyncio to print.
        with contextlib.suppress(asyncio.CancelledError):
            await self._relay(reader, writer)

    def close(self) -> None:
        self.closed = True
        if self._server is not None:
            self._server.close()
        else:
            self._start.cancel()
            self._socket.close()
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


# --------------------------------------------------------------------------------------------
# One connection per address, for the whole process
# --------------------------------------------------------------------------------------------

_CONNECTIONS: dict[tuple[str, str | None], SshConnection] = {}


def connection_for(url: str, env: Mapping[str, str] | None = None) -> SshConnection:
    """The process's connection to ``url`` (made on first use; ValueError for an address
    that is not a valid ``ssh://`` URL)."""
    target = parse_ssh_url(url)
    config = _config_file(env)
    key = (f"{target.destination}:{target.port or ''}", config)
    found = _CONNECTIONS.get(key)
    if found is None or found._closed:
        found = _CONNECTIONS[key] = SshConnection(target, config)
    return found


def close_all() -> None:
    """End every SSH connection this process made (at exit; tests between cases)."""
    while _CONNECTIONS:
        _, connection = _CONNECTIONS.popitem()
        connection.close()


atexit.register(close_all)


def explain_lost(url: str) -> SshError | None:
    """Why the engine at ``url`` stopped answering, when it is an ssh:// engine whose
    bridge saw it happen (None otherwise)."""
    if not url.startswith("ssh://"):
        return None
    try:
        connection = connection_for(url)
    except ValueError:
        return None
    if connection.last_failure is not None:
        return connection.last_failure
    if not connection.alive:
        return dropped(connection.target)
    return None


class SshRoute(ApiRoute):
    """The gateway's API port on the remote host's loopback, reached through the SSH
    connection (an OpenSSH local forward, made on first use and kept with the
    connection): the port stays private to that host, published on its 127.0.0.1 only,
    and nothing of the API crosses the network outside SSH. Cheap to make: nothing
    happens until `address` is asked."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def address(self, port: int) -> tuple[str, int]:
        return LOOPBACK, await connection_for(self.url).forward(port)

    def __repr__(self) -> str:
        return f"SshRoute({self.url!r})"


def ssh_route(engine: EngineInfo) -> SshRoute:
    """The route to ``engine``'s gateways (an ssh:// engine)."""
    return SshRoute(engine.url)


__all__ = [
    "SSH_CONFIG_ENV",
    "SshConnection",
    "SshError",
    "SshFailure",
    "SshRoute",
    "SshTarget",
    "classify_connect",
    "classify_dial",
    "close_all",
    "connection_for",
    "explain_lost",
    "parse_ssh_url",
    "ssh_route",
]
