"""Every layer of a pull, drawn by one widget from the coalesced ``PullProgress`` model.

The model changes on every engine event (hundreds a second); this widget looks at it on a
timer and repaints only when ``version`` moved, so the screen redraws at most ``fps``
times a second however fast events arrive. No widget per layer, no update per event.
"""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget

from hermes_tui.engine.pull import Layer, LayerState, PullProgress
from hermes_tui.ui.glyphs import plain_console

_STATE_STYLE = {
    LayerState.WAITING: "$text-muted",
    LayerState.DOWNLOADING: "$text-accent",
    LayerState.VERIFYING: "$text-accent",
    LayerState.DOWNLOADED: "$text-accent",
    LayerState.EXTRACTING: "$text-primary",
    LayerState.COMPLETE: "$text-success",
    LayerState.EXISTS: "$text-success",
}


def human_bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def human_seconds(s: float) -> str:
    s = round(s)
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def bar(fraction: float | None, width: int) -> str:
    """A bar whose filled and empty parts differ in shape, not only colour."""
    full, empty, unknown = ("#", "-", "?") if plain_console() else ("█", "░", "▒")
    if fraction is None:
        return unknown * width
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return full * filled + empty * (width - filled)


class LayerBars(Widget):
    """The overall bar (bytes, rate, ETA) and one row per layer."""

    DEFAULT_CSS = """
    LayerBars {
        height: auto;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, progress: PullProgress | None = None, fps: float = 20.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.progress = progress
        self._fps = fps
        self._drawn = -1
        self._rows = 0

    def on_mount(self) -> None:
        self.set_interval(1 / self._fps, self._tick)

    def show_progress(self, progress: PullProgress) -> None:
        """Start showing ``progress`` (a new pull)."""
        self.progress = progress
        self._drawn = -1
        self._tick()

    @property
    def up_to_date(self) -> bool:
        """True when the last repaint showed the model as it is now."""
        return self.progress is None or self._drawn == self.progress.version

    def flush(self) -> None:
        """Repaint now (the pull ended: the last state must not wait for the timer)."""
        self._tick()

    def _tick(self) -> None:
        progress = self.progress
        if progress is None or progress.version == self._drawn:
            return
        self._drawn = progress.version
        rows = len(progress.layers) + 3
        self.refresh(layout=rows != self._rows)
        self._rows = rows

    def get_content_height(self, container, viewport, width) -> int:
        return (len(self.progress.layers) + 3) if self.progress else 1

    def render(self) -> Content:
        progress = self.progress
        if progress is None:
            return Content("")
        width = self.size.width or 60
        lines = [self._overall(progress, width), Content("")]
        lines.extend(self._layer(layer, width) for layer in progress.layers.values())
        return Content("\n").join(lines)

    def _overall(self, p: PullProgress, width: int) -> Content:
        count = f"{p.finished_layers if p.has_bytes else p.fetched_layers}/{len(p.layers)} layers"
        if p.has_bytes:
            count += " done"
        if not p.layers and not p.done:
            return Content.styled("Asking the registry…", "$text-muted")
        # Two figures, each named for what it measures: "Overall" is every layer downloaded
        # *and* unpacked; "Download" is bytes only, so 63% of the bytes may be 38% overall.
        download: Content | None = None
        if p.has_bytes and p.bytes_total:
            if p.sizes_known or p.done:
                share = min(1.0, p.bytes_done / p.bytes_total)
                figures = (f"{share * 100:.0f}%: {human_bytes(p.bytes_done)} of "
                           f"{human_bytes(p.bytes_total)}")
            else:  # some layers have not said their size: no percentage of an unknown
                figures = (f"{human_bytes(p.bytes_done)} of at least "
                           f"{human_bytes(p.bytes_total)}")
            if p.rate is not None and not p.done:
                figures += f"  {human_bytes(p.rate)}/s"
            if p.eta is not None and not p.done:
                figures += f"  {human_seconds(p.eta)} left"
            download = Content.assemble(("Download", "bold"), " ", (figures, "$text-muted"))
        elif p.done:
            figures = "nothing to download" if p.bytes_total == 0 else ""
        else:
            figures = "no byte counts from this engine"
        fraction = p.fraction
        pct = f"{fraction * 100:3.0f}%" if fraction is not None else " ---"
        bar_width = max(10, min(40, width - 16 - len(count)))  # 'Overall ' + ' 100%  '
        head = Content.assemble(("Overall ", "bold"), bar(fraction, bar_width), f" {pct}  {count}")
        if download is None:
            download = Content.styled("        " + figures, "$text-muted")
        return Content.assemble(head, "\n", download)

    def _layer(self, layer: Layer, width: int) -> Content:
        state = layer.state.value
        style = _STATE_STYLE[layer.state]
        if layer.note:
            state = layer.note
        fraction = layer.fraction
        if layer.state is LayerState.EXTRACTING and layer.extract_total:
            figures = f"{human_bytes(layer.extracted)} / {human_bytes(layer.extract_total)}"
        elif layer.size:
            figures = f"{human_bytes(layer.downloaded)} / {human_bytes(layer.size)}"
        else:
            figures = ""
        bar_width = max(6, min(30, width - 12 - 16 - 24))  # id, state, figures
        shown_bar = "" if layer.state is LayerState.EXISTS else bar(fraction, bar_width)
        return Content.assemble(
            (f"{layer.id[:12]:<12} ", "$text-muted"),
            (f"{state:<15} ", style),
            (f"{shown_bar} ", style),
            figures,
        )
