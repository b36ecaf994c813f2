"""The config.yaml rows of the formats reference §3 that used to be archived only:
messages.tts / talk -> tts, session.reset / resetTriggers -> session_reset, and the
agents.defaults misc keys -> agent / compression / human_delay / timezone / terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hermes_tui.migration.plan import ItemKind, ItemStatus, Plan, build_plan, load_yaml_doc, plain
from tests.support.claw_tree import build_claw_tree, make_profile, openclaw_config

ELEVEN_KEY = "sk_FAKE-elevenlabs-key-000000000"
OPENAI_VOICE_KEY = "sk-FAKE-openai-voice-key-000000"


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    return make_profile(tmp_path)[1]


def plan_with(tmp_path: Path, profile: Path, *, migrate_secrets: bool = False, **extra: Any) -> Plan:
    config = openclaw_config()
    for key, value in extra.items():
        if key == "defaults":
            config["agents"]["defaults"].update(value)
        else:
            config[key] = value
    return build_plan(build_claw_tree(tmp_path / "claw", config=config), profile,
                      migrate_secrets=migrate_secrets)


def config_after(plan: Plan) -> dict[str, Any]:
    for change in plan.file_changes():
        if change.path == "config.yaml":
            return plain(load_yaml_doc(change.after or ""))
    raise AssertionError("config.yaml is not changed")


TTS = {"tts": {"provider": "elevenlabs",
               "providers": {"elevenlabs": {"voiceId": "voice-123", "modelId": "eleven_v3",
                                            "apiKey": ELEVEN_KEY},
                             "openai": {"model": "gpt-4o-mini-tts", "voice": "alloy",
                                        "apiKey": OPENAI_VOICE_KEY}}}}


def test_default_tree_plans_none_of_these_rows(tmp_path, profile):
    plan = build_plan(build_claw_tree(tmp_path / "claw"), profile)
    kinds = {item.kind for item in plan.items}
    assert ItemKind.session_reset not in kinds and ItemKind.agent_settings not in kinds
    assert not any(item.id == "tts:config" for item in plan.items)


def test_tts_settings_map_to_config_yaml_tts(tmp_path, profile):
    plan = plan_with(tmp_path, profile, messages=TTS)
    item = plan.get("tts:config")
    assert (item.kind, item.status, item.destination) == (ItemKind.tts, ItemStatus.migrated, "config.yaml tts")
    assert config_after(plan)["tts"] == {
        "provider": "elevenlabs",
        "elevenlabs": {"voice_id": "voice-123", "model_id": "eleven_v3"},
        "openai": {"model": "gpt-4o-mini-tts", "voice": "alloy"},
    }


def test_tts_from_talk_and_legacy_flat_keys(tmp_path, profile):
    plan = plan_with(tmp_path, profile, messages={"tts": {"openai": {"voice": "nova"}}},
                     talk={"voiceId": "talk-voice", "apiKey": ELEVEN_KEY})
    tts = config_after(plan)["tts"]
    assert tts == {"elevenlabs": {"voice_id": "talk-voice"}, "openai": {"voice": "nova"}}


def test_tts_keys_are_secret_items_off_unless_opted_in(tmp_path, profile):
    plan = plan_with(tmp_path, profile, messages=TTS)
    eleven, voice = plan.get("secret:ELEVENLABS_API_KEY"), plan.get("secret:VOICE_TOOLS_OPENAI_KEY")
    assert eleven.secret and voice.secret and not eleven.selected and not voice.selected
    everything = json.dumps(plan.to_json()) + "".join(c.after or "" for c in plan.file_changes())
    assert ELEVEN_KEY not in everything and OPENAI_VOICE_KEY not in everything
    assert "api_key" not in json.dumps(config_after(plan)["tts"]).lower()

    opted = plan_with(tmp_path / "again", profile, messages=TTS, migrate_secrets=True)
    env = next(c.after for c in opted.file_changes() if c.path == ".env")
    assert f"ELEVENLABS_API_KEY={ELEVEN_KEY}\n" in env
    assert f"VOICE_TOOLS_OPENAI_KEY={OPENAI_VOICE_KEY}\n" in env


def test_tts_conflict_and_already_matches(tmp_path, profile):
    (profile / "config.yaml").write_text("model: {}\ntts:\n  provider: openai\n")
    item = plan_with(tmp_path, profile, messages=TTS).get("tts:config")
    assert item.status is ItemStatus.conflict and "tts.provider = 'openai'" in item.reason

    (profile / "config.yaml").write_text(
        "model: {}\ntts:\n  provider: elevenlabs\n  elevenlabs:\n    voice_id: voice-123\n"
        "    model_id: eleven_v3\n  openai:\n    model: gpt-4o-mini-tts\n    voice: alloy\n")
    item = plan_with(tmp_path / "again", profile, messages=TTS).get("tts:config")
    assert item.status is ItemStatus.skipped and item.reason == "already matches"


def test_tts_without_usable_settings_is_skipped(tmp_path, profile):
    item = plan_with(tmp_path, profile, messages={"tts": {"auto": "always"}}).get("tts:config")
    assert item.status is ItemStatus.skipped


def test_session_reset_structured(tmp_path, profile):
    session = {"reset": {"mode": "daily", "atHour": 4, "idleMinutes": 120},
               "identityLinks": {"a": ["b"]}}
    plan = plan_with(tmp_path, profile, session=session)
    item = plan.get("session_reset")
    assert (item.kind, item.status) == (ItemKind.session_reset, ItemStatus.migrated)
    assert config_after(plan)["session_reset"] == {"mode": "daily", "at_hour": 4, "idle_minutes": 120}
    # The advanced keys stay archived only.
    assert plan.get("archive:session-config.json").status is ItemStatus.archived
    assert "identityLinks" not in json.dumps(config_after(plan))


@pytest.mark.parametrize(("triggers", "mode"), [(["daily", "idle"], "both"), (["daily"], "daily"),
                                                (["idle"], "idle")])
def test_session_reset_triggers(tmp_path, profile, triggers, mode):
    plan = plan_with(tmp_path, profile, session={"resetTriggers": triggers})
    assert config_after(plan)["session_reset"] == {"mode": mode}


def test_session_reset_unknown_triggers_skipped_and_conflict(tmp_path, profile):
    item = plan_with(tmp_path, profile, session={"resetTriggers": ["/new"]}).get("session_reset")
    assert item.status is ItemStatus.skipped
    (profile / "config.yaml").write_text("model: {}\nsession_reset:\n  mode: idle\n")
    item = plan_with(tmp_path / "again", profile, session={"resetTriggers": ["daily"]}).get("session_reset")
    assert item.status is ItemStatus.conflict


DEFAULTS = {"timeoutSeconds": 600, "verboseDefault": "on", "thinkingDefault": "always",
            "compaction": {"mode": "safeguard", "model": "openrouter/google/gemini-flash"},
            "humanDelay": {"mode": "natural", "minMs": 800, "maxMs": 2500},
            "userTimezone": "Europe/Stockholm",
            "sandbox": {"backend": "docker", "docker": {"image": "ghcr.io/x/sandbox:1"}}}


def test_agent_defaults_map_to_their_sections(tmp_path, profile):
    plan = plan_with(tmp_path, profile, defaults=DEFAULTS, tools={"exec": {"timeoutSec": 180}})
    for item_id in ("settings:agent", "settings:compression", "settings:human_delay",
                    "settings:timezone", "settings:terminal"):
        item = plan.get(item_id)
        assert (item.kind, item.status) == (ItemKind.agent_settings, ItemStatus.migrated), item_id
    config = config_after(plan)
    assert config["agent"] == {"max_turns": 60, "verbose": "on", "reasoning_effort": "high"}
    assert config["compression"] == {"enabled": True}
    assert config["auxiliary"] == {"compression": {"model": "openrouter/google/gemini-flash"}}
    assert config["human_delay"] == {"mode": "natural", "min_ms": 800, "max_ms": 2500}
    assert config["timezone"] == "Europe/Stockholm"
    assert config["terminal"] == {"timeout": 180, "backend": "docker", "docker_image": "ghcr.io/x/sandbox:1"}


def test_agent_defaults_edge_values(tmp_path, profile):
    plan = plan_with(tmp_path, profile, defaults={"timeoutSeconds": 5000, "thinkingDefault": "off",
                                                  "compaction": {"mode": "off"},
                                                  "sandbox": {"backend": "podman"}})
    config = config_after(plan)
    assert config["agent"] == {"max_turns": 200, "reasoning_effort": "low"}
    assert config["compression"] == {"enabled": False} and "auxiliary" not in config
    assert "terminal" not in config


def test_agent_defaults_conflict_keeps_others_and_matches_skip(tmp_path, profile):
    (profile / "config.yaml").write_text(
        "model: {}\ntimezone: UTC\nterminal:\n  backend: local\n  cwd: /srv\n"
        "human_delay:\n  mode: natural\n  min_ms: 800\n  max_ms: 2500\n")
    plan = plan_with(tmp_path, profile, defaults=DEFAULTS, tools={"exec": {"timeoutSec": 180}})
    assert plan.get("settings:timezone").status is ItemStatus.conflict
    assert "terminal.backend = 'local'" in plan.get("settings:terminal").reason
    assert plan.get("settings:human_delay").status is ItemStatus.skipped
    assert plan.get("settings:human_delay").reason == "already matches"
    assert config_after(plan).get("timezone") == "UTC"  # a conflict is never overwritten silently
    plan.resolve("settings:terminal", "overwrite")
    assert config_after(plan)["terminal"] == {"backend": "docker", "cwd": "/srv", "timeout": 180,
                                              "docker_image": "ghcr.io/x/sandbox:1"}
