"""Mapping rows checked against what Hermes 0.19.0 reads: daily-memory overflow, Matrix,
MCP credentials as ${VAR} references, browser settings."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from hermes_tui.envfile import read_env
from hermes_tui.migration.apply import apply_plan
from hermes_tui.migration.mcp import mcp_entry
from hermes_tui.migration.plan import MEMORY_SEPARATOR, ItemStatus, Plan, build_plan
from tests.support.claw_tree import FAKE_SECRETS, build_claw_tree, make_profile, openclaw_config

NOW = datetime(2026, 11, 30, 12, 0, 0)


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    return make_profile(tmp_path)[1]


def changed(plan: Plan, path: str) -> str:
    return next((c.after or "") for c in plan.file_changes() if c.path == path)


def _claw_with_big_daily_notes(tmp_path: Path) -> Path:
    claw = build_claw_tree(tmp_path / "claw")
    # MEMORY.md alone nearly fills the 2,200-character cap; the daily notes cannot fit.
    facts = "\n".join(f"- standing fact {i}: " + "m" * 90 for i in range(20))
    (claw / "workspace/MEMORY.md").write_text(f"# MEMORY.md\n{facts}\n")
    notes = "\n".join(f"- note {i}: " + "d" * 120 for i in range(5))
    (claw / "workspace/memory/2026-11-02.md").write_text(f"# 2026-11-02\n{notes}\n")
    return claw


def test_daily_notes_over_the_cap_are_a_selectable_row_and_land_in_the_run_overflow(tmp_path, profile):
    claw = _claw_with_big_daily_notes(tmp_path)
    plan = build_plan(claw, profile)
    item = plan.get("daily_memory:2026-11-02.md")
    assert item.status is ItemStatus.archived and item.selected and item.toggleable
    assert "overflow/memory_overflow.txt" in item.reason
    result = apply_plan(plan, now=NOW)
    overflow = result.run_dir / "overflow/memory_overflow.txt"
    assert "overflow/memory_overflow.txt" in result.overflow
    lines = overflow.read_text().splitlines()
    assert sum(line.startswith("2026-11-02: note") for line in lines) == 5
    memory = (profile / "memories/MEMORY.md").read_text()
    assert len(memory.rstrip("\n")) <= 2200 and "note 0" not in memory
    # Planning again: the notes are already in that overflow file, nothing is left to do.
    again = build_plan(claw, profile)
    assert again.get("daily_memory:2026-11-02.md").status is ItemStatus.skipped


def test_deselected_daily_notes_do_not_reach_the_overflow(tmp_path, profile):
    plan = build_plan(_claw_with_big_daily_notes(tmp_path), profile)
    plan.select("daily_memory:2026-11-02.md", False)
    result = apply_plan(plan, now=NOW)
    text = (result.run_dir / "overflow/memory_overflow.txt").read_text() \
        if result.overflow else ""
    assert "2026-11-02: note" not in text


def test_daily_notes_that_fit_are_merged_as_entries(tmp_path, profile):
    plan = build_plan(build_claw_tree(tmp_path / "claw"), profile)
    entries = changed(plan, "memories/MEMORY.md").rstrip("\n").split(MEMORY_SEPARATOR)
    assert any(e.startswith("2026-11-01") and "Discord bot" in e for e in entries)


def _matrix_claw(tmp_path: Path) -> Path:
    config = openclaw_config()
    config["channels"]["matrix"] = {
        "enabled": True, "homeserverUrl": "https://matrix.example.org",
        "userId": "@moss:example.org", "accessToken": "syt_FAKE_matrix_token_0000",
        "allowFrom": ["@alice:example.org", "@bob:example.org"], "encryption": True,
    }
    return build_claw_tree(tmp_path / "claw", config=config)


def test_matrix_settings_migrate_and_its_token_waits_for_consent(tmp_path, profile):
    plan = build_plan(_matrix_claw(tmp_path), profile)
    assert plan.get("env:MATRIX_HOMESERVER").status is ItemStatus.migrated
    assert plan.get("env:MATRIX_USER_ID").status is ItemStatus.migrated
    assert plan.get("env:MATRIX_ALLOWED_USERS").status is ItemStatus.migrated
    token = plan.get("secret:MATRIX_ACCESS_TOKEN")
    assert token.secret and not token.selected
    env = changed(plan, ".env")
    assert "MATRIX_HOMESERVER=https://matrix.example.org" in env
    assert "MATRIX_USER_ID=@moss:example.org" in env
    assert "MATRIX_ALLOWED_USERS=@alice:example.org,@bob:example.org" in env
    assert "syt_FAKE" not in env
    # Migrated keys are not archived a second time as channel extras.
    extras = json.loads(dict(plan.get("archive:channels-deep-config.json").archive)
                        ["channels-deep-config.json"])
    assert extras["matrix"] == {"encryption": True}


def test_matrix_token_with_consent_goes_to_env(tmp_path, profile):
    plan = build_plan(_matrix_claw(tmp_path), profile, migrate_secrets=True)
    apply_plan(plan, now=NOW)
    env = read_env(profile / ".env")
    assert env["MATRIX_ACCESS_TOKEN"] == "syt_FAKE_matrix_token_0000"
    assert env["MATRIX_HOMESERVER"] == "https://matrix.example.org"


def _mcp_claw(tmp_path: Path) -> Path:
    config = openclaw_config()
    config["mcp"]["servers"].update({
        "github": {"command": "gh-mcp", "env": {"GITHUB_TOKEN": FAKE_SECRETS["mcp_github"],
                                                "LOG_LEVEL": "debug"}},
        "remote": {"url": "https://mcp.example.com/sse", "headers": {"X-Api-Key": "plain-words"},
                   "auth": {"type": "bearer", "token": "FAKE-remote-mcp-token-0000"},
                   "connectTimeout": 5},
    })
    return build_claw_tree(tmp_path / "claw", config=config)


def test_mcp_credentials_become_references_and_values_stay_out_without_consent(tmp_path, profile):
    plan = build_plan(_mcp_claw(tmp_path), profile)
    result = apply_plan(plan, now=NOW)
    assert not result.errors
    text = (profile / "config.yaml").read_text()
    assert "GITHUB_TOKEN: ${MCP_GITHUB_GITHUB_TOKEN}\n" in text
    assert "LOG_LEVEL: debug\n" in text  # not a credential: kept inline
    assert "X-Api-Key: ${MCP_REMOTE_X_API_KEY}\n" in text
    assert "Authorization: ${MCP_REMOTE_AUTHORIZATION}\n" in text
    assert "auth:" not in text  # Hermes's auth is a string; the token moved to a header
    env = read_env(profile / ".env")
    assert not {"MCP_GITHUB_GITHUB_TOKEN", "MCP_REMOTE_AUTHORIZATION"} & set(env)
    assert "must" in plan.get("mcp:remote").reason or "set them in .env" in plan.get("mcp:remote").reason


def test_mcp_credential_values_go_to_env_with_consent(tmp_path, profile):
    plan = build_plan(_mcp_claw(tmp_path), profile, migrate_secrets=True)
    apply_plan(plan, now=NOW)
    env = read_env(profile / ".env")
    assert env["MCP_GITHUB_GITHUB_TOKEN"] == FAKE_SECRETS["mcp_github"]
    assert env["MCP_REMOTE_AUTHORIZATION"] == "Bearer FAKE-remote-mcp-token-0000"
    assert env["MCP_REMOTE_X_API_KEY"] == "plain-words"
    assert FAKE_SECRETS["mcp_github"] not in (profile / "config.yaml").read_text()


def test_mcp_existing_env_reference_is_kept_and_resolved_from_the_claw_env(tmp_path):
    entry = mcp_entry("gh", {"command": "x", "env": {"GITHUB_TOKEN": "${GH_PAT}"}})
    assert entry.config["env"]["GITHUB_TOKEN"] == "${GH_PAT}"
    assert entry.references == ["GH_PAT"] and entry.credentials == []


def test_mcp_oauth_auth_is_kept_and_other_auth_shapes_are_dropped_with_a_note():
    assert mcp_entry("a", {"url": "https://x", "auth": "oauth"}).config["auth"] == "oauth"
    assert mcp_entry("a", {"url": "https://x", "auth": {"type": "oauth"}}).config["auth"] == "oauth"
    odd = mcp_entry("a", {"url": "https://x", "auth": {"type": "mtls", "cert": "/c.pem"}})
    assert "auth" not in odd.config and odd.dropped


def test_browser_cdp_url_and_headless_map_to_what_hermes_reads(tmp_path, profile):
    config = openclaw_config()
    config["browser"] = {"cdpUrl": "http://127.0.0.1:9222", "headless": True, "profile": "work"}
    plan = build_plan(build_claw_tree(tmp_path / "claw", config=config), profile)
    item = plan.get("settings:browser")
    assert item.status is ItemStatus.migrated
    text = changed(plan, "config.yaml")
    assert "browser:\n  cdp_url: http://127.0.0.1:9222\n  headed: false\n" in text
    assert plan.get("archive:browser-config.json").status is ItemStatus.archived
