"""A `Log` fed line by line from a stream (the gateway's log on the dashboard).

Textual's `Log` measures every write in a thread worker of its own. Written to once per
line, a chatty gateway starts hundreds of workers a second; and a stream that outlives the
widget (the dashboard is closing, or giving way to another screen) would start them on a
widget being removed, whose worker then fails once the widget is detached and stops the
app. `StreamLog.feed` keeps the lines and writes them in one batch per `Throttle` period,
from the widget's own loop only, so neither can happen.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Log

from hermes_tui.ui.widgets.throttle import Throttle


class StreamLog(Log):
    """A `Log` written at most ``fps`` times a second, whatever the rate of `feed`."""

    def __init__(self, *, fps: float = 20.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._waiting: list[str] = []
        self.throttle = Throttle(self, self._write_waiting, 1 / fps, name="stream-log")

    def on_mount(self) -> None:
        if self._waiting:  # fed before the mount, which scheduled nothing
            self.throttle.request()

    def feed(self, *lines: str) -> None:
        """Add ``lines``; they show at the next paint."""
        self._waiting.extend(lines)
        keep = self.max_lines
        if keep and len(self._waiting) > keep:
            del self._waiting[:-keep]  # Log would drop them anyway: never measure them
        self.throttle.request()

    def clear(self) -> StreamLog:
        self._waiting.clear()
        super().clear()
        return self

    def _write_waiting(self) -> None:
        lines, self._waiting = self._waiting, []
        if lines:
            self.write_lines(lines)
