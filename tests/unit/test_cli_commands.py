"""``hermes-tui doctor``, ``status``, ``setup --non-interactive`` and ``migrate``, run as the
user runs them: a child process, a data dir under tmp_path, and an engine address where
nothing listens (the real-engine paths are in tests/engine/test_cli_engine.py).
"""

from __future__ import annotations

import json
import os
import pty
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from hermes_tui.bridge.sync import write_models
from hermes_tui.envfile import update_env
from hermes_tui.paths import Paths
from hermes_tui.profile import create_profile
from hermes_tui.state import StateStore, StepId, StepStatus
from tests.unit.conftest import REPO, child_env

NO_ENGINE = "unix:///nonexistent/hermes-tui-test/docker.sock"
ESCAPE = re.compile(r"\x1b\[")
GATEWAY_KEYS = {"state", "exit_code", "health", "api_port", "restart_count", "version",
                "engine"}
PROFILE_KEYS = {"name", "current", "path", "gateway", "channels", "models", "default_model",
                "router_url", "error"}

Run = Callable[..., subprocess.CompletedProcess[str]]


def clean_env(**extra: str) -> dict[str, str]:
    """The child's environment without anything that would change what the CLI finds."""
    env = child_env()
    for key in ("DOCKER_HOST", "DOCKER_CONTEXT", "OPENAI_BASE_URL", "NO_COLOR", "TERM",
                "HERMES_TUI_ASCII", "TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN"):
        env.pop(key, None)
    env.update(extra)
    return env


@pytest.fixture
def cli(tmp_path: Path) -> Run:
    """Run ``python -m hermes_tui.cli ARGS`` with the data dir and engine given last."""

    def run(*args: str, env: dict[str, str] | None = None,
            data_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "hermes_tui.cli", *args,
                "--data-dir", str(data_dir or tmp_path), "--docker-host", NO_ENGINE]
        return subprocess.run(argv, env=env or clean_env(), capture_output=True, text=True,
                              timeout=60, stdin=subprocess.DEVNULL, cwd=REPO, check=False)

    return run


def make_profiles(tmp_path: Path) -> Paths:
    """Two profiles: 'bot' (current, Telegram, two synced models) and 'side' (Discord in .env)."""
    paths = Paths.resolve(tmp_path)
    create_profile(paths, "bot")
    create_profile(paths, "side")
    write_models(paths.profile_dir("bot") / "config.yaml",
                 base_url="http://127.0.0.1:11434/v1", models=["llama3", "qwen"],
                 default="qwen", api_key_ref=None)
    update_env(paths.profile_dir("side") / ".env", {"DISCORD_BOT_TOKEN": "s3cret-discord"})
    store = StateStore(paths.state_file)
    state = store.new_state()
    state.profile = "bot"
    state.channels = ["telegram"]
    store.save(state)
    return paths


def lines_of(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if re.match(rf"^\S+\s+{name}\b", line)]


# --- doctor ------------------------------------------------------------------------------


def test_doctor_without_engine_fails_at_engine_with_the_fix_and_says_what_was_not_checked(cli):
    done = cli("doctor")

    assert done.returncode == 1, done.stderr
    out = done.stdout
    lines = out.splitlines()
    engine = lines_of(out, "engine")
    assert engine and engine[0].startswith("FAIL engine")
    assert "/nonexistent/hermes-tui-test/docker.sock" in engine[0]
    fix = lines[lines.index(engine[0]) + 1]
    assert fix.strip().startswith("Fix: ") and "--docker-host" in fix
    assert lines_of(out, "image")[0].startswith("FAIL image")
    assert "not checked: no engine" in lines_of(out, "image")[0]
    assert "not checked: no engine" in lines_of(out, "gateway")[0]
    assert lines_of(out, "profile")[0].startswith("FAIL profile")
    assert lines_of(out, "router")[0].startswith("skip router")
    assert [line.split()[1] for line in lines if re.match(r"^(ok|FAIL|skip)\s", line)] == [
        "engine", "image", "profile", "owner", "config", "router", "gateway"]
    assert "6 of 7 checks failed." in out
    assert not ESCAPE.search(out), "no colour codes when piped"


def test_doctor_passes_profile_and_config_checks_for_a_valid_profile(cli, tmp_path):
    make_profiles(tmp_path)

    done = cli("doctor")

    assert done.returncode == 1
    assert lines_of(done.stdout, "profile")[0].startswith("ok   profile")
    assert "(.env 0600)" in done.stdout
    config = lines_of(done.stdout, "config")[0]
    assert config.startswith("ok   config") and "2 model(s), default qwen" in config


def test_doctor_says_profile_files_are_the_users_own(cli, tmp_path):
    make_profiles(tmp_path)
    done = cli("doctor")
    line = lines_of(done.stdout, "owner")[0]
    assert line.startswith("ok   owner") and f"uid {os.getuid()}" in line


def test_doctor_as_root_explains_files_the_image_gave_to_uid_10000(cli, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("chown to another uid needs root; the non-root case runs as nobody below")
    paths = make_profiles(tmp_path)
    os.chown(paths.profile_dir("bot") / ".env", 10000, 10000)
    os.chown(paths.profile_dir("bot") / "sessions", 10000, 10000)
    line = lines_of(cli("doctor").stdout, "owner")[0]
    assert line.startswith("ok   owner") and "uid 10000" in line and "root can still read" in line


def test_doctor_flags_files_a_user_no_longer_owns_with_the_chown_fix(
    nobody_dir, nobody_python
):
    """Run as user nobody for real: the image gave two files to uid 10000."""
    tmp_path = nobody_dir
    paths = make_profiles(tmp_path)
    for root, dirs, files in os.walk(tmp_path):
        for name in [root, *(os.path.join(root, n) for n in (*dirs, *files))]:
            os.chown(name, 65534, 65534)
    os.chown(paths.profile_dir("bot") / ".env", 10000, 10000)
    os.chown(paths.profile_dir("bot") / "memories", 10000, 10000)
    snippet = (
        "import sys; from hermes_tui.cli import main; "
        "sys.exit(main(['doctor', '--data-dir', sys.argv[1], '--docker-host', sys.argv[2]]))"
    )
    done = nobody_python(snippet, [str(tmp_path), NO_ENGINE])
    out = done.stdout
    line = lines_of(out, "owner")[0]
    assert line.startswith("FAIL owner") and "2 entries" in line and "uid 10000" in line, out
    assert "not to you (uid 65534)" in line
    assert f"Fix: sudo chown -R 65534:65534 {paths.profile_dir('bot')}" in out
    assert ".env" in out and "memories" in out


def test_doctor_flags_an_env_file_readable_by_others_with_a_chmod_fix(cli, tmp_path):
    paths = make_profiles(tmp_path)
    env = paths.profile_dir("bot") / ".env"
    env.chmod(0o644)

    done = cli("doctor")

    line = lines_of(done.stdout, "profile")[0]
    assert line.startswith("FAIL profile") and "0644" in line
    assert f"Fix: chmod 600 {env}" in done.stdout
    assert "not checked: the profile is not valid" in lines_of(done.stdout, "config")[0]


def test_doctor_reports_an_incomplete_profile_and_a_broken_config(cli, tmp_path):
    paths = make_profiles(tmp_path)
    (paths.profile_dir("side") / "skills").rmdir()
    (paths.profile_dir("bot") / "config.yaml").write_text("- just\n- a list\n")

    side = cli("doctor", "--profile", "side")
    bot = cli("doctor")

    assert "missing: skills" in lines_of(side.stdout, "profile")[0]
    assert "setup --non-interactive --profile side" in side.stdout
    config = lines_of(bot.stdout, "config")[0]
    assert config.startswith("FAIL config") and "not a mapping" in config


class _Models(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"object": "list", "data": [{"id": "m1"}, {"id": "m2"}]}).encode()
        self.send_response(200 if self.path == "/v1/models" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def models_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Models)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_doctor_router_check_counts_models_or_says_nothing_listens(cli, models_server):
    ok = cli("doctor", "--router-url", models_server)
    down = cli("doctor", "--router-url", f"http://127.0.0.1:{closed_port()}/v1")

    assert lines_of(ok.stdout, "router")[0] == f"ok   router   {models_server} lists 2 model(s)"
    line = lines_of(down.stdout, "router")[0]
    assert line.startswith("FAIL router") and "Nothing is listening" in line
    assert "Fix: Start your router" in down.stdout


def test_doctor_on_a_terminal_uses_marks_and_colour_unless_no_color(tmp_path):
    def on_tty(**extra: str) -> str:
        leader, follower = pty.openpty()
        try:
            child = subprocess.Popen(
                [sys.executable, "-m", "hermes_tui.cli", "doctor", "--data-dir", str(tmp_path),
                 "--docker-host", NO_ENGINE],
                stdout=follower, stderr=follower, stdin=subprocess.DEVNULL, cwd=REPO,
                env=clean_env(TERM="xterm-256color", **extra))
            os.close(follower)
            chunks = []
            while True:
                try:
                    data = os.read(leader, 4096)
                except OSError:
                    break
                if not data:
                    break
                chunks.append(data)
            assert child.wait(timeout=60) == 1
        finally:
            os.close(leader)
        return b"".join(chunks).decode()

    fancy = on_tty()
    plain = on_tty(NO_COLOR="1")

    assert "✗" in fancy and "\x1b[31m" in fancy
    assert "FAIL engine" in plain and not ESCAPE.search(plain) and "✗" not in plain


# --- status ------------------------------------------------------------------------------


def test_status_json_lists_every_profile_in_the_documented_shape_without_an_engine(cli, tmp_path):
    make_profiles(tmp_path)

    done = cli("status", "--json")

    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data) == {"data_dir", "current_profile", "engine", "profiles"}
    assert data["data_dir"] == str(tmp_path)
    assert data["current_profile"] == "bot"
    assert data["engine"]["reachable"] is False
    assert "gateway state unknown" in data["engine"]["note"]
    bot, side = data["profiles"]
    for profile in (bot, side):
        assert set(profile) == PROFILE_KEYS
        assert set(profile["gateway"]) == GATEWAY_KEYS
        assert profile["gateway"]["state"] == "unknown"
        assert profile["gateway"]["engine"] is None  # no engine: nowhere known
    assert data["engine"]["remote"] is None
    assert bot == {
        "name": "bot", "current": True, "path": str(tmp_path / "profiles" / "bot"),
        "gateway": bot["gateway"], "channels": ["telegram"], "models": ["llama3", "qwen"],
        "default_model": "qwen", "router_url": "http://127.0.0.1:11434/v1", "error": None,
    }
    assert side["name"] == "side" and side["current"] is False
    assert side["channels"] == ["discord"]  # from its .env, since it is not the current one
    assert side["models"] == [] and side["default_model"] is None
    assert "s3cret" not in done.stdout


def test_status_text_names_profiles_current_channels_and_models(cli, tmp_path):
    make_profiles(tmp_path)

    done = cli("status")

    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "bot (current)" in out and "\nside  " in out
    assert "Gateway   unknown" in out
    assert "Channels  Telegram" in out and "Channels  Discord" in out
    assert "Models    llama3, qwen" in out and "Default   qwen" in out
    assert "gateway state unknown" in out
    assert not ESCAPE.search(out)


def test_status_with_no_profiles_says_how_to_make_one(cli):
    done = cli("status")
    assert done.returncode == 0
    assert "No profiles yet" in done.stdout
    assert json.loads(cli("status", "--json").stdout)["profiles"] == []


def test_shared_options_work_before_and_after_the_command(tmp_path):
    make_profiles(tmp_path)
    before = subprocess.run(
        [sys.executable, "-m", "hermes_tui.cli", "--data-dir", str(tmp_path), "--docker-host",
         NO_ENGINE, "status", "--json"],
        env=clean_env(), capture_output=True, text=True, timeout=60, cwd=REPO, check=False)
    assert before.returncode == 0, before.stderr
    data = json.loads(before.stdout)
    assert data["data_dir"] == str(tmp_path)
    assert [p["name"] for p in data["profiles"]] == ["bot", "side"]


# --- setup --non-interactive ------------------------------------------------------------


def test_setup_without_engine_fails_at_step_1_with_cause_fix_exit_11_and_saved_progress(
    cli, tmp_path
):
    env = clean_env(TELEGRAM_BOT_TOKEN="123:very-secret-token")

    done = cli("setup", "--non-interactive", "--profile", "bot", "--channel", "telegram",
               env=env)

    assert done.returncode == 11, (done.stdout, done.stderr)
    assert done.stdout.splitlines()[-1] == "FAIL step 1/7 Runtime check: no engine reachable"
    assert done.stderr.startswith("step 1 (Runtime check) failed: No socket at "
                                  "/nonexistent/hermes-tui-test/docker.sock")
    assert "\nFix: " in done.stderr
    state_file = tmp_path / "wizard.toml"
    state = StateStore(state_file).load().state
    assert state.current_step is StepId.RUNTIME
    assert state.steps[StepId.RUNTIME].status is StepStatus.FAILED
    assert state.steps[StepId.RUNTIME].reason == "no engine reachable"
    assert all(state.status(s) is StepStatus.PENDING for s in list(StepId)[1:])
    assert "very-secret" not in state_file.read_text()
    assert not (tmp_path / "profiles").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["setup", "--profile", "bot"], "setup needs --non-interactive"),
        (["setup", "--non-interactive"], "needs --profile NAME"),
        (["setup", "--non-interactive", "--profile", "Bot"], "Uppercase letters are not allowed"),
        (["setup", "--non-interactive", "--profile", "bot", "--channel", "irc"],
         "invalid choice: 'irc'"),
        (["setup", "--non-interactive", "--profile", "bot", "--migrate-claw", "maybe"],
         "invalid choice: 'maybe'"),
        (["setup", "--non-interactive", "--profile", "bot", "--migrate-secrets"],
         "--migrate-secrets needs --migrate-claw"),
        (["--reset", "status"], "--reset only applies to the wizard"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_argument_errors_exit_2_with_the_reason_and_write_nothing(cli, tmp_path, args, message):
    done = cli(*args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert message in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_setup_help_documents_the_exit_codes():
    done = subprocess.run([sys.executable, "-m", "hermes_tui.cli", "setup", "--help"],
                          env=clean_env(), capture_output=True, text=True, timeout=30,
                          cwd=REPO, check=False)
    assert done.returncode == 0
    for code in ("11", "12", "13", "14", "15", "16", "17"):
        assert re.search(rf"^\s*{code}\s+step|\s{code}\s+step", done.stdout, re.MULTILINE), code
    assert "TELEGRAM_BOT_TOKEN" in done.stdout


# --- migrate ------------------------------------------------------------------------------


def test_migrate_is_wired_and_reports_a_missing_claw_folder(cli, tmp_path):
    make_profiles(tmp_path)
    missing = tmp_path / "no-claw-here"

    done = cli("migrate", "--profile", "bot", "--claw-dir", str(missing), "--dry-run")

    assert done.returncode == 3, (done.stdout, done.stderr)
    assert "CLAW_CONFIG_NOT_FOUND" in done.stderr and str(missing) in done.stderr


def test_migrate_takes_the_top_level_claw_dir_too(tmp_path):
    make_profiles(tmp_path)
    missing = tmp_path / "elsewhere"
    done = subprocess.run(
        [sys.executable, "-m", "hermes_tui.cli", "--claw-dir", str(missing), "--data-dir",
         str(tmp_path), "migrate", "--profile", "bot", "--dry-run"],
        env=clean_env(), capture_output=True, text=True, timeout=60, cwd=REPO, check=False)
    assert done.returncode == 3, done.stderr
    assert str(missing) in done.stderr


# --- import boundaries ------------------------------------------------------------------


def test_the_commands_never_load_textual_even_when_they_run(run_python, tmp_path):
    snippet = f"""
import contextlib, io, json, sys
import hermes_tui.commands, hermes_tui.commands.doctor, hermes_tui.commands.status
import hermes_tui.commands.setup, hermes_tui.migration.cli
from hermes_tui.cli import main
codes = []
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    for argv in (["doctor"], ["status", "--json"],
                 ["setup", "--non-interactive", "--profile", "bot"]):
        codes.append(main([*argv, "--data-dir", {str(tmp_path)!r}, "--docker-host", {NO_ENGINE!r}]))
print(json.dumps([codes, sorted(m for m in sys.modules if m.split(".")[0] == "textual")]))
"""
    done = run_python("-c", snippet, env=clean_env())
    assert done.returncode == 0, done.stderr
    codes, loaded = json.loads(done.stdout)
    assert codes == [1, 0, 11]
    assert loaded == []


# --- pull progress ------------------------------------------------------------------------


def _pull_events(progress: Any, done_layers: int) -> None:
    for layer in ("a", "b", "c", "d"):
        progress.apply({"status": "Downloading", "id": layer,
                        "progressDetail": {"current": 0, "total": 4_000_000}})
    for layer in ("a", "b", "c", "d")[:done_layers]:
        progress.apply({"status": "Pull complete", "id": layer})


def test_pull_progress_redraws_one_line_on_a_terminal_and_prints_a_few_lines_when_piped():
    import io

    from hermes_tui.commands import Console
    from hermes_tui.commands.setup import PullReporter
    from hermes_tui.engine.pull import PullProgress

    tty_out, pipe_out = io.StringIO(), io.StringIO()
    tty_progress, pipe_progress = PullProgress(), PullProgress()
    tty = PullReporter(Console(out=tty_out, tty=True, fancy=True, colour=True), tty_progress)
    piped = PullReporter(Console(out=pipe_out), pipe_progress)
    for done_layers in range(5):
        for progress in (tty_progress, pipe_progress):
            _pull_events(progress, done_layers)
        for _ in range(3):  # the timer ticks several times per change
            tty.tick()
            piped.tick()
    for progress in (tty_progress, pipe_progress):
        progress.finish()
    tty.close()
    piped.close()

    assert tty_out.getvalue().count("\r") >= 15 and "\n" not in tty_out.getvalue()
    assert "4/4 layers" in tty_out.getvalue()
    lines = pipe_out.getvalue().splitlines()
    assert 2 <= len(lines) <= 5 and "\r" not in pipe_out.getvalue()
    assert lines[-1] == "  pull: 4/4 layers, 16.0/16.0 MB (100%)"
