"""What an idle dashboard costs: CPU time of a real ``hermes-tui`` process showing the
dashboard in an 80x24 pseudo-terminal, over ``--seconds`` (30) of doing nothing.

The child opens the dashboard of a completed profile (a fresh data dir and HOME) with an
engine address nobody answers, so what remains is the app's own idling: timers, repaints,
workers. The engine's event and stats streams only wake it when the engine sends
something. Prints user+system CPU seconds of the child (from /proc/<pid>/stat) during the
window, as a percentage of one core. Printed, never asserted.

    .venv/bin/python bench/dashboard_idle.py               # 30 s
    .venv/bin/python bench/dashboard_idle.py --seconds 60
"""

from __future__ import annotations

import argparse
import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drain(fd: int, seconds: float) -> bytes:
    seen = b""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = {**os.environ, "HOME": str(home), "TERM": "xterm-256color",
               "TEXTUAL_ANIMATIONS": "none"}
        env.pop("DOCKER_HOST", None)
        setup = (
            "from hermes_tui.paths import Paths\n"
            "from hermes_tui.profile import create_profile\n"
            "from hermes_tui.state import StateStore, StepId, StepStatus, WizardState\n"
            "p = Paths.resolve(None); create_profile(p, 'idle')\n"
            "s = WizardState(profile='idle', current_step=StepId.DONE)\n"
            "for step in s.steps.values(): step.status = StepStatus.DONE\n"
            "StateStore(p.state_file).save(s)\n"
        )
        subprocess.run([sys.executable, "-c", setup], env=env, cwd=REPO, check=True)
        main_fd, child_fd = os.openpty()
        fcntl.ioctl(child_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        child = subprocess.Popen(
            [sys.executable, "-m", "hermes_tui.cli", "--docker-host",
             f"unix://{home}/no-engine.sock"],
            stdin=child_fd, stdout=child_fd, stderr=child_fd, env=env, cwd=REPO,
            start_new_session=True)
        os.close(child_fd)
        try:
            shown = drain(main_fd, 8.0)  # start-up, first paint, the engine probe settles
            if b"Hermes" not in shown:
                print("the dashboard did not appear within 8 s", file=sys.stderr)
                return 1
            before = cpu_seconds(child.pid)
            drain(main_fd, args.seconds)
            used = cpu_seconds(child.pid) - before
        finally:
            os.killpg(child.pid, signal.SIGTERM)
            child.wait(10)
            os.close(main_fd)
    print(f"idle dashboard: {used:.2f} s CPU in {args.seconds:.0f} s "
          f"= {100 * used / args.seconds:.2f}% of one core")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
