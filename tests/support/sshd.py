"""A real OpenSSH server and a real local user, for tests of ``ssh://`` engines.

`TestUser` is a throw-away account made with ``useradd`` (a unique ``hts…`` name, shell
``/bin/sh``, a home in its own temp folder) with an ed25519 client key made by
``ssh-keygen``.  The client side runs as root, like the tests, so the private key sits
in a root-only folder.  `SshServer` runs Debian's ``/usr/sbin/sshd`` in the foreground on
``127.0.0.1:<free port>`` with its own host key, pid file and configuration: public-key
login for that one user only, TCP and unix-socket forwarding on, and the remote session's
``DOCKER_HOST`` and ``PATH`` set by the server (``SetEnv``), so the user's ``docker``
reaches whichever engine socket a test names, or is missing.

`SshServer.client_config()` writes an ``ssh -F`` file whose known-hosts file knows the
server's real host key, none, or a different one; the application gets it through
``HERMES_TUI_SSH_CONFIG``.  `SshServer.kill_connections()` kills the per-connection
server processes, which is what a client sees when the connection drops.

Only the standard library is used (like `tests.support.engine`).  Processes are found by
pid and parent pid, never by name; users are deleted by the exact name this module made,
also from an ``atexit`` hook when a test run dies half-way.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Final, Literal

SSHD: Final = "/usr/sbin/sshd"
#: sshd's privilege-separation folder (Debian's compiled-in path); the package's
#: systemd unit creates it at boot, a container has none until someone makes it.
PRIVSEP_DIR: Final = Path("/run/sshd")
PRIVSEP_USER: Final = "sshd"
#: The remote session's PATH unless a test gives one: the Debian client
#: (/usr/bin/docker, from docker.io) and nothing from /usr/local, which may hold another.
DEFAULT_REMOTE_PATH: Final = "/usr/bin:/bin"
USER_PREFIX: Final = "hts"
DEFAULT_TIMEOUT: Final = 30.0
KnownHost = Literal["ok", "unknown", "changed"]


class SshdError(RuntimeError):
    """The test user or the SSH server could not be made, started or removed."""


def can_run() -> tuple[bool, str]:
    """Say whether a test sshd and test user can be made here, and if not, why not."""
    if os.geteuid() != 0:
        return False, "a test sshd and test user need root (euid is not 0)"
    missing = [] if os.access(SSHD, os.X_OK) else [SSHD]
    missing += [
        name for name in ("ssh", "ssh-keygen", "useradd", "userdel")
        if shutil.which(name) is None
    ]
    if missing:
        return False, (
            "missing " + ", ".join(missing)
            + " (apt-get install openssh-server openssh-client passwd; see .ci/apt-packages.txt)"
        )
    try:
        import pwd

        pwd.getpwnam(PRIVSEP_USER)
    except KeyError:
        return False, f"no '{PRIVSEP_USER}' user for sshd's privilege separation (reinstall openssh-server)"
    return True, "ok"


def _temp_base() -> str:
    """A short temp folder: the client's ControlPath socket must stay < 108 bytes."""
    base = tempfile.gettempdir()
    return base if len(base) <= 40 else "/tmp"


def _run(argv: list[str], *, timeout: float = DEFAULT_TIMEOUT) -> str:
    """Run a setup command; its output on success, `SshdError` with it on failure."""
    try:
        done = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=timeout, check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SshdError(f"{' '.join(argv)}: {error}") from error
    if done.returncode != 0:
        raise SshdError(
            f"{' '.join(argv)} exited with {done.returncode}: {(done.stderr or done.stdout).strip()}"
        )
    return done.stdout


def _run_account_tool(argv: list[str]) -> str:
    """useradd/usermod/userdel, retried while another process holds /etc/passwd's lock
    (other test sessions on the machine may be adding users at the same moment)."""
    deadline = time.monotonic() + DEFAULT_TIMEOUT
    while True:
        try:
            return _run(argv)
        except SshdError as error:
            if "lock" not in str(error) or time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def _keygen(path: Path, comment: str) -> None:
    """An ed25519 key pair at `path` and `path`.pub, no passphrase."""
    _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)])


def make_traversable(path: Path) -> None:
    """Add o+x to `path` and each of its parents (what another user needs to reach a
    file inside): only for test folders, which hold nothing secret."""
    for folder in (path, *path.parents):
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)


# --------------------------------------------------------------------------- #
# The test user
# --------------------------------------------------------------------------- #


class TestUser:
    """A real local account for SSH logins, deleted again by `delete()`.

    After `create()`: `name` (``hts`` + 8 hex digits), `uid`, `gid` (its own group of
    the same name), `home` (owned by it, 0700), `key` (the private key, in a root-only
    folder `client_dir`) and `public_key` (the ``ssh-ed25519 …`` line).  The password
    field is ``*``: no password can log in, yet the account is not *locked* (``!``),
    which sshd without PAM would refuse even for public keys.
    """

    __test__ = False  # a helper, not a pytest test class

    def __init__(self) -> None:
        self.name = USER_PREFIX + secrets.token_hex(4)
        self._base: Path | None = None
        self._created = False
        self.uid = -1
        self.gid = -1

    @property
    def base(self) -> Path:
        if self._base is None:
            raise SshdError("the test user has not been created")
        return self._base

    @property
    def home(self) -> Path:
        return self.base / "home"

    @property
    def client_dir(self) -> Path:
        """Root-only (0700): the client side of the tests runs as root."""
        return self.base / "client"

    @property
    def key(self) -> Path:
        return self.client_dir / "id_ed25519"

    @property
    def public_key(self) -> str:
        return self.key.with_suffix(".pub").read_text().strip()

    def __enter__(self) -> TestUser:  # noqa: PYI034 - create() returns self
        return self.create()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.delete()

    def create(self) -> TestUser:
        """Add the account, its home and its key pair (undone on failure)."""
        if self._base is not None:
            raise SshdError("already created")
        ok, reason = can_run()
        if not ok:
            raise SshdError(reason)
        import pwd

        self._base = Path(tempfile.mkdtemp(prefix="hermes-sshuser-", dir=_temp_base()))
        atexit.register(self.delete)  # never leave an account behind
        try:
            self._base.chmod(0o711)  # the user reaches its home; lists nothing
            _run_account_tool([
                "useradd", "--no-create-home", "--home-dir", str(self.home),
                "--shell", "/bin/sh", "--user-group", "--password", "*",
                "--comment", "hermes-tui test user", self.name,
            ])
            self._created = True
            entry = pwd.getpwnam(self.name)
            self.uid, self.gid = entry.pw_uid, entry.pw_gid
            self.home.mkdir(mode=0o700)
            os.chown(self.home, self.uid, self.gid)
            self.client_dir.mkdir(mode=0o700)
            _keygen(self.key, f"{self.name}@hermes-tui-tests")
        except BaseException:
            self.delete()
            raise
        return self

    def delete(self) -> None:
        """Remove the account (and its group) and every file of it (idempotent)."""
        problems: list[str] = []
        if self._created:
            _kill_processes_of(self.uid)
            try:
                # -f: a session that is still closing must not keep the account alive.
                _run_account_tool(["userdel", "--force", self.name])
                self._created = False
            except SshdError as error:
                problems.append(str(error))
        if self._base is not None:
            shutil.rmtree(self._base, ignore_errors=True)
            if self._base.exists():
                problems.append(f"could not remove {self._base}")
            self._base = None
        atexit.unregister(self.delete)
        if problems:
            raise SshdError("; ".join(problems))


def _kill_processes_of(uid: int) -> None:
    """SIGKILL every process running as `uid` (a test user's leftovers only)."""
    if uid <= 0:
        return
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid == uid:
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            continue


# --------------------------------------------------------------------------- #
# Access to engine sockets
# --------------------------------------------------------------------------- #


def grant_engine_access(engine_socket: str, user: TestUser) -> None:
    """Let `user` use the engine at `engine_socket`: the socket becomes root:<user's
    group> 0660 and its folders traversable by others (o+x).

    That makes the user as powerful as root on this machine (any Docker API user is),
    which is acceptable only for a throw-away engine in a test, whose state folder holds
    nothing secret; nothing has to be restored, the engine keeps working for root.
    dockerd recreates its socket (root:root 0660) when it restarts: grant again after
    `LocalEngine.start_engine()`.
    """
    path = Path(engine_socket)
    os.chown(path, 0, user.gid)
    path.chmod(0o660)
    make_traversable(path.parent)


@contextlib.contextmanager
def visible_dir() -> Iterator[Path]:
    """A fresh temp folder (0711, in a short temp base) that other users can search
    but not list, removed afterwards.

    pytest's ``tmp_path`` does not do: every pytest session that starts resets
    ``/tmp/pytest-of-root`` to 0700, so a concurrent run would hide it mid-test.
    """
    path = Path(tempfile.mkdtemp(prefix="hermes-sshvis-", dir=_temp_base()))
    try:
        path.chmod(0o711)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def forbidden_socket() -> Iterator[str]:
    """A listening unix socket that only root may use (root:root 0600), in a folder
    others can search: the remote user's ``docker`` meets "permission denied" there,
    exactly as with a real daemon it is not allowed to use."""
    with visible_dir() as directory:
        path = directory / "docker.sock"
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            server.bind(str(path))
            path.chmod(0o600)
            server.listen()
            yield str(path)
        finally:
            server.close()


# --------------------------------------------------------------------------- #
# The server
# --------------------------------------------------------------------------- #


def _children(pid: int) -> list[int]:
    """Pids whose parent is `pid`, from /proc."""
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat_line = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: split after it.
        fields = stat_line.rpartition(")")[2].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _descendants(pid: int) -> list[int]:
    """Every process below `pid`, parents before their children."""
    order: list[int] = []
    todo = [pid]
    while todo:
        for child in _children(todo.pop()):
            order.append(child)
            todo.append(child)
    return order


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class SshServer:
    """Debian's sshd on ``127.0.0.1:<port>`` that lets `user` in with its key.

    - `docker_host`: the remote session's ``DOCKER_HOST`` (None: not set, so the remote
      ``docker`` tries its default socket).
    - `path`: the remote session's ``PATH`` (None: `DEFAULT_REMOTE_PATH`, which holds
      the Debian ``docker``; a folder without it makes ``docker`` "not found").
    - `authorized`: False leaves the user's key out of the authorized keys, so login is
      refused ("Permission denied (publickey)").

    After `start()`: `url` (``ssh://user@127.0.0.1:PORT``), `port`, `host_key_fingerprint`,
    `client_config()`, `kill_connections()`; `log` is sshd's own log (``-e``).
    """

    def __init__(
        self,
        user: TestUser,
        *,
        docker_host: str | None = None,
        path: str | None = None,
        authorized: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.user = user
        self.docker_host = docker_host
        self.path = DEFAULT_REMOTE_PATH if path is None else path
        self.authorized = authorized
        self._timeout = timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._state: Path | None = None
        self.port = 0

    # -- public attributes -------------------------------------------------- #

    @property
    def state_dir(self) -> Path:
        if self._state is None:
            raise SshdError("the ssh server has not been started")
        return self._state

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def url(self) -> str:
        return f"ssh://{self.user.name}@{self.host}:{self.port}"

    @property
    def destination(self) -> str:
        """``user@127.0.0.1`` for a plain ``ssh -p PORT`` command line."""
        return f"{self.user.name}@{self.host}"

    @property
    def log(self) -> Path:
        return self.state_dir / "sshd.log"

    @property
    def host_key(self) -> Path:
        return self.state_dir / "ssh_host_ed25519_key"

    @property
    def host_key_fingerprint(self) -> str:
        """``SHA256:…``, as ssh shows it for an unknown host key."""
        out = _run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(self.host_key)])
        return out.split()[1]

    @property
    def listener_pid(self) -> int:
        if self._process is None:
            raise SshdError("the ssh server is not running")
        return self._process.pid

    def ssh_command(self, *remote: str, config: Path | None = None) -> list[str]:
        """A plain ``ssh`` command line that runs `remote` on this server."""
        config = config or self.client_config()
        return ["ssh", "-F", str(config), "-p", str(self.port), self.destination, "--", *remote]

    def __enter__(self) -> SshServer:  # noqa: PYI034 - start() returns self
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- life cycle ---------------------------------------------------------- #

    def start(self) -> SshServer:
        """Make the host key and configuration and wait until sshd listens."""
        if self._state is not None:
            raise SshdError("already started")
        ok, reason = can_run()
        if not ok:
            raise SshdError(reason)
        self._state = Path(tempfile.mkdtemp(prefix="hermes-sshd-", dir=_temp_base()))
        atexit.register(self.stop)
        try:
            # sshd reads the authorized keys as the user: it must reach them.
            self._state.chmod(0o711)
            (self._state / "client").mkdir(mode=0o700)
            _keygen(self.host_key, "hermes-tui-test-sshd")
            authorized = self.state_dir / "authorized_keys"
            authorized.write_text(self.user.public_key + "\n" if self.authorized else "")
            authorized.chmod(0o644)
            PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
            # Another process may take the free port before sshd binds it: try again.
            for _attempt in range(3):
                self.port = _free_port()
                self._write_config()
                if self._launch():
                    break
            else:
                raise SshdError(f"sshd found its port taken 3 times; end of {self.log}:\n"
                                + _tail(self.log))
        except BaseException:
            self.stop()
            raise
        return self

    def _write_config(self) -> None:
        state = self.state_dir
        env = [f"PATH={self.path}"]
        if self.docker_host is not None:
            env.append(f"DOCKER_HOST={self.docker_host}")
        lines = [
            f"Port {self.port}",
            f"ListenAddress {self.host}",
            f"HostKey {self.host_key}",
            f"PidFile {state / 'sshd.pid'}",
            f"AuthorizedKeysFile {state / 'authorized_keys'}",
            "StrictModes no",  # the key files live in test temp folders
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "PermitRootLogin no",
            f"AllowUsers {self.user.name}",
            "AllowTcpForwarding yes",
            "AllowStreamLocalForwarding yes",
            "X11Forwarding no",
            "PrintMotd no",
            "PrintLastLog no",
            "UseDNS no",
            "LogLevel VERBOSE",
            "SetEnv " + " ".join(f'"{item}"' for item in env),
        ]
        (state / "sshd_config").write_text("\n".join(lines) + "\n")

    def _launch(self) -> bool:
        """Start sshd; True once it listens, False if its port was taken meanwhile."""
        with open(self.log, "ab") as log:
            self._process = subprocess.Popen(
                [SSHD, "-D", "-e", "-f", str(self.state_dir / "sshd_config")],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl+C goes to pytest; we stop it
            )
        deadline = time.monotonic() + self._timeout
        while True:
            if self._process.poll() is not None:
                text = _tail(self.log)
                if "Address already in use" in text:
                    self._process = None
                    return False
                raise SshdError(
                    f"sshd exited with {self._process.returncode} while starting;"
                    f" end of {self.log}:\n{text}"
                )
            if f"Server listening on {self.host} port {self.port}" in _tail(self.log):
                return True
            if time.monotonic() > deadline:
                raise SshdError(
                    f"sshd not listening after {self._timeout:.0f} s;"
                    f" end of {self.log}:\n{_tail(self.log)}"
                )
            time.sleep(0.05)

    def kill_connections(self) -> int:
        """SIGKILL every connection's server processes, leaving the listener running:
        to the client, the SSH connection dropped.  Returns how many were killed."""
        killed = 0
        for pid in _descendants(self.listener_pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
        return killed

    def stop(self) -> None:
        """End the listener and every connection, delete the state folder (idempotent)."""
        if self._process is not None:
            if self._process.poll() is None:
                self.kill_connections()
                self._process.terminate()
                try:
                    self._process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait(timeout=10)
            self._process = None
        if self._state is not None:
            shutil.rmtree(self._state, ignore_errors=True)
            self._state = None
        atexit.unregister(self.stop)

    # -- the client side ----------------------------------------------------- #

    def client_config(self, *, known_host: KnownHost = "ok") -> Path:
        """An ``ssh -F`` file for this server: the user's key only, and a known-hosts
        file that holds the server's real host key (``ok``), nothing (``unknown``) or
        another ed25519 key (``changed``).  Host key checking is left at its defaults."""
        client = self.state_dir / "client"
        known_hosts = client / f"known_hosts-{known_host}"
        entry = f"[{self.host}]:{self.port}"
        if known_host == "ok":
            known_hosts.write_text(f"{entry} {self._public_host_key(self.host_key)}\n")
        elif known_host == "unknown":
            known_hosts.write_text("")
        elif known_host == "changed":
            other = client / "other_host_key"
            if not other.exists():
                _keygen(other, "not-the-server")
            known_hosts.write_text(f"{entry} {self._public_host_key(other)}\n")
        else:
            raise ValueError(f"known_host must be ok, unknown or changed, not {known_host!r}")
        config = client / f"ssh_config-{known_host}"
        config.write_text(
            "\n".join([
                f"IdentityFile {self.user.key}",
                "IdentitiesOnly yes",
                f"UserKnownHostsFile {known_hosts}",
                "GlobalKnownHostsFile /dev/null",
            ])
            + "\n"
        )
        config.chmod(0o600)
        return config

    @staticmethod
    def _public_host_key(private: Path) -> str:
        """``ssh-ed25519 AAAA…`` of a key pair, without its comment."""
        fields = private.with_suffix(".pub").read_text().split()
        return f"{fields[0]} {fields[1]}"
