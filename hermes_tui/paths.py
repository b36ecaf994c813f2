"""Every on-disk location hermes-tui uses.

The data root is the spec's ``<app data>/hermes``: platformdirs' user data dir for
"hermes", overridable by ``HERMES_TUI_DATA_DIR`` or ``--data-dir``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DATA_DIR_ENV = "HERMES_TUI_DATA_DIR"
STATE_FILE_NAME = "wizard.toml"
LOG_FILE_NAME = "hermes-tui.log"


def default_data_dir() -> Path:
    """The data root when the user gives none: env override first, then platformdirs."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_data_path

    return user_data_path("hermes", appauthor=False)


@dataclass(frozen=True)
class Paths:
    """Locations under one data root."""

    root: Path

    @classmethod
    def resolve(cls, data_dir: str | os.PathLike[str] | None = None) -> Paths:
        root = Path(data_dir).expanduser() if data_dir else default_data_dir()
        return cls(root.absolute())

    @property
    def profiles(self) -> Path:
        return self.root / "profiles"

    @property
    def state_file(self) -> Path:
        return self.root / STATE_FILE_NAME

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def log_file(self) -> Path:
        """Where the wizard writes the tracebacks of failures (never local variables)."""
        return self.logs / LOG_FILE_NAME

    def profile_dir(self, name: str) -> Path:
        return self.profiles / name


def display_path(path: Path | str) -> str:
    """``path`` as a user would type it: the home folder shortened to ``~``."""
    text = str(path)
    home = os.path.expanduser("~")
    if home not in ("", "/") and (text == home or text.startswith(home + os.sep)):
        return "~" + text[len(home):]
    return text
