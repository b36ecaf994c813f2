"""Apply and undo: backups, report without secrets, conflicts, secrets opt-in, idempotency."""

from __future__ import annotations

import json
import os
import stat
from datetime import datetime
from pathlib import Path

import pytest

from hermes_tui.migration.apply import ConflictsPending, apply_plan, undo
from hermes_tui.migration.plan import ItemKind, ItemStatus, PlanError, build_plan
from tests.support.claw_tree import FAKE_SECRETS, build_claw_tree, fingerprint, make_profile

NOW = datetime(2025, 1, 2, 3, 4, 5)


@pytest.fixture
def claw(tmp_path: Path) -> Path:
    return build_claw_tree(tmp_path / "claw", latin1=True)


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    return make_profile(tmp_path)[1]


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "migration" not in p.relative_to(root).parts}


def all_output(run_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in run_dir.rglob("*") if p.is_file() and "backups" not in p.parts)


# --- secrets ---------------------------------------------------------------------------------


def test_secrets_are_off_by_default(claw, profile):
    plan = build_plan(claw, profile)
    secrets = [i for i in plan.items if i.kind is ItemKind.secret and i.base_status is ItemStatus.migrated]
    assert {i.id for i in secrets} >= {"secret:TELEGRAM_BOT_TOKEN", "secret:DISCORD_BOT_TOKEN",
                                       "secret:SLACK_BOT_TOKEN", "secret:SLACK_APP_TOKEN",
                                       "secret:OPENROUTER_API_KEY",
                                       "secret:ANTHROPIC_API_KEY", "secret:OPENAI_API_KEY",
                                       "secret:LOCALVLLM_API_KEY"}
    assert all(not i.selected and i.status is ItemStatus.skipped for i in secrets)
    env = next(c for c in plan.file_changes() if c.path == ".env").after
    for secret in FAKE_SECRETS.values():
        assert secret not in env
    apply_plan(plan, now=NOW)
    text = (profile / ".env").read_text()
    for secret in FAKE_SECRETS.values():
        assert secret not in text


def test_secret_opt_in_is_per_item(claw, profile):
    plan = build_plan(claw, profile)
    plan.select("secret:TELEGRAM_BOT_TOKEN", True)
    assert plan.get("secret:TELEGRAM_BOT_TOKEN").status is ItemStatus.migrated
    apply_plan(plan, now=NOW)
    text = (profile / ".env").read_text()
    assert f"TELEGRAM_BOT_TOKEN={FAKE_SECRETS['telegram']}" in text
    assert FAKE_SECRETS["discord"] not in text and FAKE_SECRETS["slack_bot"] not in text
    assert stat.S_IMODE((profile / ".env").stat().st_mode) == 0o600


def test_migrate_secrets_selects_one_value_per_key(claw, profile):
    plan = build_plan(claw, profile, migrate_secrets=True)
    first, second = plan.get("secret:ANTHROPIC_API_KEY"), next(
        i for i in plan.items if i.id.startswith("secret:ANTHROPIC_API_KEY@"))
    assert first.selected and not second.selected
    plan.select(second.id, True)
    assert second.selected and not first.selected
    assert f"ANTHROPIC_API_KEY={FAKE_SECRETS['anthropic_profile']}" in next(
        c.after for c in plan.file_changes() if c.path == ".env")


def test_gateway_token_is_not_migrated_because_hermes_reads_none(claw, profile):
    plan = build_plan(claw, profile, migrate_secrets=True)
    item = plan.get("secret:gateway-token@.env:OPENCLAW_GATEWAY_TOKEN")
    assert item.status is ItemStatus.skipped and not item.selected
    assert "archive/gateway-config.json" in item.reason
    assert "HERMES_GATEWAY_TOKEN" not in "".join(c.after or "" for c in plan.file_changes())
    assert "gateway token is not migrated" in plan.get("archive:gateway-config.json").reason
    assert FAKE_SECRETS["gateway"] not in json.dumps(plan.to_json())


def test_display_text_and_json_never_show_secret_values(claw, profile):
    (profile / ".env").write_text("MY_OWN_TOKEN=keep-this-private-123\n")
    plan = build_plan(claw, profile, migrate_secrets=True)
    shown = json.dumps(plan.to_json())
    for change in plan.file_changes():
        shown += (change.display_before or "") + (change.display_after or "")
        shown += change.redacted().after or ""
    for secret in [*FAKE_SECRETS.values(), "keep-this-private-123"]:
        assert secret not in shown, secret
    assert "TELEGRAM_BOT_TOKEN=" in shown


def test_report_and_summary_have_no_secret_values(claw, profile):
    plan = build_plan(claw, profile, migrate_secrets=True)
    result = apply_plan(plan, now=NOW)
    blob = all_output(result.run_dir)
    for secret in FAKE_SECRETS.values():
        assert secret.encode() not in blob, secret
    report = json.loads(result.report_path.read_text())
    assert report["items"] and report["counts"]["migrated"] > 0
    assert result.summary_path.read_text().startswith("# OpenClaw → Hermes migration")


# --- conflicts ---------------------------------------------------------------------------------


def test_conflicts_are_never_overwritten_silently(claw, profile):
    (profile / "SOUL.md").write_text("my own soul\n")
    (profile / "config.yaml").write_text("model:\n  default: other/model\n")
    plan = build_plan(claw, profile)
    assert plan.get("soul").status is ItemStatus.conflict
    assert plan.get("model").status is ItemStatus.conflict
    with pytest.raises(ConflictsPending) as caught:
        apply_plan(plan, now=NOW)
    assert {i.id for i in caught.value.items} == {"soul", "model"}
    assert (profile / "SOUL.md").read_text() == "my own soul\n"
    assert not (profile / "migration").exists()


def test_resolve_skip_keeps_the_existing_file(claw, profile):
    (profile / "SOUL.md").write_text("my own soul\n")
    plan = build_plan(claw, profile)
    plan.resolve("soul", "skip")
    assert plan.get("soul").status is ItemStatus.skipped
    apply_plan(plan, now=NOW)
    assert (profile / "SOUL.md").read_text() == "my own soul\n"


def test_resolve_overwrite_backs_up_first(claw, profile):
    (profile / "SOUL.md").write_text("my own soul\n")
    plan = build_plan(claw, profile)
    plan.resolve("soul", "overwrite")
    result = apply_plan(plan, now=NOW)
    assert "runs on Hermes" in (profile / "SOUL.md").read_text()
    assert (result.run_dir / "backups/SOUL.md").read_text() == "my own soul\n"


def test_skill_conflict_rename_imports_beside_the_existing_one(claw, profile):
    existing = profile / "skills/openclaw-imports/git-helper"
    existing.mkdir(parents=True)
    (existing / "SKILL.md").write_text("mine\n")
    plan = build_plan(claw, profile)
    assert plan.get("skill:git-helper").status is ItemStatus.conflict
    plan.resolve("skill:git-helper", "rename")
    assert plan.get("skill:git-helper").destination == "skills/openclaw-imports/git-helper-imported"
    apply_plan(plan, now=NOW)
    assert (existing / "SKILL.md").read_text() == "mine\n"
    assert (profile / "skills/openclaw-imports/git-helper-imported/notes.txt").exists()
    assert os.access(profile / "skills/openclaw-imports/git-helper-imported/run.sh", os.X_OK)


def test_rename_does_not_apply_to_soul(claw, profile):
    (profile / "SOUL.md").write_text("mine\n")
    plan = build_plan(claw, profile)
    with pytest.raises(PlanError):
        plan.resolve("soul", "rename")


def test_env_key_with_a_different_value_is_a_conflict(claw, profile):
    (profile / ".env").write_text("DISCORD_ALLOWED_USERS=999\nSLACK_ALLOWED_USERS=U0FAKEUSER1\n")
    plan = build_plan(claw, profile)
    assert plan.get("env:DISCORD_ALLOWED_USERS").status is ItemStatus.conflict
    assert plan.get("env:SLACK_ALLOWED_USERS").status is ItemStatus.skipped


def test_custom_provider_and_mcp_name_clash_are_conflicts(claw, profile):
    (profile / "config.yaml").write_text(
        "custom_providers:\n- name: LocalVLLM\n  base_url: http://elsewhere/v1\n"
        "mcp_servers:\n  filesystem:\n    command: other\n")
    plan = build_plan(claw, profile)
    assert plan.get("provider:localvllm").status is ItemStatus.conflict
    assert plan.get("mcp:filesystem").status is ItemStatus.conflict


def test_deselecting_a_conflict_lets_apply_proceed(claw, profile):
    (profile / "SOUL.md").write_text("mine\n")
    plan = build_plan(claw, profile)
    plan.select("soul", False)
    apply_plan(plan, now=NOW)
    assert (profile / "SOUL.md").read_text() == "mine\n"


# --- apply, undo, idempotency --------------------------------------------------------------------


def test_apply_writes_run_dir_with_backups_report_and_archive(claw, profile, fixed_stamp):
    plan = build_plan(claw, profile)
    result = apply_plan(plan, now=NOW)
    assert result.run_dir == profile / "migration/openclaw" / fixed_stamp
    assert (result.run_dir / "backups/config.yaml").read_text().startswith("# Hermes configuration")
    assert (result.run_dir / "backups/.env").exists()
    assert (result.run_dir / "archive/workspace/IDENTITY.md").exists()
    assert (result.run_dir / "archive/workspace/memory/2026-10-15-latin1.md").read_bytes().endswith(b"\xe9e.\n")
    assert {"SOUL.md", "memories/MEMORY.md", "memories/USER.md"} <= set(result.created)
    assert {"config.yaml", ".env"} <= set(result.replaced)
    config = (profile / "config.yaml").read_text()
    assert config.startswith("# Hermes configuration")  # comments kept
    assert "default: qwen3-32b\n  provider: custom:localvllm\n" in config


def test_apply_results_match_the_planned_after_text(claw, profile):
    plan = build_plan(claw, profile, migrate_secrets=True)
    expected = {c.path: c.after for c in plan.file_changes()}
    apply_plan(plan, now=NOW)
    for path, after in expected.items():
        assert (profile / path).read_text() == after, path


def test_second_dry_run_after_apply_has_nothing_to_migrate(claw, profile):
    plan = build_plan(claw, profile, migrate_secrets=True)
    apply_plan(plan, now=NOW)
    again = build_plan(claw, profile, migrate_secrets=True)
    assert again.nothing_to_do, [(i.id, i.status, i.reason) for i in again.pending()]
    assert again.file_changes() == []
    counts = again.counts()
    assert counts[ItemStatus.migrated] == counts[ItemStatus.conflict] == counts[ItemStatus.archived] == 0


def test_undo_restores_the_profile_exactly(claw, profile):
    (profile / "SOUL.md").write_text("mine\n")
    os.chmod(profile / "SOUL.md", 0o640)
    before = snapshot(profile)
    before_fp = {p: stat.S_IMODE((profile / p).stat().st_mode) for p in before}
    plan = build_plan(claw, profile, migrate_secrets=True)
    plan.resolve("soul", "overwrite")
    result = apply_plan(plan, now=NOW)
    assert snapshot(profile) != before
    restored = undo(result.run_dir)
    assert "SOUL.md" in restored and "config.yaml" in restored
    assert snapshot(profile) == before
    assert {p: stat.S_IMODE((profile / p).stat().st_mode) for p in before} == before_fp
    assert not (profile / "skills/openclaw-imports").exists()
    assert undo(result.run_dir) == []  # a second undo does nothing
    # After undo the archive no longer counts: a new plan archives again.
    assert build_plan(claw, profile).get("archive:IDENTITY.md").status is ItemStatus.archived


def test_undo_keeps_later_edits_aside(claw, profile):
    result = apply_plan(build_plan(claw, profile), now=NOW)
    (profile / "SOUL.md").write_text("edited after the apply\n")
    undo(result.run_dir)
    assert not (profile / "SOUL.md").exists()
    assert (result.run_dir / "undo-saved/SOUL.md").read_text() == "edited after the apply\n"


def test_apply_refuses_a_target_changed_since_the_plan(claw, profile):
    plan = build_plan(claw, profile)
    (profile / "SOUL.md").write_text("appeared meanwhile\n")
    result = apply_plan(plan, now=NOW)
    assert any("changed since the plan" in e for e in result.errors)
    assert (profile / "SOUL.md").read_text() == "appeared meanwhile\n"
    assert (profile / "memories/MEMORY.md").exists()  # the rest went ahead


def test_two_applies_in_the_same_second_get_separate_run_dirs(claw, profile):
    first = apply_plan(build_plan(claw, profile), now=NOW)
    (profile / "SOUL.md").unlink()
    second = apply_plan(build_plan(claw, profile), now=NOW)
    assert first.run_dir != second.run_dir and second.run_dir.name.endswith("-2")


def test_source_untouched_including_metadata(claw, profile):
    before = fingerprint(claw)
    plan = build_plan(claw, profile, migrate_secrets=True)
    result = apply_plan(plan, now=NOW)
    undo(result.run_dir)
    assert fingerprint(claw) == before


async def test_channels_a_migration_writes_are_recorded_and_an_undo_takes_them_back(
        claw, profile, tmp_path):
    # Setup and the wizard both apply through steps.migration: one rule for state.channels,
    # the one step 4, the dashboard and status follow (what the profile's .env configures).
    from hermes_tui.state import StateStore, StepId, WizardState
    from hermes_tui.steps import migration as step
    from hermes_tui.steps.flow import Flow

    (profile / ".env").write_text("TELEGRAM_BOT_TOKEN=7001:FAKE-own-token\n")
    state = WizardState(current_step=StepId.MIGRATION, profile=profile.name, channels=["telegram"])
    flow = Flow(state, StateStore(tmp_path / "wizard.toml"))
    found = await step.find_claw(claw)
    plan = await step.make_plan(flow, found, profile, claw)
    result = await step.apply(flow, plan, claw)
    assert state.channels == ["telegram", "whatsapp", "signal"]
    saved = StateStore(tmp_path / "wizard.toml").load().state
    assert saved.channels == state.channels
    await step.undo_apply(flow, result.run_dir)
    assert state.channels == ["telegram"]
