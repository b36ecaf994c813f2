"""Step 2's domain: pull an image through the Engine API into a per-layer progress model.

The engine streams many small JSON events per second; ``PullProgress.apply`` folds each
into the latest state of its layer in O(1) and bumps ``version``. Screens repaint from the
model at most 10-20 times a second, never once per event: ``on_next_change`` tells them, once,
that it changed, so nothing needs to poll it while it stays the same.

dockerd sends byte counts ("progressDetail"); Podman's compat API sends only "Pulling fs
layer" and "Download complete" with no numbers, so ``has_bytes`` stays False and the screen
counts layers instead of inventing byte figures.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from hermes_tui.problem import Problem, ProblemError

if TYPE_CHECKING:
    import aiodocker


class LayerState(StrEnum):
    WAITING = "Waiting"
    DOWNLOADING = "Downloading"
    VERIFYING = "Verifying"
    DOWNLOADED = "Downloaded"
    EXTRACTING = "Extracting"
    COMPLETE = "Complete"
    EXISTS = "Already exists"


_LAYER_EVENTS: dict[str, LayerState] = {
    "Pulling fs layer": LayerState.WAITING,
    "Waiting": LayerState.WAITING,
    "Downloading": LayerState.DOWNLOADING,
    "Verifying Checksum": LayerState.VERIFYING,
    "Download complete": LayerState.DOWNLOADED,
    "Extracting": LayerState.EXTRACTING,
    "Pull complete": LayerState.COMPLETE,
    "Already exists": LayerState.EXISTS,
}
_FINISHED = (LayerState.COMPLETE, LayerState.EXISTS)
_IN_FLIGHT = (LayerState.WAITING, LayerState.DOWNLOADING)
_RETRY = re.compile(r"Retrying in (\d+) seconds?")


@dataclass(slots=True)
class Layer:
    """The latest known state of one layer."""

    id: str
    state: LayerState = LayerState.WAITING
    #: Download progress in bytes (compressed size); None until the engine says.
    downloaded: int = 0
    size: int | None = None
    #: Extraction progress in bytes, while extracting.
    extracted: int = 0
    extract_total: int | None = None
    note: str = ""

    @property
    def fraction(self) -> float | None:
        """How far along this layer is, 0..1, or None when the engine gives no numbers."""
        if self.state in _FINISHED:
            return 1.0
        if self.state is LayerState.EXTRACTING and self.extract_total:
            return min(1.0, self.extracted / self.extract_total)
        if self.state in (LayerState.VERIFYING, LayerState.DOWNLOADED):
            return 1.0  # fully downloaded, whether or not the engine said how big it was
        if self.size:
            return min(1.0, self.downloaded / self.size)
        return 0.0 if self.state is LayerState.WAITING else None

    @property
    def finished(self) -> bool:
        return self.state in _FINISHED


def _layer_share(layer: Layer) -> float:
    if layer.finished:
        return 1.0
    if layer.state in (LayerState.VERIFYING, LayerState.DOWNLOADED):
        download = 1.0
    else:
        download = min(1.0, layer.downloaded / layer.size) if layer.size else 0.0
    extract = 0.0
    if layer.state is LayerState.EXTRACTING and layer.extract_total:
        extract = min(1.0, layer.extracted / layer.extract_total)
    return (download + extract) / 2


Clock = Callable[[], float]


@dataclass
class PullProgress:
    """Everything the Image pull screen shows, updated event by event."""

    clock: Clock = time.monotonic
    layers: dict[str, Layer] = field(default_factory=dict)
    digest: str | None = None
    up_to_date: bool = False
    done: bool = False
    #: True once any event carried byte counts (dockerd); False for Podman's thin stream.
    has_bytes: bool = False
    events: int = 0
    #: Bumped on every change; a screen repaints only when it moved.
    version: int = 0
    _samples: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=64))
    _started: float | None = None
    _on_change: Callable[[], None] | None = field(default=None, repr=False, compare=False)

    def on_next_change(self, callback: Callable[[], None] | None) -> None:
        """Call ``callback`` once, at the next change (None: forget the one set before).

        It runs inside ``apply``/``finish``, as the change begins: it should schedule work
        (a repaint), not read the model. One call per arming keeps a fast stream cheap.
        """
        self._on_change = callback

    def _notify(self) -> None:
        callback, self._on_change = self._on_change, None
        if callback is not None:
            callback()

    # -- folding events ------------------------------------------------------------

    def apply(self, event: Mapping[str, Any]) -> None:
        """Fold one stream event into the model (O(1))."""
        self.events += 1
        self.version += 1
        if self._on_change is not None:
            self._notify()
        if self._started is None:
            self._started = self.clock()
        status = str(event.get("status") or "")
        layer_id = event.get("id")
        state = _LAYER_EVENTS.get(status)
        if state is LayerState.DOWNLOADED and layer_id and str(layer_id) not in self.layers:
            # Podman ends with "Download complete" for the image id, never announced as a
            # layer: it is the image, not a blob.
            return
        if state is not None and layer_id:
            self._apply_layer(str(layer_id), state, event.get("progressDetail") or {})
        elif status.startswith("Retrying in") and layer_id in self.layers:
            self.layers[str(layer_id)].note = status
        elif status.startswith("Digest: "):
            self.digest = status.removeprefix("Digest: ").strip()
        elif status.startswith("Status: "):
            self.up_to_date = "up to date" in status

    def _apply_layer(self, layer_id: str, state: LayerState, detail: Mapping[str, Any]) -> None:
        layer = self.layers.get(layer_id)
        if layer is None:
            layer = self.layers[layer_id] = Layer(layer_id)
        layer.state = state
        layer.note = ""
        current, total = detail.get("current"), detail.get("total")
        if state is LayerState.DOWNLOADING:
            if isinstance(total, int) and total > 0:
                layer.size = total
                self.has_bytes = True
            if isinstance(current, int):
                layer.downloaded = current
            self._sample()
        elif state is LayerState.EXTRACTING:
            if layer.size is not None:
                layer.downloaded = layer.size
            if isinstance(total, int) and total > 0:
                layer.extract_total = total
                self.has_bytes = True
            if isinstance(current, int):
                layer.extracted = current
        elif state in (LayerState.VERIFYING, LayerState.DOWNLOADED, LayerState.COMPLETE):
            if layer.size is not None:
                layer.downloaded = layer.size
            self._sample()

    def finish(self) -> None:
        """The stream ended without error: every layer the engine named is in place."""
        for layer in self.layers.values():
            if not layer.finished:
                layer.state = LayerState.COMPLETE
                if layer.size is not None:
                    layer.downloaded = layer.size
        self.done = True
        self.version += 1
        self._notify()

    # -- totals ----------------------------------------------------------------------

    @property
    def bytes_done(self) -> int:
        return sum(l.downloaded for l in self.layers.values() if l.size and l.state is not LayerState.EXISTS)

    @property
    def bytes_total(self) -> int:
        return sum(l.size for l in self.layers.values() if l.size and l.state is not LayerState.EXISTS)

    @property
    def sizes_known(self) -> bool:
        """True when every layer still to fetch has announced its size."""
        pending = [l for l in self.layers.values() if l.state is not LayerState.EXISTS]
        return bool(pending) and all(l.size for l in pending)

    @property
    def fraction(self) -> float | None:
        """Overall progress, the mean of every layer's: it never moves backwards.

        With byte counts a layer is half download, half extraction (unpacking is often most
        of a cold pull); without them (Podman) a layer counts once it is fetched.
        """
        if self.done:
            return 1.0
        if not self.layers:
            return None
        if not self.has_bytes:
            return self.fetched_layers / len(self.layers)
        return sum(_layer_share(layer) for layer in self.layers.values()) / len(self.layers)

    @property
    def fetched_layers(self) -> int:
        """Layers whose download is over (Podman reports no more than that)."""
        return sum(1 for l in self.layers.values() if l.state not in _IN_FLIGHT)

    @property
    def finished_layers(self) -> int:
        return sum(1 for l in self.layers.values() if l.finished)

    def _sample(self) -> None:
        now = self.clock()
        if not self._samples or now - self._samples[-1][0] >= 0.2:
            self._samples.append((now, self.bytes_done))

    @property
    def rate(self) -> float | None:
        """Bytes per second over the last five seconds; 0 when stalled, None before a trend."""
        if not self._samples:
            return None
        now = self.clock()
        recent = [sample for sample in self._samples if now - sample[0] <= 5.0]
        if not recent:
            return 0.0  # nothing moved for five seconds (e.g. the engine is retrying)
        start_time, start_bytes = recent[0]
        span = now - start_time
        if span < 1.0:  # a rate over less than a second is noise, not a trend
            return None
        return max(0.0, (self.bytes_done - start_bytes) / span)

    @property
    def eta(self) -> float | None:
        """Seconds left, when sizes are known and bytes are moving."""
        rate = self.rate
        if not rate or not self.sizes_known:
            return None
        return max(0.0, (self.bytes_total - self.bytes_done) / rate)


# -- errors --------------------------------------------------------------------------


class PullErrorKind(StrEnum):
    INVALID_REF = "invalid image reference"
    MANIFEST_UNKNOWN = "manifest unknown"
    REGISTRY_UNREACHABLE = "registry unreachable"
    UNAUTHORIZED = "access denied"
    ENGINE_GONE = "engine stopped"
    UNSUPPORTED = "unsupported engine"
    OTHER = "pull failed"


PROXY_HINT = (
    "Check the internet connection of the machine that runs the engine. Behind a "
    "corporate proxy, configure the engine's proxy: Docker Desktop → Settings → Resources → "
    "Proxies, or on Linux an HTTP_PROXY/HTTPS_PROXY drop-in for docker.service, then "
    "restart the engine."
)


@dataclass(eq=False)  # exceptions compare and hash by identity
class PullError(ProblemError):
    kind: PullErrorKind
    message: str
    fix: str

    def __post_init__(self) -> None:
        ProblemError.__init__(self, self.problem)

    @property
    def problem(self) -> Problem:
        return Problem(self.message, self.fix)

    def __str__(self) -> str:
        return self.message


# --- image references -------------------------------------------------------------------
# The grammar of github.com/distribution/reference (what dockerd and Podman accept):
#   [host[:port]/]path[:tag][@algorithm:hex], path = component("/"component)*, all lowercase.

_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_HOST_PART = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_ALGORITHM = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*")
#: Digest algorithms the engines know, and the length of their hex.
_DIGEST_HEX = {"sha256": 64, "sha384": 96, "sha512": 128}
#: The longest repository name (host and path) the engines accept.
MAX_NAME = 255
REF_FIX = (
    "Pass --image as [registry[:port]/]name[:tag][@sha256:digest], the name in lower "
    "case (e.g. ghcr.io/me/hermes-agent:v1), or leave --image out to pull the pinned release"
)


class ImageRefError(PullError):
    """An image reference no engine would accept; the message says what is wrong with it."""

    def __init__(self, ref: str, why: str) -> None:
        self.ref = ref
        shown = ref if len(ref) <= 80 else ref[:77] + "..."
        super().__init__(PullErrorKind.INVALID_REF,
                         f"'{shown}' is not a valid image reference: {why}.", REF_FIX)

    @property
    def problem(self) -> Problem:
        return Problem(self.message, self.fix + ".", subject=self.ref)


def _odd_characters(text: str, allowed: str) -> str:
    odd = sorted({ch for ch in text if not (ch.isascii() and (ch.isalnum() or ch in allowed))})
    return " ".join(repr(ch) for ch in odd)


def _why_component(part: str) -> str:
    if not part:
        return "it has an empty part between slashes"
    if part.lower() != part and _COMPONENT.fullmatch(part.lower()):
        return (f"'{part}' has upper-case letters; image names are lower case "
                f"('{part.lower()}')")
    odd = _odd_characters(part, "._-")
    capitals = "upper-case letters and " if part.lower() != part else ""
    if odd:
        return f"'{part}' holds {capitals}{odd}; a name may hold only a-z, 0-9 and . _ -"
    return (f"'{part}' must start and end with a letter or digit, with single '.', one or "
            "two '_', or dashes only between them")


def _why_host(host: str) -> str | None:
    name, colon, port = host.partition(":")
    if name.startswith("[") and name.endswith("]") or host.startswith("["):
        return None  # an [IPv6] address: the engine judges it
    if colon and not port.isdigit():
        return f"the registry '{host}' has a port that is not a number"
    for label in name.split("."):
        if not _HOST_PART.fullmatch(label):
            return (f"the registry host '{name}' may hold only letters, digits, '-' and "
                    "dots between its parts")
    return None


def check_image_ref(ref: str) -> str:
    """``ref`` when the engines would accept it as an image reference; otherwise
    ``ImageRefError`` saying what is wrong (an upper-case letter, a bad tag or digest...),
    before any engine or registry is asked - they would only say "invalid reference
    format", which reads like a network problem.
    """
    if not ref:
        raise ImageRefError(ref, "it is empty")
    if any(ch.isspace() for ch in ref):
        try:  # say what else is wrong too ("Bad Ref!!": spaces, capitals and '!')
            check_image_ref("".join(ref.split()))
        except ImageRefError as rest:
            raise ImageRefError(ref, "it contains spaces; without them, "
                                     + rest.message.split(": ", 1)[1].rstrip(".")) from None
        raise ImageRefError(ref, "it contains spaces")
    name_tag, at, digest = ref.partition("@")
    if at:
        algorithm, colon, hexa = digest.partition(":")
        if not colon or not _ALGORITHM.fullmatch(algorithm):
            raise ImageRefError(ref, f"the digest '{digest}' is not algorithm:hex (sha256:…)")
        want = _DIGEST_HEX.get(algorithm)
        if want is None:
            raise ImageRefError(ref, f"the digest algorithm '{algorithm}' is not sha256, "
                                     "sha384 or sha512")
        bad = sorted({ch for ch in hexa if ch not in "0123456789abcdef"})
        if len(hexa) != want or bad:
            among = f", among them {' '.join(map(repr, bad))}" if bad else ""
            raise ImageRefError(ref, f"a {algorithm} digest is {want} lower-case hex digits "
                                     f"(0-9, a-f); this one has {len(hexa)} characters{among}")
    slash = name_tag.rfind("/")
    colon = name_tag.rfind(":")
    name, tag = (name_tag[:colon], name_tag[colon + 1:]) if colon > slash else (name_tag, None)
    if tag is not None and not _TAG.fullmatch(tag):
        shown = tag if len(tag) <= 40 else tag[:37] + "..."
        why = ("it is empty" if not tag else "it is longer than 128 characters"
               if len(tag) > 128 else "it may not start with '.' or '-'"
               if tag[0] in ".-" and not _odd_characters(tag, "_.-")
               else f"it holds {_odd_characters(tag, '_.-')}")
        raise ImageRefError(ref, f"the tag '{shown}' is not valid ({why}; a tag holds "
                                 "letters, digits, '_', '.' and '-')")
    if not name:
        raise ImageRefError(ref, "it has no image name")
    if len(name) > MAX_NAME:
        raise ImageRefError(ref, f"the name is {len(name)} characters long; at most "
                                 f"{MAX_NAME} are allowed")
    parts = name.split("/")
    first = parts[0]
    if len(parts) > 1 and (any(ch in first for ch in ".:") or first == "localhost"
                           or first.lower() != first):
        why = _why_host(first)
        if why is not None:
            raise ImageRefError(ref, why)
        parts = parts[1:]
    for part in parts:
        if not _COMPONENT.fullmatch(part):
            raise ImageRefError(ref, _why_component(part))
    return ref


_UNREACHABLE = (
    "connection refused", "no such host", "i/o timeout", "dial tcp", "network is unreachable",
    "tls handshake", "proxyconnect", "connection reset", "timeout exceeded", "eof",
    "server misbehaving", "temporary failure in name resolution", "no route to host",
)


def classify(exc: BaseException, ref: str) -> PullError:
    """Turn whatever the engine or the connection raised into a PullError with a fix."""
    from aiodocker.exceptions import DockerError

    if isinstance(exc, DockerError) and (
        exc.status == 900 or str(exc.message).startswith("Cannot connect to Docker Engine")
    ):
        exc = ConnectionError(str(exc.message))  # aiodocker's "engine unreachable" code
    if isinstance(exc, DockerError):
        text = str(exc.message)
        low = text.lower()
        if "invalid reference format" in low:
            try:
                check_image_ref(ref)
            except ImageRefError as error:
                return error
            return ImageRefError(ref, f"the engine refused it ({text})")
        if "manifest unknown" in low or ("not found" in low and exc.status == 404) or (
            "manifest" in low and "not found" in low
        ):
            return PullError(
                PullErrorKind.MANIFEST_UNKNOWN,
                f"The registry has no image {ref} (manifest unknown): the pinned tag may "
                "have been removed.",
                "Upgrade hermes-tui to the latest version, which references the correct tag "
                "(or pass --image with a tag that exists).",
            )
        if "unauthorized" in low or "denied" in low or exc.status in (401, 403):
            return PullError(
                PullErrorKind.UNAUTHORIZED,
                f"The registry refused access to {ref}: {text}",
                "Log the engine in to the registry (docker login), or check the image name.",
            )
        if any(word in low for word in _UNREACHABLE):
            return PullError(PullErrorKind.REGISTRY_UNREACHABLE,
                             f"The engine could not reach the registry: {text}", PROXY_HINT)
        return PullError(PullErrorKind.OTHER, f"The engine could not pull {ref}: {text}", PROXY_HINT)
    return PullError(
        PullErrorKind.ENGINE_GONE,
        f"The container engine stopped answering during the pull ({type(exc).__name__}: {exc}).",
        "Go back to step 1 (Runtime check) to see why the engine is unreachable, then retry.",
    )


def _connection_errors() -> tuple[type[BaseException], ...]:
    import aiohttp

    return (aiohttp.ClientError, OSError, asyncio.TimeoutError, ConnectionError)


@dataclass(frozen=True)
class PullResult:
    digest: str | None
    up_to_date: bool
    #: True when the registry could not be reached but the image was already here.
    used_local: bool = False


async def local_digest(docker: aiodocker.Docker, ref: str) -> str | None:
    """The repo digest of ``ref`` if the engine already has it, else None."""
    from aiodocker.exceptions import DockerError

    try:
        info = await docker.images.inspect(ref)
    except DockerError as exc:
        if exc.status == 404:
            return None
        raise
    digests = info.get("RepoDigests") or []
    repo = ref.rsplit("@", 1)[0].rsplit(":", 1)[0] if "/" in ref or ":" in ref else ref
    for entry in digests:
        name, _, digest = entry.partition("@")
        if name == repo or name.endswith("/" + repo) or repo.endswith(name):
            return digest
    return digests[0].partition("@")[2] if digests else (info.get("Id") or None)


async def pull_image(docker: aiodocker.Docker, ref: str, progress: PullProgress) -> PullResult:
    """Pull ``ref``, folding every event into ``progress``; raise ``PullError`` on failure
    (``ImageRefError`` at once, for a reference no engine would accept).

    An image already up to date completes at once (the engine says so in three events).
    If the registry is unreachable but the image is already present, the pull succeeds
    with ``used_local`` set, so an offline machine can finish the wizard.
    """
    from aiodocker.exceptions import DockerError

    check_image_ref(ref)
    try:
        async for event in docker.images.pull(ref, stream=True):
            progress.apply(event)
    except DockerError as exc:
        error = classify(exc, ref)
        if error.kind is PullErrorKind.REGISTRY_UNREACHABLE:
            digest = await _present_despite(docker, ref)
            if digest is not None:
                progress.finish()
                return PullResult(digest, up_to_date=False, used_local=True)
        raise error from exc
    except _connection_errors() as exc:
        raise classify(exc, ref) from exc
    progress.finish()
    digest = progress.digest
    if digest is None:
        try:
            digest = await local_digest(docker, ref)
        except (DockerError, *_connection_errors()) as exc:
            raise classify(exc, ref) from exc
    progress.digest = digest
    return PullResult(digest, up_to_date=progress.up_to_date)


async def _present_despite(docker: aiodocker.Docker, ref: str) -> str | None:
    try:
        return await local_digest(docker, ref)
    except Exception:  # noqa: BLE001 - the engine may be failing too; the pull error stands
        return None
