"""Label/value summaries (Completion, dashboard): aligned labels, multi-line values."""

from __future__ import annotations

import textwrap

from textual.widgets import Static


def label_table(rows: list[tuple[str, str]], width: int | None = None) -> str:
    """Labels in a column, values beside them. With ``width`` (the cells available), a
    value too long for its line wraps under itself, never back under the labels."""
    label_width = max(len(label) for label, _ in rows)
    room = None if width is None else max(width - label_width - 2, 12)
    lines = []
    for label, value in rows:
        parts: list[str] = []
        for piece in value.split("\n"):
            if room is None or len(piece) <= room:
                parts.append(piece)
            else:  # break at spaces, else inside a long word (a path, an image digest)
                parts.extend(textwrap.wrap(piece, room, break_on_hyphens=False) or [""])
        first, *more = parts
        lines.append(f"{label.ljust(label_width)}  {first}")
        lines.extend(f"{'':{label_width}}  {extra}" for extra in more)
    return "\n".join(lines)


class LabelTable(Static):
    """A `label_table` that re-wraps its values to the width it is given."""

    def __init__(self, rows: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(label_table(rows), **kwargs)
        self._rows = rows

    def show(self, rows: list[tuple[str, str]]) -> None:
        self._rows = rows
        self._wrap()

    def on_resize(self) -> None:
        self._wrap()

    def _wrap(self) -> None:
        width = self.content_region.width or None
        self.update(label_table(self._rows, width))
