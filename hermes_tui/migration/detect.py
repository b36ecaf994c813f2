"""Find an OpenClaw setup: its folder, its gateway port and whether the gateway runs.

The migration step is skipped automatically only when all three hold: the gateway does
not answer on loopback, no Claw folder exists and no channels are configured. Nothing
here writes anything; reading ``openclaw.json`` tolerates the JSON5 extras OpenClaw accepts
(comments, trailing commas, unquoted keys, single-quoted strings).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hermes_tui.limits import MAX_CONFIG_BYTES, MAX_DEPTH, read_bounded, too_deep
from hermes_tui.paths import display_path

CLAW_DIR_NAMES = (".openclaw", ".clawdbot", ".moltbot")
CONFIG_FILE_NAMES = ("openclaw.json", "clawdbot.json", "moltbot.json")
DEFAULT_GATEWAY_PORT = 18789
ERROR_NOT_FOUND = "CLAW_CONFIG_NOT_FOUND"
#: Channel keys that say nothing about whether the channel is set up.
_NEUTRAL_CHANNEL_KEYS = frozenset({"enabled"})


class ConfigSyntaxError(ValueError):
    """``openclaw.json`` is not JSON, not even with the JSON5 extras (or nests too deeply)."""


class _Stopped(Exception):
    """The reader was asked to stop (the screen that wanted the config went away)."""


@dataclass
class ConfigReading:
    """How far reading a config file has got; the reading thread updates it, the event
    loop shows it (plain attributes: each update is a single assignment)."""

    path: Path | None = None
    #: Characters to go through (known once the file is read).
    total: int = 0
    #: Characters gone through so far.
    done: int = 0
    #: Set by the one waiting: the reader stops at its next check.
    stop: bool = False

    def check(self, done: int) -> None:
        self.done = done
        if self.stop:
            raise _Stopped


# One token of the JSON5 extras (or a JSON string, passed through), matched without
# backtracking (possessive quantifiers): strings, comments, a trailing comma, an unquoted
# key (a word followed by a colon: only a whole word can be, since a word's tail ends
# where the word does). Everything between tokens is copied as is.
_TOKEN = re.compile(
    r"""
      (?P<dq>"(?P<dqbody>(?:[^"\\]++|\\.|\\\Z)*+)"?)
    | (?P<sq>'(?P<sqbody>(?:[^'\\]++|\\.|\\\Z)*+)'?)
    | (?P<line>//[^\n]*+)
    | (?P<block>/\*(?:[^*]++|\*(?!/))*+(?:\*/)?)
    | (?P<comma>,(?=(?:\s++|//[^\n]*+|/\*(?:[^*]++|\*(?!/))*+\*/)*+[}\]]))
    | (?P<key>[A-Za-z_$][A-Za-z0-9_$]*+)(?=[ \t]*+:)
    """,
    re.DOTALL | re.VERBOSE,
)
_SQ_ESCAPE = re.compile(r"\\.|\"", re.DOTALL)
_LITERALS = frozenset({"true", "false", "null"})
#: Tokens between two progress updates (and checks for a stop).
_CHECK_EVERY = 4096


def _sq_piece(match: re.Match[str]) -> str:
    piece = match.group()
    return "'" if piece == "\\'" else '\\"' if piece == '"' else piece


def _json5_to_json(text: str, reading: ConfigReading | None = None) -> str:
    """Rewrite the JSON5 extras OpenClaw users write into plain JSON.

    Handles // and /* */ comments, trailing commas, single-quoted strings and unquoted
    object keys. Anything else stays as it is, for ``json.loads`` to judge. One regular
    expression finds the extras, about twice as fast as walking the text a character at a
    time, and ``reading`` hears how far it got (every ``_CHECK_EVERY`` tokens).
    """
    out: list[str] = []
    pos = 0
    for count, match in enumerate(_TOKEN.finditer(text)):
        start = match.start()
        if start > pos:
            out.append(text[pos:start])
        pos = match.end()
        kind = match.lastgroup
        if kind == "dq":  # closed if the file ends inside it, as json will say anyway
            out.append('"' + match.group("dqbody") + '"')
        elif kind == "sq":
            out.append('"' + _SQ_ESCAPE.sub(_sq_piece, match.group("sqbody")) + '"')
        elif kind == "key":
            word = match.group()
            out.append(word if word in _LITERALS else '"' + word + '"')
        # line and block comments, trailing commas: dropped
        if reading is not None and count % _CHECK_EVERY == 0:
            reading.check(start)
    out.append(text[pos:])
    return "".join(out)


def _too_deep_error() -> ConfigSyntaxError:
    return ConfigSyntaxError(
        f"objects or lists are nested more than {MAX_DEPTH} levels deep, which no real "
        "configuration is")


def parse_config_text(text: str, reading: ConfigReading | None = None) -> dict[str, Any]:
    """Parse openclaw.json text: strict JSON first, then with the JSON5 extras.

    Raises ``ConfigSyntaxError`` when neither works, the top level is not an object, or
    it nests more than ``MAX_DEPTH`` levels (json itself gives up, with a RecursionError,
    somewhere under 1,000 levels; the plan's own code walks the result recursively).
    """
    if reading is not None:
        reading.total = len(text)
    try:
        data = json.loads(text)
    except RecursionError:
        raise _too_deep_error() from None
    except json.JSONDecodeError as strict:
        try:
            data = json.loads(_json5_to_json(text, reading))
        except RecursionError:
            raise _too_deep_error() from None
        except json.JSONDecodeError:
            raise ConfigSyntaxError(
                f"not valid JSON (line {strict.lineno}, column {strict.colno}: {strict.msg})"
            ) from None
    if not isinstance(data, dict):
        raise ConfigSyntaxError("the top level is not a JSON object")
    if too_deep(data):
        raise _too_deep_error()
    if reading is not None:
        reading.done = reading.total
    return data


def _exists(path: Path) -> bool:
    """Whether something is at ``path``; a path we may not look at counts as present
    (so the user is told about it rather than the step silently skipped)."""
    try:
        return path.exists() or path.is_symlink()
    except PermissionError:
        return True
    except OSError:
        return False


def config_file(claw_dir: Path) -> Path:
    """The config file in ``claw_dir``: openclaw.json, else a legacy name that exists."""
    for name in CONFIG_FILE_NAMES:
        candidate = claw_dir / name
        if _exists(candidate):
            return candidate
    return claw_dir / CONFIG_FILE_NAMES[0]


def read_config_text(path: Path) -> str:
    """A config file's text, at most ``MAX_CONFIG_BYTES``: ``OSError`` (``FileTooLarge``,
    not a regular file, ...) or ``UnicodeDecodeError`` otherwise."""
    return read_bounded(path, MAX_CONFIG_BYTES).decode("utf-8")


def load_config_quietly(claw_dir: Path | None,
                        reading: ConfigReading | None = None) -> dict[str, Any]:
    """openclaw.json as a dict, or {} when absent, unreadable, too large, malformed or
    nested too deeply (detection only: planning reads it again and says what is wrong).
    Slow for a large JSON5 file: ``detect`` runs it in a thread, ``reading`` shows how far
    it got and stops it."""
    if claw_dir is None:
        return {}
    path = config_file(claw_dir)
    if reading is not None:
        reading.path = path
    try:
        return parse_config_text(read_config_text(path), reading)
    except (OSError, UnicodeDecodeError, ConfigSyntaxError, _Stopped):
        return {}


def resolve_claw_dir(claw_dir: Path | str | None = None, home: Path | None = None) -> Path:
    """The folder to use: ``claw_dir`` if given, else the first existing legacy name in home.

    When none exists, ``~/.openclaw`` is returned (a path that does not exist).
    """
    if claw_dir is not None:
        return Path(claw_dir).expanduser()
    base = Path(home) if home is not None else Path.home()
    for name in CLAW_DIR_NAMES:
        candidate = base / name
        if _exists(candidate):
            return candidate
    return base / CLAW_DIR_NAMES[0]


def plan_home(claw_dir: Path | str | None = None, home: Path | str | None = None) -> Path | None:
    """The home that ``~/.openclaw/...`` paths in openclaw.json expand against when planning.

    ``home`` if given; else the user's home when the folder is the default one (found in
    home by ``resolve_claw_dir``); None for a folder passed explicitly, so nothing outside
    it and the profile is read. The wizard's screen, ``setup`` and ``migrate`` all use this.
    """
    if home is not None:
        return Path(home)
    return Path.home() if claw_dir is None else None


def gateway_port(config: dict[str, Any]) -> int:
    gateway = config.get("gateway")
    port = gateway.get("port") if isinstance(gateway, dict) else None
    if isinstance(port, str) and port.strip().isdigit():
        port = int(port.strip())
    if isinstance(port, int) and not isinstance(port, bool) and 0 < port < 65536:
        return port
    return DEFAULT_GATEWAY_PORT


def configured_channels(config: dict[str, Any]) -> tuple[str, ...]:
    """Channels in ``channels.*`` that are enabled, or set up and not switched off."""
    channels = config.get("channels")
    if not isinstance(channels, dict):
        return ()
    found = []
    for name, body in channels.items():
        if not isinstance(body, dict):
            continue
        enabled = body.get("enabled")
        if enabled is False:
            continue
        if enabled is True or any(k not in _NEUTRAL_CHANNEL_KEYS for k in body):
            found.append(str(name))
    return tuple(sorted(found))


async def probe_port(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    """True when a TCP connection to ``host:port`` succeeds within ``timeout`` seconds."""
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (TimeoutError, OSError):
        return False
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass
    return True


@dataclass(frozen=True)
class ClawDetection:
    path: Path | None
    exists: bool
    is_dir: bool
    gateway_port: int
    gateway_running: bool
    channels: tuple[str, ...]

    @property
    def auto_skip(self) -> bool:
        """Skip the step without asking: no gateway, no folder, no channels (all three)."""
        return not self.gateway_running and not self.exists and not self.channels

    @property
    def skip_reason(self) -> str:
        """A few words for the sidebar; empty when the step should run."""
        return "no OpenClaw setup found" if self.auto_skip else ""

    @property
    def not_found_message(self) -> str:
        """The CLAW_CONFIG_NOT_FOUND explanation for a path that is missing or not a folder.

        What happened only: the way out depends on the front end (the wizard's skip key,
        setup's ``--migrate-claw no``), so each adds its own fix (``NOT_FOUND_FIX`` when
        there is nothing better to say)."""
        where = display_path(self.path) if self.path is not None else "~/.openclaw"
        why = "is not a directory" if self.exists and not self.is_dir else "does not exist"
        return (f"{ERROR_NOT_FOUND}: {where} {why}, so there is no OpenClaw configuration "
                "to migrate.")


#: The way out of CLAW_CONFIG_NOT_FOUND that holds for every front end.
NOT_FOUND_FIX = ("Point to the folder OpenClaw uses with --claw-dir DIR. If you have never "
                 "used OpenClaw, there is nothing to migrate.")


#: How often ``detect`` reports progress while openclaw.json is read (seconds).
PROGRESS_EVERY = 0.1


async def _load_config_off_loop(
    claw_dir: Path, progress: Callable[[ConfigReading], None] | None,
    reading: ConfigReading | None = None,
) -> dict[str, Any]:
    """``load_config_quietly`` in a thread, calling ``progress`` on the event loop every
    ``PROGRESS_EVERY`` seconds until it is done; cancelled, the reader is told to stop."""
    reading = reading if reading is not None else ConfigReading()
    task = asyncio.ensure_future(asyncio.to_thread(load_config_quietly, claw_dir, reading))
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=PROGRESS_EVERY)
            if done:
                return task.result()
            if progress is not None:
                progress(reading)
    finally:
        reading.stop = True


async def detect(
    claw_dir: Path | None = None, home: Path | None = None, timeout: float = 0.5,
    progress: Callable[[ConfigReading], None] | None = None,
) -> ClawDetection:
    """Look for an OpenClaw setup; only reads files and probes one loopback port.

    openclaw.json is read and parsed off the event loop (a large JSON5 file takes seconds);
    ``progress`` hears how far it got, on the event loop, while it takes longer than
    ``PROGRESS_EVERY``.
    """
    path = resolve_claw_dir(claw_dir, home)
    exists = _exists(path)
    try:
        is_dir = path.is_dir()
    except OSError:
        is_dir = False
    config = await _load_config_off_loop(path, progress) if is_dir else {}
    port = gateway_port(config)
    running = await probe_port(port, timeout=timeout)
    return ClawDetection(
        path=path,
        exists=exists,
        is_dir=is_dir,
        gateway_port=port,
        gateway_running=running,
        channels=configured_channels(config),
    )
