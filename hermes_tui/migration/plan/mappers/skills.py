"""Skills (workspace, shared, ~/.agents) into skills/openclaw-imports, and the tts/ folder.

Each skill folder is one row copying the whole tree. Two skills never merge into one
folder: a name already taken (``Context.claimed_skill_names``) makes a conflict the user can
resolve by importing under a new name.
"""

from __future__ import annotations

from pathlib import Path

from hermes_tui.fsutil import describe_os_error
from hermes_tui.migration.plan.context import Context
from hermes_tui.migration.plan.edits import Edit
from hermes_tui.migration.plan.model import ItemKind, ItemStatus, PlanItem
from hermes_tui.migration.plan.tree import SourceError, SourceTree

IMPORTS_DIR = "skills/openclaw-imports"


def workspace_skills(ctx: Context) -> None:
    ws = ctx.ws()
    _skills(ctx, ws / "skills", ItemKind.skills, ws)


def _skills(ctx: Context, folder: Path, kind: ItemKind, ws: Path | None, tree: SourceTree | None = None,
            prefix: str = "") -> None:
    tree = tree or (ctx.ws_tree(ws) if ws is not None else ctx.tree)
    if not folder.is_dir() and not folder.is_symlink():
        return
    try:
        tree.check_inside(folder)
        entries = sorted(folder.iterdir())
    except SourceError as exc:
        return ctx.error(kind, f"{kind}:{tree.name(folder)}", tree.name(folder), IMPORTS_DIR, str(exc))
    except OSError as exc:
        return ctx.error(kind, f"{kind}:{tree.name(folder)}", tree.name(folder), IMPORTS_DIR,
                         describe_os_error(exc, folder, action="read"))
    for skill_dir in entries:
        name = skill_dir.name
        item_id = f"{'skill' if kind is ItemKind.skills else 'shared_skill'}:{prefix}{name}"
        if skill_dir.is_symlink():
            try:
                tree.check_inside(skill_dir)
            except SourceError as exc:
                ctx.error(kind, item_id, tree.name(skill_dir), f"{IMPORTS_DIR}/{name}", str(exc))
                continue
        if not skill_dir.is_dir() or not (skill_dir / "SKILL.md").exists():
            continue
        _skill(ctx, kind, item_id, name, skill_dir, tree)


def _tree_item(ctx: Context, kind: ItemKind, item_id: str, src_dir: Path, tree: SourceTree,
               dest_dir: str, *, renamable: bool, extra: list[Edit] | None = None) -> None:
    source = tree.name(src_dir)
    files, escapes, errors = tree.walk(src_dir)
    for note in escapes:
        ctx.error(kind, f"link:{note.split(' ')[0]}", note.split(" ")[0], dest_dir, note)
    if errors:
        return ctx.error(kind, item_id, source, dest_dir, " ".join(errors))

    def edits_for(dest: str) -> list[Edit]:
        return [Edit(f"{dest}/{rel}", "write", (data, mode)) for rel, data, mode in files] + (extra or [])

    edits = edits_for(dest_dir)
    for edit in edits:
        ctx.target(edit.path)
    existing = (ctx.profile / dest_dir)
    same = all(ctx.base.get(f"{dest_dir}/{rel}") == data for rel, data, _ in files)
    if existing.exists() and same:
        status, reason = ItemStatus.skipped, "already matches"
    elif existing.exists() and renamable:
        status, reason = ItemStatus.conflict, f"{dest_dir}/ already exists and differs"
    elif existing.exists():
        differing = [rel for rel, data, _ in files
                     if ctx.base.get(f"{dest_dir}/{rel}") not in (None, data)]
        if differing:
            status = ItemStatus.conflict
            reason = f"{len(differing)} file(s) in {dest_dir}/ exist and differ: {', '.join(differing[:3])}"
        else:
            status, reason = ItemStatus.migrated, f"{len(files)} file(s) copied (existing ones kept)"
            edits = [e for e in edits if ctx.base.get(e.path) is None]
    else:
        status, reason = ItemStatus.migrated, f"{len(files)} file(s) copied"
    if escapes and status is not ItemStatus.skipped:
        reason += f"; {len(escapes)} link(s) left out"
    item = PlanItem(item_id, kind, source, dest_dir, status, reason, edits=edits)
    if renamable:
        item.allowed = ("overwrite", "skip")

        chosen: list[tuple[str, list[Edit]]] = []

        def renamer() -> tuple[str, list[Edit]]:
            if chosen:
                return chosen[0]
            base_name = dest_dir.rsplit("/", 1)[-1]
            n = 1
            while True:
                suffix = "-imported" if n == 1 else f"-imported-{n}"
                new_dest = f"{dest_dir.rsplit('/', 1)[0]}/{base_name}{suffix}"
                new_name = base_name + suffix
                if not (ctx.profile / new_dest).exists() and new_name not in ctx.claimed_skill_names:
                    ctx.claimed_skill_names.add(new_name)
                    new_edits = edits_for(new_dest)
                    for edit in new_edits:
                        ctx.base.setdefault(edit.path, None)
                    chosen.append((new_dest, new_edits))
                    return chosen[0]
                n += 1

        item.renamer = renamer
    ctx.add(item)


def _skill(ctx: Context, kind: ItemKind, item_id: str, name: str, skill_dir: Path, tree: SourceTree) -> None:
    dest = f"{IMPORTS_DIR}/{name}"
    desc = Edit(f"{IMPORTS_DIR}/DESCRIPTION.md", "create",
                (b"Skills imported from OpenClaw by hermes-tui.\n", 0o644))
    ctx.target(desc.path)
    if name in ctx.claimed_skill_names:
        # Same name as a skill planned earlier: never merge two skills into one folder.
        _tree_item(ctx, kind, item_id, skill_dir, tree, dest, renamable=True, extra=[desc])
        item = ctx.items[-1]
        if item.base_status is not ItemStatus.error:
            item.status = item.base_status = ItemStatus.conflict
            item.reason = item.base_reason = "another imported skill already has this name"
            item.allowed = ("skip",)
        return
    ctx.claimed_skill_names.add(name)
    _tree_item(ctx, kind, item_id, skill_dir, tree, dest, renamable=True, extra=[desc])


def shared_skills(ctx: Context) -> None:
    ws = ctx.workspace
    _skills(ctx, ctx.claw / "skills", ItemKind.shared_skills, None, ctx.tree)
    if ws is not None:
        _skills(ctx, ws / ".agents" / "skills", ItemKind.shared_skills, ws, prefix="agents:")
    if ctx.home is not None:
        folder = ctx.home / ".agents" / "skills"
        if folder.is_dir():
            _skills(ctx, folder, ItemKind.shared_skills, None, SourceTree(folder, ctx.home),
                    prefix="home:")


def tts_files(ctx: Context) -> None:
    ws = ctx.ws()
    folder = ws / "tts"
    if folder.is_dir():
        tree = ctx.ws_tree(ws)
        try:
            tree.check_inside(folder)
        except SourceError as exc:
            return ctx.error(ItemKind.tts, "tts", tree.name(folder), "tts", str(exc))
        _tree_item(ctx, ItemKind.tts, "tts", folder, tree, "tts", renamable=False)
