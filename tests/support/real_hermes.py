"""What the real-Hermes tests share: the router double they talk to, how they run
``hermes-tui setup --non-interactive``, and how they ask a gateway's API.

The oracle itself is hermes-agent 0.19.0 (tests/support/hermes.py, hermes_image.py); these
helpers drive the wizard against it the way a user's shell would: a fresh HOME, no
DOCKER_/HERMES_/OPENAI_ variables from this machine, the router key in the environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.openai_router import OpenAIRouter

ROUTER_KEY = "router-secret-key-123"
MODELS = ["tiny-1b", "big-70b"]
REPLY = "Hello from the router double."
#: The real gateway imports a lot: give it time on a busy 2-core machine, fail loudly after.
HEALTH_WAIT = 180.0


def router_double() -> OpenAIRouter:
    """A started router double serving `MODELS` behind `ROUTER_KEY`; the caller stops it."""
    return OpenAIRouter(models=list(MODELS), api_key=ROUTER_KEY, reply=REPLY).start()


def setup_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DOCKER_", "HERMES_", "OPENAI_"))}
    env.update(HOME=str(home), NO_COLOR="1", TERM="dumb",
               HERMES_CUSTOM_HERMES_TUI_ROUTER_API_KEY=ROUTER_KEY, **extra)
    return env


def run_setup(
    docker_host: str, image: str, data: Path, router: OpenAIRouter, *extra: str,
    user: list[str] | None = None, env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``setup --non-interactive`` for profile ``bot`` on ``docker_host`` with ``image``, as
    ``user`` (a setpriv prefix) when given, waiting up to `HEALTH_WAIT` for its health."""
    argv = [*(user or []), sys.executable, "-m", "hermes_tui.cli", "setup", "--non-interactive",
            "--profile", "bot", "--router-url", router.url, "--default-model", "big-70b",
            "--data-dir", str(data), "--docker-host", docker_host, "--image", image,
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
    assert REPLY in answer["choices"][0]["message"]["content"], answer
    reached = router.completions()[before:]
    assert reached, "the chat completion never reached the router"
    assert {r.model for r in reached} == {"big-70b"}  # the profile's default model, bare
