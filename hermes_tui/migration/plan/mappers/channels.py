"""Channels: openclaw.json channels.* -> the .env keys Hermes's gateway reads.

Key names come from ``hermes_tui.channels.CATALOG`` (the same catalog the channels step
writes from), so the migration and the wizard cannot name a key differently. Tokens and
passwords are secret rows made by ``mappers.secrets`` from ``CHANNEL_SECRETS``; this mapper
makes the plain rows: allow-lists, WhatsApp's enable flag, Signal and Matrix settings.
"""

from __future__ import annotations

from typing import Any

from hermes_tui.channels import CATALOG
from hermes_tui.migration.detect import ConfigSyntaxError
from hermes_tui.migration.plan.context import Context
from hermes_tui.migration.plan.items import env_item
from hermes_tui.migration.plan.model import ItemKind
from hermes_tui.migration.plan.tree import SourceError, dig

_CATALOG = {channel.id: channel for channel in CATALOG}


def _key(channel: str, suffix: str) -> str:
    """The catalog's one .env key of ``channel`` ending in ``suffix``; fails at import if the
    catalog stops knowing it, rather than writing a key the wizard does not."""
    keys = [f.key for f in _CATALOG[channel].fields if f.key.endswith(suffix)]
    if len(keys) != 1:
        raise LookupError(f"channels.CATALOG has {keys} for {channel} *{suffix}")
    return keys[0]


#: Channels whose allowFrom becomes Hermes's allow-list (gateway/authz_mixin.py), in the
#: catalog's key. Email and Mattermost have catalog allow-lists but no OpenClaw mapping yet.
ALLOW_LISTS = {name: _CATALOG[name].allow_list_key
               for name in ("telegram", "discord", "slack", "whatsapp", "signal", "matrix")}
#: WhatsApp pairs by QR code: no token, a fixed enable flag instead.
WHATSAPP_ENABLE = next((f.key, f.fixed) for f in _CATALOG["whatsapp"].fields if f.fixed)
SIGNAL_FIELDS = (("account", _key("signal", "_ACCOUNT")), ("httpUrl", _key("signal", "_HTTP_URL")))
#: gateway/config.py: MATRIX_HOMESERVER and MATRIX_USER_ID; the gateway turns Matrix on only
#: once MATRIX_ACCESS_TOKEN (a secret row) is set too.
MATRIX_FIELDS = ((("homeserverUrl", "homeserver", "homeServer"), _key("matrix", "_HOMESERVER")),
                 (("userId", "user"), _key("matrix", "_USER_ID")))
#: (channel, OpenClaw field, .env key) of every channel credential, in row order.
CHANNEL_SECRETS = (
    ("telegram", "botToken", _key("telegram", "_BOT_TOKEN")),
    ("discord", "token", _key("discord", "_BOT_TOKEN")),
    ("slack", "botToken", _key("slack", "_BOT_TOKEN")),
    ("slack", "appToken", _key("slack", "_APP_TOKEN")),
    ("matrix", "accessToken", _key("matrix", "_ACCESS_TOKEN")),
    ("mattermost", "botToken", _key("mattermost", "_TOKEN")),
    # Not in the catalog (the wizard does not offer BlueBubbles); the name Hermes reads.
    ("bluebubbles", "password", "BLUEBUBBLES_PASSWORD"),
)
TELEGRAM_ALLOW_FILE = "credentials/telegram-default-allowFrom.json"


def channel_field(body: dict[str, Any], name: str) -> Any:
    """A channel setting, or the same setting of its default account."""
    if name in body:
        return body[name]
    default = dig(body, "accounts.default")
    return default.get(name) if isinstance(default, dict) else None


def channels(ctx: Context) -> None:
    channels = ctx.config.get("channels")
    if not isinstance(channels, dict):
        channels = {}
    for name, body in channels.items():
        if not isinstance(body, dict):
            continue
        src = f"openclaw.json channels.{name}"
        if body.get("enabled") is False:
            ctx.skip(ItemKind.channel_settings, f"channel:{name}", src, ".env",
                     "disabled in OpenClaw: not migrated")
            continue
        if name not in ALLOW_LISTS:
            continue
        allow_key = ALLOW_LISTS[name]
        allow = channel_field(body, "allowFrom")
        ids = [str(x).strip() for x in allow if str(x).strip()] if isinstance(allow, list) else []
        sources = [f"{src}.allowFrom"] if ids else []
        if name == "telegram":
            extra = _telegram_allow_file(ctx)
            if extra:
                sources.append(TELEGRAM_ALLOW_FILE)
            ids += [x for x in extra if x not in ids]
        ids = list(dict.fromkeys(ids))
        note = ("WhatsApp needs pairing again: scan the QR code when the Hermes gateway starts "
                "(hermes whatsapp)" if name == "whatsapp" else "")
        if ids:
            env_item(ctx, ItemKind.channel_settings, f"env:{allow_key}", " + ".join(sources),
                     allow_key, ",".join(ids), note=note, list_value=True)
        if name == "whatsapp":
            key, value = WHATSAPP_ENABLE
            env_item(ctx, ItemKind.channel_settings, f"env:{key}", src, key, value, note=note)
        if name == "signal":
            for field_name, key in SIGNAL_FIELDS:
                value = channel_field(body, field_name)
                if isinstance(value, str) and value.strip():
                    env_item(ctx, ItemKind.channel_settings, f"env:{key}", f"{src}.{field_name}",
                             key, value.strip())
        if name == "matrix":
            token = _key("matrix", "_ACCESS_TOKEN")
            for field_names, key in MATRIX_FIELDS:
                field_name, value = next(
                    ((f, v) for f in field_names
                     if isinstance(v := channel_field(body, f), str) and v.strip()),
                    (None, None))
                if field_name is not None and isinstance(value, str):
                    env_item(ctx, ItemKind.channel_settings, f"env:{key}", f"{src}.{field_name}",
                             key, value.strip(),
                             note=f"Matrix starts once {token} is set (secret row)")
    if "telegram" not in channels:
        extra = _telegram_allow_file(ctx)
        if extra:
            key = ALLOW_LISTS["telegram"]
            env_item(ctx, ItemKind.channel_settings, f"env:{key}", TELEGRAM_ALLOW_FILE, key,
                     ",".join(extra), list_value=True)


def _telegram_allow_file(ctx: Context) -> list[str]:
    """Telegram ids OpenClaw's pairing stored outside openclaw.json.

    Read at most once per plan: the two callers in ``channels`` exclude each other, so an
    unreadable file makes exactly one error row.
    """
    path = ctx.claw / TELEGRAM_ALLOW_FILE
    if not path.exists() and not path.is_symlink():
        return []
    try:
        data = ctx.tree.read_json(path)
    except (SourceError, ConfigSyntaxError) as exc:
        ctx.error(ItemKind.channel_settings, "source:telegram-default-allowFrom.json",
                  TELEGRAM_ALLOW_FILE, f".env {ALLOW_LISTS['telegram']}", str(exc))
        return []
    allow = data.get("allowFrom")
    return [str(x).strip() for x in allow if str(x).strip()] if isinstance(allow, list) else []
