"""Step 7 and the dashboard: run the Hermes gateway, one container per profile.

The container is named after the profile (``hermes-<profile>``) and labelled
(``io.hermes-tui=1``, ``io.hermes-tui.profile=<profile>``, the data dir it belongs to), so
the app finds it again after it restarts. The profile folder is the container's Hermes home
(``/opt/data``), the Claw folder a read-only mount when the user migrated. On an engine on
another machine (``GatewaySpec.volume``) the home is a named volume instead, filled from
the profile folder before every start (`hermes_tui.engine.volume` says which files flow
which way), and there is no Claw mount. On a Linux engine the container shares the host's
network (it reaches a router on the host's loopback directly); elsewhere
``host.docker.internal`` maps to the host gateway and the API port is published on the
engine host's 127.0.0.1 (on all its interfaces for a TCP engine on another host: see
`hermes_tui.engine.route`, which also says where ``/health`` is asked).

What the container is told, and what it is not: Hermes loads the mounted ``.env`` itself
(over its environment), so the container's ``Env`` carries only ``HERMES_HOME``, the API
server's listener settings and ``HERMES_UID``/``HERMES_GID`` — never a token, key or
password; ``docker inspect`` shows none, and neither do labels or the config digest. The
Hermes image chowns ``/opt/data`` and its top-level files to ``HERMES_UID``/``HERMES_GID``
(or to uid 10000 when they are not 1–65534), so passing the wizard user's own ids keeps
the profile theirs; in volume mode they are the image's own 10000.

`start_gateway` creates the container (reusing an identical one, replacing one whose
configuration or image changed, restarting one that runs on profile files changed since it
started), starts it and waits until it runs (not restarting) and, where the API server is
on, until ``GET /health`` answers as hermes-agent; a failure raises `GatewayError` carrying
the cause, the fix, the exit code and the last log lines. `watch_events` streams the
engine's own events for our containers, so a dashboard refreshes without polling.

No Textual here; aiodocker and aiohttp are imported inside the functions that use them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hermes_tui.engine.api_server import (
    ENABLED_ENV,
    HOST_ENV,
    PORT_ENV,
    api_enabled,
    parse_port,
    probe_health,
)
from hermes_tui.engine.route import LOCAL_ROUTE, LOOPBACK, ApiRoute
from hermes_tui.problem import Problem, ProblemError

if TYPE_CHECKING:
    import aiodocker


LABEL_APP = "io.hermes-tui"
LABEL_PROFILE = "io.hermes-tui.profile"
#: The profiles folder the gateway belongs to: several data dirs may share one engine.
LABEL_DATA_DIR = "io.hermes-tui.data-dir"
#: sha256 of the create body without this label: an unchanged spec reuses the container.
LABEL_CONFIG = "io.hermes-tui.config"
#: The API server port, set only when the API server is enabled (status reads it back).
LABEL_API_PORT = "io.hermes-tui.api-port"

CONTAINER_HOME = "/opt/data"
#: The image's own hermes user and group (what it falls back to): the volume's owner.
HERMES_IMAGE_ID = 10000
CLAW_MOUNT = "/opt/openclaw"
#: Files of the profile that Hermes reads at start: newer than the start means restart.
PROFILE_INPUTS = (".env", "config.yaml")

#: Engine event actions `watch_events` passes on ("health_status: …" arrives as "health").
WATCHED_ACTIONS = frozenset(
    {"create", "start", "restart", "die", "stop", "kill", "oom", "destroy", "health"}
)
_STOP_GRACE = 10  # seconds the engine waits for a graceful stop before SIGKILL

#: Log lines a GatewayError's problem shows (the container's last ones).
LOG_TAIL_SHOWN = 12
FIX_PULL = "Pull the image again (step 2, \"Image\"), then start the gateway."
FIX_LOG = (
    "Read the log lines above; fix the profile's .env or config.yaml (re-run the step "
    "that wrote it), then start the gateway again."
)


class GatewayAction(Enum):
    """What a user can ask of a profile's gateway; the value is the word a screen shows
    while it runs (``progress``)."""

    START = "Starting"
    STOP = "Stopping"
    RESTART = "Restarting"

    @property
    def progress(self) -> str:
        """Shown while it runs, e.g. "Stopping…"."""
        return self.value


def container_name(profile: str) -> str:
    """The gateway container's name for ``profile``."""
    return f"hermes-{profile}"


class GatewayError(ProblemError):
    """The gateway could not be started (or found); ``str()`` is the cause in one sentence.

    ``fix`` says what the user can do; ``log_tail`` holds the container's last log lines
    (empty when it never ran); ``exit_code`` is set when the container exited.
    """

    def __init__(
        self,
        message: str,
        fix: str = "",
        log_tail: list[str] | None = None,
        exit_code: int | None = None,
    ) -> None:
        super().__init__(Problem(message, fix))
        self.message = message
        self.fix = fix
        self.log_tail = list(log_tail or [])
        self.exit_code = exit_code

    @property
    def problem(self) -> Problem:
        details: tuple[str, ...] = ()
        if self.exit_code is not None:
            details += (f"Exit code: {self.exit_code}",)
        if self.log_tail:
            details += ("Last log lines:", *self.log_tail[-LOG_TAIL_SHOWN:])
        return Problem(self.message, self.fix, details)


# --------------------------------------------------------------------------------------------
# The container's configuration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GatewaySpec:
    """What to run for one profile. ``host_network``: see ``bridge.router.uses_host_network``,
    the one function that decides it for both the gateway and the router URL it calls.
    ``uid``/``gid``: who owns the profile on the host (the user running the wizard); the
    image runs Hermes as that user (see the module docstring).

    ``volume``: the named volume that is the Hermes home instead of a bind mount of
    ``profile_dir``, for an engine on another machine (None: bind mount). It is filled from
    ``profile_dir`` through the Engine API; ``uid``/``gid`` and ``claw_dir`` are then not
    used (the image's own user owns the volume; the Claw folder is on this machine).
    ``publish_ip``: the engine host's address the API port is published on without host
    networking (`hermes_tui.engine.route.ApiRoute.publish_ip`)."""

    profile: str
    profile_dir: Path
    image: str
    api_port: int
    host_network: bool
    uid: int
    gid: int
    claw_dir: Path | None = None
    command: tuple[str, ...] = ("gateway", "run")
    volume: str | None = None
    publish_ip: str = LOOPBACK

    @property
    def name(self) -> str:
        return container_name(self.profile)

    @property
    def data_dir(self) -> str:
        """The profiles folder this gateway belongs to (its label value)."""
        return str(Path(self.profile_dir).absolute().parent)


def gateway_env(spec: GatewaySpec, env: Mapping[str, str]) -> dict[str, str]:
    """The container's whole environment: no value of ``env`` (the profile's ``.env``) is
    copied; it only says whether the API server is on.

    The API server listens on loopback only under host networking (else on all interfaces
    of the container, behind a port published on the host's loopback).
    """
    return {
        "HERMES_HOME": CONTAINER_HOME,
        ENABLED_ENV: "true" if api_enabled(env) else "false",
        HOST_ENV: "127.0.0.1" if spec.host_network else "0.0.0.0",
        PORT_ENV: str(spec.api_port),
        "HERMES_UID": str(HERMES_IMAGE_ID if spec.volume else spec.uid),
        "HERMES_GID": str(HERMES_IMAGE_ID if spec.volume else spec.gid),
    }


def container_config(spec: GatewaySpec, env: Mapping[str, str]) -> dict[str, Any]:
    """The Engine API ``POST /containers/create`` body for ``spec``.

    ``env`` is the profile's ``.env`` as `hermes_tui.envfile.read_env` parses it; Hermes
    reads that file from the mount itself, so none of its values enter the body.
    """
    environment = gateway_env(spec, env)
    port = f"{spec.api_port}/tcp"
    labels = {LABEL_APP: "1", LABEL_PROFILE: spec.profile, LABEL_DATA_DIR: spec.data_dir}
    if api_enabled(env):
        labels[LABEL_API_PORT] = str(spec.api_port)
    host_config: dict[str, Any] = {"RestartPolicy": {"Name": "unless-stopped"}}
    if spec.volume is not None:
        # Labels apply when the engine creates the volume with the container.
        volume_labels = {LABEL_APP: "1", LABEL_PROFILE: spec.profile, LABEL_DATA_DIR: spec.data_dir}
        host_config["Mounts"] = [{
            "Type": "volume",
            "Source": spec.volume,
            "Target": CONTAINER_HOME,
            "VolumeOptions": {"Labels": volume_labels},
        }]
    else:
        binds = [f"{Path(spec.profile_dir).absolute()}:{CONTAINER_HOME}:rw"]
        if spec.claw_dir is not None:
            binds.append(f"{Path(spec.claw_dir).absolute()}:{CLAW_MOUNT}:ro")
        host_config["Binds"] = binds
    config: dict[str, Any] = {
        "Image": spec.image,
        "Cmd": list(spec.command),
        "Env": [f"{key}={value}" for key, value in environment.items()],
        "Labels": labels,
        "HostConfig": host_config,
    }
    if spec.host_network:
        host_config["NetworkMode"] = "host"
        # The same router URL works in both modes: on the host's network the host is us.
        host_config["ExtraHosts"] = ["host.docker.internal:127.0.0.1"]
    else:
        host_config["ExtraHosts"] = ["host.docker.internal:host-gateway"]
        host_config["PortBindings"] = {
            port: [{"HostIp": spec.publish_ip, "HostPort": str(spec.api_port)}]
        }
        config["ExposedPorts"] = {port: {}}
    labels[LABEL_CONFIG] = _config_digest(config)
    return config


def _config_digest(config: Mapping[str, Any]) -> str:
    body = json.dumps(config, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(body).hexdigest()


def profile_changed_since(profile_dir: Path, moment: datetime | None) -> bool:
    """Whether ``.env`` or ``config.yaml`` was modified after ``moment`` (a gateway's
    start): Hermes read the older files, so the gateway must restart to see the change."""
    if moment is None:
        return False
    for name in PROFILE_INPUTS:
        try:
            mtime = (Path(profile_dir) / name).stat().st_mtime
        except OSError:
            continue
        if datetime.fromtimestamp(mtime, UTC) > moment:
            return True
    return False


async def engine_ports(
    docker: aiodocker.Docker, *, exclude_name: str | None = None
) -> dict[int, str]:
    """Ports held on the engine's host by its containers, except ``exclude_name``'s:
    every hermes-tui gateway's API port (any data dir, running or not: it comes back under
    its restart policy) and every port a running container publishes. Port → who."""
    held: dict[int, str] = {}
    for item in await docker.containers.list(all=True):
        data = {key: item[key] for key in ("Id", "Names", "Labels", "State", "Ports") if key in item}
        names = [str(n).lstrip("/") for n in data.get("Names") or []]
        if exclude_name is not None and exclude_name in names:
            continue
        who = f"container {names[0] if names else str(data.get('Id', ''))[:12]}"
        labels = data.get("Labels") or {}
        port = parse_port(labels.get(LABEL_API_PORT))
        if port is not None:
            where = labels.get(LABEL_DATA_DIR)
            held.setdefault(port, f"{who} (hermes-tui gateway of {where})" if where else who)
        if str(data.get("State", "")).lower() == "running":
            for binding in data.get("Ports") or []:
                public = binding.get("PublicPort")
                if isinstance(public, int):
                    held.setdefault(public, who)
    return held


# --------------------------------------------------------------------------------------------
# Status
# --------------------------------------------------------------------------------------------


@dataclass
class GatewayStatus:
    """One profile's gateway as the engine reports it.

    ``state``: "running", "restarting", "exited", "created", "paused" or "missing" (no
    container). ``health``: "ok" (``/health`` answered as hermes-agent) or "failing" while
    it runs with the API server on, None when the API server is off, the container is not
    running, or health was not checked; ``health_detail`` says what ``/health`` answered
    and ``version`` is the Hermes version it reported.
    """

    exists: bool
    state: str
    exit_code: int | None = None
    started_at: datetime | None = None
    restart_count: int = 0
    health: str | None = None
    container_id: str | None = None
    profile: str = ""
    api_port: int | None = None
    data_dir: str | None = None
    version: str | None = None
    health_detail: str | None = None

    @property
    def running(self) -> bool:
        return self.state == "running"

    def uptime(self, now: datetime | None = None) -> timedelta | None:
        """How long it has been running (None unless running)."""
        if not self.running or self.started_at is None:
            return None
        now = now or datetime.now(UTC)
        return max(timedelta(0), now - self.started_at)

    @property
    def summary(self) -> str:
        """E.g. "running", "exited with code 3", "not created"."""
        if not self.exists:
            return "not created"
        if self.state == "exited" and self.exit_code is not None:
            return f"exited with code {self.exit_code}"
        if self.state == "restarting" and self.exit_code:
            return f"restarting (last exit code {self.exit_code})"
        return self.state


def missing_status(profile: str) -> GatewayStatus:
    return GatewayStatus(exists=False, state="missing", profile=profile)


def parse_time(text: str | None) -> datetime | None:
    """The engine's RFC 3339 time (nanoseconds, ``Z``) as an aware datetime; None for never."""
    if not text or text.startswith("0001-01-01"):
        return None
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    main, sep, rest = text.partition(".")
    if sep:  # Python takes at most 6 fraction digits
        digits = rest
        offset = ""
        for marker in ("+", "-"):
            if marker in rest:
                digits, _, tail = rest.partition(marker)
                offset = marker + tail
                break
        text = f"{main}.{digits[:6].ljust(6, '0')}{offset}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def status_from_inspect(data: Mapping[str, Any]) -> GatewayStatus:
    """A `GatewayStatus` from ``GET /containers/{id}/json`` (health not checked)."""
    state = data.get("State") or {}
    config = data.get("Config") or {}
    labels = config.get("Labels") or {}
    raw = str(state.get("Status") or "")
    if state.get("Restarting"):
        raw = "restarting"
    elif raw == "dead":
        raw = "exited"
    finished = raw in ("exited", "restarting")
    exit_code = state.get("ExitCode")
    return GatewayStatus(
        exists=True,
        state=raw or "unknown",
        exit_code=int(exit_code) if finished and exit_code is not None else None,
        started_at=parse_time(state.get("StartedAt")),
        restart_count=int(data.get("RestartCount") or 0),
        health=None,
        container_id=data.get("Id"),
        profile=str(labels.get(LABEL_PROFILE, "")),
        api_port=parse_port(labels.get(LABEL_API_PORT)),
        data_dir=labels.get(LABEL_DATA_DIR),
    )


async def _inspect(docker: aiodocker.Docker, name: str) -> dict[str, Any] | None:
    from aiodocker.exceptions import DockerError

    try:  # a handle makes no request; show() is the one GET /containers/{name}/json
        return dict(await docker.containers.container(name).show())
    except DockerError as exc:
        if exc.status == 404:
            return None
        raise


async def _with_health(
    status: GatewayStatus, check: bool, route: ApiRoute | None = None
) -> GatewayStatus:
    if check and status.running and status.api_port is not None:
        host, port = await (route or LOCAL_ROUTE).address(status.api_port)
        health = await probe_health(port, host=host)
        status.health = "ok" if health.ok else "failing"
        status.health_detail, status.version = health.detail, health.version
    return status


async def gateway_status(
    docker: aiodocker.Docker,
    profile: str,
    *,
    check: bool = True,
    data_dir: str | Path | None = None,
    route: ApiRoute | None = None,
) -> GatewayStatus:
    """The state of ``profile``'s gateway; health is checked (≤ 2 s) when ``check``, through
    ``route`` (None: this machine's loopback).

    With ``data_dir`` (a profiles folder), a same-named gateway of another data dir on the
    engine is not this profile's: it counts as missing (starting says why)."""
    data = await _inspect(docker, container_name(profile))
    if data is None or (data.get("Config") or {}).get("Labels", {}).get(LABEL_PROFILE) != profile:
        return missing_status(profile)
    status = status_from_inspect(data)
    if data_dir is not None and status.data_dir not in (None, str(Path(data_dir).absolute())):
        return missing_status(profile)
    return await _with_health(status, check, route)


#: Containers `find_gateways` inspects at once (the engine answers them concurrently).
FIND_CONCURRENCY = 16


async def _gather_all(coroutines: list[Any]) -> list[Any]:
    """`asyncio.gather`, except that the first failure cancels the others (and is raised
    as it is), so none is left running against a client about to be closed."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def find_gateways(
    docker: aiodocker.Docker,
    *,
    check: bool = True,
    data_dir: str | Path | None = None,
    route: ApiRoute | None = None,
) -> dict[str, GatewayStatus]:
    """Every gateway this app created on the engine (by label), profile → status; with
    ``data_dir`` (a profiles folder), only that data dir's (and unlabelled older ones).

    One listing, filtered by label, finds them all, whatever the number of profiles; its
    labels already leave out other data dirs' gateways. Each one left is inspected (the
    listing has no restart count, exit code or start time; `FIND_CONCURRENCY` at a time),
    then, with ``check``, every health asked at once (≤ 2 s each): many gateways take
    about as long as a few. Health goes through ``route`` (None: this machine's loopback)."""
    from aiodocker.exceptions import DockerError

    wanted = str(Path(data_dir).absolute()) if data_dir is not None else None
    filters = json.dumps({"label": [f"{LABEL_APP}=1"]})
    listed = []
    for container in await docker.containers.list(all=True, filters=filters):
        labels = container["Labels"] if "Labels" in container else None  # noqa: SIM401
        if isinstance(labels, dict):  # the inspection's labels too: rule out early
            if wanted is not None and labels.get(LABEL_DATA_DIR) not in (None, wanted):
                continue
            if not labels.get(LABEL_PROFILE):
                continue
        listed.append(container)
    limit = asyncio.Semaphore(FIND_CONCURRENCY)

    async def inspect(container: Any) -> GatewayStatus | None:
        async with limit:
            try:
                return status_from_inspect(await container.show())
            except DockerError as exc:
                if exc.status == 404:  # removed since the listing
                    return None
                raise

    found: dict[str, GatewayStatus] = {}
    for status in await _gather_all([inspect(c) for c in listed]):
        if status is None:
            continue
        if wanted is not None and status.data_dir not in (None, wanted):
            continue
        if status.profile:  # in listing order: of two with one profile, the later wins
            found[status.profile] = status
    await _gather_all([_with_health(s, check, route) for s in found.values()])
    return dict(sorted(found.items()))


# --------------------------------------------------------------------------------------------
# Logs
# --------------------------------------------------------------------------------------------


def _split_lines(chunks: list[str]) -> list[str]:
    return "".join(chunks).splitlines()


async def log_tail(docker: aiodocker.Docker, profile: str, lines: int = 20) -> list[str]:
    """The last ``lines`` lines of the gateway's stdout and stderr ([] when it is missing)."""
    from aiodocker.exceptions import DockerError

    try:
        container = await docker.containers.get(container_name(profile))
        chunks = await container.log(stdout=True, stderr=True, tail=lines)
    except DockerError as exc:
        if exc.status == 404:
            return []
        raise
    return _split_lines(chunks)[-lines:]


async def follow_logs(
    docker: aiodocker.Docker, profile: str, *, tail: int = 100
) -> AsyncIterator[str]:
    """The gateway's log, one line at a time: the last ``tail`` lines, then new ones as
    they come, until the container stops or the caller stops iterating. The caller keeps
    a bounded buffer. Raises `GatewayError` when there is no gateway for ``profile``.
    Iterate inside ``contextlib.aclosing(...)`` so that leaving early closes the stream at
    once rather than when the generator is collected."""
    from aiodocker.exceptions import DockerError

    try:
        container = await docker.containers.get(container_name(profile))
    except DockerError as exc:
        if exc.status == 404:
            raise GatewayError(
                f"No gateway container for profile '{profile}'.", "Start the gateway first."
            ) from exc
        raise
    pending = ""
    stream = container.log(stdout=True, stderr=True, follow=True, tail=tail)
    try:
        async for chunk in stream:
            pending += chunk
            *complete, pending = pending.split("\n")
            for line in complete:
                yield line.rstrip("\r")
        if pending:
            yield pending.rstrip("\r")
    finally:
        with contextlib.suppress(Exception):
            await stream.aclose()  # type: ignore[attr-defined]


@dataclass(frozen=True)
class StatsSample:
    """One reading of the engine's stats stream: CPU in percent of one core (so 2 busy
    cores read 200), memory in use and its limit in bytes."""

    cpu_percent: float
    memory: int
    memory_limit: int


def stats_sample(raw: Mapping[str, Any]) -> StatsSample | None:
    """A `StatsSample` from one ``GET /containers/{id}/stats`` object (Docker's or
    Podman's shape); None for the first one, which has no previous reading to compare."""
    cpu = raw.get("cpu_stats") or {}
    pre = raw.get("precpu_stats") or {}
    total = (cpu.get("cpu_usage") or {}).get("total_usage")
    pre_total = (pre.get("cpu_usage") or {}).get("total_usage")
    system, pre_system = cpu.get("system_cpu_usage"), pre.get("system_cpu_usage")
    if None in (total, pre_total, system, pre_system) or system <= pre_system:
        return None
    cpus = cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or [1])
    percent = max(0.0, (total - pre_total) / (system - pre_system) * cpus * 100.0)
    memory = raw.get("memory_stats") or {}
    usage = int(memory.get("usage") or 0)
    # As `docker stats` shows it: the page cache the kernel may drop is not counted.
    inactive = (memory.get("stats") or {}).get("inactive_file") or 0
    return StatsSample(percent, max(0, usage - int(inactive)), int(memory.get("limit") or 0))


async def watch_stats(docker: aiodocker.Docker, profile: str) -> AsyncIterator[StatsSample]:
    """The gateway's CPU and memory, one sample a second as the engine streams them
    (``GET /containers/{id}/stats?stream=1``), until the container stops or the caller
    stops iterating (use ``contextlib.aclosing``). Nothing when there is no container."""
    from aiodocker.exceptions import DockerError

    try:
        container = await docker.containers.get(container_name(profile))
    except DockerError as exc:
        if exc.status == 404:
            return
        raise
    stream = container.stats(stream=True)
    try:
        async for raw in stream:
            if not raw or not (raw.get("read") or raw.get("cpu_stats")):
                continue
            if raw.get("read", "").startswith("0001-01-01"):
                return  # the container stopped: the engine sends zeroed readings
            sample = stats_sample(raw)
            if sample is not None:
                yield sample
    finally:
        with contextlib.suppress(Exception):
            await stream.aclose()


# --------------------------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GatewayEvent:
    """An engine event about one of our gateway containers.

    ``action``: one of `WATCHED_ACTIONS`; ``exit_code`` is set for "die", ``health``
    ("healthy"/"unhealthy") for "health"; ``time`` is when the engine saw it.
    """

    action: str
    profile: str
    container_id: str | None
    time: datetime | None
    exit_code: int | None = None
    health: str | None = None


def normalise_event(event: Mapping[str, Any]) -> GatewayEvent | None:
    """An engine event about one of our containers, or None to skip it."""
    if event.get("Type") != "container":
        return None
    action = str(event.get("Action") or event.get("status") or "")
    health = None
    if action.startswith("health_status"):
        health = action.partition(":")[2].strip() or None
        action = "health"
    if action not in WATCHED_ACTIONS:
        return None
    actor = event.get("Actor") or {}
    attributes = actor.get("Attributes") or {}
    profile = attributes.get(LABEL_PROFILE)
    if not profile:
        return None
    exit_code = attributes.get("exitCode")
    stamp = event.get("timeNano")
    when: datetime | None
    if isinstance(stamp, int):
        when = datetime.fromtimestamp(stamp / 1e9, UTC)
    else:
        raw_time = event.get("time")
        when = raw_time if isinstance(raw_time, datetime) else None
    return GatewayEvent(
        action=action,
        profile=str(profile),
        container_id=actor.get("ID") or event.get("id"),
        time=when,
        exit_code=int(exit_code) if exit_code not in (None, "") else None,
        health=health,
    )


async def watch_events(
    docker: aiodocker.Docker,
    profile: str | None = None,
    *,
    since: datetime | float | None = None,
) -> AsyncIterator[GatewayEvent]:
    """Engine events for our gateway containers (``profile``'s, or all when None), pushed
    by the engine: no polling.

    Events from ``since`` on (default: the moment of the call, so nothing that happens
    while the stream connects is lost). The iterator ends when the engine closes the
    stream (it stopped); stop early by cancelling the consuming task, or by breaking out
    of an ``async with contextlib.aclosing(watch_events(...))`` block.
    """
    from aiodocker.events import DockerEvents

    label = f"{LABEL_PROFILE}={profile}" if profile else f"{LABEL_APP}=1"
    if since is None:
        since = time.time()
    elif isinstance(since, datetime):
        since = since.timestamp()
    filters = json.dumps({"type": ["container"], "label": [label]})
    # A private DockerEvents: the client's shared one allows a single filter per client.
    events = DockerEvents(docker)
    subscriber = events.subscribe(filters=filters, since=f"{since:.9f}")
    try:
        while True:
            event = await subscriber.get()
            if event is None:
                return
            normalised = normalise_event(event)
            if normalised is not None:
                yield normalised
    finally:
        await events.stop()


# --------------------------------------------------------------------------------------------
# Start, stop, restart, remove
# --------------------------------------------------------------------------------------------


async def _container(docker: aiodocker.Docker, profile: str) -> Any | None:
    """The profile's container object, or None when there is none."""
    data = await _inspect(docker, container_name(profile))
    if data is None:
        return None
    return docker.containers.container(data["Id"], **data)


def _engine_failure(action: str, exc: Exception, spec: GatewaySpec | None = None) -> GatewayError:
    text = getattr(exc, "message", None) or str(exc)
    lowered = text.lower()
    if spec is not None and ("address already in use" in lowered or "already allocated" in lowered):
        return GatewayError(
            f"The engine could not {action} the gateway: port {spec.api_port} is taken ({text}).",
            f"Stop the program using port {spec.api_port}, or pick another API_SERVER_PORT "
            "for this profile, then start the gateway again.",
        )
    if "no such image" in lowered or ("not found" in lowered and "image" in lowered):
        return GatewayError(f"The engine could not {action} the gateway: {text}.", FIX_PULL)
    if "executable file not found" in lowered:
        image = spec.image if spec is not None else "the image"
        return GatewayError(
            f"The engine could not {action} the gateway: {image} has no Hermes gateway "
            f"command ({text}).",
            "Use a Hermes image: drop --image (or pass a nousresearch/hermes-agent tag) and "
            "pull it again in step 2.",
        )
    return GatewayError(
        f"The engine could not {action} the gateway: {text}.",
        "Check the engine (hermes-tui doctor), then try again.",
    )


async def _image_id(docker: aiodocker.Docker, image: str) -> str:
    from aiodocker.exceptions import DockerError

    try:
        return str((await docker.images.inspect(image))["Id"])
    except DockerError as exc:
        if exc.status == 404:
            raise GatewayError(f"The image {image} is not on the engine.", FIX_PULL) from exc
        raise _engine_failure("inspect the image for", exc) from exc


async def start_gateway(
    docker: aiodocker.Docker,
    spec: GatewaySpec,
    env: Mapping[str, str],
    *,
    health_timeout: float = 30.0,
    settle: float = 1.0,
    stop_grace: int = _STOP_GRACE,
    restart: bool = False,
    route: ApiRoute | None = None,
) -> GatewayStatus:
    """Create (or reuse) and start ``spec``'s container, and wait until it is up.

    An existing container with the same configuration and image is reused (started if
    stopped, restarted if it runs on profile files changed since it started, or when
    ``restart`` asks for it: the dashboard's Restart); one whose
    configuration or image differs is stopped (SIGKILL after ``stop_grace`` s) and
    replaced. Up means running (not restarting) and, with the API server on, ``/health``
    answering as hermes-agent within ``health_timeout`` seconds (asked through ``route``;
    None: this machine's loopback); with it off, still running after ``settle`` seconds.
    With ``spec.volume``, the volume is refreshed from the profile folder before the
    container starts or restarts (`hermes_tui.engine.volume.refresh_volume`); a volume of
    that name made for another profile or data dir is refused.

    Raises `GatewayError`: the container exited (it is then stopped, so it does not
    crash-loop under its restart policy; ``exit_code`` and ``log_tail`` say why), health
    never answered as Hermes (the container is left running), the image is missing, the
    name is taken by a container that is not ours (or another data dir's), or the engine
    refused. A container of the same name created by a concurrent start (the engine's
    409 Conflict) is adopted when it is this profile's gateway of this data dir.
    """
    from aiodocker.exceptions import DockerError

    config = container_config(spec, env)
    image_id = await _image_id(docker, spec.image)
    if spec.volume is not None:
        await _check_volume_owner(docker, spec)
    existing = await _inspect(docker, spec.name)
    container = None
    if existing is not None:
        labels = _check_owner(spec, existing)
        same = labels.get(LABEL_CONFIG) == config["Labels"][LABEL_CONFIG]
        if same and existing.get("Image") == image_id:
            container = docker.containers.container(existing["Id"], **existing)
            state = existing.get("State") or {}
            restart = bool(state.get("Running")) and (restart or profile_changed_since(
                spec.profile_dir, parse_time(state.get("StartedAt"))
            ))
        else:
            restart = False  # a new container starts on the current files anyway
            old = docker.containers.container(existing["Id"], **existing)
            try:
                if (existing.get("State") or {}).get("Running"):
                    await old.stop(t=stop_grace)
                await old.delete(force=True)
            except DockerError as exc:
                if exc.status != 404:
                    raise _engine_failure("replace", exc, spec) from exc
    try:
        if container is None:
            container = await _create(docker, spec, config)
        data = await container.show()
        state = data.get("State") or {}
        if spec.volume is not None and (restart or not state.get("Running")):
            await _refresh(docker, spec, str(data["Id"]))
        if restart:
            await container.restart(t=stop_grace)
            data = await container.show()
        elif state.get("Paused"):
            await container.unpause()
        elif not state.get("Running") and not state.get("Restarting"):
            await container.start()
        baseline = int(data.get("RestartCount") or 0)
    except DockerError as exc:
        raise _engine_failure("start", exc, spec) from exc
    return await _wait_up(
        docker,
        spec.profile,
        container,
        baseline,
        api_port=spec.api_port if api_enabled(env) else None,
        timeout=health_timeout,
        settle=settle,
        route=route,
    )


async def _check_volume_owner(docker: aiodocker.Docker, spec: GatewaySpec) -> None:
    """`GatewayError` when ``spec.volume`` exists and belongs to another profile or data dir
    (its files would be theirs, and ours would overwrite their ``.env``)."""
    from hermes_tui.engine.volume import volume_labels

    assert spec.volume is not None
    labels = await volume_labels(docker, spec.volume)
    if labels is None:
        return
    if labels.get(LABEL_APP) != "1":
        raise GatewayError(
            f"A volume named {spec.volume} exists on the engine and was not created by "
            "hermes-tui.",
            f"Rename or remove it (docker volume rm {spec.volume}), then start the gateway "
            "again.",
        )
    owner, profile = labels.get(LABEL_DATA_DIR), labels.get(LABEL_PROFILE)
    if (owner and owner != spec.data_dir) or (profile and profile != spec.profile):
        raise GatewayError(
            f"The engine already has a volume named {spec.volume} for the profile "
            f"'{profile or '?'}' of another data dir ({owner or 'unknown'}).",
            "Give this profile another name, or remove that volume "
            f"(docker volume rm {spec.volume}) if its gateway is no longer used.",
        )


async def _refresh(docker: aiodocker.Docker, spec: GatewaySpec, container_id: str) -> None:
    from aiodocker.exceptions import DockerError

    from hermes_tui.engine.volume import refresh_volume

    try:
        await refresh_volume(docker, container_id, spec.profile_dir)
    except DockerError as exc:
        raise _engine_failure("copy the profile into the volume of", exc, spec) from exc


def _check_owner(spec: GatewaySpec, existing: Mapping[str, Any]) -> dict[str, Any]:
    """The labels of the container named ``spec.name``; `GatewayError` unless it is this
    profile's gateway of this data dir (one hermes-tui did not create, or another data
    dir's gateway of a profile with the same name)."""
    labels = dict((existing.get("Config") or {}).get("Labels") or {})
    if labels.get(LABEL_PROFILE) != spec.profile:
        raise GatewayError(
            f"A container named {spec.name} exists and was not created by hermes-tui.",
            f"Rename or remove it (docker rm -f {spec.name}), then start the gateway again.",
        )
    owner = labels.get(LABEL_DATA_DIR)
    if owner and owner != spec.data_dir:
        raise GatewayError(
            f"The engine already runs a gateway named {spec.name} for the profile "
            f"'{spec.profile}' of another data dir ({owner}).",
            "Give this profile another name, or remove that gateway "
            f"(docker rm -f {spec.name}) if it is no longer used.",
        )
    return labels


#: How often a create that meets a container of the same name (409) looks again.
_CREATE_ATTEMPTS = 3


async def _create(docker: aiodocker.Docker, spec: GatewaySpec, config: dict[str, Any]) -> Any:
    """Create the container; when another start created one of that name first (the
    engine answers 409 Conflict), adopt it if it is this profile's gateway of this data
    dir, else raise `GatewayError` naming it (never the engine's raw text)."""
    from aiodocker.exceptions import DockerError

    for _ in range(_CREATE_ATTEMPTS):
        try:
            return await docker.containers.create(config, name=spec.name)
        except DockerError as exc:
            if exc.status != 409:
                raise
        rival = await _inspect(docker, spec.name)
        if rival is None:
            continue  # removed again in the meantime (another start replacing it): retry
        _check_owner(spec, rival)
        return docker.containers.container(rival["Id"], **rival)
    raise GatewayError(
        f"The container {spec.name} kept appearing and disappearing while this gateway "
        "started: another hermes-tui is starting or replacing it at the same time.",
        "Let the other hermes-tui finish (or stop it), then start the gateway again.",
    )


async def _wait_up(
    docker: aiodocker.Docker,
    profile: str,
    container: Any,
    baseline: int,
    *,
    api_port: int | None,
    timeout: float,
    settle: float,
    route: ApiRoute | None = None,
) -> GatewayStatus:
    """Watch the container until it is up, or raise `GatewayError` with the cause.

    A bounded wait (never longer than ``timeout``): the engine is asked for the state and
    ``/health`` (through ``route``) for an answer a few times a second. Only Hermes's own
    answer counts, so a port answered by some other program never passes for our gateway.
    """
    route = route or LOCAL_ROUTE
    loop = asyncio.get_running_loop()
    began = loop.time()
    deadline = began + (timeout if api_port is not None else settle)
    interval = 0.1
    last = "no answer yet"
    while True:
        status = status_from_inspect(await container.show())
        crashed = (
            status.state in ("exited", "restarting") or status.restart_count > baseline
        )
        if crashed:
            await _stop_quietly(container)
            final = status_from_inspect(await container.show())
            code = final.exit_code if final.exit_code is not None else status.exit_code
            tail = await log_tail(docker, profile)
            raise GatewayError(
                f"The gateway container exited with code {code}"
                + (" right after it started." if loop.time() - began < 5 else "."),
                FIX_LOG,
                tail,
                code,
            )
        now = loop.time()
        if status.running:
            if api_port is None:
                if now >= deadline:
                    return status
            else:
                host, port = await route.address(api_port)
                health = await probe_health(
                    port, min(2.0, max(0.2, deadline - now)), host=host)
                last = health.detail
                if health.ok:
                    status.health, status.version = "ok", health.version
                    status.health_detail = health.detail
                    return status
        if loop.time() >= deadline:
            tail = await log_tail(docker, profile)
            url = await route.health_url(api_port) if api_port is not None else "/health"
            raise GatewayError(
                f"The gateway runs but GET {url} did not answer "
                f"as hermes-agent within {timeout:g} s ({last}).",
                f"Read the log lines above; check API_SERVER_ENABLED, API_SERVER_KEY and "
                f"API_SERVER_PORT ({api_port}) in the profile's .env and that nothing else "
                "uses the port.",
                tail,
                None,
            )
        await asyncio.sleep(interval)
        interval = min(0.5, interval * 1.5)


async def _stop_quietly(container: Any) -> None:
    from aiodocker.exceptions import DockerError

    with contextlib.suppress(DockerError):
        await container.stop(t=1)


async def stop_gateway(
    docker: aiodocker.Docker, profile: str, *, grace: int = _STOP_GRACE
) -> GatewayStatus:
    """Stop the gateway (SIGTERM, SIGKILL after ``grace`` s); it stays stopped until
    started again, also across engine restarts (restart policy unless-stopped)."""
    from aiodocker.exceptions import DockerError

    container = await _container(docker, profile)
    if container is None:
        return missing_status(profile)
    try:
        await container.stop(t=grace)
    except DockerError as exc:
        if exc.status != 304:  # 304: already stopped
            raise _engine_failure("stop", exc) from exc
    return await gateway_status(docker, profile, check=False)


async def restart_gateway(
    docker: aiodocker.Docker,
    profile: str,
    *,
    grace: int = _STOP_GRACE,
    health_timeout: float = 30.0,
    settle: float = 1.0,
    route: ApiRoute | None = None,
    profile_dir: Path | None = None,
) -> GatewayStatus:
    """Restart the existing container and wait until it is up, like `start_gateway`.

    Hermes reads the profile's ``.env`` and ``config.yaml`` again; to apply a changed image
    or listener, call `start_gateway`, which replaces the container when they differ. A
    container whose home is a volume gets it refreshed from ``profile_dir`` first (when
    given). Health is asked through ``route`` (None: this machine's loopback).
    """
    from aiodocker.exceptions import DockerError

    container = await _container(docker, profile)
    if container is None:
        raise GatewayError(
            f"No gateway container for profile '{profile}'.", "Start the gateway first."
        )
    try:
        if profile_dir is not None and _home_volume(await container.show()):
            from hermes_tui.engine.volume import refresh_volume

            await refresh_volume(docker, container.id, profile_dir)
        await container.restart(t=grace)
        data = await container.show()
    except DockerError as exc:
        raise _engine_failure("restart", exc) from exc
    status = status_from_inspect(data)
    return await _wait_up(
        docker,
        profile,
        container,
        status.restart_count,
        api_port=status.api_port,
        timeout=health_timeout,
        settle=settle,
        route=route,
    )


def _home_volume(data: Mapping[str, Any]) -> str | None:
    """The named volume mounted as the Hermes home in an inspected container, if any."""
    for mount in data.get("Mounts") or []:
        if mount.get("Type") == "volume" and mount.get("Destination") == CONTAINER_HOME:
            return str(mount.get("Name") or "") or None
    return None


async def remove_gateway(docker: aiodocker.Docker, profile: str) -> bool:
    """Remove the gateway container (killing it if it runs); False when there was none.
    The profile folder is untouched, and so is its volume on a remote engine (it holds
    Hermes's own state: sessions, memories)."""
    from aiodocker.exceptions import DockerError

    container = await _container(docker, profile)
    if container is None:
        return False
    try:
        await container.delete(force=True)
    except DockerError as exc:
        if exc.status == 404:
            return False
        raise _engine_failure("remove", exc) from exc
    return True


__all__ = [
    "CLAW_MOUNT",
    "CONTAINER_HOME",
    "HERMES_IMAGE_ID",
    "LABEL_API_PORT",
    "LABEL_APP",
    "LABEL_CONFIG",
    "LABEL_DATA_DIR",
    "LABEL_PROFILE",
    "GatewayAction",
    "GatewayError",
    "GatewayEvent",
    "GatewaySpec",
    "GatewayStatus",
    "container_config",
    "container_name",
    "engine_ports",
    "find_gateways",
    "follow_logs",
    "gateway_env",
    "gateway_status",
    "log_tail",
    "profile_changed_since",
    "remove_gateway",
    "restart_gateway",
    "start_gateway",
    "stop_gateway",
    "watch_events",
    "watch_stats",
]
