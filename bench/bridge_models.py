"""Listing and showing a very long models list on the LLM bridge step.

What it measures
----------------
A router double (tests/support/openai_router.py, real HTTP on loopback) serves ``--models``
ids (default 50,000). Then:

1. ``list_models`` alone: the HTTP answer read whole and parsed (median of 5).
2. The real ``HermesApp``, headless at 100x30 on the LLM bridge step, pointed at the
   router: from mount until the list is on screen with every row's badge, split into its
   phases: listing (``BridgeStep.list``), the config.yaml sync (``BridgeStep.sync``: ruamel
   round-trip in a thread, then the progress file saved), and showing the rows
   (``BridgeScreen._show_rows``, twice: Pending, then Synced).
3. How responsive the screen stays meanwhile: a 10 ms ticker on the app's event loop records
   the longest stall (no key can be read during a stall), over the whole run.
4. Moving in the shown list: the median time for one ``down`` key press and for ``end``
   (mostly Pilot's own round trip: compare with ``--models 100``).
5. For comparison, the same rows in a bare app: ``ModelList.show`` and Textual's
   ``OptionList.set_options`` (what the screen used before), each until first painted.

Figures are printed, never asserted. Run from the repository root:
    .venv/bin/python bench/bridge_models.py [--models 50000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

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
    """The longest gap between 10 ms ticks on the running event loop."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            self.longest = max(self.longest, now - last - 0.01)
            last = now

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


def timed(owner: type, name: str) -> None:
    """Record how long each call of ``owner.name`` takes (wall clock), by phase name."""
    original = getattr(owner, name)
    spent = PHASES.setdefault(name, [])
    if asyncio.iscoroutinefunction(original):
        async def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                spent.append(time.perf_counter() - start)
    else:
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent.append(time.perf_counter() - start)
    setattr(owner, name, wrapper)


async def time_screen(url: str, count: int) -> None:
    timed(BridgeStep, "list")
    timed(BridgeStep, "sync")
    timed(BridgeScreen, "_show_rows")
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
        synced = len(app.state.synced_models)
        print(f"screen: {count:,} rows listed, synced ({synced:,} in config.yaml) and shown "
              f"in {shown:.2f} s")
        print("  listing: " + ", ".join(f"{t:.2f} s" for t in PHASES["list"]))
        print("  config.yaml sync (thread) + progress saved: "
              + ", ".join(f"{t:.2f} s" for t in PHASES["sync"]))
        print("  rows shown (on the event loop): "
              + ", ".join(f"{1000 * t:.0f} ms" for t in PHASES["_show_rows"]))
        print(f"longest event-loop stall meanwhile: {1000 * stalls.longest:.0f} ms "
              "(includes waiting for the sync thread's hold on the GIL)")
        print(f"one 'down' key press (median of 20): {1000 * statistics.median(downs):.1f} ms; "
              f"'end': {1000 * end:.1f} ms")


class ListApp(App):
    CSS = "#models { height: auto; max-height: 14; }"

    def __init__(self, widget) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


async def time_widgets(count: int) -> None:
    ids = many_models(count)
    for name in ("ModelList", "OptionList"):
        widget = ModelList(id="models") if name == "ModelList" else OptionList(id="models")
        app = ListApp(widget)
        async with app.run_test(size=(100, 30)) as pilot:
            start = time.perf_counter()
            if isinstance(widget, ModelList):
                widget.show(dict.fromkeys(ids, Badge.SYNCED), dict.fromkeys(ids, "library"))
            else:
                widget.set_options(
                    Option(Content.assemble("  ", model, ("  library", "$text-muted"), "  ",
                                            badge(Badge.SYNCED)), id=model)
                    for model in ids)
            await pilot.pause()
            print(f"{name}: {count:,} rows shown and painted in "
                  f"{1000 * (time.perf_counter() - start):.0f} ms")


async def run(count: int) -> None:
    router = OpenAIRouter(models=many_models(count)).start()
    try:
        print(f"list_models, {count:,} models (median of 5): "
              f"{1000 * await time_listing(router.url):.0f} ms")
        await time_screen(router.url, count)
        await time_widgets(count)
    finally:
        router.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=50_000)
    args = parser.parse_args()
    asyncio.run(run(args.models))


if __name__ == "__main__":
    main()
