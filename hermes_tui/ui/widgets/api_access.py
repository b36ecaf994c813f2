"""The API block of Completion and the dashboard: where the API is, its key, how to call it.

The key is shown masked (`ApiServer.masked`) unless the screen reveals it; nothing here
logs it. The example call names the ``API_SERVER_KEY`` variable, never the key itself.
Screens bind ``k`` with `KEY_BINDINGS` and flip `ApiAccess.revealed`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.events import Resize
from textual.reactive import reactive
from textual.widgets import Static

from hermes_tui.engine.api_server import KEY_ENV, ApiServer, read_api_server
from hermes_tui.paths import display_path

if TYPE_CHECKING:
    from hermes_tui.engine.detect import EngineInfo

#: Two bindings on one key: the screen's check_action hides the one that does not apply, so
#: the footer reads "Show key" or "Hide key" and k runs the visible one.
KEY_BINDINGS = [
    Binding("k", "show_key", "Show key", id="show-api-key"),
    Binding("k", "hide_key", "Hide key", id="hide-api-key"),
]


def engine_line(summary: str | None, url: str | None) -> str | None:
    """The engine row of Completion and the dashboard: its summary, and the address when
    it is another machine's (``ssh://``, ``tcp://``)."""
    if not summary:
        return None
    if url and not url.startswith("unix://") and "://" in url:
        return f"{summary} at {url}"
    return summary


class RevealsApiKey:
    """For a screen with an `ApiAccess` and `KEY_BINDINGS`: loading the block and the
    show/hide key actions. The screen declares the reactives ``has_key`` and ``key_shown``
    (``bindings=True``, so the footer follows) and says where the profile's ``.env`` is in
    `api_env_path`; its ``check_action`` asks `key_action` first."""

    has_key: bool
    key_shown: bool

    def api_env_path(self) -> Path | None:
        """The profile's ``.env`` (None: no profile yet)."""
        return None

    def _load_api(self) -> None:
        """The API block from the profile's .env (a few lines: read on the loop)."""
        env_path = self.api_env_path()
        if env_path is not None:
            block = self.query_one(ApiAccess)  # type: ignore[attr-defined]
            diagnosis = getattr(self.app, "diagnosis", None)  # type: ignore[attr-defined]
            block.engine = diagnosis.engine if diagnosis is not None else None
            self.has_key = block.load(env_path) is not None

    def watch_key_shown(self, shown: bool) -> None:
        self.query_one(ApiAccess).revealed = shown  # type: ignore[attr-defined]

    def action_show_key(self) -> None:
        self.key_shown = True

    def action_hide_key(self) -> None:
        self.key_shown = False

    def key_action(self, action: str) -> bool | None:
        """Whether ``action`` (show_key/hide_key) is possible now; None for other actions."""
        if action == "show_key":
            return self.has_key and not self.key_shown
        if action == "hide_key":
            return self.has_key and self.key_shown
        return None


def load_api_server(env_path: Path) -> tuple[ApiServer | None, str]:
    """The profile's API settings, or None and why they could not be read ("" if absent)."""
    try:
        return read_api_server(env_path), ""
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or type(error).__name__
        return None, f"cannot read {display_path(env_path)} ({reason})"


def _fits(text: str, width: int) -> bool:
    return width <= 0 or len(text) <= width


def key_location(where: str, width: int) -> str:
    """Where the key lives, with the path whole on its own line when one line is too narrow."""
    one_line = f"in {where} as {KEY_ENV}"
    return one_line if _fits(one_line, width) else f"as {KEY_ENV} in\n{where}"


def example_call(base_url: str, width: int) -> str:
    """A curl call of ``/models``: one line when it fits ``width``, else two for the shell."""
    header = f'-H "Authorization: Bearer ${KEY_ENV}"'
    one_line = f"curl {header} {base_url}/models"
    if _fits(one_line, width):
        return one_line
    return f"curl {base_url}/models \\\n  {header}"


class _Row(Horizontal):
    def __init__(self, label: str, value_id: str) -> None:
        super().__init__(classes="api-row")
        self._label, self._value_id = label, value_id

    def compose(self) -> ComposeResult:
        yield Static(self._label, classes="api-label")
        yield Static("", id=self._value_id, classes="api-value")


class ApiAccess(Vertical):
    """URL, masked key with the file it lives in, and an example call. Hidden until
    `show` is given settings."""

    revealed: reactive[bool] = reactive(False)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.api: ApiServer | None = None
        #: The engine the gateway runs on: a remote one changes where the API is.
        self.engine: EngineInfo | None = None
        self.display = False

    def compose(self) -> ComposeResult:
        yield _Row("API", "api-url")
        yield _Row("Key", "api-key")
        yield _Row("Call", "api-call")

    def show(self, api: ApiServer | None, problem: str = "") -> None:
        """Show ``api`` (None: hide the block, or show ``problem`` in the key row)."""
        self.api = api
        self.display = api is not None or bool(problem)
        if api is None:
            self.query_one("#api-url", Static).update("")
            self.query_one("#api-key", Static).update(Content.styled(problem, "$text-error"))
            self.query_one("#api-call", Static).update("")
            return
        self._show_key()
        self._show_url_and_call()

    def load(self, env_path: Path) -> ApiServer | None:
        """Read the profile's ``.env`` (a small file) and show what it says."""
        api, problem = load_api_server(env_path)
        self.show(api, problem)
        return api

    def watch_revealed(self) -> None:
        if self.api is not None:
            self._show_key()

    def _show_key(self) -> None:
        api = self.api
        assert api is not None
        value = self.query_one("#api-key", Static)
        where = display_path(api.env_path) if api.env_path else ".env"
        shown = api.key if self.revealed else api.masked
        hint = "k hides it" if self.revealed else "k shows it"
        value.update(Content.assemble(
            (shown, "bold"), ("  " + hint, "$text-muted"), "\n",
            (key_location(where, value.content_region.width), "$text-muted")))

    def _show_url_and_call(self) -> None:
        """The lines whose layout depends on the width (known only after a layout)."""
        if self.api is None:
            return
        from hermes_tui.engine.route import reach_hint

        url = self.query_one("#api-url", Static)
        remote = self.engine.remote if self.engine is not None else None
        note = f"  OpenAI-compatible, on {remote}" if remote else (
            "  OpenAI-compatible, this machine only")
        width = url.content_region.width
        shown = (Content.assemble(self.api.base_url, (note, "$text-muted"))
                 if _fits(self.api.base_url + note, width) else Content(self.api.base_url))
        hint = reach_hint(self.engine, self.api.port)
        if hint:
            shown = Content.assemble(shown, "\n", (hint, "$text-muted"))
        url.update(shown)
        call = self.query_one("#api-call", Static)
        call.update(example_call(self.api.base_url, call.content_region.width))

    def _relayout(self) -> None:
        """Redo the width-dependent lines after a resize. It runs after the next refresh,
        by which time the screen may be going away: Textual stops this block, then prunes
        its rows while it is still attached. A stopped block has nothing to lay out."""
        if self.api is not None and self.is_running:
            self._show_key()
            self._show_url_and_call()

    def on_resize(self, event: Resize) -> None:
        self.call_after_refresh(self._relayout)
