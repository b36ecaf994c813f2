"""Hazards (formats reference §8): each becomes an error item and the rest proceeds."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from hermes_tui.migration.apply import apply_plan
from hermes_tui.migration.plan import ItemStatus, build_plan
from tests.support.claw_tree import build_claw_tree, fingerprint, make_profile


def test_non_utf8_daily_note_is_an_error_item_and_the_rest_proceeds(tmp_path):
    claw = build_claw_tree(tmp_path / "claw", latin1=True)
    _, profile = make_profile(tmp_path)
    plan = build_plan(claw, profile)
    bad = plan.get("daily_memory:2026-10-15-latin1.md")
    assert bad.status is ItemStatus.error and "not UTF-8" in bad.reason and "0xe9" in bad.reason
    assert plan.get("daily_memory:2026-11-01.md").status is ItemStatus.migrated
    assert plan.get("soul").status is ItemStatus.migrated
    # The archive copies bytes, so the odd file is still kept for reference.
    assert "workspace/memory/2026-10-15-latin1.md" in {rel for rel, _ in plan.archive_files()}


def test_non_utf8_soul_is_an_error(tmp_path):
    claw = build_claw_tree(tmp_path / "claw")
    (claw / "workspace/SOUL.md").write_bytes(b"caf\xe9\n")
    _, profile = make_profile(tmp_path)
    plan = build_plan(claw, profile)
    assert plan.get("soul").status is ItemStatus.error
    assert all(c.path != "SOUL.md" for c in plan.file_changes())


def test_malformed_openclaw_json_is_an_error_and_workspace_items_proceed(tmp_path):
    claw = build_claw_tree(tmp_path / "claw", config_text='{"agents": {"defaults": ')
    _, profile = make_profile(tmp_path)
    plan = build_plan(claw, profile)
    item = plan.get("config:openclaw.json")
    assert item.status is ItemStatus.error and "malformed" in item.reason
    assert plan.get("soul").status is ItemStatus.migrated
    assert plan.get("skill:git-helper").status is ItemStatus.migrated
    assert plan.get("command_allowlist").status is ItemStatus.migrated
    assert not any(i.id == "model" for i in plan.items)


def test_json5_openclaw_json_is_accepted(tmp_path):
    text = '{\n  // comment\n  agents: {defaults: {model: "anthropic/b",},},\n}\n'
    claw = build_claw_tree(tmp_path / "claw", config_text=text)
    _, profile = make_profile(tmp_path)
    assert build_plan(claw, profile).get("model").status is ItemStatus.migrated


def test_symlinks_out_of_the_tree_are_never_followed_or_copied(tmp_path):
    claw = build_claw_tree(tmp_path / "claw", escape_link=True)
    _, profile = make_profile(tmp_path)
    plan = build_plan(claw, profile)
    link_errors = [i for i in plan.items if i.id.startswith("link:")]
    assert {i.source for i in link_errors} >= {"workspace/skills/git-helper/passwd",
                                              "workspace/skills/git-helper/etc-dir",
                                              "workspace/memory/hostname.md"}
    assert all(i.status is ItemStatus.error and "outside" in i.reason for i in link_errors)
    paths = {c.path for c in plan.file_changes()} | {rel for rel, _ in plan.archive_files()}
    assert not any("passwd" in p or "etc-dir" in p or "hostname" in p for p in paths)
    # The skill itself still migrates, without the links.
    assert plan.get("skill:git-helper").status is ItemStatus.migrated
    etc_passwd = Path("/etc/passwd").read_bytes()
    result = apply_plan(plan)
    for path in [*profile.rglob("*"), *result.run_dir.rglob("*")]:
        assert not path.is_symlink()
        if path.is_file():
            assert path.read_bytes() != etc_passwd


def test_soul_linked_to_a_file_outside_is_an_error(tmp_path):
    claw = build_claw_tree(tmp_path / "claw")
    outside = tmp_path / "outside.md"
    outside.write_text("secret outside\n")
    (claw / "workspace/SOUL.md").unlink()
    os.symlink(outside, claw / "workspace/SOUL.md")
    _, profile = make_profile(tmp_path)
    plan = build_plan(claw, profile)
    assert plan.get("soul").status is ItemStatus.error
    assert "secret outside" not in json.dumps([c.after for c in plan.file_changes()])


def test_link_inside_the_tree_is_fine(tmp_path):
    claw = build_claw_tree(tmp_path / "claw")
    os.symlink("SKILL.md", claw / "workspace/skills/weather-brief/ALIAS.md")
    _, profile = make_profile(tmp_path)
    plan = build_plan(claw, profile)
    assert any(c.path.endswith("weather-brief/ALIAS.md") for c in plan.file_changes())


def test_whole_skills_dir_linked_outside_is_an_error(tmp_path):
    claw = build_claw_tree(tmp_path / "claw")
    elsewhere = tmp_path / "elsewhere/skill-x"
    elsewhere.mkdir(parents=True)
    (elsewhere / "SKILL.md").write_text("x\n")
    os.symlink(elsewhere, claw / "workspace/skills/skill-x")
    _, profile = make_profile(tmp_path)
    plan = build_plan(claw, profile)
    assert plan.get("skill:skill-x").status is ItemStatus.error


SNIPPET = """
import json, sys
from pathlib import Path
from hermes_tui.migration.plan import build_plan
plan = build_plan(Path(sys.argv[1]), Path(sys.argv[2]))
print(json.dumps({i.id: [i.status, i.reason] for i in plan.items}))
"""


@pytest.fixture
def world_dir() -> Iterator[Path]:
    """A folder in /tmp that user nobody can traverse (pytest's tmp_path is 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="hermes-tui-claw-", dir="/tmp"))
    os.chmod(folder, 0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _open_up(claw: Path) -> None:
    for path in [claw, *claw.rglob("*")]:
        if not path.is_symlink():
            os.chmod(path, 0o755 if path.is_dir() else 0o644)


def test_unreadable_file_is_an_error_item_when_run_as_nobody(world_dir, nobody_python):
    root = world_dir
    claw = build_claw_tree(root / "claw")
    profile = root / "profile"
    profile.mkdir()
    (profile / "config.yaml").write_text("model: {}\n")
    _open_up(claw)
    os.chmod(profile, 0o777)
    os.chmod(claw / "workspace/MEMORY.md", 0o000)
    os.chmod(claw / "workspace/skills/git-helper/notes.txt", 0o000)
    done = nobody_python(SNIPPET, [str(claw), str(profile)])
    assert done.returncode == 0, done.stderr
    items = json.loads(done.stdout)
    assert items["memory"][0] == "error" and "permission denied" in items["memory"][1]
    assert items["skill:git-helper"][0] == "error"
    assert items["soul"][0] == "migrated"
    assert items["user_profile"][0] == "migrated"


def test_source_tree_is_untouched_by_dry_run_and_apply(tmp_path):
    claw = build_claw_tree(tmp_path / "claw", latin1=True, escape_link=True)
    _, profile = make_profile(tmp_path)
    before = fingerprint(claw)
    plan = build_plan(claw, profile, migrate_secrets=True)
    assert fingerprint(claw) == before
    for item in plan.unresolved_conflicts():
        plan.resolve(item.id, "overwrite")
    apply_plan(plan)
    assert fingerprint(claw) == before


def test_folder_that_cannot_be_entered_is_an_error_item_as_nobody(world_dir, nobody_python):
    claw = build_claw_tree(world_dir / "claw")
    profile = world_dir / "profile"
    profile.mkdir()
    (profile / "config.yaml").write_text("model: {}\n")
    _open_up(claw)
    os.chmod(claw / "workspace/skills", 0o000)
    done = nobody_python(SNIPPET, [str(claw), str(profile)])
    assert done.returncode == 0, done.stderr
    items = json.loads(done.stdout)
    errors = {k: v for k, v in items.items() if v[0] == "error"}
    assert errors and all("permission denied" in v[1] for v in errors.values())
    assert items["soul"][0] == "migrated" and items["model"][0] == "migrated"


def test_claw_dir_that_cannot_be_read_is_one_error_item_as_nobody(world_dir, nobody_python):
    claw = build_claw_tree(world_dir / "claw")
    profile = world_dir / "profile"
    profile.mkdir()
    os.chmod(claw, 0o700)
    done = nobody_python(SNIPPET, [str(claw), str(profile)])
    assert done.returncode == 0, done.stderr
    items = json.loads(done.stdout)
    assert list(items) == ["config:claw_dir"] and "permission denied" in items["config:claw_dir"][1]


# --- files too deep or too large (every parser is bounded; see hermes_tui/limits.py) ------


def nested(depth: int, leaf: str = "1") -> str:
    """JSON with ``depth`` arrays inside each other (the outermost counts as 1)."""
    return "[" * depth + leaf + "]" * depth


def test_deeply_nested_openclaw_json_is_an_error_item_naming_the_file(tmp_path):
    # 100,000 levels: json raised RecursionError, a traceback from every front end.
    claw = build_claw_tree(tmp_path / "claw", config_text='{"agents": ' + nested(100_000) + "}")
    _, profile = make_profile(tmp_path)
    plan = build_plan(claw, profile)
    item = plan.get("config:openclaw.json")
    assert item.status is ItemStatus.error and item.source == "openclaw.json"
    assert "nested more than 100 levels deep" in item.reason
    assert "the rest proceeds" in item.reason
    assert plan.get("soul").status is ItemStatus.migrated


@pytest.mark.parametrize("json5", [False, True], ids=["json", "json5"])
def test_nesting_up_to_the_limit_is_read_and_one_more_level_is_not(tmp_path, json5):
    # {"agents": {"defaults": {"model": "anthropic/b", "deep": [[...]]}}}: 3 + arrays.
    def config(arrays: int) -> str:
        body = f'{{"agents": {{"defaults": {{"model": "anthropic/b", "deep": {nested(arrays)}}}}}}}'
        return body.replace('"agents"', "// JSON5\nagents") if json5 else body

    _, profile = make_profile(tmp_path)
    fits = build_plan(build_claw_tree(tmp_path / "fits", config_text=config(97)), profile)
    assert fits.get("model").status is ItemStatus.migrated
    over = build_plan(build_claw_tree(tmp_path / "over", config_text=config(98)), profile)
    assert over.get("config:openclaw.json").status is ItemStatus.error


def test_openclaw_json_over_the_size_limit_is_refused_unread_saying_size_and_limit(tmp_path):
    claw = build_claw_tree(tmp_path / "claw")
    with open(claw / "openclaw.json", "r+b") as handle:  # 98 MB, sparse: nothing to write
        handle.truncate(98_000_000)
    _, profile = make_profile(tmp_path)
    plan = build_plan(claw, profile)
    item = plan.get("config:openclaw.json")
    assert item.status is ItemStatus.error
    assert item.reason.startswith("openclaw.json is 93.5 MiB, more than the 8 MiB the wizard reads.")
    assert plan.get("soul").status is ItemStatus.migrated


def test_other_json_of_the_claw_folder_is_bounded_too(tmp_path):
    claw = build_claw_tree(tmp_path / "claw")
    (claw / "exec-approvals.json").write_text('{"agents": ' + nested(50_000) + "}")
    (claw / "agents/main/agent/auth-profiles.json").write_text(nested(50_000))
    with open(claw / "credentials/telegram-default-allowFrom.json", "r+b") as handle:
        handle.truncate(9 * 1024 * 1024)
    _, profile = make_profile(tmp_path)
    plan = build_plan(claw, profile, migrate_secrets=True)
    assert plan.get("command_allowlist").status is ItemStatus.error
    assert "nested more than 100 levels" in plan.get("command_allowlist").reason
    auth = plan.get("source:agents/main/agent/auth-profiles.json")
    assert auth.status is ItemStatus.error and "nested more than 100 levels" in auth.reason
    allow = plan.get("source:telegram-default-allowFrom.json")
    assert allow.status is ItemStatus.error
    assert "9.0 MiB, more than the 8 MiB the wizard reads" in allow.reason
    assert plan.get("model").status is ItemStatus.migrated


def test_a_claw_env_over_its_limit_is_an_error_item(tmp_path):
    claw = build_claw_tree(tmp_path / "claw")
    with open(claw / ".env", "r+b") as handle:
        handle.truncate(2 * 1024 * 1024)
    _, profile = make_profile(tmp_path)
    plan = build_plan(claw, profile)
    item = plan.get("source:.env")
    assert item.status is ItemStatus.error
    assert item.reason == ".env is 2.0 MiB, more than the 1 MiB the wizard reads."


def test_a_fifo_named_openclaw_json_is_an_error_item_not_a_hang(tmp_path):
    claw = build_claw_tree(tmp_path / "claw")
    (claw / "openclaw.json").unlink()
    os.mkfifo(claw / "openclaw.json")
    _, profile = make_profile(tmp_path)
    plan = build_plan(claw, profile)
    item = plan.get("config:openclaw.json")
    assert item.status is ItemStatus.error and "not a regular file" in item.reason


@pytest.mark.parametrize("hostile", ["deep", "large"])
def test_a_hostile_profile_config_yaml_is_an_error_not_a_traceback(tmp_path, hostile):
    claw = build_claw_tree(tmp_path / "claw")
    _, profile = make_profile(tmp_path)
    config = profile / "config.yaml"
    if hostile == "deep":
        config.write_text("model: " + nested(5_000) + "\n")
    else:
        with open(config, "r+b") as handle:
            handle.truncate(9 * 1024 * 1024)
    plan = build_plan(claw, profile)
    errors = [i for i in plan.items if i.status is ItemStatus.error]
    said = "100 levels deep" if hostile == "deep" else "the file is too large"
    assert errors and all("config.yaml" in i.reason and said in i.reason for i in errors)
    assert plan.get("soul").status is ItemStatus.migrated
