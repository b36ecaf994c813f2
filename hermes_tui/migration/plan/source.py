"""The source readers: openclaw.json, the Claw .env and where the workspace is.

They run first (see ``registry``) and fill ``Context.config``, ``claw_env``, ``workspace``
and ``workspace_tree``; a file that cannot be used becomes an error row and the rest of
the plan proceeds without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hermes_tui.envfile import parse_env
from hermes_tui.limits import MAX_ENV_BYTES
from hermes_tui.migration.detect import ConfigSyntaxError, config_file
from hermes_tui.migration.plan.context import Context
from hermes_tui.migration.plan.model import ItemKind
from hermes_tui.migration.plan.tree import SourceError, SourceTree, dig

WORKSPACE_CANDIDATES = ("workspace", "workspace-main", "workspace.default")


def read_config(ctx: Context) -> None:
    path = config_file(ctx.claw)
    name = ctx.tree.name(path)
    if not path.exists() and not path.is_symlink():
        ctx.skip(ItemKind.config, "config:openclaw.json", name, "—",
                 "no openclaw.json: settings, channels and keys are not migrated")
        return
    try:
        ctx.config = ctx.tree.read_json(path)
    except SourceError as exc:
        ctx.error(ItemKind.config, "config:openclaw.json", name, "—",
                  f"{exc} Settings from it are left out; the rest proceeds.")
    except ConfigSyntaxError as exc:
        ctx.error(ItemKind.config, "config:openclaw.json", name, "—",
                  f"{name} is malformed ({exc}); settings, channels and keys from it are "
                  "left out, the rest proceeds.")


def read_claw_env(ctx: Context) -> None:
    path = ctx.claw / ".env"
    if not path.exists() and not path.is_symlink():
        return
    try:
        ctx.claw_env = parse_env(ctx.tree.read_text(path, MAX_ENV_BYTES))
    except SourceError as exc:
        ctx.error(ItemKind.secret, "source:.env", ".env", ".env", str(exc))


def find_workspace(ctx: Context) -> None:
    """The first workspace folder of the Claw dir, else agents.defaults.workspace."""
    ctx.workspace = _find_workspace(ctx)


def _find_workspace(ctx: Context) -> Path | None:
    for name in WORKSPACE_CANDIDATES:
        candidate = ctx.claw / name
        if candidate.is_dir() or candidate.is_symlink():
            try:
                ctx.tree.check_inside(candidate)
            except SourceError as exc:
                ctx.error(ItemKind.config, f"workspace:{name}", name, "—", str(exc))
                return None
            if candidate.is_dir():
                return candidate
    configured = dig(ctx.config, "agents.defaults.workspace")
    if isinstance(configured, str) and configured.strip():
        path = expand_source_path(ctx, configured)
        if path.is_dir():
            # An explicitly configured workspace outside the Claw dir is its own tree.
            if not path.resolve().is_relative_to(ctx.tree.real):
                ctx.workspace_tree = SourceTree(path, path)
            return path
    return None


def expand_source_path(ctx: Context, value: str) -> Path:
    """A path from openclaw.json; ``~/.openclaw/...`` (any legacy name) maps into claw_dir."""
    parts = Path(value).parts
    if len(parts) >= 2 and parts[0] == "~" and parts[1] in (".openclaw", ".clawdbot", ".moltbot"):
        return ctx.claw.joinpath(*parts[2:])
    if parts and parts[0] == "~" and ctx.home is not None:
        return ctx.home.joinpath(*parts[1:])
    return Path(value).expanduser()


def providers(ctx: Context) -> dict[str, dict[str, Any]]:
    """openclaw.json models.providers: provider id -> its settings (objects only)."""
    providers = dig(ctx.config, "models.providers")
    return {str(k): v for k, v in providers.items() if isinstance(v, dict)} if isinstance(providers, dict) else {}
