"""Step 4 — Channels. Reads ``state.channels`` and the profile ``.env``; writes both.

Only channel ids reach the state file. Credentials go to the profile's ``.env`` (0600)
through ``envfile.update_env``, which keeps every other line of that file.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import SelectionList, Static

from hermes_tui import channels as catalog
from hermes_tui.envfile import read_env
from hermes_tui.fsutil import describe_os_error
from hermes_tui.paths import display_path
from hermes_tui.state import StepId
from hermes_tui.steps.channels import ChannelsError, configured_channels, save_channels
from hermes_tui.ui.help_text import HELP
from hermes_tui.ui.screens.base import StepScreen
from hermes_tui.ui.widgets.channel_form import ChannelForm
from hermes_tui.ui.widgets.status_line import StatusLine


class ChannelsScreen(StepScreen):
    STEP = StepId.CHANNELS
    HELP = HELP[StepId.CHANNELS]
    AUTO_FOCUS = "#channel-list"

    BINDINGS = [Binding("ctrl+r", "reveal", "Show secrets", id="reveal")]

    def __init__(self) -> None:
        super().__init__()
        self._revealed = False
        self._env: dict[str, str] = {}

    @property
    def _env_path(self):
        name = self.wizard.state.profile
        return self.wizard.settings.paths.profile_dir(name) / ".env" if name else None

    def _configured(self) -> set[str]:
        """Ticked: chosen before, or already set up by hand in the profile's .env."""
        return set(self.wizard.state.channels) | set(configured_channels(self._env))

    def compose_body(self) -> ComposeResult:
        if self._env_path is None:
            self.can_advance = False
            yield Static("Create a profile first: press Esc to go back to step 3.", classes="error-box")
            return
        if not self._env_path.parent.is_dir():
            self.can_advance = False
            yield Static(
                f"The profile folder {display_path(self._env_path.parent)}/ does not exist "
                "(moved or deleted?). Press Esc to go back to step 3 and create it again.",
                classes="error-box",
            )
            return
        try:
            self._env = read_env(self._env_path)
        except (OSError, UnicodeDecodeError) as exc:
            yield Static(describe_os_error(exc, self._env_path, action="read") if isinstance(exc, OSError)
                         else f"Cannot read {self._env_path}: it is not UTF-8 text.", classes="error-box")
        chosen = self._configured()
        yield Static(
            "Tick the platforms this profile will connect to (Space). None is fine: "
            "add channels later.",
            classes="prose",
        )
        yield SelectionList[str](
            *((c.name, c.id, c.id in chosen) for c in catalog.CATALOG), id="channel-list"
        )
        yield Static(self._selected_text(chosen), id="channels-selected", classes="note")
        with Vertical(id="channel-forms"):
            for channel in catalog.CATALOG:
                form = ChannelForm(channel, self._env)
                form.display = channel.id in chosen
                yield form
        yield StatusLine(id="channels-error", classes="error-box")

    @on(SelectionList.SelectedChanged, "#channel-list")
    def _ticked(self, event: SelectionList.SelectedChanged) -> None:
        selected = set(event.selection_list.selected)
        for form in self.query(ChannelForm):
            form.display = form.channel.id in selected
        self.query_one("#channels-selected", Static).update(self._selected_text(selected))

    @staticmethod
    def _selected_text(selected: set[str]) -> str:
        """The choice in words, so it reads without colour (NO_COLOR, plain consoles)."""
        names = [c.name for c in catalog.CATALOG if c.id in selected]
        if not names:
            return "Selected: none (fine: add channels later)."
        return "Selected: " + ", ".join(names) + "."

    def action_reveal(self) -> None:
        self._revealed = not self._revealed
        for form in self.query(ChannelForm):
            form.reveal(self._revealed)

    def advance(self) -> None:
        selected = list(self.query_one("#channel-list", SelectionList).selected)
        updates: dict[str, str | None] = {}
        blocked = False
        for form in self.query(ChannelForm):
            channel = form.channel
            if channel.id in selected:
                values = form.values()
                missing = channel.missing(values)
                form.show_missing(missing)
                if missing and not blocked:
                    blocked = True
                updates.update(channel.env_updates(values))
            elif channel.id in self._configured():
                # Unticked: Hermes enables a platform whenever its keys are present.
                updates.update({key: None for key in channel.keys})
        if blocked:
            self.query_one("#channels-error", Static).update(
                "Fill in the required fields, or untick the channel."
            )
            return
        self._save(selected, updates)

    @work(exclusive=True, group="channels", exit_on_error=False)
    async def _save(self, selected: list[str], updates: dict[str, str | None]) -> None:
        try:  # the step itself: steps.channels (shared with setup)
            await save_channels(self.wizard.flow, self._env_path, selected, updates)
        except ChannelsError as exc:
            self.query_one("#channels-error", Static).update(exc.problem.what)
            return
        self.wizard.finish_step(self.STEP)
