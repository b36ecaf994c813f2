"""ssh:// engine addresses and what OpenSSH and the remote docker say when they fail.

The texts classified here are the real tools' own words (OpenSSH 9.2's client, Debian's
docker 20.10 client), as the real-server tests in tests/engine/test_ssh_engine.py see them
too; these cases pin the wording of each diagnosis without a server.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hermes_tui.engine.detect import Candidate, candidates, probe
from hermes_tui.engine.ssh_diagnosis import (
    SshFailure,
    SshTarget,
    classify_connect,
    classify_dial,
    known_hosts_name,
    parse_ssh_url,
)
from tests.unit.test_detect_candidates import LINUX, write_context

TARGET = SshTarget(host="build.example", user="ops", port=2222)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ssh://build.example", SshTarget("build.example")),
        ("ssh://ops@build.example", SshTarget("build.example", "ops")),
        ("ssh://ops@build.example:2222", SshTarget("build.example", "ops", 2222)),
        ("ssh://ops@build.example/", SshTarget("build.example", "ops")),
        ("ssh://[::1]:22", SshTarget("::1", None, 22)),
    ],
)
def test_ssh_url_parses_like_the_docker_cli(url: str, expected: SshTarget) -> None:
    assert parse_ssh_url(url) == expected


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ssh://", "names no host"),
        ("ssh://ops:secret@host", "holds a password"),
        ("ssh://host/var/run/docker.sock", "something after the host"),
        ("ssh://host?x=1", "something after the host"),
        ("ssh://host:99999", "invalid port"),
        ("ssh://-oProxyCommand=x", "names no host"),
    ],
)
def test_ssh_url_that_the_docker_cli_refuses_is_refused_with_why(url: str, says: str) -> None:
    with pytest.raises(ValueError, match=says) as caught:
        parse_ssh_url(url)
    assert "secret" not in str(caught.value)


def test_display_and_hand_command_name_user_host_and_port() -> None:
    assert TARGET.display == "ops@build.example:2222"
    assert TARGET.ssh_command("true") == "ssh -p 2222 ops@build.example true"
    assert known_hosts_name(TARGET) == "[build.example]:2222"
    assert known_hosts_name(SshTarget("h", port=22)) == "h"


def test_unknown_host_key_shows_the_fingerprint_and_never_says_accept_silently() -> None:
    stderr = (
        "No ED25519 host key is known for [build.example]:2222 and you have requested "
        "strict checking.\r\nHost key verification failed.\r\n"
    )
    error = classify_connect(TARGET, stderr, 255, "SHA256:abcdefghijklmnopqrstuvwxyz0123 (ssh-ed25519)")
    assert error.kind is SshFailure.HOST_KEY_UNKNOWN
    assert "SHA256:abcdefghijklmnopqrstuvwxyz0123" in error.problem.what
    assert "ssh -p 2222 ops@build.example" in error.problem.fix


def test_changed_host_key_names_the_new_fingerprint_and_the_stale_line() -> None:
    stderr = (
        "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\r\n"
        "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\r\n"
        "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\r\n"
        "IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\r\n"
        "The fingerprint for the ED25519 key sent by the remote host is\n"
        "SHA256:DJweAyq6k7/UiZFkYFz9/vQ5gLTlLlO5CruOLOlliSA.\r\n"
        "Offending ED25519 key in /home/ops/.ssh/known_hosts:3\r\n"
        "Host key for [build.example]:2222 has changed and you have requested strict "
        "checking.\r\nHost key verification failed.\r\n"
    )
    error = classify_connect(TARGET, stderr, 255)
    assert error.kind is SshFailure.HOST_KEY_CHANGED
    assert "SHA256:DJweAyq6k7/UiZFkYFz9/vQ5gLTlLlO5CruOLOlliSA" in error.problem.what
    assert "ssh-keygen -f /home/ops/.ssh/known_hosts -R '[build.example]:2222'" in (
        error.problem.fix)
    assert "line 3" in error.problem.fix


@pytest.mark.parametrize(
    ("stderr", "kind"),
    [
        ("ssh: connect to host build.example port 2222: Connection refused\r\n",
         SshFailure.UNREACHABLE),
        ("ssh: Could not resolve hostname build.example: Name or service not known\r\n",
         SshFailure.UNREACHABLE),
        ("ssh: connect to host 10.9.9.9 port 22: No route to host\r\n", SshFailure.UNREACHABLE),
        ("ops@build.example: Permission denied (publickey).\r\n", SshFailure.AUTH_REFUSED),
        ("kex_exchange_identification: read: Connection reset by peer\r\n", SshFailure.OTHER),
    ],
)
def test_connection_failures_are_told_apart(stderr: str, kind: SshFailure) -> None:
    error = classify_connect(TARGET, stderr, 255)
    assert error.kind is kind
    assert error.problem.fix
    assert error.problem.subject == "ssh://ops@build.example:2222"


@pytest.mark.parametrize(
    ("stderr", "code", "kind", "fix_says"),
    [
        ("sh: 1: docker: not found\n", 127, SshFailure.NO_DOCKER, "Install Docker"),
        ("bash: line 1: docker: command not found\n", 127, SshFailure.NO_DOCKER, "PATH"),
        (("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker "
         "daemon running?\n"), 1, SshFailure.DAEMON_DOWN, "systemctl start docker"),
        (("error during connect: dial unix /var/run/docker.sock: connect: no such file or "
         "directory\n"), 1, SshFailure.DAEMON_DOWN, "systemctl start docker"),
        ("dial unix /var/run/docker.sock: connect: permission denied\n", 1,
         SshFailure.DAEMON_FORBIDDEN, "usermod -aG docker ops"),
    ],
)
def test_remote_docker_failures_are_told_apart(
    stderr: str, code: int, kind: SshFailure, fix_says: str
) -> None:
    error = classify_dial(TARGET, stderr, code)
    assert error.kind is kind
    assert fix_says in error.problem.fix


def test_docker_context_with_an_ssh_endpoint_is_a_candidate(tmp_path: Path) -> None:
    write_context(tmp_path, "server", "ssh://ops@build.example:2222")
    found = candidates(env={}, home=tmp_path, **LINUX)
    assert (found[0].source, found[0].url) == ("Docker context 'server'", "ssh://ops@build.example:2222")
    assert found[0].tls is None


async def test_invalid_ssh_address_is_a_verdict_not_a_crash() -> None:
    verdict, info = await probe(Candidate("--docker-host", "ssh://host/some/path"))
    assert info is None
    assert "something after the host" in verdict.detail
    assert "--docker-host" in verdict.fix


async def test_missing_ssh_client_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no ssh on it: a real lookup
    verdict, info = await probe(Candidate("--docker-host", "ssh://ops@build.example"))
    assert info is None
    assert "OpenSSH client" in verdict.detail
    assert "apt install openssh-client" in verdict.fix
