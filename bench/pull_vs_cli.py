"""Pull benchmark: hermes-tui's ``pull_image`` (aiodocker) versus ``docker pull``.

What it measures
----------------
The script starts its own throw-away engine and loopback registry (``LocalEngine`` from
``tests/support/engine.py``: a private dockerd on a unix socket, a registry on
127.0.0.1, everything under one temp folder, stopped at the end whatever happens). It
builds a bigger image than the test one, so that a pull lasts long enough to compare:
the harness's ``hermes-test:1`` (busybox + 3 x 4 MiB) plus ``--layers`` layers of
``--layer-mib`` MiB of random (incompressible) data each -- ~110 MiB over 10 layers by
default -- pushes it as ``hermes-bench:1`` and deletes it from the engine.

Then, ``--runs`` times (after one unrecorded warm-up of each), it removes every local
image so each pull is cold, and pulls the image

* with the project: a fresh ``aiodocker.Docker`` client, ``pull_image(docker, ref,
  PullProgress())`` folding every event into the progress model, client closed; the
  clock covers client creation to close (aiodocker is imported once, beforehand);
* with the CLI: ``/usr/bin/docker -H unix://… pull <ref>`` (Debian's client, matching
  the 20.10 engine), output discarded; the clock covers the whole process, start-up
  included, as a user would see it.

The two alternate, and the order flips every round (project, CLI, CLI, project, ...),
so slow drift of the machine hits both sides alike. Both sides end with the same image
(the digests are checked).

How to read it
--------------
Medians are the figures to compare; min/max show the spread. ``ratio`` is
median(project) / median(CLI). The goal is <= 1.05: the wizard's pull (with its
per-event progress model) should cost at most 5 % more wall time than ``docker pull``
does. Nearly all of a cold pull is the engine's own work (download, checksum,
decompression, overlay2 writes), identical on both sides, so the ratio mostly shows
what the client adds per event; on loopback the download is unrealistically fast, which
makes that share *larger* than over a real network. The script only reports; it never
fails on the goal.

    .venv/bin/python bench/pull_vs_cli.py             # 5 runs each, ~1 min
    .venv/bin/python bench/pull_vs_cli.py --runs 9    # steadier medians
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import aiodocker

from hermes_tui.engine.pull import PullProgress, pull_image
from tests.support.engine import DOCKER_CLIENT, LocalEngine, can_run

GOAL = 1.05


def docker_cli(engine: LocalEngine, *args: str, quiet: bool = False) -> None:
    """Run the Debian docker CLI against `engine` (its own config dir, no BuildKit)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env["DOCKER_CONFIG"] = str(engine.state_dir / "client")
    env["DOCKER_BUILDKIT"] = "0"
    out = subprocess.DEVNULL if quiet else subprocess.PIPE
    result = subprocess.run(
        [DOCKER_CLIENT, "-H", engine.docker_host, *args],
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=out,
        env=env,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        detail = b"" if quiet else (result.stdout or b"") + (result.stderr or b"")
        raise SystemExit(f"docker {' '.join(args)} failed: {detail.decode(errors='replace')}")


def build_bench_image(engine: LocalEngine, layers: int, layer_mib: int) -> str:
    """Push ``hermes-bench:1`` (the test image + `layers` random layers) and drop it locally."""
    ref = f"{engine.registry}/hermes-bench:1"
    build = engine.state_dir / "bench-build"
    build.mkdir()
    docker_cli(engine, "pull", engine.image, quiet=True)
    lines = [f"FROM {engine.image}"]
    for index in range(layers):
        name = f"blob-{index}"
        (build / name).write_bytes(os.urandom(layer_mib * 1024 * 1024))
        lines.append(f"COPY {name} /bench/{name}")
    (build / "Dockerfile").write_text("\n".join(lines) + "\n")
    docker_cli(engine, "build", "--quiet", "-t", ref, str(build), quiet=True)
    docker_cli(engine, "push", ref, quiet=True)
    engine.remove_local_images()
    for path in build.iterdir():
        path.unlink()
    build.rmdir()
    return ref


async def pull_with_project(engine: LocalEngine, ref: str) -> tuple[float, str | None, int]:
    began = time.perf_counter()
    docker = aiodocker.Docker(url=engine.docker_host)
    try:
        progress = PullProgress()
        result = await pull_image(docker, ref, progress)
    finally:
        await docker.close()
    return time.perf_counter() - began, result.digest, progress.events


def pull_with_cli(engine: LocalEngine, ref: str) -> float:
    began = time.perf_counter()
    docker_cli(engine, "pull", ref, quiet=True)
    return time.perf_counter() - began


def repo_digest(engine: LocalEngine, ref: str) -> str:
    import json

    status, body = engine.engine_request("GET", f"/images/{ref}/json")
    if status != 200:
        raise SystemExit(f"inspect {ref} after the CLI pull: {status} {body!r}")
    return json.loads(body)["RepoDigests"][0].partition("@")[2]


def describe(name: str, times: list[float]) -> str:
    return (
        f"{name:<8} median {statistics.median(times):6.3f} s   "
        f"min {min(times):6.3f}   max {max(times):6.3f}   "
        f"runs {' '.join(f'{t:.3f}' for t in times)}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5, help="recorded pulls per side (5)")
    parser.add_argument("--layers", type=int, default=6, help="extra random layers (6)")
    parser.add_argument("--layer-mib", type=int, default=16, help="MiB per extra layer (16)")
    args = parser.parse_args()

    ok, reason = can_run()
    if not ok:
        print(f"cannot start a local engine: {reason}", file=sys.stderr)
        return 1

    engine = LocalEngine()
    try:
        began = time.perf_counter()
        engine.start()
        ref = build_bench_image(engine, args.layers, args.layer_mib)
        print(
            f"engine {engine.storage_driver} up and {ref} pushed in "
            f"{time.perf_counter() - began:.1f} s "
            f"({args.layers} x {args.layer_mib} MiB + hermes-test:1's 4 layers)"
        )

        project: list[float] = []
        cli: list[float] = []
        events: list[int] = []
        digests: set[str | None] = set()
        for round_ in range(args.runs + 1):  # round 0 is the warm-up
            order = ("project", "cli") if round_ % 2 == 0 else ("cli", "project")
            for side in order:
                engine.remove_local_images()
                if side == "project":
                    seconds, digest, count = asyncio.run(pull_with_project(engine, ref))
                    digests.add(digest)
                    if round_:
                        project.append(seconds)
                        events.append(count)
                else:
                    seconds = pull_with_cli(engine, ref)
                    digests.add(repo_digest(engine, ref))
                    if round_:
                        cli.append(seconds)
        engine.remove_local_images()

        print(describe("project", project))
        print(describe("cli", cli))
        print(f"events per project pull: median {statistics.median(events):.0f}")
        if len(digests) != 1:
            print(f"WARNING: the two sides ended with different digests: {digests}")
        ratio = statistics.median(project) / statistics.median(cli)
        verdict = "met" if ratio <= GOAL else "NOT met"
        print(f"ratio project/cli {ratio:.3f} (goal <= {GOAL:.2f}: {verdict})")
    finally:
        engine.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
