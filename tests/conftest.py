"""Shared test set-up: snapshot SVGs live in the top-level snapshots/ folder."""

from __future__ import annotations

from pathlib import Path

import pytest_textual_snapshot

ROOT = Path(__file__).resolve().parent.parent


class TopLevelSnapshots(pytest_textual_snapshot.SVGImageExtension):
    """Store each test module's SVGs under ``snapshots/<module stem>/`` (see README)."""

    @classmethod
    def dirname(cls, *, test_location) -> str:  # noqa: ANN001 - syrupy's own type
        return str(ROOT / "snapshots" / Path(test_location.filepath).stem)


# pytest-textual-snapshot looks this name up when `snap_compare` runs (plugin pinned in
# pyproject.toml), so swapping it here redirects every snapshot.
pytest_textual_snapshot.SVGImageExtension = TopLevelSnapshots
