"""The migration's write-ahead record: an apply killed half way is found, undone to the
byte or finished; undo and finish say what is wrong when they cannot work.

Kills are real: ``tests.support.killpoint`` runs ``hermes-tui migrate`` in a child and
SIGKILLs it at a chosen filesystem change (see test_fault_injection_migrate.py for every
change point)."""

from __future__ import annotations

import json
import os
import stat
from datetime import datetime
from pathlib import Path

import pytest

from hermes_tui.migration.apply import (
    InterruptedRunPending,
    RecordError,
    apply_plan,
    finish_run,
    interrupted_runs,
    undo,
)
from hermes_tui.migration.journal import JOURNAL, MANIFEST, PENDING
from hermes_tui.migration.plan import UNDONE_MARKER, build_plan
from hermes_tui.state import StateStore, StepId, StepStatus, WizardState
from hermes_tui.steps import migration as step
from hermes_tui.steps.flow import Flow
from tests.support import killpoint
from tests.support.claw_tree import FAKE_SECRETS, build_claw_tree, make_profile, write
from tests.support.claw_tree import profile_snapshot as snapshot

NOW = datetime(2025, 1, 2, 3, 4, 5)


class Setup:
    """A Claw tree and a profile with something of the user's to replace."""

    def __init__(self, root: Path, name: str = "w") -> None:
        self.claw = root / f"claw-{name}"
        if not self.claw.exists():
            build_claw_tree(self.claw, latin1=True)
            for n in range(12):
                write(self.claw / f"workspace/skills/bulk/files/f{n:02d}.txt", f"file {n}\n")
            write(self.claw / "workspace/skills/bulk/SKILL.md",
                  "---\nname: bulk\ndescription: many files\n---\n# bulk\n")
        self.data, self.profile = make_profile(root / name)
        (self.profile / "SOUL.md").write_text("my own soul\n")
        os.chmod(self.profile / "SOUL.md", 0o640)
        self.before = snapshot(self.profile)

    def args(self, *more: str) -> list[str]:
        return ["--data-dir", str(self.data), "migrate", "--profile", "main", "--claw-dir",
                str(self.claw), "--migrate-secrets", "--on-conflict", "overwrite", *more]

    def run_dir(self) -> Path:
        runs = sorted((self.profile / "migration/openclaw").iterdir())
        assert len(runs) == 1, runs
        return runs[0]


@pytest.fixture(scope="module")
def changes(tmp_path_factory) -> int:
    """How many filesystem changes a whole apply of ``Setup`` makes."""
    root = tmp_path_factory.mktemp("count")
    total, done = killpoint.count(Setup(root).args(), root)
    assert done.returncode == 0, done.stderr
    return total


@pytest.fixture(scope="module")
def applied(tmp_path_factory) -> dict[str, tuple[str, int, bytes | None]]:
    """The profile after an uninterrupted apply: what finishing must give."""
    root = tmp_path_factory.mktemp("reference")
    setup = Setup(root)
    done = killpoint.run(setup.args())
    assert done.returncode == 0, done.stderr
    return snapshot(setup.profile)


def killed_half_way(tmp_path: Path, changes: int) -> Setup:
    setup = Setup(tmp_path)
    killed = killpoint.run(setup.args(), kill_at=changes // 2)
    assert killed.returncode == -9, killed.stderr
    assert snapshot(setup.profile) != setup.before, "half way, some files have landed"
    return setup


def test_a_whole_apply_leaves_the_final_manifest_and_no_pending_bytes(tmp_path):
    setup = Setup(tmp_path)
    plan = build_plan(setup.claw, setup.profile, migrate_secrets=True)
    plan.resolve("soul", "overwrite")
    result = apply_plan(plan, now=NOW)
    manifest = json.loads((result.run_dir / MANIFEST).read_text())
    assert manifest["state"] == "applied" and manifest["version"] == 2
    soul = next(f for f in manifest["files"] if f["path"] == "SOUL.md")
    assert soul["action"] == "replaced" and soul["backup"] == "backups/SOUL.md"
    assert soul["before_sha256"] and soul["sha256"] != soul["before_sha256"]
    assert "span" not in soul and "report" not in manifest
    assert not (result.run_dir / PENDING).exists() and not (result.run_dir / JOURNAL).exists()
    assert interrupted_runs(setup.profile) == []
    blob = b"".join(p.read_bytes() for p in result.run_dir.rglob("*")
                    if p.is_file() and "backups" not in p.parts)
    for secret in FAKE_SECRETS.values():
        assert secret.encode() not in blob, "the record keeps hashes, never the bytes"


def test_an_apply_killed_half_way_is_reported_and_blocks_a_new_plan(tmp_path, changes):
    setup = killed_half_way(tmp_path, changes)
    run_dir = setup.run_dir()
    assert stat.S_IMODE((run_dir / PENDING).stat().st_mode) == 0o600  # it holds .env's secrets
    dry = killpoint.run(setup.args("--dry-run"))
    assert dry.returncode == 6, dry.stderr
    assert "was interrupted" in dry.stderr and "file(s) written" in dry.stderr
    assert f"--undo {run_dir}" in dry.stderr and f"--finish {run_dir}" in dry.stderr
    assert "Nothing was planned or written." in dry.stderr and dry.stdout == ""
    assert "Traceback" not in dry.stderr
    plan = build_plan(setup.claw, setup.profile)
    with pytest.raises(InterruptedRunPending) as caught:
        apply_plan(plan)
    assert caught.value.problem.subject == str(run_dir)


def test_undo_of_an_apply_killed_half_way_restores_the_profile_to_the_byte(tmp_path, changes):
    setup = killed_half_way(tmp_path, changes)
    run_dir = setup.run_dir()
    done = killpoint.run(["migrate", "--undo", str(run_dir)])
    assert done.returncode == 0, done.stderr
    assert snapshot(setup.profile) == setup.before
    assert (run_dir / UNDONE_MARKER).exists() and not (run_dir / PENDING).exists()
    assert interrupted_runs(setup.profile) == []
    again = killpoint.run(setup.args("--dry-run"))
    assert again.returncode == 0 and "migrated  soul" in again.stdout  # all to do again


def test_finishing_an_apply_killed_half_way_gives_the_uninterrupted_result(
        tmp_path, changes, applied):
    setup = killed_half_way(tmp_path, changes)
    run_dir = setup.run_dir()
    done = killpoint.run(["migrate", "--finish", str(run_dir)])
    assert done.returncode == 0, done.stderr
    assert "Finished:" in done.stdout and f"--undo {run_dir}" in done.stdout
    assert snapshot(setup.profile) == applied
    manifest = json.loads((run_dir / MANIFEST).read_text())
    assert manifest["state"] == "applied"
    assert not (run_dir / PENDING).exists() and not (run_dir / JOURNAL).exists()
    report = json.loads((run_dir / "report.json").read_text())
    assert report["errors"] == [] and report["items"]
    assert (run_dir / "summary.md").read_text().startswith("# OpenClaw → Hermes migration")
    assert (run_dir / "archive/workspace/IDENTITY.md").exists()
    undone = killpoint.run(["migrate", "--undo", str(run_dir)])
    assert undone.returncode == 0, undone.stderr
    assert snapshot(setup.profile) == setup.before


def test_finish_leaves_a_file_changed_since_the_kill_and_says_so(tmp_path, changes):
    setup = killed_half_way(tmp_path, changes)
    run_dir = setup.run_dir()
    env = setup.profile / ".env"  # the last file an apply writes: not written yet
    env.write_text(env.read_text() + "MINE=kept\n")
    done = killpoint.run(["migrate", "--finish", str(run_dir)])
    assert done.returncode == 1
    assert ".env: changed since the plan was made" in done.stderr
    assert env.read_text().endswith("MINE=kept\n")
    assert FAKE_SECRETS["telegram"] not in env.read_text()


def test_undo_keeps_a_file_edited_after_the_kill_aside(tmp_path, changes):
    setup = killed_half_way(tmp_path, changes)
    run_dir = setup.run_dir()
    soul = setup.profile / "SOUL.md"  # the first file an apply writes
    soul.write_text("edited after the kill\n")
    undo(run_dir)
    assert soul.read_text() == "my own soul\n"
    assert (run_dir / "undo-saved/SOUL.md").read_text() == "edited after the kill\n"


def test_an_undo_killed_half_way_can_be_run_again(tmp_path):
    setup = Setup(tmp_path)
    assert killpoint.run(setup.args()).returncode == 0
    run_dir = setup.run_dir()
    total, _ = killpoint.count(["migrate", "--undo", str(run_dir)], tmp_path)
    for at in (3, total // 3, total // 2, total - 2):
        setup = Setup(tmp_path / f"at-{at}", name="main")
        assert killpoint.run(setup.args()).returncode == 0
        run_dir = setup.run_dir()
        assert killpoint.run(["migrate", "--undo", str(run_dir)], kill_at=at).returncode == -9
        again = killpoint.run(["migrate", "--undo", str(run_dir)])
        assert again.returncode == 0, again.stderr
        assert snapshot(setup.profile) == setup.before, f"undo killed at change {at} of {total}"
        assert not (run_dir / "undo-saved").exists(), "a restored file is not a user's edit"


def test_undo_of_a_folder_without_a_record_says_what_it_needs(tmp_path):
    done = killpoint.run(["migrate", "--undo", str(tmp_path)])
    assert done.returncode == 2
    assert f"{tmp_path} holds no manifest.json" in done.stderr
    assert "Fix: Pass the run folder the apply printed" in done.stderr
    assert "Traceback" not in done.stderr


def test_undo_of_a_damaged_record_points_to_the_backups(tmp_path):
    setup = Setup(tmp_path)
    assert killpoint.run(setup.args()).returncode == 0
    run_dir = setup.run_dir()
    (run_dir / MANIFEST).write_text('{"version": 2, "files": [')
    with pytest.raises(RecordError) as caught:
        undo(run_dir)
    problem = caught.value.problem
    assert "cannot be read" in problem.what and f"{run_dir}/backups/" in problem.fix


def test_finish_of_a_complete_run_says_there_is_nothing_to_finish(tmp_path):
    setup = Setup(tmp_path)
    assert killpoint.run(setup.args()).returncode == 0
    done = killpoint.run(["migrate", "--finish", str(setup.run_dir())])
    assert done.returncode == 2 and "is complete: there is nothing to finish" in done.stderr


def test_finish_without_the_pending_bytes_says_to_undo_and_undo_still_works(tmp_path, changes):
    setup = killed_half_way(tmp_path, changes)
    run_dir = setup.run_dir()
    (run_dir / PENDING).unlink()
    with pytest.raises(RecordError) as caught:
        finish_run(run_dir)
    assert "cannot be finished" in caught.value.problem.what
    assert f"--undo {run_dir}" in caught.value.problem.fix
    undo(run_dir)
    assert snapshot(setup.profile) == setup.before


def test_a_kill_before_the_record_changed_nothing_and_its_folder_is_swept(tmp_path):
    """Early kill points: the run folder may exist, the profile is untouched, nothing is
    reported, and the next apply removes what is left of it."""
    for at in range(1, 30):  # the writer lock (its record) comes first
        setup = Setup(tmp_path / f"at-{at}", name="main")
        assert killpoint.run(setup.args(), kill_at=at).returncode == -9
        runs = setup.profile / "migration/openclaw"
        if runs.exists() and any((r / MANIFEST).exists() for r in runs.iterdir()):
            break  # from here on the run is recorded: the other tests' ground
        assert snapshot(setup.profile) == setup.before, f"killed at change {at}"
        assert interrupted_runs(setup.profile) == []
        done = killpoint.run(setup.args())
        assert done.returncode == 0, done.stderr
        # Only the new run remains (it may reuse the name: the same second).
        run_dir = setup.run_dir()
        assert json.loads((run_dir / MANIFEST).read_text())["state"] == "applied"
        assert not (run_dir / PENDING).exists(), f"killed at change {at}: pending bytes left"
    else:
        pytest.fail("no manifest after 29 changes: the record is written later than expected")
    assert at > 3, "the run folder and pending.bin come before the manifest"


def test_a_run_recorded_by_an_older_version_is_still_undone(tmp_path):
    setup = Setup(tmp_path)
    assert killpoint.run(setup.args()).returncode == 0
    run_dir = setup.run_dir()
    manifest = json.loads((run_dir / MANIFEST).read_text())
    old = {"version": 1, "created_at": manifest["created_at"], "profile": manifest["profile"],
           "files": [{k: f[k] for k in ("path", "action", "backup", "sha256")}
                     for f in manifest["files"]],
           "dirs_created": manifest["dirs_created"]}
    (run_dir / MANIFEST).write_text(json.dumps(old))
    undo(run_dir)
    assert snapshot(setup.profile) == setup.before


async def test_the_step_reports_an_interrupted_apply_and_undoes_it(tmp_path, changes):
    setup = killed_half_way(tmp_path, changes)
    run_dir = setup.run_dir()
    state = WizardState(current_step=StepId.MIGRATION, profile="main")
    flow = Flow(state, StateStore(setup.data / "wizard.toml"))
    notice = step.interrupted_notice(setup.profile)
    assert notice is not None and "interrupted" in notice and "Claw migration" in notice
    found = await step.find_claw(setup.claw)
    with pytest.raises(step.InterruptedApply) as caught:
        await step.make_plan(flow, found, setup.profile, setup.claw)
    assert caught.value.run.run_dir == run_dir
    assert state.steps[StepId.MIGRATION].status is StepStatus.FAILED
    assert state.steps[StepId.MIGRATION].reason == step.INTERRUPTED
    await step.undo_apply(flow, run_dir)
    assert snapshot(setup.profile) == setup.before
    assert step.interrupted_notice(setup.profile) is None
    plan = await step.make_plan(flow, found, setup.profile, setup.claw)
    assert not plan.nothing_to_do


async def test_the_step_finishes_an_interrupted_apply_and_records_it(tmp_path, changes, applied):
    setup = killed_half_way(tmp_path, changes)
    state = WizardState(current_step=StepId.MIGRATION, profile="main")
    flow = Flow(state, StateStore(setup.data / "wizard.toml"))
    result = await step.finish(flow, setup.run_dir())
    assert result.errors == [] and snapshot(setup.profile) == applied
    assert state.migration.value == "applied" and state.claw_dir == str(setup.claw)
    assert state.steps[StepId.MIGRATION].status is StepStatus.DONE
    assert {"whatsapp", "signal"} <= set(state.channels)  # what the finished .env configures


def test_a_full_disk_mid_apply_is_undone_to_the_byte(tmp_path, tmpfs):
    # Room for the run's pending bytes, not for them and every file too: the apply starts,
    # then runs out of space part of the way.
    mount = tmpfs.mount("512k")
    claw = build_claw_tree(tmp_path / "claw")
    for n in range(40):
        write(claw / f"workspace/skills/bulk/files/f{n:02d}.bin", os.urandom(8192))
    write(claw / "workspace/skills/bulk/SKILL.md", "---\nname: bulk\ndescription: big\n---\n")
    data, profile = make_profile(mount)
    before = snapshot(profile)
    done = killpoint.run(["--data-dir", str(data), "migrate", "--profile", "main",
                          "--claw-dir", str(claw)])
    assert done.returncode == 1, done.stdout + done.stderr
    full = [line for line in done.stderr.splitlines() if "the disk is full" in line]
    assert full and all(f"Cannot write {mount}/" in line for line in full), done.stderr
    assert "Traceback" not in done.stderr
    assert snapshot(profile) != before, "some files landed before the disk filled"
    run_dir = next((profile / "migration/openclaw").iterdir())
    undone = killpoint.run(["migrate", "--undo", str(run_dir)])
    assert undone.returncode == 0, undone.stderr
    assert snapshot(profile) == before


async def test_an_apply_the_progress_missed_is_recorded_when_the_step_looks_again(tmp_path):
    """Killed after the apply ended but before the progress was saved: the next look at the
    step finds the completed run and records the migration as applied, not a dry run."""
    setup = Setup(tmp_path)
    assert killpoint.run(setup.args()).returncode == 0  # the progress file knows nothing of it
    state = WizardState(current_step=StepId.MIGRATION, profile="main")
    flow = Flow(state, StateStore(setup.data / "wizard.toml"))
    plan = await step.make_plan(flow, await step.find_claw(setup.claw), setup.profile, setup.claw)
    assert plan.nothing_to_do
    step.accept_dry_run(flow)
    assert state.migration.value == "applied" and state.claw_dir == str(setup.claw)
    undo(setup.run_dir())
    state.migration = None
    await step.make_plan(flow, await step.find_claw(setup.claw), setup.profile, setup.claw)
    assert state.migration is None  # an undone run is not an apply


@pytest.mark.parametrize("kept", [0, 2])
def test_undo_and_finish_need_no_journal_line_a_power_cut_lost(tmp_path, changes, applied, kept):
    """The journal is fsynced every 64 lines only: a power cut may lose its tail (here cut
    to ``kept`` lines, a torn half line after them). Files are judged by their bytes then."""
    for how in ("undo", "finish"):
        setup = killed_half_way(tmp_path / how, changes)
        run_dir = setup.run_dir()
        lines = (run_dir / JOURNAL).read_bytes().splitlines(keepends=True)
        assert len(lines) > kept + 1
        (run_dir / JOURNAL).write_bytes(b"".join(lines[:kept]) + lines[kept][:9])
        assert interrupted_runs(setup.profile)[0].progress()[0] == kept
        if how == "undo":
            undo(run_dir)
            assert snapshot(setup.profile) == setup.before
        else:
            assert finish_run(run_dir).errors == []
            assert snapshot(setup.profile) == applied
