"""A scripted Docker Engine API double over a real unix socket, for deterministic screens.

Behaviour tests use the real dockerd (tests/support/engine.py). Snapshots cannot: a real
pull's timing, digests and socket paths change every run. This double speaks the same HTTP
protocol over a unix socket at a fixed path (aiodocker talks to it exactly as to dockerd)
and replays a fixed event stream, optionally stopping mid-pull so a screen can be pinned
while layers are in flight.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

VERSION = {
    "Version": "20.10.24",
    "ApiVersion": "1.41",
    "MinAPIVersion": "1.12",
    "Os": "linux",
    "Arch": "amd64",
    "KernelVersion": "6.1.0",
    "Components": [{"Name": "Engine", "Version": "20.10.24", "Details": {}}],
    "Platform": {"Name": "Docker Engine - Community"},
}


def cold_pull_events(layers: int = 4, size: int = 6_293_570, done: int = 2) -> list[dict[str, Any]]:
    """A dockerd-shaped stream: ``done`` layers complete, one mid-download, the rest waiting."""
    ids = [f"{n:x}" * 12 for n in range(10, 10 + layers)]
    ids = [i[:12] for i in ids]
    events: list[dict[str, Any]] = [{"status": "Pulling from hermes-agent", "id": "v2026.9.24"}]
    events += [{"status": "Pulling fs layer", "progressDetail": {}, "id": i} for i in ids]
    for i in ids[:done]:
        events += [
            {"status": "Downloading", "progressDetail": {"current": size, "total": size}, "id": i},
            {"status": "Verifying Checksum", "progressDetail": {}, "id": i},
            {"status": "Download complete", "progressDetail": {}, "id": i},
            {"status": "Extracting", "progressDetail": {"current": size, "total": size}, "id": i},
            {"status": "Pull complete", "progressDetail": {}, "id": i},
        ]
    if done < layers:
        events.append({"status": "Downloading",
                       "progressDetail": {"current": size // 3, "total": size}, "id": ids[done]})
    for i in ids[done + 1:]:
        events.append({"status": "Waiting", "progressDetail": {}, "id": i})
    return events


FINISH = [
    {"status": "Digest: sha256:" + "5e" * 32},
    {"status": "Status: Downloaded newer image for nousresearch/hermes-agent:v2026.9.24"},
]


def gateway_container(profile: str, state: str, exit_code: int = 0) -> dict[str, Any]:
    """A gateway container of ``profile`` as the wizard labels it, in ``state``."""
    return {
        "Id": f"{profile}-id".ljust(64, "0"),
        "Name": f"/hermes-{profile}",
        "RestartCount": 0,
        "State": {"Status": state, "Running": state == "running", "Restarting": False,
                  "ExitCode": exit_code, "StartedAt": "2026-11-27T09:00:00.000000000Z"},
        "Config": {"Labels": {"io.hermes-tui": "1", "io.hermes-tui.profile": profile}},
    }


@dataclass
class FakeEngine:
    """Serve the Engine API subset the wizard uses on ``socket_path`` until ``stop()``."""

    socket_path: Path
    pull_events: Sequence[dict[str, Any]] = ()
    #: Keep the pull request open after the events (a pull in flight).
    hang: bool = False
    #: Answer the pull with this HTTP status and message instead of a stream.
    pull_error: tuple[int, str] | None = None
    version: dict[str, Any] = field(default_factory=lambda: dict(VERSION))
    #: Containers as ``GET /containers/{id}/json`` describes them (see `gateway_container`):
    #: listed, inspected by id or name; none can be created, and none sends logs or stats.
    containers: Sequence[dict[str, Any]] = ()
    #: Every request answered, in order, as "METHOD /path" (without the /v1.NN prefix).
    requests: list[str] = field(default_factory=list)
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _runner: web.AppRunner | None = None
    _crashed: bool = False

    def crash(self) -> None:
        """Stop as a crashing engine does: open streams are cut, not ended."""
        self._crashed = True
        self.stop()

    def start(self) -> FakeEngine:
        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        self.socket_path.unlink(missing_ok=True)
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def serve() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._start_site())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=serve, name="fake-engine", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake engine did not start")
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._closing.set)
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self._loop = None
        self.socket_path.unlink(missing_ok=True)

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    async def _start_site(self) -> None:
        self._closing = asyncio.Event()

        @web.middleware
        async def log(request: web.Request, handler: Any) -> web.StreamResponse:
            path = re.sub(r"^/v1\.\d+", "", request.path)
            self.requests.append(f"{request.method} {path}")
            return await handler(request)

        app = web.Application(middlewares=[log])
        routes = [
            ("GET", "/_ping", self._ping),
            ("GET", "/version", self._version),
            ("POST", "/images/create", self._pull),
            ("GET", "/images/{name:.+}/json", self._inspect),
            # No containers, and none can be made: the gateway step fails as on an engine
            # that refuses (dockerd answers 500 with a message).
            ("GET", "/containers/json", self._list_containers),
            ("GET", "/containers/{name}/json", self._inspect_container),
            ("POST", "/containers/create", self._refuse_create),
            # Nothing happens on this engine: the stream stays open, silent, until it stops.
            ("GET", "/events", self._events),
        ]
        for method, path, handler in routes:
            # aiodocker sends /v1.NN/<path>; the CLI and curl may send the bare path.
            app.router.add_route(method, path, handler)
            app.router.add_route(method, r"/{api:v1\.\d+}" + path, handler)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.UnixSite(self._runner, str(self.socket_path)).start()

    async def _ping(self, request: web.Request) -> web.Response:
        return web.Response(text="OK", headers={"Api-Version": self.version["ApiVersion"]})

    async def _version(self, request: web.Request) -> web.Response:
        return web.json_response(self.version)

    async def _pull(self, request: web.Request) -> web.StreamResponse:
        if self.pull_error:
            status, message = self.pull_error
            return web.json_response({"message": message}, status=status)
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        for event in self.pull_events:
            await response.write((json.dumps(event) + "\r\n").encode())
        if self.hang:
            await self._closing.wait()  # a pull in flight, until the double stops
            if self._crashed and request.transport is not None:
                request.transport.abort()  # no last chunk: the client sees a cut stream
            return response  # the client is gone by now: nothing more to say
        await response.write_eof()
        return response

    async def _inspect(self, request: web.Request) -> web.Response:
        return web.json_response({"message": "No such image"}, status=404)

    def _find(self, name: str) -> dict[str, Any] | None:
        for data in self.containers:
            if name in (data["Id"], data["Name"].lstrip("/")):
                return data
        return None

    async def _list_containers(self, request: web.Request) -> web.Response:
        wanted = json.loads(request.query.get("filters", "{}")).get("label", [])
        listed = []
        for data in self.containers:
            labels = data["Config"]["Labels"]
            if all(labels.get(k) == v for k, _, v in (f.partition("=") for f in wanted)):
                listed.append({"Id": data["Id"], "Names": [data["Name"]], "Labels": labels,
                               "State": data["State"]["Status"]})
        return web.json_response(listed)

    async def _inspect_container(self, request: web.Request) -> web.Response:
        data = self._find(request.match_info["name"])
        if data is None:
            return web.json_response(
                {"message": f"No such container: {request.match_info['name']}"}, status=404)
        return web.json_response(data)

    async def _events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        await self._closing.wait()
        return response

    async def _refuse_create(self, request: web.Request) -> web.Response:
        return web.json_response({"message": "this test engine runs no containers"}, status=500)
