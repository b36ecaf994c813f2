"""The credential fields of one messaging platform, shown when it is ticked."""

from __future__ import annotations

from collections.abc import Mapping

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, Static

from hermes_tui.channels import Channel, ChannelField
from hermes_tui.ui.widgets.status_line import StatusLine


class ChannelForm(Vertical):
    """Inputs for a channel's keys plus its optional allow-list; secrets start masked."""

    def __init__(self, channel: Channel, values: Mapping[str, str], **kwargs) -> None:
        super().__init__(id=f"form-{channel.id}", classes="channel-form", **kwargs)
        self.channel = channel
        self._initial = dict(values)
        self.border_title = channel.name

    def compose(self) -> ComposeResult:
        if self.channel.note:
            yield Static(self.channel.note, classes="note")
        for field in self.channel.asked:
            suffix = "" if field.required else " (optional)"
            yield Label(field.label + suffix, classes="field-label")
            yield Input(
                value=self._initial.get(field.key, ""),
                placeholder=field.placeholder or field.key,
                password=field.secret,
                id=f"field-{field.key}",
                classes="-secret" if field.secret else "",
                select_on_focus=False,
            )
        yield Label("Allowed users (optional)", classes="field-label")
        yield Input(
            value=self._initial.get(self.channel.allow_list_key, ""),
            placeholder=self.channel.allow_list_hint,
            id=f"field-{self.channel.allow_list_key}",
            select_on_focus=False,
        )
        yield StatusLine(classes="form-error")

    def values(self) -> dict[str, str]:
        return {
            key: self.query_one(f"#field-{key}", Input).value
            for key in (*(f.key for f in self.channel.asked), self.channel.allow_list_key)
        }

    def show_missing(self, missing: list[ChannelField]) -> None:
        error = self.query_one(".form-error", Static)
        if missing:
            names = ", ".join(f.label for f in missing)
            error.update(f"{self.channel.name} needs: {names}.")
            self.add_class("-error")
            self.query_one(f"#field-{missing[0].key}", Input).focus()
        else:
            error.update("")
            self.remove_class("-error")

    def reveal(self, shown: bool) -> None:
        for box in self.query("Input.-secret").results(Input):
            box.password = not shown
