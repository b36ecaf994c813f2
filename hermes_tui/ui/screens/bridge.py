"""Step 5 — LLM bridge. Writes ``router_url``, ``default_model``, ``synced_models``.

The step itself is ``steps.bridge.BridgeStep`` (shared with ``setup``): it lists the models
an OpenAI-compatible router serves and syncs them into the profile's ``config.yaml``; a
badge turns Synced only after the file was written and read back. The optional API key
goes to the profile's ``.env``. This screen gathers the inputs and draws the outcome.
"""

from __future__ import annotations

import os
from dataclasses import replace

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import Input, Label, Static

from hermes_tui.bridge.router import (
    LOCAL_PORTS,
    Model,
    RouterError,
    initial_router_url,
    normalise_base_url,
    uses_host_network,
)
from hermes_tui.bridge.sync import Badge, Synced, badges, load_router_key
from hermes_tui.problem import Problem
from hermes_tui.state import StepId, StepStatus
from hermes_tui.steps.bridge import BridgeStep, Listing, SyncError, choose_default
from hermes_tui.ui.help_text import HELP
from hermes_tui.ui.screens.base import StepScreen
from hermes_tui.ui.stylesheets import stylesheet
from hermes_tui.ui.widgets.model_list import ModelList
from hermes_tui.ui.widgets.problem_view import ProblemView
from hermes_tui.ui.widgets.status_line import StatusLine

NO_MODELS = (
    "No models loaded. Load at least one model in your router (for example `ollama pull "
    "llama3.2`, or the Models page of Backend.AI GO), then press r. The bridge syncs "
    "whatever is loaded when the step is displayed."
)


def synced_words(done: int, served: int) -> str:
    """"1 model synced", "All 3 models synced", "2 of 3 models synced"."""
    if served == 1:
        return "The model synced" if done == 1 else "The model is not synced yet"
    if done == served:
        return f"All {served} models synced"
    return f"{done} of {served} models synced"


class BridgeScreen(StepScreen):

    CSS_PATH = [stylesheet("bridge.tcss")]
    RETRY_KEY = "r"
    STEP = StepId.BRIDGE
    AUTO_FOCUS = "#step-body"
    HELP = HELP[StepId.BRIDGE]
    BINDINGS = [
        Binding("r", "refresh", "Refresh", id="refresh-models"),
        # Space picks (as it ticks on Channels); Enter stays Next.
        Binding("space", "make_default", "Default", id="make-default"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._served: list[Model] = []
        self._owners: dict[str, str | None] = {}
        self._listing: Listing | None = None
        self._default: str | None = None
        #: (URL, key) of the last successful listing.
        self._listed: tuple[str, str] | None = None

    @property
    def _profile_dir(self):
        return self.wizard.settings.paths.profile_dir(self.wizard.state.profile or "")

    def compose_body(self) -> ComposeResult:
        state = self.wizard.state
        url = initial_router_url(self.wizard.settings.router_url, state.router_url, os.environ)
        yield Label("Router base URL (OpenAI-compatible)", classes="field-label")
        yield Input(value=url or "", placeholder="http://127.0.0.1:11434/v1", id="router-url",
                    select_on_focus=False)
        yield Label("API key (optional; stored in the profile's .env)", classes="field-label")
        yield Input(value=load_router_key(self._profile_dir / ".env") or "", password=True,
                    placeholder="(empty: the router needs no key)", id="router-key",
                    select_on_focus=False)
        yield Static("", id="router-urls", classes="note")
        yield StatusLine(id="bridge-status", classes="summary")
        yield ModelList(id="models")
        yield ProblemView(id="bridge-problem")

    def on_mount(self) -> None:
        self.can_advance = self.wizard.state.status(self.STEP) is StepStatus.DONE
        self.query_one("#models", ModelList).display = False
        self.call_after_refresh(self._start)

    def home(self):
        """Esc from a field goes to the models when they are listed."""
        models = self.query_one("#models", ModelList)
        return models if models.display else super().home()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "make_default":
            return isinstance(self.focused, ModelList)
        return super().check_action(action, parameters)

    def action_make_default(self) -> None:
        self.query_one("#models", ModelList).action_select()

    def enter_pressed(self) -> bool:
        """In a field Enter lists again if the URL or key changed; otherwise it is Next."""
        if isinstance(self.focused, Input) and self._inputs() != self._listed:
            self._refresh()
            return True
        return False

    @on(Input.Submitted)
    def _submitted(self) -> None:
        # Reached only while Next is unavailable (the Enter binding is then disabled).
        self._refresh()

    def _inputs(self) -> tuple[str, str]:
        return (self.query_one("#router-url", Input).value.strip(),
                self.query_one("#router-key", Input).value.strip())

    def action_refresh(self) -> None:
        self._refresh()

    @on(ModelList.Selected, "#models")
    def _pick_default(self, event: ModelList.Selected) -> None:
        if event.row.mark is not Badge.GONE:
            self._default = event.row.id
            self._sync()

    # -- work ------------------------------------------------------------------------

    @work(exclusive=True, group="bridge", exit_on_error=False)
    async def _start(self) -> None:
        url_box = self.query_one("#router-url", Input)
        if not url_box.value.strip():
            from hermes_tui.bridge.router import discover

            self._status("Looking for a router on this machine (ports "
                         f"{', '.join(map(str, LOCAL_PORTS))})…")
            found = await discover()
            if not found:
                self._status("")
                self._error(
                    "No router answered on the usual local ports.",
                    "Start your router (Ollama, vLLM, llama.cpp, LM Studio, LiteLLM, "
                    "Backend.AI GO) and press r, or press Tab, type its base URL and "
                    "press Enter.")
                return
            url_box.value = found[0].base_url
            if len(found) > 1:
                others = ", ".join(f.base_url for f in found[1:])
                self.notify(f"Also answering: {others}", timeout=8)
        await self._list_and_sync()

    @work(exclusive=True, group="bridge", exit_on_error=False)
    async def _refresh(self) -> None:
        await self._list_and_sync()

    @work(exclusive=True, group="bridge", exit_on_error=False)
    async def _sync(self) -> None:
        await self._write()

    def _step(self) -> BridgeStep:
        diagnosis = self.wizard.diagnosis
        return BridgeStep(self.wizard.flow, self._profile_dir,
                          uses_host_network(diagnosis.engine if diagnosis else None))

    async def _list_and_sync(self) -> None:
        self._error("", "")
        try:
            url = normalise_base_url(self.query_one("#router-url", Input).value)
        except RouterError as error:
            self.query_one("#bridge-problem", ProblemView).show(error.problem)
            return
        self.query_one("#router-url", Input).value = url
        self._show_urls(url)
        self._status(f"Listing the models at {url}/models…")
        key = self.query_one("#router-key", Input).value.strip() or None
        try:
            self._listing = await self._step().list(url, key)  # records a failure
        except RouterError as error:
            # What was listed before is not known to be served or synced any more:
            # no row keeps a Synced badge next to this failure.
            self._status("")
            self._listing, self._served, self._listed = None, [], None
            self._show_rows(None)
            self.query_one("#bridge-problem", ProblemView).show(error.problem)
            self.can_advance = False
            return
        self._served = self._listing.models
        self._owners = {m.id: m.owned_by for m in self._served}
        if self._served:
            self._default = choose_default(self._listing.ids, self._default,
                                           self.wizard.state.default_model)
        self._listed = self._inputs()
        if not self._served:
            self._status("")
            self._show_rows(None)  # clears the list
            self._error(NO_MODELS, "")
            self.can_advance = False
            return
        await self._write()

    async def _write(self) -> None:
        if self._listing is None:
            return
        self._show_rows(Synced(), pending=True)  # every row Pending until read back
        self._status("Syncing the models into the profile's config.yaml…")
        key = self.query_one("#router-key", Input).value.strip() or None
        try:
            outcome = await self._step().sync(self._listing, key, self._default)  # records
        except SyncError as error:
            self._status("")
            fix = error.problem.fix  # an OS error's own fix (free space, permissions)
            self.query_one("#bridge-problem", ProblemView).show(replace(
                error.problem,
                fix=f"{fix} Press r to retry." if fix else "Fix or move the file aside, then press r."))
            return
        self._default = outcome.default
        self._show_rows(outcome.synced, marks=outcome.marks)
        self._status(Content.assemble(
            (synced_words(len(outcome.done), len(outcome.served)), "$text-success"),
            f"; default {outcome.synced.default}. Space on a model makes it the default."))
        self.can_advance = outcome.complete

    # -- drawing ---------------------------------------------------------------------

    def _show_urls(self, url: str) -> None:
        inside = self._step().container_url(url)
        how = "the same address: host networking" if inside == url else "from its container"
        self.query_one("#router-urls", Static).update(
            Content.assemble(("Wizard reached  ", "bold"), url, "\n",
                             ("Hermes calls    ", "bold"), inside, (f"  ({how})", "$text-muted")))

    def _show_rows(self, synced: Synced | None, pending: bool = False,
                   marks: dict[str, Badge] | None = None) -> dict[str, Badge]:
        """The served models with their badges (``marks``, if worked out already)."""
        listing = self.query_one("#models", ModelList)
        if synced is None:
            listing.clear()
            listing.display = False
            return {}
        if marks is None:
            marks = badges(self._listing.ids if self._listing else [], synced)
        listing.show(marks, self._owners, self._default)
        listing.display = True
        if not self.in_field:  # the models are what this step works with: arrows move there
            listing.focus()
        listing.border_title = "Models (★ default)"
        return marks

    def _status(self, text) -> None:
        self.query_one("#bridge-status", StatusLine).update(text)

    def _error(self, message: str, fix: str = "") -> None:
        self.query_one("#bridge-problem", ProblemView).show(
            Problem(message, fix) if message else None)

    def advance(self) -> None:
        self.wizard.finish_step(self.STEP)
