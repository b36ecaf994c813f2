"""Row builders the mappers share: a config.yaml edit, leaf settings, a .env key, a secret.

Each decides the row's status against the profile as it is now (migrated, conflict,
skipped "already matches") and records the edit; none of them writes anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ruamel.yaml.comments import CommentedMap

from hermes_tui.migration.mcp import plain
from hermes_tui.migration.plan.context import Context
from hermes_tui.migration.plan.edits import Edit, block_mapping, to_yaml
from hermes_tui.migration.plan.model import ItemKind, ItemStatus, PlanItem
from hermes_tui.migration.plan.tree import SourceError
from hermes_tui.migration.redact import is_secret_name, looks_secret

_ENV_REF_RE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


def yaml_item(ctx: Context, kind: ItemKind, item_id: str, source: str, dest: str,
              decide: Callable[[CommentedMap | None], tuple[ItemStatus, str]],
              mutate: Callable[[CommentedMap], None], *, need_config: bool = False) -> None:
    """A row editing config.yaml with ``mutate``; ``decide`` gives its status against the
    profile's config.yaml as it is now (None: the profile has none)."""
    try:
        doc = ctx.config_doc()
    except SourceError as exc:
        return ctx.error(kind, item_id, source, dest, str(exc))
    if need_config and doc is None:
        return ctx.skip(kind, item_id, source, dest,
                        "the profile has no config.yaml yet (create the profile first)")
    status, reason = decide(doc)
    ctx.add(PlanItem(item_id, kind, source, dest, status, reason,
                     edits=[Edit("config.yaml", "yaml", mutate)]))


def settings_item(ctx: Context, kind: ItemKind, item_id: str, source: str, dest: str,
                  values: dict[str, Any], note: str = "") -> None:
    """An item setting leaf keys of config.yaml (``values``: dotted path -> value).

    Other keys of the same sections are kept. Conflict rules as for the other config.yaml
    rows: a key already set to a different value makes the item a conflict (overwrite sets
    every key of the item); every key already equal: skipped "already matches".
    """
    values = {k: v for k, v in values.items() if v is not None}
    if not values:
        return

    def decide(doc: CommentedMap | None) -> tuple[ItemStatus, str]:
        differing, new = [], []
        for dotted, value in values.items():
            now = _yaml_lookup(doc, dotted)
            if isinstance(now, _NotMapping):
                differing.append(f"{now.path} is not a mapping")
            elif now is None or now == "":
                new.append(f"{dotted} = {value}")
            elif plain(now) != value:
                differing.append(f"{dotted} = {plain(now)!r}")
        if differing:
            return ItemStatus.conflict, f"config.yaml already sets {', '.join(differing)}"
        if not new:
            return ItemStatus.skipped, "already matches"
        return ItemStatus.migrated, ", ".join(new) + (f"; {note}" if note else "")

    def mutate(doc: CommentedMap) -> None:
        for dotted, value in values.items():
            *parents, leaf = dotted.split(".")
            node = doc
            for part in parents:
                node = block_mapping(node, part)
            node[leaf] = to_yaml(value)

    yaml_item(ctx, kind, item_id, source, dest, decide, mutate)


def env_item(ctx: Context, kind: ItemKind, item_id: str, source: str, key: str, value: str, *,
             secret: bool = False, note: str = "", list_value: bool = False,
             group: str | None = None, extra: list[Edit] | None = None) -> None:
    dest = f".env {key}"
    try:
        current = ctx.env_values().get(key, "")
    except SourceError as exc:
        return ctx.error(kind, item_id, source, dest, str(exc), secret=secret)

    def same(a: str, b: str) -> bool:
        if list_value:
            return {x.strip() for x in a.split(",") if x.strip()} == {x.strip() for x in b.split(",") if x.strip()}
        return a == b

    if current and same(current, value):
        status, reason = ItemStatus.skipped, "already matches"
    elif current:
        status, reason = ItemStatus.conflict, f"the profile's .env already sets {key} to a different value"
    elif secret:
        status, reason = ItemStatus.migrated, f"sets {key}"
    else:
        status, reason = ItemStatus.migrated, f"{key}={value}"
    if note:
        reason += f" ({note})" if secret else f"; {note}"
    secrets = (value,) if secret else ()
    ctx.all_secrets.update(secrets)
    edits = [Edit(".env", "env", {key: value}), *(extra or [])]
    ctx.add(PlanItem(item_id, kind, source, dest, status, reason, secret=secret,
                     edits=edits, secret_values=secrets, group=group))


def resolve_value(ctx: Context, value: Any) -> tuple[str | None, str]:
    """A secret value, following ${VAR} and env SecretRefs through the Claw .env."""
    env = dict(ctx.claw_env)
    vars_ = ctx.config.get("env")
    if isinstance(vars_, dict):
        nested = vars_.get("vars")
        for src in (vars_, nested if isinstance(nested, dict) else {}):
            env.update({k: v for k, v in src.items() if isinstance(v, str)})
    if isinstance(value, dict):
        if value.get("source") == "env" and isinstance(value.get("id"), str):
            ref = value["id"]
            return (env.get(ref) or None), f"refers to ${{{ref}}}, which is not set in the OpenClaw .env"
        return None, f"a {value.get('source', 'secret')} reference: cannot be resolved offline"
    if not isinstance(value, str) or not value.strip():
        return None, "empty"
    m = _ENV_REF_RE.match(value.strip())
    if m:
        return (env.get(m.group(1)) or None), f"refers to ${{{m.group(1)}}}, which is not set in the OpenClaw .env"
    return value.strip(), ""


def secret_item(ctx: Context, key: str, source: str, raw: Any, *, extra: list[Edit] | None = None,
                what: str = "") -> None:
    value, why = resolve_value(ctx, raw)
    base_id = f"secret:{key}"
    slug = re.sub(r"\s+", ":", source)
    if value is None:
        if why != "empty":
            ctx.skip(ItemKind.secret, f"{base_id}@{slug}", source, f".env {key}", why, secret=True)
        return
    ctx.all_secrets.add(value)
    seen = ctx.secret_seen.get(key)
    if seen is not None and seen[0] == value:
        ctx.also_from(seen[1], source)
        return
    item_id = base_id if seen is None else f"{base_id}@{slug}"
    if seen is None:
        ctx.secret_seen[key] = (value, item_id)
    note = what or "secret"
    if seen is not None:
        note += f"; another value for {key} comes from {seen[1]}: select only one"
    env_item(ctx, ItemKind.secret, item_id, source, key, value, secret=True, note=note,
             group=f"env:{key}", extra=extra)


class _NotMapping:
    """Found where ``_yaml_lookup`` needed a mapping: ``path`` holds a scalar or a list."""

    def __init__(self, path: str) -> None:
        self.path = path


def _yaml_lookup(doc: Any, dotted: str) -> Any:
    """The value at ``dotted`` in config.yaml (None: unset), or ``_NotMapping``."""
    node = doc
    parts = dotted.split(".")
    for i, part in enumerate(parts):
        if node is None:
            return None
        if not isinstance(node, dict):
            return _NotMapping(".".join(parts[:i]))
        node = node.get(part)
    return node


def find_secrets_in(value: Any, secret_key: bool = False) -> set[str]:
    """Strings under secret-named keys, or shaped like credentials, anywhere in ``value``."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            found |= find_secrets_in(inner, is_secret_name(str(key)))
    elif isinstance(value, list):
        for inner in value:
            found |= find_secrets_in(inner, secret_key)
    elif isinstance(value, str) and value.strip() and (
            (secret_key and len(value) >= 8 and not _ENV_REF_RE.match(value.strip()))
            or looks_secret(value)):
        found.add(value)
    return found
