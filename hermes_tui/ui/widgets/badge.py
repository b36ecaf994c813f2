"""Badges that say their state in words as well as colour (NO_COLOR, plain consoles)."""

from __future__ import annotations

from textual.content import Content

from hermes_tui.bridge.sync import Badge

_STYLE = {
    Badge.SYNCED: "bold $text-success",
    Badge.PENDING: "bold $text-warning",
    Badge.GONE: "bold $text-error",
}


def badge(kind: Badge) -> Content:
    return Content.styled(f"[{kind.value}]", _STYLE[kind])
