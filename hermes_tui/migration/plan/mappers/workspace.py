"""Workspace files: SOUL.md (copied, rebranded) and AGENTS.md (no Hermes target)."""

from __future__ import annotations

from hermes_tui.migration.plan.context import Context
from hermes_tui.migration.plan.edits import Edit
from hermes_tui.migration.plan.memtext import rebrand
from hermes_tui.migration.plan.model import ItemKind, ItemStatus, PlanItem
from hermes_tui.migration.plan.tree import SourceError


def soul(ctx: Context) -> None:
    ws = ctx.ws()
    src = ws / "SOUL.md"
    tree = ctx.ws_tree(ws)
    item_id, dest = "soul", "SOUL.md"
    if not src.exists() and not src.is_symlink():
        return ctx.skip(ItemKind.soul, item_id, tree.name(src), dest, "no SOUL.md in the workspace")
    try:
        text = rebrand(tree.read_text(src))
        current = ctx.target(dest)
        if dest in ctx.target_errors:
            raise SourceError(ctx.target_errors[dest])
    except SourceError as exc:
        return ctx.error(ItemKind.soul, item_id, tree.name(src), dest, str(exc))
    data = text.encode("utf-8")
    edits = [Edit(dest, "write", (data, 0o600))]
    if current == data:
        status, reason = ItemStatus.skipped, "already matches"
    elif current is not None:
        status, reason = ItemStatus.conflict, "SOUL.md already exists in the profile and differs"
    else:
        status, reason = ItemStatus.migrated, "copied with OpenClaw → Hermes rebranding"
    ctx.add(PlanItem(item_id, ItemKind.soul, tree.name(src), dest, status, reason, edits=edits))


def agents_md(ctx: Context) -> None:
    ws = ctx.ws()
    src = ws / "AGENTS.md"
    if src.exists():
        ctx.skip(ItemKind.agents_md, "agents_md", ctx.ws_tree(ws).name(src), "—",
                 "workspace rules need a workspace target; not migrated (kept in OpenClaw)")
