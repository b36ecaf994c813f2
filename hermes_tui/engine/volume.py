"""The profile in a named volume, for a gateway whose engine runs on another machine.

On a remote engine (`hermes_tui.engine.route.engine_is_remote`) the profile folder of this
machine cannot be bind-mounted: the engine's host has no such path. The gateway gets a
named volume per profile instead (`volume_name`: ``hermes-<profile>-data``, labelled like
the container), mounted at ``/opt/data``, and `refresh_volume` fills it through the Engine
API's archive upload (``PUT /containers/{id}/archive``) into the gateway container —
created, not yet started, or running — before every start and restart.

Which files flow which way (the profile folder on this machine stays the source of truth
for what the wizard writes; the volume for what Hermes writes):

- ``.env`` and ``config.yaml``, the wizard's own inputs (channels, models, API server),
  are pushed on every refresh and replace the volume's copy.
- Every other file and folder of the profile (``SOUL.md``, ``memories/``, ``skills/``,
  ``skins/``, ``cron/``, …) is pushed only when the volume has nothing at that path yet
  (asked with ``HEAD /containers/{id}/archive?path=…``): a first start seeds the volume,
  and what Hermes wrote there since (sessions, memories, ``state.db``, logs) is never
  overwritten, even when the local copy differs.
- Nothing flows back: the volume's files are not copied to this machine.
- Never pushed: the hidden temp files of the wizard's atomic writes (``.<name>.*.tmp``,
  ``.<name>.new-*``), the ``migration/`` runs (backups of the user's Claw files, which
  Hermes never reads), symlinked folders, sockets and pipes. The Claw folder itself is not
  mounted at all on a remote engine: it is on the user's machine.

Ownership as the image expects: every entry is owned by 10000:10000, the image's own
hermes user (in volume mode HERMES_UID/HERMES_GID are 10000: this machine's uid means
nothing on the engine's host); ``.env`` is 0600 (secrets), other files keep their mode
plus owner read-write, folders their mode plus owner rwx (0700 as the wizard makes them).

Removing the gateway keeps the volume (it holds Hermes's own state).

No Textual; aiodocker is imported inside the functions that use it.
"""

from __future__ import annotations

import asyncio
import io
import os
import stat
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hermes_tui.engine.gateway import CONTAINER_HOME, HERMES_IMAGE_ID, GatewayError

if TYPE_CHECKING:
    import aiodocker

#: Pushed on every refresh: the local profile is the source of truth for them.
ALWAYS_PUSHED = (".env", "config.yaml")
#: Top-level folders of the profile that are the wizard's, not Hermes's.
NOT_PUSHED_DIRS = frozenset({"migration"})
SECRET_MODE = 0o600
#: HEAD requests `refresh_volume` has in flight at once.
CHECK_CONCURRENCY = 8


def volume_name(profile: str) -> str:
    """The named volume holding ``profile``'s Hermes home on a remote engine."""
    return f"hermes-{profile}-data"


def is_temp_file(name: str) -> bool:
    """The hidden temp files of `fsutil.atomic_write` and `profile._write_new`."""
    return name.startswith(".") and (name.endswith(".tmp") or ".new-" in name)


@dataclass
class Refresh:
    """What one refresh did: paths (relative to ``/opt/data``) pushed, and those left as
    the volume has them."""

    pushed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Entry:
    """One file or folder to push: its path relative to ``/opt/data`` and on this machine."""

    rel: str
    path: Path
    is_dir: bool


def _children(folder: Path, rel: str) -> list[Entry]:
    """The pushable entries directly in ``folder`` (see the module docstring)."""
    items = []
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        raise _unreadable(folder, exc) from exc
    for entry in entries:
        name = entry.name
        child = f"{rel}/{name}" if rel else name
        if is_temp_file(name) or (not rel and name in NOT_PUSHED_DIRS):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                items.append(Entry(child, Path(entry.path), True))
            elif entry.is_file(follow_symlinks=True):  # a symlinked file: its content
                items.append(Entry(child, Path(entry.path), False))
        except OSError:
            continue  # vanished meanwhile
    return items


def _subtree(item: Entry) -> list[Entry]:
    """``item`` and everything below it, parents first."""
    found = [item]
    if item.is_dir:
        for child in _children(item.path, item.rel):
            found.extend(_subtree(child))
    return found


def _unreadable(path: Path, exc: OSError) -> GatewayError:
    return GatewayError(
        f"Cannot read {path} to copy it to the gateway's volume ({exc.strerror or exc}).",
        f"Make {path} readable by you (chmod u+r), then start the gateway again.",
    )


def build_tar(items: list[Entry]) -> bytes:
    """A tar of ``items`` (paths relative to ``/opt/data``), owned by the image's user."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for item in items:
            try:
                info = os.stat(item.path)
                data = None if item.is_dir else item.path.read_bytes()
            except FileNotFoundError:
                continue  # removed since the walk: nothing to push
            except OSError as exc:
                raise _unreadable(item.path, exc) from exc
            entry = tarfile.TarInfo(item.rel)
            entry.uid = entry.gid = HERMES_IMAGE_ID
            entry.uname = entry.gname = "hermes"
            entry.mtime = int(info.st_mtime)
            mode = stat.S_IMODE(info.st_mode)
            if item.is_dir:
                entry.type, entry.mode = tarfile.DIRTYPE, mode | 0o700
                tar.addfile(entry)
            else:
                entry.mode = SECRET_MODE if item.rel == ".env" else mode | 0o600
                entry.size = len(data or b"")
                tar.addfile(entry, io.BytesIO(data or b""))
    return buffer.getvalue()


async def _exists(docker: aiodocker.Docker, container_id: str, path: str) -> bool:
    """``HEAD /containers/{id}/archive?path=…``: 200 when the path exists, 404 when not.
    Through the client's own session: aiodocker has no helper, and its error path would
    try to read JSON from the empty body of a HEAD answer."""
    from aiodocker.exceptions import DockerError

    await docker._check_version()  # pins the API version the URL carries
    url = docker._canonicalize_url(f"containers/{container_id}/archive")
    async with docker.session.head(url, params={"path": path}) as response:
        if response.status == 200:
            return True
        if response.status == 404:
            return False
        raise DockerError(response.status, f"HEAD archive {path}: HTTP {response.status}")


async def plan_refresh(
    docker: aiodocker.Docker, container_id: str, profile_dir: Path
) -> tuple[list[Entry], Refresh]:
    """What to push (parents before children) and what the volume keeps."""
    limit = asyncio.Semaphore(CHECK_CONCURRENCY)
    outcome = Refresh()

    async def decide(item: Entry) -> list[Entry]:
        if item.rel in ALWAYS_PUSHED and not item.is_dir:
            return [item]
        async with limit:
            present = await _exists(docker, container_id, f"{CONTAINER_HOME}/{item.rel}")
        if not present:
            return await asyncio.to_thread(_subtree, item)
        if not item.is_dir:
            outcome.kept.append(item.rel)
            return []
        return await visit(item.path, item.rel)

    async def visit(folder: Path, rel: str) -> list[Entry]:
        children = await asyncio.to_thread(_children, folder, rel)
        chosen: list[Entry] = []
        for part in await asyncio.gather(*(decide(child) for child in children)):
            chosen.extend(part)
        return chosen

    items = await visit(Path(profile_dir), "")
    outcome.pushed = [item.rel for item in items]
    outcome.kept.sort()
    return items, outcome


async def refresh_volume(
    docker: aiodocker.Docker, container_id: str, profile_dir: Path
) -> Refresh:
    """Bring the volume mounted at ``/opt/data`` in ``container_id`` up to date with the
    profile folder, as the module docstring says. Raises `GatewayError` when a local file
    cannot be read; the engine's refusals stay ``DockerError`` for the caller to word."""
    items, outcome = await plan_refresh(docker, container_id, profile_dir)
    if not items:
        return outcome
    body = await asyncio.to_thread(build_tar, items)
    async with docker._query(
        f"containers/{container_id}/archive",
        method="PUT",
        data=body,
        headers={"Content-Type": "application/x-tar"},
        params={"path": CONTAINER_HOME},
    ):
        pass
    return outcome


async def volume_labels(docker: aiodocker.Docker, name: str) -> dict[str, Any] | None:
    """The labels of the volume ``name`` ({} when it has none), None when it does not exist."""
    from aiodocker.exceptions import DockerError

    try:
        data = await docker._query_json(f"volumes/{name}", method="GET")
    except DockerError as exc:
        if exc.status == 404:
            return None
        raise
    return dict((data or {}).get("Labels") or {})


__all__ = [
    "ALWAYS_PUSHED",
    "NOT_PUSHED_DIRS",
    "Entry",
    "Refresh",
    "build_tar",
    "is_temp_file",
    "plan_refresh",
    "refresh_volume",
    "volume_labels",
    "volume_name",
]
