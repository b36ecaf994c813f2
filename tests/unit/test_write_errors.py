"""A full disk (a real 64k tmpfs, filled up) while writing config.yaml, .env or
wizard.toml: the message names the file and the fix is to free space — never a bare
"[Errno 28]" — and the old file is kept as it was.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hermes_tui.bridge.router import Model
from hermes_tui.bridge.sync import write_models
from hermes_tui.engine.api_server import ApiServerError, ensure_api_server
from hermes_tui.envfile import update_env
from hermes_tui.fsutil import WriteError
from hermes_tui.state import StateError, StateStore, StepId, StepStatus
from hermes_tui.steps.bridge import BridgeStep, Listing, SyncError
from hermes_tui.steps.flow import Flow
from hermes_tui.yamledit import ConfigError

CONFIG = "# mine\nmodel:\n  default: old\n"


def fill(folder: Path) -> None:
    """Write a filler file until the filesystem says it is full."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == 28, exc
    finally:
        os.close(fd)


@pytest.fixture
def full_profile(tmpfs) -> Path:
    """A profile folder with a config.yaml and a .env, on a tmpfs that is now full."""
    mount = tmpfs.mount("64k")
    profile = mount / "bot"
    profile.mkdir()
    (profile / "config.yaml").write_text(CONFIG)
    (profile / ".env").write_text("A=1\n")
    fill(mount)
    return profile


def assert_disk_full(problem_what: str, fix: str, path: Path) -> None:
    assert problem_what == f"Cannot write {path}: the disk is full."
    assert fix.startswith(f"Free some space on the disk that holds {path.parent} ")
    assert "Errno" not in problem_what + fix


def test_config_yaml_on_a_full_disk_names_the_file_and_says_to_free_space(full_profile):
    config = full_profile / "config.yaml"
    with pytest.raises(ConfigError) as caught:
        write_models(config, base_url="http://127.0.0.1:11434/v1", models=["a"], default="a",
                     api_key_ref=None)
    problem = caught.value.problem
    assert_disk_full(problem.what, problem.fix, config)
    assert problem.subject == str(config)
    assert config.read_text() == CONFIG
    assert sorted(p.name for p in full_profile.iterdir()) == [".env", "config.yaml"]


def test_env_on_a_full_disk_names_the_file_and_stays_an_os_error(full_profile):
    env = full_profile / ".env"
    with pytest.raises(WriteError) as caught:
        update_env(env, {"TOKEN": "s3cret"})
    assert isinstance(caught.value, OSError) and caught.value.errno == 28
    assert str(caught.value) == f"Cannot write {env}: the disk is full."
    assert_disk_full(caught.value.problem.what, caught.value.problem.fix, env)
    assert "s3cret" not in str(caught.value.problem)
    assert env.read_text() == "A=1\n"


async def test_the_bridge_step_on_a_full_disk_shows_the_file_and_the_fix(full_profile, tmp_path):
    store = StateStore(tmp_path / "wizard.toml")
    flow = Flow(store.new_state(), store)
    step = BridgeStep(flow, full_profile, host_network=True)
    listing = Listing("http://127.0.0.1:11434/v1", [Model("a"), Model("b")])

    with pytest.raises(SyncError) as caught:
        await step.sync(listing, "router-key")

    problem = caught.value.problem
    assert_disk_full(problem.what, problem.fix, full_profile / ".env")
    assert "router-key" not in str(problem)
    assert flow.state.steps[StepId.BRIDGE].status is StepStatus.FAILED
    assert (full_profile / "config.yaml").read_text() == CONFIG


def test_the_api_key_on_a_full_disk_is_a_problem_with_the_fix(full_profile):
    with pytest.raises(ApiServerError) as caught:
        ensure_api_server(full_profile.parent, "bot", start=20000, probe=False)
    assert_disk_full(caught.value.message, caught.value.fix, full_profile / ".env")


def test_wizard_toml_on_a_full_disk_names_the_file_and_says_to_free_space(tmpfs):
    mount = tmpfs.mount("64k")
    store = StateStore(mount / "wizard.toml")
    store.save(store.new_state())
    before = store.path.read_bytes()
    fill(mount)

    state = store.load().state
    state.synced_models = [f"model-{i}" for i in range(2000)]
    with pytest.raises(StateError) as caught:
        store.save(state)

    assert_disk_full(caught.value.problem.what, caught.value.problem.fix, store.path)
    # The wizard shows str() as one notice: the fix is part of it.
    assert str(caught.value) == f"{caught.value.problem.what} {caught.value.problem.fix}"
    assert store.path.read_bytes() == before
