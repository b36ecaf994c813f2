"""Each profile gets its own API server port, and the container config says what it should.

Real ``.env`` files in a temporary profiles folder and real sockets on 127.0.0.1: a port
that is "busy" is busy because the test listens on it.
"""

from __future__ import annotations

import json
import os
import socket
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hermes_tui.engine.gateway import (
    CONTAINER_HOME,
    LABEL_API_PORT,
    LABEL_APP,
    LABEL_CONFIG,
    LABEL_PROFILE,
    GatewaySpec,
    GatewayStatus,
    choose_api_port,
    container_config,
    container_name,
    ensure_api_port,
    normalise_event,
    parse_time,
    port_is_free,
    status_from_inspect,
)
from hermes_tui.envfile import read_env


def free_run(length: int = 8) -> int:
    """The first port of ``length`` consecutive ports free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        base = probe.getsockname()[1]
    for start in range(base, 65000):
        if all(port_is_free(p) for p in range(start, start + length)):
            return start
    pytest.skip("no run of free ports on 127.0.0.1")


@pytest.fixture
def profiles(tmp_path: Path) -> Path:
    root = tmp_path / "profiles"
    root.mkdir()
    return root


def make_profile(root: Path, name: str, env_text: str = "") -> Path:
    folder = root / name
    folder.mkdir()
    (folder / ".env").write_text(env_text)
    return folder


@pytest.fixture
def listening() -> Iterator[list[socket.socket]]:
    """Sockets the test listens on (closed afterwards)."""
    held: list[socket.socket] = []
    yield held
    for sock in held:
        sock.close()


def listen(held: list[socket.socket], port: int) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", port))
    sock.listen()
    held.append(sock)


def test_two_profiles_get_different_ports_recorded_in_their_env(profiles: Path) -> None:
    start = free_run()
    make_profile(profiles, "alpha", "# my notes\nTELEGRAM_BOT_TOKEN=abc\n")
    make_profile(profiles, "beta")

    first = ensure_api_port(profiles, "alpha", start=start)
    second = ensure_api_port(profiles, "beta", start=start)

    assert (first, second) == (start, start + 1)
    alpha_text = (profiles / "alpha" / ".env").read_text()
    assert alpha_text.startswith("# my notes\nTELEGRAM_BOT_TOKEN=abc\n")
    assert read_env(profiles / "alpha" / ".env") == {
        "TELEGRAM_BOT_TOKEN": "abc",
        "API_SERVER_ENABLED": "true",
        "API_SERVER_PORT": str(start),
    }
    assert read_env(profiles / "beta" / ".env")["API_SERVER_PORT"] == str(start + 1)
    assert stat.S_IMODE(os.stat(profiles / "beta" / ".env").st_mode) == 0o600


def test_a_port_busy_on_loopback_is_skipped(
    profiles: Path, listening: list[socket.socket]
) -> None:
    start = free_run()
    listen(listening, start)
    listen(listening, start + 1)
    make_profile(profiles, "alpha")

    assert ensure_api_port(profiles, "alpha", start=start) == start + 2


def test_a_profile_keeps_its_port_even_while_its_gateway_listens_on_it(
    profiles: Path, listening: list[socket.socket]
) -> None:
    start = free_run()
    make_profile(profiles, "alpha", f"API_SERVER_PORT={start + 3}\n")
    listen(listening, start + 3)  # its own gateway, say

    assert choose_api_port(profiles, "alpha", start=start) == start + 3
    before = (profiles / "alpha" / ".env").stat().st_mtime_ns
    ensure_api_port(profiles, "alpha", start=start)
    assert read_env(profiles / "alpha" / ".env")["API_SERVER_ENABLED"] == "true"
    after_first = (profiles / "alpha" / ".env").stat().st_mtime_ns
    ensure_api_port(profiles, "alpha", start=start)
    assert (profiles / "alpha" / ".env").stat().st_mtime_ns == after_first  # not rewritten
    assert after_first >= before


def test_a_port_another_profile_records_is_given_up(profiles: Path) -> None:
    start = free_run()
    # Both copied from a template with Hermes's default: the first one (by name) keeps it.
    make_profile(profiles, "alpha", f"API_SERVER_PORT={start}\n")
    make_profile(profiles, "beta", f"API_SERVER_PORT={start}\n")

    assert choose_api_port(profiles, "beta", start=start) == start + 1
    assert choose_api_port(profiles, "alpha", start=start) == start + 1
    # Recording it settles the conflict for the other one.
    ensure_api_port(profiles, "beta", start=start)
    assert choose_api_port(profiles, "alpha", start=start) == start


def test_ports_recorded_by_other_profiles_are_skipped_even_when_free(profiles: Path) -> None:
    start = free_run()
    make_profile(profiles, "alpha", f"API_SERVER_PORT={start}\n")
    make_profile(profiles, "beta", f'API_SERVER_PORT="{start + 1}"\n')
    make_profile(profiles, ".staging-gamma", f"API_SERVER_PORT={start + 2}\n")  # ignored
    make_profile(profiles, "gamma", "API_SERVER_PORT=not-a-port\n")

    assert choose_api_port(profiles, "gamma", start=start) == start + 2


def test_a_new_profile_without_env_file_gets_a_port(profiles: Path) -> None:
    start = free_run()
    (profiles / "fresh").mkdir()
    assert ensure_api_port(profiles, "fresh", start=start) == start
    assert read_env(profiles / "fresh" / ".env")["API_SERVER_PORT"] == str(start)


# ------------------------------------------------------------------------------------------
# The create body
# ------------------------------------------------------------------------------------------


def spec(tmp_path: Path, **overrides: object) -> GatewaySpec:
    values: dict[str, object] = {
        "profile": "work",
        "profile_dir": tmp_path / "profiles" / "work",
        "image": "example.org/hermes-agent:v1",
        "api_port": 8650,
        "host_network": True,
    }
    values.update(overrides)
    return GatewaySpec(**values)  # type: ignore[arg-type]


def env_dict(config: dict) -> dict[str, str]:
    return dict(item.split("=", 1) for item in config["Env"])


def test_host_network_config(tmp_path: Path) -> None:
    env = {"GREETING": 'say "hi" there', "API_SERVER_ENABLED": "true", "API_SERVER_HOST": "x"}
    config = container_config(spec(tmp_path, claw_dir=tmp_path / "claw"), env)

    assert config["Image"] == "example.org/hermes-agent:v1"
    assert config["Cmd"] == ["gateway", "run"]
    assert env_dict(config) == {
        "GREETING": 'say "hi" there',
        "API_SERVER_ENABLED": "true",
        "API_SERVER_HOST": "127.0.0.1",
        "HERMES_HOME": CONTAINER_HOME,
        "API_SERVER_PORT": "8650",
    }
    labels = config["Labels"]
    assert labels[LABEL_APP] == "1" and labels[LABEL_PROFILE] == "work"
    assert labels[LABEL_API_PORT] == "8650"
    host = config["HostConfig"]
    assert host["NetworkMode"] == "host"
    assert host["RestartPolicy"] == {"Name": "unless-stopped"}
    assert host["Binds"] == [
        f"{tmp_path / 'profiles' / 'work'}:/opt/data:rw",
        f"{tmp_path / 'claw'}:/opt/openclaw:ro",
    ]
    assert "PortBindings" not in host and "ExposedPorts" not in config
    assert container_name("work") == "hermes-work"


def test_bridge_config_publishes_the_api_port_on_loopback_only(tmp_path: Path) -> None:
    config = container_config(spec(tmp_path, host_network=False), {"API_SERVER_ENABLED": "1"})

    host = config["HostConfig"]
    assert "NetworkMode" not in host
    assert host["ExtraHosts"] == ["host.docker.internal:host-gateway"]
    assert host["PortBindings"] == {"8650/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8650"}]}
    assert config["ExposedPorts"] == {"8650/tcp": {}}
    assert env_dict(config)["API_SERVER_HOST"] == "0.0.0.0"
    assert len(host["Binds"]) == 1


def test_api_port_label_only_when_the_api_server_is_on(tmp_path: Path) -> None:
    config = container_config(spec(tmp_path), {"API_SERVER_ENABLED": "false"})
    assert LABEL_API_PORT not in config["Labels"]


def test_config_digest_changes_with_the_env_and_only_then(tmp_path: Path) -> None:
    one = container_config(spec(tmp_path), {"A": "1"})
    same = container_config(spec(tmp_path), {"A": "1"})
    other = container_config(spec(tmp_path), {"A": "2"})
    assert one["Labels"][LABEL_CONFIG] == same["Labels"][LABEL_CONFIG]
    assert one["Labels"][LABEL_CONFIG] != other["Labels"][LABEL_CONFIG]


def test_extra_env_overrides_the_profile_but_not_ours(tmp_path: Path) -> None:
    config = container_config(
        spec(tmp_path, extra_env={"A": "extra", "HERMES_HOME": "/elsewhere"}), {"A": "profile"}
    )
    env = env_dict(config)
    assert env["A"] == "extra" and env["HERMES_HOME"] == "/opt/data"


# ------------------------------------------------------------------------------------------
# Reading the engine's answers
# ------------------------------------------------------------------------------------------


def test_engine_times_with_nanoseconds_parse() -> None:
    assert parse_time("2025-01-02T03:04:05.123456789Z") == datetime(
        2025, 1, 2, 3, 4, 5, 123456, tzinfo=UTC
    )
    assert parse_time("2025-01-02T03:04:05Z") == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_time("0001-01-01T00:00:00Z") is None
    assert parse_time("") is None


def test_status_from_inspect_and_uptime() -> None:
    data = {
        "Id": "abc",
        "RestartCount": 2,
        "State": {"Status": "running", "Running": True, "ExitCode": 0,
                  "StartedAt": "2025-01-02T03:04:05.5Z"},
        "Config": {"Image": "img:1", "Labels": {LABEL_PROFILE: "work", LABEL_API_PORT: "8650"}},
    }
    status = status_from_inspect(data)
    assert (status.state, status.exit_code, status.restart_count) == ("running", None, 2)
    assert (status.profile, status.api_port, status.container_id) == ("work", 8650, "abc")
    now = datetime(2025, 1, 2, 3, 5, 5, 500000, tzinfo=UTC)
    assert status.uptime(now) == timedelta(minutes=1)

    data["State"] = {"Status": "exited", "Running": False, "ExitCode": 3,
                     "StartedAt": "2025-01-02T03:04:05Z"}
    exited = status_from_inspect(data)
    assert exited.summary == "exited with code 3" and exited.uptime(now) is None
    assert GatewayStatus(exists=False, state="missing").summary == "not created"


def test_events_for_other_containers_or_actions_are_dropped() -> None:
    die = {
        "Type": "container", "Action": "die", "timeNano": 1_700_000_000_000_000_000,
        "Actor": {"ID": "abc", "Attributes": {LABEL_PROFILE: "work", "exitCode": "3"}},
    }
    event = normalise_event(die)
    assert event is not None
    assert (event["action"], event["profile"], event["exit_code"]) == ("die", "work", 3)
    health = {**die, "Action": "health_status: healthy"}
    assert normalise_event(health)["health"] == "healthy"  # type: ignore[index]
    assert normalise_event({**die, "Action": "exec_start: sh"}) is None
    assert normalise_event({**die, "Type": "network"}) is None
    assert normalise_event({**die, "Actor": {"ID": "x", "Attributes": {}}}) is None


def test_gateway_module_imports_neither_textual_nor_aiodocker(run_python) -> None:
    snippet = (
        "import json, sys\n"
        "import hermes_tui.engine.gateway\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('textual', 'aiodocker', 'aiohttp'))))\n"
    )
    done = run_python("-c", snippet)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
