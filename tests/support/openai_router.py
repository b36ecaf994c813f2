"""A real HTTP server on loopback speaking the OpenAI models API, for bridge tests.

It runs in its own thread (so both Pilot tests and snapshot runs, which own their event
loop, can use it); tests change what it serves while it runs.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class OpenAIRouter:
    models: list[str] = field(default_factory=list)
    #: When set, requests without ``Authorization: Bearer <key>`` get 401.
    api_key: str | None = None
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _runner: web.AppRunner | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

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
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def _models(self, request: web.Request) -> web.Response:
        if self.api_key and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.json_response({"error": {"message": "invalid api key"}}, status=401)
        data = [{"id": m, "object": "model", "owned_by": "library"} for m in self.models]
        return web.json_response({"object": "list", "data": data})

    def stop(self) -> None:
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self._loop = None
