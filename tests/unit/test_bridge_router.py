"""list_models and discover against real HTTP servers on loopback (aiohttp.web, ephemeral ports).

Each server runs in the test's own event loop and speaks the OpenAI models API the way a
router would, or fails the way routers fail; nothing of ours is mocked.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
from aiohttp import web

from hermes_tui.bridge.router import (
    MAX_BODY,
    Discovered,
    Model,
    RouterError,
    RouterErrorKind,
    discover,
    list_models,
)
from tests.support.openai_router import OpenAIRouter, many_models

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

OLLAMA_LIST = {
    "object": "list",
    "data": [
        {"id": "llama3.1:8b", "object": "model", "created": 1, "owned_by": "library"},
        {"id": "qwen2.5:7b", "object": "model", "created": 2, "owned_by": "library"},
    ],
}


class Servers:
    """Start aiohttp apps on 127.0.0.1:<ephemeral>; all stopped at teardown."""

    def __init__(self) -> None:
        self.runners: list[web.AppRunner] = []
        self.release = asyncio.Event()  # lets a deliberately slow handler finish at teardown

    async def start(self, handler: Handler, path: str = "/v1/models") -> int:
        app = web.Application()
        app.router.add_get(path, handler)
        runner = web.AppRunner(app, shutdown_timeout=1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.runners.append(runner)
        return runner.addresses[0][1]

    async def url(self, handler: Handler) -> str:
        return f"http://127.0.0.1:{await self.start(handler)}/v1"

    async def close(self) -> None:
        self.release.set()
        for runner in self.runners:
            await runner.cleanup()


@pytest.fixture
async def servers() -> AsyncIterator[Servers]:
    running = Servers()
    try:
        yield running
    finally:
        await running.close()


def json_answer(body: object, status: int = 200) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response(body, status=status)

    return handler


def text_answer(text: str, content_type: str = "text/html", status: int = 200) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=text, content_type=content_type, status=status)

    return handler


def closed_port() -> int:
    """A loopback port that was just bound and released: nothing listens there."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_models_are_listed_in_the_routers_order(servers):
    url = await servers.url(json_answer(OLLAMA_LIST))
    assert await list_models(url) == [
        Model("llama3.1:8b", "library"),
        Model("qwen2.5:7b", "library"),
    ]


async def test_duplicate_ids_are_listed_once_and_object_may_be_missing(servers):
    body = {"data": [{"id": "b"}, {"id": "a", "owned_by": ""}, {"id": "b", "owned_by": "x"}]}
    url = await servers.url(json_answer(body))
    assert await list_models(url) == [Model("b"), Model("a")]


async def test_no_models_loaded_is_an_empty_list_not_an_error(servers):
    url = await servers.url(json_answer({"object": "list", "data": []}))
    assert await list_models(url) == []


async def test_typed_host_and_port_reach_v1_models(servers):
    port = await servers.start(json_answer(OLLAMA_LIST))
    models = await list_models(f"127.0.0.1:{port}")
    assert [m.id for m in models] == ["llama3.1:8b", "qwen2.5:7b"]


async def test_slow_router_times_out_naming_the_url(servers):
    async def slow(request: web.Request) -> web.Response:
        await servers.release.wait()
        return web.json_response(OLLAMA_LIST)

    url = await servers.url(slow)
    with pytest.raises(RouterError) as caught:
        await list_models(url, timeout=0.3)
    assert caught.value.kind is RouterErrorKind.TIMEOUT
    assert f"{url}/models did not answer within 0.3 s" in caught.value.message


def bearer_only(key: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {key}":
            return web.json_response({"error": "unauthorized"}, status=401)
        return web.json_response(OLLAMA_LIST)

    return handler


async def test_router_without_a_key_asks_for_one_stored_in_env(servers):
    url = await servers.url(bearer_only("sk-local-123"))
    with pytest.raises(RouterError) as caught:
        await list_models(url)
    error = caught.value
    assert error.kind is RouterErrorKind.UNAUTHORIZED
    assert error.status == 401
    assert error.message == f"{url}/models needs an API key (HTTP 401)."
    assert "enter it below" in error.fix and ".env" in error.fix
    assert "never in the progress file" in error.fix


async def test_wrong_key_is_refused_and_the_right_key_lists_models(servers):
    url = await servers.url(bearer_only("sk-local-123"))
    with pytest.raises(RouterError) as caught:
        await list_models(url, api_key="sk-wrong")
    assert caught.value.kind is RouterErrorKind.UNAUTHORIZED
    assert "refused the API key" in caught.value.message
    assert "sk-wrong" not in str(caught.value)
    models = await list_models(url, api_key="sk-local-123")
    assert [m.id for m in models] == ["llama3.1:8b", "qwen2.5:7b"]


async def test_forbidden_counts_as_needing_a_key(servers):
    url = await servers.url(json_answer({"error": "forbidden"}, status=403))
    with pytest.raises(RouterError) as caught:
        await list_models(url)
    assert caught.value.kind is RouterErrorKind.UNAUTHORIZED
    assert caught.value.status == 403


@pytest.mark.parametrize(
    ("handler", "said"),
    [
        (text_answer("<!doctype html><html><body>Open WebUI</body></html>"), "web page"),
        (text_answer("OK", content_type="text/plain"), "not JSON"),
        (json_answer([{"id": "a"}]), "JSON list"),
        (json_answer({"object": "model", "id": "a"}), "object='model'"),
        (json_answer({"models": [{"name": "llama3"}]}), '"data" list'),
        (json_answer({"object": "list", "data": [{"name": "llama3"}]}), 'entry 0 has no string "id"'),
        (json_answer({"object": "list", "data": ["llama3"]}), 'entry 0 has no string "id"'),
        (json_answer({"object": "list", "data": [{"id": 7}]}), 'entry 0 has no string "id"'),
    ],
    ids=["html", "text", "json-list", "wrong-object", "no-data", "no-id", "bare-ids", "int-id"],
)
async def test_answers_not_shaped_like_the_openai_list_are_named(servers, handler, said):
    url = await servers.url(handler)
    with pytest.raises(RouterError) as caught:
        await list_models(url)
    assert caught.value.kind is RouterErrorKind.NOT_OPENAI
    assert caught.value.message.startswith(f"{url}/models ")
    assert said in caught.value.message


async def test_server_error_is_an_http_error_with_its_status(servers):
    url = await servers.url(json_answer({"error": "boom"}, status=500))
    with pytest.raises(RouterError) as caught:
        await list_models(url)
    assert caught.value.kind is RouterErrorKind.HTTP
    assert caught.value.status == 500
    assert caught.value.message == f"{url}/models answered HTTP 500 Internal Server Error."
    assert "log" in caught.value.fix


async def test_wrong_path_is_a_404_pointing_at_the_api_root(servers):
    port = await servers.start(json_answer(OLLAMA_LIST), path="/api/tags")
    with pytest.raises(RouterError) as caught:
        await list_models(f"http://127.0.0.1:{port}")
    assert caught.value.kind is RouterErrorKind.HTTP
    assert caught.value.status == 404
    assert "/v1" in caught.value.fix and "adds /models" in caught.value.fix


async def test_nothing_listening_is_unreachable_with_the_start_fix():
    port = closed_port()
    with pytest.raises(RouterError) as caught:
        await list_models(f"http://127.0.0.1:{port}/v1")
    error = caught.value
    assert error.kind is RouterErrorKind.UNREACHABLE
    assert error.message == (
        f"Nothing is listening at 127.0.0.1:{port} (http://127.0.0.1:{port}/v1/models)."
    )
    assert error.fix == "Start your router (e.g. `ollama serve`) or correct the URL"


async def test_a_port_that_does_not_speak_http_is_not_openai():
    async def banner(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(banner, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(RouterError) as caught:
            await list_models(f"http://127.0.0.1:{port}/v1", timeout=2)
    finally:
        server.close()
        await server.wait_closed()
    assert caught.value.kind is RouterErrorKind.NOT_OPENAI
    assert "did not answer in HTTP" in caught.value.message


async def test_invalid_url_fails_before_any_request():
    with pytest.raises(RouterError) as caught:
        await list_models("ftp://127.0.0.1/v1")
    assert caught.value.kind is RouterErrorKind.INVALID_URL


async def test_discover_returns_openai_routers_and_keyed_ones_in_port_order(servers):
    async def slow(request: web.Request) -> web.Response:
        await servers.release.wait()
        return web.json_response(OLLAMA_LIST)

    empty = await servers.start(json_answer({"object": "list", "data": []}))
    keyed = await servers.start(bearer_only("sk-x"))
    html = await servers.start(text_answer("<html>dashboard</html>"))
    stuck = await servers.start(slow)
    ollama = await servers.start(json_answer(OLLAMA_LIST))
    nothing = closed_port()

    found = await discover(ports=[nothing, ollama, html, keyed, stuck, empty], timeout=0.5)

    assert found == [
        Discovered(f"http://127.0.0.1:{ollama}/v1", models=("llama3.1:8b", "qwen2.5:7b")),
        Discovered(f"http://127.0.0.1:{keyed}/v1", needs_key=True),
        Discovered(f"http://127.0.0.1:{empty}/v1"),
    ]


async def test_discover_finds_nothing_when_nothing_listens():
    assert await discover(ports=[closed_port(), closed_port()], timeout=0.5) == []


# --- long answers ---------------------------------------------------------------------------


@pytest.fixture
def big_router() -> Iterator[OpenAIRouter]:
    server = OpenAIRouter().start()
    yield server
    server.stop()


@pytest.mark.parametrize("chunked", [None, 4096], ids=["sized", "chunked"])
async def test_a_list_of_50000_models_is_read_whole(big_router, chunked):
    big_router.models = many_models(50_000)
    big_router.chunked = chunked
    models = await list_models(big_router.url)
    assert [m.id for m in models] == big_router.models


@pytest.mark.parametrize("chunked", [None, 65536], ids=["sized", "chunked"])
async def test_a_list_over_the_limit_is_refused_saying_the_limit(big_router, chunked):
    big_router.models = many_models(MAX_BODY // 60)  # ~70 bytes an entry: over 8 MiB
    big_router.chunked = chunked
    with pytest.raises(RouterError) as caught:
        await list_models(big_router.url)
    error = caught.value
    assert error.kind is RouterErrorKind.TOO_LARGE
    assert error.message.startswith(f"{big_router.url}/models answered a models list of ")
    assert "8 MiB (8,388,608 bytes" in error.message
    assert "not JSON" not in error.message and "API root" in error.fix
    if chunked is None:  # the router said its size: it is named, and nothing was read
        assert re.search(r"of [\d,]+ bytes, more than the 8 MiB", error.message)


async def test_json_nested_beyond_what_json_reads_is_not_a_models_list(servers):
    async def deep(request: web.Request) -> web.Response:
        return web.Response(text="[" * 100_000 + "]" * 100_000, content_type="application/json")

    url = await servers.url(deep)
    with pytest.raises(RouterError) as caught:
        await list_models(url)
    assert caught.value.kind is RouterErrorKind.NOT_OPENAI
    assert "nested too deeply" in caught.value.message
