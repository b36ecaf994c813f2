"""The OpenSSH test harness (`tests.support.sshd`) against the plain system ``ssh``.

Besides proving the harness (a real login whose remote ``docker`` reaches the session
engine), these tests pin down what the real OpenSSH client and the Debian ``docker``
client print in each failure the application must diagnose for ``ssh://`` engines:
the exit status and the stable part of stderr.  If a package update changes one of
these texts, the failure here points at the diagnosis that needs the new text.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import sshd
from tests.support.engine import LocalEngine, tcp_request, unix_request

#: Every ssh run here ends well within this; a hang fails the test with the command.
RUN_TIMEOUT = 60
#: A real Engine API request, as aiodocker would send it through the bridge.
PING = b"GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n"

#: How OpenSSH reports a connection the server side cut, depending on what it was doing.
DROPPED = ("closed by remote host", "Broken pipe", "Connection reset by peer")

ServerFactory = Callable[..., sshd.SshServer]


def ssh(
    server: sshd.SshServer,
    *remote: str,
    config: Path | None = None,
    options: tuple[str, ...] = (),
    port: int | None = None,
    stdin: bytes = b"",
) -> subprocess.CompletedProcess[bytes]:
    """Run the system ssh client non-interactively (BatchMode) against `server`."""
    argv = [
        "ssh", "-F", str(config or server.client_config()), "-o", "BatchMode=yes", *options,
        "-p", str(port or server.port), server.destination, "--", *remote,
    ]
    return subprocess.run(
        argv, input=stdin, capture_output=True, timeout=RUN_TIMEOUT, check=False
    )


def stderr_of(done: subprocess.CompletedProcess[bytes]) -> str:
    return done.stderr.decode(errors="replace")


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that is bound but not listening: connecting is refused, and
    nothing else can start listening there during the test."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


# --------------------------------------------------------------------------- #
# The working path
# --------------------------------------------------------------------------- #


def test_remote_docker_answers_through_the_session_engine(
    ssh_server: ServerFactory, ssh_engine_host: str, local_engine: LocalEngine
) -> None:
    server = ssh_server(docker_host=ssh_engine_host)
    status, body = local_engine.engine_request("GET", "/version")
    assert status == 200

    done = ssh(server, "docker", "version", "--format", "{{.Server.APIVersion}}")

    assert done.returncode == 0, stderr_of(done)
    assert done.stdout.decode().strip() == json.loads(body)["ApiVersion"]


def test_dial_stdio_carries_a_real_engine_api_request(
    ssh_server: ServerFactory, ssh_engine_host: str
) -> None:
    server = ssh_server(docker_host=ssh_engine_host)
    request = PING.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")

    done = ssh(server, "docker", "system", "dial-stdio", stdin=request)

    assert done.returncode == 0, stderr_of(done)
    head, _, body = done.stdout.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nApi-Version: " in head
    assert body == b"OK"


def test_session_environment_comes_from_the_server(
    ssh_server: ServerFactory, ssh_user: sshd.TestUser
) -> None:
    server = ssh_server(docker_host="unix:///nowhere/docker.sock", path="/usr/bin:/bin")

    done = ssh(server, "id -un; echo $DOCKER_HOST; echo $PATH; command -v docker")

    assert done.returncode == 0, stderr_of(done)
    assert done.stdout.decode().split() == [
        ssh_user.name, "unix:///nowhere/docker.sock", "/usr/bin:/bin", "/usr/bin/docker",
    ]


def test_tcp_and_unix_socket_forwarding_reach_the_remote_side(
    ssh_server: ServerFactory, ssh_engine_host: str, local_engine: LocalEngine,
    tmp_path: Path,
) -> None:
    server = ssh_server(docker_host=ssh_engine_host)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        local_port = int(probe.getsockname()[1])
    local_socket = tmp_path / "engine.sock"
    forward = subprocess.Popen(
        [
            "ssh", "-F", str(server.client_config()), "-o", "BatchMode=yes",
            "-o", "ExitOnForwardFailure=yes", "-N",
            "-L", f"127.0.0.1:{local_port}:{local_engine.registry}",
            "-L", f"{local_socket}:{local_engine.socket_path}",
            "-p", str(server.port), server.destination,
        ],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        _wait_for_forward(forward, local_port, local_socket)

        assert tcp_request(f"127.0.0.1:{local_port}", "GET", "/v2/")[0] == 200
        assert unix_request(local_socket, "GET", "/_ping") == (200, b"OK")
    finally:
        forward.terminate()
        forward.wait(timeout=RUN_TIMEOUT)


def _wait_for_forward(forward: subprocess.Popen[bytes], port: int, path: Path) -> None:
    """Until both forwards listen; fails with ssh's stderr if it exits or takes long."""
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        if forward.poll() is not None:
            assert forward.stderr is not None
            pytest.fail(f"ssh -L exited with {forward.returncode}: {forward.stderr.read()!r}")
        if path.exists():
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return
        if time.monotonic() > deadline:
            pytest.fail(f"ssh -L forwards not listening after {RUN_TIMEOUT} s")
        time.sleep(0.05)


def test_host_key_fingerprint_is_what_the_server_presents(
    ssh_server: ServerFactory,
) -> None:
    server = ssh_server()
    scan = subprocess.run(
        ["ssh-keyscan", "-t", "ed25519", "-p", str(server.port), server.host],
        capture_output=True, timeout=RUN_TIMEOUT, check=True,
    )
    shown = subprocess.run(
        ["ssh-keygen", "-l", "-E", "sha256", "-f", "-"],
        input=scan.stdout, capture_output=True, timeout=RUN_TIMEOUT, check=True,
    )

    assert server.host_key_fingerprint.startswith("SHA256:")
    assert server.host_key_fingerprint in shown.stdout.decode()


# --------------------------------------------------------------------------- #
# What the real tools print when something is wrong
# --------------------------------------------------------------------------- #


def test_closed_port_is_connection_refused(
    ssh_server: ServerFactory, closed_port: int
) -> None:
    server = ssh_server()

    done = ssh(server, "true", port=closed_port)

    assert done.returncode == 255
    assert stderr_of(done).strip() == (
        f"ssh: connect to host 127.0.0.1 port {closed_port}: Connection refused"
    )


def test_unknown_host_key_is_refused_with_strict_checking(ssh_server: ServerFactory) -> None:
    server = ssh_server()
    config = server.client_config(known_host="unknown")

    done = ssh(server, "true", config=config, options=("-o", "StrictHostKeyChecking=yes"))

    assert done.returncode == 255
    err = stderr_of(done)
    assert f"No ED25519 host key is known for [127.0.0.1]:{server.port}" in err
    assert "you have requested strict checking." in err
    assert err.rstrip().endswith("Host key verification failed.")
    # ssh names no fingerprint here: the app has to fetch it (ssh-keyscan) to show it.
    assert "SHA256:" not in err


def test_unknown_host_key_in_batch_mode_says_only_verification_failed(
    ssh_server: ServerFactory,
) -> None:
    server = ssh_server()

    done = ssh(server, "true", config=server.client_config(known_host="unknown"))

    assert done.returncode == 255
    assert stderr_of(done).strip() == "Host key verification failed."


def test_changed_host_key_is_refused_and_shows_the_new_fingerprint(
    ssh_server: ServerFactory,
) -> None:
    server = ssh_server()
    config = server.client_config(known_host="changed")

    done = ssh(server, "true", config=config, options=("-o", "StrictHostKeyChecking=yes"))

    assert done.returncode == 255
    err = stderr_of(done)
    assert "WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!" in err
    assert (
        "The fingerprint for the ED25519 key sent by the remote host is\n"
        f"{server.host_key_fingerprint}." in err
    )
    assert f"Host key for [127.0.0.1]:{server.port} has changed" in err
    assert err.rstrip().endswith("Host key verification failed.")


def test_key_not_authorized_is_permission_denied(
    ssh_server: ServerFactory, ssh_user: sshd.TestUser
) -> None:
    server = ssh_server(authorized=False)

    done = ssh(server, "true")

    assert done.returncode == 255
    assert stderr_of(done).strip() == (
        f"{ssh_user.name}@127.0.0.1: Permission denied (publickey)."
    )


def test_no_docker_on_the_remote_host_is_not_found(
    ssh_server: ServerFactory, visible_dir: Path
) -> None:
    # An existing, readable folder: dash says "Permission denied" for a PATH entry it
    # cannot search, which is a different (and unlikely) remote setup.
    empty_bin = visible_dir / "bin"
    empty_bin.mkdir(mode=0o755)
    server = ssh_server(path=str(empty_bin))

    done = ssh(server, "docker", "system", "dial-stdio", stdin=PING)

    assert done.returncode == 127
    assert stderr_of(done) == "sh: 1: docker: not found\n"


def test_remote_daemon_socket_missing_is_no_such_file(
    ssh_server: ServerFactory, visible_dir: Path
) -> None:
    missing = visible_dir / "docker.sock"
    server = ssh_server(docker_host=f"unix://{missing}")

    done = ssh(server, "docker", "system", "dial-stdio", stdin=PING)

    assert done.returncode == 1
    assert stderr_of(done) == (
        f"failed to open the raw stream connection: dial unix {missing}:"
        " connect: no such file or directory\n"
    )
    assert done.stdout == b""


def test_remote_daemon_stale_socket_is_connection_refused(
    ssh_server: ServerFactory, visible_dir: Path
) -> None:
    stale = visible_dir / "docker.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(stale))  # never listens: a daemon that died and left its socket
    stale.chmod(0o666)
    server = ssh_server(docker_host=f"unix://{stale}")

    done = ssh(server, "docker", "system", "dial-stdio", stdin=PING)

    assert done.returncode == 1
    assert stderr_of(done) == (
        f"failed to open the raw stream connection: dial unix {stale}:"
        " connect: connection refused\n"
    )


def test_remote_user_not_allowed_is_permission_denied(
    ssh_server: ServerFactory, forbidden_socket: str
) -> None:
    server = ssh_server(docker_host=f"unix://{forbidden_socket}")

    dial = ssh(server, "docker", "system", "dial-stdio", stdin=PING)
    version = ssh(server, "docker", "version", "--format", "{{.Server.APIVersion}}")

    assert dial.returncode == 1
    assert stderr_of(dial) == (
        f"failed to open the raw stream connection: dial unix {forbidden_socket}:"
        " connect: permission denied\n"
    )
    assert version.returncode == 1
    assert stderr_of(version).startswith(
        "permission denied while trying to connect to the Docker daemon socket at"
        f" unix://{forbidden_socket}: "
    )


def test_killed_connection_ends_the_session_and_the_server_stays(
    ssh_server: ServerFactory, ssh_engine_host: str
) -> None:
    server = ssh_server(docker_host=ssh_engine_host)
    argv = [
        "ssh", "-F", str(server.client_config()), "-o", "BatchMode=yes",
        "-p", str(server.port), server.destination, "--", "docker", "system", "dial-stdio",
    ]
    client = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert client.stdin is not None and client.stdout is not None
        client.stdin.write(PING)
        client.stdin.flush()
        # The answer proves the session is up before it is cut.
        assert client.stdout.read1(4096).startswith(b"HTTP/1.1 200 OK\r\n")

        assert server.kill_connections() > 0
        _out, err = client.communicate(timeout=RUN_TIMEOUT)
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()

    # The words vary with what the client was doing ("client_loop: send disconnect:
    # Broken pipe", "Connection to 127.0.0.1 closed by remote host.").
    assert client.returncode == 255, err
    assert any(text.encode() in err for text in DROPPED), err
    again = ssh(server, "true")
    assert again.returncode == 0, stderr_of(again)


def test_killed_connection_ends_a_control_master_and_its_sessions(
    ssh_server: ServerFactory, ssh_engine_host: str
) -> None:
    server = ssh_server(docker_host=ssh_engine_host)
    control = Path(tempfile.mkdtemp(prefix="hermes-sshctl-", dir="/tmp")) / "control"
    common = ["-F", str(server.client_config()), "-o", "BatchMode=yes", "-S", str(control),
              "-p", str(server.port)]
    master = subprocess.Popen(
        ["ssh", *common, "-M", "-N", "-T", server.destination],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    session: subprocess.Popen[bytes] | None = None
    try:
        deadline = time.monotonic() + RUN_TIMEOUT
        while not control.exists():
            if master.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"no control master: {master.returncode}, {master.stderr!r}")
            time.sleep(0.05)
        session = subprocess.Popen(
            ["ssh", *common, server.destination, "--", "docker", "system", "dial-stdio"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        assert session.stdin is not None and session.stdout is not None
        session.stdin.write(PING)
        session.stdin.flush()
        assert session.stdout.read1(4096).startswith(b"HTTP/1.1 200 OK\r\n")

        server.kill_connections()
        _out, session_err = session.communicate(timeout=RUN_TIMEOUT)
        _out, master_err = master.communicate(timeout=RUN_TIMEOUT)
        master_left_socket = control.exists()
    finally:
        for process in (session, master):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
        shutil.rmtree(control.parent, ignore_errors=True)

    # The multiplexed session says nothing; only the master names the cause.
    assert (session.returncode, session_err) == (255, b"")
    assert master.returncode == 255
    assert any(text.encode() in master_err for text in DROPPED), master_err
    assert not master_left_socket


def test_stop_ends_the_server_and_its_connections(ssh_server: ServerFactory) -> None:
    server = ssh_server()
    argv = [
        "ssh", "-F", str(server.client_config()), "-o", "BatchMode=yes",
        "-p", str(server.port), server.destination, "--", "echo up; exec sleep 600",
    ]
    client = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert client.stdout is not None
        assert client.stdout.readline() == b"up\n"
        listener, port, state = server.listener_pid, server.port, server.state_dir

        server.stop()

        client.communicate(timeout=RUN_TIMEOUT)
        assert client.returncode == 255
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
    assert not Path(f"/proc/{listener}").exists() or _is_zombie(listener)
    assert not state.exists()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z"
    except OSError:
        return True


# --------------------------------------------------------------------------- #
# The test user
# --------------------------------------------------------------------------- #


def test_test_user_is_removed_with_its_group_and_files(ssh_user: sshd.TestUser) -> None:
    # `ssh_user` only for its skip (or CI failure) when users cannot be made here.
    user = sshd.TestUser().create()
    name, base = user.name, user.base
    assert pwd.getpwnam(name).pw_shell == "/bin/sh"
    assert user.home.stat().st_uid == user.uid
    assert user.client_dir.stat().st_uid == 0
    assert os.stat(user.client_dir).st_mode & 0o077 == 0

    user.delete()

    with pytest.raises(KeyError):
        pwd.getpwnam(name)
    with pytest.raises(KeyError):
        grp.getgrnam(name)
    assert not base.exists()


def test_test_user_left_by_an_exiting_process_is_removed_at_exit(
    ssh_user: sshd.TestUser,
) -> None:
    # `ssh_user` only for its skip (or CI failure) when users cannot be made here.
    script = (
        "from tests.support.sshd import TestUser\n"
        "user = TestUser().create()\n"
        "print(user.name, user.base, flush=True)\n"
        # no delete(): the atexit fallback must do it
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True,
        cwd=Path(__file__).resolve().parents[2], timeout=RUN_TIMEOUT, check=False,
    )

    assert done.returncode == 0, done.stderr
    name, base = done.stdout.split()
    with pytest.raises(KeyError):
        pwd.getpwnam(name)
    assert not Path(base).exists()
