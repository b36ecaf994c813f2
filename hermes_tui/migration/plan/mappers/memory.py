"""Memory: MEMORY.md and USER.md as §-separated entries, then the daily notes (memory/*.md).

Entries merge into the profile's memories/ files under Hermes's character caps; what does
not fit goes to the run's overflow file. Each row counts the entries earlier rows add to
the same file (``Context.planned_memory``), which is why the daily notes come after
MEMORY.md.
"""

from __future__ import annotations

import re
from pathlib import Path

from hermes_tui.fsutil import describe_os_error
from hermes_tui.migration.plan.context import Context
from hermes_tui.migration.plan.edits import Edit
from hermes_tui.migration.plan.memtext import (
    MEMORY_CHAR_LIMIT,
    USER_CHAR_LIMIT,
    extract_entries,
    merge_entries,
    rebrand,
    split_memory,
)
from hermes_tui.migration.plan.model import ItemKind, ItemStatus, PlanItem
from hermes_tui.migration.plan.tree import SourceError, previous_archives, read_or_none


def _memory_caps(ctx: Context) -> tuple[int, int]:
    try:
        doc = ctx.config_doc()
    except SourceError:
        doc = None
    mem = doc.get("memory") if isinstance(doc, dict) else None
    mem = mem if isinstance(mem, dict) else {}

    def num(key: str, default: int) -> int:
        value = mem.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default

    return num("memory_char_limit", MEMORY_CHAR_LIMIT), num("user_char_limit", USER_CHAR_LIMIT)


def _memory_item(ctx: Context, kind: ItemKind, item_id: str, source: str, dest: str,
                 entries: list[str], overflow_name: str, planned: list[str]) -> None:
    """An item merging ``entries`` into ``dest``; ``planned`` are earlier items' entries."""
    cap = _memory_caps(ctx)[1 if dest.endswith("USER.md") else 0]
    try:
        current = split_memory(ctx.target_text(dest) or "")
    except SourceError as exc:
        return ctx.error(kind, item_id, source, dest, str(exc))
    before, _ = merge_entries(current, planned, cap)
    after, over = merge_entries(before, entries, cap)
    added = len(after) - len(before)
    edits = [Edit(dest, "memory", (entries, cap, overflow_name))]
    if not entries:
        status, reason = ItemStatus.skipped, "no entries found"
    elif added == 0 and not over:
        status, reason = ItemStatus.skipped, "already matches (every entry is there)"
    elif added == 0 and _overflowed_before(ctx, overflow_name, over):
        status = ItemStatus.skipped
        reason = (f"no room under the {cap}-character cap; its {len(over)} entries are "
                  f"already in overflow/{overflow_name}_overflow.txt of an earlier run")
    elif added == 0:
        # Nothing fits, but the entries are kept: selecting the item writes them to the
        # run's overflow file (deselecting leaves them out).
        status = ItemStatus.archived
        reason = (f"no room under the {cap}-character cap: its {len(over)} entries go to "
                  f"overflow/{overflow_name}_overflow.txt in the run folder, not into {dest}")
    else:
        status = ItemStatus.migrated
        reason = f"{added} entries merged (§-separated, cap {cap} characters)"
        if over:
            reason += (f"; {len(over)} over the cap go to overflow/{overflow_name}_overflow.txt "
                       "in the run folder")
    ctx.add(PlanItem(item_id, kind, source, dest, status, reason, edits=edits))
    planned.extend(entries)


def _overflowed_before(ctx: Context, name: str, entries: list[str]) -> bool:
    """Every one of ``entries`` is in the overflow file of an earlier (not undone) run."""
    for run in previous_archives(ctx.profile):
        data = read_or_none(run / "overflow" / f"{name}_overflow.txt")
        if data is not None:
            lines = set(data.decode("utf-8", "replace").splitlines())
            if all(entry in lines for entry in entries):
                return True
    return False


def _memory_file(ctx: Context, ws: Path, name: str, kind: ItemKind, dest: str) -> None:
    src = ws / name
    tree = ctx.ws_tree(ws)
    if not src.exists() and not src.is_symlink():
        return ctx.skip(kind, str(kind), tree.name(src), dest, f"no {name} in the workspace")
    try:
        entries = [rebrand(e) for e in extract_entries(tree.read_text(src))]
    except SourceError as exc:
        return ctx.error(kind, str(kind), tree.name(src), dest, str(exc))
    planned = ctx.planned_memory.setdefault(dest, [])
    _memory_item(ctx, kind, str(kind), tree.name(src), dest, entries,
                 "user" if kind is ItemKind.user_profile else "memory", planned)


def daily_memory(ctx: Context) -> None:
    ws = ctx.ws()
    folder = ws / "memory"
    tree = ctx.ws_tree(ws)
    if not folder.is_dir():
        return
    try:
        tree.check_inside(folder)
        names = sorted(p for p in folder.iterdir() if p.suffix == ".md")
    except SourceError as exc:
        return ctx.error(ItemKind.daily_memory, "daily_memory", tree.name(folder),
                         "memories/MEMORY.md", str(exc))
    except OSError as exc:
        return ctx.error(ItemKind.daily_memory, "daily_memory", tree.name(folder),
                         "memories/MEMORY.md", describe_os_error(exc, folder, action="read"))
    dest = "memories/MEMORY.md"
    planned = ctx.planned_memory.setdefault(dest, [])
    for path in names:
        item_id = f"daily_memory:{path.name}"
        try:
            entries = [rebrand(e) for e in extract_entries(tree.read_text(path))]
        except SourceError as exc:
            ctx.error(ItemKind.daily_memory, item_id, tree.name(path), dest, str(exc))
            continue
        if entries and not re.match(r"\d{4}-\d{2}-\d{2}", entries[0]):
            entries = [f"{path.stem}: {e}" for e in entries]
        _memory_item(ctx, ItemKind.daily_memory, item_id, tree.name(path), dest, entries,
                     "memory", planned)


def memory_md(ctx: Context) -> None:
    _memory_file(ctx, ctx.ws(), "MEMORY.md", ItemKind.memory, "memories/MEMORY.md")


def user_md(ctx: Context) -> None:
    _memory_file(ctx, ctx.ws(), "USER.md", ItemKind.user_profile, "memories/USER.md")
