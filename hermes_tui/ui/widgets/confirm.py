"""A yes/no question over the current screen, answered with a key."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from hermes_tui.ui.stylesheets import stylesheet


class ConfirmModal(ModalScreen[bool]):
    """Dismisses with True for ``y`` and False for ``n`` or Escape."""

    CSS_PATH = [stylesheet("modals.tcss")]

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm-yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm-no"),
    ]

    def __init__(self, title: str, question: str, yes: str, no: str) -> None:
        super().__init__()
        self._title, self._question, self._yes, self._no = title, question, yes, no

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box") as box:
            box.border_title = self._title
            yield Static(self._question, id="confirm-question")
            yield Static(f"y  {self._yes}\nn  {self._no}", id="confirm-choices")
        yield Footer()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
