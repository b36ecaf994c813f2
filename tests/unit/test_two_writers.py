"""Two writer processes × many rounds on one data dir, without the data dir's lock (an
older hermes-tui, a script, two threads): nothing either of them wrote is lost.

Each writer is a real child Python importing hermes_tui; both start together at a barrier
(a line on stdin) so their rounds overlap. The assertions hold for any interleaving, so
the tests are deterministic under load; every child is bounded by a timeout.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tomllib

from hermes_tui.bridge.sync import read_synced
from hermes_tui.envfile import read_env
from hermes_tui.yamledit import parse
from tests.unit.conftest import REPO, child_env

ROUNDS = 150
TIMEOUT = 180


def run_together(script: str, *args_per_child: list[str]) -> list[str]:
    """Start one child per argument list, let them go at once, return their stdouts."""
    procs = [
        subprocess.Popen([sys.executable, "-c", script, *args], env=child_env(), cwd=REPO,
                         text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
        for args in args_per_child
    ]
    try:
        for proc in procs:  # each child imports first, then waits for this line
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=TIMEOUT)
            assert proc.returncode == 0, err[-3000:]
            results.append(out)
        return results
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(30)


ENV_WRITER = """
import sys
from pathlib import Path
from hermes_tui.envfile import update_env
path, prefix, rounds = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
sys.stdin.readline()
for i in range(rounds):
    update_env(path, {f"{prefix}_{i}": f"value {i}", f"{prefix}_LAST": str(i)})
"""


def test_two_processes_updating_env_keep_every_key(tmp_path):
    env = tmp_path / ".env"
    env.write_text("# the user's own line\nMINE=kept\n")

    run_together(ENV_WRITER, [str(env), "A", str(ROUNDS)], [str(env), "B", str(ROUNDS)])

    values = read_env(env)
    expected = {"MINE": "kept", "A_LAST": str(ROUNDS - 1), "B_LAST": str(ROUNDS - 1)}
    for prefix in "AB":
        expected.update({f"{prefix}_{i}": f"value {i}" for i in range(ROUNDS)})
    assert values == expected  # before the lock: about 160 of 300 keys survived
    lines = env.read_text().splitlines()
    assert lines[0] == "# the user's own line"
    assert len(lines) == len(set(lines)) == len(expected) + 1  # no key twice
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env"]  # no temp file left


STATE_WRITER = """
import sys
from pathlib import Path
from hermes_tui.state import StateStore, StepId, StepStatus
path, which, rounds = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
store = StateStore(path)
state = store.load().state
sys.stdin.readline()
for i in range(rounds):
    if which == "a":
        state.synced_models = [f"model-{j}" for j in range(i + 1)]
        state.steps[StepId.BRIDGE].status = StepStatus.DONE
        state.steps[StepId.BRIDGE].reason = f"round {i}"
    else:
        state.channels = [f"chan{j}" for j in range(i + 1)]
        state.steps[StepId.CHANNELS].status = StepStatus.FAILED
        state.steps[StepId.CHANNELS].reason = f"round {i}"
    store.save(state)
"""


def test_two_processes_saving_progress_keep_each_others_changes(tmp_path):
    path = tmp_path / "wizard.toml"
    rounds = ROUNDS // 2

    run_together(STATE_WRITER, [str(path), "a", str(rounds)], [str(path), "b", str(rounds)])

    data = tomllib.loads(path.read_text())
    # Before the merge, the last writer's whole state won: one of these was lost.
    assert data["synced_models"] == [f"model-{j}" for j in range(rounds)]
    assert data["channels"] == [f"chan{j}" for j in range(rounds)]
    assert data["steps"]["bridge"]["status"] == "done"
    assert data["steps"]["bridge"]["reason"] == f"round {rounds - 1}"
    assert data["steps"]["channels"]["status"] == "failed"
    assert data["steps"]["channels"]["reason"] == f"round {rounds - 1}"
    assert data["steps"]["runtime"]["status"] == "pending"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


CONFIG_WRITER = """
import sys
from pathlib import Path
from hermes_tui.bridge.sync import write_models
from hermes_tui.yamledit import edit_config
path, which, rounds = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
sys.stdin.readline()
for i in range(rounds):
    if which == "bridge":
        models = [f"m{j}" for j in range(i + 1)]
        write_models(path, base_url="http://127.0.0.1:11434/v1", models=models,
                     default=models[-1], api_key_ref=None)
    else:
        def add(document, i=i):
            document.data[f"user_{i}"] = i
        edit_config(path, add)
"""


def test_the_bridge_and_another_config_writer_keep_each_others_settings(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("# my settings\nagent:\n  max_turns: 7\n")
    rounds = ROUNDS // 3

    run_together(CONFIG_WRITER, [str(config), "bridge", str(rounds)],
                 [str(config), "other", str(rounds)])

    synced = read_synced(config)
    assert synced.models == tuple(f"m{j}" for j in range(rounds))
    assert synced.default == f"m{rounds - 1}" and synced.active
    doc = parse(config, config.read_text())
    assert {key: doc[key] for key in doc if key.startswith("user_")} == {
        f"user_{i}": i for i in range(rounds)}
    assert doc["agent"] == {"max_turns": 7}
    assert config.read_text().startswith("# my settings\n")
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


API_WRITER = """
import json, sys
from pathlib import Path
from hermes_tui.engine.api_server import ensure_api_server
root, count, start = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
sys.stdin.readline()
keys = {}
for i in range(count):
    api = ensure_api_server(root, f"p{i}", start=start + i, probe=False)
    keys[f"p{i}"] = api.key
print(json.dumps(keys))
"""


def test_two_gateway_starts_at_once_agree_on_one_api_key_per_profile(tmp_path):
    count = 40
    for i in range(count):
        (tmp_path / f"p{i}").mkdir()
    # Different port ranges: only the key is contended (each profile's port is its own).
    first, second = run_together(API_WRITER, [str(tmp_path), str(count), "20000"],
                                 [str(tmp_path), str(count), "20000"])

    mine, theirs = json.loads(first), json.loads(second)
    for i in range(count):
        on_disk = read_env(tmp_path / f"p{i}" / ".env")["API_SERVER_KEY"]
        assert mine[f"p{i}"] == theirs[f"p{i}"] == on_disk, f"p{i}"
        assert stat.S_IMODE(os.stat(tmp_path / f"p{i}" / ".env").st_mode) == 0o600
