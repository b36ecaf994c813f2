"""Step 1 against real things: the session dockerd, real sockets, real TLS, real users.

Every failure is produced for real: a path with no socket, a socket nobody listens on, the
engine killed (and restarted), the socket seen as user ``nobody``, TLS against a plain
HTTP port and against a certificate from another CA. Only what cannot run here is a test
double, and it still speaks real HTTP over a real socket: an engine too old for us, a web
server that is not an engine, a server that never answers, and the Apple Container CLI.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import ssl
import stat
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from hermes_tui.engine.detect import (
    NOTHING_FOUND_FIX,
    NOTHING_FOUND_HEADLINE,
    Candidate,
    Outcome,
    Product,
    TLSFiles,
    UnsupportedEngineError,
    candidates,
    client,
    context_dir_name,
    diagnose,
    probe,
)
from tests.support.engine import LocalEngine

LINUX = {"system": "Linux", "machine": "x86_64"}


# --------------------------------------------------------------------------------------------
# Helpers: short socket folders, relays to the engine, HTTP test doubles, certificates
# --------------------------------------------------------------------------------------------


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A folder with a short path: unix socket paths must stay under 108 bytes."""
    folder = Path(tempfile.mkdtemp(prefix="hd-", dir="/tmp"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def engine_version(engine: LocalEngine) -> dict[str, object]:
    status, body = engine.engine_request("GET", "/version")
    assert status == 200
    return json.loads(body)


@contextlib.asynccontextmanager
async def tcp_relay(socket_path: str, tls: ssl.SSLContext | None = None) -> AsyncIterator[int]:
    """Serve the engine's unix socket on 127.0.0.1:<port>, optionally behind TLS.

    What ``dockerd -H tcp://...`` (with ``--tlsverify``) would offer, without a second
    daemon: bytes go to and from the real engine unchanged. Yields the port.
    """
    writers: set[asyncio.StreamWriter] = set()

    async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, ssl.SSLError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_unix_connection(socket_path)
        except OSError:
            writer.close()
            return
        writers.add(up_writer)
        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in writers:
            writer.transport.abort()
        await server.wait_closed()


@contextlib.asynccontextmanager
async def http_double(
    routes: dict[str, tuple[int, str, str]], *, path: Path | None = None
) -> AsyncIterator[str]:
    """A real aiohttp server answering ``routes`` (path -> status, content type, body).

    On a unix socket at ``path``, else on 127.0.0.1. Anything else gets a 404 HTML page,
    like a stray web server would. Yields the URL to probe.
    """

    async def answer(request: web.Request) -> web.Response:
        status, content_type, body = routes.get(
            request.path, (404, "text/html", "<html><body><h1>Not Found</h1></body></html>")
        )
        return web.Response(status=status, text=body, content_type=content_type)

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        if path is not None:
            await web.UnixSite(runner, str(path)).start()
            yield f"unix://{path}"
        else:
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = runner.addresses[0][1]
            yield f"tcp://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def version_route(**fields: object) -> dict[str, tuple[int, str, str]]:
    return {
        "/_ping": (200, "text/plain", "OK"),
        "/version": (200, "application/json", json.dumps(fields)),
    }


@dataclass(frozen=True)
class Certs:
    """A test CA with server and client certificates, and a second, unrelated CA.

    ``client_dir`` and ``other_dir`` are DOCKER_CERT_PATH folders (ca.pem, cert.pem,
    key.pem): the first trusts the server, the second holds a CA that did not sign it.
    """

    ca: Path
    server_cert: Path
    server_key: Path
    client_dir: Path
    other_dir: Path

    def server_context(self, *, require_client_cert: bool) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.server_cert, self.server_key)
        if require_client_cert:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(self.ca)
        return context


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    """Real certificates made by ``openssl`` (EC keys: quick to generate)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: cannot make test certificates")
    root = tmp_path_factory.mktemp("certs")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for ca in ("ca", "other-ca"):
        _openssl("req", "-x509", *ec, "-keyout", f"{ca}-key.pem", "-out", f"{ca}.pem",
                 "-days", "2", "-subj", f"/CN=hermes-test-{ca}", cwd=root)
    (root / "server.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    (root / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    for name in ("server", "client"):
        _openssl("req", *ec, "-keyout", f"{name}-key.pem", "-out", f"{name}.csr",
                 "-subj", f"/CN={name}", cwd=root)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
                 "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext",
                 "-out", f"{name}-cert.pem", cwd=root)
    client_dir, other_dir = root / "client", root / "other"
    for folder, ca in ((client_dir, "ca.pem"), (other_dir, "other-ca.pem")):
        folder.mkdir()
        shutil.copy(root / ca, folder / "ca.pem")
        shutil.copy(root / "client-cert.pem", folder / "cert.pem")
        shutil.copy(root / "client-key.pem", folder / "key.pem")
    return Certs(root / "ca.pem", root / "server-cert.pem", root / "server-key.pem",
                 client_dir, other_dir)


def tls_env(port: int, cert_dir: Path) -> dict[str, str]:
    return {"DOCKER_HOST": f"tcp://127.0.0.1:{port}", "DOCKER_TLS_VERIFY": "1",
            "DOCKER_CERT_PATH": str(cert_dir)}


def first(env: dict[str, str], home: Path) -> Candidate:
    """The DOCKER_HOST candidate the way `candidates` builds it from ``env``."""
    return candidates(env=env, home=home, **LINUX)[0]


# --------------------------------------------------------------------------------------------
# Finding the real engine
# --------------------------------------------------------------------------------------------


async def test_docker_host_flag_finds_the_real_engine(local_engine: LocalEngine) -> None:
    diagnosis = await diagnose(local_engine.docker_host, timeout=5)
    assert diagnosis.ok
    assert [p.outcome for p in diagnosis.probes] == [Outcome.OK]
    engine = diagnosis.engine
    assert engine is not None
    expected = engine_version(local_engine)
    assert engine.product is Product.DOCKER
    assert engine.version == expected["Version"]
    assert engine.version.startswith("20.10")
    assert engine.api_version == "1.41"
    assert (engine.os, engine.arch) == (expected["Os"], expected["Arch"])
    assert (engine.url, engine.source) == (local_engine.docker_host, "--docker-host")
    assert engine.summary == f"Docker {engine.version} · API 1.41 · linux/{engine.arch}"
    assert diagnosis.headline.startswith(f"Found {engine.summary}")
    assert diagnosis.fix == ""


async def test_docker_host_env_wins_and_the_rest_is_not_tried(
    local_engine: LocalEngine, tmp_path: Path
) -> None:
    diagnosis = await diagnose(
        env={"DOCKER_HOST": local_engine.docker_host}, home=tmp_path, timeout=5, **LINUX
    )
    first_probe, *rest = diagnosis.probes
    assert (first_probe.candidate.source, first_probe.outcome) == ("DOCKER_HOST", Outcome.OK)
    assert rest and {p.outcome for p in rest} == {Outcome.NOT_TRIED}
    assert all("already answers" in p.detail for p in rest)


async def test_docker_context_pointing_at_the_engine(
    local_engine: LocalEngine, tmp_path: Path
) -> None:
    digest = context_dir_name("hermes")
    meta = tmp_path / ".docker" / "contexts" / "meta" / digest
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps(
        {"Name": "hermes", "Metadata": {},
         "Endpoints": {"docker": {"Host": local_engine.docker_host, "SkipTLSVerify": False}}}
    ))
    (tmp_path / ".docker" / "config.json").write_text('{"currentContext": "hermes"}')
    diagnosis = await diagnose(env={}, home=tmp_path, timeout=5, **LINUX)
    assert diagnosis.probes[0].candidate.source == "Docker context 'hermes'"
    assert diagnosis.probes[0].outcome is Outcome.OK
    assert diagnosis.engine is not None and diagnosis.engine.source == "Docker context 'hermes'"


async def test_client_talks_to_the_engine_found(local_engine: LocalEngine) -> None:
    diagnosis = await diagnose(local_engine.docker_host, timeout=5)
    assert diagnosis.engine is not None
    docker = client(diagnosis.engine)
    try:
        version = await docker.version()  # pinned to the reported API: /v1.41/version
        assert version["ApiVersion"] == "1.41"
        assert docker.api_version == "v1.41"
        assert isinstance(await docker.images.list(), list)
    finally:
        await docker.close()


async def test_plain_tcp_engine(local_engine: LocalEngine, tmp_path: Path) -> None:
    async with tcp_relay(local_engine.socket_path) as port:
        result, engine = await probe(first({"DOCKER_HOST": f"tcp://127.0.0.1:{port}"}, tmp_path))
    assert result.outcome is Outcome.OK, result.detail
    assert engine is not None and engine.product is Product.DOCKER


async def test_tls_engine_with_client_certificate(
    local_engine: LocalEngine, certs: Certs, tmp_path: Path
) -> None:
    server = certs.server_context(require_client_cert=True)
    async with tcp_relay(local_engine.socket_path, server) as port:
        candidate = first(tls_env(port, certs.client_dir), tmp_path)
        result, engine = await probe(candidate, 5)
        assert result.outcome is Outcome.OK, result.detail
        assert engine is not None and engine.tls == candidate.tls
        docker = client(engine)  # the same TLS material reaches the same engine
        try:
            assert (await docker.version())["ApiVersion"] == "1.41"
        finally:
            await docker.close()


# --------------------------------------------------------------------------------------------
# Each way it fails, for real
# --------------------------------------------------------------------------------------------


async def test_path_without_socket_is_missing(short_dir: Path) -> None:
    path = short_dir / "nothing.sock"
    result, engine = await probe(Candidate("--docker-host", f"unix://{path}"))
    assert engine is None
    assert result.outcome is Outcome.MISSING
    assert result.detail == f"No socket at {path}."
    assert "--docker-host" in result.fix


async def test_default_socket_missing_has_no_fix(short_dir: Path) -> None:
    result, _ = await probe(Candidate("Colima", f"unix://{short_dir}/docker.sock"))
    assert (result.outcome, result.fix) == (Outcome.MISSING, "")


async def test_file_that_is_not_a_socket(short_dir: Path) -> None:
    path = short_dir / "docker.sock"
    path.write_text("not a socket")
    result, _ = await probe(Candidate("DOCKER_HOST", f"unix://{path}"))
    assert result.outcome is Outcome.NOT_AN_ENGINE
    assert result.detail == f"{path} exists but is not a socket, so no engine can listen there."


async def test_left_over_socket_is_refused(short_dir: Path) -> None:
    path = short_dir / "docker.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))  # the file stays; nobody ever listens
    result, _ = await probe(Candidate("Docker socket", f"unix://{path}"), system="Linux")
    assert result.outcome is Outcome.REFUSED
    assert str(path) in result.detail and "not running" in result.detail
    assert "sudo systemctl start docker" in result.fix


async def test_podman_socket_refused_suggests_the_user_socket_unit(short_dir: Path) -> None:
    path = short_dir / "podman.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
    result, _ = await probe(Candidate("Podman (rootless)", f"unix://{path}"), system="Linux")
    assert result.outcome is Outcome.REFUSED
    assert "systemctl --user start podman.socket" in result.fix


async def test_killed_engine_is_refused_then_found_again(local_engine: LocalEngine) -> None:
    candidate = Candidate("Docker socket", local_engine.docker_host)
    local_engine.kill_engine()
    try:
        linux, _ = await probe(candidate, system="Linux")
        mac, _ = await probe(candidate, system="Darwin")
    finally:
        local_engine.start_engine()  # the session engine is shared: bring it back
    assert linux.outcome is Outcome.REFUSED
    assert linux.detail == (
        f"Nothing is listening on {local_engine.socket_path}: the socket is left over, "
        "the daemon is not running."
    )
    assert "sudo systemctl start docker" in linux.fix
    assert "Docker Desktop" in mac.fix and "whale icon" in mac.fix
    again, engine = await probe(candidate, 5)
    assert again.outcome is Outcome.OK and engine is not None


PROBE_AS_CHILD = """
import asyncio, json, sys
from hermes_tui.engine.detect import Candidate, probe

async def main():
    out = []
    for source, url in zip(sys.argv[1::2], sys.argv[2::2]):
        result, _ = await probe(Candidate(source, url), 5.0, system="Linux")
        out.append({"outcome": result.outcome.value, "detail": result.detail, "fix": result.fix})
    print(json.dumps(out))

asyncio.run(main())
"""


def test_socket_without_permission_as_user_nobody(
    local_engine: LocalEngine,
    nobody_python: Callable[[str, list[str]], subprocess.CompletedProcess[str]],
) -> None:
    folder = local_engine.state_dir
    sock = Path(local_engine.socket_path)
    assert stat.S_IMODE(sock.stat().st_mode) & 0o006 == 0, "the socket must be closed to others"
    original = stat.S_IMODE(folder.stat().st_mode)
    url = local_engine.docker_host
    try:
        folder.chmod(0o711)  # nobody may reach the socket, but not connect to it
        reachable = nobody_python(PROBE_AS_CHILD, ["Docker socket", url, "Podman (rootful)", url])
        folder.chmod(0o700)  # now nobody cannot even look inside the folder
        hidden = nobody_python(PROBE_AS_CHILD, ["Docker socket", url])
    finally:
        folder.chmod(original)
    assert reachable.returncode == 0, reachable.stderr
    docker, podman = json.loads(reachable.stdout)
    assert docker["outcome"] == "permission denied"
    assert docker["detail"] == (
        f"Permission denied on {sock}: this user may not talk to the engine."
    )
    assert "sudo usermod -aG docker $USER" in docker["fix"]
    assert "log out and back in" in docker["fix"]
    # Never the advice that makes the engine everyone's root.
    assert "chmod 666" not in docker["fix"] and f"Do not chmod {sock}" in docker["fix"]
    assert "rootless" in docker["fix"] and "DOCKER_HOST" in docker["fix"]
    assert podman["outcome"] == "permission denied"
    assert "systemctl --user start podman.socket" in podman["fix"]

    assert hidden.returncode == 0, hidden.stderr
    (blocked,) = json.loads(hidden.stdout)
    assert blocked["outcome"] == "permission denied"
    assert f"cannot look inside {folder}" in blocked["detail"]
    assert "chmod" not in blocked["fix"] and "rootless" in blocked["fix"]


async def test_tls_against_a_plain_http_port(certs: Certs, tmp_path: Path) -> None:
    async with http_double(version_route(ApiVersion="1.41")) as url:
        port = int(url.rsplit(":", 1)[1])
        result, _ = await probe(first(tls_env(port, certs.client_dir), tmp_path), 5)
    assert result.outcome is Outcome.TLS
    assert "wrong version number" in result.detail
    assert f"tcp://127.0.0.1:{port} does not speak TLS" in result.detail
    assert "DOCKER_TLS_VERIFY" in result.fix


async def test_tls_certificate_from_another_ca(
    local_engine: LocalEngine, certs: Certs, tmp_path: Path
) -> None:
    server = certs.server_context(require_client_cert=False)
    async with tcp_relay(local_engine.socket_path, server) as port:
        result, _ = await probe(first(tls_env(port, certs.other_dir), tmp_path), 5)
    assert result.outcome is Outcome.TLS
    assert "certificate verify failed" in result.detail
    assert str(certs.other_dir / "ca.pem") in result.detail
    assert str(certs.other_dir) in result.fix


async def test_tls_client_certificate_missing_is_rejected(
    local_engine: LocalEngine, certs: Certs, tmp_path: Path
) -> None:
    only_ca = tmp_path / "only-ca"
    only_ca.mkdir()
    shutil.copy(certs.ca, only_ca / "ca.pem")
    server = certs.server_context(require_client_cert=True)
    async with tcp_relay(local_engine.socket_path, server) as port:
        result, _ = await probe(first(tls_env(port, only_ca), tmp_path), 5)
    assert result.outcome is Outcome.TLS, result.detail
    assert "client certificate" in result.detail
    assert str(only_ca) in result.fix


async def test_tls_files_missing_from_cert_path(tmp_path: Path) -> None:
    empty = tmp_path / "certs"
    empty.mkdir()
    result, _ = await probe(first(tls_env(2376, empty), tmp_path))
    assert result.outcome is Outcome.TLS
    assert result.detail == (
        f"TLS verification is on (DOCKER_TLS_VERIFY) but {empty} (DOCKER_CERT_PATH) "
        "has no ca.pem, cert.pem, key.pem."
    )
    assert f"Put this engine's ca.pem, cert.pem and key.pem in {empty}" in result.fix


async def test_tls_cert_without_key(certs: Certs, tmp_path: Path) -> None:
    half = tmp_path / "half"
    half.mkdir()
    shutil.copy(certs.ca, half / "ca.pem")
    shutil.copy(certs.client_dir / "cert.pem", half / "cert.pem")
    result, _ = await probe(first(tls_env(2376, half), tmp_path))
    assert result.outcome is Outcome.TLS
    assert result.detail == f"TLS client files are incomplete: {half} has cert.pem but no key.pem."


async def test_engine_too_old(short_dir: Path) -> None:
    old = version_route(Version="1.12.6", ApiVersion="1.24", Os="linux", Arch="amd64",
                        Components=[{"Name": "Engine", "Version": "1.12.6"}])
    async with http_double(old, path=short_dir / "old.sock") as url:
        result, engine = await probe(Candidate("Docker socket", url), 5)
    assert engine is None
    assert result.outcome is Outcome.TOO_OLD
    assert result.detail.startswith("Engine API 1.24 (Docker 1.12.6 at ")
    assert result.detail.endswith("is older than 1.41: upgrade Docker to 20.10 or newer.")
    assert "https://docs.docker.com/get-docker/" in result.fix


async def test_web_server_is_not_an_engine(short_dir: Path) -> None:
    async with http_double({}, path=short_dir / "web.sock") as url:
        result, _ = await probe(Candidate("DOCKER_HOST", url), 5)
    assert result.outcome is Outcome.NOT_AN_ENGINE
    assert "answered GET /_ping with HTTP 404" in result.detail
    assert "not the Docker Engine API" in result.detail
    assert "DOCKER_HOST" in result.fix


async def test_ping_ok_but_no_version_is_not_an_engine(short_dir: Path) -> None:
    routes = {"/_ping": (200, "text/plain", "OK")}
    async with http_double(routes, path=short_dir / "half.sock") as url:
        result, _ = await probe(Candidate("DOCKER_HOST", url), 5)
    assert result.outcome is Outcome.NOT_AN_ENGINE
    assert "GET /version gave HTTP 404" in result.detail


async def test_podman_is_recognised_by_its_version_components(short_dir: Path) -> None:
    podman = version_route(
        Version="4.3.1", ApiVersion="1.41", Os="linux", Arch="amd64",
        Platform={"Name": "linux/amd64/debian-12"},
        Components=[{"Name": "Podman Engine", "Version": "4.3.1"}],
    )
    async with http_double(podman, path=short_dir / "podman.sock") as url:
        result, engine = await probe(Candidate("Podman (rootless)", url), 5)
    assert result.outcome is Outcome.OK
    assert engine is not None and engine.product is Product.PODMAN
    assert engine.summary == "Podman 4.3.1 · API 1.41 · linux/amd64"


async def test_server_that_never_answers_times_out(short_dir: Path) -> None:
    path = short_dir / "mute.sock"
    with socket.socket(socket.AF_UNIX) as mute:
        mute.bind(str(path))
        mute.listen(8)  # connections queue in the kernel; nothing ever reads or replies
        began = time.monotonic()
        result, _ = await probe(Candidate("Docker socket", f"unix://{path}"), 0.5)
        elapsed = time.monotonic() - began
    assert result.outcome is Outcome.TIMEOUT
    assert result.detail == f"{path} accepted the connection but did not answer within 0.5 s."
    assert elapsed < 2.0


async def test_windows_named_pipe_is_not_supported() -> None:
    result, _ = await probe(Candidate("DOCKER_HOST", "npipe:////./pipe/docker_engine"))
    assert result.outcome is Outcome.ERROR
    assert "Windows named pipes are not supported" in result.detail


async def test_broken_context_is_reported(tmp_path: Path) -> None:
    (candidate, *_) = candidates(env={"DOCKER_CONTEXT": "gone"}, home=tmp_path, **LINUX)
    result, _ = await probe(candidate)
    assert result.outcome is Outcome.ERROR
    assert "Docker context 'gone' is selected but" in result.detail
    assert "docker context use default" in result.fix


# --------------------------------------------------------------------------------------------
# diagnose(): order, stopping, and the one message that matters
# --------------------------------------------------------------------------------------------


async def test_diagnose_stops_at_the_first_engine(
    local_engine: LocalEngine, short_dir: Path
) -> None:
    seen: list[Outcome] = []
    tried = [
        Candidate("Docker socket", f"unix://{short_dir}/none.sock"),
        Candidate("Colima", local_engine.docker_host),
        Candidate("Rancher Desktop", f"unix://{short_dir}/other.sock"),
    ]
    diagnosis = await diagnose(
        candidate_list=tried, timeout=5, on_probe=lambda p: seen.append(p.outcome)
    )
    expected = [Outcome.MISSING, Outcome.OK, Outcome.NOT_TRIED]
    assert [p.outcome for p in diagnosis.probes] == expected
    assert seen == expected
    assert diagnosis.engine is not None and diagnosis.engine.source == "Colima"


async def test_nothing_found_says_install_or_start(tmp_path: Path) -> None:
    found = candidates(env={"XDG_RUNTIME_DIR": str(tmp_path / "run")}, home=tmp_path, **LINUX)
    system_sockets = [c.url for c in found if not c.url.startswith(f"unix://{tmp_path}")]
    if any(os.path.exists(url.removeprefix("unix://")) for url in system_sockets):
        pytest.skip(f"this machine has a runtime socket among {system_sockets}")
    diagnosis = await diagnose(candidate_list=found, timeout=1)
    assert not diagnosis.ok
    assert {p.outcome for p in diagnosis.probes} == {Outcome.MISSING}
    assert diagnosis.headline == NOTHING_FOUND_HEADLINE
    assert diagnosis.fix == NOTHING_FOUND_FIX
    assert "https://docs.docker.com/get-docker/" in diagnosis.fix
    assert "https://www.docker.com/products/docker-desktop/" in diagnosis.fix
    assert "systemctl start docker" in diagnosis.fix
    assert "Apple Container" in diagnosis.fix


async def test_explicit_setting_failure_beats_other_failures(short_dir: Path) -> None:
    refused = short_dir / "podman.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(refused))
    tried = [
        Candidate("DOCKER_HOST", f"unix://{short_dir}/typo.sock"),
        Candidate("Podman (rootless)", f"unix://{refused}"),
    ]
    diagnosis = await diagnose(candidate_list=tried, system="Linux")
    assert diagnosis.headline == f"No socket at {short_dir}/typo.sock."
    assert "DOCKER_HOST" in diagnosis.fix


async def test_first_real_failure_beats_plain_missing_sockets(short_dir: Path) -> None:
    refused = short_dir / "podman.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(refused))
    tried = [
        Candidate("Docker socket", f"unix://{short_dir}/docker.sock"),
        Candidate("Podman (rootless)", f"unix://{refused}"),
        Candidate("Colima", f"unix://{short_dir}/colima.sock"),
    ]
    diagnosis = await diagnose(candidate_list=tried, system="Linux")
    assert diagnosis.culprit is diagnosis.probes[1]
    assert diagnosis.headline.startswith(f"Nothing is listening on {refused}")
    assert diagnosis.fix == "Start Podman's API socket: systemctl --user start podman.socket."


# --------------------------------------------------------------------------------------------
# Apple Container: its CLI cannot run here, so a stand-in script plays it on PATH
# --------------------------------------------------------------------------------------------


def fake_container_cli(folder: Path, *, running: bool) -> None:
    status = (
        'echo "apiserver is running"; exit 0'
        if running
        else 'echo "apiserver is not running and not registered with launchd"; exit 1'
    )
    script = folder / "container"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "--version" ]; then\n'
        '  echo "container CLI version 0.5.0 (build: release, commit: 1a2b3c4)"; exit 0\n'
        "fi\n"
        f'if [ "$1 $2" = "system status" ]; then {status}; fi\n'
        "exit 2\n"
    )
    script.chmod(0o755)


@pytest.mark.parametrize("running", [True, False])
async def test_apple_container_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, running: bool
) -> None:
    fake_container_cli(tmp_path, running=running)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}")
    result, engine = await probe(Candidate("Apple Container", "container"), 5)
    if running:
        assert result.outcome is Outcome.OK
        assert engine is not None and engine.product is Product.APPLE
        assert engine.summary == "Apple Container 0.5.0 · linux/arm64"
        with pytest.raises(UnsupportedEngineError):
            client(engine)
    else:
        assert result.outcome is Outcome.REFUSED
        assert "apiserver is not running" in result.detail
        assert result.fix == "Start them: container system start."


async def test_apple_container_cli_not_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    result, _ = await probe(Candidate("Apple Container", "container"))
    assert result.outcome is Outcome.MISSING
    assert "`container`" in result.detail


def test_tls_files_are_what_the_candidate_carries(tmp_path: Path) -> None:
    # A sanity check of the dataclass shape the pull and gateway code rely on.
    tls = first(tls_env(2376, tmp_path), tmp_path).tls
    assert tls == TLSFiles(None, None, None, verify=True, cert_path=tmp_path)
