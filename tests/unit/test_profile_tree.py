"""Creating the profile tree: layout, modes, reuse, completion, and real filesystem failures."""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import tempfile
import textwrap
from pathlib import Path

import pytest

from hermes_tui.paths import Paths
from hermes_tui.profile import (
    PROFILE_DIRS,
    ProfileError,
    create_profile,
    inspect_profile,
)

SUBFOLDERS = {"memories", "sessions", "skills", "skins", "logs", "plans", "workspace", "cron",
              "home"}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def staging_leftovers(paths: Paths) -> list[str]:
    if not paths.profiles.exists():
        return []
    return [p.name for p in paths.profiles.iterdir() if ".creating-" in p.name]


@pytest.fixture
def paths(tmp_path) -> Paths:
    return Paths(tmp_path / "data")


def test_profile_dirs_constant_is_hermes_layout():
    assert set(PROFILE_DIRS) == SUBFOLDERS and len(PROFILE_DIRS) == len(SUBFOLDERS)


def test_new_profile_has_exactly_hermes_subfolders_and_private_env_and_config(paths):
    outcome = create_profile(paths, "work")

    folder = paths.profiles / "work"
    assert outcome.path == folder
    assert outcome.created is True
    assert outcome.added == []
    entries = {p.name for p in folder.iterdir()}
    assert entries == SUBFOLDERS | {".env", "config.yaml"}
    for name in SUBFOLDERS:
        assert (folder / name).is_dir() and not (folder / name).is_symlink(), name
    assert (folder / ".env").is_file() and mode(folder / ".env") == 0o600
    assert (folder / "config.yaml").is_file() and mode(folder / "config.yaml") == 0o600
    assert mode(folder) & 0o022 == 0  # nobody else may write into it
    assert inspect_profile(paths, "work").complete


def test_new_profile_leaves_no_staging_folder_behind(paths):
    create_profile(paths, "work")
    assert [p.name for p in paths.profiles.iterdir()] == ["work"]


def test_new_profile_files_are_private_even_with_a_permissive_umask(paths):
    old = os.umask(0)
    try:
        create_profile(paths, "open")
    finally:
        os.umask(old)
    folder = paths.profiles / "open"
    assert mode(folder / ".env") == 0o600
    assert mode(folder / "config.yaml") == 0o600


def test_new_profile_config_and_env_are_commented_templates(paths):
    create_profile(paths, "work")
    folder = paths.profiles / "work"
    env_lines = (folder / ".env").read_text().splitlines()
    assert env_lines and all(line.startswith("#") for line in env_lines)
    assert "model:" in (folder / "config.yaml").read_text()


def test_existing_profile_is_reused_and_its_files_never_overwritten(paths):
    create_profile(paths, "work")
    folder = paths.profiles / "work"
    (folder / ".env").write_text("TELEGRAM_BOT_TOKEN=mine\n")
    (folder / "config.yaml").write_text("model:\n  default: mine\n")
    (folder / "memories" / "x").write_text("remember me")
    snapshot = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    outcome = create_profile(paths, "work")

    assert outcome.created is False
    assert outcome.added == []
    assert outcome.path == folder
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == snapshot


def test_half_made_profile_is_completed_without_touching_what_was_there(paths):
    folder = paths.profiles / "half"
    (folder / "memories").mkdir(parents=True)
    (folder / "memories" / "note.md").write_text("keep")
    (folder / "sessions").mkdir()
    (folder / "config.yaml").write_text("model: {default: mine}\n")
    os.chmod(folder / "config.yaml", 0o600)

    outcome = create_profile(paths, "half")

    assert outcome.created is False
    expected_added = [e for e in (*PROFILE_DIRS, ".env") if e not in ("memories", "sessions")]
    assert outcome.added == expected_added
    assert {p.name for p in folder.iterdir()} == SUBFOLDERS | {".env", "config.yaml"}
    assert (folder / "memories" / "note.md").read_text() == "keep"
    assert (folder / "config.yaml").read_text() == "model: {default: mine}\n"
    assert mode(folder / ".env") == 0o600
    assert inspect_profile(paths, "half").complete


def test_reused_profile_env_with_loose_mode_is_tightened_to_0600_content_kept(paths):
    create_profile(paths, "work")
    env = paths.profiles / "work" / ".env"
    env.write_text("A=1\n")
    os.chmod(env, 0o644)

    create_profile(paths, "work")

    assert mode(env) == 0o600
    assert env.read_text() == "A=1\n"


def test_inspect_profile_reports_what_is_missing_and_changes_nothing(paths):
    info = inspect_profile(paths, "ghost")
    assert not info.exists and not info.complete
    assert set(info.missing) == SUBFOLDERS | {".env", "config.yaml"}
    assert not paths.root.exists()


def test_plain_file_where_the_profile_folder_should_be_is_an_error_naming_it(paths):
    paths.profiles.mkdir(parents=True)
    blocker = paths.profiles / "work"
    blocker.write_text("not a folder")

    with pytest.raises(ProfileError) as caught:
        create_profile(paths, "work")

    assert str(blocker) in str(caught.value)
    assert "not a folder" in str(caught.value)
    assert blocker.read_text() == "not a folder"
    assert staging_leftovers(paths) == []


def test_plain_file_where_the_profiles_folder_should_be_is_an_error_naming_it(paths):
    paths.root.mkdir(parents=True)
    paths.profiles.write_text("oops")
    with pytest.raises(ProfileError) as caught:
        create_profile(paths, "work")
    assert str(paths.profiles) in str(caught.value)
    assert paths.profiles.read_text() == "oops"


def test_invalid_name_is_refused_before_anything_is_created(paths):
    with pytest.raises(ProfileError) as caught:
        create_profile(paths, "Bad Name")
    assert "Uppercase" in str(caught.value)
    assert not paths.root.exists()


# --- real permission, read-only and full-disk failures ---------------------------------------

PERMISSION_CHILD = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from hermes_tui.paths import Paths
    from hermes_tui.profile import ProfileError, create_profile
    try:
        create_profile(Paths(Path(sys.argv[1])), sys.argv[2])
    except ProfileError as exc:
        print(json.dumps({"error": str(exc)}))
    else:
        print(json.dumps({"error": None}))
    """
)


@pytest.fixture
def root_owned_data_dir():
    """A data dir owned by root with mode 0755, in a folder other users can traverse."""
    folder = Path(tempfile.mkdtemp(prefix="hermes-tui-perm-", dir="/tmp"))
    os.chmod(folder, 0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("profiles_exists", [False, True], ids=["no-profiles", "profiles"])
def test_permission_denied_names_the_path_and_leaves_no_profile(
    nobody_python, root_owned_data_dir, profiles_exists
):
    data = root_owned_data_dir
    profiles = data / "profiles"
    if profiles_exists:
        profiles.mkdir(mode=0o755)
        os.chmod(profiles, 0o755)

    done = nobody_python(PERMISSION_CHILD, [str(data), "work"])

    assert done.returncode == 0, done.stderr
    message = json.loads(done.stdout)["error"]
    assert message is not None, "creating a profile in a root-owned folder must fail"
    assert "permission denied" in message
    expected_path = profiles / "work" if profiles_exists else profiles
    assert str(expected_path) in message
    assert ".creating-" not in message  # the hidden staging folder is never shown
    assert not (profiles / "work").exists()
    assert staging_leftovers(Paths(data)) == []


def test_read_only_filesystem_is_an_error_naming_the_path_and_nothing_is_created(tmpfs):
    mount = tmpfs.mount("1m")
    paths = Paths(mount)
    paths.profiles.mkdir()
    tmpfs.remount_read_only(mount)

    with pytest.raises(ProfileError) as caught:
        create_profile(paths, "work")

    message = str(caught.value)
    assert "read-only" in message
    assert str(paths.profiles / "work") in message
    assert list(paths.profiles.iterdir()) == []


def test_full_disk_is_an_error_and_leaves_no_partial_profile_or_staging_folder(tmpfs):
    mount = tmpfs.mount("64k")
    paths = Paths(mount)
    paths.profiles.mkdir()
    fd = os.open(mount / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for _ in range(1024):
            os.write(fd, b"\0" * 4096)
        pytest.fail("the 64k tmpfs never filled up")
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)

    with pytest.raises(ProfileError) as caught:
        create_profile(paths, "work")

    message = str(caught.value)
    assert "disk is full" in message
    assert str(paths.profiles / "work") in message
    assert list(paths.profiles.iterdir()) == []


def test_completing_a_half_made_profile_on_a_read_only_filesystem_changes_nothing(tmpfs):
    mount = tmpfs.mount("1m")
    paths = Paths(mount)
    folder = paths.profiles / "half"
    (folder / "memories").mkdir(parents=True)
    tmpfs.remount_read_only(mount)

    with pytest.raises(ProfileError) as caught:
        create_profile(paths, "half")

    assert "read-only" in str(caught.value)
    assert str(folder) in str(caught.value)
    assert [p.name for p in folder.iterdir()] == ["memories"]
