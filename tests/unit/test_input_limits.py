"""Files someone else wrote, made huge or nested deep: each parser refuses them in words.

openclaw.json, config.yaml, .env, wizard.toml and the Docker CLI's config.json, made the
way a broken tool or a hostile tree makes them: every one becomes a message naming the
file (and for size, the size and the limit), never a RecursionError, a hang or a file read
whole into memory. The limits live in hermes_tui/limits.py.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
from pathlib import Path

import pytest

from hermes_tui.bridge.sync import ConfigError, read_synced, write_models
from hermes_tui.engine.detect import candidates
from hermes_tui.envfile import read_env
from hermes_tui.fsutil import describe_os_error
from hermes_tui.limits import (
    MAX_CONFIG_BYTES,
    MAX_DEPTH,
    MAX_ENV_BYTES,
    FileTooLarge,
    expanded_size,
    format_size,
    read_bounded,
    too_deep,
)
from hermes_tui.migration import cli as migrate_cli
from hermes_tui.state import StateStore, StepId, StepStatus
from hermes_tui.yamledit import parse, read_source
from tests.support.claw_tree import build_claw_tree, make_profile
from tests.support.contracts import run_setup
from tests.support.states import at


def sparse(path: Path, size: int, start: str = "") -> Path:
    """``path`` of ``size`` bytes that takes no room (and no time) to make."""
    path.write_text(start)
    os.truncate(path, size)
    return path


def nested_list(depth: int) -> list:
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


# --- the shared pieces ---------------------------------------------------------------------


def test_a_file_over_its_limit_is_refused_before_it_is_read(tmp_path):
    big = sparse(tmp_path / "big.json", 9 * 1024 * 1024)
    with pytest.raises(FileTooLarge) as caught:
        read_bounded(big, MAX_CONFIG_BYTES)
    error = caught.value
    assert isinstance(error, OSError) and error.errno == errno.EFBIG
    assert (error.size, error.limit) == (9 * 1024 * 1024, MAX_CONFIG_BYTES)
    assert error.sentence("big.json") == "big.json is 9.0 MiB, more than the 8 MiB the wizard reads."
    assert describe_os_error(error, big, action="read") == (
        f"Cannot read {big}: the file is too large (9,437,184 bytes; at most 8,388,608 are read).")
    exact = sparse(tmp_path / "exact.json", MAX_CONFIG_BYTES)
    assert len(read_bounded(exact, MAX_CONFIG_BYTES)) == MAX_CONFIG_BYTES


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "config.yaml"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        read_bounded(fifo, MAX_CONFIG_BYTES)


def test_depth_counts_every_container_and_stops_at_the_limit():
    assert not too_deep(nested_list(MAX_DEPTH))
    assert too_deep(nested_list(MAX_DEPTH + 1))
    assert not too_deep({"a": {"b": [1, {"c": "x"}]}}, limit=4)
    assert too_deep({"a": {"b": [1, {"c": {}}]}}, limit=4)
    assert not too_deep("just text") and not too_deep(None)
    looped: list = []
    looped.append(looped)
    assert too_deep(looped)


def test_sizes_read_as_people_say_them():
    assert [format_size(n) for n in (1, 900, 3 * 1024 + 400, 98_000_000)] == [
        "1 byte", "900 bytes", "3.4 KiB", "93.5 MiB"]


# --- config.yaml (the bridge and the migration both go through yamledit) -----------------


@pytest.mark.parametrize("text", [
    "model: " + "[" * 5_000 + "]" * 5_000 + "\n",                       # flow, far too deep
    "model: " + "{a: " * 101 + "1" + "}" * 101 + "\n",                 # just over
    "".join(" " * i + f"k{i}:\n" for i in range(150)) + " " * 150 + "v\n",  # block
    "a:\n" + "- " * 150 + "x\n",                                       # compact sequences
], ids=["flow-5000", "flow-102", "block-150", "compact-150"])
def test_config_yaml_nested_too_deeply_is_a_config_error_naming_the_file(tmp_path, text):
    path = tmp_path / "config.yaml"
    with pytest.raises(ConfigError) as caught:
        parse(path, text)
    assert caught.value.problem.what == (
        f"{path} nests mappings or lists more than 100 levels deep, which no Hermes "
        "configuration does. Fix it or move it aside: the wizard will not overwrite it.")


def test_config_yaml_nested_up_to_the_limit_is_read(tmp_path):
    doc = parse(tmp_path / "config.yaml", "model: " + "[" * 99 + "1" + "]" * 99 + "\n")
    assert not too_deep(doc) and too_deep(doc, limit=99)


def test_yaml_aliases_are_fine_but_an_alias_bomb_is_refused_before_anything_copies_it(
        tmp_path):
    config = tmp_path / "config.yaml"
    doc = parse(config, "a: &a [1, 2]\nb: [*a, *a]\n")
    assert doc["b"] == [[1, 2], [1, 2]]
    # Nine lines standing for 10^9 values: the bridge's sync copied it to compare
    # settings, and never finished (10^7 took 53 s).
    bomb = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"{k}: &{k} [{', '.join([f'*{p}'] * 10)}]\n"
        for p, k in zip("abcdefgh", "bcdefghi", strict=True))
    config.write_text(bomb)
    with pytest.raises(ConfigError) as caught:
        write_models(config, base_url="http://127.0.0.1:1/v1", models=["m"], default="m",
                     api_key_ref=None)
    assert caught.value.problem.what == (
        f"{config} uses aliases (*name) that stand for more than 1,000,000 values once "
        "followed, which no Hermes configuration does. Fix it or move it aside: the wizard "
        "will not overwrite it.")
    assert config.read_text() == bomb


def test_expanded_size_counts_a_shared_value_each_time_it_is_reached():
    shared = [1, 2]
    assert expanded_size({"x": shared, "y": shared}) == 7
    assert expanded_size("text") == 1 and expanded_size({}) == 1
    assert expanded_size([[shared] * 10] * 10, limit=50) == 51  # stops once past the limit
    looped: list = []
    looped.append(looped)
    assert expanded_size(looped, limit=10) == 11


def test_config_yaml_over_the_limit_is_not_read_and_never_overwritten(tmp_path):
    config = sparse(tmp_path / "config.yaml", MAX_CONFIG_BYTES + 1, "model: {}\n")
    with pytest.raises(ConfigError) as caught:
        read_source(config)
    assert caught.value.problem.what == (
        f"Cannot read {config}: the file is too large (8,388,609 bytes; at most 8,388,608 "
        "are read).")
    with pytest.raises(ConfigError):
        write_models(config, base_url="http://127.0.0.1:1/v1", models=["m"], default="m",
                     api_key_ref=None)
    assert config.stat().st_size == MAX_CONFIG_BYTES + 1


def test_the_bridge_refuses_a_deep_config_yaml_and_leaves_it_alone(tmp_path):
    config = tmp_path / "config.yaml"
    text = "custom_providers: " + "[" * 2_000 + "]" * 2_000 + "\n"
    config.write_text(text)
    with pytest.raises(ConfigError, match="more than 100 levels deep"):
        read_synced(config)
    with pytest.raises(ConfigError, match="more than 100 levels deep"):
        write_models(config, base_url="http://127.0.0.1:1/v1", models=["m"], default="m",
                     api_key_ref=None)
    assert config.read_text() == text


# --- .env ---------------------------------------------------------------------------------


def test_an_env_over_its_limit_is_an_os_error_every_reader_already_reports(tmp_path):
    env = sparse(tmp_path / ".env", MAX_ENV_BYTES + 1, "A=1\n")
    with pytest.raises(OSError) as caught:
        read_env(env)
    assert isinstance(caught.value, FileTooLarge)
    assert describe_os_error(caught.value, env, action="read") == (
        f"Cannot read {env}: the file is too large (1,048,577 bytes; at most 1,048,576 are "
        "read).")
    os.truncate(env, 4)
    assert read_env(env) == {"A": "1"}


# --- wizard.toml and the Docker CLI's config ----------------------------------------------


def test_a_wizard_toml_nested_too_deeply_is_set_aside_with_a_notice(tmp_path):
    state = tmp_path / "wizard.toml"
    state.write_text("schema_version = 1\nx = " + "[" * 5_000 + "]" * 5_000 + "\n")
    loaded = StateStore(state).load()
    assert loaded.notice.startswith("Your saved progress could not be read (it nests arrays")
    assert not state.exists() and list(tmp_path.glob("wizard.toml.corrupt-*"))


def test_a_docker_config_nested_too_deeply_is_a_candidate_problem(tmp_path):
    docker = tmp_path / ".docker"
    docker.mkdir()
    (docker / "config.json").write_text('{"auths": ' + "[" * 100_000 + "]" * 100_000 + "}")
    found = candidates(env={}, home=tmp_path, system="Linux", uid=os.getuid())
    problems = [c.problem for c in found if c.problem]
    said = f"Cannot read {docker / 'config.json'}: it is nested too deeply to be the Docker CLI's"
    assert problems == [f"{said} JSON."]


# --- front ends: the command line never shows a traceback -----------------------------------


def deep_claw(tmp_path: Path) -> Path:
    return build_claw_tree(tmp_path / "claw", config_text='{"channels": '
                           + "[" * 100_000 + "]" * 100_000 + "}")


def test_migrate_lists_a_deep_openclaw_json_as_an_error_row(tmp_path, capsys):
    claw = deep_claw(tmp_path)
    data, _ = make_profile(tmp_path, "main")
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir")
    migrate_cli.add_arguments(parser)
    args = parser.parse_args(["--data-dir", str(data), "--profile", "main",
                              "--claw-dir", str(claw), "--dry-run", "--json"])
    assert migrate_cli.run(args) == 0
    rows = {row["id"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["config:openclaw.json"]["status"] == "error"
    assert "nested more than 100 levels deep" in rows["config:openclaw.json"]["reason"]
    assert rows["soul"]["status"] == "migrated"


async def test_setup_with_migrate_claw_no_skips_past_a_deep_openclaw_json(
        tmp_path, monkeypatch):
    home = tmp_path / "home"
    deep_claw(home / "x").rename(home / ".openclaw")
    state = at(StepId.MIGRATION, profile="my-bot")
    paths = await run_setup((StepId.MIGRATION,), home, monkeypatch, state, {},
                            migrate_claw="no")
    saved = StateStore(paths.state_file).load().state
    assert saved.status(StepId.MIGRATION) is StepStatus.SKIPPED
