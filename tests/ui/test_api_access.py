"""The API block on Completion and the dashboard: masked key, k reveals and hides it."""

from __future__ import annotations

from textual.widgets import Static

from hermes_tui.state import StepId, StepStatus
from hermes_tui.ui.widgets.api_access import ApiAccess, example_call
from tests.support.states import FAKE_API_KEY, FAKE_API_MASKED, at, with_api_key


def key_text(app) -> str:
    return str(app.screen.query_one("#api-key", Static).render())


def footer_keys(app) -> dict[str, str]:
    return {key: active.binding.description for key, active in app.screen.active_bindings.items()
            if active.binding.show}


async def test_k_reveals_and_hides_the_key_on_the_dashboard(make_app, paths):
    env_path = with_api_key(paths, "my-bot", port=8650)
    state = at(StepId.DONE, profile="my-bot")
    state.steps[StepId.DONE].status = StepStatus.DONE
    app = make_app(state)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        block = app.screen.query_one(ApiAccess)
        assert block.display and block.api is not None and block.api.port == 8650
        assert FAKE_API_MASKED in key_text(app) and FAKE_API_KEY not in key_text(app)
        assert FAKE_API_KEY not in app.export_screenshot()
        assert "~/.local/share/hermes/profiles/my-bot/.env as API_SERVER_KEY" in key_text(app)
        assert str(env_path).endswith("profiles/my-bot/.env")
        assert footer_keys(app)["k"] == "Show key"

        await pilot.press("k")
        assert FAKE_API_KEY in key_text(app)
        assert footer_keys(app)["k"] == "Hide key"

        await pilot.press("k")
        assert FAKE_API_KEY not in key_text(app) and FAKE_API_MASKED in key_text(app)
        assert footer_keys(app)["k"] == "Show key"


async def test_k_reveals_the_key_on_completion_and_the_call_names_the_variable(make_app, paths):
    with_api_key(paths, "my-bot", port=8650)
    app = make_app(at(StepId.DONE, profile="my-bot"))
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        call = str(app.screen.query_one("#api-call", Static).render())
        assert "$API_SERVER_KEY" in call and FAKE_API_KEY not in call
        assert "http://127.0.0.1:8650/v1/models" in call
        assert FAKE_API_KEY not in key_text(app)
        await pilot.press("k")
        assert FAKE_API_KEY in key_text(app)
        await pilot.press("k")
        assert FAKE_API_KEY not in key_text(app)


async def test_no_api_block_and_no_k_without_a_key(make_app, paths):
    from hermes_tui.profile import create_profile

    create_profile(paths, "my-bot")
    app = make_app(at(StepId.DONE, profile="my-bot"))
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not app.screen.query_one(ApiAccess).display
        assert "k" not in footer_keys(app)
        await pilot.press("k")
        assert not app.screen.query_one(ApiAccess).display


def test_example_call_is_one_line_when_it_fits_and_a_shell_continuation_when_not():
    url = "http://127.0.0.1:8650/v1"
    wide = example_call(url, 120)
    assert wide == f'curl -H "Authorization: Bearer $API_SERVER_KEY" {url}/models'
    narrow = example_call(url, 44)
    assert narrow.splitlines() == [f"curl {url}/models \\",
                                   '  -H "Authorization: Bearer $API_SERVER_KEY"']
    assert all(len(line) <= 44 for line in narrow.splitlines())


class ProbingAccess(ApiAccess):
    """The real block, running a relayout at the worst moment Textual offers: its Unmount,
    when its rows are already pruned but it is still attached. That is where a relayout
    scheduled by a resize lands when ``d`` replaces Completion with the dashboard."""

    seen: tuple[bool, int] | None = None

    def on_unmount(self) -> None:
        type(self).seen = (self.is_attached, len(self.query(".api-value")))
        self._relayout()


async def test_a_relayout_while_the_block_is_pruned_does_nothing(paths):
    """CI once stopped the app here with NoMatches '#api-key'."""
    from textual.app import App

    from hermes_tui.engine.api_server import read_api_server

    api = read_api_server(with_api_key(paths, "my-bot", port=8650))

    class BlockApp(App):
        def compose(self):
            yield ProbingAccess()

        def on_mount(self) -> None:
            self.query_one(ProbingAccess).show(api)

    app = BlockApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        block = app.query_one(ProbingAccess)
        assert block.display and "8650" in str(block.query_one("#api-url", Static).render())
        await block.remove()
        await pilot.pause()
    assert ProbingAccess.seen == (True, 0)  # attached, its rows gone: the moment it failed
    assert app._exception is None
