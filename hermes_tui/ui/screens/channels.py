"""Step 4 — Channels. Reads ``state.channels`` and the profile ``.env``; writes both.

Only channel ids reach the state file. Credentials go to the profile's ``.env`` (0600),
keeping every other line of that file. What a choice writes and saving it are
``steps.channels`` (shared with ``setup``): this screen gathers the ticks and the forms.
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
from hermes_tui.problem import Problem
from hermes_tui.state import StepId
from hermes_tui.steps.channels import (
    ChannelChoice,
    ChannelsError,
    choose_channels,
    configured_channels,
    save_channels,
)
from hermes_tui.ui.help_text import HELP
from hermes_tui.ui.screens.base import StepScreen
from hermes_tui.ui.stylesheets import stylesheet
from hermes_tui.ui.widgets.channel_form import ChannelForm
from hermes_tui.ui.widgets.channel_list import ChannelList
from hermes_tui.ui.widgets.problem_view import ProblemView


class ChannelsScreen(StepScreen):

    CSS_PATH = [stylesheet("channels.tcss")]
    STEP = StepId.CHANNELS
    HELP = HELP[StepId.CHANNELS]
    AUTO_FOCUS = "#channel-list"

    BINDINGS = [Binding("ctrl+r", "reveal", "Show secrets", id="reveal")]

    def __init__(self) -> None:
        super().__init__()
        self._revealed = False
        self._env: dict[str, str] = {}
        #: Why the step cannot be used as it opens (no profile, folder gone, .env unreadable).
        self._opening: Problem | None = None

    @property
    def _env_path(self):
        name = self.wizard.state.profile
        return self.wizard.settings.paths.profile_dir(name) / ".env" if name else None

    def _configured(self) -> set[str]:
        """Ticked: chosen before, or already set up by hand in the profile's .env."""
        return set(self.wizard.state.channels) | set(configured_channels(self._env))

    def compose_body(self) -> ComposeResult:
        yield ProblemView(id="channels-problem")
        if self._env_path is None:
            self.can_advance = False
            self._opening = Problem("Create a profile first.", "Press Esc to go back to step 3.")
            return
        if not self._env_path.parent.is_dir():
            self.can_advance = False
            self._opening = Problem(
                f"The profile folder {display_path(self._env_path.parent)}/ does not exist "
                "(moved or deleted?).", "Press Esc to go back to step 3 and create it again.",
                subject=display_path(self._env_path.parent))
            return
        try:
            self._env = read_env(self._env_path)
        except (OSError, UnicodeDecodeError) as exc:
            what = (describe_os_error(exc, self._env_path, action="read")
                    if isinstance(exc, OSError)
                    else f"Cannot read {display_path(self._env_path)}: it is not UTF-8 text.")
            self._opening = Problem(what, "Fix or move the file aside, then open this step again.",
                                    subject=display_path(self._env_path))
        chosen = self._configured()
        yield Static(
            "Tick the platforms this profile will connect to (Space); Tab fills in their "
            "fields, Esc leaves a field. None is fine: add channels later.",
            classes="prose",
        )
        yield ChannelList(
            *((c.name, c.id, c.id in chosen) for c in catalog.CATALOG), id="channel-list"
        )
        yield Static(self._selected_text(chosen), id="channels-selected", classes="note")
        with Vertical(id="channel-forms"):
            for channel in catalog.CATALOG:
                form = ChannelForm(channel, self._env)
                form.display = channel.id in chosen
                yield form

    def home(self):
        """Esc from a field goes back to the list of channels."""
        lists = self.query(ChannelList)
        return lists.first() if lists else super().home()

    def on_mount(self) -> None:
        self.query_one("#channels-problem", ProblemView).show(self._opening)

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
        ticked = set(self.query_one("#channel-list", SelectionList).selected)
        forms = {form.channel.id: form for form in self.query(ChannelForm)}
        choice = choose_channels(
            self._env,
            {c: forms[c].values() for c in forms if c in ticked},
            given_up=self._configured() - ticked,
        )
        for channel_id, form in forms.items():
            form.show_missing(choice.missing.get(channel_id, []))
        if not choice.complete:
            self.query_one("#channels-problem", ProblemView).show(Problem(
                "Some required fields are empty.",
                "Fill in the required fields, or untick the channel."))
            return
        self._save(choice)

    @work(exclusive=True, group="channels", exit_on_error=False)
    async def _save(self, choice: ChannelChoice) -> None:
        try:  # the step itself: steps.channels (shared with setup)
            await save_channels(self.wizard.flow, self._env_path, choice)
        except ChannelsError as exc:
            self.query_one("#channels-problem", ProblemView).show(exc.problem)
            return
        self.wizard.finish_step(self.STEP)
