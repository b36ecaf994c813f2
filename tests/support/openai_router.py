"""A real HTTP server on loopback speaking the OpenAI API, standing in for an LLM router.

It answers what an OpenAI-compatible router (LiteLLM, Ollama, vLLM, OpenRouter …) does for
the calls Hermes and the bridge make:

- ``GET /v1/models``: the `models` list in the OpenAI shape;
- ``POST /v1/chat/completions``: `reply` as one plain JSON completion, or, with
  ``"stream": true``, as Server-Sent Events chunks ending with ``data: [DONE]``.

A router may serve tens of thousands of models (``many_models`` makes such a list), and
may send the list as one sized body or, with `chunked`, in small pieces with chunked
transfer encoding and no Content-Length, as a streaming proxy does.

With `api_key` set, both need ``Authorization: Bearer <key>`` (401 otherwise, in the
OpenAI error shape). Every request, to any path, is recorded in `requests` (model,
messages, stream flag, headers without credentials) so a test can assert what reached the
router. It runs in its own thread (so both Pilot tests and snapshot runs, which own their
event loop, can use it); tests change what it serves while it runs.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

#: Headers never recorded: they carry credentials.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "api-key", "x-api-key",
                            "cookie"})


@dataclass(frozen=True)
class RouterRequest:
    """One request the router received (credentials left out)."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None = None
    #: False when the Bearer key was missing or wrong (the request got 401).
    authorized: bool = True

    @property
    def model(self) -> str | None:
        return (self.body or {}).get("model")

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list((self.body or {}).get("messages") or [])

    @property
    def stream(self) -> bool:
        return bool((self.body or {}).get("stream"))


def many_models(count: int) -> list[str]:
    """``count`` distinct model ids shaped like a large router's (vendor/name:tag)."""
    return [f"vendor-{i // 1000:02d}/model-{i:05d}:q4_K_M" for i in range(count)]


@dataclass
class OpenAIRouter:
    models: list[str] = field(default_factory=list)
    #: When set, requests without ``Authorization: Bearer <key>`` get 401.
    api_key: str | None = None
    port: int = 0
    #: The assistant text every chat completion answers with.
    reply: str = "Hello from the router double."
    #: Send ``/v1/models`` in pieces of this many bytes, chunked, without Content-Length.
    chunked: int | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _runner: web.AppRunner | None = None
    _thread: threading.Thread | None = None
    _requests: list[RouterRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests(self) -> list[RouterRequest]:
        """Every request so far, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    def completions(self) -> list[RouterRequest]:
        """The authorized ``POST /v1/chat/completions`` requests so far."""
        return [r for r in self.requests
                if r.path == "/v1/chat/completions" and r.method == "POST" and r.authorized]

    def start(self) -> OpenAIRouter:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def serve() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._start())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=serve, name="openai-router", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the router did not start")
        return self

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    def _authorized(self, request: web.Request) -> bool:
        return not self.api_key or (
            request.headers.get("Authorization") == f"Bearer {self.api_key}"
        )

    def _record(self, request: web.Request, body: dict[str, Any] | None, ok: bool) -> None:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in SECRET_HEADERS}
        entry = RouterRequest(request.method, request.path, headers, body, ok)
        with self._lock:
            self._requests.append(entry)

    @staticmethod
    def _denied() -> web.Response:
        error = {"message": "invalid api key", "type": "invalid_request_error",
                 "code": "invalid_api_key"}
        return web.json_response({"error": error}, status=401)

    async def _models(self, request: web.Request) -> web.StreamResponse:
        ok = self._authorized(request)
        self._record(request, None, ok)
        if not ok:
            return self._denied()
        data = [{"id": m, "object": "model", "owned_by": "library"} for m in self.models]
        if self.chunked is None:
            return web.json_response({"object": "list", "data": data})
        body = json.dumps({"object": "list", "data": data}).encode()
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for start in range(0, len(body), self.chunked):
                await response.write(body[start:start + self.chunked])
            await response.write_eof()
        except ConnectionResetError:  # the client stopped reading (a list over its limit)
            pass
        return response

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        ok = self._authorized(request)
        self._record(request, body if isinstance(body, dict) else None, ok)
        if not ok:
            return self._denied()
        if not isinstance(body, dict) or not body.get("messages"):
            error = {"message": "messages is required", "type": "invalid_request_error"}
            return web.json_response({"error": error}, status=400)
        model = str(body.get("model") or (self.models[0] if self.models else "unknown"))
        created = int(time.time())
        ident = f"chatcmpl-double-{len(self.requests)}"
        usage = {"prompt_tokens": 12, "completion_tokens": len(self.reply.split()),
                 "total_tokens": 12 + len(self.reply.split())}
        if not body.get("stream"):
            return web.json_response({
                "id": ident, "object": "chat.completion", "created": created, "model": model,
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": self.reply}}],
                "usage": usage,
            })

        response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                               "Cache-Control": "no-cache"})
        await response.prepare(request)

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {"id": ident, "object": "chat.completion.chunk", "created": created,
                    "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        words = self.reply.split(" ")
        pieces = [w if i == 0 else f" {w}" for i, w in enumerate(words)]
        events = [chunk({"role": "assistant", "content": ""})]
        events += [chunk({"content": piece}) for piece in pieces]
        final = chunk({}, "stop")
        if (body.get("stream_options") or {}).get("include_usage"):
            final["usage"] = usage
        events.append(final)
        for event in events:
            await response.write(f"data: {json.dumps(event)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def _unknown(self, request: web.Request) -> web.Response:
        self._record(request, None, self._authorized(request))
        return web.json_response({"error": {"message": f"no route {request.path}"}},
                                 status=404)

    def stop(self) -> None:
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self._loop = None
