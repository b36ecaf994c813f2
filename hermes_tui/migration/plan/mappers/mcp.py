"""MCP servers: openclaw.json mcp.servers -> config.yaml mcp_servers (via ``migration.mcp``).

Credentials found in a server's settings become ``${VAR}`` references in config.yaml and
secret rows for .env.
"""

from __future__ import annotations

from ruamel.yaml.comments import CommentedMap

from hermes_tui.migration.mcp import mcp_entry, plain
from hermes_tui.migration.plan.context import Context
from hermes_tui.migration.plan.edits import block_mapping, to_yaml
from hermes_tui.migration.plan.items import find_secrets_in, secret_item, yaml_item
from hermes_tui.migration.plan.model import ItemKind, ItemStatus
from hermes_tui.migration.plan.tree import dig


def mcp_servers(ctx: Context) -> None:
    servers = dig(ctx.config, "mcp.servers")
    if not isinstance(servers, dict):
        return
    for name, body in servers.items():
        item_id = f"mcp:{name}"
        source = f"openclaw.json mcp.servers.{name}"
        dest = f"config.yaml mcp_servers.{name}"
        if not isinstance(body, dict):
            ctx.error(ItemKind.mcp_servers, item_id, source, dest, "not an object")
            continue
        entry = mcp_entry(str(name), body)
        converted = entry.config
        needed = [c.var for c in entry.credentials] + entry.references
        found = find_secrets_in(body)
        ctx.all_secrets.update(found)
        notes = []
        if needed:
            refs = ", ".join(f"${{{var}}}" for var in dict.fromkeys(needed))
            if ctx.migrate_secrets:
                notes.append(f"credentials as {refs}; their values go to .env (secret rows)")
            else:
                notes.append(f"credentials as {refs}: set them in .env (or select their "
                             "secret rows / --migrate-secrets), or the server cannot log in")
        if entry.dropped:
            notes.append("left out: " + ", ".join(entry.dropped))
        note = "; " + "; ".join(notes) if notes else ""

        def decide(doc: CommentedMap | None, name: str = name, converted: dict = converted,
                   note: str = note) -> tuple[ItemStatus, str]:
            servers = doc.get("mcp_servers") if doc is not None else None
            existing = servers.get(name) if isinstance(servers, dict) else None
            if existing is None:
                kind = "stdio" if "command" in converted else "http" if "url" in converted else "server"
                return ItemStatus.migrated, f"{kind} server, keys in snake_case{note}"
            if plain(existing) == converted:
                return ItemStatus.skipped, "already matches"
            return ItemStatus.conflict, f"config.yaml already has an MCP server {name!r} that differs"

        def mutate(doc: CommentedMap, name: str = name, converted: dict = converted) -> None:
            block_mapping(doc, "mcp_servers")[name] = to_yaml(converted)

        yaml_item(ctx, ItemKind.mcp_servers, item_id, source, dest, decide, mutate)
        for credential in entry.credentials:
            secret_item(ctx, credential.var, f"{source}.{credential.where}", credential.value,
                        what=f"MCP server {name} credential, referenced from config.yaml")
        for var in dict.fromkeys(entry.references):
            secret_item(ctx, var, f"{source} (${{{var}}})", f"${{{var}}}",
                        what=f"MCP server {name} credential, referenced from config.yaml")
