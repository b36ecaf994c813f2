"""``hermes-tui setup --non-interactive`` killed (SIGKILL, for real) at twenty points spread
over every filesystem change of a whole run, then run again.

The run is the real command, all seven steps: steps 1 and 2 against the scripted Engine API
double over a unix socket (``tests.support.fake_engine``: no dockerd needed, and it runs
no containers, so step 7 fails the same way every time, exit 17, after writing the API
server's key and port to ``.env``), a profile, a Matrix channel from the environment, no
router (step 5 skips) and the OpenClaw migration applied with its secrets.

After each kill: ``wizard.toml`` loads as it is (never set aside as damaged); ``.env`` and
``config.yaml`` are whole (no truncated line, no key twice, every value one the run writes);
every step the progress calls done has its effect on disk, and every step before the one it
opens at is settled; an interrupted migration is undone or finished (alternately) as the
wizard's step does it. Then ``setup`` runs again and must end exactly as a run that was
never killed: same progress, same profile files (the generated API key and the free port it found aside)."""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import tomllib
from pathlib import Path

import pytest
from dotenv.parser import parse_stream
from ruamel.yaml import YAML

from hermes_tui.envfile import read_env
from hermes_tui.migration.apply import interrupted_runs
from hermes_tui.migration.journal import latest_applied
from hermes_tui.paths import Paths
from hermes_tui.profile import inspect_profile
from hermes_tui.state import STEP_ORDER, StateStore, StepId, StepStatus
from hermes_tui.steps import migration as migration_step
from hermes_tui.steps.flow import Flow
from tests.support import killpoint
from tests.support.claw_tree import build_claw_tree
from tests.support.fake_engine import FINISH, FakeEngine, cold_pull_events

POINTS = 20
EXIT_GATEWAY = 17
CHANNEL = {"MATRIX_HOMESERVER": "https://matrix.example.org",
           "MATRIX_ACCESS_TOKEN": "FAKE-matrix-token-0000", "MATRIX_ALLOWED_USERS": "@me:example.org"}


@pytest.fixture(scope="module")
def engine():
    folder = Path(tempfile.mkdtemp(prefix="hermes-tui-f", dir="/tmp"))  # a short socket path
    double = FakeEngine(folder / "docker.sock",
                        pull_events=cold_pull_events(layers=2, done=2) + FINISH).start()
    try:
        yield double
    finally:
        double.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def claw(tmp_path_factory) -> Path:
    return build_claw_tree(tmp_path_factory.mktemp("claw") / "claw")


class Run:
    def __init__(self, root: Path, engine: FakeEngine, claw: Path) -> None:
        self.paths = Paths(root / "data")
        self.profile = self.paths.profile_dir("main")
        self.args = ["--data-dir", str(self.paths.root), "--docker-host", engine.url, "setup",
                     "--non-interactive", "--profile", "main", "--channel", "matrix",
                     "--migrate-claw", "apply", "--migrate-secrets", "--claw-dir", str(claw),
                     "--health-timeout", "1"]
        home = root / "home"
        home.mkdir(parents=True)
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("DOCKER_", "HERMES_TUI_", "OPENAI_", "MATRIX_"))}
        self.env.update(HOME=str(home), **CHANNEL)

    def setup(self, **kwargs):
        return killpoint.run(self.args, env=self.env, **kwargs)

    def outcome(self) -> dict[str, object]:
        """What a finished run leaves: progress without times, the profile's files."""
        state = tomllib.loads(self.paths.state_file.read_text())
        for key in ("created_at", "updated_at"):
            state.pop(key)
        for record in state["steps"].values():
            record.pop("updated_at", None)
        # The generated key, and the port: the first one free on this machine at the time.
        env_text = (self.profile / ".env").read_text()
        api = read_env(self.profile / ".env")
        key, port = api["API_SERVER_KEY"], api["API_SERVER_PORT"]
        assert len(key) == 43 and port.isdigit()
        env_text = env_text.replace(f"API_SERVER_PORT={port}\n", "API_SERVER_PORT=<free port>\n")
        files = {p.relative_to(self.profile).as_posix(): p.read_bytes()
                 for p in self.profile.rglob("*") if p.is_file()
                 and p.relative_to(self.profile).parts[0] != "migration" and p.name != ".env"}
        return {"wizard.toml": state, ".env": env_text.replace(key, "<generated key>"),
                "files": files}


@pytest.fixture(scope="module")
def reference(tmp_path_factory, engine, claw) -> tuple[int, Run, dict[str, dict[str, object]]]:
    """(changes of a whole run, the run, its outcome once and after a second run).

    A second run differs in one way only: the channels step then finds the channels the
    migration wrote to ``.env`` complete and keeps them on. So a run killed after the
    migration's files landed must end as "twice", one killed before as "once"."""
    run = Run(tmp_path_factory.mktemp("reference"), engine, claw)
    total, done = killpoint.count(run.args, run.paths.root.parent, env=run.env)
    assert done.returncode == EXIT_GATEWAY, done.stdout + done.stderr
    assert "is not on the engine" in done.stderr  # step 7 fails as the double intends
    once = run.outcome()
    assert run.setup().returncode == EXIT_GATEWAY
    twice = run.outcome()
    # The migration records the channels it wrote to .env, as step 4 does on a second run.
    assert "discord" in once["wizard.toml"]["channels"] and "matrix" in once["wizard.toml"]["channels"]
    assert twice["wizard.toml"]["channels"] == once["wizard.toml"]["channels"]
    return total, run, {"once": once, "twice": twice}


def check_whole(run: Run, final_env: dict[str, str], where: str) -> None:
    """Each file whole: ``final_env`` holds every value ``.env`` may have (its key aside)."""
    loaded = StateStore(run.paths.state_file).load()
    assert loaded.notice is None, f"{where}: {loaded.notice}"
    env_path = run.profile / ".env"
    if env_path.exists():
        text = env_path.read_text()
        bindings = list(parse_stream(io.StringIO(text)))
        assert not any(b.error for b in bindings) and text.endswith("\n"), f"{where}: .env cut"
        keys = [b.key for b in bindings if b.key]
        assert len(keys) == len(set(keys)), f"{where}: a key twice in .env"
        for key, value in read_env(env_path).items():
            if key not in ("API_SERVER_KEY", "API_SERVER_PORT"):
                assert value == final_env[key], f"{where}: .env {key}={value!r}"
    config = run.profile / "config.yaml"
    if config.exists():
        assert isinstance(YAML(typ="rt").load(config.read_text()), dict), where


def check_consistent(run: Run, where: str) -> None:
    """The progress claims nothing the disk does not hold, and opens at a settled place."""
    state = StateStore(run.paths.state_file).load().state
    opens = STEP_ORDER.index(state.current_step)
    for step in STEP_ORDER[:opens]:
        assert state.status(step) in (StepStatus.DONE, StepStatus.SKIPPED), (where, step)
    if state.status(StepId.PROFILE) is StepStatus.DONE:
        assert inspect_profile(run.paths, "main").complete, where
    if state.status(StepId.CHANNELS) is StepStatus.DONE:
        assert read_env(run.profile / ".env").get("MATRIX_ACCESS_TOKEN"), where
    if state.status(StepId.MIGRATION) is StepStatus.DONE:
        assert latest_applied(run.profile) is not None and not interrupted_runs(run.profile), where


async def recover(run: Run, finish: bool) -> str | None:
    """Undo or finish an interrupted migration the way the wizard's step does."""
    stopped = interrupted_runs(run.profile) if run.profile.exists() else []
    if not stopped:
        return None
    store = StateStore(run.paths.state_file)
    flow = Flow(store.load().state, store)
    if finish:
        result = await migration_step.finish(flow, stopped[0].run_dir)
        assert result.errors == []
        return "finished"
    await migration_step.undo_apply(flow, stopped[0].run_dir)
    return "undone"


async def test_setup_killed_at_twenty_points_ends_as_if_never_killed(tmp_path, engine, claw,
                                                                      reference):
    total, reference_run, expected = reference
    final_env = read_env(reference_run.profile / ".env")  # every value .env may hold
    assert total > 3 * POINTS
    recovered = []
    for n in range(POINTS):
        at = 1 + n * (total - 1) // (POINTS - 1)
        where = f"killed at change {at} of {total}"
        run = Run(tmp_path / f"at-{at}", engine, claw)
        killed = run.setup(kill_at=at)
        assert killed.returncode == -9, f"{where}: {killed.stdout[-500:]} {killed.stderr[-500:]}"
        check_whole(run, final_env, where)
        check_consistent(run, where)
        recovered.append(await recover(run, finish=bool(n % 2)))
        migrated = run.profile.exists() and "DISCORD_BOT_TOKEN" in read_env(run.profile / ".env")
        again = run.setup()
        assert again.returncode == EXIT_GATEWAY, f"{where}: {again.stdout[-800:]} {again.stderr[-800:]}"
        assert "Traceback" not in again.stderr
        assert run.outcome() == expected["twice" if migrated else "once"], where
    assert "undone" in recovered and "finished" in recovered, recovered
