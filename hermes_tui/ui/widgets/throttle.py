"""Draw at most so often: one helper for widgets fed by a fast stream (pull events, log
lines).

A widget asks `Throttle.request` on every change; the paint runs on the widget's own
message loop, at once (next in its queue) after a quiet spell, else one period after the
last paint. However fast changes come, there is at most one paint a period, and no timer
runs while nothing changes.

Only a running widget is painted: a stream that outlives its widget (the screen is going
away) schedules nothing, so nothing is drawn, and no worker is started, on a widget that
Textual is removing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.timer import Timer
from textual.widget import Widget


class Throttle:
    """Runs ``paint`` on ``widget``'s loop at most once every ``period`` seconds."""

    def __init__(self, widget: Widget, paint: Callable[[], None], period: float,
                 *, name: str) -> None:
        self._widget, self._paint, self.period, self._name = widget, paint, period, name
        self._timer: Timer | None = None
        self._pending = False  # a paint is scheduled (on the timer or next in the queue)
        self._last = 0.0  # time.monotonic() of the last paint

    @property
    def idle(self) -> bool:
        """Nothing is scheduled: no timer, no paint waiting in the queue."""
        return not self._pending and self._timer is None

    def request(self) -> None:
        """Something changed: paint it, soon but not more often than once a period."""
        if self._pending or not self._widget.is_running:
            return
        self._pending = True
        delay = self._last + self.period - time.monotonic()
        if delay > 0:
            self._timer = self._widget.set_timer(delay, self._run, name=self._name)
        else:
            self._widget.call_later(self._run)

    def flush(self) -> None:
        """Paint now (the stream ended: the last state must not wait for the timer)."""
        if self._timer is not None:
            self._timer.stop()
        self._run()

    def _run(self) -> None:
        self._timer, self._pending = None, False
        self._last = time.monotonic()
        self._paint()
