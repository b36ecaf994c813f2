"""What the dashboard's gateway log costs under a chatty gateway: process CPU while lines
arrive at a steady rate, the log as shipped (`StreamLog.feed`, one batch a period) against
the previous drawing (`Log.write_line` per line, which starts a measuring thread worker
for every line), both headless at 100x30 with the dashboard's line limit.

Prints, for each rate, CPU as % of one core (user+system of this process, its threads
included), the writes into the Log and the workers started. Printed, never asserted.

    .venv/bin/python bench/log_stream.py                  # 500 and 2000 lines/s, 5 s each
    .venv/bin/python bench/log_stream.py --rates 200 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


async def measure(kind: str, rate: float, seconds: float) -> tuple[float, int, int]:
    from textual.app import App, ComposeResult
    from textual.widgets import Log

    from hermes_tui.ui.screens.dashboard import LOG_LINES
    from hermes_tui.ui.widgets.stream_log import StreamLog

    writes = workers = 0

    class Counted:
        def write_lines(self, lines, scroll_end=None):
            nonlocal writes
            writes += 1
            return super().write_lines(lines, scroll_end)  # type: ignore[misc]

        def _update_size(self, *args):
            nonlocal workers
            workers += 1
            return super()._update_size(*args)  # type: ignore[misc]

    class ShippedLog(Counted, StreamLog):
        pass

    class PerLineLog(Counted, Log):
        pass

    widget = (ShippedLog if kind == "shipped" else PerLineLog)(max_lines=LOG_LINES)

    class LogApp(App):
        def compose(self) -> ComposeResult:
            yield widget

    app = LogApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        feed = widget.feed if kind == "shipped" else widget.write_line
        period = 0.01  # lines come in 10 ms bursts, as log chunks do
        per_burst = max(1, round(rate * period))
        cpu0, start, n = time.process_time(), time.monotonic(), 0
        while (now := time.monotonic()) - start < seconds:
            due = int((now - start) * rate)
            while n < due:
                for _ in range(per_burst):
                    feed(f"2026-11-30 12:00:00 INFO gateway: line {n} " + "x" * (n % 60))
                    n += 1
            await asyncio.sleep(period)
        await pilot.pause(0.2)
        cpu = time.process_time() - cpu0
    return 100 * cpu / seconds, writes, workers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[500.0, 2000.0])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    print(f"{'rate/s':>8} {'drawing':>9} {'CPU %':>7} {'writes':>8} {'workers':>8}")
    for rate in args.rates:
        for kind in ("shipped", "per-line"):
            cpu, writes, workers = asyncio.run(measure(kind, rate, args.seconds))
            print(f"{rate:>8.0f} {kind:>9} {cpu:>7.1f} {writes:>8} {workers:>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
