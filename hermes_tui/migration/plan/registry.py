"""The mappers in the order they run, what each reads and writes, and ``build_plan``.

Order is the plan's row order (the migration screen lists rows as they come), and some
mappers depend on what earlier ones found. ``reads``/``writes`` name source files
(relative to the Claw dir, ``<workspace>/`` for the agent workspace), profile files, and
``ctx.<field>`` for what one mapper leaves in the ``Context`` for later ones. Two rules are
checked when this module loads (``check_order``):

- a mapper that reads a ``ctx`` field runs after every mapper that writes it, unless it
  adds to the field itself (an accumulator such as ``planned_memory``);
- every mapper named in ``after`` runs earlier (the constraints the fields do not show).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hermes_tui.fsutil import describe_os_error
from hermes_tui.migration.plan.context import Context
from hermes_tui.migration.plan.mappers import (
    archive,
    channels,
    mcp,
    memory,
    models,
    secrets,
    settings,
    skills,
    workspace,
)
from hermes_tui.migration.plan.model import ItemKind, Plan
from hermes_tui.migration.plan.source import find_workspace, read_claw_env, read_config


@dataclass(frozen=True)
class Mapper:
    """One area of the migration. An ``OSError`` escaping ``run`` becomes the error row
    ``<kind>:<step>`` and the next mapper still runs."""

    key: str
    kind: ItemKind
    #: Names the error row of an unexpected OS error (``<kind>:<step>``).
    step: str
    run: Callable[[Context], None]
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    #: Mappers that must run first, for a reason ``reads``/``writes`` do not show.
    after: tuple[str, ...] = ()
    #: Skipped when no workspace was found.
    needs_workspace: bool = False


WS = ("ctx.workspace",)
REGISTRY: tuple[Mapper, ...] = (
    Mapper("config", ItemKind.config, "openclaw.json", read_config,
           reads=("openclaw.json",), writes=("ctx.config",)),
    Mapper("claw-env", ItemKind.secret, ".env", read_claw_env,
           reads=(".env",), writes=("ctx.claw_env",)),
    Mapper("workspace", ItemKind.config, "workspace", find_workspace,
           reads=("workspace*/", "ctx.config"), writes=("ctx.workspace", "ctx.workspace_tree")),
    Mapper("soul", ItemKind.soul, "SOUL.md", workspace.soul, needs_workspace=True,
           reads=(*WS, "<workspace>/SOUL.md"), writes=("SOUL.md",)),
    Mapper("agents-md", ItemKind.agents_md, "AGENTS.md", workspace.agents_md, needs_workspace=True,
           reads=(*WS, "<workspace>/AGENTS.md"), writes=()),
    Mapper("memory", ItemKind.memory, "MEMORY.md", memory.memory_md, needs_workspace=True,
           reads=(*WS, "<workspace>/MEMORY.md", "config.yaml memory caps", "ctx.planned_memory"),
           writes=("memories/MEMORY.md", "ctx.planned_memory")),
    Mapper("user", ItemKind.user_profile, "USER.md", memory.user_md, needs_workspace=True,
           reads=(*WS, "<workspace>/USER.md", "config.yaml memory caps", "ctx.planned_memory"),
           writes=("memories/USER.md", "ctx.planned_memory")),
    # After MEMORY.md: the notes fill what room MEMORY.md's own entries leave under the cap.
    Mapper("daily-notes", ItemKind.daily_memory, "memory", memory.daily_memory,
           needs_workspace=True, after=("memory",),
           reads=(*WS, "<workspace>/memory/*.md", "config.yaml memory caps", "ctx.planned_memory"),
           writes=("memories/MEMORY.md", "ctx.planned_memory")),
    Mapper("skills", ItemKind.skills, "skills", skills.workspace_skills, needs_workspace=True,
           reads=(*WS, "<workspace>/skills/", "ctx.claimed_skill_names"),
           writes=("skills/openclaw-imports/", "ctx.claimed_skill_names")),
    # After the workspace's skills: those keep their names, a shared one of the same name
    # is the conflict.
    Mapper("shared-skills", ItemKind.shared_skills, "skills", skills.shared_skills,
           after=("skills",),
           reads=("ctx.workspace", "skills/", "<workspace>/.agents/skills/", "~/.agents/skills/",
                  "ctx.claimed_skill_names"),
           writes=("skills/openclaw-imports/", "ctx.claimed_skill_names")),
    Mapper("tts-files", ItemKind.tts, "tts", skills.tts_files, needs_workspace=True,
           reads=(*WS, "<workspace>/tts/"), writes=("tts/",)),
    Mapper("model", ItemKind.model, "model", models.model,
           reads=("ctx.config",), writes=("config.yaml model",)),
    Mapper("providers", ItemKind.custom_providers, "providers", models.custom_providers,
           reads=("ctx.config",), writes=("config.yaml custom_providers",)),
    Mapper("mcp", ItemKind.mcp_servers, "servers", mcp.mcp_servers,
           reads=("ctx.config", "ctx.claw_env", "ctx.secret_seen"),
           writes=("config.yaml mcp_servers", ".env", "ctx.secret_seen", "ctx.all_secrets")),
    Mapper("command-allowlist", ItemKind.command_allowlist, "exec-approvals.json",
           settings.command_allowlist,
           reads=("exec-approvals.json",), writes=("config.yaml command_allowlist",)),
    Mapper("tts-config", ItemKind.tts, "tts-config", settings.tts_config,
           reads=("ctx.config",), writes=("config.yaml tts",)),
    Mapper("session-reset", ItemKind.session_reset, "session", settings.session_reset,
           reads=("ctx.config",), writes=("config.yaml session_reset",)),
    Mapper("agent-settings", ItemKind.agent_settings, "agents.defaults", settings.agent_settings,
           reads=("ctx.config",),
           writes=("config.yaml agent/compression/human_delay/timezone/terminal",)),
    Mapper("browser", ItemKind.browser, "browser", settings.browser,
           reads=("ctx.config",), writes=("config.yaml browser",)),
    Mapper("channels", ItemKind.channel_settings, "channels", channels.channels,
           reads=("ctx.config", "credentials/telegram-default-allowFrom.json"), writes=(".env",)),
    Mapper("messaging-cwd", ItemKind.channel_settings, "MESSAGING_CWD", settings.messaging_cwd,
           reads=("ctx.config",), writes=(".env MESSAGING_CWD",)),
    # After providers: a custom provider's key_env edits the entry the providers row adds.
    # After mcp: an MCP credential row is the first value of its key, so a later source of
    # the same key says "another value ... select only one".
    Mapper("secrets", ItemKind.secret, "secrets", secrets.secrets, after=("providers", "mcp"),
           reads=("ctx.config", "ctx.claw_env", "agents/*/agent/auth-profiles.json",
                  "ctx.secret_seen"),
           writes=(".env", "config.yaml custom_providers key_env", "ctx.secret_seen",
                   "ctx.all_secrets")),
    # Last: the dumps redact every secret the mappers above found (ctx.all_secrets).
    Mapper("archive", ItemKind.archive, "archive", archive.archive, after=("secrets",),
           reads=("ctx.workspace", "<workspace>/IDENTITY.md, TOOLS.md, ...", "ctx.config",
                  "ctx.all_secrets", "earlier runs' archive/"),
           writes=("the run's archive/",)),
)


def check_order(registry: Sequence[Mapper]) -> None:
    """Raise ``RuntimeError`` if ``registry`` breaks an ordering rule (module docstring)."""
    done: set[str] = set()
    for i, mapper in enumerate(registry):
        for key in mapper.after:
            if key not in done:
                raise RuntimeError(f"mapper {mapper.key!r} must run after {key!r}")
        for name in mapper.reads:
            if not name.startswith("ctx.") or name in mapper.writes:
                continue
            later = [m.key for m in registry[i + 1:] if name in m.writes]
            if later:
                raise RuntimeError(f"mapper {mapper.key!r} reads {name} before {later} write it")
        done.add(mapper.key)


check_order(REGISTRY)


def run_mapper(ctx: Context, mapper: Mapper) -> None:
    """Run one mapper; an OS error there (say, a folder that cannot be entered) becomes an
    error item and the other mappers still run."""
    if mapper.needs_workspace and ctx.workspace is None:
        return
    try:
        mapper.run(ctx)
    except OSError as exc:
        name = exc.filename and ctx.tree.name(Path(exc.filename)) or mapper.step
        ctx.error(mapper.kind, f"{mapper.kind}:{mapper.step}", name, "—",
                  describe_os_error(exc, exc.filename, action="read"))


def build_plan(claw_dir: Path, profile_dir: Path, *, migrate_secrets: bool = False,
               home: Path | None = None) -> Plan:
    """Plan migrating ``claw_dir`` into ``profile_dir``. Reads only; writes nothing anywhere.

    ``home`` enables ``~/.agents/skills`` (shared skills outside the Claw dir) and ``~``
    expansion; without it nothing outside ``claw_dir`` and ``profile_dir`` is read, except an
    explicitly configured workspace path.
    """
    ctx = Context(Path(claw_dir), Path(profile_dir), migrate_secrets, home)
    try:
        os.listdir(ctx.claw)
    except OSError as exc:
        ctx.error(ItemKind.config, "config:claw_dir", str(ctx.claw), "—",
                  describe_os_error(exc, ctx.claw, action="read"))
        return Plan(ctx.claw, ctx.profile, ctx.items, ctx.base)
    for mapper in REGISTRY:
        run_mapper(ctx, mapper)
    # The same dict: a later "rename" adds the new (absent) targets to it.
    return Plan(ctx.claw, ctx.profile, ctx.items, ctx.base)
