"""wizard.toml with more than one writer, and as a symlink.

A save re-reads the file under its folder's lock and merges: what this store changed goes
over what another writer saved meanwhile (no more "last writer wins"). A symlinked file
stays a link: its target is written, atomically in the target's own folder.
"""

from __future__ import annotations

import stat
import tomllib

import pytest

from hermes_tui.state import (
    SCHEMA_VERSION,
    NewerSchemaError,
    StateStore,
    StepId,
    StepStatus,
    merge_states,
)


def test_merge_takes_our_changes_over_theirs_field_by_field_and_step_by_step():
    base = {"profile": "a", "channels": [], "steps": {"runtime": {"status": "pending"},
                                                      "pull": {"status": "pending"}},
            "updated_at": "t0"}
    ours = {"profile": "a", "channels": ["telegram"],
            "steps": {"runtime": {"status": "done"}, "pull": {"status": "pending"}},
            "updated_at": "t2"}
    theirs = {"profile": "b", "channels": [],
              "steps": {"runtime": {"status": "pending"}, "pull": {"status": "done"}},
              "updated_at": "t1"}
    assert merge_states(base, ours, theirs) == {
        "profile": "b", "channels": ["telegram"],
        "steps": {"runtime": {"status": "done"}, "pull": {"status": "done"}},
        "updated_at": "t2",
    }
    assert merge_states(None, ours, theirs) == ours  # no base (a reset): ours as it is
    assert merge_states(base, ours, None) == ours  # nothing readable on disk


def test_two_stores_on_one_file_keep_each_others_changes(tmp_path, clock):
    path = tmp_path / "wizard.toml"
    first, second = StateStore(path, clock), StateStore(path, clock)
    mine, theirs = first.load().state, second.load().state

    mine.profile = "work"
    first.save(mine)
    theirs.channels = ["telegram"]
    theirs.steps[StepId.CHANNELS].status = StepStatus.DONE
    second.save(theirs)
    mine.current_step = StepId.BRIDGE
    mine.steps[StepId.PROFILE].status = StepStatus.DONE
    first.save(mine)

    state = StateStore(path, clock).load().state
    assert state.profile == "work" and state.current_step is StepId.BRIDGE
    assert state.channels == ["telegram"]
    assert state.status(StepId.CHANNELS) is StepStatus.DONE
    assert state.status(StepId.PROFILE) is StepStatus.DONE


def test_reset_writes_the_fresh_state_over_everything(tmp_path, clock):
    path = tmp_path / "wizard.toml"
    other = StateStore(path, clock)
    state = other.load().state
    state.profile = "work"
    other.save(state)

    store = StateStore(path, clock)
    fresh = store.reset().state
    store.save(fresh)
    assert StateStore(path, clock).load().state.profile is None


def test_a_newer_hermes_tui_rewriting_the_file_meanwhile_is_not_overwritten(tmp_path, clock):
    path = tmp_path / "wizard.toml"
    store = StateStore(path, clock)
    state = store.load().state
    store.save(state)
    newer = f"schema_version = {SCHEMA_VERSION + 1}\nfuture = true\n".encode()
    path.write_bytes(newer)

    state.profile = "work"
    with pytest.raises(NewerSchemaError) as caught:
        store.save(state)
    assert str(path) in caught.value.problem.what and "newer hermes-tui" in str(caught.value)
    assert path.read_bytes() == newer


def test_a_file_damaged_meanwhile_is_replaced_by_ours(tmp_path, clock):
    path = tmp_path / "wizard.toml"
    store = StateStore(path, clock)
    state = store.load().state
    path.write_text("not [valid toml")
    state.profile = "work"
    store.save(state)
    assert tomllib.loads(path.read_text())["profile"] == "work"


@pytest.fixture
def linked(tmp_path):
    """wizard.toml in the data dir, a symlink to a file in another folder."""
    data, elsewhere = tmp_path / "data", tmp_path / "dotfiles"
    data.mkdir()
    elsewhere.mkdir()
    target = elsewhere / "hermes-progress.toml"
    (data / "wizard.toml").symlink_to(target)
    return data / "wizard.toml", target


def test_a_symlinked_wizard_toml_stays_a_link_and_its_target_is_written(linked, clock):
    link, target = linked
    store = StateStore(link, clock)
    state = store.load().state
    state.profile = "work"
    store.save(state)
    state.current_step = StepId.CHANNELS
    store.save(state)

    assert link.is_symlink() and link.resolve() == target
    assert tomllib.loads(target.read_text())["current_step"] == "channels"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    # The temp file lived beside the target (same filesystem), and is gone.
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]
    assert sorted(p.name for p in link.parent.iterdir()) == ["wizard.toml"]
    assert StateStore(link, clock).load().state.profile == "work"


def test_reset_through_a_link_keeps_the_link_and_backs_up_the_content(
    linked, clock, fixed_stamp
):
    link, target = linked
    store = StateStore(link, clock)
    state = store.load().state
    state.profile = "work"
    store.save(state)
    old = target.read_bytes()

    fresh = store.reset()
    store.save(fresh.state)

    backup = link.with_name(f"wizard.toml.bak-{fixed_stamp}")
    assert backup.read_bytes() == old and not backup.is_symlink()
    assert link.is_symlink() and link.resolve() == target
    assert "profile" not in tomllib.loads(target.read_text())


def test_a_damaged_file_behind_a_link_is_set_aside_and_the_link_kept(linked, clock, fixed_stamp):
    link, target = linked
    target.write_text("not [valid toml")

    loaded = StateStore(link, clock).load()

    aside = link.with_name(f"wizard.toml.corrupt-{fixed_stamp}")
    assert loaded.notice and str(aside.name) in loaded.notice
    assert aside.read_text() == "not [valid toml"
    assert link.is_symlink() and not target.exists()
    StateStore(link, clock).save(loaded.state)
    assert link.is_symlink() and tomllib.loads(target.read_text())["schema_version"] == 1
