"""One test per mapping row of the formats reference §3, on a tree built in code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hermes_tui.migration.plan import (
    MEMORY_SEPARATOR,
    ItemKind,
    ItemStatus,
    Plan,
    build_plan,
    extract_entries,
    rebrand,
)
from tests.support.claw_tree import FAKE_SECRETS, build_claw_tree, make_profile, openclaw_config


@pytest.fixture
def claw(tmp_path: Path) -> Path:
    return build_claw_tree(tmp_path / "claw")


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    return make_profile(tmp_path)[1]


def changed(plan: Plan, path: str) -> str:
    for change in plan.file_changes():
        if change.path == path:
            return change.after or ""
    raise AssertionError(f"{path} is not changed; changed: {[c.path for c in plan.file_changes()]}")


def test_soul_is_copied_with_brand_rewrite(claw, profile):
    plan = build_plan(claw, profile)
    item = plan.get("soul")
    assert (item.kind, item.status, item.destination) == (ItemKind.soul, ItemStatus.migrated, "SOUL.md")
    soul = changed(plan, "SOUL.md")
    assert "runs on Hermes for the Lindqvist" in soul
    assert "- hermes keeps my memory" in soul  # all-lowercase match → lowercase
    assert "OpenClaw" not in soul and "openclaw" not in soul


def test_rebrand_covers_every_old_name():
    assert rebrand("OpenClaw, Open Claw, ClawdBot, MoltBot, openclaw") == "Hermes, Hermes, Hermes, Hermes, hermes"


def test_agents_md_is_skipped_without_a_workspace_target(claw, profile):
    item = build_plan(claw, profile).get("agents_md")
    assert item.status is ItemStatus.skipped and "workspace target" in item.reason


def test_memory_entries_merge_with_section_separators(claw, profile):
    plan = build_plan(claw, profile)
    assert plan.get("memory").status is ItemStatus.migrated
    entries = changed(plan, "memories/MEMORY.md").rstrip("\n").split(MEMORY_SEPARATOR)
    assert entries[:3] == [
        "Preferences: Prefers concise answers with code first.",
        "Preferences: Uses Hermes mostly from Telegram.",
        "Projects: hermes-tui: a terminal wizard; due end of November.",
    ]


def test_user_profile_goes_to_user_md(claw, profile):
    plan = build_plan(claw, profile)
    assert plan.get("user_profile").destination == "memories/USER.md"
    assert changed(plan, "memories/USER.md") == (
        "Preferences: Prefer metric units.\n§\nPeople: Partner: Sam (allergic to peanuts).\n"
    )


def test_memory_merge_keeps_existing_entries_and_dedupes(claw, profile):
    (profile / "memories/MEMORY.md").write_text("Mine: keep me\n§\nPreferences: Prefers concise answers with code first.\n")
    plan = build_plan(claw, profile)
    entries = changed(plan, "memories/MEMORY.md").rstrip("\n").split(MEMORY_SEPARATOR)
    assert entries[0] == "Mine: keep me"
    assert entries.count("Preferences: Prefers concise answers with code first.") == 1


def test_memory_cap_overflow_is_noted(tmp_path, profile):
    claw = build_claw_tree(tmp_path / "claw")
    many = "\n".join(f"- fact number {i}: " + "x" * 80 for i in range(60))
    (claw / "workspace/USER.md").write_text(f"# USER.md\n{many}\n")
    plan = build_plan(claw, profile)
    item = plan.get("user_profile")
    assert item.status is ItemStatus.migrated and "over the cap" in item.reason
    assert "user_overflow.txt" in item.reason
    assert len(changed(plan, "memories/USER.md").rstrip("\n")) <= 1375


def test_memory_cap_is_read_from_the_profile_config(claw, profile):
    (profile / "config.yaml").write_text("model: {}\nmemory:\n  memory_char_limit: 60\n")
    plan = build_plan(claw, profile)
    assert len(changed(plan, "memories/MEMORY.md").rstrip("\n")) <= 60
    assert "cap 60" in plan.get("memory").reason


def test_daily_memory_merges_into_memory_md(claw, profile):
    plan = build_plan(claw, profile)
    item = plan.get("daily_memory:2026-11-01.md")
    assert item.kind is ItemKind.daily_memory and item.status is ItemStatus.migrated
    text = changed(plan, "memories/MEMORY.md")
    assert "2026-11-01: Set up the Discord bot for the study group." in text
    assert "2026-11-01: User asked Hermes to remember" in text


def test_extract_entries_skips_code_and_tables_and_dedupes():
    text = "# MEMORY.md\n## A\n### B\n- one\n\npara line1\nline2\n```\n- code\n```\n| t | r |\n- one\n"
    assert extract_entries(text) == ["A > B: one", "A > B: para line1 line2"]


def test_workspace_skills_copy_whole_dirs_with_skill_md_only(claw, profile):
    plan = build_plan(claw, profile)
    item = plan.get("skill:git-helper")
    assert item.destination == "skills/openclaw-imports/git-helper"
    paths = {c.path for c in plan.file_changes()}
    assert {"skills/openclaw-imports/git-helper/SKILL.md", "skills/openclaw-imports/git-helper/notes.txt",
            "skills/openclaw-imports/git-helper/run.sh", "skills/openclaw-imports/weather-brief/SKILL.md",
            "skills/openclaw-imports/DESCRIPTION.md"} <= paths
    assert not any("no-skill-md" in p for p in paths)


def test_shared_skills_from_the_claw_dir(claw, profile):
    plan = build_plan(claw, profile)
    item = plan.get("shared_skill:shared-tool")
    assert item.kind is ItemKind.shared_skills and item.status is ItemStatus.migrated
    assert item.destination == "skills/openclaw-imports/shared-tool"


def test_shared_skills_from_home_agents_dir_when_home_is_given(claw, profile, tmp_path):
    home = tmp_path / "home"
    (home / ".agents/skills/h-skill").mkdir(parents=True)
    (home / ".agents/skills/h-skill/SKILL.md").write_text("---\nname: h-skill\n---\n")
    plan = build_plan(claw, profile, home=home)
    assert plan.get("shared_skill:home:h-skill").destination == "skills/openclaw-imports/h-skill"


def test_tts_tree_is_copied(claw, profile):
    (claw / "workspace/tts").mkdir()
    (claw / "workspace/tts/voice.json").write_text("{}\n")
    plan = build_plan(claw, profile)
    assert plan.get("tts").status is ItemStatus.migrated
    assert changed(plan, "tts/voice.json") == "{}\n"


def test_model_from_a_custom_provider_selects_its_entry(claw, profile):
    # Without model.provider Hermes would resolve "auto" and send the keys to a hosted one.
    plan = build_plan(claw, profile)
    assert plan.get("model").status is ItemStatus.migrated
    assert "model.provider = custom:localvllm" in plan.get("model").reason
    assert "model:\n  default: qwen3-32b\n  provider: custom:localvllm\n" in changed(plan, "config.yaml")


@pytest.mark.parametrize(("ref", "provider", "default"), [
    ("openrouter/anthropic/claude-sonnet-4.5", "openrouter", "anthropic/claude-sonnet-4.5"),
    ("anthropic/claude-sonnet-4.5", "anthropic", "claude-sonnet-4-5"),
    ("openai/gpt-4o", "openai-api", "gpt-4o"),
    ("google/gemini-2.5-pro", "gemini", "gemini-2.5-pro"),
    ("deepseek/deepseek-chat", "deepseek", "deepseek-chat"),
])
def test_model_from_a_builtin_provider_uses_hermes_provider_id(tmp_path, profile, ref, provider, default):
    config = openclaw_config()
    config["agents"]["defaults"]["model"] = {"primary": ref}
    plan = build_plan(build_claw_tree(tmp_path / "claw", config=config), profile)
    assert plan.get("model").status is ItemStatus.migrated
    assert f"model:\n  default: {default}\n  provider: {provider}\n" in changed(plan, "config.yaml")


def test_custom_provider_name_is_normalised_the_way_hermes_matches_it(tmp_path, profile):
    config = openclaw_config()
    config["models"]["providers"]["My Box"] = {"baseUrl": "http://box:11434/v1"}
    config["agents"]["defaults"]["model"] = "My Box/llama3.3:70b"
    plan = build_plan(build_claw_tree(tmp_path / "claw", config=config), profile)
    text = changed(plan, "config.yaml")
    assert "default: llama3.3:70b\n  provider: custom:my-box\n" in text
    assert "- name: My Box\n" in text


def test_model_whose_provider_hermes_cannot_reach_is_skipped_with_the_reason(tmp_path, profile):
    config = openclaw_config()
    config["agents"]["defaults"]["model"] = "mystery/model-1"
    plan = build_plan(build_claw_tree(tmp_path / "claw", config=config), profile)
    item = plan.get("model")
    assert item.status is ItemStatus.skipped
    assert "neither built into Hermes" in item.reason


def test_a_different_model_or_provider_already_set_is_a_conflict(claw, profile):
    (profile / "config.yaml").write_text("model:\n  default: qwen3-32b\n  provider: custom:hermes-tui-router\n")
    plan = build_plan(claw, profile)
    assert plan.get("model").status is ItemStatus.conflict
    assert "custom:hermes-tui-router" in plan.get("model").reason
    plan.resolve("model", "overwrite")
    assert "provider: custom:localvllm" in changed(plan, "config.yaml")


def test_the_same_model_and_provider_is_already_matching(claw, profile):
    (profile / "config.yaml").write_text("model:\n  default: qwen3-32b\n  provider: custom:localvllm\n")
    assert build_plan(claw, profile).get("model").status is ItemStatus.skipped


def test_a_provider_less_default_from_an_earlier_migration_is_upgraded(claw, profile):
    (profile / "config.yaml").write_text("model:\n  default: localvllm/qwen3-32b\n  base_url: http://old/v1\n")
    plan = build_plan(claw, profile)
    assert plan.get("model").status is ItemStatus.migrated
    text = changed(plan, "config.yaml")
    assert "model:\n  default: qwen3-32b\n  provider: custom:localvllm\n" in text
    assert "http://old/v1" not in text


def test_model_string_form_and_alias_resolution(tmp_path, profile):
    config = openclaw_config()
    config["agents"]["defaults"]["model"] = "qwen"
    config["agents"]["defaults"]["models"] = {"localvllm/qwen3-32b": {"alias": "qwen"}}
    claw = build_claw_tree(tmp_path / "claw", config=config)
    plan = build_plan(claw, profile)
    assert "default: qwen3-32b\n  provider: custom:localvllm\n" in changed(plan, "config.yaml")
    assert "alias" in plan.get("model").reason


def test_config_yaml_keeps_comments_and_other_keys(claw, profile):
    (profile / "config.yaml").write_text("# my notes\nmodel: {}\nagent:\n  max_turns: 7  # keep\n")
    text = changed(build_plan(claw, profile), "config.yaml")
    assert text.startswith("# my notes\n")
    assert "max_turns: 7  # keep" in text


def test_custom_provider_for_non_well_known_with_base_url(claw, profile):
    plan = build_plan(claw, profile)
    assert plan.get("provider:localvllm").status is ItemStatus.migrated
    assert plan.get("provider:openrouter").status is ItemStatus.skipped
    text = changed(plan, "config.yaml")
    assert ("custom_providers:\n- name: localvllm\n  base_url: http://127.0.0.1:8000/v1\n"
            "  api_key: ''\n  api_mode: chat_completions\n") in text
    assert FAKE_SECRETS["localvllm"] not in text


def test_custom_provider_anthropic_api_maps_to_anthropic_messages(tmp_path, profile):
    config = openclaw_config()
    config["models"]["providers"]["myclaude"] = {"baseUrl": "http://x/v1", "api": "anthropic-messages"}
    plan = build_plan(build_claw_tree(tmp_path / "claw", config=config), profile)
    assert "anthropic_messages" in plan.get("provider:myclaude").reason


def test_custom_provider_key_with_opt_in_goes_to_env_and_is_referenced(claw, profile):
    plan = build_plan(claw, profile)
    plan.select("secret:LOCALVLLM_API_KEY", True)
    assert f"LOCALVLLM_API_KEY={FAKE_SECRETS['localvllm']}" in changed(plan, ".env")
    assert "key_env: LOCALVLLM_API_KEY" in changed(plan, "config.yaml")
    assert FAKE_SECRETS["localvllm"] not in changed(plan, "config.yaml")


def test_mcp_servers_snake_case(claw, profile):
    plan = build_plan(claw, profile)
    assert plan.get("mcp:filesystem").status is ItemStatus.migrated
    text = changed(plan, "config.yaml")
    assert "mcp_servers:\n  filesystem:\n    command: npx\n" in text
    assert "connect_timeout: 10" in text and "connectTimeout" not in text


def test_mcp_server_credentials_are_references_and_their_values_opt_in(tmp_path, profile):
    config = openclaw_config()
    config["mcp"]["servers"]["github"] = {"command": "gh-mcp", "env": {"GITHUB_TOKEN": FAKE_SECRETS["mcp_github"]}}
    plan = build_plan(build_claw_tree(tmp_path / "claw", config=config), profile)
    item = plan.get("mcp:github")
    assert item.selected and not item.secret
    assert "GITHUB_TOKEN: ${MCP_GITHUB_GITHUB_TOKEN}" in changed(plan, "config.yaml")
    assert "set them in .env" in item.reason
    secret = plan.get("secret:MCP_GITHUB_GITHUB_TOKEN")
    assert secret.secret and not secret.selected
    assert FAKE_SECRETS["mcp_github"] not in changed(plan, "config.yaml")
    assert FAKE_SECRETS["mcp_github"] not in json.dumps(plan.to_json())


def test_command_allowlist_merges_dedups_and_sorts(claw, profile):
    (profile / "config.yaml").write_text("model: {}\ncommand_allowlist:\n- /bin/ls\n- /usr/bin/git\n")
    plan = build_plan(claw, profile)
    assert plan.get("command_allowlist").status is ItemStatus.migrated
    assert "command_allowlist:\n- /bin/ls\n- /usr/bin/git\n- ~/bin/deploy-*\n" in changed(plan, "config.yaml")


def test_command_allowlist_skipped_without_config_yaml(claw, profile):
    (profile / "config.yaml").unlink()
    item = build_plan(claw, profile).get("command_allowlist")
    assert item.status is ItemStatus.skipped and "config.yaml" in item.reason


def test_telegram_allow_list_from_config_and_credentials_file(claw, profile):
    plan = build_plan(claw, profile)
    assert "TELEGRAM_ALLOWED_USERS=111111111,222222222,444444444\n" in changed(plan, ".env")


@pytest.mark.parametrize("line", [
    "DISCORD_ALLOWED_USERS=333333333333333333\n",
    "SLACK_ALLOWED_USERS=U0FAKEUSER1\n",
    "WHATSAPP_ALLOWED_USERS=+15555550777\n",
    "SIGNAL_ALLOWED_USERS=+15555550999\n",
    "SIGNAL_ACCOUNT=+15555550123\n",
    "SIGNAL_HTTP_URL=http://127.0.0.1:8080\n",
])
def test_channel_settings_rows(claw, profile, line):
    assert line in changed(build_plan(claw, profile), ".env")


def test_whatsapp_note_says_re_pair(claw, profile):
    assert "pairing again" in build_plan(claw, profile).get("env:WHATSAPP_ALLOWED_USERS").reason


def test_disabled_channel_is_skipped(tmp_path, profile):
    config = openclaw_config()
    config["channels"]["discord"]["enabled"] = False
    plan = build_plan(build_claw_tree(tmp_path / "claw", config=config), profile)
    assert plan.get("channel:discord").status is ItemStatus.skipped
    assert "DISCORD" not in changed(plan, ".env")


def test_env_keeps_the_users_other_lines(claw, profile):
    (profile / ".env").write_text("# mine\nFOO=bar\n")
    text = changed(build_plan(claw, profile), ".env")
    assert text.startswith("# mine\nFOO=bar\n")


def test_messaging_cwd_for_a_workspace_outside_the_claw_dir(tmp_path, profile):
    outside = tmp_path / "clawd"
    outside.mkdir()
    config = openclaw_config()
    config["agents"]["defaults"]["workspace"] = str(outside)
    plan = build_plan(build_claw_tree(tmp_path / "claw", config=config), profile)
    assert f"MESSAGING_CWD={outside}\n" in changed(plan, ".env")


def test_messaging_cwd_skipped_when_the_workspace_is_inside(claw, profile):
    assert build_plan(claw, profile).get("env:MESSAGING_CWD").status is ItemStatus.skipped


def test_archive_only_files_are_archived(claw, profile):
    plan = build_plan(claw, profile)
    archived = {rel for rel, _ in plan.archive_files()}
    assert {"workspace/IDENTITY.md", "workspace/TOOLS.md", "workspace/HEARTBEAT.md",
            "workspace/BOOTSTRAP.md", "workspace/memory/2026-11-01.md", "gateway-config.json",
            "model-aliases.json", "skills-entries.json", "channels-deep-config.json"} <= archived
    assert all(i.status is ItemStatus.archived for i in plan.items if i.kind is ItemKind.archive)


def test_archive_dumps_have_secrets_redacted(claw, profile):
    plan = build_plan(claw, profile)
    blob = b"".join(data for _, data in plan.archive_files())
    for secret in FAKE_SECRETS.values():
        assert secret.encode() not in blob


def test_never_copied_files_appear_nowhere(claw, profile):
    plan = build_plan(claw, profile, migrate_secrets=True)
    everything = json.dumps(plan.to_json()) + "".join(c.after or "" for c in plan.file_changes())
    everything += b"".join(d for _, d in plan.archive_files()).decode("utf-8", "replace")
    for secret in ("oauth", "fingerprint"):
        assert FAKE_SECRETS[secret] not in everything
    assert "FAKE-socket-token-0000" not in everything


def test_legacy_config_file_name_is_read(tmp_path, profile):
    claw = build_claw_tree(tmp_path / "claw")
    (claw / "openclaw.json").rename(claw / "clawdbot.json")
    assert build_plan(claw, profile).get("model").status is ItemStatus.migrated


def test_file_changes_reflect_only_selected_items(claw, profile):
    plan = build_plan(claw, profile)
    plan.select("model", False)
    assert "provider: custom:localvllm" not in changed(plan, "config.yaml")
    assert plan.get("model").status is ItemStatus.skipped
    plan.select("model", True)
    assert "provider: custom:localvllm" in changed(plan, "config.yaml")


def test_building_a_plan_writes_nothing(claw, profile):
    from tests.support.claw_tree import fingerprint

    before = fingerprint(profile), fingerprint(claw)
    build_plan(claw, profile, migrate_secrets=True)
    assert (fingerprint(profile), fingerprint(claw)) == before


def test_json_export_shape(claw, profile):
    rows = build_plan(claw, profile).to_json()
    assert rows and all({"kind", "source", "destination", "status", "reason"} <= set(r) for r in rows)
    assert {r["status"] for r in rows} <= {s.value for s in ItemStatus}


def test_one_value_kept_in_two_places_is_one_row_naming_both(claw, profile):
    # The fixture's gateway token is in .env and in openclaw.json gateway.auth.token.
    config = openclaw_config()
    config["env"] = {"ANTHROPIC_API_KEY": FAKE_SECRETS["anthropic_env"]}
    (claw / "openclaw.json").write_text(json.dumps(config))
    plan = build_plan(claw, profile)
    gateway = [i for i in plan.items if i.id.startswith("secret:gateway-token")]
    assert [i.source for i in gateway] == [".env OPENCLAW_GATEWAY_TOKEN + openclaw.json gateway.auth.token"]
    anthropic = [i for i in plan.items if i.destination == ".env ANTHROPIC_API_KEY"]
    # Two different values (a real choice) stay two rows; the repeated one folds into the first.
    assert [i.source for i in anthropic] == [
        ".env ANTHROPIC_API_KEY + openclaw.json env.ANTHROPIC_API_KEY",
        "agents/main/agent/auth-profiles.json profiles.anthropic:default"]
    rows = [(i.source, i.destination) for i in plan.items]
    assert len(rows) == len(set(rows)), "a row is shown twice"


def test_a_re_plan_keeps_what_was_left_out_and_a_conflict_kept(claw, profile):
    from hermes_tui.migration.plan import keep_choices

    (profile / "SOUL.md").write_text("my own soul\n")
    first = build_plan(claw, profile)
    first.resolve("soul", "skip")
    first.select("memory", False)
    again = build_plan(claw, profile)
    assert again.get("soul").unresolved_conflict and again.get("memory").selected
    keep_choices(first, again)
    assert again.get("soul").resolution == "skip" and not again.unresolved_conflicts()
    assert not again.get("memory").selected
