"""Secrets: provider keys, the Claw .env, env blocks, auth profiles, channel tokens and more.

Every value found is a secret row (off unless opted in) or, where Hermes has no such
setting, a skipped row; every value is also added to ``Context.all_secrets`` so that
the archive and anything shown mask it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ruamel.yaml.comments import CommentedMap

from hermes_tui.migration.detect import ConfigSyntaxError
from hermes_tui.migration.plan.context import Context
from hermes_tui.migration.plan.edits import Edit
from hermes_tui.migration.plan.items import find_secrets_in, resolve_value, secret_item
from hermes_tui.migration.plan.mappers.channels import CHANNEL_SECRETS, channel_field
from hermes_tui.migration.plan.model import ItemKind
from hermes_tui.migration.plan.source import providers
from hermes_tui.migration.plan.tree import SourceError, dig
from hermes_tui.migration.providers import BUILTIN_PROVIDERS
from hermes_tui.migration.redact import is_secret_name, looks_secret

PROVIDER_ENV = {
    "openrouter": "OPENROUTER_API_KEY",
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "google": "GEMINI_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "groq": "GROQ_API_KEY",
    "zai": "ZAI_API_KEY",
    "minimax": "MINIMAX_API_KEY",
}


def secrets(ctx: Context) -> None:
    for pid, body in providers(ctx).items():
        if "apiKey" not in body:
            continue
        key = PROVIDER_ENV.get(pid.lower()) or f"{_env_name(pid)}_API_KEY"
        extra = None
        if pid.lower() not in BUILTIN_PROVIDERS and (body.get("baseUrl") or body.get("baseURL")):
            try:
                ctx.config_doc()
                extra = [Edit("config.yaml", "yaml", _provider_key_ref(pid, key))]
            except SourceError:
                pass  # the provider item is an error already; the key still goes to .env
        secret_item(ctx, key, f"openclaw.json models.providers.{pid}.apiKey", body["apiKey"],
                    extra=extra,
                    what="provider API key" + (f"; custom_providers[{pid}].key_env = {key}" if extra else ""))
    for name, value in ctx.claw_env.items():
        if name == "OPENCLAW_GATEWAY_TOKEN":
            gateway_token(ctx, f".env {name}", value)
        elif is_secret_name(name) or looks_secret(value):
            secret_item(ctx, name, f".env {name}", value)
        else:
            ctx.skip(ItemKind.secret, f"env:{name}@.env", f".env {name}", "—",
                     "not a setting Hermes reads: left in OpenClaw")
    env_block = ctx.config.get("env")
    if isinstance(env_block, dict):
        nested = env_block.get("vars")
        pairs = [(f"env.{k}", k, v) for k, v in env_block.items() if k != "vars"]
        if isinstance(nested, dict):
            pairs += [(f"env.vars.{k}", k, v) for k, v in nested.items()]
        for where, name, value in pairs:
            if isinstance(value, str) and (is_secret_name(name) or looks_secret(value)):
                secret_item(ctx, name, f"openclaw.json {where}", value)
    auth_profiles(ctx)
    channels = ctx.config.get("channels") if isinstance(ctx.config.get("channels"), dict) else {}
    for channel, field_name, key in CHANNEL_SECRETS:
        body = channels.get(channel)
        if isinstance(body, dict) and body.get("enabled") is not False:
            value = channel_field(body, field_name)
            if value:
                secret_item(ctx, key, f"openclaw.json channels.{channel}.{field_name}", value,
                            what=f"{channel} credential")
    for dotted in ("gateway.auth.token", "gateway.remote.token"):
        value = dig(ctx.config, dotted)
        if value:
            gateway_token(ctx, f"openclaw.json {dotted}", value)
    password = dig(ctx.config, "gateway.auth.password")
    if password:
        ctx.all_secrets.add(str(password))
        ctx.skip(ItemKind.secret, "secret:gateway.auth.password", "openclaw.json gateway.auth.password",
                 "—", "Hermes has no gateway password setting: not migrated", secret=True)
    singles = (("tools.web.search.brave.apiKey", "BRAVE_API_KEY"),
               ("messages.tts.elevenlabs.apiKey", "ELEVENLABS_API_KEY"),
               ("talk.apiKey", "ELEVENLABS_API_KEY"),
               ("messages.tts.openai.apiKey", "VOICE_TOOLS_OPENAI_KEY"),
               # Newer OpenClaw keeps provider settings under .providers.<name>.
               ("messages.tts.providers.elevenlabs.apiKey", "ELEVENLABS_API_KEY"),
               ("talk.providers.elevenlabs.apiKey", "ELEVENLABS_API_KEY"),
               ("messages.tts.providers.openai.apiKey", "VOICE_TOOLS_OPENAI_KEY"),
               ("talk.providers.openai.apiKey", "VOICE_TOOLS_OPENAI_KEY"))
    for dotted, key in singles:
        value = dig(ctx.config, dotted)
        if value:
            secret_item(ctx, key, f"openclaw.json {dotted}", value)
    plugins = dig(ctx.config, "plugins.entries")
    if isinstance(plugins, dict):
        for pid, body in plugins.items():
            if isinstance(body, dict) and body.get("apiKey"):
                secret_item(ctx, f"PLUGIN_{_env_name(pid)}_API_KEY",
                            f"openclaw.json plugins.entries.{pid}.apiKey", body["apiKey"])
    collect_other_secrets(ctx)


def gateway_token(ctx: Context, source: str, raw: Any) -> None:
    """OpenClaw's gateway token has no Hermes counterpart: no Hermes code reads a
    HERMES_GATEWAY_TOKEN, and its API server takes API_SERVER_KEY. Not migrated; the
    gateway settings are archived (token redacted)."""
    value, _ = resolve_value(ctx, raw)
    if value:
        ctx.all_secrets.add(value)
        if value in ctx.gateway_tokens:  # the .env's token, referred to again in openclaw.json
            ctx.also_from(ctx.gateway_tokens[value], source)
            return
    slug = re.sub(r"\s+", ":", source)
    if value:
        ctx.gateway_tokens[value] = f"secret:gateway-token@{slug}"
    ctx.skip(ItemKind.secret, f"secret:gateway-token@{slug}", source, "—",
             "Hermes has no gateway token setting (nothing reads HERMES_GATEWAY_TOKEN; its "
             "API server uses API_SERVER_KEY): not migrated; the gateway settings are "
             "archived in archive/gateway-config.json with the token redacted", secret=True)


def auth_profiles(ctx: Context) -> None:
    base = ctx.claw / "agents"
    if not base.is_dir():
        return
    for path in sorted(base.glob("*/agent/auth-profiles.json")):
        name = ctx.tree.name(path)
        try:
            data = ctx.tree.read_json(path)
        except (SourceError, ConfigSyntaxError) as exc:
            ctx.error(ItemKind.secret, f"source:{name}", name, ".env", str(exc), secret=True)
            continue
        profiles = data.get("profiles")
        for pname, body in (profiles.items() if isinstance(profiles, dict) else []):
            if not isinstance(body, dict):
                continue
            value = body.get("key") or body.get("apiKey") or body.get("token")
            provider = str(body.get("provider") or str(pname).split(":", 1)[0])
            if value:
                key = PROVIDER_ENV.get(provider.lower()) or f"{_env_name(provider)}_API_KEY"
                secret_item(ctx, key, f"{name} profiles.{pname}", value, what="provider API key")


def collect_other_secrets(ctx: Context) -> None:
    """Every secret-looking value anywhere in openclaw.json, for masking only."""
    ctx.all_secrets.update(find_secrets_in(ctx.config))


def _env_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").upper() or "PROVIDER"


def _provider_key_ref(pid: str, key: str) -> Callable[[CommentedMap], None]:
    def mutate(doc: CommentedMap) -> None:
        seq = doc.get("custom_providers")
        for entry in seq if isinstance(seq, list) else []:
            # Hermes reads a custom provider's key from the environment named by key_env
            # (the same mechanism the LLM bridge uses); the key itself stays in .env.
            if (isinstance(entry, dict) and str(entry.get("name", "")).lower() == pid.lower()
                    and not entry.get("api_key") and not entry.get("key_env")):
                entry["key_env"] = key
    return mutate
