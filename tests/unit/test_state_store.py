"""wizard.toml: round trips, atomic saves under a real crash, corrupt and newer files, reset."""

from __future__ import annotations

import os
import signal
import stat
import textwrap
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hermes_tui.state import (
    SCHEMA_VERSION,
    STEP_ORDER,
    LoadResult,
    MigrationDecision,
    NewerSchemaError,
    StateError,
    StateStore,
    StepId,
    StepRecord,
    StepStatus,
    WizardState,
)

FIXED_NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)  # the `clock` fixture's time
FIXED_STAMP = "20250102T030405"


def full_state(store: StateStore) -> WizardState:
    """A state with every field set, steps with reasons and timestamps, awkward strings."""
    state = store.new_state()
    earlier = FIXED_NOW - timedelta(minutes=5)
    state.steps[StepId.RUNTIME] = StepRecord(status=StepStatus.DONE, updated_at=earlier)
    state.steps[StepId.PULL] = StepRecord(status=StepStatus.SKIPPED,
                                          reason="image already present", updated_at=earlier)
    state.steps[StepId.PROFILE] = StepRecord(status=StepStatus.DONE, updated_at=FIXED_NOW)
    state.steps[StepId.CHANNELS] = StepRecord(
        status=StepStatus.FAILED,
        reason='Telegram said "401 Unauthorized"\nsecond line \\ backslash, ünïcode ✓',
        updated_at=datetime(2024, 12, 31, 23, 59, 59, 123456, tzinfo=UTC),
    )
    state.current_step = StepId.CHANNELS
    state.profile = "work-1"
    state.channels = ["telegram", "whatsapp"]
    state.router_url = "http://127.0.0.1:11434/v1"
    state.default_model = "llama3.1:8b"
    state.synced_models = ["llama3.1:8b", "qwen2.5:7b"]
    state.migration = MigrationDecision.DRY_RUN
    state.image_ref = "docker.io/nousresearch/hermes-agent:v2026.9.24"
    state.image_digest = "sha256:" + "ab" * 32
    return state


def aside_files(folder: Path, tag: str) -> list[Path]:
    return sorted(folder.glob(f"wizard.toml.{tag}-*"))


# --- round trip ---------------------------------------------------------------------------


def test_saved_state_loads_back_equal_with_steps_reasons_and_timestamps(tmp_path, clock):
    store = StateStore(tmp_path / "wizard.toml", clock=clock)
    state = full_state(store)
    store.save(state)

    loaded = store.load()

    assert loaded.notice is None
    assert loaded.state == state
    assert loaded.state.steps[StepId.CHANNELS].reason == state.steps[StepId.CHANNELS].reason
    assert loaded.state.steps[StepId.CHANNELS].updated_at == datetime(
        2024, 12, 31, 23, 59, 59, 123456, tzinfo=UTC)
    assert loaded.state.steps[StepId.PULL].status is StepStatus.SKIPPED
    assert loaded.state.updated_at == FIXED_NOW
    assert loaded.state.current_step is StepId.CHANNELS
    assert loaded.state.migration is MigrationDecision.DRY_RUN


def test_fresh_state_with_none_fields_round_trips_and_keeps_them_none(tmp_path, clock):
    store = StateStore(tmp_path / "wizard.toml", clock=clock)
    state = store.new_state()
    store.save(state)

    text = (tmp_path / "wizard.toml").read_text(encoding="utf-8")
    loaded = store.load().state

    assert "None" not in text and "null" not in text
    assert loaded == state
    for name in ("profile", "router_url", "default_model", "migration", "image_ref",
                 "image_digest"):
        assert getattr(loaded, name) is None, name
    assert all(loaded.steps[step].reason is None for step in STEP_ORDER)
    assert all(loaded.steps[step].updated_at is None for step in STEP_ORDER)


def test_saved_toml_is_human_readable_with_plain_values_and_step_tables(tmp_path, clock):
    store = StateStore(tmp_path / "wizard.toml", clock=clock)
    store.save(full_state(store))
    text = (tmp_path / "wizard.toml").read_text(encoding="utf-8")

    assert "schema_version = 1" in text
    assert 'current_step = "channels"' in text
    assert 'profile = "work-1"' in text
    assert 'migration = "dry-run"' in text
    assert "[steps.channels]" in text
    assert 'status = "failed"' in text
    assert "2025-01-02 03:04:05" in text or "2025-01-02T03:04:05" in text
    assert "StepId" not in text and "StepStatus" not in text  # enums written as plain values
    data = tomllib.loads(text)
    assert data["channels"] == ["telegram", "whatsapp"]
    assert list(data["steps"]) == [step.value for step in STEP_ORDER]


def test_save_sets_updated_at_from_the_clock_and_writes_mode_0600(tmp_path):
    later = FIXED_NOW + timedelta(hours=1)
    store = StateStore(tmp_path / "sub" / "wizard.toml", clock=lambda: later)
    state = WizardState(created_at=FIXED_NOW, updated_at=FIXED_NOW)
    store.save(state)

    assert state.updated_at == later
    assert store.load().state.created_at == FIXED_NOW
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_missing_file_loads_a_fresh_state_without_notice(tmp_path, clock):
    store = StateStore(tmp_path / "wizard.toml", clock=clock)
    result = store.load()
    assert result.notice is None
    assert result.state == store.new_state()
    assert result.state.current_step is StepId.RUNTIME
    assert not store.path.exists()


def test_steps_missing_from_the_file_are_filled_in_as_pending(tmp_path, clock):
    path = tmp_path / "wizard.toml"
    path.write_text('current_step = "pull"\n[steps.runtime]\nstatus = "done"\n')
    state = StateStore(path, clock=clock).load().state
    assert list(state.steps) == list(STEP_ORDER)
    assert state.status(StepId.RUNTIME) is StepStatus.DONE
    assert state.status(StepId.BRIDGE) is StepStatus.PENDING
    assert state.first_unfinished() is StepId.PULL


# --- atomic save under a real crash ----------------------------------------------------------

CRASH_CHILD = textwrap.dedent(
    """
    import json, resource, signal, sys
    from pathlib import Path
    from hermes_tui.state import StateError, StateStore

    path, mode = Path(sys.argv[1]), sys.argv[2]
    store = StateStore(path)
    state = store.load().state
    state.synced_models = [f"vendor/model-{i:05d}:latest" for i in range(5000)]
    if mode == "killed":
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)   # the kernel kills us mid-write
    else:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # write() fails with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (200, 200))
    try:
        store.save(state)
    except StateError as exc:
        print(json.dumps({"state_error": str(exc)}))
        sys.exit(0)
    print(json.dumps({"saved": True}))
    """
)


@pytest.mark.parametrize("mode", ["killed", "efbig"])
def test_crash_mid_write_leaves_the_old_file_byte_identical_and_loadable(
    tmp_path, clock, run_python, mode
):
    store = StateStore(tmp_path / "wizard.toml", clock=clock)
    original = full_state(store)
    store.save(original)
    before = store.path.read_bytes()
    assert len(before) > 200  # the child's limit is below the old file's size too

    child = run_python("-c", CRASH_CHILD, str(store.path), mode)

    if mode == "killed":
        assert child.returncode == -signal.SIGXFSZ, (child.returncode, child.stderr)
    else:
        assert child.returncode == 0, child.stderr
        assert "state_error" in child.stdout
        assert str(store.path) in child.stdout
    assert "saved" not in child.stdout
    assert store.path.read_bytes() == before
    leftovers = [p for p in tmp_path.iterdir() if p.name != "wizard.toml"]
    if mode == "efbig":
        assert leftovers == []  # the failed save cleaned up its temp file
    else:
        # Killed outright: a partial hidden temp file may remain; it must be harmless.
        assert all(p.name.startswith(".wizard.toml.") and p.name.endswith(".tmp")
                   for p in leftovers), leftovers

    reloaded = store.load()
    assert reloaded.notice is None
    assert reloaded.state == original

    # The next save still works despite any leftover, and is then what loads.
    reloaded.state.current_step = StepId.BRIDGE
    store.save(reloaded.state)
    assert store.load().state.current_step is StepId.BRIDGE


# --- corrupt files ----------------------------------------------------------------------------

CORRUPT_FILES = {
    "bad_toml": b'current_step = "pull\nprofile = [unclosed\n',
    "bad_utf8": b'schema_version = 1\nprofile = "w\xff\xfeork"\n',
    "bad_profile_name": b'schema_version = 1\nprofile = "Bad Name"\n',
    "bad_current_step": b'schema_version = 1\ncurrent_step = "nope"\n',
    "bad_step_status": b'[steps.pull]\nstatus = "half-done"\n',
    "bad_channel_id": b'channels = ["tele gram"]\n',
    "bad_timestamp": b'created_at = "yesterday"\n',
}


@pytest.mark.parametrize("raw", CORRUPT_FILES.values(), ids=CORRUPT_FILES.keys())
def test_corrupt_state_file_is_moved_aside_and_user_told(tmp_path, clock, raw):
    path = tmp_path / "wizard.toml"
    path.write_bytes(raw)
    store = StateStore(path, clock=clock)

    result = store.load()

    aside = tmp_path / f"wizard.toml.corrupt-{FIXED_STAMP}"
    assert aside.read_bytes() == raw
    assert not path.exists()
    assert result.notice is not None
    assert str(aside) in result.notice
    assert "could not be read" in result.notice
    assert result.state == store.new_state()
    # The next load is clean: nothing left to complain about.
    assert store.load().notice is None


def test_corrupt_file_notice_says_which_value_is_wrong(tmp_path, clock):
    path = tmp_path / "wizard.toml"
    path.write_bytes(CORRUPT_FILES["bad_profile_name"])
    notice = StateStore(path, clock=clock).load().notice
    assert "profile" in notice
    assert "Uppercase" in notice or "Spaces" in notice


def test_second_corrupt_file_in_the_same_second_does_not_overwrite_the_first_aside(
    tmp_path, clock
):
    path = tmp_path / "wizard.toml"
    store = StateStore(path, clock=clock)
    path.write_bytes(b"first = [")
    first = store.load().notice
    path.write_bytes(b"second = [")
    second = store.load().notice

    asides = aside_files(tmp_path, "corrupt")
    assert [p.read_bytes() for p in asides] == [b"first = [", b"second = ["]
    assert str(asides[0]) in first and str(asides[1]) in second


def test_leftover_temp_file_beside_the_state_file_does_not_break_loading(tmp_path, clock):
    store = StateStore(tmp_path / "wizard.toml", clock=clock)
    state = full_state(store)
    store.save(state)
    (tmp_path / ".wizard.toml.k3j2h1.tmp").write_bytes(b'schema_version = 1\nprofile = "tru')

    result = store.load()
    assert result.notice is None
    assert result.state == state


def test_unreadable_state_path_raises_state_error_naming_it(tmp_path, clock):
    path = tmp_path / "wizard.toml"
    path.mkdir()  # a folder where the file should be
    with pytest.raises(StateError) as caught:
        StateStore(path, clock=clock).load()
    assert str(path) in str(caught.value)
    assert "Cannot read" in str(caught.value)
    assert path.is_dir()


# --- newer schema ------------------------------------------------------------------------------


def test_newer_schema_file_raises_and_is_left_untouched(tmp_path, clock):
    path = tmp_path / "wizard.toml"
    raw = (f"schema_version = {SCHEMA_VERSION + 1}\n"
           'current_step = "some-future-step"\nnew_thing = { a = 1 }\n').encode()
    path.write_bytes(raw)
    before = path.stat()

    with pytest.raises(NewerSchemaError) as caught:
        StateStore(path, clock=clock).load()

    message = str(caught.value)
    assert str(path) in message
    assert "newer hermes-tui" in message
    assert "--reset" in message
    assert path.read_bytes() == raw
    assert path.stat().st_mtime_ns == before.st_mtime_ns
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wizard.toml"]


@pytest.mark.parametrize("written", ['"2"', "2.0", "0", "-1", "true"])
def test_whatever_load_accepts_the_next_run_can_load_again(tmp_path, clock, written):
    """A hand-edited, oddly typed schema_version must never lock the user out later.

    Lax coercion would let ``"2"`` / ``2.0`` load as 2 with no notice; ``save`` would then
    write ``schema_version = 2`` and the next run would die with NewerSchemaError.

    Load either refuses it up front (newer version or set aside) or accepts it; if it
    accepts it, the state it saves must load on the next run (not raise NewerSchemaError).
    """
    path = tmp_path / "wizard.toml"
    path.write_text(f"schema_version = {written}\n")
    store = StateStore(path, clock=clock)
    try:
        result = store.load()
    except NewerSchemaError:
        return  # refused up front, file untouched: fine
    store.save(result.state)
    again = store.load()  # must not raise
    assert again.notice is None
    assert tomllib.loads(path.read_text())["schema_version"] <= SCHEMA_VERSION


# --- reset ---------------------------------------------------------------------------------------


def test_reset_keeps_a_backup_of_the_old_file_and_returns_a_fresh_state(tmp_path, clock):
    store = StateStore(tmp_path / "wizard.toml", clock=clock)
    store.save(full_state(store))
    before = store.path.read_bytes()

    result = store.reset()

    backup = tmp_path / f"wizard.toml.bak-{FIXED_STAMP}"
    assert backup.read_bytes() == before
    assert result.state == store.new_state()
    assert result.notice is not None and str(backup) in result.notice
    assert store.load().state == store.new_state()


def test_reset_backs_up_a_newer_version_file_too(tmp_path, clock):
    path = tmp_path / "wizard.toml"
    raw = f"schema_version = {SCHEMA_VERSION + 7}\nwhatever = true\n".encode()
    path.write_bytes(raw)
    store = StateStore(path, clock=clock)

    result = store.reset()

    backup = tmp_path / f"wizard.toml.bak-{FIXED_STAMP}"
    assert backup.read_bytes() == raw
    assert str(backup) in result.notice
    assert result.state.schema_version == SCHEMA_VERSION
    assert store.load().notice is None


def test_reset_without_a_file_returns_a_fresh_state_and_writes_nothing(tmp_path, clock):
    store = StateStore(tmp_path / "wizard.toml", clock=clock)
    result = store.reset()
    assert isinstance(result, LoadResult)
    assert result.state == store.new_state()
    assert list(tmp_path.iterdir()) == []


def test_two_resets_in_the_same_second_keep_both_backups(tmp_path, clock):
    store = StateStore(tmp_path / "wizard.toml", clock=clock)
    store.path.write_text('profile = "one"\n')
    store.reset()
    store.path.write_text('profile = "two"\n')
    store.reset()
    assert [p.read_text() for p in aside_files(tmp_path, "bak")] == [
        'profile = "one"\n', 'profile = "two"\n']


# --- no secrets ------------------------------------------------------------------------------


def test_state_model_has_no_field_for_secrets():
    for name in WizardState.model_fields:
        assert not any(word in name for word in ("token", "password", "secret", "api_key")), name


def test_secret_keys_in_a_loaded_file_are_dropped_on_the_next_save(tmp_path, clock):
    path = tmp_path / "wizard.toml"
    path.write_text(
        'schema_version = 1\ncurrent_step = "channels"\nchannels = ["telegram"]\n'
        'telegram_bot_token = "123456:ABC-SECRET"\n'
        '[steps.channels]\nstatus = "pending"\nemail_password = "hunter2"\n'
    )
    store = StateStore(path, clock=clock)
    result = store.load()
    assert result.notice is None
    assert result.state.channels == ["telegram"]

    store.save(result.state)

    text = path.read_text()
    assert "telegram_bot_token" not in text and "123456:ABC-SECRET" not in text
    assert "email_password" not in text and "hunter2" not in text
    assert tomllib.loads(text)["channels"] == ["telegram"]


def test_assigning_an_invalid_profile_name_to_the_state_is_refused():
    state = WizardState()
    with pytest.raises(ValueError):
        state.profile = "Bad Name"
    assert state.profile is None


def test_state_file_permissions_hide_it_from_other_users(tmp_path, clock):
    old = os.umask(0)
    try:
        store = StateStore(tmp_path / "wizard.toml", clock=clock)
        store.save(store.new_state())
    finally:
        os.umask(old)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_save_on_a_full_disk_raises_state_error_and_keeps_the_old_file(tmpfs, clock):
    mount = tmpfs.mount("64k")
    store = StateStore(mount / "wizard.toml", clock=clock)
    store.save(full_state(store))
    before = store.path.read_bytes()
    fd = os.open(mount / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)

    state = store.load().state
    state.synced_models = [f"model-{i}" for i in range(2000)]
    with pytest.raises(StateError) as caught:
        store.save(state)

    assert "disk is full" in str(caught.value)
    assert str(store.path) in str(caught.value)
    assert store.path.read_bytes() == before
    assert sorted(p.name for p in mount.iterdir()) == ["filler", "wizard.toml"]


def test_duplicate_channels_are_kept_once_in_order():
    state = WizardState(channels=["telegram", "slack", "telegram"])
    assert state.channels == ["telegram", "slack"]


def test_fixed_clock_fixture_matches_this_module(clock, fixed_stamp):
    assert clock() == FIXED_NOW
    assert fixed_stamp == FIXED_STAMP
