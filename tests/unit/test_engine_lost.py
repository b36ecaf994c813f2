"""An engine that goes away mid-conversation is a problem with a fix, not an unexpected error.

Against the scripted Engine API double (HTTP over a real unix socket): it stops while a pull
stream is open, as a dockerd that is stopped or crashes does; and a socket that is not there
at all. An answer the engine does give (404) stays the caller's to handle inside; one
nobody handled becomes a problem carrying the engine's words.
"""

from __future__ import annotations

import asyncio

import pytest
from aiodocker.exceptions import DockerError

from hermes_tui.engine.detect import EngineInfo, Product
from hermes_tui.engine.gateway import GatewayError
from hermes_tui.engine.launch import EngineLost, engine_client
from tests.support.fake_engine import FakeEngine, cold_pull_events


def info(url: str) -> EngineInfo:
    return EngineInfo(product=Product.DOCKER, version="20.10.24", api_version="1.41",
                      os="linux", arch="amd64", url=url, source="--docker-host")


async def test_an_engine_that_stops_mid_stream_is_reported_as_lost_with_the_fix(socket_dir):
    engine = FakeEngine(socket_dir / "docker.sock", pull_events=cold_pull_events(), hang=True)
    engine.start()
    target = info(engine.url)
    try:
        with pytest.raises(EngineLost) as caught:
            async with engine_client(target) as docker:
                stream = docker.images.pull("example/hermes:1", stream=True)
                async for _event in stream:
                    # The first events are in: the engine goes away under the stream.
                    await asyncio.to_thread(engine.crash)
    finally:
        engine.stop()
    problem = caught.value.problem
    assert "Payload" in type(caught.value.__cause__).__name__  # the cut stream itself
    assert problem.what.startswith(f"The container engine at {target.url} stopped answering")
    assert "Start the engine again" in problem.fix and "press r" in problem.fix
    assert problem.subject == target.url


async def test_a_missing_socket_is_reported_as_lost(socket_dir):
    target = info(f"unix://{socket_dir}/nothing-here.sock")
    with pytest.raises(EngineLost):
        async with engine_client(target) as docker:
            await docker.version()


async def test_an_answer_the_engine_gives_is_not_called_lost(socket_dir):
    engine = FakeEngine(socket_dir / "docker.sock").start()
    target = info(engine.url)
    try:
        # Handled inside the block (as gateway code handles its 404s and 409s): untouched.
        async with engine_client(target) as docker:
            with pytest.raises(DockerError) as inside:
                await docker.images.inspect("example/missing:1")
        # Not handled: the engine's own words as a problem with what to check, not lost.
        with pytest.raises(GatewayError) as caught:
            async with engine_client(target) as docker:
                await docker.images.inspect("example/missing:1")
    finally:
        engine.stop()
    assert inside.value.status == 404
    assert not isinstance(caught.value, EngineLost)
    problem = caught.value.problem
    assert problem.what.startswith(f"The container engine at {target.url} refused a request "
                                   "(HTTP 404)")
    assert "docker info" in problem.fix
