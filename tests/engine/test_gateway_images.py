"""The gateway image's contracts, on the busybox stand-in and on an image with the real Hermes.

Both images run as the wizard runs the published one: default command (``gateway run``),
host networking, the profile bind-mounted at ``/opt/data``, and only HERMES_HOME, the
API_SERVER_* switches and HERMES_UID/HERMES_GID in the container's environment. Hermes
reads the profile's ``.env`` itself, so the API key lives only there. Running the same
assertions against the real Hermes keeps the stand-in honest; the chat test runs only on
the real one (the stand-in has no agent).

Containers are created directly with aiodocker on the session engine and removed in
``finally``; ports are picked free on loopback per test; every wait is bounded and fails
with the container's log.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiodocker
import aiohttp
import pytest

from tests.support.engine import (
    HERMES_DEFAULT_ID,
    HERMES_HOME,
    REFUSAL,
    STAND_IN_BANNER,
    USER_REFUSAL,
    LocalEngine,
)
from tests.support.openai_router import OpenAIRouter

HEALTH = {"status": "ok", "platform": "hermes-agent", "version": "0.19.0"}
API_KEY = "test-api-server-key-0123456789abcdef"
ROUTER_KEY = "sk-router-double-key-42"
ROUTER_KEY_ENV = "HERMES_CUSTOM_TESTROUTER_API_KEY"
MODEL = "tiny-1b"
#: Generous: the real gateway imports a large agent on a cold start (measured ~6-10 s).
START_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(params=["stand-in", "real"])
def image(request: pytest.FixtureRequest, local_engine: LocalEngine) -> str:
    """The busybox stand-in (``hermes-test:1``) or the real Hermes (``hermes-real``)."""
    if request.param == "real":
        return str(request.getfixturevalue("hermes_image"))
    return local_engine.image


@pytest.fixture
async def docker(local_engine: LocalEngine) -> AsyncIterator[aiodocker.Docker]:
    local_engine.start_registry()  # an earlier test may have stopped it
    local_engine.start_engine()  # … or killed the engine
    client = aiodocker.Docker(url=local_engine.docker_host)
    try:
        yield client
    finally:
        await client.close()


Run = Callable[..., Awaitable[aiodocker.containers.DockerContainer]]


@pytest.fixture
async def run(docker: aiodocker.Docker) -> AsyncIterator[Run]:
    """Create and start a container like the wizard does; all are removed afterwards."""
    created: list[aiodocker.containers.DockerContainer] = []

    async def start(
        image: str,
        profile: Path,
        *,
        env: dict[str, str] | None = None,
        user: str | None = None,
        cmd: list[str] | None = None,
    ) -> aiodocker.containers.DockerContainer:
        await docker.images.pull(image)  # cold the first time, as in production
        config: dict[str, Any] = {
            "Image": image,
            "Env": [f"{key}={value}" for key, value in (env or {}).items()],
            "HostConfig": {"NetworkMode": "host", "Binds": [f"{profile}:{HERMES_HOME}:rw"]},
        }
        if user is not None:
            config["User"] = user
        if cmd is not None:
            config["Cmd"] = cmd
        container = await docker.containers.create(config, name=f"hgi-{uuid.uuid4().hex[:10]}")
        created.append(container)
        await container.start()
        return container

    try:
        yield start
    finally:
        for container in created:
            await container.delete(force=True, v=True)


def make_profile(tmp_path: Path, env_lines: list[str], config: str | None = None) -> Path:
    """A profile folder as the wizard leaves it: ``.env`` (0600) and maybe config.yaml."""
    folder = tmp_path / "profile"
    folder.mkdir()
    env_file = folder / ".env"
    env_file.write_text("# written by the test\n" + "\n".join(env_lines) + "\n")
    env_file.chmod(0o600)
    if config is not None:
        (folder / "config.yaml").write_text(config)
    return folder


def gateway_env(port: int, **extra: str) -> dict[str, str]:
    """The container environment the wizard gives the gateway: no secrets."""
    return {"HERMES_HOME": HERMES_HOME, "API_SERVER_ENABLED": "true",
            "API_SERVER_HOST": "127.0.0.1", "API_SERVER_PORT": str(port), **extra}


async def logs(container: aiodocker.containers.DockerContainer) -> str:
    return "".join(await container.log(stdout=True, stderr=True))


async def running(container: aiodocker.containers.DockerContainer) -> bool:
    return bool((await container.show())["State"]["Running"])


async def health(port: int) -> tuple[int, bytes] | None:
    """``GET /health`` → (status, body), or None when nothing answers."""
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session, \
                session.get(f"http://127.0.0.1:{port}/health") as response:
            return response.status, await response.read()
    except (aiohttp.ClientError, OSError, TimeoutError):
        return None


async def wait_for(
    container: aiodocker.containers.DockerContainer,
    what: str,
    check: Callable[[], Awaitable[Any]],
    timeout: float = START_TIMEOUT,
) -> Any:
    """Poll ``check`` until it returns something truthy; fail with the log otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if not await running(container):
            state = (await container.show())["State"]
            pytest.fail(f"the container exited ({state['ExitCode']}) before {what}; "
                        f"log:\n{await logs(container)}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} after {timeout:.0f} s; log:\n{await logs(container)}")
        await asyncio.sleep(0.2)


async def wait_for_log(container: aiodocker.containers.DockerContainer, text: str) -> str:
    async def seen() -> str | None:
        out = await logs(container)
        return out if text in out else None

    return await wait_for(container, f"log line containing {text!r}", seen)


async def wait_for_health(container: aiodocker.containers.DockerContainer, port: int) -> Any:
    began = time.monotonic()
    status, body = await wait_for(container, f"answer on /health (port {port})",
                                  lambda: health(port))
    print(f"/health answered {status} after {time.monotonic() - began:.1f} s")
    assert status == 200, body
    return json.loads(body)


async def wait_for_exit(container: aiodocker.containers.DockerContainer,
                        timeout: float = 60) -> int:
    try:
        result = await asyncio.wait_for(container.wait(), timeout)
    except TimeoutError:
        pytest.fail(f"still running after {timeout:.0f} s; log:\n{await logs(container)}")
    return int(result["StatusCode"])


# --------------------------------------------------------------------------------------------
# The API server's key requirement and /health
# --------------------------------------------------------------------------------------------


async def test_without_api_key_the_gateway_keeps_running_refuses_the_api_and_health_never_answers(
    image: str, run: Run, tmp_path: Path
) -> None:
    port = free_port()
    profile = make_profile(tmp_path, ["API_SERVER_ENABLED=true", f"API_SERVER_PORT={port}"])
    container = await run(image, profile, env=gateway_env(port))

    out = await wait_for_log(container, REFUSAL)
    assert "including loopback-only binds" in out
    # The refusal is final: the process lives on, and nothing ever listens on the port.
    assert await running(container), out
    assert await health(port) is None
    assert await running(container)


async def test_with_api_key_in_env_file_health_answers_as_hermes_agent(
    image: str, run: Run, tmp_path: Path, local_engine: LocalEngine
) -> None:
    port = free_port()
    profile = make_profile(tmp_path, ["API_SERVER_ENABLED=true", f"API_SERVER_PORT={port}",
                                      f'API_SERVER_KEY="{API_KEY}"'])
    container = await run(image, profile, env=gateway_env(port))

    assert await wait_for_health(container, port) == HEALTH
    out = await logs(container)
    assert API_KEY not in out
    assert (STAND_IN_BANNER in out) == (image == local_engine.image)


async def test_env_file_values_beat_the_container_environment(
    image: str, run: Run, tmp_path: Path
) -> None:
    env_port, file_port = free_port(), free_port()
    profile = make_profile(tmp_path, ["API_SERVER_ENABLED=true", f"API_SERVER_PORT={file_port}",
                                      f"API_SERVER_KEY={API_KEY}"])
    container = await run(image, profile, env=gateway_env(env_port, API_SERVER_KEY=""))

    assert await wait_for_health(container, file_port) == HEALTH
    assert await health(env_port) is None


# --------------------------------------------------------------------------------------------
# Start-up as root, the hermes user and ownership of /opt/data
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ids", "expected"),
    [({"HERMES_UID": "1234", "HERMES_GID": "1234"}, (1234, 1234)),
     ({}, (HERMES_DEFAULT_ID, HERMES_DEFAULT_ID)),
     ({"HERMES_UID": "0", "HERMES_GID": "nope"}, (HERMES_DEFAULT_ID, HERMES_DEFAULT_ID))],
    ids=["hermes-uid-1234", "default-10000", "invalid-ids-10000"],
)
async def test_profile_folder_and_top_level_files_go_to_the_hermes_user(
    image: str, run: Run, tmp_path: Path, ids: dict[str, str], expected: tuple[int, int]
) -> None:
    port = free_port()
    profile = make_profile(
        tmp_path, ["API_SERVER_ENABLED=true", f"API_SERVER_PORT={port}",
                   f"API_SERVER_KEY={API_KEY}"],
        config="model:\n  default: tiny-1b\n",
    )
    (profile / "SOUL.md").write_text("be kind\n")
    (profile / "SOUL.md").chmod(0o444)  # read-only seeds get owner rw
    (profile / "sessions").mkdir()
    (profile / "sessions" / "old.json").write_text("{}")
    (profile / "mine").mkdir()  # not Hermes's: keeps its owner
    (profile / "mine" / "notes.txt").write_text("x")

    before = set(profile.rglob("*"))
    container = await run(image, profile, env=gateway_env(port, **ids))
    await wait_for_health(container, port)  # also: Hermes as that user read the 0600 .env

    def owner(path: Path) -> tuple[int, int] | None:
        try:
            st = path.lstat()
        except FileNotFoundError:  # a lock or temp file the gateway just removed
            return None
        return st.st_uid, st.st_gid

    for path in (profile, profile / ".env", profile / "config.yaml", profile / "SOUL.md",
                 profile / "sessions", profile / "sessions" / "old.json"):
        assert owner(path) == expected, path
    assert (profile / ".env").stat().st_mode & 0o777 == 0o600
    assert (profile / "SOUL.md").stat().st_mode & 0o600 == 0o600
    assert owner(profile / "mine") == (0, 0)
    assert owner(profile / "mine" / "notes.txt") == (0, 0)
    # What the gateway writes itself belongs to that user as well.
    written = sorted(set(profile.rglob("*")) - before)
    assert all(owner(p) in (expected, None) for p in written), [(p, owner(p)) for p in written]
    print(f"{image}: the gateway wrote {sorted(str(p.relative_to(profile)) for p in written)}")


async def test_starting_with_user_is_refused_with_an_explanation(
    image: str, run: Run, tmp_path: Path
) -> None:
    port = free_port()
    profile = make_profile(tmp_path, ["API_SERVER_ENABLED=true", f"API_SERVER_PORT={port}",
                                      f"API_SERVER_KEY={API_KEY}"])
    before = {p.name: p.stat().st_uid for p in [profile, *profile.iterdir()]}
    container = await run(image, profile, env=gateway_env(port), user="1234:1234")

    code = await wait_for_exit(container)
    out = await logs(container)
    assert code != 0, out
    assert USER_REFUSAL in out and "HERMES_UID" in out, out
    assert {p.name: p.stat().st_uid for p in [profile, *profile.iterdir()]} == before


async def test_a_command_that_is_not_a_hermes_subcommand_runs_as_the_hermes_user(
    image: str, run: Run, tmp_path: Path
) -> None:
    profile = make_profile(tmp_path, [])
    container = await run(image, profile, env={"HERMES_UID": "1234", "HERMES_GID": "1234"},
                          cmd=["sh", "-c", 'echo "ids $(id -u):$(id -g) home $HOME"; exit 3'])

    assert await wait_for_exit(container) == 3
    assert f"ids 1234:1234 home {HERMES_HOME}" in await logs(container)


# --------------------------------------------------------------------------------------------
# The real Hermes: a chat through the container's API reaches the router and comes back
# --------------------------------------------------------------------------------------------


@pytest.fixture
def router() -> AsyncIterator[OpenAIRouter]:
    server = OpenAIRouter(models=[MODEL, "big-70b"], api_key=ROUTER_KEY,
                          reply="Pong from the router double.").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
async def test_real_gateway_chat_reaches_the_router_and_returns_its_reply(
    hermes_image: str, run: Run, tmp_path: Path, router: OpenAIRouter, stream: bool
) -> None:
    port = free_port()
    config = (
        "model:\n"
        "  provider: custom:testrouter\n"
        f"  default: {MODEL}\n"
        "custom_providers:\n"
        "  - name: testrouter\n"
        f"    base_url: {router.url}\n"
        f"    key_env: {ROUTER_KEY_ENV}\n"
        "    api_mode: chat_completions\n"
    )
    profile = make_profile(
        tmp_path,
        ["API_SERVER_ENABLED=true", f"API_SERVER_PORT={port}", f"API_SERVER_KEY={API_KEY}",
         f"{ROUTER_KEY_ENV}={ROUTER_KEY}"],
        config=config,
    )
    container = await run(hermes_image, profile, env=gateway_env(port))
    await wait_for_health(container, port)

    body = {"model": "hermes-agent", "stream": stream,
            "messages": [{"role": "user", "content": "Say pong."}]}
    headers = {"Authorization": f"Bearer {API_KEY}"}
    began = time.monotonic()
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session, \
            session.post(url, json=body, headers=headers) as response:
        raw = await response.read()
        assert response.status == 200, raw
    print(f"chat round trip {time.monotonic() - began:.1f} s")
    text = raw.decode()
    if stream:
        assert text.rstrip().endswith("data: [DONE]"), text
        content = "".join(
            (json.loads(line[6:])["choices"] or [{}])[0].get("delta", {}).get("content") or ""
            for line in text.splitlines()
            if line.startswith("data: {")
        )
    else:
        content = json.loads(text)["choices"][0]["message"]["content"]
    assert content == router.reply, text

    calls = router.completions()
    assert calls, f"nothing reached the router; it saw {router.requests}"
    assert all(call.model == MODEL for call in calls), [c.model for c in calls]
    assert any("Say pong." in json.dumps(call.messages) for call in calls)
    assert all("Authorization" not in call.headers for call in calls)
    # Hermes also probes, without a key, paths other servers have (``/v1/props``,
    # ``/api/v1/models``: 404 here); the OpenAI routes all carried the key from key_env.
    openai_routes = [r for r in router.requests
                     if r.path in ("/v1/models", "/v1/chat/completions")]
    assert all(r.authorized for r in openai_routes), openai_routes
    print("router saw:", [(r.method, r.path, r.authorized) for r in router.requests],
          "stream:", [c.stream for c in calls])
