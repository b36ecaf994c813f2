"""The real Hermes on profiles that ``hermes-tui setup --non-interactive`` made.

The oracle is hermes-agent 0.19.0 itself (tests/support/hermes.py): once on this host
(``HERMES_HOME=<profile> hermes gateway run``, as real-hermes.md describes) and once in the
wizard's own container, from an image holding the real Hermes (tests/support/hermes_image.py),
started by ``setup`` run as an unprivileged user. In both, ``/health`` must answer as
hermes-agent, and a chat completion sent to the gateway's API with the key the wizard
generated must reach the router double with the profile's default model and bring the
router's answer back.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from hermes_tui.envfile import read_env
from tests.support.engine import LocalEngine
from tests.support.hermes import HermesVenv
from tests.support.openai_router import OpenAIRouter

REPO = Path(__file__).resolve().parents[2]
ROUTER_KEY = "router-secret-key-123"
TOKEN = "123456:telegram-secret-token"
MODELS = ["tiny-1b", "big-70b"]
NOBODY = 65534
#: The real gateway imports a lot: give it time on a busy 2-core machine, fail loudly after.
HEALTH_WAIT = 180.0


@pytest.fixture
def router() -> Iterator[OpenAIRouter]:
    server = OpenAIRouter(models=list(MODELS), api_key=ROUTER_KEY,
                          reply="Hello from the router double.").start()
    try:
        yield server
    finally:
        server.stop()


def setup_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DOCKER_", "HERMES_", "OPENAI_"))}
    env.update(HOME=str(home), NO_COLOR="1", TERM="dumb",
               HERMES_CUSTOM_HERMES_TUI_ROUTER_API_KEY=ROUTER_KEY, **extra)
    return env


def run_setup(
    engine: LocalEngine, data: Path, router: OpenAIRouter, *extra: str,
    image: str | None = None, user: list[str] | None = None, env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    argv = [*(user or []), sys.executable, "-m", "hermes_tui.cli", "setup", "--non-interactive",
            "--profile", "bot", "--router-url", router.url, "--default-model", "big-70b",
            "--data-dir", str(data), "--docker-host", engine.docker_host,
            "--image", image or engine.image,
            "--health-timeout", str(HEALTH_WAIT), *extra]
    return subprocess.run(argv, env=env or setup_env(data / "home"), capture_output=True,
                          text=True, timeout=HEALTH_WAIT + 300, stdin=subprocess.DEVNULL,
                          cwd="/", check=False)


def http(method: str, url: str, *, key: str | None = None, body: dict | None = None,
         timeout: float = 120.0) -> tuple[int, dict]:
    request = urllib.request.Request(url, method=method)
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, data=data, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        text = error.read()
        try:
            return error.code, json.loads(text or b"{}")
        except ValueError:
            return error.code, {"raw": text.decode(errors="replace")}


def remove_bot_gateway(engine: LocalEngine) -> None:
    """Remove profile bot's gateway container from ``engine`` (none there is fine)."""
    import asyncio

    import aiodocker

    from hermes_tui.engine.gateway import remove_gateway

    async def remove() -> None:
        docker = aiodocker.Docker(url=engine.docker_host)
        try:
            await remove_gateway(docker, "bot")
        finally:
            await docker.close()

    asyncio.run(remove())


def wait_for_health(port: int, describe) -> dict:
    """Poll /health until Hermes answers; fail with ``describe()`` (its log) after HEALTH_WAIT."""
    deadline = time.monotonic() + HEALTH_WAIT
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            status, body = http("GET", f"http://127.0.0.1:{port}/health", timeout=2)
            if status == 200:
                return body
            last = f"HTTP {status}"
        except (OSError, ValueError) as exc:
            last = repr(exc)
        time.sleep(0.5)
    pytest.fail(f"/health on port {port} did not answer within {HEALTH_WAIT:g} s ({last})\n"
                f"{describe()}", pytrace=False)


def chat_through_the_gateway(port: int, key: str, router: OpenAIRouter) -> None:
    base = f"http://127.0.0.1:{port}/v1"
    status, _ = http("GET", f"{base}/models")
    assert status == 401  # the API needs the key the wizard generated
    status, listed = http("GET", f"{base}/models", key=key)
    assert status == 200, listed
    model = listed["data"][0]["id"]
    before = len(router.completions())
    status, answer = http("POST", f"{base}/chat/completions", key=key, body={
        "model": model, "messages": [{"role": "user", "content": "Say hello."}]})
    assert status == 200, answer
    assert "Hello from the router double." in answer["choices"][0]["message"]["content"], answer
    reached = router.completions()[before:]
    assert reached, "the chat completion never reached the router"
    assert {r.model for r in reached} == {"big-70b"}  # the profile's default model, bare


def test_real_hermes_gateway_runs_on_a_profile_setup_made(
    local_engine: LocalEngine, hermes_venv: HermesVenv, router: OpenAIRouter, tmp_path: Path
) -> None:
    """``HERMES_HOME=<profile> hermes gateway run`` on this host, as real-hermes.md says."""



    data = tmp_path / "data"
    done = run_setup(local_engine, data, router, "--channel", "telegram",
                     env=setup_env(data / "home", TELEGRAM_BOT_TOKEN=TOKEN))
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"

    remove_bot_gateway(local_engine)  # the stand-in holds the port: the real one takes over
    profile = data / "profiles" / "bot"
    values = read_env(profile / ".env")
    port, key = int(values["API_SERVER_PORT"]), values["API_SERVER_KEY"]
    log = tmp_path / "hermes.log"
    with open(log, "wb") as out:
        gateway = subprocess.Popen(
            [str(hermes_venv.hermes), "gateway", "run"], env=hermes_venv.environment(profile),
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=profile,
            start_new_session=True)
    try:
        health = wait_for_health(port, lambda: log.read_text(errors="replace")[-4000:])
        assert health == {"status": "ok", "platform": "hermes-agent", "version": "0.19.0"}
        chat_through_the_gateway(port, key, router)
    finally:
        os.killpg(gateway.pid, signal.SIGTERM)
        try:
            gateway.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(gateway.pid, signal.SIGKILL)
            gateway.wait(timeout=10)
    text = log.read_text(errors="replace")
    assert key not in text and TOKEN not in text and ROUTER_KEY not in text


def test_non_root_setup_leaves_a_real_hermes_gateway_and_files_the_user_owns(
    local_engine: LocalEngine, hermes_image: str, router: OpenAIRouter, nobody_dir: Path
) -> None:
    """``setup`` as user nobody (in the docker group, as a user would be) with the image
    holding the real Hermes: the image chowns the profile to HERMES_UID, which is nobody."""



    socket_gid = os.stat(local_engine.socket_path).st_gid
    as_nobody = ["setpriv", f"--reuid={NOBODY}", "--regid=nogroup", f"--groups={socket_gid}"]
    data = nobody_dir / "data"
    state_dir = Path(local_engine.socket_path).parent
    mode = state_dir.stat().st_mode & 0o7777
    state_dir.chmod(0o711)  # the socket's folder: passable, as /var/run is for a user
    try:
        done = run_setup(local_engine, data, router, image=hermes_image, user=as_nobody,
                         env=setup_env(nobody_dir / "home"))
        report = f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
        assert done.returncode == 0, report
        assert "(hermes-agent 0.19.0)" in done.stdout, report

        profile = data / "profiles" / "bot"
        values = read_env(profile / ".env")
        port, key = int(values["API_SERVER_PORT"]), values["API_SERVER_KEY"]
        assert key not in done.stdout + done.stderr
        chat_through_the_gateway(port, key, router)

        # Hermes ran as nobody: what it wrote and what the wizard wrote stay nobody's.
        for entry in [profile, *profile.iterdir()]:
            assert entry.lstat().st_uid == NOBODY, f"{entry} is uid {entry.lstat().st_uid}'s"
        reread = subprocess.run(
            [*as_nobody, "cat", str(profile / ".env"), str(profile / "config.yaml")],
            capture_output=True, text=True, timeout=30, check=False)
        assert reread.returncode == 0 and "API_SERVER_KEY=" in reread.stdout, reread.stderr
        again = run_setup(local_engine, data, router, image=hermes_image, user=as_nobody,
                          env=setup_env(nobody_dir / "home"))
        assert again.returncode == 0, f"stdout:\n{again.stdout}\nstderr:\n{again.stderr}"
        assert read_env(profile / ".env")["API_SERVER_KEY"] == key  # kept, not rotated
    finally:
        state_dir.chmod(mode)
        remove_bot_gateway(local_engine)
