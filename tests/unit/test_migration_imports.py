"""The migration package is domain code: importing it pulls in neither Textual nor aiodocker."""

from __future__ import annotations

import json

SNIPPET = """
import json, sys
import hermes_tui.migration, hermes_tui.migration.cli
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "aiodocker"))
print(json.dumps(heavy))
"""


def test_migration_imports_without_textual_or_aiodocker(run_python):
    done = run_python("-c", SNIPPET)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
