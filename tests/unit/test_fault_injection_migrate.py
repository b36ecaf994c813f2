"""``hermes-tui migrate`` killed (SIGKILL, for real) at thirty points spread over every
filesystem change an apply makes, from its first folder to its last record.

After each kill: ``.env`` and ``config.yaml`` are whole (each is its old or its new text,
never a mix, no key twice); either nothing in the profile changed or the run says it was
interrupted; and the run is undone to the byte (even kill points) or finished to exactly
what an uninterrupted apply gives, then undone to the byte (odd ones). The kill harness is
``tests.support.killpoint`` (test-only: it wraps the real program, nothing in hermes_tui
reads its variables)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from dotenv.parser import parse_stream
from ruamel.yaml import YAML

from hermes_tui.migration.apply import finish_run, interrupted_runs, undo
from hermes_tui.migration.journal import MANIFEST, PENDING
from tests.support import killpoint
from tests.support.claw_tree import build_claw_tree, make_profile, write
from tests.support.claw_tree import profile_snapshot as snapshot

POINTS = 30


def env_keys(text: str) -> list[str]:
    bindings = list(parse_stream(io.StringIO(text)))
    assert not any(b.error for b in bindings), f"a malformed .env line: {text!r}"
    assert text == "" or text.endswith("\n"), "a truncated last line"
    return [b.key for b in bindings if b.key is not None]


class Case:
    def __init__(self, root: Path, claw: Path) -> None:
        self.claw = claw
        self.data, self.profile = make_profile(root)
        (self.profile / "SOUL.md").write_text("my own soul\n")
        (self.profile / ".env").write_text((self.profile / ".env").read_text() + "MINE=1\n")
        self.before = snapshot(self.profile)

    def args(self) -> list[str]:
        return ["--data-dir", str(self.data), "migrate", "--profile", "main", "--claw-dir",
                str(self.claw), "--migrate-secrets", "--on-conflict", "overwrite"]


@pytest.fixture(scope="module")
def claw(tmp_path_factory) -> Path:
    claw = build_claw_tree(tmp_path_factory.mktemp("claw") / "claw", latin1=True)
    for n in range(20):
        write(claw / f"workspace/skills/bulk/files/f{n:02d}.txt", f"file {n}\n" * 50)
    write(claw / "workspace/skills/bulk/SKILL.md", "---\nname: bulk\ndescription: many\n---\n")
    return claw


@pytest.fixture(scope="module")
def reference(tmp_path_factory, claw) -> tuple[int, dict, dict]:
    """(changes a whole apply makes, the profile before, the profile after it)."""
    root = tmp_path_factory.mktemp("reference")
    case = Case(root, claw)
    total, done = killpoint.count(case.args(), root)
    assert done.returncode == 0, done.stderr
    return total, case.before, snapshot(case.profile)


def test_migrate_killed_at_thirty_points_is_whole_and_undone_or_finished(
        tmp_path, claw, reference):
    total, before, after = reference
    assert total > 3 * POINTS, "enough changes to spread the kill points over"
    yaml = YAML(typ="rt")  # refuses a key written twice
    outcomes: dict[str, int] = {"untouched": 0, "undone": 0, "finished": 0, "complete": 0}
    for n in range(POINTS):
        at = 1 + n * (total - 1) // (POINTS - 1)
        case = Case(tmp_path / f"at-{at}", claw)
        assert case.before == before
        killed = killpoint.run(case.args(), kill_at=at)
        where = f"killed at change {at} of {total}"
        assert killed.returncode == -9, f"{where}: {killed.stderr[-800:]}"

        now = snapshot(case.profile)
        for name in (".env", "config.yaml"):
            assert now[name][2] in (before[name][2], after[name][2]), f"{where}: {name} is mixed"
        keys = env_keys((case.profile / ".env").read_text())
        assert len(keys) == len(set(keys)), f"{where}: a key twice in .env"
        assert isinstance(yaml.load((case.profile / "config.yaml").read_text()), dict)
        for rel, entry in now.items():  # every file is one version or the other, whole
            if not Path(rel).name.endswith(".tmp"):
                assert entry in (before.get(rel), after.get(rel)), f"{where}: {rel}"

        stopped = interrupted_runs(case.profile)
        runs = case.profile / "migration/openclaw"
        records = [json.loads((r / MANIFEST).read_text()) for r in runs.iterdir()
                   if (r / MANIFEST).exists()] if runs.exists() else []
        if not records:
            assert now == before, f"{where}: the profile changed before the run was recorded"
            outcomes["untouched"] += 1
            continue
        (record,) = records
        run_dir = next(runs.iterdir())
        if record["state"] == "applied":  # killed while tidying up after the last record
            assert now == after and not stopped, where
            outcomes["complete"] += 1
        else:
            assert [r.run_dir for r in stopped] == [run_dir], f"{where}: not reported"
            if n % 2:
                result = finish_run(run_dir)
                assert result.errors == [], f"{where}: {result.errors}"
                assert snapshot(case.profile) == after, f"{where}: finish differs"
                assert not (run_dir / PENDING).exists()
                outcomes["finished"] += 1
            else:
                outcomes["undone"] += 1
        undo(run_dir)
        assert snapshot(case.profile) == before, f"{where}: undo is not to the byte"
        assert interrupted_runs(case.profile) == []
    assert outcomes["undone"] and outcomes["finished"] and outcomes["untouched"], outcomes
