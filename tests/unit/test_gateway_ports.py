"""Each profile gets its own API server port and key, and the container config says what
it should — and no secret.

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

from hermes_tui.engine.api_server import (
    ApiServerError,
    choose_api_port,
    ensure_api_server,
    mask_key,
    port_is_free,
    read_api_server,
    read_health,
)
from hermes_tui.engine.gateway import (
    CONTAINER_HOME,
    LABEL_API_PORT,
    LABEL_APP,
    LABEL_CONFIG,
    LABEL_DATA_DIR,
    LABEL_PROFILE,
    GatewaySpec,
    GatewayStatus,
    container_config,
    container_name,
    normalise_event,
    parse_time,
    profile_changed_since,
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


def ensure_api_port(profiles: Path, name: str, **kwargs: object) -> int:
    return ensure_api_server(profiles, name, **kwargs).port  # type: ignore[arg-type]


def test_two_profiles_get_different_ports_recorded_in_their_env(profiles: Path) -> None:
    start = free_run()
    make_profile(profiles, "alpha", "# my notes\nTELEGRAM_BOT_TOKEN=abc\n")
    make_profile(profiles, "beta")

    first = ensure_api_server(profiles, "alpha", start=start)
    second = ensure_api_server(profiles, "beta", start=start)

    assert (first.port, second.port) == (start, start + 1)
    alpha_text = (profiles / "alpha" / ".env").read_text()
    assert alpha_text.startswith("# my notes\nTELEGRAM_BOT_TOKEN=abc\n")
    assert read_env(profiles / "alpha" / ".env") == {
        "TELEGRAM_BOT_TOKEN": "abc",
        "API_SERVER_ENABLED": "true",
        "API_SERVER_PORT": str(start),
        "API_SERVER_KEY": first.key,
    }
    assert read_env(profiles / "beta" / ".env")["API_SERVER_PORT"] == str(start + 1)
    assert stat.S_IMODE(os.stat(profiles / "beta" / ".env").st_mode) == 0o600


def test_each_profile_gets_its_own_random_url_safe_key_once(profiles: Path) -> None:
    start = free_run()
    make_profile(profiles, "alpha")
    make_profile(profiles, "beta")

    alpha = ensure_api_server(profiles, "alpha", start=start)
    beta = ensure_api_server(profiles, "beta", start=start)

    assert alpha.key != beta.key
    for key in (alpha.key, beta.key):
        assert len(key) >= 32 and all(c.isalnum() or c in "-_" for c in key)
    again = ensure_api_server(profiles, "alpha", start=start)
    assert again.key == alpha.key  # kept, never rotated behind the user's back
    assert read_api_server(profiles / "alpha" / ".env") == again
    assert alpha.key not in repr(alpha)  # a logged object never carries it
    assert mask_key(alpha.key).endswith(alpha.key[-4:]) and alpha.key not in mask_key(alpha.key)


def test_a_key_the_user_set_is_kept(profiles: Path) -> None:
    make_profile(profiles, "alpha", "API_SERVER_KEY='my own key'\n")
    assert ensure_api_server(profiles, "alpha", start=free_run()).key == "my own key"


def test_an_empty_key_is_replaced_by_a_generated_one(profiles: Path) -> None:
    make_profile(profiles, "alpha", "API_SERVER_KEY=\n")
    key = ensure_api_server(profiles, "alpha", start=free_run()).key
    assert len(key) >= 32 and read_env(profiles / "alpha" / ".env")["API_SERVER_KEY"] == key


def test_ports_the_engine_holds_for_others_are_skipped(profiles: Path) -> None:
    start = free_run()
    make_profile(profiles, "alpha", f"API_SERVER_PORT={start}\n")
    taken = {start: "container hermes-alpha (hermes-tui gateway of /other/data)",
             start + 1: "container web"}
    # Even its own recorded port: another data dir's gateway holds it on this engine.
    assert ensure_api_port(profiles, "alpha", start=start, taken=taken) == start + 2


def test_its_own_running_gateway_port_is_kept_although_busy(
    profiles: Path, listening: list[socket.socket]
) -> None:
    start = free_run()
    make_profile(profiles, "alpha", f"API_SERVER_PORT={start}\n")
    listen(listening, start)
    assert choose_api_port(profiles, "alpha", start=start, own_port=start) == start
    # Not its gateway listening there: something else holds the port now.
    assert choose_api_port(profiles, "alpha", start=start) == start + 1


def test_no_bind_test_for_an_engine_on_another_host(
    profiles: Path, listening: list[socket.socket]
) -> None:
    start = free_run()
    listen(listening, start)
    make_profile(profiles, "alpha")
    assert choose_api_port(profiles, "alpha", start=start, probe=False) == start


def test_an_engine_host_that_answers_for_its_ports_is_asked_instead_of_this_one(
    profiles: Path, listening: list[socket.socket]
) -> None:
    """An ssh:// engine's host is asked through the connection (a callable probe): a port
    busy here is no reason to skip it, one busy there is."""
    start = free_run()
    listen(listening, start)  # busy here, free "there"
    make_profile(profiles, "alpha")
    asked: list[int] = []

    def remote_free(port: int) -> bool:
        asked.append(port)
        return port != start + 1  # busy on the engine's host

    assert choose_api_port(profiles, "alpha", start=start, probe=remote_free) == start
    asked.clear()
    assert choose_api_port(profiles, "alpha", start=start + 1, probe=remote_free) == start + 2
    assert asked == [start + 1, start + 2]


def test_no_port_left_is_a_problem_with_a_fix(profiles: Path) -> None:
    make_profile(profiles, "alpha")
    with pytest.raises(ApiServerError) as caught:
        choose_api_port(profiles, "alpha", start=65535, taken={65535: "container x"})
    assert "65535" in caught.value.message and "API_SERVER_PORT" in caught.value.fix


def test_health_counts_only_when_hermes_answers() -> None:
    ok = read_health(200, b'{"status": "ok", "platform": "hermes-agent", "version": "0.19.0"}')
    assert ok.ok and ok.version == "0.19.0" and "0.19.0" in ok.detail
    assert not read_health(200, b"ok\n").ok  # a static file server, say
    other = read_health(200, b'{"status": "ok", "platform": "something-else"}')
    assert not other.ok and "something-else" in other.detail
    assert not read_health(401, b"").ok
    assert not read_health(200, b'{"status": "starting", "platform": "hermes-agent"}').ok


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

    own = start + 3
    assert choose_api_port(profiles, "alpha", start=start, own_port=own) == own
    before = (profiles / "alpha" / ".env").stat().st_mtime_ns
    ensure_api_port(profiles, "alpha", start=start, own_port=own)
    assert read_env(profiles / "alpha" / ".env")["API_SERVER_ENABLED"] == "true"
    after_first = (profiles / "alpha" / ".env").stat().st_mtime_ns
    ensure_api_port(profiles, "alpha", start=start, own_port=own)
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
        "uid": 1000,
        "gid": 1001,
    }
    values.update(overrides)
    return GatewaySpec(**values)  # type: ignore[arg-type]


def env_dict(config: dict) -> dict[str, str]:
    return dict(item.split("=", 1) for item in config["Env"])


SECRETS = {
    "TELEGRAM_BOT_TOKEN": "123456:telegram-secret",
    "API_SERVER_KEY": "api-server-secret-key",
    "OPENAI_API_KEY": "sk-openai-secret",
    "EMAIL_PASSWORD": "mail-secret",
}


def test_host_network_config_carries_no_value_of_the_env_file(tmp_path: Path) -> None:
    env = {"GREETING": 'say "hi" there', "API_SERVER_ENABLED": "true", "API_SERVER_HOST": "x",
           **SECRETS}
    config = container_config(spec(tmp_path, claw_dir=tmp_path / "claw"), env)

    assert config["Image"] == "example.org/hermes-agent:v1"
    assert config["Cmd"] == ["gateway", "run"]
    assert env_dict(config) == {
        "HERMES_HOME": CONTAINER_HOME,
        "API_SERVER_ENABLED": "true",
        "API_SERVER_HOST": "127.0.0.1",
        "API_SERVER_PORT": "8650",
        "HERMES_UID": "1000",
        "HERMES_GID": "1001",
    }
    body = json.dumps(config)
    for secret in SECRETS.values():
        assert secret not in body  # not in Env, labels or the digest's input
    labels = config["Labels"]
    assert labels[LABEL_APP] == "1" and labels[LABEL_PROFILE] == "work"
    assert labels[LABEL_API_PORT] == "8650"
    assert labels[LABEL_DATA_DIR] == str(tmp_path / "profiles")
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


def test_config_digest_ignores_env_values_and_follows_the_spec(tmp_path: Path) -> None:
    one = container_config(spec(tmp_path), {"A": "1", "API_SERVER_KEY": "k1"})
    same = container_config(spec(tmp_path), {"A": "2", "API_SERVER_KEY": "k2"})
    other_port = container_config(spec(tmp_path, api_port=8651), {"A": "1"})
    other_user = container_config(spec(tmp_path, uid=0, gid=0), {"A": "1"})
    assert one["Labels"][LABEL_CONFIG] == same["Labels"][LABEL_CONFIG]
    assert one["Labels"][LABEL_CONFIG] != other_port["Labels"][LABEL_CONFIG]
    assert one["Labels"][LABEL_CONFIG] != other_user["Labels"][LABEL_CONFIG]


def test_profile_files_newer_than_the_start_mean_restart(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / ".env").write_text("A=1\n")
    (folder / "config.yaml").write_text("model: {}\n")
    started = datetime.now(UTC)
    past = (started - timedelta(minutes=5)).timestamp()
    for name in (".env", "config.yaml"):
        os.utime(folder / name, (past, past))
    assert not profile_changed_since(folder, started)
    assert not profile_changed_since(folder, None)
    os.utime(folder / "config.yaml", None)  # written now, after the start
    assert profile_changed_since(folder, started - timedelta(seconds=1))


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
    assert (event.action, event.profile, event.exit_code) == ("die", "work", 3)
    assert event.container_id == "abc" and event.time is not None
    health = {**die, "Action": "health_status: healthy"}
    assert normalise_event(health).health == "healthy"  # type: ignore[union-attr]
    assert normalise_event({**die, "Action": "exec_start: sh"}) is None
    assert normalise_event({**die, "Type": "network"}) is None
    assert normalise_event({**die, "Actor": {"ID": "x", "Attributes": {}}}) is None


def test_gateway_module_imports_neither_textual_nor_aiodocker(run_python) -> None:
    snippet = (
        "import json, sys\n"
        "import hermes_tui.engine.gateway, hermes_tui.engine.api_server\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('textual', 'aiodocker', 'aiohttp'))))\n"
    )
    done = run_python("-c", snippet)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_gateway_actions_say_what_they_do_in_words() -> None:
    from hermes_tui.engine.gateway import GatewayAction

    assert [a.progress for a in GatewayAction] == ["Starting", "Stopping", "Restarting"]
