"""The LLM bridge's list of models: one row per model, drawn only while on screen.

A router may serve tens of thousands of models. ``OptionList`` measures every option on
each layout (its height, its width), which at 50,000 rows stalls the event loop for
seconds; ``ModelList`` is a Line-API ``ScrollView`` that keeps the ids and their badges as
given, knows each row is one line high, and makes a row (and its styled text) only when it
is painted (a screenful is cached): showing 50,000 models costs what showing 50 does. It looks and moves like an ``OptionList`` (same cursor
styles, keys and click), so the screen reads the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from textual import events
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.visual import Visual

from hermes_tui.bridge.sync import Badge
from hermes_tui.ui.widgets.badge import badge


@dataclass(frozen=True, slots=True)
class ModelRow:
    """One model as listed: its id, who owns it, its badge, and whether it is the default."""

    id: str
    owner: str | None
    mark: Badge
    default: bool = False

    @property
    def disabled(self) -> bool:
        """A model the router no longer serves cannot be made the default."""
        return self.mark is Badge.GONE

    @property
    def prompt(self) -> Content:
        """The row in full: ``★ id  owner  [Badge]``."""
        return self.line(None)

    def line(self, width: int | None) -> Content:
        """The row in at most ``width`` cells: the owner goes first, then the id is cut
        short (…), so the badge always shows."""
        star = "★ " if self.default else "  "
        ident = self.id
        owner = f"  {self.owner}" if self.owner else ""
        mark = badge(self.mark)
        if width is not None:
            room = width - len(star) - 2 - mark.cell_length
            if cell_len(ident) + cell_len(owner) > room:
                owner = ""
            if cell_len(ident) > room:
                ident = set_cell_size(ident, max(room - 1, 1)) + "…"
        return Content.assemble(star, (ident, "bold" if self.default else ""),
                                (owner, "$text-muted"), "  ", mark)


class ModelList(ScrollView, can_focus=True):
    """Rows of models; Enter (where the screen leaves it to the list; the LLM bridge uses
    Space) or a click on an enabled row posts ``ModelList.Selected``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("pagedown", "page(1)", "Page Down", show=False),
        Binding("pageup", "page(-1)", "Page Up", show=False),
        Binding("home", "edge(-1)", "First", show=False),
        Binding("end", "edge(1)", "Last", show=False),
        Binding("enter", "select", "Select", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "model-list--row", "model-list--row-highlighted", "model-list--row-disabled",
    }
    # The cursor and colours of Textual's OptionList, so both lists look alike.
    DEFAULT_CSS = """
    ModelList {
        height: auto;
        max-height: 100%;
        color: $foreground;
        overflow-x: hidden;
        border: tall $border-blurred;
        padding: 0 1;
        background: $surface;
        & > .model-list--row-highlighted {
            color: $foreground;
            background: $block-cursor-blurred-background;
        }
        &:focus {
            border: tall $border;
            background-tint: $foreground 5%;
            & > .model-list--row-highlighted {
                color: $block-cursor-foreground;
                background: $block-cursor-background;
                text-style: $block-cursor-text-style;
            }
        }
        & > .model-list--row-disabled {
            color: $text-disabled;
        }
    }
    """

    highlighted: reactive[int | None] = reactive(None)

    @dataclass
    class Selected(Message):
        """Enter or a click on an enabled row."""

        model_list: ModelList
        row: ModelRow

        @property
        def control(self) -> ModelList:
            return self.model_list

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._ids: list[str] = []
        self._marks: Mapping[str, Badge] = {}
        self._owners: Mapping[str, str | None] = {}
        self._default: str | None = None
        self._cache: dict[tuple[int, str], Strip] = {}
        self._cache_key: tuple[int, int, bool] | None = None

    # -- content ------------------------------------------------------------------

    def row(self, index: int) -> ModelRow:
        model = self._ids[index]
        return ModelRow(model, self._owners.get(model), self._marks[model],
                        model == self._default)

    @property
    def rows(self) -> list[ModelRow]:
        """Every row, in order (made on demand: for tests and small lists)."""
        return [self.row(i) for i in range(len(self._ids))]

    @property
    def row_count(self) -> int:
        return len(self._ids)

    def _disabled(self, index: int) -> bool:
        return self._marks[self._ids[index]] is Badge.GONE

    def show(self, marks: Mapping[str, Badge], owners: Mapping[str, str | None] | None = None,
             default: str | None = None) -> None:
        """One row per model in ``marks`` (in its order) with that badge, its owner from
        ``owners`` and a star on ``default``. The highlight stays where it was (a default
        picked far down the list keeps its place), or, while the list has focus, starts on the default."""
        self._ids = list(marks)
        self._marks = marks
        self._owners = owners or {}
        self._default = default
        self._cache.clear()
        self.virtual_size = Size(self.size.width, len(self._ids))
        keep = self.highlighted
        if keep is not None and keep >= len(self._ids):
            self.highlighted = len(self._ids) - 1 if self._ids else None
        elif keep is None and self.has_focus:
            self._highlight_start()
        else:
            self._scroll_to_highlight()
        self.refresh(layout=True)

    def clear(self) -> None:
        self.show({})

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._ids)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self._ids))
        self._cache.clear()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    # -- moving -------------------------------------------------------------------

    def validate_highlighted(self, value: int | None) -> int | None:
        if value is None or not self._ids:
            return None
        return min(max(value, 0), len(self._ids) - 1)

    def watch_highlighted(self) -> None:
        self._scroll_to_highlight()
        self.refresh()

    def _scroll_to_highlight(self) -> None:
        if self.highlighted is None or not self.is_mounted:
            return
        self.scroll_to_region(Region(0, self.highlighted, 1, 1), animate=False, force=True,
                              immediate=True)

    def _enabled_from(self, start: int, step: int) -> int | None:
        """The first enabled row from ``start`` on, going by ``step`` (-1 or 1)."""
        index = start
        while 0 <= index < len(self._ids):
            if not self._disabled(index):
                return index
            index += step
        return None

    def on_focus(self) -> None:
        """Show the cursor as soon as the list has focus: on the default model (else the
        first row), so the first Down moves to the row below it."""
        self._highlight_start()

    def _highlight_start(self) -> None:
        if self.highlighted is None and self._ids:
            start = self._ids.index(self._default) if self._default in self._ids else 0
            self.highlighted = (self._enabled_from(start, 1)
                                if self._enabled_from(start, 1) is not None
                                else self._enabled_from(start, -1))

    def action_cursor(self, step: int) -> None:
        if self.highlighted is None:
            self.action_edge(-1)
            return
        found = self._enabled_from(self.highlighted + step, step)
        if found is not None:
            self.highlighted = found

    def action_page(self, direction: int) -> None:
        if self.highlighted is None:
            self.action_edge(direction)
            return
        target = self.highlighted + direction * max(1, self.scrollable_content_region.height)
        target = min(max(target, 0), len(self._ids) - 1)
        found = self._enabled_from(target, -direction) or self._enabled_from(target, direction)
        if found is not None:
            self.highlighted = found

    def action_edge(self, direction: int) -> None:
        if not self._ids:
            return
        start = 0 if direction < 0 else len(self._ids) - 1
        found = self._enabled_from(start, -direction)
        if found is not None:
            self.highlighted = found

    def action_select(self) -> None:
        index = self.highlighted
        if index is not None and not self._disabled(index):
            self.post_message(self.Selected(self, self.row(index)))

    async def _on_click(self, event: events.Click) -> None:
        index = event.style.meta.get("row")
        if isinstance(index, int) and 0 <= index < len(self._ids) and not self._disabled(index):
            self.highlighted = index
            self.action_select()

    # -- drawing ------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        index = int(self.scroll_offset.y) + y
        width = self.scrollable_content_region.width
        key = (width, hash(self.app.theme), self.has_focus)
        if key != self._cache_key:
            self._cache.clear()
            self._cache_key = key
        if index >= len(self._ids):
            return Strip.blank(width, self.get_visual_style("model-list--row").rich_style)
        row = self.row(index)
        state = ("model-list--row-disabled" if row.disabled
                 else "model-list--row-highlighted" if index == self.highlighted else "")
        strip = self._cache.get((index, state))
        if strip is None:
            style = (self.get_visual_style("model-list--row", state) if state
                     else self.get_visual_style("model-list--row"))
            lines = Visual.to_strips(self, row.line(width), width, 1, style)
            strip = lines[0] if lines else Strip.blank(width)
            strip = strip.crop_extend(0, width, style.rich_style).apply_meta({"row": index})
            if len(self._cache) > 512:
                self._cache.clear()
            self._cache[(index, state)] = strip
        return strip
