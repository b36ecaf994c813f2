"""What an ``ssh://`` address means, and what OpenSSH and the remote docker say when
reaching an engine through it fails, in the user's words with a fix (`SshError`).

Read from the real tools' output (OpenSSH 9.2's client, Debian's docker 20.10 client);
tests/engine/test_ssh_engine.py checks each against a real server. No Textual; standard
library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import unquote, urlsplit

from hermes_tui.problem import Problem, ProblemError

OPENSSH_INSTALL = (
    "Install the OpenSSH client (Debian/Ubuntu: sudo apt install openssh-client; macOS "
    "has it)."
)


class SshFailure(StrEnum):
    NO_CLIENT = "no ssh client"
    BAD_ADDRESS = "invalid ssh address"
    UNREACHABLE = "host unreachable"
    HOST_KEY_UNKNOWN = "host key unknown"
    HOST_KEY_CHANGED = "host key changed"
    AUTH_REFUSED = "authentication refused"
    NO_DOCKER = "no docker on the remote host"
    DAEMON_DOWN = "remote daemon not running"
    DAEMON_FORBIDDEN = "remote user may not use the daemon"
    DROPPED = "connection dropped"
    OTHER = "ssh failed"


class SshError(ProblemError):
    """Reaching an engine over SSH failed; ``kind`` says how, the problem says what to do."""

    def __init__(self, kind: SshFailure, problem: Problem) -> None:
        super().__init__(problem)
        self.kind = kind


# --------------------------------------------------------------------------------------------
# Addresses
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SshTarget:
    """Where ``ssh://[user@]host[:port]`` points; unset parts are left to ssh_config."""

    host: str
    user: str | None = None
    port: int | None = None

    @property
    def destination(self) -> str:
        return f"{self.user}@{self.host}" if self.user else self.host

    @property
    def display(self) -> str:
        """How the user wrote it, without the scheme: ``user@host:port``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        where = f"{self.user}@{host}" if self.user else host
        return f"{where}:{self.port}" if self.port else where

    @property
    def port_args(self) -> list[str]:
        return ["-p", str(self.port)] if self.port else []

    def ssh_command(self, *words: str) -> str:
        """The plain ``ssh`` command a user can run to try the same thing by hand."""
        port = f" -p {self.port}" if self.port else ""
        tail = (" " + " ".join(words)) if words else ""
        return f"ssh{port} {self.destination}{tail}"


def parse_ssh_url(url: str) -> SshTarget:
    """``ssh://[user@]host[:port]`` → `SshTarget`; ValueError (its message for the user)
    for anything the docker CLI would refuse too: no host, a password, a path or query."""
    parts = urlsplit(url.strip())
    if parts.scheme != "ssh":
        raise ValueError(f"{url!r} is not an ssh:// address.")
    if parts.password is not None:
        raise ValueError(
            f"{_redact(url)} holds a password: ssh:// engines log in with keys or the agent."
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(
            f"{url!r} has something after the host; write ssh://[user@]host[:port]."
        )
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{url!r} has an invalid port ({exc}).") from exc
    host = parts.hostname or ""
    if not host or host.startswith("-"):
        raise ValueError(f"{url!r} names no host; write ssh://[user@]host[:port].")
    user = unquote(parts.username) if parts.username else None
    if user is not None and (not user or user.startswith("-")):
        raise ValueError(f"{url!r} has an invalid user name.")
    return SshTarget(host=host, user=user, port=port)


def _redact(url: str) -> str:
    return re.sub(r"(//[^:/@]*):[^@/]*@", r"\1:•••@", url)


# --------------------------------------------------------------------------------------------
# Reading what OpenSSH and the remote docker said
# --------------------------------------------------------------------------------------------

_FINGERPRINT = re.compile(r"\b(SHA256:[A-Za-z0-9+/=]{20,}|MD5:[0-9a-f:]{20,})")
_KEY_TYPE = re.compile(r"\b(ED25519|ECDSA|RSA|DSA)\b")


def offered_key(verbose_stderr: str) -> str | None:
    """The host key fingerprint ``ssh -v`` reports the server offered ("SHA256:… (type)")."""
    match = re.search(r"Server host key: (\S+) (SHA256:\S+)", verbose_stderr)
    return f"{match.group(2)} ({match.group(1)})" if match else None


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    interesting = [line for line in lines if not line.startswith(("debug", "@@@", "Warning:"))]
    return (interesting or lines or [""])[-1]


def known_hosts_name(target: SshTarget) -> str:
    """How known_hosts names the host: ``[host]:port`` for a port other than 22."""
    if target.port and target.port != 22:
        return f"[{target.host}]:{target.port}"
    return target.host


def classify_connect(target: SshTarget, stderr: str, code: int | None,
                     fingerprint: str | None = None) -> SshError:
    """Why the SSH connection itself failed, from ``ssh``'s own words."""
    low = stderr.lower()
    who = target.display
    try_it = target.ssh_command()
    if "remote host identification has changed" in low or "host key for" in low and (
        "has changed" in low
    ):
        match = _FINGERPRINT.search(stderr)
        key_type = _KEY_TYPE.search(stderr)
        offending = re.search(r"Offending \S+ key in (\S+?):(\d+)", stderr)
        name = known_hosts_name(target)
        if offending:
            remove = (f"remove the old entry ({offending.group(1)}, line {offending.group(2)}): "
                      f"ssh-keygen -f {offending.group(1)} -R '{name}'")
        else:
            remove = f"remove the old entry: ssh-keygen -R '{name}'"
        shown = match.group(1) if match else "(not shown)"
        return SshError(SshFailure.HOST_KEY_CHANGED, Problem(
            f"The host key of {who} has CHANGED since it was trusted: the host now presents "
            f"{key_type.group(1) + ' key ' if key_type else 'the key '}{shown}. This can be a "
            "reinstalled server, or someone intercepting the connection.",
            "Ask the host's administrator for its real fingerprint. Only if it matches, "
            f"{remove}; then run {try_it} once and accept the new key.",
            subject=f"ssh://{who}",
        ))
    if "host key verification failed" in low or "no " in low and "host key is known" in low:
        key = fingerprint or "(run the command below to see it)"
        return SshError(SshFailure.HOST_KEY_UNKNOWN, Problem(
            f"{who} is not a known host: its host key {key} is in none of your "
            "known_hosts files, and hermes-tui never accepts a key on its own.",
            f"Compare that fingerprint with the one the host's administrator gives you "
            f"(on the host: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub). If it "
            f"matches, run {try_it} once and answer yes, then try again.",
            subject=f"ssh://{who}",
        ))
    if "permission denied (" in low or "too many authentication failures" in low:
        methods = re.search(r"Permission denied \(([^)]*)\)", stderr)
        return SshError(SshFailure.AUTH_REFUSED, Problem(
            f"{who} refused the login"
            + (f" (it accepts: {methods.group(1)})" if methods else "")
            + ": none of your SSH keys is authorised for that user.",
            "Load your key into the agent (ssh-add), name it in ~/.ssh/config (IdentityFile), "
            f"or add your public key to the remote user's ~/.ssh/authorized_keys; check with "
            f"{try_it} true. Passwords cannot be typed here: hermes-tui logs in without "
            "prompts.",
            subject=f"ssh://{who}",
        ))
    unreachable = (
        "connection refused", "could not resolve hostname", "no route to host",
        "connection timed out", "network is unreachable", "operation timed out",
        "name or service not known", "temporary failure in name resolution",
    )
    if any(marker in low for marker in unreachable):
        return SshError(SshFailure.UNREACHABLE, Problem(
            f"Cannot reach {who} over SSH: {last_line(stderr)}",
            f"Check the host name and port, that the host is up and that its SSH server "
            f"runs and is not blocked by a firewall; try {try_it} true.",
            subject=f"ssh://{who}",
        ))
    said = last_line(stderr) or f"ssh exited with code {code}"
    return SshError(SshFailure.OTHER, Problem(
        f"The SSH connection to {who} failed: {said}",
        f"Try {try_it} true to see the full message.",
        subject=f"ssh://{who}",
    ))


def classify_dial(target: SshTarget, stderr: str, code: int | None) -> SshError:
    """Why ``docker system dial-stdio`` failed on the remote host, from what it said."""
    low = stderr.lower()
    who = target.display
    said = last_line(stderr)
    if code == 127 or "docker: not found" in low or "command not found" in low:
        return SshError(SshFailure.NO_DOCKER, Problem(
            f"{who} has no docker command for the SSH login ({said or 'exit code 127'}).",
            "Install Docker on that host (https://docs.docker.com/engine/install/), or make "
            "sure docker is on the PATH of non-interactive SSH sessions there.",
            subject=f"ssh://{who}",
        ))
    if "permission denied" in low:
        return SshError(SshFailure.DAEMON_FORBIDDEN, Problem(
            f"The user on {who} may not use its Docker daemon: {said}",
            f"On {target.host}: sudo usermod -aG docker {target.user or '<user>'}, then "
            "connect again (group changes apply to new logins). Rootless Docker for that user "
            "works too (DOCKER_HOST in its environment).",
            subject=f"ssh://{who}",
        ))
    if any(marker in low for marker in (
        "cannot connect to the docker daemon", "no such file or directory",
        "connection refused", "is the docker daemon running",
    )):
        return SshError(SshFailure.DAEMON_DOWN, Problem(
            f"The Docker daemon on {who} is not running: {said}",
            f"Start it on that host: {target.ssh_command('sudo systemctl start docker')} "
            "(or start Docker Desktop there), then try again.",
            subject=f"ssh://{who}",
        ))
    if code == 255:
        return dropped(target, said)
    return SshError(SshFailure.OTHER, Problem(
        f"docker system dial-stdio failed on {who}: {said or f'exit code {code}'}",
        f"Run {target.ssh_command('docker', 'version')} to see what the remote docker says.",
        subject=f"ssh://{who}",
    ))


def dropped(target: SshTarget, said: str = "") -> SshError:
    return SshError(SshFailure.DROPPED, Problem(
        f"The SSH connection to {target.display} dropped"
        + (f" ({said})." if said else "."),
        "Press r to retry: hermes-tui connects again (a pull resumes with the layers the "
        "engine already has). If it keeps dropping, check the network to that host.",
        subject=f"ssh://{target.display}",
    ))
