"""A crash that still escapes prints no local variables (they can hold tokens) and names the
log file that has the full traceback."""

from __future__ import annotations

from hermes_tui.app import HermesApp

FAKE_TOKEN = "123456:AAH-fake-bot-token-never-printed"


class CrashingApp(HermesApp):
    def on_key(self) -> None:
        bot_token = FAKE_TOKEN  # a local, as Textual's own traceback would show it
        raise RuntimeError(f"boom after reading {len(bot_token)} characters")


def test_a_crash_prints_no_locals_and_names_the_log(make_app, paths, capsys):
    app = make_app()
    app.__class__ = CrashingApp

    app.run(headless=True, size=(80, 24), auto_pilot=lambda pilot: pilot.press("x"))
    out = capsys.readouterr()
    printed = out.out + out.err
    assert FAKE_TOKEN not in printed
    assert "RuntimeError: boom after reading" in printed
    assert str(paths.log_file) in printed.replace("\n", "")
    logged = paths.log_file.read_text()
    assert "RuntimeError" in logged and FAKE_TOKEN not in logged
    assert app.return_code == 1
