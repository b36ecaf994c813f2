"""Startup benchmark: time to first paint of ``hermes-tui`` versus a bare Textual app.

What it measures
----------------
Each app is started in a real pseudo-terminal (``os.openpty``) sized 80x24 with
``TIOCSWINSZ``, with ``TERM=xterm-256color`` and ``TEXTUAL_ANIMATIONS=none``, using the
same interpreter that runs this script (``sys.executable``, i.e. the venv's). The clock
starts just before the child is spawned and stops when the child has written the first
painted frame to the terminal, detected as a byte sequence that only a painted frame
contains:

* hermes-tui (``python -m hermes_tui.cli --data-dir <fresh temp dir>``): ``Step 1 of 7``,
  the title of the first step's screen (a fresh data dir each run, so it always starts at
  step 1 and its state file never grows);
* the bare app (an ``App`` whose only widget is a ``Static``, written by this script to a
  temporary file): the label's text.

So the figure includes interpreter start-up, imports, building the app, mounting the first
screen and writing the first frame -- what a user waits for before seeing something.
A third series, ``resume``, starts hermes-tui on a progress file at step 3 (marker
``Step 3 of 7``): the return of a user who closed the wizard mid-way (reported, no goal).
A fourth, ``replica``, is the first screen's widget tree (step list, title, body, footer)
with the project's shell stylesheet in Textual alone, no hermes-tui code: what Textual
itself costs to draw that screen, the floor under hermes-tui's figure.

Besides the wall clock, each run records the CPU the child (all its threads) had used when
its first frame arrived (``/proc/PID/task/*/schedstat``). On a machine shared with other
work the wall clock swings by tens of percent while the CPU figure hardly moves: compare
both ratios.

hermes_tui's bytecode is written first (``compileall``), as installing the wheel does:
with ``PYTHONDONTWRITEBYTECODE=1`` a checkout would otherwise compile every module on every
start (~70 ms here) while Textual's installed bytecode is there. The
moment the child switches to the alternate screen (``ESC[?1049h``, i.e. the driver has
started: imports and ``App.__init__`` are done) is reported too, so
``paint - alt`` is the time spent mounting, styling and rendering the first screen.

The runs rotate (bare, replica, hermes, resume; replica, hermes, resume, bare; ...) after one unrecorded
warm-up run of each, so slow drift of the machine hits every side alike. Each child is
asked to quit with ctrl+q, then SIGTERM, then SIGKILL (whole process group), and reaped.

How to read it
--------------
Medians are the figures to compare (min/max show the spread). ``ratio`` is
median(hermes) / median(bare), for the wall clock and for the CPU; the goal is <= 1.15,
i.e. hermes-tui should paint at most 15% later than an empty Textual app. The script only
reports; it never fails on the goal.

The import-time section runs ``python -X importtime`` over hermes-tui's start-up imports
(``hermes_tui.cli``, ``hermes_tui.app`` and the step screens that ``on_mount`` loads) and
over the bare app's imports, and lists per top-level package: ``self`` (time in that
package's own modules), ``incl`` (time from entering the package until it returned,
including what it pulled in, e.g. textual -> rich), the ``self`` the bare app spends on the
same package, and the difference, which is what hermes-tui pays on top of the bare app.
``first imported by`` names the module that brought the package in: that is where the
import could be deferred. Import times are single-process measurements in microseconds
turned into ms, median of a few runs; they are noisier than the paint timings. A module's
``self`` also holds whatever ran while it was imported: pydantic building the models in
``hermes_tui.state``, Textual building screen classes, and garbage-collector passes (a
gen-2 collection can land on a trivial module such as ``hermes_tui.ui.glyphs``).

Caveats: nothing answers the terminal queries Textual sends (e.g. ``ESC[?2026$p``), the
same for both apps; the bare app has one ``Static`` while hermes-tui's first screen has a
sidebar, a footer and its stylesheet, so part of the gap is rendering, not imports (see
``p-alt``). On a busy machine use ``--runs 15`` or more and compare medians.

Usage: ``.venv/bin/python bench/startup.py [--runs N] [--timeout S] [--no-imports]``
"""

from __future__ import annotations

import argparse
import errno
import fcntl
import os
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from dataclasses import dataclass, field

COLS, ROWS = 80, 24
GOAL = 1.15
ALT_SCREEN = b"\x1b[?1049h"
HERMES_MARKER = b"Step 1 of 7"
BARE_MARKER = b"BARE-TEXTUAL-APP-READY"
CTRL_Q = b"\x11"

BARE_APP = f'''\
from textual.app import App, ComposeResult
from textual.widgets import Static


class BareApp(App[None]):
    BINDINGS = [("ctrl+q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield Static("{BARE_MARKER.decode()}")


if __name__ == "__main__":
    BareApp().run()
'''

#: The first screen's widget tree in Textual alone (no hermes-tui code): the step list, the
#: title, the body with the runtime step's first line, the footer, and the project's shell
#: stylesheet. What Textual itself costs to draw that screen: the floor for hermes-tui.
REPLICA_APP = '''\
import sys

from textual.app import App
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

STEPS = ["Runtime check", "Image pull", "Profile", "Channels", "LLM bridge",
         "Claw migration", "Completion"]


class StepScreen(Screen):
    BINDINGS = [Binding("enter", "noop", "Next"), Binding("r", "noop", "Retry"),
                Binding("escape", "noop", "Back"), Binding("s", "noop", "Steps"),
                Binding("question_mark", "noop", "Help"), Binding("q", "noop", "Quit")]

    def compose(self):
        with Horizontal(id="shell"):
            rows = [Option(f"{'>' if n == 0 else '.'} {n + 1} {title}"
                           + ("\\n  now" if n == 0 else "")) for n, title in enumerate(STEPS)]
            sidebar = OptionList(*rows, id="sidebar")
            sidebar.border_title = "Steps"
            yield sidebar
            with Vertical(id="step-pane"):
                yield Static("Step 1 of 7 · Runtime check", id="step-title")
                with VerticalScroll(id="step-body"):
                    yield Static("Looking for a container engine that speaks the Docker API",
                                 classes="prose")
        yield Footer(compact=True, show_command_palette=False)


class ReplicaApp(App[None]):
    CSS_PATH = [sys.argv[1]]
    BINDINGS = [("ctrl+q", "quit", "Quit")]

    def get_default_screen(self):
        return StepScreen()


if __name__ == "__main__":
    ReplicaApp().run()
'''

HERMES_IMPORTS = (
    "import hermes_tui.cli; hermes_tui.cli.build_parser([]); "
    "from hermes_tui.commands import lock_data_dir; import hermes_tui.app; "
    "from hermes_tui.ui.screens import screen_class; from hermes_tui.progress import StepId; "
    "screen_class(StepId.RUNTIME)"
)
#: A progress file at step 3 (Profile), for the resume figure.
RESUME_STATE = (
    'schema_version = 1\ncurrent_step = "profile"\nprofile = "my-bot"\n'
    'created_at = 2026-11-27T09:30:00Z\nupdated_at = 2026-11-27T09:30:00Z\n\n'
    '[steps.runtime]\nstatus = "done"\n\n[steps.pull]\nstatus = "done"\n'
)
RESUME_MARKER = b"Step 3 of 7"
BARE_IMPORTS = "from textual.app import App; from textual.widgets import Static"


# -- one run in a pty ------------------------------------------------------------------


@dataclass
class Run:
    alt_ms: float | None = None
    paint_ms: float | None = None
    #: CPU the child (all its threads) had used when its first frame arrived.
    cpu_ms: float | None = None
    error: str | None = None


@dataclass
class Series:
    name: str
    runs: list[Run] = field(default_factory=list)

    def values(self, attr: str) -> list[float]:
        return [getattr(r, attr) for r in self.runs if getattr(r, attr) is not None]


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL")}
    env.update(TERM="xterm-256color", TEXTUAL_ANIMATIONS="none", COLUMNS=str(COLS),
               LINES=str(ROWS))
    env.pop("NO_COLOR", None)
    return env


def _make_controlling_tty() -> None:  # runs in the child, after setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _read(fd: int, timeout: float) -> bytes | None:
    """Bytes from the pty master; b"" if nothing came in time; None at EOF."""
    ready, _, _ = select.select([fd], [], [], max(timeout, 0.0))
    if not ready:
        return b""
    try:
        data = os.read(fd, 65536)
    except OSError as exc:  # EIO: the slave side is closed (child gone)
        if exc.errno == errno.EIO:
            return None
        raise
    return data or None


def _drain_until_exit(proc: subprocess.Popen, master: int, seconds: float) -> bool:
    """Keep reading the pty (so the child never blocks on a write) until it exits."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return True
        if _read(master, 0.02) is None:
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.01))
            except subprocess.TimeoutExpired:
                pass
    return proc.poll() is not None


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop(proc: subprocess.Popen, master: int) -> None:
    """ctrl+q, then SIGTERM, then SIGKILL to the child's process group; always reaped."""
    pgid = proc.pid  # start_new_session=True: the child leads its own group
    try:
        if proc.poll() is None:
            try:
                os.write(master, CTRL_Q)
            except OSError:
                pass
            if not _drain_until_exit(proc, master, 2.0):
                _signal_group(pgid, signal.SIGTERM)
                if not _drain_until_exit(proc, master, 2.0):
                    _signal_group(pgid, signal.SIGKILL)
        # Anything the child left behind in its group goes too (no-op when none).
        _signal_group(pgid, signal.SIGKILL)
    finally:
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def cpu_ms(pid: int) -> float | None:
    """CPU time of every thread of ``pid`` so far (Linux /proc schedstat, ns), in ms.

    Unlike the wall clock it hardly moves when other processes share the cores: on a busy
    machine it is the steadier figure to compare."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat", encoding="ascii") as fh:
                total += int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return total / 1e6


def compile_package() -> None:
    """Write hermes_tui's bytecode, as installing the wheel does (pip compiles it).

    Without it a checkout run with PYTHONDONTWRITEBYTECODE=1 (set on this machine)
    compiles every module on every start, which no installed copy does, while Textual's
    bytecode, installed by pip, is there."""
    import compileall

    package = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                           "hermes_tui")
    compileall.compile_dir(package, quiet=1)


def run_once(argv: list[str], marker: bytes, timeout: float) -> Run:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    result = Run()
    buf = bytearray()
    proc: subprocess.Popen | None = None
    try:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=child_env(), close_fds=True,
            start_new_session=True,
            preexec_fn=_make_controlling_tty,  # noqa: PLW1509 - the bench starts no threads
        )
        os.close(slave)
        slave = -1
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                result.error = f"no first paint within {timeout:g}s"
                break
            data = _read(master, min(left, 0.5))
            now = time.perf_counter()
            if data is None:
                result.error = f"child exited before painting (rc={proc.poll()})"
                break
            if not data:
                continue
            start = max(len(buf) - len(marker), 0)  # a marker may span two reads
            buf += data
            if result.alt_ms is None and ALT_SCREEN in buf:
                result.alt_ms = (now - t0) * 1000
            if marker in buf[start:]:
                result.paint_ms = (now - t0) * 1000
                result.cpu_ms = cpu_ms(proc.pid)
                break
    finally:
        if slave >= 0:
            os.close(slave)
        if proc is not None:
            stop(proc, master)
        os.close(master)
    if result.error:
        tail = bytes(buf[-300:]).decode("utf-8", "replace")
        result.error += f"; last output: {tail!r}"
    return result


# -- import-time breakdown -------------------------------------------------------------


@dataclass
class PkgTimes:
    self_us: int = 0
    incl_us: int = 0
    importer: str = ""


def import_profile(code: str) -> tuple[dict[str, PkgTimes], dict[str, PkgTimes]]:
    """Per top-level package and per module: self time, inclusive time, first importer.

    A package's inclusive time sums the cumulative times of the imports that entered it
    from outside (so it includes whatever it pulled in first).
    """
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], env=child_env(),
                         capture_output=True, text=True, timeout=60, check=True,
                         stdin=subprocess.DEVNULL)
    rows: list[tuple[int, int, int, str]] = []  # (level, self, cumulative, module)
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "imported package" in line:
            continue
        # "import time:       156 |        156 |   _io" (2 spaces of indent per level)
        head, cum_us, name_field = line.split("|", 2)
        self_us = head.split(":", 1)[1]
        name_field = name_field[1:]  # the single space after "|"
        level = (len(name_field) - len(name_field.lstrip(" "))) // 2
        rows.append((level, int(self_us), int(cum_us), name_field.strip()))
    # importtime prints children before their parent: find each row's parent.
    parent: list[int | None] = [None] * len(rows)
    pending: list[int] = []
    for i, (level, *_rest) in enumerate(rows):
        while pending and rows[pending[-1]][0] > level:
            parent[pending.pop()] = i
        pending.append(i)
    pkgs: dict[str, PkgTimes] = {}
    modules: dict[str, PkgTimes] = {}
    for i, (_level, self_us, cum_us, name) in enumerate(rows):
        p = parent[i]
        modules[name] = PkgTimes(self_us, cum_us, rows[p][3] if p is not None else "(top level)")
        root = name.split(".")[0]
        pkg = pkgs.setdefault(root, PkgTimes())
        pkg.self_us += self_us
        parent_root = rows[p][3].split(".")[0] if p is not None else None
        if parent_root != root:  # entered from outside the package
            pkg.incl_us += cum_us
            if not pkg.importer:
                pkg.importer = rows[p][3] if p is not None else "(top level)"
    return pkgs, modules


def _merge(profiles: list[dict[str, PkgTimes]]) -> dict[str, PkgTimes]:
    merged: dict[str, PkgTimes] = {}
    for name in set().union(*profiles):
        present = [p[name] for p in profiles if name in p]
        merged[name] = PkgTimes(
            self_us=int(statistics.median(t.self_us for t in present)),
            incl_us=int(statistics.median(t.incl_us for t in present)),
            importer=present[0].importer,
        )
    return merged


def median_profile(code: str, repeats: int) -> tuple[dict[str, PkgTimes], dict[str, PkgTimes]]:
    profiles = [import_profile(code) for _ in range(repeats)]
    return _merge([p for p, _ in profiles]), _merge([m for _, m in profiles])


STDLIB = set(sys.stdlib_module_names) | {"_frozen_importlib", "_frozen_importlib_external"}


def print_imports(repeats: int, top: int) -> None:
    hermes, hermes_modules = median_profile(HERMES_IMPORTS, repeats)
    bare, _ = median_profile(BARE_IMPORTS, repeats)
    total_h = sum(p.self_us for p in hermes.values())
    total_b = sum(p.self_us for p in bare.values())
    print()
    print(f"Import time (python -X importtime, median of {repeats}):")
    print(f"  hermes-tui start-up imports: {total_h / 1000:7.1f} ms   [{HERMES_IMPORTS}]")
    print(f"  bare app imports:            {total_b / 1000:7.1f} ms   [{BARE_IMPORTS}]")
    print(f"  extra for hermes-tui:        {(total_h - total_b) / 1000:7.1f} ms")
    print()

    def group(pkgs: dict[str, PkgTimes]) -> dict[str, PkgTimes]:
        grouped: dict[str, PkgTimes] = {}
        std = PkgTimes(importer="-")
        for name, t in pkgs.items():
            if name in STDLIB or name.startswith("_"):
                std.self_us += t.self_us
            else:
                grouped[name] = t
        grouped["(stdlib)"] = std
        return grouped

    gh, gb = group(hermes), group(bare)
    order = sorted(gh, key=lambda n: gh[n].self_us - gb.get(n, PkgTimes()).self_us,
                   reverse=True)
    print(f"  {'package':<16}{'self':>9}{'incl':>9}{'bare self':>11}{'extra':>9}"
          f"   first imported by (hermes)")
    for name in order[:top]:
        h, b = gh[name], gb.get(name, PkgTimes())
        incl = f"{h.incl_us / 1000:9.1f}" if name != "(stdlib)" else f"{'-':>9}"
        print(f"  {name:<16}{h.self_us / 1000:9.1f}{incl}{b.self_us / 1000:11.1f}"
              f"{(h.self_us - b.self_us) / 1000:9.1f}   {h.importer}")
    print("  (ms; self = the package's own modules, incl = including what it imported "
          "first, extra = self - bare self)")

    own = sorted((n for n in hermes_modules if n.split(".")[0] == "hermes_tui"),
                 key=lambda n: hermes_modules[n].self_us, reverse=True)
    print()
    print("  hermes_tui's own modules (self includes work done at import time, e.g. "
          "building pydantic models or Textual classes):")
    print(f"  {'module':<34}{'self':>8}{'incl':>9}   imported by")
    for name in own[:8]:
        m = hermes_modules[name]
        print(f"  {name:<34}{m.self_us / 1000:8.1f}{m.incl_us / 1000:9.1f}   {m.importer}")


# -- main ------------------------------------------------------------------------------


def fmt(values: list[float]) -> str:
    if not values:
        return "   n/a"
    return (f"median {statistics.median(values):7.1f}  min {min(values):7.1f}  "
            f"max {max(values):7.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per app (default 7)")
    parser.add_argument("--timeout", type=float, default=15.0,
                        help="seconds to wait for a first paint (default 15)")
    parser.add_argument("--no-imports", action="store_true",
                        help="skip the import-time breakdown")
    parser.add_argument("--import-repeats", type=int, default=5,
                        help="python -X importtime runs per side (default 5)")
    args = parser.parse_args(argv)

    workdir = tempfile.mkdtemp(prefix="hermes-bench-")
    try:
        replica_py = os.path.join(workdir, "replica_app.py")
        with open(replica_py, "w", encoding="utf-8") as fh:
            fh.write(REPLICA_APP)
        shell_css = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                 "styles", "app.tcss")
        bare_py = os.path.join(workdir, "bare_app.py")
        with open(bare_py, "w", encoding="utf-8") as fh:
            fh.write(BARE_APP)

        def hermes_argv() -> list[str]:
            data_dir = tempfile.mkdtemp(prefix="data-", dir=workdir)
            return [sys.executable, "-m", "hermes_tui.cli", "--data-dir", data_dir]

        def resume_argv() -> list[str]:
            data_dir = tempfile.mkdtemp(prefix="data-", dir=workdir)
            with open(os.path.join(data_dir, "wizard.toml"), "w", encoding="utf-8") as fh:
                fh.write(RESUME_STATE)
            return [sys.executable, "-m", "hermes_tui.cli", "--data-dir", data_dir]

        apps = {
            "bare": (lambda: [sys.executable, bare_py], BARE_MARKER),
            "replica": (lambda: [sys.executable, replica_py, shell_css], HERMES_MARKER),
            "hermes": (hermes_argv, HERMES_MARKER),
            "resume": (resume_argv, RESUME_MARKER),
        }
        compile_package()
        series = {name: Series(name) for name in apps}

        print(f"python: {sys.executable} ({sys.version.split()[0]})")
        print(f"pty {COLS}x{ROWS}, TERM=xterm-256color, TEXTUAL_ANIMATIONS=none, "
              f"{args.runs} runs each (alternating) + 1 warm-up each")
        for make, marker in apps.values():  # warm-up: page cache
            run_once(make(), marker, args.timeout)

        names = list(apps)
        for i in range(args.runs):
            # Each round in another order, so drift of the machine hits every app alike.
            for name in names[i % len(names):] + names[:i % len(names)]:
                make, marker = apps[name]
                run = run_once(make(), marker, args.timeout)
                series[name].runs.append(run)
                if run.error:
                    print(f"  run {i + 1} {name}: FAILED: {run.error}", file=sys.stderr)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print()
    print("Time to first paint (ms, from spawn):")
    for name in apps:
        s = series[name]
        print(f"  {name:<7} paint  {fmt(s.values('paint_ms'))}")
        print(f"  {'':<7} alt    {fmt(s.values('alt_ms'))}   (alt-screen switch)")
        paint_after_alt = [r.paint_ms - r.alt_ms for r in s.runs
                           if r.paint_ms is not None and r.alt_ms is not None]
        print(f"  {'':<7} p-alt  {fmt(paint_after_alt)}   (mount + first frame)")
        print(f"  {'':<7} cpu    {fmt(s.values('cpu_ms'))}   (CPU used by the first frame)")
    print()
    for what, attr in (("first paint", "paint_ms"), ("CPU to first paint", "cpu_ms")):
        bp = series["bare"].values(attr)
        for name in ("hermes", "replica", "resume"):
            hp = series[name].values(attr)
            if not hp or not bp:
                print(f"  {what}: ratio {name}/bare n/a (runs failed, see above)")
                continue
            ratio = statistics.median(hp) / statistics.median(bp)
            verdict = "meets" if ratio <= GOAL else "misses"
            goal = (f"goal <= {GOAL:.2f} ({verdict} it)" if name == "hermes"
                    else "(the floor: Textual alone)" if name == "replica" else "(no goal)")
            print(f"  {what}: ratio {name}/bare (medians) {ratio:.2f}   {goal}; "
                  f"+{statistics.median(hp) - statistics.median(bp):.0f} ms")

    if not args.no_imports:
        print_imports(args.import_repeats, top=12)
    return 0


if __name__ == "__main__":
    sys.exit(main())
