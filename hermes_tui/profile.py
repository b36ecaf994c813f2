"""Hermes profiles: the name rule and the on-disk tree.

A profile lives at ``<data>/profiles/<name>/`` in Hermes's own layout, so the container
can mount it as ``HERMES_HOME``. Creating one is all-or-nothing: the tree is built in a
hidden staging folder (``.<name>.creating-<pid>-<hex>``) and renamed into place. A staging
folder whose process is gone (killed mid-creation) is removed by the next creation; hidden,
it is never listed as a profile. An existing profile is reused and only what is missing is
added; nothing of the user's is overwritten.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from hermes_tui.envfile import ENV_MODE
from hermes_tui.fsutil import describe_os_error
from hermes_tui.paths import Paths, display_path
from hermes_tui.problem import ProblemError

NAME_RULE = r"^[a-z0-9][a-z0-9_-]{0,63}$"
NAME_RE = re.compile(NAME_RULE)
MAX_NAME = 64
#: Names Hermes itself refuses for a profile.
RESERVED_NAMES = frozenset({"hermes", "test", "tmp", "root", "sudo"})
#: Hermes's profile subfolders (hermes_cli/profiles.py ``_PROFILE_DIRS``).
PROFILE_DIRS = ("memories", "sessions", "skills", "skins", "logs", "plans", "workspace", "cron", "home")

_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_DIGITS = frozenset("0123456789")
_FIRST = _LOWER | _DIGITS
_ALLOWED = _FIRST | {"-", "_"}

CONFIG_TEMPLATE = """\
# Hermes configuration for this profile, created by hermes-tui.
# hermes-tui edits only the keys it manages (model, custom_providers) and keeps the rest,
# comments included. Reference: https://github.com/NousResearch/hermes-agent
model: {}
"""

ENV_TEMPLATE = """\
# Secrets and settings for this Hermes profile (mode 0600: readable by you alone).
# hermes-tui writes channel credentials here; add your own KEY=value lines freely.
"""


@dataclass(frozen=True)
class NameVerdict:
    ok: bool
    message: str


def validate_name(name: str) -> NameVerdict:
    """Accept ``name`` iff it matches the rule and is not reserved; else say exactly why."""
    if NAME_RE.fullmatch(name) and name not in RESERVED_NAMES:
        return NameVerdict(True, f"'{name}' is a valid profile name.")
    return NameVerdict(False, _why_invalid(name))


def _why_invalid(name: str) -> str:
    if not name:
        return "Enter a name: 1 to 64 characters."
    if len(name) > MAX_NAME:
        return f"Too long: {len(name)} characters; the limit is {MAX_NAME}."
    upper = next((c for c in name if c.isupper()), None)
    if upper:
        return f"Uppercase letters are not allowed ('{upper}'): use lowercase."
    if any(c.isspace() for c in name):
        return "Spaces are not allowed: use - or _ between words."
    if name[0] not in _FIRST:
        return f"Must start with a lowercase letter or a digit, not '{name[0]}'."
    bad = next((c for c in name if c not in _ALLOWED), None)
    if bad is not None:
        return f"'{bad}' is not allowed: use lowercase letters, digits, - and _."
    if name in RESERVED_NAMES:
        return f"'{name}' is reserved by Hermes: choose another name."
    return f"Must match {NAME_RULE}."


def profile_names(profiles_root: Path) -> list[str]:
    """Every profile folder under ``profiles_root``, sorted; hidden folders (a profile being
    created) are left out, and a missing or unreadable root has none. The one list the
    status command, the dashboard's profile switcher and the port chooser share."""
    try:
        entries = sorted(Path(profiles_root).iterdir())
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return []
    return [e.name for e in entries if not e.name.startswith(".") and e.is_dir()]


class ProfileError(ProblemError):
    """A profile could not be created or used; the message names the path and the cause."""


def profile_path(paths: Paths, name: str) -> Path:
    """The folder for a valid ``name``, guaranteed to sit directly inside profiles/."""
    verdict = validate_name(name)
    if not verdict.ok:
        raise ProfileError(f"Invalid profile name: {verdict.message}")
    path = paths.profile_dir(name)
    if path.parent != paths.profiles or path.name != name:
        raise ProfileError(f"Invalid profile name: {name!r}")
    return path


@dataclass(frozen=True)
class ProfileInfo:
    path: Path
    exists: bool
    #: What a complete profile has that this one lacks (relative names).
    missing: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return self.exists and not self.missing


def _expected_entries() -> tuple[str, ...]:
    return (*PROFILE_DIRS, ".env", "config.yaml")


def inspect_profile(paths: Paths, name: str) -> ProfileInfo:
    """What is on disk for ``name`` now (never changes anything)."""
    path = profile_path(paths, name)
    if not path.exists() and not path.is_symlink():
        return ProfileInfo(path, exists=False, missing=_expected_entries())
    if not path.is_dir():
        raise ProfileError(f"{display_path(path)} exists but is not a folder: move it away or pick another name.")
    missing = tuple(entry for entry in _expected_entries() if not (path / entry).exists())
    return ProfileInfo(path, exists=True, missing=missing)


@dataclass
class ProfileOutcome:
    path: Path
    created: bool
    #: Entries added to a reused profile that lacked them.
    added: list[str] = field(default_factory=list)


def create_profile(paths: Paths, name: str) -> ProfileOutcome:
    """Create the profile tree, or complete and reuse an existing one.

    Raises ``ProfileError`` naming the path on permission, read-only or full-disk errors; in
    that case no new profile folder is left behind.
    """
    info = inspect_profile(paths, name)
    if info.exists:
        return _complete_existing(info)
    try:
        paths.profiles.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ProfileError(describe_os_error(exc, exc.filename or paths.profiles)) from exc

    _sweep_staging(paths.profiles)
    staging = paths.profiles / f".{name}{STAGING_MARK}{os.getpid()}-{secrets.token_hex(4)}"
    try:
        staging.mkdir(mode=0o700)
        _fill(staging, _expected_entries())
        os.rename(staging, info.path)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if exc.errno in (errno.EEXIST, errno.ENOTEMPTY) and info.path.is_dir():
            # Someone created it meanwhile: treat as an existing profile.
            return _complete_existing(inspect_profile(paths, name))
        raise ProfileError(describe_os_error(exc, _user_facing(exc, staging, info.path))) from exc
    return ProfileOutcome(info.path, created=True)


#: Between a profile's name and its creator's pid in a staging folder's name.
STAGING_MARK = ".creating-"
_STAGING_RE = re.compile(r"\.(?:[a-z0-9][a-z0-9_-]{0,63})\.creating-(?:(?P<pid>\d+)-)?[0-9a-f]+")


def _sweep_staging(profiles: Path) -> None:
    """Remove staging folders left by a creation that was killed: their process is gone.
    (Folders named without a pid come from older versions, which never cleaned up.)"""
    try:
        entries = list(profiles.iterdir())
    except OSError:
        return
    for entry in entries:
        match = _STAGING_RE.fullmatch(entry.name)
        if match is None or entry.is_symlink() or not entry.is_dir():
            continue
        if match["pid"] is not None and _alive(int(match["pid"])):
            continue
        shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, as another user's process
    return True


def _user_facing(exc: OSError, staging: Path, final: Path) -> Path:
    """Name the real target rather than our hidden staging folder in error messages."""
    where = Path(exc.filename) if exc.filename else final
    try:
        return final / where.relative_to(staging)
    except ValueError:
        return where


def _complete_existing(info: ProfileInfo) -> ProfileOutcome:
    try:
        _fill(info.path, info.missing)
        env = info.path / ".env"
        if stat.S_IMODE(env.stat().st_mode) != ENV_MODE:
            os.chmod(env, ENV_MODE)
    except OSError as exc:
        raise ProfileError(describe_os_error(exc, exc.filename or info.path)) from exc
    return ProfileOutcome(info.path, created=False, added=list(info.missing))


def _fill(root: Path, entries: tuple[str, ...]) -> None:
    """Create the named entries under ``root``; files are created exclusively (never clobbered)."""
    for entry in entries:
        target = root / entry
        if entry == ".env":
            _write_new(target, ENV_TEMPLATE, ENV_MODE)
        elif entry == "config.yaml":
            _write_new(target, CONFIG_TEMPLATE, 0o600)
        else:
            target.mkdir(mode=0o700, exist_ok=True)


def _write_new(path: Path, text: str, mode: int) -> None:
    """Create ``path`` whole or not at all: written beside it, then linked into place (a
    link fails if the file appeared meanwhile, like O_EXCL), so a kill mid-write never
    leaves an empty or half-written file behind."""
    temp = path.with_name(f".{path.name}.new-{os.getpid()}-{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)  # the umask may have narrowed it; never widened past `mode`
        os.link(temp, path)
    finally:
        temp.unlink(missing_ok=True)


@dataclass(frozen=True)
class Ownership:
    """Who owns a profile's files, compared with the user running the wizard."""

    #: Entries (relative to the profile) owned by someone else, at most ``limit`` of them.
    foreign: tuple[str, ...]
    #: The owners found on those entries (uids).
    owners: tuple[int, ...]
    #: True when the walk stopped at ``limit`` entries.
    truncated: bool = False


def check_ownership(path: Path, uid: int, *, limit: int = 20_000) -> Ownership:
    """Entries of the profile at ``path`` that ``uid`` does not own: the folder itself, its
    top-level files and everything in Hermes's own subfolders (what the gateway image
    chowns to its user). Symbolic links are not followed. Never changes anything."""
    foreign: list[str] = []
    owners: set[int] = set()
    seen = 0

    def visit(entry: Path) -> None:
        nonlocal seen
        seen += 1
        try:
            owner = entry.lstat().st_uid
        except OSError:
            return
        if owner != uid:
            owners.add(owner)
            foreign.append(str(entry.relative_to(path)) if entry != path else ".")

    visit(path)
    try:
        top = sorted(path.iterdir())
    except OSError:
        top = []
    for entry in top:
        visit(entry)
        if entry.name in PROFILE_DIRS and entry.is_dir() and not entry.is_symlink():
            for root, dirs, files in os.walk(entry):
                for name in (*dirs, *files):
                    if seen >= limit:
                        return Ownership(tuple(foreign), tuple(sorted(owners)), True)
                    visit(Path(root) / name)
    return Ownership(tuple(foreign), tuple(sorted(owners)))
