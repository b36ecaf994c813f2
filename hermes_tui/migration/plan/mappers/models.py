"""The model and its providers: agents.defaults.model and models.providers -> config.yaml.

The provider of the model is resolved by ``migration.providers``: built into Hermes, or a
custom_providers entry made from a provider with a baseUrl. API keys are secret rows
(``mappers.secrets``), not part of these rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from hermes_tui.migration.plan.context import Context
from hermes_tui.migration.plan.edits import block_mapping, to_yaml
from hermes_tui.migration.plan.items import yaml_item
from hermes_tui.migration.plan.model import ItemKind, ItemStatus
from hermes_tui.migration.plan.source import providers
from hermes_tui.migration.plan.tree import dig
from hermes_tui.migration.providers import BUILTIN_PROVIDERS, model_target


def model(ctx: Context) -> None:
    defaults = dig(ctx.config, "agents.defaults")
    if not isinstance(defaults, dict):
        return
    raw = defaults.get("model")
    source = "openclaw.json agents.defaults.model"
    if isinstance(raw, dict):
        raw, source = raw.get("primary"), source + ".primary"
    if not isinstance(raw, str) or not raw.strip():
        return
    value = raw.strip()
    catalog = defaults.get("models") if isinstance(defaults.get("models"), dict) else {}
    if value not in catalog:
        for key, meta in catalog.items():
            if isinstance(meta, dict) and meta.get("alias") == value:
                value = key
                break

    dest = "config.yaml model.provider / model.default"
    target = model_target(value, providers(ctx))
    alias = f" (alias {raw!r} resolved)" if value != raw else ""
    if target is None:
        return ctx.skip(ItemKind.model, "model", source, dest,
                        f"{value}{alias}: its provider is neither built into Hermes nor "
                        "configured with a baseUrl in openclaw.json; choose the model in "
                        "Hermes (hermes model)")

    def current(doc: CommentedMap | None) -> tuple[str, str]:
        model = doc.get("model") if doc is not None else None
        if isinstance(model, dict):
            default, provider = model.get("default"), model.get("provider")
        else:
            default, provider = model, None
        return (default.strip() if isinstance(default, str) else "",
                provider.strip() if isinstance(provider, str) else "")

    def decide(doc: CommentedMap | None) -> tuple[ItemStatus, str]:
        default, provider = current(doc)
        if default == target.default and provider == target.provider:
            return ItemStatus.skipped, "already matches"
        # What an earlier migration wrote (the full reference, no provider) is upgraded.
        if (default or provider) and not (default == value and not provider):
            shown = f"{default!r}" + (f" (provider {provider!r})" if provider else "")
            return ItemStatus.conflict, f"config.yaml already sets model {shown}"
        via = (f"the custom_providers entry from provider:{target.source_provider}"
               if target.custom else "built into Hermes")
        return ItemStatus.migrated, (f"model.provider = {target.provider} ({via}), "
                                     f"model.default = {target.default}{alias}")

    def mutate(doc: CommentedMap) -> None:
        model = block_mapping(doc, "model")
        model["default"] = target.default
        model["provider"] = target.provider
        # A base_url left from another provider would redirect this one's requests.
        model.pop("base_url", None)

    yaml_item(ctx, ItemKind.model, "model", source, dest, decide, mutate)


def custom_providers(ctx: Context) -> None:
    for pid, body in providers(ctx).items():
        item_id = f"provider:{pid}"
        source = f"openclaw.json models.providers.{pid}"
        if pid.lower() in BUILTIN_PROVIDERS:
            ctx.skip(ItemKind.custom_providers, item_id, source, "config.yaml custom_providers",
                     "built into Hermes; only its API key migrates (a secret item)")
            continue
        base_url = body.get("baseUrl") or body.get("baseURL")
        if not isinstance(base_url, str) or not base_url.strip():
            ctx.skip(ItemKind.custom_providers, item_id, source, "config.yaml custom_providers",
                     "no baseUrl")
            continue
        api = str(body.get("api") or body.get("apiType") or body.get("type") or "")
        api_mode = "anthropic_messages" if "anthropic" in api.lower() else "chat_completions"
        entry = {"name": pid, "base_url": base_url.strip(), "api_key": "", "api_mode": api_mode}

        def find(doc: CommentedMap | None, pid: str = pid) -> Any:
            seq = doc.get("custom_providers") if doc is not None else None
            if isinstance(seq, list):
                for existing in seq:
                    if isinstance(existing, dict) and str(existing.get("name", "")).lower() == pid.lower():
                        return existing
            return None

        def decide(doc: CommentedMap | None, entry: dict = entry, find: Callable = find) -> tuple[ItemStatus, str]:
            existing = find(doc)
            if existing is None:
                return ItemStatus.migrated, (f"{entry['name']} → {entry['base_url']} "
                                             f"({entry['api_mode']}; api_key left empty)")
            if (existing.get("base_url") == entry["base_url"]
                    and existing.get("api_mode", "chat_completions") == entry["api_mode"]):
                return ItemStatus.skipped, "already matches"
            return ItemStatus.conflict, f"config.yaml already has a provider named {existing.get('name')!r} that differs"

        def mutate(doc: CommentedMap, entry: dict = entry, find: Callable = find) -> None:
            seq = doc.get("custom_providers")
            if not isinstance(seq, list):
                seq = CommentedSeq()
                doc["custom_providers"] = seq
            existing = find(doc)
            if existing is None:
                seq.append(to_yaml(entry))
            else:
                for key in ("name", "base_url", "api_mode"):
                    existing[key] = entry[key]
                existing.setdefault("api_key", "")

        yaml_item(ctx, ItemKind.custom_providers, item_id, source,
                  f"config.yaml custom_providers[{pid}]", decide, mutate)
