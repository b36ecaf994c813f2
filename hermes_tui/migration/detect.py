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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hermes_tui.paths import display_path

CLAW_DIR_NAMES = (".openclaw", ".clawdbot", ".moltbot")
CONFIG_FILE_NAMES = ("openclaw.json", "clawdbot.json", "moltbot.json")
DEFAULT_GATEWAY_PORT = 18789
ERROR_NOT_FOUND = "CLAW_CONFIG_NOT_FOUND"
#: Channel keys that say nothing about whether the channel is set up.
_NEUTRAL_CHANNEL_KEYS = frozenset({"enabled"})


class ConfigSyntaxError(ValueError):
    """``openclaw.json`` is not JSON, not even with the JSON5 extras."""


_IDENT_START = re.compile(r"[A-Za-z_$]")
_IDENT = re.compile(r"[A-Za-z0-9_$]*")


def _json5_to_json(text: str) -> str:
    """Rewrite the JSON5 extras OpenClaw users write into plain JSON.

    Handles // and /* */ comments, trailing commas, single-quoted strings and unquoted
    object keys. Anything else stays as it is, for ``json.loads`` to judge.
    """
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "\"'":
            j = i + 1
            buf: list[str] = []
            while j < n and text[j] != ch:
                if text[j] == "\\" and j + 1 < n:
                    nxt = text[j + 1]
                    buf.append("'" if (nxt == "'" and ch == "'") else text[j:j + 2])
                    j += 2
                    continue
                buf.append('\\"' if (text[j] == '"' and ch == "'") else text[j])
                j += 1
            out.append('"' + "".join(buf) + '"')
            i = j + 1
            continue
        if text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        if ch == ",":
            j = i + 1
            while j < n:
                if text[j].isspace():
                    j += 1
                elif text.startswith("//", j):
                    k = text.find("\n", j)
                    j = n if k < 0 else k
                elif text.startswith("/*", j):
                    k = text.find("*/", j + 2)
                    j = n if k < 0 else k + 2
                else:
                    break
            if j < n and text[j] in "}]":
                i += 1  # trailing comma
                continue
            out.append(ch)
            i += 1
            continue
        if _IDENT_START.match(ch):
            m = _IDENT.match(text, i + 1)
            word = text[i:m.end()]
            j = m.end()
            while j < n and text[j] in " \t":
                j += 1
            if j < n and text[j] == ":" and word not in ("true", "false", "null"):
                out.append(json.dumps(word))
            else:
                out.append(word)
            i = m.end()
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def parse_config_text(text: str) -> dict[str, Any]:
    """Parse openclaw.json text: strict JSON first, then with the JSON5 extras.

    Raises ``ConfigSyntaxError`` when neither works or the top level is not an object.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as strict:
        try:
            data = json.loads(_json5_to_json(text))
        except json.JSONDecodeError:
            raise ConfigSyntaxError(
                f"not valid JSON (line {strict.lineno}, column {strict.colno}: {strict.msg})"
            ) from None
    if not isinstance(data, dict):
        raise ConfigSyntaxError("the top level is not a JSON object")
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


def load_config_quietly(claw_dir: Path | None) -> dict[str, Any]:
    """openclaw.json as a dict, or {} when absent, unreadable or malformed (detection only)."""
    if claw_dir is None:
        return {}
    try:
        return parse_config_text(config_file(claw_dir).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ConfigSyntaxError):
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
        """The CLAW_CONFIG_NOT_FOUND explanation for a path that is missing or not a folder."""
        where = display_path(self.path) if self.path is not None else "~/.openclaw"
        why = "is not a directory" if self.exists and not self.is_dir else "does not exist"
        return (
            f"{ERROR_NOT_FOUND}: {where} {why}, so there is no OpenClaw configuration to "
            "migrate. Point to the right folder with --claw-dir. If you have never used "
            "Claw, press Skip."
        )


async def detect(
    claw_dir: Path | None = None, home: Path | None = None, timeout: float = 0.5
) -> ClawDetection:
    """Look for an OpenClaw setup; only reads files and probes one loopback port."""
    path = resolve_claw_dir(claw_dir, home)
    exists = _exists(path)
    try:
        is_dir = path.is_dir()
    except OSError:
        is_dir = False
    config = load_config_quietly(path) if is_dir else {}
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
