"""The channel catalog: each messaging platform Hermes's gateway speaks, and its ``.env`` keys.

Key names are the ones Hermes's gateway reads (``gateway/config.py`` env overrides and
``gateway/authz_mixin.py`` allow-lists). A platform turns on in Hermes when its required
keys are present; WhatsApp (QR pairing, no token) has an explicit enable flag instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ChannelField:
    key: str
    label: str
    secret: bool = False
    required: bool = True
    placeholder: str = ""
    #: A fixed value written when the channel is chosen (not asked of the user).
    fixed: str | None = None


@dataclass(frozen=True)
class Channel:
    id: str
    name: str
    fields: tuple[ChannelField, ...]
    #: Comma-separated user ids allowed to talk to the agent; optional.
    allow_list_key: str
    allow_list_hint: str
    note: str = ""

    @property
    def asked(self) -> tuple[ChannelField, ...]:
        """Fields the user fills in (fixed ones are written without asking)."""
        return tuple(f for f in self.fields if f.fixed is None)

    @property
    def keys(self) -> tuple[str, ...]:
        return (*(f.key for f in self.fields), self.allow_list_key)

    def missing(self, values: Mapping[str, str]) -> list[ChannelField]:
        """Required asked fields that have no value in ``values``."""
        return [f for f in self.asked if f.required and not values.get(f.key, "").strip()]

    def env_updates(self, values: Mapping[str, str]) -> dict[str, str | None]:
        """What to write to ``.env`` for this channel: asked values, fixed values, allow-list.

        Optional fields left empty are removed so a stale value cannot linger; required ones
        are never removed (``missing`` guards them).
        """
        updates: dict[str, str | None] = {}
        for f in self.fields:
            if f.fixed is not None:
                updates[f.key] = f.fixed
            else:
                value = values.get(f.key, "").strip()
                updates[f.key] = value or (None if not f.required else value)
        allow = normalise_allow_list(values.get(self.allow_list_key, ""))
        updates[self.allow_list_key] = allow or None
        return updates


def normalise_allow_list(text: str) -> str:
    """'a, b ,,c' → 'a,b,c' (the comma-separated form Hermes reads)."""
    return ",".join(part.strip() for part in text.replace("\n", ",").split(",") if part.strip())


CATALOG: tuple[Channel, ...] = (
    Channel(
        "telegram",
        "Telegram",
        (ChannelField("TELEGRAM_BOT_TOKEN", "Bot token (from @BotFather)", secret=True,
                      placeholder="123456:ABC-DEF…"),),
        "TELEGRAM_ALLOWED_USERS",
        "Telegram user ids, comma-separated",
    ),
    Channel(
        "discord",
        "Discord",
        (ChannelField("DISCORD_BOT_TOKEN", "Bot token", secret=True),),
        "DISCORD_ALLOWED_USERS",
        "Discord user ids, comma-separated",
    ),
    Channel(
        "slack",
        "Slack",
        (
            ChannelField("SLACK_BOT_TOKEN", "Bot token (xoxb-…)", secret=True, placeholder="xoxb-…"),
            ChannelField("SLACK_APP_TOKEN", "App token for Socket Mode (xapp-…)", secret=True,
                         placeholder="xapp-…"),
        ),
        "SLACK_ALLOWED_USERS",
        "Slack member ids, comma-separated",
    ),
    Channel(
        "whatsapp",
        "WhatsApp",
        (ChannelField("WHATSAPP_ENABLED", "Enabled", fixed="true"),),
        "WHATSAPP_ALLOWED_USERS",
        "Phone numbers in E.164 form (+15551234567), comma-separated",
        note="No token: pair the phone by scanning a QR code when the gateway first starts.",
    ),
    Channel(
        "signal",
        "Signal",
        (
            ChannelField("SIGNAL_HTTP_URL", "signal-cli REST URL", placeholder="http://127.0.0.1:8080"),
            ChannelField("SIGNAL_ACCOUNT", "Account phone number", placeholder="+15551234567"),
        ),
        "SIGNAL_ALLOWED_USERS",
        "Phone numbers or Signal ids, comma-separated",
        note="Needs a running signal-cli REST API with the account registered.",
    ),
    Channel(
        "email",
        "Email",
        (
            ChannelField("EMAIL_ADDRESS", "Address", placeholder="agent@example.com"),
            ChannelField("EMAIL_PASSWORD", "Password or app password", secret=True),
            ChannelField("EMAIL_IMAP_HOST", "IMAP host", placeholder="imap.example.com"),
            ChannelField("EMAIL_SMTP_HOST", "SMTP host", placeholder="smtp.example.com"),
        ),
        "EMAIL_ALLOWED_USERS",
        "Sender addresses, comma-separated",
    ),
    Channel(
        "matrix",
        "Matrix",
        (
            ChannelField("MATRIX_HOMESERVER", "Homeserver URL", placeholder="https://matrix.org"),
            ChannelField("MATRIX_ACCESS_TOKEN", "Access token", secret=True),
            ChannelField("MATRIX_USER_ID", "User id", required=False, placeholder="@agent:matrix.org"),
        ),
        "MATRIX_ALLOWED_USERS",
        "Matrix user ids (@name:server), comma-separated",
    ),
    Channel(
        "mattermost",
        "Mattermost",
        (
            ChannelField("MATTERMOST_URL", "Server URL", placeholder="https://chat.example.com"),
            ChannelField("MATTERMOST_TOKEN", "Bot access token", secret=True),
        ),
        "MATTERMOST_ALLOWED_USERS",
        "Mattermost user ids, comma-separated",
    ),
)

BY_ID: dict[str, Channel] = {channel.id: channel for channel in CATALOG}


def get(channel_id: str) -> Channel:
    return BY_ID[channel_id]


def secret_keys() -> frozenset[str]:
    """Every ``.env`` key the catalog marks secret (for masking and redaction)."""
    return frozenset(f.key for c in CATALOG for f in c.fields if f.secret)
