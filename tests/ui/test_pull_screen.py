"""Step 2 without an engine to talk to: what the screen says before any pull starts."""

from __future__ import annotations

from hermes_tui.state import StepId, StepStatus
from hermes_tui.ui.widgets.problem_view import ProblemView
from tests.support.states import at


async def test_a_malformed_image_reference_is_explained_not_blamed_on_the_network(make_app):
    app = make_app(at(StepId.PULL), image="nousresearch/Hermes-Agent:v1")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = app.screen.query_one("#pull-problem", ProblemView).text
        assert "'nousresearch/Hermes-Agent:v1' is not a valid image reference" in text
        assert "'Hermes-Agent' has upper-case letters" in text
        assert "proxy" not in text.lower() and "internet" not in text.lower()
        assert app.state.status(StepId.PULL) is StepStatus.FAILED
        assert app.screen.check_action("next", ()) is None


def overall_lines(events) -> list[str]:
    from hermes_tui.engine.pull import PullProgress
    from hermes_tui.ui.widgets.layer_bars import LayerBars

    progress = PullProgress(clock=lambda: 1000.0)
    for event in events:
        progress.apply(event)
    return LayerBars()._overall(progress, 52).plain.splitlines()


def test_overall_and_download_figures_each_say_what_they_measure():
    from tests.support.fake_engine import cold_pull_events

    # Some layers have not said their size: bytes without a percentage of an unknown total.
    overall, download = overall_lines(cold_pull_events(layers=5, done=2))
    assert overall.startswith("Overall ") and overall.endswith("2/5 layers done")
    assert download.startswith("Download ") and "of at least" in download
    assert "%" not in download
    # Every size known: the download share is its own percentage, named as such, and
    # differs from Overall (which also counts unpacking) without contradicting it.
    overall, download = overall_lines(cold_pull_events(layers=3, done=2))
    assert download.startswith("Download 78%: ") and "at least" not in download
    assert "%" in overall and "78%" not in overall


async def test_quitting_mid_pull_says_finished_layers_are_kept(make_app, tmp_path):
    import tempfile
    from pathlib import Path

    from hermes_tui.ui.widgets.confirm import ConfirmModal
    from hermes_tui.ui.widgets.layer_bars import LayerBars
    from tests.support.fake_engine import FakeEngine, cold_pull_events

    folder = Path(tempfile.mkdtemp(prefix="hermes-pull-", dir="/tmp"))  # a short socket path
    engine = FakeEngine(folder / "docker.sock",
                        pull_events=cold_pull_events(layers=5, done=2), hang=True).start()
    try:
        app = make_app(at(StepId.PULL), docker_host=engine.url)
        async with app.run_test(size=(80, 24)) as pilot:
            bars = app.screen.query_one(LayerBars)
            for _ in range(1500):
                if bars.progress is not None and bars.progress.events >= 19:
                    break
                await pilot.pause(0.02)
            else:
                raise AssertionError("the pull did not reach the scripted layers within 30 s")
            await pilot.press("q")
            for _ in range(1500):
                if isinstance(app.screen, ConfirmModal):
                    break
                await pilot.pause(0.02)
            else:
                raise AssertionError("q during a pull did not ask first within 30 s")
            words = app.screen.query_one("#confirm-question").render()
            assert "keeps the layers it finished" in str(words)
            assert "downloads the other 3 again" in str(words)
            assert "keeps nothing" not in str(words)
    finally:
        engine.stop()
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
