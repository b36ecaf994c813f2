"""Fixtures for driving the real app with Pilot: an isolated HOME and a fixed clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hermes_tui.app import HermesApp
from hermes_tui.paths import Paths
from hermes_tui.settings import Settings
from hermes_tui.state import StateStore, WizardState

NO_ENGINE = "unix:///nonexistent/hermes-tui-test/docker.sock"
NO_ROUTER = "http://127.0.0.1:9/v1"  # the discard port: nothing listens there
FIXED_NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)



@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh HOME so the default data dir (platformdirs) is ~/.local/share/hermes there.

    Paths on screen are shown with ``~``, so snapshots do not depend on the temp folder.
    """
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in ("XDG_DATA_HOME", "HERMES_TUI_DATA_DIR", "HERMES_TUI_ASCII", "NO_COLOR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    return home


@pytest.fixture
def paths(home: Path) -> Paths:
    return Paths.resolve(None)


AppFactory = Callable[..., HermesApp]


@pytest.fixture
def make_app(paths: Paths) -> AppFactory:
    """Build the app the way the CLI does: load (or reuse) state from the real TOML file."""

    def factory(state: WizardState | None = None, **settings: object) -> HermesApp:
        store = StateStore(paths.state_file, clock=lambda: FIXED_NOW)
        loaded = store.load()
        if state is not None:
            loaded.state = state
        store.save(loaded.state)
        # No engine unless a test brings one: the host's own sockets must not leak in.
        settings.setdefault("docker_host", NO_ENGINE)
        # Nor a router: step 5 would otherwise look for one on this machine's usual ports.
        settings.setdefault("router_url", NO_ROUTER)
        app = HermesApp(Settings(paths=paths, **settings), store, loaded.state, notice=loaded.notice)
        app.monotonic = lambda: 1000.0  # no rate or ETA: they would depend on machine speed
        return app

    return factory
