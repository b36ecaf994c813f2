"""The gateway's CPU and memory over the last minutes, as two small plots.

Fed by the dashboard from the engine's stats stream (one sample a second while the
container runs): nothing here polls, so an idle gateway costs one repaint a second.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Sparkline, Static

if TYPE_CHECKING:
    from hermes_tui.engine.gateway import StatsSample

#: Samples kept: the engine sends one a second, so three minutes.
WINDOW = 180


def _bytes(count: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} GB"


class GatewayStats(Widget):
    """``CPU 1.2%  ▁▂▁▃`` and ``Memory 48.1 MB  ▃▃▄▄`` over the last `WINDOW` seconds."""

    DEFAULT_CSS = """
    GatewayStats { height: auto; }
    GatewayStats Vertical { height: auto; }
    GatewayStats Horizontal { height: 1; }
    GatewayStats .stats-label { width: 22; }
    GatewayStats Sparkline { width: 1fr; height: 1; display: none; }
    GatewayStats.-has-data Sparkline { display: block; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._cpu: deque[float] = deque(maxlen=WINDOW)
        self._memory: deque[float] = deque(maxlen=WINDOW)

    def compose(self) -> ComposeResult:
        with Vertical():
            with Horizontal():
                yield Static("CPU     no data yet", id="stats-cpu", classes="stats-label")
                yield Sparkline([], id="stats-cpu-plot")
            with Horizontal():
                yield Static("Memory  no data yet", id="stats-memory", classes="stats-label")
                yield Sparkline([], id="stats-memory-plot")

    def add(self, sample: StatsSample) -> None:
        """One more reading. The stream may outlive the panel (the dashboard is going
        away, its widgets pruned first): then there is nothing to show it on."""
        if not self.is_running:
            return
        self._cpu.append(sample.cpu_percent)
        self._memory.append(float(sample.memory))
        self.add_class("-has-data")
        self.query_one("#stats-cpu", Static).update(f"CPU     {sample.cpu_percent:.1f}%")
        self.query_one("#stats-memory", Static).update(f"Memory  {_bytes(sample.memory)}")
        self.query_one("#stats-cpu-plot", Sparkline).data = list(self._cpu)
        self.query_one("#stats-memory-plot", Sparkline).data = list(self._memory)

    def stopped(self) -> None:
        """The stream ended (the gateway stopped): the plots stay, the labels say so."""
        if not self.is_running:
            return
        self.query_one("#stats-cpu", Static).update("CPU     not running")
        self.query_one("#stats-memory", Static).update("Memory  not running")

    @property
    def samples(self) -> int:
        return len(self._cpu)
