"""``hermes-tui migrate``: output, --json shape, exit codes (run in-process)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from hermes_tui.migration import cli
from tests.support.claw_tree import FAKE_SECRETS, build_claw_tree, fingerprint, make_profile


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    claw = build_claw_tree(tmp_path / "claw")
    data, profile = make_profile(tmp_path, "main")
    return claw, data, profile


def args(**overrides: object) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir")
    cli.add_arguments(parser)
    ns = parser.parse_args([])
    for key, value in overrides.items():
        setattr(ns, key, value)
    return ns


def test_add_arguments_parses_the_documented_options(tmp_path):
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    ns = parser.parse_args(["--profile", "p", "--claw-dir", "/x", "--dry-run", "--json",
                            "--migrate-secrets", "--select", "a", "--select", "b"])
    assert (ns.profile, ns.claw_dir, ns.dry_run, ns.json, ns.migrate_secrets, ns.select) == (
        "p", "/x", True, True, True, ["a", "b"])
    assert not hasattr(parser.parse_args([]), "claw_dir")  # keeps a top-level --claw-dir


def test_dry_run_prints_a_table_and_counts_and_writes_nothing(setup, capsys):
    claw, data, profile = setup
    before = fingerprint(profile), fingerprint(claw)
    code = cli.run(args(profile="main", data_dir=str(data), claw_dir=str(claw), dry_run=True))
    out = capsys.readouterr().out
    assert code == 0
    assert "STATUS" in out and "workspace/SOUL.md → SOUL.md" in out
    assert "migrated  soul" in out
    assert "id: secret:TELEGRAM_BOT_TOKEN" in out
    assert out.rstrip().splitlines()[-1].startswith(tuple("0123456789"))
    assert (fingerprint(profile), fingerprint(claw)) == before


def test_json_is_an_array_of_items_with_secrets_redacted(setup, capsys):
    claw, data, _ = setup
    code = cli.run(args(profile="main", data_dir=str(data), claw_dir=str(claw), dry_run=True,
                        json=True, migrate_secrets=True))
    out = capsys.readouterr().out
    assert code == 0
    rows = json.loads(out)
    assert isinstance(rows, list) and rows
    for row in rows:
        assert {"kind", "source", "destination", "status", "reason"} <= set(row)
    for secret in FAKE_SECRETS.values():
        assert secret not in out


def test_apply_prints_where_the_backup_and_report_went(setup, capsys):
    claw, data, profile = setup
    code = cli.run(args(profile="main", data_dir=str(data), claw_dir=str(claw)))
    out = capsys.readouterr().out
    assert code == 0
    run_dir = next((profile / "migration/openclaw").iterdir())
    assert str(run_dir.name) in out and "report.json" in out and "--undo" in out
    assert (profile / "SOUL.md").exists()
    code = cli.run(args(profile="main", data_dir=str(data), claw_dir=str(claw), dry_run=True))
    assert code == 0 and "Nothing left to migrate." in capsys.readouterr().out


def test_undo_from_the_command_line(setup, capsys):
    claw, data, profile = setup
    cli.run(args(profile="main", data_dir=str(data), claw_dir=str(claw)))
    run_dir = next((profile / "migration/openclaw").iterdir())
    capsys.readouterr()
    assert cli.run(args(undo=str(run_dir))) == 0
    assert "restored or removed" in capsys.readouterr().out
    assert not (profile / "SOUL.md").exists()


def test_missing_profile_exits_2(setup, capsys):
    claw, data, _ = setup
    assert cli.run(args(profile="nope", data_dir=str(data), claw_dir=str(claw), dry_run=True)) == 2
    assert "profile 'nope' not found" in capsys.readouterr().err
    assert cli.run(args(profile=None, data_dir=str(data))) == 2
    assert cli.run(args(profile="Bad Name", data_dir=str(data))) == 2


def test_missing_claw_dir_exits_3_with_the_code(setup, tmp_path, capsys):
    _, data, _ = setup
    code = cli.run(args(profile="main", data_dir=str(data), claw_dir=str(tmp_path / "none"), dry_run=True))
    err = capsys.readouterr().err
    assert code == 3 and "CLAW_CONFIG_NOT_FOUND" in err and "does not exist" in err


def test_claw_path_that_is_a_file_exits_3(setup, tmp_path, capsys):
    _, data, _ = setup
    (tmp_path / "f").write_text("x")
    assert cli.run(args(profile="main", data_dir=str(data), claw_dir=str(tmp_path / "f"))) == 3
    assert "is not a directory" in capsys.readouterr().err


def test_conflicts_exit_4_and_say_how_to_resolve(setup, capsys):
    claw, data, profile = setup
    (profile / "SOUL.md").write_text("mine\n")
    code = cli.run(args(profile="main", data_dir=str(data), claw_dir=str(claw)))
    err = capsys.readouterr().err
    assert code == 4
    assert "soul" in err and "--on-conflict" in err and "Nothing was written" in err
    assert (profile / "SOUL.md").read_text() == "mine\n"
    assert not (profile / "migration").exists()


def test_on_conflict_skip_applies_the_rest(setup, capsys):
    claw, data, profile = setup
    (profile / "SOUL.md").write_text("mine\n")
    code = cli.run(args(profile="main", data_dir=str(data), claw_dir=str(claw), on_conflict="skip"))
    assert code == 0
    assert (profile / "SOUL.md").read_text() == "mine\n"
    assert (profile / "memories/MEMORY.md").exists()


def test_select_one_secret_from_the_command_line(setup):
    claw, data, profile = setup
    code = cli.run(args(profile="main", data_dir=str(data), claw_dir=str(claw),
                        select=["secret:DISCORD_BOT_TOKEN"]))
    assert code == 0
    env = (profile / ".env").read_text()
    assert FAKE_SECRETS["discord"] in env and FAKE_SECRETS["telegram"] not in env


def test_unknown_item_id_exits_2(setup, capsys):
    claw, data, _ = setup
    assert cli.run(args(profile="main", data_dir=str(data), claw_dir=str(claw), select=["nope"])) == 2
    assert "no plan item" in capsys.readouterr().err
