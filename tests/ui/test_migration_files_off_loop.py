"""Step 6 with big files: what the plan would write (a config.yaml composed with ruamel takes
seconds at 100,000 lines) is worked out in a thread, never on the event loop, and Apply
waits for it instead of freezing the screen."""

from __future__ import annotations

import threading

import pytest
from textual.widgets import OptionList

from hermes_tui.migration.plan import Plan
from hermes_tui.ui.widgets.confirm import ConfirmModal
from tests.ui.test_migration_screen import claw, highlight, migration_app, settle

__all__ = ["claw", "migration_app"]  # fixtures used here


@pytest.fixture
def composing(monkeypatch):
    """Records the thread of every ``Plan.file_changes`` (the real one runs), and holds it
    while ``gate`` is cleared."""
    calls: list[threading.Thread] = []
    gate = threading.Event()
    gate.set()
    real = Plan.file_changes

    def file_changes(plan: Plan):
        calls.append(threading.current_thread())
        if not gate.wait(30):
            raise AssertionError("the test never let file_changes finish")
        return real(plan)

    monkeypatch.setattr(Plan, "file_changes", file_changes)
    return calls, gate


async def test_the_files_to_write_are_composed_off_the_event_loop(migration_app, claw,
                                                                  composing):
    calls, _gate = composing
    app = migration_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("v")
        await settle(app, pilot)
        files = app.screen.query_one("#plan-files", OptionList)
        assert files.option_count and "config.yaml" in [
            files.get_option_at_index(i).id for i in range(files.option_count)]
        await pilot.press("v")
        highlight(app, "secret:TELEGRAM_BOT_TOKEN")
        await pilot.press("space")  # a choice changes what .env would be: composed again
        await settle(app, pilot)
        await pilot.press("a")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
    assert len(calls) >= 2
    assert threading.main_thread() not in calls


async def test_apply_pressed_while_the_files_are_worked_out_asks_once_they_are_known(
        migration_app, claw, composing):
    _calls, gate = composing
    app = migration_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        gate.clear()  # the next composition stays in its thread until the test says
        highlight(app, "secret:TELEGRAM_BOT_TOKEN")
        await pilot.press("space")
        await pilot.press("a")
        assert not isinstance(app.screen, ConfirmModal)  # nothing known yet to ask about
        gate.set()
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmModal)
        changes = len(app.screen_stack[-2].plan.file_changes())
        assert f"Write {changes} file(s) into the profile?" in str(
            app.screen.query_one("#confirm-question").render())
