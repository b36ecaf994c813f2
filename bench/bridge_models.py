"""Listing and showing a very long models list on the LLM bridge step.

What it measures
----------------
A router double (tests/support/openai_router.py, real HTTP on loopback, in a process of its
own as a real router is) serves ``--models`` ids (default 50,000). Then:

1. ``list_models`` alone: the HTTP answer read whole and parsed (median of 5).
2. The real ``HermesApp``, headless at 100x30 on the LLM bridge step, pointed at the
   router: from mount until the list is on screen with every row's badge, split into its
   phases: listing (``BridgeStep.list``), the config.yaml sync (``BridgeStep.sync``: ruamel
   round-trip in a thread, then the progress file saved), and showing the rows
   (``BridgeScreen._show_rows``, twice: Pending, then Synced).
3. How responsive the screen stays meanwhile: a 10 ms ticker on the app's event loop records
   the longest stall (no key can be read during a stall), over the whole run.
4. Moving in the shown list: the median time for one ``down`` key press and for ``end``
   (mostly Pilot's own round trip: compare with ``--models 100``), and a page scroll:
   PageDown posted as a key event until the screen was painted with the list's new rows
   (median over many), as CPU time (goal ≤ 16 ms: one frame) and wall time (which adds
   Textual's frame timer, up to 1/60 s).
5. The list's first paint and a page scroll in a bare app: ``ModelList.show`` with
   ``--models`` rows (goal ≤ 0.3 s), against baselines in the same run: ``ModelList``
   with 100 rows and Textual's ``OptionList.set_options`` (what the screen used before).

Every figure of step 2-4 is measured for a 100-model router too, in the same run, as the
baseline the 50,000-model figures compare with (issue 13's goals: "router with 50,000
models: list paints ≤ 0.3 s, a page scroll ≤ 16 ms"; and no event-loop stall over ~50 ms).

Figures are printed, never asserted. Run from the repository root:
    .venv/bin/python bench/bridge_models.py [--models 50000]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

from textual import events
from textual.app import App, ComposeResult
from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from hermes_tui.app import HermesApp
from hermes_tui.bridge.router import list_models
from hermes_tui.bridge.sync import Badge
from hermes_tui.paths import Paths
from hermes_tui.profile import create_profile
from hermes_tui.settings import Settings
from hermes_tui.state import StateStore, StepId
from hermes_tui.steps.bridge import BridgeStep
from hermes_tui.ui.screens.bridge import BridgeScreen
from hermes_tui.ui.widgets.badge import badge
from hermes_tui.ui.widgets.model_list import ModelList
from tests.support.openai_router import OpenAIRouter, many_models
from tests.support.states import at


class Stalls:
    """Gaps between 10 ms ticks on the running event loop (no key is read meanwhile): in
    wall time, and in the event loop thread's own CPU time (what the loop itself spent
    between two ticks: neither other processes on a busy machine nor a worker thread
    holding the GIL count there)."""

    def __init__(self) -> None:
        self.longest = 0.0
        #: (when it ended, how long in wall time, how long in the loop thread's CPU time)
        self.gaps: list[tuple[float, float, float]] = []
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        last, last_cpu = time.perf_counter(), time.thread_time()
        while True:
            await asyncio.sleep(0.01)
            now, cpu = time.perf_counter(), time.thread_time()
            gap = now - last - 0.01
            self.longest = max(self.longest, gap)
            if gap > 0.005:
                self.gaps.append((now, gap, cpu - last_cpu))
            last, last_cpu = now, cpu

    def longest_within(self, start: float, end: float) -> tuple[float, float]:
        """The longest gap (wall, CPU) that overlapped ``start``..``end``."""
        inside = [(gap, cpu) for ended, gap, cpu in self.gaps
                  if ended - gap < end and ended > start]
        return (max((gap for gap, _ in inside), default=0.0),
                max((cpu for _, cpu in inside), default=0.0))

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._tick())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


async def time_listing(url: str, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        await list_models(url)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


PHASES: dict[str, list[float]] = {}


WINDOW: list[float] = []  # when the step's work (listing to rows shown) began and ended


def timed(owner: type, name: str) -> None:
    """Record how long each call of ``owner.name`` takes (wall clock), by phase name."""
    original = getattr(owner, name)

    def record(start: float) -> None:
        end = time.perf_counter()
        PHASES.setdefault(name, []).append(end - start)
        WINDOW[:] = [WINDOW[0] if WINDOW else start, end]

    if asyncio.iscoroutinefunction(original):
        async def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                record(start)
    else:
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                record(start)
    setattr(owner, name, wrapper)


class Painted:
    """Waits for the next frame the app paints in which ``widget`` drew rows.

    ``App._display`` receives every frame (headless too: the lines are rendered, then not
    written); ``render_line`` calls on the widget say its rows were part of it.
    """

    def __init__(self, app: App, widget) -> None:
        self.frames = 0
        self.lines = 0
        self._event = asyncio.Event()
        display, render_line = app._display, widget.render_line

        def counted_display(screen, renderable) -> None:
            display(screen, renderable)
            if renderable is not None and self.lines:
                self.frames += 1
                self._event.set()

        def counted_line(y: int):
            self.lines += 1
            return render_line(y)

        app._display = counted_display
        widget.render_line = counted_line

    async def after(self, act, what: str) -> tuple[float, float]:
        """Wall and CPU seconds from ``act()`` until the widget's rows were painted."""
        self.lines = 0
        self._event.clear()
        wall, cpu = time.perf_counter(), time.process_time()
        act()
        try:
            await asyncio.wait_for(self._event.wait(), 30)
        except TimeoutError:
            raise SystemExit(f"{what}: nothing was painted within 30 s") from None
        return time.perf_counter() - wall, time.process_time() - cpu


async def page_scrolls(app: App, widget, pilot, runs: int = 40) -> tuple[float, float]:
    """Median wall and CPU seconds of PageDown (a real key event) until painted."""
    painted = Painted(app, widget)
    widget.focus()
    await pilot.pause()
    if widget.highlighted is None:
        widget.highlighted = 0
    rows = widget.option_count if isinstance(widget, OptionList) else widget.row_count
    walls, cpus = [], []
    for _ in range(runs):
        if widget.highlighted >= rows - 50:  # start again from the top before the end
            widget.highlighted = 0
            await pilot.pause()
        before = widget.highlighted
        wall, cpu = await painted.after(
            lambda: app.post_message(events.Key("pagedown", None)), "PageDown")
        if widget.highlighted == before:
            raise SystemExit("PageDown did not move the highlight")
        walls.append(wall)
        cpus.append(cpu)
        await pilot.pause()
    return statistics.median(walls), statistics.median(cpus)


def ms(seconds: float) -> str:
    return f"{1000 * seconds:.1f} ms" if seconds < 0.1 else f"{1000 * seconds:.0f} ms"


async def time_screen(url: str, count: int) -> dict[str, float]:
    """The LLM bridge step in the real app against a router serving ``count`` models."""
    PHASES.clear()
    WINDOW.clear()
    with tempfile.TemporaryDirectory() as tmp:
        paths = Paths(Path(tmp) / "data")
        create_profile(paths, "bench")
        store = StateStore(paths.state_file)
        state = at(StepId.BRIDGE, profile="bench")
        store.save(state)
        settings = Settings(paths=paths, router_url=url,
                            docker_host="unix:///nonexistent/bench/docker.sock")
        app = HermesApp(settings, store, state)
        stalls = Stalls()
        start = time.perf_counter()
        async with app.run_test(size=(100, 30)) as pilot:
            stalls.start()
            listing = app.screen.query_one("#models", ModelList)
            while True:
                await pilot.pause(0.05)
                await app.workers.wait_for_complete()
                if listing.row_count == count and app.screen.can_advance:
                    break
                if time.perf_counter() - start > 600:
                    raise SystemExit(f"the list did not reach {count:,} rows in 600 s "
                                     f"({listing.row_count:,} so far)")
            shown = time.perf_counter() - start
            stalls.stop()
            listing.focus()
            await pilot.pause()
            downs = []
            for _ in range(20):
                t = time.perf_counter()
                await pilot.press("down")
                downs.append(time.perf_counter() - t)
            t = time.perf_counter()
            await pilot.press("end")
            end = time.perf_counter() - t
            assert listing.highlighted == count - 1, listing.highlighted
            page_wall, page_cpu = await page_scrolls(app, listing, pilot)
        saved = store.load().state
        return {
            "shown": shown, "list": sum(PHASES["list"]), "sync": sum(PHASES["sync"]),
            "rows": max(PHASES["_show_rows"]), "stall": stalls.longest,
            "work_stall": stalls.longest_within(*WINDOW)[0],
            "work_stall_cpu": stalls.longest_within(*WINDOW)[1],
            "down": statistics.median(downs), "end": end,
            "page_wall": page_wall, "page_cpu": page_cpu,
            "synced": len(saved.synced_models),
        }


def print_screen(count: int, got: dict[str, float], base: dict[str, float]) -> None:
    print(f"LLM bridge step in the app, {count:,} models (baseline: the same with 100 models)")
    rows = [
        ("listed, synced and shown", got["shown"], base["shown"], ""),
        ("  listing (BridgeStep.list)", got["list"], base["list"], ""),
        ("  config.yaml sync + progress saved", got["sync"], base["sync"], ""),
        ("  rows shown (longest _show_rows)", got["rows"], base["rows"], ""),
        ("longest event-loop stall, whole run", got["stall"], base["stall"],
         "incl. the screen's own first paint"),
        ("  while listing, syncing, showing", got["work_stall"], base["work_stall"],
         "goal ≤ 50 ms"),
        ("  the same in loop-thread CPU time", got["work_stall_cpu"],
         base["work_stall_cpu"], "goal ≤ 50 ms"),
        ("one 'down' (Pilot round trip)", got["down"], base["down"], ""),
        ("'end' (Pilot round trip)", got["end"], base["end"], ""),
        ("PageDown until painted, CPU", got["page_cpu"], base["page_cpu"], "goal ≤ 16 ms"),
        ("PageDown until painted, wall", got["page_wall"], base["page_wall"],
         "adds the frame timer"),
    ]
    for name, value, baseline, goal in rows:
        print(f"  {name:<38} {ms(value):>9}   {ms(baseline):>9}   {goal}")
    print(f"  progress file holds {got['synced']:,} synced ids")


class ListApp(App):
    CSS = "#models { height: auto; max-height: 14; }"

    def __init__(self, widget) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


async def time_widget(name: str, count: int) -> tuple[float, float, float]:
    """First paint (wall, CPU) and the median PageDown CPU of one list widget, bare."""
    ids = many_models(count)
    widget = ModelList(id="models") if name == "ModelList" else OptionList(id="models")
    app = ListApp(widget)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        painted = Painted(app, widget)
        if isinstance(widget, ModelList):
            def act() -> None:
                widget.show(dict.fromkeys(ids, Badge.SYNCED), dict.fromkeys(ids, "library"))
        else:
            def act() -> None:
                widget.set_options(
                    Option(Content.assemble("  ", model, ("  library", "$text-muted"), "  ",
                                            badge(Badge.SYNCED)), id=model)
                    for model in ids)
        first_wall, first_cpu = await painted.after(act, f"{name} first paint")
        _, page_cpu = await page_scrolls(app, widget, pilot)
    return first_wall, first_cpu, page_cpu


async def time_widgets(count: int) -> None:
    print("the list alone in a bare app (first paint goal ≤ 0.3 s, page scroll ≤ 16 ms)")
    for name, rows in (("ModelList", count), ("ModelList", 100), ("OptionList", count)):
        first_wall, first_cpu, page_cpu = await time_widget(name, rows)
        print(f"  {name:<10} {rows:>7,} rows: first paint {ms(first_wall):>8} "
              f"(CPU {ms(first_cpu)}), PageDown until painted: CPU {ms(page_cpu)}")


def _serve(count: int, ports, stop) -> None:
    router = OpenAIRouter(models=many_models(count)).start()
    ports.put(router.url)
    stop.wait()
    router.stop()


class RouterProcess:
    """The router double in a process of its own: in this one, its JSON encoding of
    50,000 models would hold the GIL and show up as the app's stalls."""

    def __init__(self, count: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        ports = context.Queue()
        self._process = context.Process(target=_serve, args=(count, ports, self._stop),
                                        daemon=True)
        self._process.start()
        self.url = ports.get(timeout=60)

    def stop(self) -> None:
        self._stop.set()
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


async def run(count: int) -> None:
    router = RouterProcess(count)
    small = RouterProcess(100)
    try:
        print(f"list_models, {count:,} models (median of 5): "
              f"{1000 * await time_listing(router.url):.0f} ms")
        for owner, name in ((BridgeStep, "list"), (BridgeStep, "sync"),
                            (BridgeScreen, "_show_rows")):
            timed(owner, name)
        await time_screen(small.url, 100)  # warm-up: first imports (aiohttp, ruamel.yaml)
        base = await time_screen(small.url, 100)
        got = await time_screen(router.url, count)
        print_screen(count, got, base)
        await time_widgets(count)
    finally:
        router.stop()
        small.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=50_000)
    args = parser.parse_args()
    asyncio.run(run(args.models))


if __name__ == "__main__":
    main()
