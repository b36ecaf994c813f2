"""config.yaml sync: Hermes's format, the user's file kept, secrets only in .env."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from hermes_tui.bridge.sync import (
    PROVIDER_NAME,
    PROVIDER_REF,
    ROUTER_KEY_ENV,
    Badge,
    ConfigError,
    Synced,
    badges,
    load_router_key,
    read_synced,
    render_models,
    save_router_key,
    sync_models,
    write_models,
)
from hermes_tui.envfile import read_env
from hermes_tui.profile import CONFIG_TEMPLATE
from tests.support.openai_router import many_models

URL = "http://host.docker.internal:11434/v1"
MODELS = ["llama3.1:8b", "qwen2.5:7b"]

HEADER = """\
# Hermes config for my assistant.
# Keep the allowlist short.
"""
MODEL_BLOCK = """\
model: {}

"""
MCP_BLOCK = """\
mcp_servers:
  files:
    command: npx
    args: ["-y", "@modelcontextprotocol/server-filesystem", '/srv/notes']  # quoted on purpose
    enabled: true
    timeout: 120

"""
ALLOW_BLOCK = """\
# Commands approved once and for all
command_allowlist:
- git status
- "ls -la"
"""
USER_PROVIDER = """\
- name: My Box
  base_url: https://box.example.com/v1
  api_key: ${BOX_API_KEY}
  api_mode: chat_completions
"""
PYYAML_STYLE = HEADER + MODEL_BLOCK + MCP_BLOCK + ALLOW_BLOCK + "custom_providers:\n" + USER_PROVIDER


INDENTED_STYLE = (
    HEADER + MODEL_BLOCK + MCP_BLOCK
    + "# Commands approved once and for all\ncommand_allowlist:\n  - git status\n  - \"ls -la\"\n"
    + "custom_providers:\n" + "".join("  " + line for line in USER_PROVIDER.splitlines(True))
)


def safe_load(path: Path) -> dict:
    return YAML(typ="safe").load(path.read_text())


def write(path: Path, **overrides) -> None:
    args = {"base_url": URL, "models": MODELS, "default": MODELS[0], "api_key_ref": None}
    args.update(overrides)
    write_models(path, **args)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return tmp_path / "config.yaml"


def test_new_profile_config_gets_the_model_and_the_wizards_provider(config):
    config.write_text(CONFIG_TEMPLATE)
    write(config)

    text = config.read_text()
    assert text.startswith(CONFIG_TEMPLATE.split("model:")[0])  # the header comment
    assert safe_load(config) == {
        "model": {"default": "llama3.1:8b", "provider": PROVIDER_REF, "base_url": URL},
        "custom_providers": [{
            "name": PROVIDER_NAME,
            "base_url": URL,
            "api_mode": "chat_completions",
            "models": {"llama3.1:8b": {}, "qwen2.5:7b": {}},
        }],
    }
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert read_synced(config) == Synced(
        default="llama3.1:8b", base_url=URL, models=tuple(MODELS), provider=PROVIDER_REF
    )
    assert read_synced(config).active


@pytest.mark.parametrize("original", [PYYAML_STYLE, INDENTED_STYLE], ids=["pyyaml", "indented"])
def test_comments_unrelated_keys_and_users_provider_are_kept_verbatim(config, original):
    config.write_text(original)
    write(config, default="qwen2.5:7b")

    text = config.read_text()
    assert text.startswith(HEADER + "model:\n")
    assert MCP_BLOCK in text
    allow = original[original.index("# Commands"):original.index("custom_providers:")]
    assert allow in text
    users = original[original.index("custom_providers:\n"):]
    assert text[text.index("custom_providers:\n"):].startswith(users)
    data = safe_load(config)
    assert data["mcp_servers"] == YAML(typ="safe").load(original)["mcp_servers"]
    assert data["custom_providers"][0]["name"] == "My Box"
    assert data["custom_providers"][1]["name"] == PROVIDER_NAME
    assert list(data) == ["model", "mcp_servers", "command_allowlist", "custom_providers"]
    assert read_synced(config).default == "qwen2.5:7b"


def test_second_identical_write_leaves_the_file_byte_identical(config):
    config.write_text(PYYAML_STYLE)
    write(config)
    first = config.read_bytes()
    inode = config.stat().st_ino
    write(config)
    assert config.read_bytes() == first
    assert config.stat().st_ino == inode  # not even replaced


def test_unchanged_file_still_gets_mode_0600(config):
    config.write_text(CONFIG_TEMPLATE)
    write(config)
    os.chmod(config, 0o644)
    write(config)
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("model_line", "kept"),
    [
        ('model: ""\n', {}),
        ("model:\n", {}),
        ("model: anthropic/claude-sonnet-4\n", {}),
        ("model:\n  default: old\n  context_length: 32768\n  provider: openrouter\n",
         {"context_length": 32768}),
    ],
    ids=["empty-string", "null", "name", "mapping"],
)
def test_model_of_any_shape_becomes_the_wizards_mapping(config, model_line, kept):
    config.write_text(model_line + "timezone: Europe/Berlin\n")
    write(config)
    data = safe_load(config)
    assert data["model"] == {
        **kept, "default": "llama3.1:8b", "provider": PROVIDER_REF, "base_url": URL
    }
    assert data["timezone"] == "Europe/Berlin"


def test_a_model_names_comment_and_following_blank_line_stay_in_place(config):
    config.write_text("model: gpt-4o  # what I used before\n\ntimezone: UTC\n")
    write(config)
    assert config.read_text() == (
        "model:         # what I used before\n"  # the comment keeps its column
        "  default: llama3.1:8b\n"
        f"  provider: {PROVIDER_REF}\n"
        f"  base_url: {URL}\n"
        "\n"
        "timezone: UTC\n"
        "custom_providers:\n"
        f"- name: {PROVIDER_NAME}\n"
        f"  base_url: {URL}\n"
        "  api_mode: chat_completions\n"
        "  models:\n"
        "    llama3.1:8b: {}\n"
        "    qwen2.5:7b: {}\n"
    )


def test_owned_entry_is_found_by_name_and_its_stale_overrides_removed(config):
    config.write_text(
        "model: {}\n"
        "custom_providers:\n"
        "- name: Hermes TUI Router\n"
        "  base_url: http://old.example/v1\n"
        "  api_key: sk-inline-secret\n"
        "  model: stale-model\n"
        "  rate_limit_delay: 2\n"
        "  models:\n"
        "    llama3.1:8b:\n"
        "      context_length: 8192\n"
        "    retired: {}\n"
        "- name: hermes-tui-router\n"
        "  base_url: http://duplicate/v1\n"
    )
    write(config, models=["qwen2.5:7b", "llama3.1:8b"], default="qwen2.5:7b")
    entries = safe_load(config)["custom_providers"]
    assert entries == [{
        "name": "Hermes TUI Router",
        "base_url": URL,
        "rate_limit_delay": 2,
        "models": {"qwen2.5:7b": {}, "llama3.1:8b": {"context_length": 8192}},
        "api_mode": "chat_completions",
    }]
    assert "sk-inline-secret" not in config.read_text()


def test_api_key_lives_in_env_and_config_only_names_it(tmp_path, config):
    env = tmp_path / ".env"
    env.write_text("# mine\nTELEGRAM_BOT_TOKEN=123:abc\n")
    config.write_text(CONFIG_TEMPLATE)

    ref = save_router_key(env, "sk-router-secret")
    write(config, api_key_ref=ref)

    assert ref == ROUTER_KEY_ENV == "HERMES_CUSTOM_HERMES_TUI_ROUTER_API_KEY"
    assert "sk-router-secret" not in config.read_text()
    assert safe_load(config)["custom_providers"][0]["key_env"] == ROUTER_KEY_ENV
    assert read_synced(config).key_env == ROUTER_KEY_ENV
    assert read_env(env) == {"TELEGRAM_BOT_TOKEN": "123:abc", ROUTER_KEY_ENV: "sk-router-secret"}
    assert load_router_key(env) == "sk-router-secret"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600

    assert save_router_key(env, "  ") is None
    write(config, api_key_ref=None)
    assert "key_env" not in safe_load(config)["custom_providers"][0]
    assert read_env(env) == {"TELEGRAM_BOT_TOKEN": "123:abc"}
    assert load_router_key(env) is None


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("model: {}\nmcp_servers:\n  a: [1, 2\n", 4),
        ("model: {}\n  bad: indent\n", 2),
        ("model: {}\nmodel: {}\n", 2),
    ],
    ids=["unclosed-flow", "bad-indent", "duplicate-key"],
)
def test_invalid_yaml_is_refused_naming_file_and_line_and_left_untouched(config, text, line):
    config.write_text(text)
    os.chmod(config, 0o640)
    before = config.stat()
    with pytest.raises(ConfigError) as caught:
        write(config)
    assert caught.value.line == line
    assert "config.yaml" in str(caught.value) and f"line {line}" in str(caught.value)
    assert "will not overwrite" in str(caught.value)
    assert config.read_text() == text
    after = config.stat()
    assert (after.st_ino, after.st_mtime_ns, stat.S_IMODE(after.st_mode)) == (
        before.st_ino, before.st_mtime_ns, 0o640)
    with pytest.raises(ConfigError):
        read_synced(config)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("- model\n- other\n", "YAML list at the top"),
        ("just a sentence\n", "YAML scalar at the top"),
        ("model: {}\ncustom_providers:\n  mine:\n    base_url: http://x/v1\n",
         "`custom_providers` is a mapping"),
        ("model: [a, b]\n", "`model` is a list"),
    ],
)
def test_files_hermes_would_reject_are_refused_not_rewritten(config, text, said):
    config.write_text(text)
    with pytest.raises(ConfigError) as caught:
        write(config)
    assert said in str(caught.value)
    assert config.read_text() == text


def test_missing_file_is_created_with_mode_0600(config):
    write(config)
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert read_synced(config).models == tuple(MODELS)


def test_comments_only_file_keeps_its_comments(config):
    config.write_text("# nothing configured yet\n# see the docs\n")
    write(config)
    text = config.read_text()
    assert text.startswith("# nothing configured yet\n# see the docs\nmodel:\n")
    assert read_synced(config).default == "llama3.1:8b"


def test_windows_line_endings_are_kept(config):
    config.write_bytes(b"# win\r\nmodel: {}\r\ntimezone: UTC\r\n")
    write(config)
    raw = config.read_bytes()
    assert raw.startswith(b"# win\r\nmodel:\r\n  default: llama3.1:8b\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert read_synced(config).models == tuple(MODELS)


def test_symlinked_config_stays_a_symlink(tmp_path, config):
    real = tmp_path / "real-config.yaml"
    real.write_text(CONFIG_TEMPLATE)
    config.symlink_to(real)
    write(config)
    assert config.is_symlink()
    assert read_synced(real).default == "llama3.1:8b"


def test_read_only_filesystem_is_a_config_error_and_the_file_is_kept(tmpfs):
    folder = tmpfs.mount("1m")
    config = folder / "config.yaml"
    config.write_text(CONFIG_TEMPLATE)
    tmpfs.remount_read_only(folder)
    with pytest.raises(ConfigError) as caught:
        write(config)
    assert "read-only" in str(caught.value)
    assert config.read_text() == CONFIG_TEMPLATE


def test_default_must_be_one_of_the_models(config):
    with pytest.raises(ValueError, match="not among"):
        write(config, default="other")
    with pytest.raises(ValueError, match="No models loaded"):
        write(config, models=[], default="x")
    assert not config.exists()


def test_render_models_previews_without_writing(config):
    text = render_models(CONFIG_TEMPLATE, base_url=URL, models=MODELS, default=MODELS[1],
                         api_key_ref=None)
    assert "default: qwen2.5:7b" in text
    assert not config.exists()


def test_read_synced_of_a_missing_file_says_nothing(config):
    assert read_synced(config) == Synced()
    assert not read_synced(config).active


def test_badges_pending_synced_and_not_served():
    synced = Synced(default="a", base_url=URL, models=("a", "gone", "b"), provider=PROVIDER_REF)
    assert badges(["c", "a", "b", "c"], synced) == {
        "c": Badge.PENDING, "a": Badge.SYNCED, "b": Badge.SYNCED, "gone": Badge.GONE,
    }
    assert list(badges(["c", "a", "b"], synced)) == ["c", "a", "b", "gone"]
    assert badges(["a"], Synced()) == {"a": Badge.PENDING}
    assert [str(b) for b in Badge] == ["Pending", "Synced", "Not served"]


def test_badges_turn_synced_only_after_the_file_is_rewritten(config):
    config.write_text(CONFIG_TEMPLATE)
    served = ["llama3.1:8b", "qwen2.5:7b"]
    assert set(badges(served, read_synced(config)).values()) == {Badge.PENDING}
    write(config, models=served)
    assert set(badges(served, read_synced(config)).values()) == {Badge.SYNCED}
    assert badges(["qwen2.5:7b"], read_synced(config)) == {
        "qwen2.5:7b": Badge.SYNCED, "llama3.1:8b": Badge.GONE,
    }


def test_empty_provider_list_and_null_key_get_a_block_entry(config):
    config.write_text("model: {}\ncustom_providers: []\ncommand_allowlist: []\n")
    write(config)
    text = config.read_text()
    assert f"custom_providers:\n- name: {PROVIDER_NAME}\n" in text
    assert text.endswith("command_allowlist: []\n")
    config.write_text("model: {}\ncustom_providers:\n")
    write(config)
    assert safe_load(config)["custom_providers"][0]["name"] == PROVIDER_NAME


# --- sync_models: the LLM bridge step's one read of the file ---------------------------------


def sync(config: Path, models: list[str], wanted: str | None, key: str | None = None):
    env = config.parent / ".env"
    return sync_models(
        config, base_url=URL, models=models,
        choose_default=lambda current: next(
            (m for m in (wanted, current) if m in models), models[0]),
        api_key_ref=lambda: save_router_key(env, key))


def test_sync_keeps_the_files_default_and_returns_what_the_disk_says(config):
    config.write_text(CONFIG_TEMPLATE)
    write(config, default=MODELS[1])
    models = ["new:1b", *MODELS]
    default, synced = sync(config, models, wanted=None, key="sk-router-secret")
    assert default == MODELS[1]  # still served: kept
    assert synced == read_synced(config) == Synced(
        default=MODELS[1], base_url=URL, models=tuple(models), provider=PROVIDER_REF,
        key_env=ROUTER_KEY_ENV)
    assert load_router_key(config.parent / ".env") == "sk-router-secret"
    default, synced = sync(config, models, wanted="new:1b")
    assert default == synced.default == "new:1b" and synced.key_env is None


def test_sync_of_a_file_that_is_not_yaml_stores_no_key_and_changes_nothing(config):
    config.write_text("model: [unclosed\n")
    with pytest.raises(ConfigError):
        sync(config, MODELS, wanted=None, key="sk-router-secret")
    assert config.read_text() == "model: [unclosed\n"
    assert not (config.parent / ".env").exists()


def test_sync_of_fifty_thousand_models_lists_them_all_in_order(config):
    config.write_text(CONFIG_TEMPLATE)
    models = many_models(50_000)
    default, synced = sync(config, models, wanted=models[-1])
    assert synced.models == tuple(models) and synced.default == default == models[-1]
    assert read_synced(config) == synced
    default, synced = sync(config, models[::-1][:-1], wanted=None)  # one left the router
    assert synced.models == tuple(models[::-1][:-1]) and default == models[-1]
