"""``hermes-tui status --json`` with 100 profiles and their running gateways (issue 13:
goal ≤ 1 s), against baselines measured in the same run.

What it builds
--------------
A private test engine (``tests.support.engine.LocalEngine``: Debian's dockerd on a unix
socket in a temp folder, no images pulled) and, in a fresh temp data dir, ``--profiles``
(100) profiles made with hermes-tui's own functions: ``create_profile``, a telegram token
in every other ``.env`` (``update_env``), five models synced into ``config.yaml``
(``write_models``) and a ``wizard.toml`` naming the first profile current. Each profile's
gateway is started by the launcher itself (``ProfileGateway.prepare`` records the API
port and key in ``.env``; ``start_gateway`` creates, labels and starts the container and
waits for ``/health``), from a tiny image: static busybox whose ``httpd`` serves Hermes's
``/health`` answer on the profile's API port. So the containers are named, labelled and
configured exactly as real gateways are, and every one is running and healthy; only
Hermes itself is missing, which status never talks to beyond ``/health``.

What it times
-------------
``python -m hermes_tui.cli status --json --data-dir D --docker-host unix://…`` as a real
child process (the worktree's code: ``PYTHONPATH`` is this repository), ``--runs`` (5)
times each, alternating, after one unrecorded warm-up of each:

* ``100 profiles``: the figure the goal is about;
* ``1 profile``: a second data dir with one profile and its running gateway on the same
  engine: start-up, imports, engine probe, the fixed cost;
* ``100, no engine``: the 100-profile data dir with an engine address nobody answers:
  what reading the profiles costs without any engine round trip.

The warm-up runs also write hermes_tui's bytecode (``__pycache__``, ignored by git), as
installing it would: the figures are not about compiling the source.

For each: the median wall time, the child's CPU time (user+system, from
``getrusage(RUSAGE_CHILDREN)``) and the CPU the engine (dockerd) spent answering (from
``/proc/<pid>/stat``). Every run's JSON is checked (every profile listed, its gateway
running with health ok): a figure for a wrong answer is never printed. Printed, never
asserted. ``--cprofile`` also prints where one 100-profile run spends its time.

Everything is removed at the end, also on Ctrl+C or SIGTERM: the containers and the image
(then the engine and its temp folder) and the data dirs.

    .venv/bin/python bench/status.py                       # 100 profiles, ~1 min
    .venv/bin/python bench/status.py --runs 9              # steadier medians
    .venv/bin/python bench/status.py --profiles 30 --cprofile
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.engine import (
    LocalEngine,
    _busybox_path,
    add_file,
    can_run,
)

GOAL_SECONDS = 1.0
IMAGE = "hermes-status-bench:1"
HEALTH = {"status": "ok", "platform": "hermes-agent", "version": "0.19.0"}
MODELS = ["llama3.2:3b", "qwen2.5:7b", "mistral:7b", "phi4:14b", "gemma3:12b"]
#: busybox httpd on the port the launcher put in the container's environment.
GATEWAY_COMMAND = ("sh", "-c", "exec httpd -f -p 127.0.0.1:$API_SERVER_PORT -h /www")
#: Gateways started at once while building (the engine and this machine are shared).
START_CONCURRENCY = 4


# --------------------------------------------------------------------------------------------
# Building the scene
# --------------------------------------------------------------------------------------------


def tiny_image_tar() -> bytes:
    """A root filesystem: static busybox (sh, httpd) and /www/health with Hermes's answer."""
    busybox = _busybox_path()
    if busybox is None:
        raise SystemExit("no static busybox (apt-get install busybox-static)")
    buffer = io.BytesIO()
    now = int(time.time())
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for folder in ("bin", "www", "tmp"):
            info = tarfile.TarInfo(folder)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, now
            tar.addfile(info)
        tar.add(busybox, arcname="bin/busybox")
        for applet in ("sh", "httpd", "sleep"):
            info = tarfile.TarInfo(f"bin/{applet}")
            info.type, info.linkname, info.mode, info.mtime = tarfile.SYMTYPE, "busybox", 0o777, now
            tar.addfile(info)
        add_file(tar, "www/health", json.dumps(HEALTH).encode(), 0o644, now)
    return buffer.getvalue()


def make_profiles(data_dir: Path, names: list[str]) -> None:
    """The profiles, with hermes-tui's own writers; the first one is current."""
    from hermes_tui.bridge.sync import ROUTER_KEY_ENV, write_models
    from hermes_tui.envfile import update_env
    from hermes_tui.paths import Paths
    from hermes_tui.profile import create_profile
    from hermes_tui.state import StateStore

    paths = Paths.resolve(data_dir)
    for index, name in enumerate(names):
        create_profile(paths, name)
        folder = paths.profile_dir(name)
        if index % 2:
            update_env(folder / ".env", {"TELEGRAM_BOT_TOKEN": f"{index}:bench-not-a-token"})
        write_models(folder / "config.yaml", base_url="http://127.0.0.1:11434/v1",
                     models=MODELS, default=MODELS[index % len(MODELS)],
                     api_key_ref=ROUTER_KEY_ENV)
    store = StateStore(paths.state_file)
    state = store.new_state()
    state.profile = names[0]
    state.channels = ["telegram"]
    store.save(state)


async def start_gateways(docker_host: str, data_dir: Path, names: list[str]) -> None:
    """Start every profile's gateway with the launcher: ports and keys chosen one at a time
    (as the wizard does), containers started a few at once."""
    from hermes_tui.engine.detect import diagnose
    from hermes_tui.engine.gateway import start_gateway
    from hermes_tui.engine.launch import ProfileGateway, engine_client
    from hermes_tui.envfile import read_env
    from hermes_tui.paths import Paths

    diagnosis = await diagnose(docker_host)
    if diagnosis.engine is None:
        raise SystemExit(f"the test engine does not answer: {diagnosis.headline}")
    paths = Paths.resolve(data_dir)
    limit = asyncio.Semaphore(START_CONCURRENCY)
    async with engine_client(diagnosis.engine) as docker:

        async def start(spec: object, env: dict[str, str]) -> None:
            async with limit:
                status = await start_gateway(docker, spec, env, health_timeout=60)  # type: ignore[arg-type]
                if status.health != "ok":
                    raise SystemExit(f"gateway {spec.name} is not healthy: {status}")  # type: ignore[attr-defined]

        tasks = []
        for name in names:
            launcher = ProfileGateway(paths, name, IMAGE, diagnosis.engine,
                                      command=GATEWAY_COMMAND)
            spec, _api = await launcher.prepare(docker)
            tasks.append(asyncio.ensure_future(
                start(spec, read_env(paths.profile_dir(name) / ".env"))))
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------


@dataclass
class Case:
    label: str
    data_dir: Path
    docker_host: str
    profiles: int
    engine: bool
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    engine_cpu: list[float] = field(default_factory=list)


def child_env() -> dict[str, str]:
    """This repository's code, and its bytecode cached as an installed copy has it (with
    PYTHONDONTWRITEBYTECODE set, every run would compile hermes_tui from source again)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("DOCKER_")
           and k not in ("HERMES_TUI_DATA_DIR", "PYTHONDONTWRITEBYTECODE")}
    env["PYTHONPATH"] = str(REPO)
    return env


def status_argv(case: Case, *prefix: str) -> list[str]:
    return [sys.executable, *prefix, "-m", "hermes_tui.cli", "status", "--json",
            "--data-dir", str(case.data_dir), "--docker-host", case.docker_host]


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def check(case: Case, stdout: str) -> None:
    """The run answered right: every profile, every gateway running and healthy."""
    data = json.loads(stdout)
    profiles = data["profiles"]
    if len(profiles) != case.profiles:
        raise SystemExit(f"{case.label}: {len(profiles)} profiles listed, not {case.profiles}")
    for profile in profiles:
        gateway = profile["gateway"]
        want = ("running", "ok") if case.engine else ("unknown", None)
        if (gateway["state"], gateway["health"]) != want or profile["error"]:
            raise SystemExit(f"{case.label}: {profile['name']} reads {gateway} "
                             f"(error: {profile['error']}), not {want}")


def run_once(case: Case, dockerd_pid: int, record: bool) -> None:
    cpu_before, engine_before = children_cpu(), process_cpu(dockerd_pid)
    began = time.perf_counter()
    done = subprocess.run(status_argv(case), env=child_env(), cwd=REPO, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - began
    cpu, engine = children_cpu() - cpu_before, process_cpu(dockerd_pid) - engine_before
    if done.returncode != 0:
        raise SystemExit(f"{case.label}: status exited {done.returncode}:\n{done.stderr}")
    check(case, done.stdout)
    if record:
        case.wall.append(wall)
        case.cpu.append(cpu)
        case.engine_cpu.append(engine)


def cprofile(case: Case) -> None:
    """Where one run spends its time (cProfile, sorted by cumulative time)."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "status.prof"
        subprocess.run(status_argv(case, "-m", "cProfile", "-o", str(out)), env=child_env(),
                       cwd=REPO, capture_output=True, timeout=120, stdin=subprocess.DEVNULL,
                       check=True)
        import pstats

        print(f"\ncProfile of one '{case.label}' run (top 30 by cumulative time):")
        pstats.Stats(str(out), stream=sys.stdout).sort_stats("cumulative").print_stats(30)


def report(cases: list[Case], target: Case, baseline: Case) -> None:
    print(f"\n{'case':<18} {'wall s: median (min-max)':<26} {'CPU s':>7} {'engine CPU s':>13}")
    for case in cases:
        wall = statistics.median(case.wall)
        print(f"{case.label:<18} {wall:6.3f} ({min(case.wall):.3f}-{max(case.wall):.3f})"
              f"{'':<5} {statistics.median(case.cpu):7.3f} "
              f"{statistics.median(case.engine_cpu):13.3f}")
    wall, cpu = statistics.median(target.wall), statistics.median(target.cpu)
    extra = wall - statistics.median(baseline.wall)
    ratio = cpu / statistics.median(baseline.cpu)
    load = os.getloadavg()[0]
    print(f"\nstatus --json, {target.profiles} profiles + running gateways: {wall:.3f} s wall, "
          f"{cpu:.3f} s CPU (goal ≤ {GOAL_SECONDS:g} s: "
          f"{'met' if wall <= GOAL_SECONDS else 'NOT met'} by the wall median, "
          f"{'met' if cpu <= GOAL_SECONDS else 'NOT met'} by CPU)")
    print(f"against '{baseline.label}' in the same run: {extra * 1000:+.0f} ms wall, "
          f"{ratio:.2f}× the CPU; load average {load:.1f} on {os.cpu_count()} CPUs "
          "(wall above CPU is waiting: for the engine, or for a core)")


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cprofile", action="store_true",
                        help="also print a cProfile of one run of the full case")
    args = parser.parse_args()
    ok, reason = can_run()
    if not ok:
        print(f"cannot start the test engine: {reason}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _interrupt)
    engine = LocalEngine(build_images=False)
    scratch = Path(tempfile.mkdtemp(prefix="hermes-status-bench-"))
    started = False
    try:
        began = time.monotonic()
        engine.start()  # stops itself again when it fails half-way
        started = True
        tar = scratch / "rootfs.tar"
        tar.write_bytes(tiny_image_tar())
        engine.docker("import", str(tar), IMAGE)
        names = [f"bot-{n:03d}" for n in range(args.profiles)]
        full, solo = scratch / "data-full", scratch / "data-one"
        make_profiles(full, names)
        make_profiles(solo, ["solo"])
        print(f"engine up, {args.profiles + 1} profiles written in "
              f"{time.monotonic() - began:.1f} s; starting the gateways…", flush=True)
        asyncio.run(start_gateways(engine.docker_host, full, names))
        asyncio.run(start_gateways(engine.docker_host, solo, ["solo"]))
        print(f"{args.profiles + 1} gateways running and healthy after "
              f"{time.monotonic() - began:.1f} s", flush=True)

        dockerd_pid = int((engine.state_dir / "dockerd.pid").read_text().strip())
        nowhere = f"unix://{scratch}/no-engine.sock"
        target = Case(f"{args.profiles} profiles", full, engine.docker_host, args.profiles, True)
        baseline = Case("1 profile", solo, engine.docker_host, 1, True)
        offline = Case(f"{args.profiles}, no engine", full, nowhere, args.profiles, False)
        cases = [target, baseline, offline]
        for case in cases:
            run_once(case, dockerd_pid, record=False)  # warm-up: page cache, .pyc files
        for run in range(args.runs):
            for case in (cases if run % 2 == 0 else cases[::-1]):
                run_once(case, dockerd_pid, record=True)
        report(cases, target, baseline)
        if args.cprofile:
            cprofile(target)
    except KeyboardInterrupt:
        print("\ninterrupted: cleaning up", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # cleaning up must not be cut short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            if started:
                engine.remove_local_images()  # every container (killed first), then IMAGE
        finally:
            engine.stop()  # dockerd, the registry, and the engine's temp folder
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
