"""The pull progress model and error classification, fed recorded engine output.

The dockerd sequences below were recorded from this project's engine harness
(dockerd 20.10 pulling ``hermes-test:1``/``:2`` from the loopback registry), event for
event. Podman's thin stream follows the shape of Podman 4's compat ``images/create``
handler (``Pulling fs layer``/``Download complete`` per blob, ids cut to 12 hex digits,
no byte counts, no ``Status:`` line; the last event names the pulled image). The
exception objects are aiodocker's own classes, built with the messages the engines
really sent.

Time is a fake clock the tests move by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import pairwise
from typing import Any

import aiohttp
import pytest
from aiodocker.exceptions import DockerError, DockerStreamError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hermes_tui.engine.pull import (
    PROXY_HINT,
    LayerState,
    PullErrorKind,
    PullProgress,
    classify,
)

Event = Mapping[str, Any]
REF = "127.0.0.1:5000/hermes-test:1"


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def feed(progress: PullProgress, events: Iterable[Event]) -> None:
    for event in events:
        progress.apply(event)


def _dl(layer: str, current: int, total: int) -> dict[str, Any]:
    return {
        "status": "Downloading",
        "progressDetail": {"current": current, "total": total},
        "id": layer,
    }


def _ex(layer: str, current: int, total: int) -> dict[str, Any]:
    return {
        "status": "Extracting",
        "progressDetail": {"current": current, "total": total},
        "id": layer,
    }


def _st(status: str, layer: str) -> dict[str, Any]:
    return {"status": status, "progressDetail": {}, "id": layer}


# dockerd 20.10, cold pull of hermes-test:1 (base 1.06 MB + three 4.2 MB layers).
# Recorded; the "progress" bar strings are left out (the model does not read them).
BASE, L_A, L_B, L_C = "65f7aa8a4678", "9294c16d2e8e", "995e251c9166", "b1477e9899a9"
SIZES = {BASE: 1064745, L_A: 4195784, L_B: 4195780, L_C: 4195776}
DIGEST_1 = "sha256:a647ef7bb3733c16065b88106f7b377fafd49c68547b6d34972948b127c430cf"
DOCKERD_COLD: list[dict[str, Any]] = [
    {"status": "Pulling from hermes-test", "id": "1"},
    _st("Pulling fs layer", BASE),
    _st("Pulling fs layer", L_A),
    _st("Pulling fs layer", L_B),
    _st("Pulling fs layer", L_C),
    _st("Waiting", L_C),
    _dl(BASE, 36445, 1064745),
    _dl(L_B, 69213, 4195780),
    _dl(BASE, 1064745, 1064745),
    _st("Verifying Checksum", BASE),
    _st("Download complete", BASE),
    _ex(BASE, 32768, 1064745),
    _dl(L_A, 69213, 4195784),
    _dl(L_C, 69213, 4195776),
    _dl(L_B, 4195780, 4195780),
    _st("Verifying Checksum", L_B),
    _st("Download complete", L_B),
    _dl(L_C, 4195776, 4195776),
    _st("Verifying Checksum", L_C),
    _st("Download complete", L_C),
    _st("Download complete", L_A),  # no Verifying Checksum for this one: as recorded
    _ex(BASE, 327680, 1064745),
    _ex(BASE, 1064745, 1064745),
    _ex(BASE, 1064745, 1064745),
    _st("Pull complete", BASE),
    _ex(L_A, 65536, 4195784),
    _ex(L_A, 4195784, 4195784),
    _st("Pull complete", L_A),
    _ex(L_B, 65536, 4195780),
    _ex(L_B, 4195780, 4195780),
    _st("Pull complete", L_B),
    _ex(L_C, 65536, 4195776),
    _ex(L_C, 4195776, 4195776),
    _st("Pull complete", L_C),
    {"status": f"Digest: {DIGEST_1}"},
    {"status": "Status: Downloaded newer image for 127.0.0.1:5000/hermes-test:1"},
]

# dockerd, the same pull again.
DOCKERD_REPEAT: list[dict[str, Any]] = [
    {"status": "Pulling from hermes-test", "id": "1"},
    {"status": f"Digest: {DIGEST_1}"},
    {"status": "Status: Image is up to date for 127.0.0.1:5000/hermes-test:1"},
]

# dockerd, hermes-test:2 right after :1 (shares the base and two data layers).
L_D = "26fd95721fba"
DIGEST_2 = "sha256:41bc3debe18366cd97bbb1f4ade2b6410b3f78a8d8c9aec5f6bf65749dd0b399"
DOCKERD_SHARED: list[dict[str, Any]] = [
    {"status": "Pulling from hermes-test", "id": "2"},
    _st("Already exists", BASE),
    _st("Already exists", L_A),
    _st("Already exists", L_B),
    _st("Pulling fs layer", L_D),
    _dl(L_D, 69213, 4195782),
    _dl(L_D, 4195782, 4195782),
    _st("Download complete", L_D),
    _ex(L_D, 65536, 4195782),
    _ex(L_D, 4195782, 4195782),
    _st("Pull complete", L_D),
    {"status": f"Digest: {DIGEST_2}"},
    {"status": "Status: Downloaded newer image for 127.0.0.1:5000/hermes-test:2"},
]

# Podman 4 compat API: per blob only "Pulling fs layer" and "Download complete"; the
# last event carries the pulled image's id.
P1, P2, P3 = "2b1d1a5a8f3e", "9f0c5e3b7a21", "c4d7e8f90a1b"
PODMAN_IMAGE_ID = "5d0da3dc976460b72c77d94c8a1ad043720b0416bfc16c52c45d4847e53fadb6"


def podman_thin(final_id: str) -> list[dict[str, Any]]:
    return [
        _st("Pulling fs layer", P1),
        _st("Pulling fs layer", P2),
        _st("Download complete", P1),
        _st("Pulling fs layer", P3),
        _st("Download complete", P2),
        _st("Download complete", P3),
        _st("Download complete", final_id),
    ]


# --------------------------------------------------------------------------- #
# dockerd streams
# --------------------------------------------------------------------------- #


def test_cold_pull_ends_with_every_layer_complete_and_all_bytes_counted() -> None:
    progress = PullProgress(clock=FakeClock())
    feed(progress, DOCKERD_COLD)

    assert set(progress.layers) == set(SIZES)
    assert all(layer.state is LayerState.COMPLETE for layer in progress.layers.values())
    assert {k: l.size for k, l in progress.layers.items()} == SIZES
    assert progress.bytes_total == sum(SIZES.values())
    assert progress.bytes_done == progress.bytes_total
    assert progress.fraction == 1.0
    assert progress.has_bytes
    assert progress.digest == DIGEST_1
    assert progress.up_to_date is False
    assert progress.events == len(DOCKERD_COLD)
    assert progress.finished_layers == 4


def test_the_pulling_from_line_is_not_a_layer() -> None:
    progress = PullProgress(clock=FakeClock())
    feed(progress, DOCKERD_COLD[:1])
    assert progress.layers == {}
    assert progress.fraction is None


def test_layer_states_follow_the_stream_mid_pull() -> None:
    progress = PullProgress(clock=FakeClock())
    feed(progress, DOCKERD_COLD[:12])  # up to the base layer's first Extracting

    layers = progress.layers
    assert layers[BASE].state is LayerState.EXTRACTING
    assert layers[BASE].downloaded == SIZES[BASE]  # downloading is over for it
    assert layers[BASE].fraction == pytest.approx(32768 / 1064745)
    assert layers[L_B].state is LayerState.DOWNLOADING
    assert layers[L_B].fraction == pytest.approx(69213 / 4195780)
    assert layers[L_A].state is LayerState.WAITING and layers[L_A].fraction == 0.0
    assert layers[L_C].state is LayerState.WAITING
    assert progress.bytes_done == SIZES[BASE] + 69213
    assert progress.bytes_total == SIZES[BASE] + SIZES[L_B]  # sizes announced so far
    assert 0.0 < progress.fraction < 1.0
    assert progress.sizes_known is False  # L_A and L_C have not said how big they are


def test_verifying_and_downloaded_layers_count_as_fully_downloaded() -> None:
    progress = PullProgress(clock=FakeClock())
    feed(progress, DOCKERD_COLD[:10])  # base: Downloading … Verifying Checksum
    assert progress.layers[BASE].state is LayerState.VERIFYING
    assert progress.layers[BASE].fraction == 1.0
    feed(progress, DOCKERD_COLD[10:11])
    assert progress.layers[BASE].state is LayerState.DOWNLOADED
    assert progress.layers[BASE].downloaded == SIZES[BASE]


def test_fraction_stays_below_one_while_a_layer_has_not_started() -> None:
    """After the three first downloads, L_A (fourth in line) has not said its size.

    Every *announced* byte is in, but a whole layer is still to come: showing 100 %
    there would be an invented number.
    """
    progress = PullProgress(clock=FakeClock())
    events = [
        {"status": "Pulling from hermes-test", "id": "1"},
        *(_st("Pulling fs layer", layer) for layer in SIZES),
        _st("Waiting", L_A),
        *(_dl(layer, SIZES[layer], SIZES[layer]) for layer in (BASE, L_B, L_C)),
        *(_st("Download complete", layer) for layer in (BASE, L_B, L_C)),
    ]
    feed(progress, events)
    assert progress.layers[L_A].state is LayerState.WAITING
    assert progress.fraction is None or progress.fraction < 1.0


def test_overall_fraction_never_moves_backwards_on_a_recorded_cold_pull() -> None:
    """A progress bar that jumps back (e.g. from a layer count to a byte share once the
    last layer announces its size) reads as a glitch."""
    progress = PullProgress(clock=FakeClock())
    seen: list[float] = []
    for event in DOCKERD_COLD:
        progress.apply(event)
        if progress.fraction is not None:
            seen.append(progress.fraction)
    assert seen == sorted(seen), seen


def test_repeated_pull_is_up_to_date_with_no_layers() -> None:
    progress = PullProgress(clock=FakeClock())
    feed(progress, DOCKERD_REPEAT)

    assert progress.up_to_date is True
    assert progress.digest == DIGEST_1
    assert progress.layers == {}
    assert progress.bytes_done == progress.bytes_total == 0
    assert progress.rate is None and progress.eta is None
    progress.finish()
    assert progress.done and progress.fraction == 1.0


def test_already_existing_layers_are_finished_and_not_counted_as_bytes() -> None:
    progress = PullProgress(clock=FakeClock())
    feed(progress, DOCKERD_SHARED)

    existing = {k for k, l in progress.layers.items() if l.state is LayerState.EXISTS}
    assert existing == {BASE, L_A, L_B}
    assert all(progress.layers[k].fraction == 1.0 and progress.layers[k].finished for k in existing)
    assert progress.layers[L_D].state is LayerState.COMPLETE
    assert progress.bytes_total == progress.bytes_done == 4195782
    assert progress.digest == DIGEST_2
    assert progress.fraction == 1.0


def test_retrying_note_is_kept_on_the_layer_and_cleared_by_the_next_state() -> None:
    progress = PullProgress(clock=FakeClock())
    feed(progress, DOCKERD_COLD[:8])
    progress.apply(_st("Retrying in 5 seconds", L_B))
    assert progress.layers[L_B].note == "Retrying in 5 seconds"
    assert progress.layers[L_B].state is LayerState.DOWNLOADING
    progress.apply(_dl(L_B, 0, SIZES[L_B]))
    assert progress.layers[L_B].note == ""
    # A retry note for a layer never announced does not invent one.
    progress.apply(_st("Retrying in 5 seconds", "0123456789ab"))
    assert "0123456789ab" not in progress.layers


def test_version_moves_on_every_event_and_on_finish() -> None:
    progress = PullProgress(clock=FakeClock())
    seen = [progress.version]
    for event in DOCKERD_SHARED:
        progress.apply(event)
        seen.append(progress.version)
    assert all(b > a for a, b in pairwise(seen))
    before = progress.version
    progress.finish()
    assert progress.version > before


def test_finish_completes_layers_the_stream_left_unfinished() -> None:
    progress = PullProgress(clock=FakeClock())
    feed(progress, DOCKERD_SHARED[:7])  # L_D fully downloaded, not yet extracted
    assert progress.layers[L_D].state is LayerState.DOWNLOADING
    progress.finish()
    assert progress.done
    assert progress.layers[L_D].state is LayerState.COMPLETE
    assert progress.layers[BASE].state is LayerState.EXISTS  # untouched
    assert progress.bytes_done == progress.bytes_total
    assert progress.fraction == 1.0


# --------------------------------------------------------------------------- #
# Rate and ETA on a fake clock
# --------------------------------------------------------------------------- #

MiB = 1024 * 1024


def _two_layer_start(progress: PullProgress) -> None:
    feed(
        progress,
        [
            _st("Pulling fs layer", "aaaaaaaaaaaa"),
            _st("Pulling fs layer", "bbbbbbbbbbbb"),
            _dl("aaaaaaaaaaaa", 0, 8 * MiB),
            _dl("bbbbbbbbbbbb", 0, 8 * MiB),
        ],
    )


def test_rate_and_eta_follow_the_bytes_over_fake_time() -> None:
    clock = FakeClock()
    progress = PullProgress(clock=clock)
    _two_layer_start(progress)
    assert progress.rate is None and progress.eta is None  # one sample: no trend yet

    clock.advance(1.0)
    feed(progress, [_dl("aaaaaaaaaaaa", 1 * MiB, 8 * MiB), _dl("bbbbbbbbbbbb", 1 * MiB, 8 * MiB)])
    clock.advance(1.0)
    feed(progress, [_dl("aaaaaaaaaaaa", 2 * MiB, 8 * MiB), _dl("bbbbbbbbbbbb", 2 * MiB, 8 * MiB)])

    assert progress.sizes_known
    assert progress.bytes_done == 4 * MiB and progress.bytes_total == 16 * MiB
    # 2 MiB/s really; samples are taken at most every 0.2 s, at the first event of each
    # fake second here, so the figure may lag by an event but stays in that range.
    assert MiB <= progress.rate <= 2 * MiB
    assert progress.eta == pytest.approx((16 - 4) * MiB / progress.rate)
    # A quarter downloaded, nothing unpacked: download is half of each layer's share.
    assert progress.fraction == pytest.approx(0.125)


def test_rate_uses_the_last_five_seconds_only() -> None:
    clock = FakeClock()
    progress = PullProgress(clock=clock)
    _two_layer_start(progress)
    done = 0
    for second in range(1, 11):  # fast first (1 MiB/s per layer), then slow
        clock.advance(1.0)
        done += MiB if second <= 5 else 64 * 1024
        progress.apply(_dl("aaaaaaaaaaaa", done, 16 * MiB))
    assert progress.rate == pytest.approx(64 * 1024, rel=0.01)


def test_eta_is_unknown_until_every_pending_layer_has_a_size() -> None:
    clock = FakeClock()
    progress = PullProgress(clock=clock)
    feed(
        progress,
        [
            _st("Pulling fs layer", "aaaaaaaaaaaa"),
            _st("Pulling fs layer", "bbbbbbbbbbbb"),
            _st("Waiting", "bbbbbbbbbbbb"),
            _dl("aaaaaaaaaaaa", 0, 8 * MiB),
        ],
    )
    clock.advance(1.0)
    progress.apply(_dl("aaaaaaaaaaaa", MiB, 8 * MiB))
    assert progress.rate == pytest.approx(MiB)
    assert progress.eta is None  # bbbb's size is unknown: no made-up ETA


def test_a_stalled_download_drops_rate_and_eta() -> None:
    """The registry went away: dockerd only says "Retrying in N seconds" for a minute.

    The last trend is stale by then; the screen must not keep promising an ETA.
    """
    clock = FakeClock()
    progress = PullProgress(clock=clock)
    _two_layer_start(progress)
    for _ in range(3):
        clock.advance(1.0)
        feed(
            progress,
            [_dl("aaaaaaaaaaaa", progress.layers["aaaaaaaaaaaa"].downloaded + MiB, 8 * MiB)],
        )
    assert progress.rate and progress.eta is not None
    for remaining in range(15, 0, -1):
        clock.advance(1.0)
        feed(
            progress,
            [
                _st(f"Retrying in {remaining} seconds", "aaaaaaaaaaaa"),
                _st(f"Retrying in {remaining} seconds", "bbbbbbbbbbbb"),
            ],
        )
    assert not progress.rate  # 0 or None after 15 s without a byte
    assert progress.eta is None


# --------------------------------------------------------------------------- #
# Podman's thin stream
# --------------------------------------------------------------------------- #


def test_thin_stream_counts_fetched_layers_and_invents_no_bytes() -> None:
    progress = PullProgress(clock=FakeClock())
    feed(progress, podman_thin(PODMAN_IMAGE_ID)[:5])

    assert progress.has_bytes is False
    assert progress.bytes_total == progress.bytes_done == 0
    assert progress.sizes_known is False
    assert progress.layers[P1].state is LayerState.DOWNLOADED
    assert progress.layers[P1].fraction == 1.0  # "Download complete" is a fact
    assert progress.layers[P3].state is LayerState.WAITING
    assert progress.layers[P3].fraction == 0.0
    assert progress.rate is None and progress.eta is None
    # No byte counts: overall progress is the share of layers fetched (2 of 3).
    assert progress.fetched_layers == 2
    assert progress.fraction == pytest.approx(2 / 3)


def test_a_layer_downloading_without_numbers_is_indeterminate() -> None:
    progress = PullProgress(clock=FakeClock())
    feed(progress, [_st("Pulling fs layer", P1), _st("Downloading", P1)])
    assert progress.layers[P1].state is LayerState.DOWNLOADING
    assert progress.layers[P1].fraction is None
    assert progress.bytes_total == 0 and progress.eta is None


def test_thin_stream_final_event_with_full_image_id_is_not_a_layer() -> None:
    progress = PullProgress(clock=FakeClock())
    feed(progress, podman_thin(PODMAN_IMAGE_ID))

    assert set(progress.layers) == {P1, P2, P3}


def test_thin_stream_final_event_with_short_image_id_is_not_a_layer() -> None:
    """Podman 4's compat handler sends ``{"status": "Download complete", "id": ID[:12]}``.

    That id was never announced with "Pulling fs layer": it is the image, not a blob.
    After ``finish()`` the model must not list it among the layers.
    """
    progress = PullProgress(clock=FakeClock())
    feed(progress, podman_thin(PODMAN_IMAGE_ID[:12]))
    progress.finish()

    assert set(progress.layers) == {P1, P2, P3}


def test_thin_stream_finish_completes_every_layer() -> None:
    progress = PullProgress(clock=FakeClock())
    feed(progress, podman_thin(PODMAN_IMAGE_ID))
    progress.finish()
    assert progress.done and progress.fraction == 1.0
    assert all(progress.layers[k].state is LayerState.COMPLETE for k in (P1, P2, P3))
    assert progress.digest is None and not progress.up_to_date


def test_a_bare_image_id_event_is_not_a_layer() -> None:
    progress = PullProgress(clock=FakeClock())
    progress.apply({"status": "", "id": f"sha256:{PODMAN_IMAGE_ID}"})
    assert progress.layers == {} and progress.fraction is None


# --------------------------------------------------------------------------- #
# classify() on aiodocker's real exception classes
# --------------------------------------------------------------------------- #
# aiodocker 0.27: DockerError(status: int, message: str); DockerStreamError(message, *,
# error_detail=None, status=0). The messages are the ones the engines sent.


def test_dockerd_manifest_unknown_advises_an_upgrade() -> None:
    exc = DockerError(
        404,
        "manifest for 127.0.0.1:5000/hermes-test:nope not found: "
        "manifest unknown: manifest unknown",
    )
    error = classify(exc, "127.0.0.1:5000/hermes-test:nope")
    assert error.kind is PullErrorKind.MANIFEST_UNKNOWN
    assert "127.0.0.1:5000/hermes-test:nope" in error.message
    assert "Upgrade hermes-tui" in error.fix


def test_podman_manifest_unknown_in_the_stream_advises_an_upgrade() -> None:
    message = (
        "initializing source docker://127.0.0.1:5000/hermes-test:nope: reading "
        "manifest nope in 127.0.0.1:5000/hermes-test: manifest unknown: manifest unknown"
    )
    exc = DockerStreamError(message, error_detail={"message": message})
    assert exc.status == 0
    error = classify(exc, REF)
    assert error.kind is PullErrorKind.MANIFEST_UNKNOWN
    assert "Upgrade hermes-tui" in error.fix


@pytest.mark.parametrize(
    "exc",
    [
        # Registry down before the pull (dockerd answers the request with a 500).
        DockerError(
            500,
            'Get "http://127.0.0.1:5000/v2/": dial tcp 127.0.0.1:5000: connect: connection refused',
        ),
        # Registry down mid-download, after dockerd's five retries.
        DockerStreamError(
            "dial tcp 127.0.0.1:37143: connect: connection refused",
            error_detail={"message": "dial tcp 127.0.0.1:37143: connect: connection refused"},
        ),
        # … or while the image configuration was still being fetched.
        DockerStreamError(
            "error pulling image configuration: download failed after "
            "attempts=6: dial tcp 127.0.0.1:33737: connect: connection refused"
        ),
        DockerStreamError(
            'Get "https://registry-1.docker.io/v2/": proxyconnect tcp: dial tcp '
            "10.0.0.1:3128: i/o timeout"
        ),
    ],
    ids=["refused-before", "refused-mid-layer", "refused-config", "proxy-timeout"],
)
def test_registry_network_failures_are_unreachable_with_proxy_hint(exc: DockerError) -> None:
    error = classify(exc, REF)
    assert error.kind is PullErrorKind.REGISTRY_UNREACHABLE
    assert error.fix == PROXY_HINT
    assert exc.message in error.message


@pytest.mark.parametrize(
    "exc",
    [
        DockerStreamError("unauthorized: authentication required"),
        DockerError(401, "unauthorized: authentication required"),
        DockerError(
            404,
            "pull access denied for hermes, repository does not exist or may "
            "require 'docker login': denied: requested access to the resource "
            "is denied",
        ),
    ],
    ids=["stream-unauthorized", "401", "docker-hub-denied"],
)
def test_refused_access_asks_for_a_login(exc: DockerError) -> None:
    error = classify(exc, REF)
    assert error.kind is PullErrorKind.UNAUTHORIZED
    assert "docker login" in error.fix


def test_unrecognised_engine_error_is_other_and_keeps_the_message() -> None:
    exc = DockerError(500, "write /var/lib/docker/tmp/x: no space left on device")
    error = classify(exc, REF)
    assert error.kind is PullErrorKind.OTHER
    assert "no space left on device" in error.message


@pytest.mark.parametrize(
    "exc",
    [
        # dockerd SIGKILLed mid-stream: the chunked response stops short (recorded).
        aiohttp.ClientPayloadError(
            "Response payload is not completed: <TransferEncodingError: 400, "
            "message='Not enough data to satisfy transfer length header.'>"
        ),
        aiohttp.ServerDisconnectedError(),
        ConnectionRefusedError(111, "Connection refused"),
        FileNotFoundError(2, "No such file or directory"),
        TimeoutError(),
    ],
    ids=["payload-cut", "disconnected", "refused", "no-socket", "timeout"],
)
def test_connection_failures_mean_the_engine_is_gone(exc: BaseException) -> None:
    error = classify(exc, REF)
    assert error.kind is PullErrorKind.ENGINE_GONE
    assert "step 1" in error.fix


@pytest.mark.parametrize(
    "message",
    [
        # Recorded: dockerd killed, its socket file left behind.
        (
            "Cannot connect to Docker Engine via unix:///tmp/hermes-engine-n0u2inwp/docker.sock "
            "[Cannot connect to unix socket /tmp/hermes-engine-n0u2inwp/docker.sock ssl:default "
            "[Connection refused]]"
        ),
        # Recorded: no socket at that path.
        (
            "Cannot connect to Docker Engine via unix:///tmp/nonexistent.sock [Cannot connect "
            "to unix socket /tmp/nonexistent.sock ssl:default [No such file or directory]]"
        ),
    ],
    ids=["refused", "no-socket"],
)
def test_aiodocker_cannot_connect_error_means_the_engine_is_gone(message: str) -> None:
    """aiodocker wraps a failed connection to the *engine* in DockerError(900, …)."""
    error = classify(DockerError(900, message), REF)
    assert error.kind is PullErrorKind.ENGINE_GONE
    assert "step 1" in error.fix


# --------------------------------------------------------------------------- #
# Property: any interleaving of dockerd-like per-layer sequences
# --------------------------------------------------------------------------- #


@st.composite
def layer_sequence(draw: st.DrawFn, layer: str) -> list[dict[str, Any]]:
    """One layer's events as dockerd orders them (sizes and counts drawn)."""
    if draw(st.integers(0, 3)) == 0:
        return [_st("Already exists", layer)]
    size = draw(st.integers(1, 64 * MiB))
    events = [_st("Pulling fs layer", layer)]
    if draw(st.booleans()):
        events.append(_st("Waiting", layer))
    offsets = sorted(draw(st.lists(st.integers(0, size), max_size=6)))
    if draw(st.booleans()):  # a dropped connection: dockerd retries from scratch
        events += [_dl(layer, o, size) for o in offsets]
        events += [_st(f"Retrying in {n} seconds", layer) for n in (5, 4)]
        offsets = sorted(draw(st.lists(st.integers(0, size), max_size=4)))
    events += [_dl(layer, o, size) for o in [*offsets, size]]
    if draw(st.booleans()):
        events.append(_st("Verifying Checksum", layer))
    events.append(_st("Download complete", layer))
    unpacked = draw(st.integers(1, 128 * MiB))
    events += [
        _ex(layer, o, unpacked)
        for o in sorted(draw(st.lists(st.integers(0, unpacked), max_size=4)))
    ]
    events.append(_st("Pull complete", layer))
    return events


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), layer_count=st.integers(1, 6))
def test_any_interleaving_keeps_fraction_and_byte_totals_sane(
    data: st.DataObject, layer_count: int
) -> None:
    queues = [data.draw(layer_sequence(f"{i:012x}")) for i in range(layer_count)]
    clock = FakeClock()
    progress = PullProgress(clock=clock)
    progress.apply({"status": "Pulling from hermes-test", "id": "1"})

    def check() -> None:
        fraction = progress.fraction
        assert fraction is None or 0.0 <= fraction <= 1.0
        assert 0 <= progress.bytes_done <= progress.bytes_total
        for layer in progress.layers.values():
            assert layer.fraction is None or 0.0 <= layer.fraction <= 1.0
        assert progress.rate is None or progress.rate >= 0.0
        assert progress.eta is None or progress.eta >= 0.0

    while any(queues):
        index = data.draw(st.sampled_from([i for i, q in enumerate(queues) if q]))
        clock.advance(data.draw(st.sampled_from([0.0, 0.05, 0.3, 1.0])))
        progress.apply(queues[index].pop(0))
        check()
    assert all(layer.finished for layer in progress.layers.values())
    assert progress.bytes_done == progress.bytes_total
    progress.finish()
    check()
    assert progress.fraction == 1.0


def test_the_change_callback_fires_once_per_arming_and_on_finish() -> None:
    progress = PullProgress()
    calls: list[int] = []
    progress.on_next_change(lambda: calls.append(progress.version))
    for current in range(1, 101):  # a burst: one call, at its first event
        progress.apply({"status": "Downloading", "id": "a1",
                        "progressDetail": {"current": current, "total": 100}})
    assert calls == [1]
    progress.on_next_change(lambda: calls.append(progress.version))
    progress.finish()
    assert calls == [1, 101]
    progress.on_next_change(lambda: calls.append(-1))
    progress.on_next_change(None)  # disarmed: a screen that went away is not called
    progress.apply({"status": "Downloading", "id": "a1", "progressDetail": {}})
    assert calls == [1, 101]
