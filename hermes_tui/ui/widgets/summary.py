"""Label/value summaries (Completion, dashboard): aligned labels, multi-line values."""

from __future__ import annotations


def label_table(rows: list[tuple[str, str]]) -> str:
    width = max(len(label) for label, _ in rows)
    lines = []
    for label, value in rows:
        first, *more = value.split("\n")
        lines.append(f"{label.ljust(width)}  {first}")
        lines.extend(f"{'':{width}}  {extra}" for extra in more)
    return "\n".join(lines)
