"""The channel catalog and what each channel writes to a profile's .env."""

from __future__ import annotations

import pytest

from hermes_tui import channels
from hermes_tui.channels import BY_ID, CATALOG, get, normalise_allow_list, secret_keys
from hermes_tui.envfile import _KEY_RE, read_env, update_env

SECRET_WORDS = ("TOKEN", "PASSWORD")


def test_catalog_ids_are_unique_and_indexed():
    ids = [c.id for c in CATALOG]
    assert len(ids) == len(set(ids))
    assert set(BY_ID) == set(ids)
    assert all(get(c.id) is c for c in CATALOG)
    with pytest.raises(KeyError):
        get("carrier-pigeon")


@pytest.mark.parametrize("channel", CATALOG, ids=lambda c: c.id)
def test_every_channel_has_unique_valid_env_keys(channel):
    assert len(channel.keys) == len(set(channel.keys))
    assert all(_KEY_RE.fullmatch(key) for key in channel.keys)
    assert channel.allow_list_key.endswith("_ALLOWED_USERS")
    assert channel.allow_list_key == channel.keys[-1]
    assert channel.name and channel.allow_list_hint


def test_no_env_key_is_shared_between_two_channels():
    keys = [key for c in CATALOG for key in c.keys]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("channel", CATALOG, ids=lambda c: c.id)
def test_credential_fields_are_flagged_secret_and_nothing_else_is(channel):
    for f in channel.fields:
        looks_secret = any(word in f.key for word in SECRET_WORDS)
        assert f.secret is looks_secret, f.key
        if f.secret:
            assert f.fixed is None  # a secret is always asked, never a built-in value


def test_secret_keys_lists_every_credential_of_the_catalog():
    assert secret_keys() == {
        "TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN",
        "EMAIL_PASSWORD", "MATRIX_ACCESS_TOKEN", "MATTERMOST_TOKEN",
    }
    assert not any(c.allow_list_key in secret_keys() for c in CATALOG)


def test_whatsapp_writes_its_fixed_enable_flag_without_asking():
    whatsapp = get("whatsapp")
    assert whatsapp.asked == ()
    assert whatsapp.missing({}) == []
    assert whatsapp.env_updates({}) == {"WHATSAPP_ENABLED": "true",
                                        "WHATSAPP_ALLOWED_USERS": None}
    assert whatsapp.env_updates({"WHATSAPP_ENABLED": "false"})["WHATSAPP_ENABLED"] == "true"


def test_allow_list_is_normalised_to_plain_comma_separated_ids():
    updates = get("telegram").env_updates(
        {"TELEGRAM_BOT_TOKEN": "  123:abc  ", "TELEGRAM_ALLOWED_USERS": "a, b,,c"})
    assert updates == {"TELEGRAM_BOT_TOKEN": "123:abc", "TELEGRAM_ALLOWED_USERS": "a,b,c"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("a, b,,c", "a,b,c"), (" a ,b , ", "a,b"), ("a\nb\n\nc", "a,b,c"), ("", ""),
     (" , ,, ", ""), ("+15551234567", "+15551234567")],
)
def test_normalise_allow_list(text, expected):
    assert normalise_allow_list(text) == expected


def test_empty_allow_list_and_empty_optional_fields_are_removed():
    updates = get("matrix").env_updates({
        "MATRIX_HOMESERVER": "https://matrix.org",
        "MATRIX_ACCESS_TOKEN": "syt_x",
        "MATRIX_USER_ID": "   ",
        "MATRIX_ALLOWED_USERS": " , ",
    })
    assert updates["MATRIX_USER_ID"] is None
    assert updates["MATRIX_ALLOWED_USERS"] is None
    assert updates["MATRIX_HOMESERVER"] == "https://matrix.org"


def test_required_fields_are_never_removed_even_when_empty():
    updates = get("slack").env_updates({"SLACK_BOT_TOKEN": "xoxb-1"})
    assert updates["SLACK_BOT_TOKEN"] == "xoxb-1"
    assert "SLACK_APP_TOKEN" in updates and updates["SLACK_APP_TOKEN"] is not None


def test_missing_reports_required_fields_that_are_empty_or_blank():
    email = get("email")
    missing = email.missing({"EMAIL_ADDRESS": "a@example.com", "EMAIL_PASSWORD": "   ",
                             "EMAIL_SMTP_HOST": "smtp.example.com"})
    assert [f.key for f in missing] == ["EMAIL_PASSWORD", "EMAIL_IMAP_HOST"]
    assert email.missing({f.key: "x" for f in email.fields}) == []


def test_missing_ignores_optional_fields():
    matrix = get("matrix")
    assert matrix.missing({"MATRIX_HOMESERVER": "h", "MATRIX_ACCESS_TOKEN": "t"}) == []


def test_channel_updates_applied_to_an_env_file_remove_stale_values(tmp_path):
    env = tmp_path / ".env"
    env.write_text("# mine\nMATRIX_USER_ID=@old:server\nMATRIX_ALLOWED_USERS=@x:y\nKEEP=1\n")
    update_env(env, get("matrix").env_updates(
        {"MATRIX_HOMESERVER": "https://m.org", "MATRIX_ACCESS_TOKEN": "tok en"}))
    assert read_env(env) == {"KEEP": "1", "MATRIX_HOMESERVER": "https://m.org",
                             "MATRIX_ACCESS_TOKEN": "tok en"}
    assert env.read_text().startswith("# mine\n")


def test_channel_module_has_no_ui_dependency():
    assert "textual" not in vars(channels)
