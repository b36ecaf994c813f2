"""The command's early exits (before any UI starts) and the data-dir override.

Only paths that end before the TUI are run, each in a child process with a timeout, so a
regression that would start the app fails the test instead of hanging it.
"""

from __future__ import annotations

from pathlib import Path

from hermes_tui import __version__
from hermes_tui.cli import EXIT_STATE_ERROR
from hermes_tui.paths import DATA_DIR_ENV, Paths
from hermes_tui.state import SCHEMA_VERSION

NEWER = f"schema_version = {SCHEMA_VERSION + 1}\ncurrent_step = \"from-the-future\"\n".encode()


def test_version_flag_prints_the_version_and_exits_zero(run_python):
    done = run_python("-m", "hermes_tui.cli", "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"hermes-tui {__version__}"


def test_newer_version_progress_file_exits_3_with_clear_message_and_file_untouched(
    tmp_path, run_python
):
    state_file = tmp_path / "wizard.toml"
    state_file.write_bytes(NEWER)

    done = run_python("-m", "hermes_tui.cli", "--data-dir", str(tmp_path))

    assert done.returncode == EXIT_STATE_ERROR == 3, (done.returncode, done.stderr)
    assert done.stderr.startswith("hermes-tui: ")
    assert str(state_file) in done.stderr
    assert "newer hermes-tui" in done.stderr
    assert "--reset" in done.stderr
    assert done.stdout == ""
    assert state_file.read_bytes() == NEWER
    # Only the data dir's lock file was added, and left without a holder's record.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hermes-tui.lock", "wizard.toml"]
    assert (tmp_path / "hermes-tui.lock").read_bytes() == b""


def test_data_dir_env_var_is_used_by_the_command_when_no_flag_is_given(
    tmp_path, run_python, child_env
):
    (tmp_path / "wizard.toml").write_bytes(NEWER)
    done = run_python("-m", "hermes_tui.cli", env=child_env(**{DATA_DIR_ENV: str(tmp_path)}))
    assert done.returncode == 3, done.stderr
    assert str(tmp_path / "wizard.toml") in done.stderr
    assert (tmp_path / "wizard.toml").read_bytes() == NEWER


def test_data_dir_that_is_a_file_exits_3_naming_the_path(tmp_path, run_python):
    not_a_folder = tmp_path / "data"
    not_a_folder.write_text("I am a file")
    done = run_python("-m", "hermes_tui.cli", "--data-dir", str(not_a_folder))
    assert done.returncode == 3, done.stderr
    assert str(not_a_folder) in done.stderr
    assert "not a folder" in done.stderr
    assert not_a_folder.read_text() == "I am a file"


def test_paths_resolve_honours_the_data_dir_env_var(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "from-env"))
    paths = Paths.resolve(None)
    assert paths.root == tmp_path / "from-env"
    assert paths.state_file == tmp_path / "from-env" / "wizard.toml"
    assert paths.profiles == tmp_path / "from-env" / "profiles"


def test_paths_resolve_prefers_the_explicit_data_dir_over_the_env_var(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "from-env"))
    assert Paths.resolve(tmp_path / "flag").root == tmp_path / "flag"


def test_paths_resolve_expands_the_home_folder_and_makes_the_root_absolute(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv(DATA_DIR_ENV, "~/hermes-data")
    assert Paths.resolve(None).root == tmp_path / "hermes-data"
    monkeypatch.chdir(tmp_path)
    assert Paths.resolve("rel").root == tmp_path / "rel"
    assert Paths.resolve("rel").root.is_absolute()


def test_without_override_the_data_dir_is_the_platform_user_data_dir_for_hermes(monkeypatch):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    from platformdirs import user_data_path

    root = Paths.resolve(None).root
    assert root == user_data_path("hermes", appauthor=False).absolute()
    assert Path(root).name == "hermes"
