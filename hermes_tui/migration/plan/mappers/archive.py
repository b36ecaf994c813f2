"""The archive: workspace files and openclaw.json sections Hermes has no place for.

Copied under the run's archive/ for reference, never activated. openclaw.json sections are
dumped with every secret ``Context.all_secrets`` knows redacted, so this mapper runs after
every mapper that finds secrets. A copy identical to one of an earlier run is skipped.
"""

from __future__ import annotations

import json
from pathlib import Path

from hermes_tui.migration.plan.context import Context
from hermes_tui.migration.plan.model import ItemKind, ItemStatus, PlanItem
from hermes_tui.migration.plan.tree import SourceError, dig, previous_archives, read_or_none
from hermes_tui.migration.redact import redact_json

ARCHIVE_FILES = ("IDENTITY.md", "TOOLS.md", "HEARTBEAT.md", "BOOTSTRAP.md")
ARCHIVE_DIRS = (".learnings", "memory", "hooks")
#: (dotted key in openclaw.json, archive file name) dumped as JSON with secrets redacted.
ARCHIVE_DUMPS = (
    ("agents.defaults.models", "model-aliases.json"),
    ("agents.list", "agents-list.json"),
    ("agents.entries", "agents-entries.json"),
    ("gateway", "gateway-config.json"),
    ("plugins", "plugins-config.json"),
    ("tools", "tools-config.json"),
    ("skills.entries", "skills-entries.json"),
    ("session", "session-config.json"),
    ("messages", "messages-config.json"),
    ("talk", "talk-config.json"),
    ("cron", "cron-config.json"),
    ("hooks", "hooks-config.json"),
    ("bindings", "bindings.json"),
    ("browser", "browser-config.json"),
    ("approvals", "approvals-config.json"),
    ("memory", "memory-backend.json"),
    ("ui", "ui-config.json"),
    ("logging", "logging-config.json"),
    ("diagnostics", "diagnostics-config.json"),
)
#: What an archive row says beyond "kept for reference", per dotted key.
ARCHIVE_NOTES = {
    "gateway": ("secrets redacted; the gateway token is not migrated: Hermes has no such "
                "setting, its API server uses API_SERVER_KEY"),
    "browser": "secrets redacted; cdpUrl and headless are also mapped to config.yaml browser",
}
CHANNEL_CORE_KEYS = frozenset({"enabled", "allowFrom", "token", "botToken", "appToken",
                                "accessToken", "password", "account", "httpUrl", "accounts",
                                "homeserverUrl", "homeserver", "homeServer", "userId"})


def archive(ctx: Context) -> None:
    ws = ctx.workspace
    previous = previous_archives(ctx.profile)
    if ws is not None:
        tree = ctx.ws_tree(ws)
        for name in ARCHIVE_FILES:
            src = ws / name
            if not src.exists() and not src.is_symlink():
                continue
            try:
                data = tree.read_bytes(src)
            except SourceError as exc:
                ctx.error(ItemKind.archive, f"archive:{name}", tree.name(src), f"archive/workspace/{name}", str(exc))
                continue
            _archive_item(ctx, f"archive:{name}", tree.name(src), f"archive/workspace/{name}",
                          [(f"workspace/{name}", data)], previous)
        for name in ARCHIVE_DIRS:
            folder = ws / name
            if not folder.is_dir() or folder.is_symlink():
                if folder.is_symlink():
                    ctx.error(ItemKind.archive, f"archive:{name}/", tree.name(folder),
                              f"archive/workspace/{name}/", f"{tree.name(folder)} is a linked folder: not followed.")
                continue
            files, escapes, errors = tree.walk(folder)
            for note in escapes:
                ctx.error(ItemKind.archive, f"link:{note.split(' ')[0]}", note.split(" ")[0],
                          f"archive/workspace/{name}/", note)
            if errors:
                ctx.error(ItemKind.archive, f"archive:{name}/", tree.name(folder),
                          f"archive/workspace/{name}/", " ".join(errors))
                continue
            if files:
                _archive_item(ctx, f"archive:{name}/", tree.name(folder) + "/",
                              f"archive/workspace/{name}/",
                              [(f"workspace/{name}/{rel}", data) for rel, data, _ in files], previous)
    if ctx.config:
        secrets = tuple(ctx.all_secrets)
        for dotted, fname in ARCHIVE_DUMPS:
            value = dig(ctx.config, dotted)
            if value in (None, {}, []):
                continue
            dump = json.dumps(redact_json(value, secrets), indent=2, ensure_ascii=False) + "\n"
            note = ARCHIVE_NOTES.get(dotted, "secrets redacted")
            _archive_item(ctx, f"archive:{fname}", f"openclaw.json {dotted}", f"archive/{fname}",
                          [(fname, dump.encode("utf-8"))], previous, note=note)
        extras = {}
        channels = ctx.config.get("channels")
        for cname, body in (channels.items() if isinstance(channels, dict) else []):
            if isinstance(body, dict):
                rest = {k: v for k, v in body.items() if k not in CHANNEL_CORE_KEYS}
                if rest:
                    extras[cname] = rest
        if extras:
            dump = json.dumps(redact_json(extras, secrets), indent=2, ensure_ascii=False) + "\n"
            _archive_item(ctx, "archive:channels-deep-config.json", "openclaw.json channels.* (other keys)",
                          "archive/channels-deep-config.json",
                          [("channels-deep-config.json", dump.encode("utf-8"))], previous,
                          note="secrets redacted")


def _archive_item(ctx: Context, item_id: str, source: str, dest: str, files: list[tuple[str, bytes]],
                  previous: list[Path], note: str = "") -> None:
    hit = next((run for run in previous
                if all(read_or_none(run / "archive" / rel) == data for rel, data in files)), None)
    if hit is not None:
        ctx.add(PlanItem(item_id, ItemKind.archive, source, dest, ItemStatus.skipped,
                         f"already archived in {hit.name}", selected=False))
        return
    reason = "kept for reference under the run's archive/, never activated"
    if note:
        reason += f" ({note})"
    ctx.add(PlanItem(item_id, ItemKind.archive, source, dest, ItemStatus.archived, reason,
                     archive=files))
