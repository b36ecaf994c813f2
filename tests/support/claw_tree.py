"""Build a fake ~/.openclaw tree in code, modelled on the real OpenClaw 2026.9.6 layout.

Every secret is fake and listed in ``FAKE_SECRETS`` so tests can grep outputs for them.
``fingerprint`` hashes a whole tree (content and metadata) to prove it was not touched.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

FAKE_SECRETS = {
    "gateway": "FAKE-gateway-token-0000",
    "localvllm": "sk-FAKE-localvllm-key-000000",
    "openrouter": "sk-or-v1-FAKE-openrouter-key-0000",
    "telegram": "123456:FAKE-telegram-token",
    "discord": "FAKE-discord-bot-token.NOT.REAL",
    "slack_bot": "xoxb-FAKE-slack-bot-token",
    "slack_app": "xapp-FAKE-slack-app-token",
    "anthropic_env": "sk-ant-FAKE-anthropic-key-0000",
    "anthropic_profile": "sk-ant-FAKE-authprofile-key-0000",
    "openai_profile": "sk-FAKE-openai-authprofile-0000",
    "oauth": "FAKE-oauth-refresh-token-0000",
    "fingerprint": "FAKE-journal-fingerprint-key-000",
    "mcp_github": "ghp_FAKEgithubtoken000000",
}

SOUL = """# SOUL.md

I am the household assistant that runs on OpenClaw for the Lindqvist family.

## How I behave
- Answer briefly; offer detail only when asked.
- openclaw keeps my memory in MEMORY.md; read it at the start of each session.
"""

MEMORY = """# MEMORY.md

## Preferences
- Prefers concise answers with code first.
- Uses OpenClaw mostly from Telegram.

## Projects
- hermes-tui: a terminal wizard; due end of November.
"""

USER = """# USER.md

## Preferences
- Prefer metric units.

## People
- Partner: Sam (allergic to peanuts).
"""

DAILY = """# 2026-11-01
- Set up the Discord bot for the study group.
- User asked OpenClaw to remember the dentist appointment on Nov 12.
"""

SKILL = """---
name: {name}
description: {desc}
---
# {name}
{body}
"""


def openclaw_config() -> dict[str, Any]:
    s = FAKE_SECRETS
    return {
        "agents": {
            "defaults": {
                "workspace": "~/.openclaw/workspace",
                "model": {"primary": "localvllm/qwen3-32b"},
                "models": {"localvllm/qwen3-32b": {}},
            },
            "entries": {"main": {"name": "main", "workspace": "~/.openclaw/workspace"}},
        },
        "plugins": {"entries": {"codex": {"config": {"sessionCatalog": {"enabled": False}}}}},
        "meta": {"lastTouchedVersion": "2026.9.6"},
        "gateway": {"mode": "local", "auth": {"mode": "token", "token": s["gateway"]},
                    "port": 18789, "bind": "loopback"},
        "tools": {"profile": "full"},
        "models": {
            "mode": "merge",
            "providers": {
                "localvllm": {"baseUrl": "http://127.0.0.1:8000/v1", "api": "openai-completions",
                              "apiKey": s["localvllm"], "models": [{"id": "qwen3-32b"}]},
                "openrouter": {"baseUrl": "https://openrouter.ai/api/v1", "api": "openai-completions",
                               "apiKey": s["openrouter"]},
            },
        },
        "channels": {
            "telegram": {"enabled": True, "botToken": s["telegram"], "dmPolicy": "allowlist",
                         "allowFrom": ["111111111", "222222222"]},
            "discord": {"enabled": True, "token": s["discord"], "allowFrom": ["333333333333333333"]},
            "slack": {"enabled": True, "mode": "socket", "botToken": s["slack_bot"],
                      "appToken": s["slack_app"], "allowFrom": ["U0FAKEUSER1"]},
            "whatsapp": {"enabled": True, "allowFrom": ["+15555550777"]},
            "signal": {"enabled": True, "account": "+15555550123", "httpUrl": "http://127.0.0.1:8080",
                       "allowFrom": ["+15555550999"]},
        },
        "mcp": {"servers": {"filesystem": {"command": "npx", "args": ["-y", "server-fs", "/notes"],
                                           "connectTimeout": 10}}},
        "skills": {"entries": {"weather-brief": {"enabled": True}}},
    }


def write(path: Path, data: str | bytes, mode: int = 0o644) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    os.chmod(path, mode)
    return path


def build_claw_tree(root: Path, *, config: dict[str, Any] | None = None,
                    config_text: str | None = None, latin1: bool = False,
                    escape_link: bool = False) -> Path:
    """Create ``root`` (a fake ~/.openclaw) and return it.

    ``config_text`` replaces openclaw.json verbatim (for malformed/JSON5 cases); ``latin1``
    adds a non-UTF-8 daily note; ``escape_link`` adds links pointing out of the tree (one
    at the workspace root, one inside a skill, one inside the archived memory/ folder).
    """
    s = FAKE_SECRETS
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    text = config_text if config_text is not None else json.dumps(config or openclaw_config(), indent=2)
    write(root / "openclaw.json", text, 0o600)
    write(root / ".env", f"# FAKE\nANTHROPIC_API_KEY={s['anthropic_env']}\n"
                         f"OPENCLAW_GATEWAY_TOKEN={s['gateway']}\n", 0o600)
    write(root / "config-journal-fingerprint.key", s["fingerprint"], 0o600)
    write(root / "exec-approvals.json", json.dumps({
        "version": 1,
        "socket": {"path": "/tmp/x.sock", "token": "FAKE-socket-token-0000"},
        "agents": {"main": {"security": "allowlist",
                            "allowlist": [{"pattern": "/usr/bin/git"}, {"pattern": "~/bin/deploy-*"}]},
                   "*": {"allowlist": [{"pattern": "/usr/bin/git"}]}},
    }))
    write(root / "agents/main/agent/auth-profiles.json", json.dumps({"version": 1, "profiles": {
        "anthropic:default": {"type": "api_key", "provider": "anthropic", "key": s["anthropic_profile"]},
        "openai:default": {"type": "api_key", "provider": "openai", "key": s["openai_profile"]},
    }}), 0o600)
    (root / "agents/main/sessions").mkdir(parents=True, exist_ok=True)
    write(root / "credentials/telegram-default-allowFrom.json",
          json.dumps({"version": 1, "allowFrom": ["111111111", "444444444"]}), 0o600)
    write(root / "credentials/oauth.json", json.dumps({"token": s["oauth"]}), 0o600)
    ws = root / "workspace"
    write(ws / "SOUL.md", SOUL)
    write(ws / "AGENTS.md", "# AGENTS.md\n- Rules for this OpenClaw workspace.\n")
    write(ws / "MEMORY.md", MEMORY)
    write(ws / "USER.md", USER)
    write(ws / "IDENTITY.md", "# IDENTITY.md\n- Name: Moss\n")
    write(ws / "TOOLS.md", "# TOOLS.md\n- vLLM on 127.0.0.1:8000.\n")
    write(ws / "HEARTBEAT.md", "# HEARTBEAT.md\n- Check the inbox.\n")
    write(ws / "BOOTSTRAP.md", "# BOOTSTRAP.md\n1. Pick a name.\n")
    write(ws / "memory/2026-11-01.md", DAILY)
    if latin1:
        write(ws / "memory/2026-10-15-latin1.md",
              "# 2026-10-15\n- Café meeting with Renée.\n".encode("latin-1"))
    write(ws / "skills/weather-brief/SKILL.md",
          SKILL.format(name="weather-brief", desc="One-paragraph weather.", body="Two sentences."))
    write(ws / "skills/git-helper/SKILL.md",
          SKILL.format(name="git-helper", desc="Explain git status.", body="Suggest one step."))
    write(ws / "skills/git-helper/notes.txt", "notes for git-helper\n")
    write(ws / "skills/git-helper/run.sh", "#!/bin/sh\necho hi\n", 0o755)
    write(ws / "skills/no-skill-md/README.md", "not a skill: no SKILL.md\n")
    write(root / "skills/shared-tool/SKILL.md",
          SKILL.format(name="shared-tool", desc="A shared skill.", body="Shared."))
    if escape_link:
        os.symlink("/etc", ws / "escape")
        os.symlink("/etc/passwd", ws / "skills/git-helper/passwd")
        os.symlink("/etc", ws / "skills/git-helper/etc-dir")
        os.symlink("/etc/hostname", ws / "memory/hostname.md")
    return root


def fingerprint(root: Path) -> str:
    """A hash of every entry under ``root``: names, types, modes, owners, mtimes, ctimes
    (any chmod/rename/write moves them), content and link targets (links never followed).
    Access times are left out: reading is allowed."""
    digest = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for name in ["", *sorted(dirnames), *sorted(filenames)]:
            path = Path(dirpath) / name if name else Path(dirpath)
            st = path.lstat()
            digest.update(f"{path.relative_to(root)}|{st.st_mode}|{st.st_uid}|{st.st_gid}|"
                          f"{st.st_mtime_ns}|{st.st_ctime_ns}|{st.st_size}|".encode())
            if path.is_symlink():
                digest.update(os.readlink(path).encode())
            elif path.is_file():
                digest.update(path.read_bytes())
    return digest.hexdigest()


def make_profile(tmp: Path, name: str = "main") -> tuple[Path, Path]:
    """A real profile made by hermes_tui.profile; returns (data dir, profile dir)."""
    from hermes_tui.paths import Paths
    from hermes_tui.profile import create_profile

    data = tmp / "data"
    outcome = create_profile(Paths.resolve(data), name)
    return data, outcome.path


def profile_snapshot(profile: Path) -> dict[str, tuple[str, int, bytes | None]]:
    """Every entry of the profile but the migration's own run folders: kind, mode, bytes
    (what an undo must give back to the byte)."""
    import stat

    out: dict[str, tuple[str, int, bytes | None]] = {}
    for path in sorted(profile.rglob("*")):
        rel = path.relative_to(profile)
        if rel.parts[0] == "migration":
            continue
        kind = "link" if path.is_symlink() else "dir" if path.is_dir() else "file"
        out[rel.as_posix()] = (kind, stat.S_IMODE(path.lstat().st_mode),
                               path.read_bytes() if kind == "file" else None)
    return out
