"""The Channels step's tick list: a box that reads ticked or not without colour.

Textual's ``SelectionList`` draws the same ``▐X▌`` for a ticked and an unticked row and
tells them apart by colour alone, which disappears with ``NO_COLOR`` and on the Linux
console. Here a ticked row reads ``[x]`` and an unticked one ``[ ]`` (plain ASCII, so every
console font has it); colour only adds to that.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widgets import OptionList, SelectionList
from textual.widgets.option_list import OptionDoesNotExist

TICKED = "[x]"
UNTICKED = "[ ]"


class ChannelList(SelectionList[str]):
    """Space ticks or unticks the highlighted row (Enter is the step's Next)."""

    def _left_gutter_width(self) -> int:
        return len(TICKED) + 1

    def render_line(self, y: int) -> Strip:
        line = OptionList.render_line(self, y)  # the prompt, without SelectionList's button
        index = self.scroll_offset.y + y
        try:
            selection = self.get_option_at_index(index)
        except OptionDoesNotExist:
            return line
        ticked = selection.value in self._selected
        component = "selection-list--button" + ("-selected" if ticked else "")
        if self.highlighted == index:
            component += "-highlighted"
        underlying = next(iter(line)).style or self.rich_style
        box_style = Style.from_color(self.get_component_rich_style(component).bgcolor,
                                     underlying.bgcolor)
        box_style = underlying + Style(color=box_style.color, bold=ticked,
                                       meta={"option": index})
        return Strip([Segment(TICKED if ticked else UNTICKED, box_style),
                      Segment(" ", underlying), *line])
