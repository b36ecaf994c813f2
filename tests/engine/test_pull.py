"""Step 2's pull domain against a real dockerd and a real loopback registry.

Nothing here is mocked: ``pull_image`` talks to the harness's engine through aiodocker,
and every failure is produced for real (the registry process stopped, dockerd killed
with SIGKILL, a socket path with nothing behind it). Tests that must act *while* a
layer downloads pull through `ThrottledRegistry` (see conftest), which slows the
registry's bytes down so that the window lasts seconds instead of milliseconds.

Event counts and durations depend on timing: they are never asserted, only printed
(run with ``-s`` to see them).
"""

from __future__ import annotations

import asyncio
import http.client
import time
from collections.abc import AsyncIterator, Callable

import aiodocker
import pytest

from hermes_tui.engine.pull import (
    PROXY_HINT,
    LayerState,
    PullError,
    PullErrorKind,
    PullProgress,
    PullResult,
    pull_image,
)
from tests.engine.conftest import ThrottledRegistry
from tests.support.engine import LocalEngine

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"

#: dockerd retries a broken layer download 5 times, 5+10+15+20+25 s apart, and gives
#: up ~75 s after the registry went (measured). A layer still queued behind dockerd's
#: three concurrent downloads starts its own 75 s cycle only then (~150 s measured), so
#: the test waits until every layer has started; the bound leaves room on a slow machine.
RETRIES_GIVE_UP_WITHIN = 120.0


@pytest.fixture
async def docker(local_engine: LocalEngine) -> AsyncIterator[aiodocker.Docker]:
    client = aiodocker.Docker(url=local_engine.docker_host)
    try:
        yield client
    finally:
        await client.close()


def registry_digest(engine: LocalEngine, tag: str) -> str:
    """The manifest digest the registry itself reports for ``hermes-test:<tag>``."""
    host, _, port = engine.registry.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("GET", f"/v2/hermes-test/manifests/{tag}", headers={"Accept": MANIFEST_V2})
        response = conn.getresponse()
        response.read()
        assert response.status == 200
        digest = response.getheader("Docker-Content-Digest")
    finally:
        conn.close()
    assert digest and digest.startswith("sha256:")
    return digest


async def wait_for_model(
    progress: PullProgress, condition: Callable[[PullProgress], bool], *, limit: float = 30.0
) -> None:
    """Poll the model (as a screen would) until `condition` holds."""
    deadline = time.monotonic() + limit
    while not condition(progress):
        if time.monotonic() > deadline:
            states = {k: (v.state.value, v.downloaded) for k, v in progress.layers.items()}
            pytest.fail(f"the model never reached the expected state: {states}")
        await asyncio.sleep(0.02)


def downloading_with_bytes(progress: PullProgress) -> bool:
    """A layer is mid-download, well past the image configuration fetch."""
    return any(
        layer.state is LayerState.DOWNLOADING and layer.downloaded >= 256 * 1024
        for layer in progress.layers.values()
    )


# --------------------------------------------------------------------------- #
# Pulls that succeed
# --------------------------------------------------------------------------- #


async def test_cold_pull_reports_registry_digest_and_every_layer_complete(
    cold_engine: LocalEngine, docker: aiodocker.Docker
) -> None:
    progress = PullProgress()
    began = time.monotonic()
    result = await pull_image(docker, cold_engine.image, progress)
    elapsed = time.monotonic() - began

    assert isinstance(result, PullResult)
    assert result.digest == registry_digest(cold_engine, "1")
    assert result.up_to_date is False
    assert result.used_local is False
    assert progress.has_bytes
    assert len(progress.layers) >= 4  # busybox base + 3 data layers
    assert all(layer.state is LayerState.COMPLETE for layer in progress.layers.values())
    assert progress.bytes_total > 0
    assert progress.bytes_done == progress.bytes_total
    assert progress.fraction == 1.0
    assert progress.done
    print(f"\ncold pull: {elapsed:.2f} s, {progress.events} events, {progress.bytes_total} B")


async def test_second_pull_is_up_to_date_without_downloading_layers(
    cold_engine: LocalEngine, docker: aiodocker.Docker
) -> None:
    first = await pull_image(docker, cold_engine.image, PullProgress())

    progress = PullProgress()
    began = time.monotonic()
    again = await pull_image(docker, cold_engine.image, progress)
    elapsed = time.monotonic() - began

    assert again.up_to_date is True
    assert again.digest == first.digest
    assert not any(
        layer.state is LayerState.DOWNLOADING or layer.downloaded > 0
        for layer in progress.layers.values()
    )
    assert progress.bytes_done == 0
    assert progress.done and progress.fraction == 1.0
    print(f"\nup-to-date pull: {elapsed * 1000:.0f} ms, {progress.events} events")


async def test_second_tag_reuses_shared_layers_as_already_exists(
    cold_engine: LocalEngine, docker: aiodocker.Docker
) -> None:
    await pull_image(docker, cold_engine.image, PullProgress())

    progress = PullProgress()
    result = await pull_image(docker, cold_engine.image2, progress)

    existing = [l for l in progress.layers.values() if l.state is LayerState.EXISTS]
    assert len(existing) >= 3  # base + the two shared data layers
    assert all(layer.finished for layer in progress.layers.values())
    assert result.digest == registry_digest(cold_engine, "2")
    # Layers already present do not count as bytes to fetch.
    assert progress.bytes_total == sum(
        l.size or 0 for l in progress.layers.values() if l.state is not LayerState.EXISTS
    )


# --------------------------------------------------------------------------- #
# Failures before any byte moves
# --------------------------------------------------------------------------- #


async def test_missing_tag_is_manifest_unknown_with_upgrade_advice(
    cold_engine: LocalEngine, docker: aiodocker.Docker
) -> None:
    ref = f"{cold_engine.registry}/hermes-test:nope"
    progress = PullProgress()
    with pytest.raises(PullError) as caught:
        await pull_image(docker, ref, progress)

    error = caught.value
    assert error.kind is PullErrorKind.MANIFEST_UNKNOWN
    assert "Upgrade hermes-tui" in error.fix
    assert ref in error.message
    # dockerd: DockerError 404 "manifest for <ref> not found: manifest unknown: ..."
    assert "manifest unknown" in str(error.__cause__)
    assert not progress.layers
    print(f"\nengine said: {error.__cause__!r}")


async def test_stopped_registry_is_unreachable_with_proxy_hint(
    cold_engine: LocalEngine, docker: aiodocker.Docker
) -> None:
    cold_engine.stop_registry()
    try:
        with pytest.raises(PullError) as caught:
            await pull_image(docker, cold_engine.image, PullProgress())
    finally:
        cold_engine.start_registry()

    error = caught.value
    assert error.kind is PullErrorKind.REGISTRY_UNREACHABLE
    assert error.fix == PROXY_HINT
    assert "connection refused" in error.message
    print(f"\nengine said: {error.__cause__!r}")


async def test_stopped_registry_with_image_present_succeeds_from_local_copy(
    cold_engine: LocalEngine, docker: aiodocker.Docker
) -> None:
    first = await pull_image(docker, cold_engine.image, PullProgress())
    cold_engine.stop_registry()
    try:
        progress = PullProgress()
        offline = await pull_image(docker, cold_engine.image, progress)
    finally:
        cold_engine.start_registry()

    assert offline.used_local is True
    assert offline.digest == first.digest == registry_digest(cold_engine, "1")
    assert progress.done


async def test_engine_down_before_the_pull_is_engine_gone(
    cold_engine: LocalEngine, docker: aiodocker.Docker
) -> None:
    """dockerd killed, its socket file left behind: every connection is refused.

    The refusal comes from the *engine's* socket, so it must not be mistaken for an
    unreachable registry (whose fix is about proxies).
    """
    cold_engine.kill_engine()
    try:
        with pytest.raises(PullError) as caught:
            await pull_image(docker, cold_engine.image, PullProgress())
    finally:
        cold_engine.start_engine()

    error = caught.value
    print(f"\nclient said: {error.__cause__!r}")
    assert error.kind is PullErrorKind.ENGINE_GONE, error.message
    assert "step 1" in error.fix


async def test_socket_path_without_engine_is_engine_gone(tmp_path: object) -> None:
    client = aiodocker.Docker(url=f"unix://{tmp_path}/no-engine-here.sock")
    try:
        with pytest.raises(PullError) as caught:
            await pull_image(client, "127.0.0.1:5000/hermes-test:1", PullProgress())
    finally:
        await client.close()

    error = caught.value
    print(f"\nclient said: {error.__cause__!r}")
    assert error.kind is PullErrorKind.ENGINE_GONE, error.message
    assert "step 1" in error.fix


# --------------------------------------------------------------------------- #
# Failures in the middle of a download
# --------------------------------------------------------------------------- #


async def test_registry_stopped_mid_download_fails_as_unreachable_after_retries(
    cold_engine: LocalEngine,
    docker: aiodocker.Docker,
    throttled_registry: ThrottledRegistry,
) -> None:
    progress = PullProgress()
    began = time.monotonic()
    pull = asyncio.create_task(pull_image(docker, throttled_registry.repository("1"), progress))
    try:
        await wait_for_model(progress, lambda p: p.sizes_known and downloading_with_bytes(p))
        stopped_at = time.monotonic()
        # The registry process goes, and with it the endpoint dockerd talks to.
        await asyncio.to_thread(cold_engine.stop_registry)
        throttled_registry.stop()
        with pytest.raises(PullError) as caught:
            await asyncio.wait_for(pull, RETRIES_GIVE_UP_WITHIN)
    finally:
        pull.cancel()
        cold_engine.start_registry()
    failed_after = time.monotonic() - stopped_at

    error = caught.value
    print(
        f"\nregistry stopped {stopped_at - began:.1f} s into the pull; dockerd gave up "
        f"{failed_after:.1f} s later: {error.__cause__!r}"
    )
    assert error.kind is PullErrorKind.REGISTRY_UNREACHABLE
    assert error.fix == PROXY_HINT
    assert "connection refused" in error.message
    assert not progress.done
    # The engine told us it was retrying; the model kept that for the screen.
    assert progress.events > 0
    assert not all(layer.finished for layer in progress.layers.values())


async def test_engine_killed_mid_download_is_engine_gone_and_a_retry_resumes(
    cold_engine: LocalEngine, throttled_registry: ThrottledRegistry
) -> None:
    progress = PullProgress()
    client = aiodocker.Docker(url=cold_engine.docker_host)
    pull = asyncio.create_task(pull_image(client, throttled_registry.repository("1"), progress))
    try:
        # Wait for one finished layer as well, so the retry has something to reuse.
        await wait_for_model(
            progress,
            lambda p: (
                downloading_with_bytes(p)
                and any(l.state is LayerState.COMPLETE for l in p.layers.values())
            ),
        )
        complete_before = {k for k, l in progress.layers.items() if l.state is LayerState.COMPLETE}
        killed_at = time.monotonic()
        await asyncio.to_thread(cold_engine.kill_engine)
        with pytest.raises(PullError) as caught:
            await asyncio.wait_for(pull, 30)
        noticed_after = time.monotonic() - killed_at
    finally:
        pull.cancel()
        await client.close()
        await asyncio.to_thread(cold_engine.start_engine)

    error = caught.value
    print(f"\nengine killed; pull failed {noticed_after:.2f} s later: {error.__cause__!r}")
    assert error.kind is PullErrorKind.ENGINE_GONE
    assert "step 1" in error.fix
    assert not progress.done
    assert not all(layer.finished for layer in progress.layers.values())

    # The engine is back: the same pull (straight to the registry now) succeeds, and
    # layers the killed pull had finished are reused.
    retry = PullProgress()
    async with aiodocker.Docker(url=cold_engine.docker_host) as client:
        result = await pull_image(client, cold_engine.image, retry)
    assert result.digest == registry_digest(cold_engine, "1")
    assert all(layer.finished for layer in retry.layers.values())
    reused = {k for k, l in retry.layers.items() if l.state is LayerState.EXISTS}
    print(f"layers complete before the kill: {sorted(complete_before)}; reused: {sorted(reused)}")
    assert reused >= complete_before
