"""A profile creation killed at any moment leaves no profile half made and no staging
folder that outlives the next creation, and a staging folder is never listed as a profile."""

from __future__ import annotations

import os
import subprocess
import sys

from hermes_tui.paths import Paths
from hermes_tui.profile import create_profile, inspect_profile, profile_names
from tests.support import killpoint

CREATE = ("from pathlib import Path\n"
          "from hermes_tui.paths import Paths\n"
          "from hermes_tui.profile import create_profile\n"
          "create_profile(Paths(Path({data!r})), 'work')\n")


def staging(paths: Paths) -> list[str]:
    return sorted(p.name for p in paths.profiles.iterdir() if ".creating-" in p.name)


def dead_pid() -> int:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    return int(child.stdout)


def test_creation_killed_at_every_change_is_cleaned_up_by_the_next(tmp_path):
    data = tmp_path / "count"
    changes, done = killpoint.count(["--exec", CREATE.format(data=str(data))], tmp_path)
    assert done.returncode == 0, done.stderr
    assert changes > 10, "the creation makes its folders and files one change at a time"
    for at in range(1, changes + 1):
        paths = Paths(tmp_path / f"data-{at}")
        killed = killpoint.run(["--exec", CREATE.format(data=str(paths.root))], kill_at=at)
        assert killed.returncode == -9, f"change {at} of {changes}: {killed.stderr[-500:]}"
        # Either nothing, or the whole profile: the tree is renamed into place at the end.
        info = inspect_profile(paths, "work")
        assert not info.exists or info.complete, (at, info.missing)
        assert profile_names(paths.profiles) == (["work"] if info.exists else [])
        outcome = create_profile(paths, "work")
        assert inspect_profile(paths, "work").complete
        assert outcome.created is not info.exists
        assert staging(paths) == [], f"killed at change {at}: a staging folder outlived it"


def test_a_staging_folder_is_never_listed_as_a_profile(tmp_path):
    paths = Paths(tmp_path / "data")
    create_profile(paths, "work")
    (paths.profiles / f".bot.creating-{dead_pid()}-0a1b2c3d").mkdir()
    (paths.profiles / ".bot.creating-0a1b2c3d").mkdir()  # an older version's name
    assert profile_names(paths.profiles) == ["work"]


def test_only_staging_folders_of_dead_processes_are_removed(tmp_path):
    paths = Paths(tmp_path / "data")
    paths.profiles.mkdir(parents=True)
    stale = paths.profiles / f".bot.creating-{dead_pid()}-0a1b2c3d"
    older = paths.profiles / ".bot.creating-0a1b2c3d"
    live = paths.profiles / f".other.creating-{os.getppid()}-0a1b2c3d"
    mine = paths.profiles / ".notes.creating-by-hand"  # not ours: not a staging name
    for folder in (stale, older, live, mine):
        (folder / "memories").mkdir(parents=True)
    create_profile(paths, "work")
    assert not stale.exists() and not older.exists()
    assert live.is_dir() and mine.is_dir()
    assert profile_names(paths.profiles) == ["work"]
