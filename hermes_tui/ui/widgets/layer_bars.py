"""Every layer of a pull, drawn by one Line API widget from the coalesced ``PullProgress`` model.

The model changes on every engine event (hundreds a second). This widget never looks at
it per event, and runs no timer while it is unchanged: the model calls back once, at the
first change after a repaint, and the widget schedules a single repaint at least ``1/fps``
seconds after the last one, so it draws at most ``fps`` (10) times a second however fast
events arrive, and not at all when none arrive.

A repaint takes a snapshot of what each row shows (the Overall and Download lines are rows
too) and refreshes only the rows whose text or style changed; ``render_line`` draws a row
from that snapshot, each row's ``Strip`` cached by what it shows. Most repaints change a
few rows: the figures of the layers that moved, and the totals.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from textual.cache import LRUCache
from textual.content import Content
from textual.geometry import Region
from textual.strip import Strip
from textual.style import Style
from textual.visual import Visual
from textual.widget import Widget

from hermes_tui.engine.pull import Layer, LayerState, PullProgress
from hermes_tui.ui.glyphs import plain_console
from hermes_tui.ui.widgets.throttle import Throttle

_STATE_STYLE = {
    LayerState.WAITING: "$text-muted",
    LayerState.DOWNLOADING: "$text-accent",
    LayerState.VERIFYING: "$text-accent",
    LayerState.DOWNLOADED: "$text-accent",
    LayerState.EXTRACTING: "$text-primary",
    LayerState.COMPLETE: "$text-success",
    LayerState.EXISTS: "$text-success",
}

#: What one row shows: the parts ``Content.assemble`` takes (plain text or (text, style)).
#: Hashable and compared exactly, text and styles: it is the key of the row's cached Strip.
Row = tuple[str | tuple[str, str], ...]
#: What one row shows, before the bars are sized to the widget's width:
#: ("overall", fraction, pct, count), ("layer", fraction | None, <the row's parts>), or
#: ("text", row) for a row whose look does not depend on the width.
Facts = tuple


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


_BLANK: Facts = ("text", ())


def overall_facts(p: PullProgress) -> list[Facts]:
    """The Overall line and, once there are layers, the Download line under it."""
    count = f"{p.finished_layers if p.has_bytes else p.fetched_layers}/{len(p.layers)} layers"
    if p.has_bytes:
        count += " done"
    if not p.layers and not p.done:
        return [("text", (("Asking the registry…", "$text-muted"),))]
    # Two figures, each named for what it measures: "Overall" is every layer downloaded
    # *and* unpacked; "Download" is bytes only, so 63% of the bytes may be 38% overall.
    download: Row | None = None
    if p.has_bytes and p.bytes_total:
        if p.sizes_known or p.done:
            share = min(1.0, p.bytes_done / p.bytes_total)
            figures = (f"{share * 100:.0f}%: {human_bytes(p.bytes_done)} of "
                       f"{human_bytes(p.bytes_total)}")
        else:  # some layers have not said their size: no percentage of an unknown
            figures = (f"{human_bytes(p.bytes_done)} of at least "
                       f"{human_bytes(p.bytes_total)}")
        rate = p.rate
        if rate is not None and not p.done:
            figures += f"  {human_bytes(rate)}/s"
        if p.eta is not None and not p.done:
            figures += f"  {human_seconds(p.eta)} left"
        download = (("Download", "bold"), " ", (figures, "$text-muted"))
    elif p.done:
        figures = "nothing to download" if p.bytes_total == 0 else ""
    else:
        figures = "no byte counts from this engine"
    fraction = p.fraction
    pct = f"{fraction * 100:3.0f}%" if fraction is not None else " ---"
    if download is None:
        download = (("        " + figures, "$text-muted"),)
    return [("overall", fraction, pct, count), ("text", download)]


def layer_facts(layer: Layer) -> Facts:
    state = layer.state.value
    style = _STATE_STYLE[layer.state]
    if layer.note:
        state = layer.note
    if layer.state is LayerState.EXTRACTING and layer.extract_total:
        figures = f"{human_bytes(layer.extracted)} / {human_bytes(layer.extract_total)}"
    elif layer.size:
        figures = f"{human_bytes(layer.downloaded)} / {human_bytes(layer.size)}"
    else:
        figures = ""
    fraction = layer.fraction
    if layer.state is LayerState.EXISTS:
        return ("text", ((f"{layer.id[:12]:<12} ", "$text-muted"), (f"{state:<15} ", style),
                         (" ", style), figures))
    return ("layer", fraction, (f"{layer.id[:12]:<12} ", "$text-muted"),
            (f"{state:<15} ", style), style, figures)


def row_at(facts: Facts, width: int) -> Row:
    """What a row shows at ``width`` (only the bars' lengths depend on it)."""
    kind = facts[0]
    if kind == "overall":
        _, fraction, pct, count = facts
        bar_width = max(10, min(40, width - 16 - len(count)))  # 'Overall ' + ' 100%  '
        return (("Overall ", "bold"), bar(fraction, bar_width), f" {pct}  {count}")
    if kind == "layer":
        _, fraction, ident, state, style, figures = facts
        bar_width = max(6, min(30, width - 12 - 16 - 24))  # id, state, figures
        return (ident, state, (f"{bar(fraction, bar_width)} ", style), figures)
    return facts[1]


class LayerBars(Widget):
    """The overall bar (bytes, rate, ETA) and one row per layer."""

    DEFAULT_CSS = """
    LayerBars {
        height: auto;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, progress: PullProgress | None = None, fps: float = 10.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.progress = progress
        self._drawn = -1
        #: The model as of the last repaint, row by row, and the rows at ``_rows_width``.
        self._facts: list[Facts] = []
        self._rows: list[Row] = []
        self._rows_width = 0
        self._height = 1
        #: Repaints at most ``fps`` times a second, on this widget's loop.
        self.throttle = Throttle(self, self._repaint, 1 / fps, name="layer-bars")
        self._strips: LRUCache[tuple[int, Row], Strip] = LRUCache(1024)
        self._styles: dict[str, Style] = {}
        self._strips_for: tuple[object, ...] = ()

    def on_mount(self) -> None:
        if self.progress is not None:
            self.throttle.flush()  # and a change before the mount, which scheduled nothing

    def on_unmount(self) -> None:
        if self.progress is not None:
            self.progress.on_next_change(None)

    def show_progress(self, progress: PullProgress) -> None:
        """Start showing ``progress`` (a new pull)."""
        if self.progress is not None and self.progress is not progress:
            self.progress.on_next_change(None)
        self.progress = progress
        self._drawn = -1
        self.throttle.flush()

    @property
    def up_to_date(self) -> bool:
        """True when the last repaint showed the model as it is now."""
        return self.progress is None or self._drawn == self.progress.version

    def flush(self) -> None:
        """Repaint now (the pull ended: the last state must not wait for the timer)."""
        self.throttle.flush()

    def _changed(self) -> None:
        """The model changed after the last repaint: one repaint, a period after that one
        (at once after a quiet spell, so a lone change shows without delay)."""
        self.throttle.request()

    def _repaint(self) -> None:
        progress = self.progress
        if progress is None:
            return
        # Armed before reading: a change from here on schedules the next repaint.
        progress.on_next_change(self._changed)
        if progress.version == self._drawn:
            return
        self._drawn = progress.version
        facts = overall_facts(progress)
        facts.append(_BLANK)
        facts.extend(layer_facts(layer) for layer in progress.layers.values())
        width = self.size.width or 60
        rows = [row_at(row, width) for row in facts]
        before, height = self._rows, len(progress.layers) + 3
        self._facts, self._rows = facts, rows
        if height != self._height or width != self._rows_width or len(rows) != len(before):
            self._height, self._rows_width = height, width
            self.refresh(layout=True)
            return
        changed = [y for y, (row, old) in enumerate(zip(rows, before)) if row != old]
        if changed:
            self.refresh(*_runs(changed, width))

    def get_content_height(self, container, viewport, width) -> int:
        return self._height if self.progress is not None else 1

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()
        self._styles.clear()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.visual_style
        if width != self._rows_width:  # resized since the last repaint: same rows, new bars
            self._rows = [row_at(row, width) for row in self._facts]
            self._rows_width = width
        if not 0 <= y < len(self._rows):
            return Strip.blank(width, base.rich_style)
        if self.text_selection is not None:  # selection spans count lines of the whole text
            return Visual.to_strips(self, self.render(), width, None, base)[y]
        cached_for = (width, self.app.theme, base)
        if cached_for != self._strips_for:
            self._strips.clear()
            self._styles.clear()
            self._strips_for = cached_for
        row = self._rows[y]
        strip = self._strips.get((y, row))
        if strip is None:
            strip = self._draw(row, y, width, base)
            self._strips[(y, row)] = strip
        return strip

    def _draw(self, row: Row, y: int, width: int, base: Style) -> Strip:
        """The row's Strip as Textual would draw its ``Content`` (same styles, same offsets
        for text selection), without laying the text out: a row is one line that fits."""
        runs: list[tuple[str, str]] = []
        for part in row:
            text, style = (part, "") if isinstance(part, str) else part
            if not style:  # plain text makes no span: it joins the plain run before it
                if not text:
                    continue
                if runs and not runs[-1][1]:
                    runs[-1] = (runs[-1][0] + text, "")
                    continue
            runs.append((text, style))
        cells = sum(cell_len(text) for text, _ in runs)
        if (cells > width or not runs
                or not all(text and text.isprintable() for text, _ in runs)):
            # Cut with an ellipsis, cleaned of control codes, or empty: Textual's own way.
            strips = Visual.to_strips(self, Content.assemble(*row), width, 1, base)
            strip = strips[0] if strips else Strip.blank(width, base.rich_style)
            return strip.apply_offsets(0, y)
        segments: list[Segment] = []
        x = 0
        for text, style in runs:
            final = self._styles.get(style)
            if final is None:  # Content.render's span style, then to_strip's sum
                span = Style.combine([base, self._get_style(style)] if style else [base])
                final = self._styles[style] = base + span
            segments.append(Segment(text, final.rich_style_with_offset(x, y)))
            x += len(text)
        return Strip(segments, cells)

    def render(self) -> Content:
        """The whole text as shown (for a text selection; rows are drawn by ``render_line``)."""
        return Content("\n").join(Content.assemble(*row) for row in self._rows)

    def _overall(self, p: PullProgress, width: int) -> Content:
        """The Overall and Download lines for ``p`` at ``width``."""
        return Content("\n").join(
            Content.assemble(*row_at(facts, width)) for facts in overall_facts(p))


def _runs(rows: list[int], width: int) -> list[Region]:
    """Regions covering ``rows`` (ascending), one per run of consecutive rows."""
    regions: list[Region] = []
    start = previous = rows[0]
    for y in rows[1:]:
        if y != previous + 1:
            regions.append(Region(0, start, width, previous - start + 1))
            start = y
        previous = y
    regions.append(Region(0, start, width, previous - start + 1))
    return regions
