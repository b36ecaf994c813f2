"""Step 6: auto-skip, CLAW_CONFIG_NOT_FOUND, the dry-run plan, the diff, apply and undo."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import OptionList

from hermes_tui.profile import create_profile
from hermes_tui.state import MigrationDecision, StepId, StepStatus
from hermes_tui.ui.widgets.confirm import ConfirmModal
from hermes_tui.ui.widgets.diff_view import DiffView
from hermes_tui.ui.widgets.problem_view import ProblemView
from tests.support.claw_tree import FAKE_SECRETS, build_claw_tree, fingerprint
from tests.support.states import at


@pytest.fixture
def claw(home: Path) -> Path:
    return build_claw_tree(home / ".openclaw")


@pytest.fixture
def migration_app(make_app, paths):
    create_profile(paths, "my-bot")

    def build(**settings):
        return make_app(at(StepId.MIGRATION, profile="my-bot"), **settings)

    return build


async def settle(app, pilot) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def items(app) -> list[str]:
    listing = app.screen.query_one("#plan-items", OptionList)
    return [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]


def highlight(app, item_id: str) -> None:
    listing = app.screen.query_one("#plan-items", OptionList)
    listing.highlighted = listing.get_option_index(item_id)


async def test_no_claw_setup_skips_the_step_with_the_reason(migration_app):
    app = migration_app()  # HOME has no ~/.openclaw (nor ~/.clawdbot, ~/.moltbot)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert app.screen.STEP is StepId.DONE
        record = app.state.steps[StepId.MIGRATION]
        assert record.status is StepStatus.SKIPPED and record.reason == "no OpenClaw setup found"
        assert app.state.migration is MigrationDecision.SKIPPED


async def test_a_missing_folder_named_with_claw_dir_is_claw_config_not_found(migration_app,
                                                                            tmp_path):
    # Auto-skip is for the default location only: a folder the user named must be read.
    app = migration_app(claw_dir=tmp_path / "never-used")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert app.screen.STEP is StepId.MIGRATION
        error = app.screen.query_one("#claw-problem", ProblemView).text
        assert error.startswith("CLAW_CONFIG_NOT_FOUND") and "does not exist" in error
        assert app.state.status(StepId.MIGRATION) is StepStatus.FAILED
        await pilot.press("x")
        await pilot.pause()
        assert app.screen.STEP is StepId.DONE
        assert app.state.migration is MigrationDecision.SKIPPED


async def test_a_claw_path_that_is_not_a_folder_says_claw_config_not_found(migration_app, tmp_path):
    not_a_dir = tmp_path / "openclaw-file"
    not_a_dir.write_text("oops")
    app = migration_app(claw_dir=not_a_dir)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        error = app.screen.query_one("#claw-problem", ProblemView).text
        assert error.startswith("CLAW_CONFIG_NOT_FOUND") and "is not a directory" in error
        assert "Press x to skip this step" in error and "press Skip" not in error
        await pilot.press("x")
        await pilot.pause()
        assert app.screen.STEP is StepId.DONE
        assert app.state.steps[StepId.MIGRATION].reason == "skipped by you"


async def test_the_plan_lists_items_with_secrets_off_until_chosen(migration_app, claw):
    app = migration_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        rows = items(app)
        assert any("migrate " in row and "SOUL.md" in row for row in rows)
        secret_rows = [row for row in rows if "(secret)" in row]
        assert secret_rows and not any(row.startswith("[x]") for row in secret_rows)
        summary = str(app.screen.query_one("#claw-summary").render())
        assert "Nothing is written yet. Will migrate" in summary and "Dry run" not in summary
        highlight(app, "secret:TELEGRAM_BOT_TOKEN")
        await pilot.press("space")
        assert app.screen.plan.get("secret:TELEGRAM_BOT_TOKEN").selected
        assert items(app)[app.screen.query_one("#plan-items", OptionList).highlighted].startswith("[x]")


async def test_v_shows_the_diff_of_each_file_and_braces_move_between_files(migration_app, claw):
    app = migration_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("v")
        await settle(app, pilot)
        files = app.screen.query_one("#plan-files", OptionList)
        assert files.option_count > 3
        first = app.screen.query_one(DiffView).diff
        assert first.rows and first.added > 0
        await pilot.press("right_curly_bracket")
        await settle(app, pilot)
        assert files.highlighted == 1
        assert app.screen.query_one(DiffView).diff is not first
        shown = "".join(r.right or "" for r in app.screen.query_one(DiffView).diff.rows)
        for secret in FAKE_SECRETS.values():
            assert secret not in shown


async def test_apply_after_confirmation_writes_the_profile_and_undo_restores(
    migration_app, claw, paths
):
    before = fingerprint(claw)
    soul = paths.profile_dir("my-bot") / "SOUL.md"
    app = migration_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("a")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(app, pilot)
        assert soul.is_file() and "Hermes" in soul.read_text()
        assert app.state.migration is MigrationDecision.APPLIED
        assert app.state.claw_dir == str(claw)
        assert app.state.channels == ["whatsapp", "signal"]  # written by the migration
        assert "Nothing left to migrate" in str(app.screen.query_one("#claw-summary").render())
        await pilot.press("u")
        await settle(app, pilot)
        assert not soul.exists()
        assert app.state.migration is None and app.state.channels == []
    assert fingerprint(claw) == before  # the OpenClaw side was never written


async def test_a_conflict_blocks_apply_until_the_user_chooses(migration_app, claw, paths):
    soul = paths.profile_dir("my-bot") / "SOUL.md"
    soul.write_text("my own soul\n")
    app = migration_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        conflict = next(i for i in app.screen.plan.items if i.status.value == "conflict")
        await pilot.press("a")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmModal)
        assert any("conflict" in n.message for n in app._notifications)
        highlight(app, conflict.id)
        await pilot.press("k")  # keep mine
        await pilot.press("a", "y")
        await settle(app, pilot)
        # Re-planned after the apply: the choice holds, nothing asks to be chosen again.
        kept = app.screen.plan.get(conflict.id)
        assert kept.resolution == "skip" and not app.screen.plan.unresolved_conflicts()
        summary = str(app.screen.query_one("#claw-summary").render())
        assert "Applied: " in summary and "migrated" in summary and "Nothing left" in summary
        assert "will migrate" not in summary.lower()
        rows = items(app)
        assert any(row.startswith("    applied") or " applied " in row for row in rows)
        assert not any("conflict" in row for row in rows)
    assert soul.read_text() == "my own soul\n"


async def test_no_plan_row_is_shown_twice(migration_app, claw):
    app = migration_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        rows = [" ".join(row[4:].split()) for row in items(app)]
        assert len(rows) == len(set(rows)), [r for r in rows if rows.count(r) > 1]
        assert sum("ANTHROPIC_API_KEY" in row for row in rows) == 2  # two values: a choice
        assert sum("OPENCLAW_GATEWAY_TOKEN" in row or "gateway.auth.token" in row
                   for row in rows) == 1


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_diff_names_its_sides_fits_the_width_and_d_switches_the_layout(
        migration_app, claw, size):
    app = migration_app()
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        await pilot.press("v")
        await settle(app, pilot)
        files = app.screen.query_one("#plan-files", OptionList)
        files.highlighted = files.get_option_index("config.yaml")  # lines changed: a pairing
        await settle(app, pilot)
        view = app.screen.query_one(DiffView)
        header = "".join(s.text for s in view.render_line(0))
        assert "Hermes now" in header and "OpenClaw" in header
        assert view.layout_in_use == ("split" if size[0] >= 120 else "unified")
        assert view.region.bottom == size[1] - 1  # down to the footer, not a fixed box
        first = view.layout_in_use
        await pilot.press("d")
        await pilot.pause()
        assert view.layout_in_use != first
        assert files.has_focus  # d works from the file list: no need to focus the diff


async def test_an_undo_that_fails_shows_the_problem_and_the_app_keeps_running(
    migration_app, claw, paths
):
    import shutil

    app = migration_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("a")
        await pilot.press("y")
        await settle(app, pilot)
        run_dir = app.screen.applied
        shutil.rmtree(run_dir)  # its backups and report are gone: nothing to undo from
        await pilot.press("u")
        await settle(app, pilot)
        assert app.is_running and app.screen.STEP is StepId.MIGRATION
        shown = app.screen.query_one("#claw-problem", ProblemView).text
        assert shown, "the failed undo says so"
        assert "Press u to retry" in shown or "Press u" in shown
        assert app.screen.applied == run_dir  # still applied: u may be pressed again


async def test_a_deep_openclaw_json_is_an_error_row_and_the_rest_is_planned(migration_app, home):
    # It used to raise RecursionError in detection, on every launch at this step.
    build_claw_tree(home / ".openclaw", config_text='{"a": ' + "[" * 100_000 + "]" * 100_000 + "}")
    app = migration_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert app.screen.STEP is StepId.MIGRATION and app.screen.plan is not None
        assert not any(view.text for view in app.screen.query(ProblemView))
        highlight(app, "config:openclaw.json")
        await pilot.pause()
        reason = str(app.screen.query_one("#plan-reason").render())
        assert "openclaw.json is malformed" in reason and "100 levels deep" in reason
        assert any("soul" in row for row in items(app))


async def test_reading_a_large_openclaw_json_says_which_file_and_how_far(migration_app, home):
    from hermes_tui.migration.detect import ConfigReading

    build_claw_tree(home / ".openclaw")
    app = migration_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        config = home / ".openclaw/openclaw.json"
        app.screen._show_reading(ConfigReading(path=config, total=6 * 1024 * 1024,
                                               done=3 * 1024 * 1024))
        await pilot.pause()
        text = str(app.screen.query_one("#claw-summary").render())
        assert text == ("Looking for an OpenClaw setup… reading ~/.openclaw/openclaw.json "
                        "(6.0 MiB, 50%)")


# --- an apply that was interrupted ---------------------------------------------------------


def profile_files(profile: Path) -> dict[str, bytes | None]:
    return {p.relative_to(profile).as_posix(): p.read_bytes() if p.is_file() else None
            for p in sorted(profile.rglob("*")) if "migration" not in p.relative_to(profile).parts}


@pytest.fixture
def interrupted(paths, claw, tmp_path) -> dict[str, bytes | None]:
    """An apply into my-bot killed half way (for real: SIGKILL at a filesystem change);
    returns the profile as it was before."""
    from tests.support.killpoint import interrupt_apply

    create_profile(paths, "my-bot")
    profile = paths.profile_dir("my-bot")
    before = profile_files(profile)
    interrupt_apply(claw, profile, tmp_path)
    assert profile_files(profile) != before
    return before


async def test_an_interrupted_apply_is_shown_first_and_u_undoes_it(migration_app, interrupted, paths):
    profile = paths.profile_dir("my-bot")
    app = migration_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        shown = app.screen.query_one("#claw-problem", ProblemView).text
        assert "was interrupted" in shown and "file(s) written" in shown
        assert "Press u to undo it" in shown and "or f to finish it" in shown
        assert app.screen.plan is None and not app.screen.can_advance
        assert app.screen.check_action("finish", ()) and app.screen.check_action("undo", ())
        assert not app.screen.check_action("skip", ())
        await pilot.press("u")
        await settle(app, pilot)
        assert profile_files(profile) == interrupted
        assert app.screen.interrupted is None and app.screen.plan is not None
        assert "Undone:" in str(app.screen.query_one("#claw-result").render())
        assert not app.screen.check_action("finish", ())


async def test_f_finishes_an_interrupted_apply_and_records_it(migration_app, interrupted, paths):
    soul = paths.profile_dir("my-bot") / "SOUL.md"
    app = migration_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("f")
        await settle(app, pilot)
        assert "Hermes" in soul.read_text()
        assert app.state.migration is MigrationDecision.APPLIED
        assert app.state.steps[StepId.MIGRATION].status is StepStatus.DONE
        assert "Finished the interrupted apply" in str(app.screen.query_one("#claw-result").render())
        assert app.screen.applied is not None and app.screen.can_advance
        await pilot.press("u")
        await settle(app, pilot)
        assert not soul.exists()


async def test_the_start_notice_names_an_interrupted_apply_on_any_screen(make_app, interrupted):
    app = make_app(at(StepId.CHANNELS, profile="my-bot"))
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        notes = [n.message for n in app._notifications if "interrupted" in n.message]
        assert notes and "Open step 6, Claw migration" in notes[0]


async def test_enter_is_next_on_the_plan_even_after_apply_and_space_selects(migration_app, claw):
    app = migration_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        listing = app.screen.query_one("#plan-items", OptionList)
        assert app.screen.focused is listing
        highlight(app, "soul")
        await pilot.press("space")  # leaves the soul out
        await pilot.pause()
        assert not next(i for i in app.screen.plan.items if i.id == "soul").selected
        await pilot.press("space")  # and back in
        await pilot.press("a", "y")
        await settle(app, pilot)
        assert app.screen.applied is not None and app.screen.focused is listing
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.STEP is StepId.DONE
    assert app.state.migration is MigrationDecision.APPLIED
