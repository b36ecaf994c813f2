"""Where Step 1 looks for a runtime, in which order: pure, no network, no engine.

Each test builds a fake home folder in tmp_path (Docker config and contexts laid out the
way the docker CLI writes them: ``contexts/meta/<sha256 of the name>/meta.json``) and
passes an explicit environment, system and machine, so nothing on this machine leaks in.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from hermes_tui.engine.detect import (
    APPLE_URL,
    Candidate,
    TLSFiles,
    candidates,
    context_dir_name,
)

LINUX = {"system": "Linux", "machine": "x86_64", "uid": 1000}


def urls(found: list[Candidate]) -> list[str]:
    return [candidate.url for candidate in found]


def sources(found: list[Candidate]) -> list[str]:
    return [candidate.source for candidate in found]


def write_context(
    home: Path,
    name: str,
    host: str,
    *,
    current: bool = True,
    tls: tuple[str, ...] = (),
    skip_verify: bool = False,
) -> Path:
    """Write a Docker context as `docker context create` does; return its TLS folder."""
    docker = home / ".docker"
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = docker / "contexts" / "meta" / digest
    meta.mkdir(parents=True)
    endpoint = {"Host": host, "SkipTLSVerify": skip_verify}
    (meta / "meta.json").write_text(
        json.dumps({"Name": name, "Metadata": {}, "Endpoints": {"docker": endpoint}})
    )
    tls_dir = docker / "contexts" / "tls" / digest / "docker"
    for stem in tls:
        tls_dir.mkdir(parents=True, exist_ok=True)
        (tls_dir / f"{stem}.pem").write_text(f"-- {stem} --\n")
    if current:
        (docker / "config.json").write_text(json.dumps({"auths": {}, "currentContext": name}))
    return tls_dir


def test_default_order_on_linux(tmp_path: Path) -> None:
    found = candidates(env={}, home=tmp_path, **LINUX)
    assert [(c.source, c.url) for c in found] == [
        ("Docker socket", "unix:///var/run/docker.sock"),
        ("Docker Desktop", f"unix://{tmp_path}/.docker/run/docker.sock"),
        ("Docker Desktop", f"unix://{tmp_path}/.docker/desktop/docker.sock"),
        ("Podman (rootless)", "unix:///run/user/1000/podman/podman.sock"),
        ("Podman (rootful)", "unix:///run/podman/podman.sock"),
        ("Colima", f"unix://{tmp_path}/.colima/default/docker.sock"),
        ("Colima", f"unix://{tmp_path}/.colima/docker.sock"),
        ("Rancher Desktop", f"unix://{tmp_path}/.rd/docker.sock"),
    ]
    assert all(c.tls is None and c.problem is None for c in found)


def test_podman_rootless_socket_follows_xdg_runtime_dir(tmp_path: Path) -> None:
    found = candidates(env={"XDG_RUNTIME_DIR": "/run/user/4242"}, home=tmp_path, **LINUX)
    assert "unix:///run/user/4242/podman/podman.sock" in urls(found)
    assert "unix:///run/user/1000/podman/podman.sock" not in urls(found)


def test_apple_container_is_last_and_only_on_apple_silicon(tmp_path: Path) -> None:
    mac_arm = candidates(env={}, home=tmp_path, system="Darwin", machine="arm64", uid=501)
    assert mac_arm[-1] == Candidate("Apple Container", APPLE_URL)
    for system, machine in (("Darwin", "x86_64"), ("Linux", "arm64"), ("Linux", "aarch64")):
        found = candidates(env={}, home=tmp_path, system=system, machine=machine, uid=501)
        assert APPLE_URL not in urls(found), (system, machine)


def test_linux_docker_desktop_socket_only_on_linux(tmp_path: Path) -> None:
    desktop_linux = f"unix://{tmp_path}/.docker/desktop/docker.sock"
    mac = candidates(env={}, home=tmp_path, system="Darwin", machine="arm64", uid=501)
    assert desktop_linux not in urls(mac)
    assert f"unix://{tmp_path}/.docker/run/docker.sock" in urls(mac)


def test_docker_host_flag_is_the_only_candidate(tmp_path: Path) -> None:
    write_context(tmp_path, "colima", f"unix://{tmp_path}/.colima/default/docker.sock")
    env = {"DOCKER_HOST": "tcp://10.0.0.5:2375", "DOCKER_CONTEXT": "colima"}
    found = candidates("unix:///srv/engine.sock", env=env, home=tmp_path, **LINUX)
    assert found == [Candidate("--docker-host", "unix:///srv/engine.sock")]


def test_bare_socket_path_means_unix(tmp_path: Path) -> None:
    found = candidates("/srv/engine.sock", env={}, home=tmp_path, **LINUX)
    assert urls(found) == ["unix:///srv/engine.sock"]


def test_docker_host_env_comes_first(tmp_path: Path) -> None:
    found = candidates(env={"DOCKER_HOST": "unix:///srv/d.sock"}, home=tmp_path, **LINUX)
    assert found[0] == Candidate("DOCKER_HOST", "unix:///srv/d.sock")
    assert found[1].source == "Docker socket"


def test_current_context_from_config_json(tmp_path: Path) -> None:
    socket = f"unix://{tmp_path}/.colima/default/docker.sock"
    write_context(tmp_path, "colima", socket)
    found = candidates(env={"DOCKER_HOST": "tcp://10.0.0.5:2375"}, home=tmp_path, **LINUX)
    assert sources(found)[:3] == ["DOCKER_HOST", "Docker context 'colima'", "Docker socket"]
    assert found[1].url == socket
    # The same socket is also Colima's default: listed once, under the context.
    assert sources(found).count("Colima") == 1
    assert urls(found).count(socket) == 1


def test_docker_context_env_beats_config_json(tmp_path: Path) -> None:
    write_context(tmp_path, "colima", "unix:///a.sock")
    write_context(tmp_path, "remote", "unix:///b.sock", current=False)
    found = candidates(env={"DOCKER_CONTEXT": "remote"}, home=tmp_path, **LINUX)
    assert found[0] == Candidate("Docker context 'remote'", "unix:///b.sock")
    assert "unix:///a.sock" not in urls(found)


def test_default_context_means_no_override(tmp_path: Path) -> None:
    (tmp_path / ".docker").mkdir()
    (tmp_path / ".docker" / "config.json").write_text('{"currentContext": "default"}')
    found = candidates(env={}, home=tmp_path, **LINUX)
    assert found[0].source == "Docker socket"
    found = candidates(env={"DOCKER_CONTEXT": "default"}, home=tmp_path, **LINUX)
    assert found[0].source == "Docker socket"


def test_context_dir_name_is_the_sha256_of_the_name() -> None:
    # The docker CLI's layout; e.g. "desktop-linux" is a context Docker Desktop creates.
    assert context_dir_name("desktop-linux") == hashlib.sha256(b"desktop-linux").hexdigest()


def test_docker_config_env_moves_the_config_folder(tmp_path: Path) -> None:
    config = tmp_path / "elsewhere"
    write_context(tmp_path, "ctx", "unix:///c.sock")
    (tmp_path / ".docker").rename(config)
    found = candidates(env={"DOCKER_CONFIG": str(config)}, home=tmp_path, **LINUX)
    assert found[0] == Candidate("Docker context 'ctx'", "unix:///c.sock")


def test_selected_context_without_files_is_a_candidate_with_a_problem(tmp_path: Path) -> None:
    found = candidates(env={"DOCKER_CONTEXT": "gone"}, home=tmp_path, **LINUX)
    assert found[0].source == "Docker context 'gone'"
    assert found[0].url == ""
    digest = hashlib.sha256(b"gone").hexdigest()
    assert found[0].problem is not None
    assert f"contexts/meta/{digest}/meta.json does not exist" in found[0].problem


def test_context_with_tls_material(tmp_path: Path) -> None:
    tls_dir = write_context(tmp_path, "prod", "tcp://10.1.2.3:2376", tls=("ca", "cert", "key"))
    found = candidates(env={}, home=tmp_path, **LINUX)
    assert found[0] == Candidate(
        "Docker context 'prod'",
        "tcp://10.1.2.3:2376",
        TLSFiles(tls_dir / "ca.pem", tls_dir / "cert.pem", tls_dir / "key.pem", verify=True),
    )


def test_context_skip_tls_verify_and_partial_files(tmp_path: Path) -> None:
    tls_dir = write_context(
        tmp_path, "lab", "tcp://10.1.2.3:2376", tls=("cert", "key"), skip_verify=True
    )
    tls = candidates(env={}, home=tmp_path, **LINUX)[0].tls
    assert tls == TLSFiles(None, tls_dir / "cert.pem", tls_dir / "key.pem", verify=False)


def test_context_over_plain_tcp_has_no_tls(tmp_path: Path) -> None:
    write_context(tmp_path, "plain", "tcp://10.1.2.3:2375")
    assert candidates(env={}, home=tmp_path, **LINUX)[0].tls is None


def test_tcp_docker_host_with_tls_env(tmp_path: Path) -> None:
    certs = tmp_path / "certs"
    certs.mkdir()
    for stem in ("ca", "cert", "key"):
        (certs / f"{stem}.pem").write_text("x")
    env = {"DOCKER_HOST": "tcp://10.0.0.5:2376", "DOCKER_TLS_VERIFY": "1",
           "DOCKER_CERT_PATH": str(certs)}
    found = candidates(env=env, home=tmp_path, **LINUX)
    assert found[0].tls == TLSFiles(
        certs / "ca.pem", certs / "cert.pem", certs / "key.pem", verify=True, cert_path=certs
    )


def test_tls_cert_path_defaults_to_dot_docker_and_records_missing_files(tmp_path: Path) -> None:
    docker = tmp_path / ".docker"
    docker.mkdir()
    (docker / "ca.pem").write_text("x")
    env = {"DOCKER_HOST": "tcp://10.0.0.5:2376", "DOCKER_TLS_VERIFY": "1"}
    tls = candidates(env=env, home=tmp_path, **LINUX)[0].tls
    assert tls == TLSFiles(docker / "ca.pem", None, None, verify=True, cert_path=docker)


@pytest.mark.parametrize(
    ("extra", "expected_verify"),
    [
        ({"DOCKER_TLS_VERIFY": "1"}, True),
        ({"DOCKER_TLS_VERIFY": "yes"}, True),
        ({"DOCKER_TLS_VERIFY": "0"}, False),
        ({"DOCKER_TLS": "1"}, False),
        ({"DOCKER_CERT_PATH": "/certs"}, False),
    ],
)
def test_tls_turns_on_from_the_environment(
    tmp_path: Path, extra: dict[str, str], expected_verify: bool
) -> None:
    env = {"DOCKER_HOST": "tcp://10.0.0.5:2376", **extra}
    tls = candidates(env=env, home=tmp_path, **LINUX)[0].tls
    assert tls is not None
    assert tls.verify is expected_verify


def test_plain_tcp_and_unix_hosts_have_no_tls(tmp_path: Path) -> None:
    assert candidates("tcp://10.0.0.5:2375", env={}, home=tmp_path, **LINUX)[0].tls is None
    env = {"DOCKER_TLS_VERIFY": "1"}  # TLS settings do not apply to a unix socket
    assert candidates("unix:///x.sock", env=env, home=tmp_path, **LINUX)[0].tls is None


def test_https_always_uses_tls(tmp_path: Path) -> None:
    tls = candidates("https://engine.example:2376", env={}, home=tmp_path, **LINUX)[0].tls
    assert tls is not None and tls.verify is False


def test_tls_settings_apply_to_the_flag_too(tmp_path: Path) -> None:
    env = {"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(tmp_path)}
    tls = candidates("tcp://10.0.0.5:2376", env=env, home=tmp_path, **LINUX)[0].tls
    assert tls is not None and tls.verify and tls.cert_path == tmp_path


def test_duplicate_urls_keep_the_first_source(tmp_path: Path) -> None:
    env = {"DOCKER_HOST": "unix:///var/run//docker.sock"}
    found = candidates(env=env, home=tmp_path, **LINUX)
    assert found[0].source == "DOCKER_HOST"
    assert "Docker socket" not in sources(found)
    assert len(urls(found)) == len(set(urls(found)))


def test_home_comes_from_the_given_environment(tmp_path: Path) -> None:
    found = candidates(env={"HOME": str(tmp_path)}, **LINUX)
    assert f"unix://{tmp_path}/.rd/docker.sock" in urls(found)


def test_importing_detect_loads_neither_aiodocker_nor_textual(
    run_python: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    snippet = (
        "import json, sys\n"
        "from hermes_tui.engine.detect import candidates\n"
        "candidates()\n"
        "print(json.dumps(sorted(m for m in sys.modules\n"
        "    if m.split('.')[0] in ('textual', 'aiodocker', 'aiohttp'))))\n"
    )
    done = run_python("-c", snippet)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


# --- the engine a previous run found (wizard.toml's engine_url) ----------------------------


def test_saved_engine_is_tried_before_the_usual_places(tmp_path):
    found = candidates(env={"HOME": str(tmp_path)}, home=tmp_path,
                       saved="tcp://10.0.0.5:2375", **LINUX)
    assert found[0] == Candidate("saved from last run", "tcp://10.0.0.5:2375")
    assert "unix:///var/run/docker.sock" in urls(found[1:])


def test_docker_host_in_the_environment_comes_before_the_saved_engine(tmp_path):
    env = {"HOME": str(tmp_path), "DOCKER_HOST": "unix:///env.sock"}
    found = candidates(env=env, home=tmp_path, saved="unix:///saved.sock", **LINUX)
    assert sources(found)[:2] == ["DOCKER_HOST", "saved from last run"]


def test_the_flag_replaces_the_saved_engine(tmp_path):
    found = candidates("unix:///flag.sock", env={"HOME": str(tmp_path)}, home=tmp_path,
                       saved="unix:///saved.sock", **LINUX)
    assert urls(found) == ["unix:///flag.sock"]


def test_a_saved_well_known_socket_is_listed_once_as_saved(tmp_path):
    found = candidates(env={"HOME": str(tmp_path)}, home=tmp_path,
                       saved="unix:///var/run/docker.sock", **LINUX)
    assert urls(found).count("unix:///var/run/docker.sock") == 1
    assert sources(found)[0] == "saved from last run"
