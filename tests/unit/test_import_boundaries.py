"""The domain layer must not pull in the UI or the container client."""

from __future__ import annotations

import json

DOMAIN_MODULES = [
    "hermes_tui.state", "hermes_tui.profile", "hermes_tui.envfile", "hermes_tui.channels",
    "hermes_tui.paths", "hermes_tui.fsutil", "hermes_tui.settings", "hermes_tui.cli",
    "hermes_tui.problem",
]

SNIPPET = f"""
import importlib, json, sys
for name in {DOMAIN_MODULES!r}:
    importlib.import_module(name)
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "aiodocker"))
print(json.dumps(heavy))
"""


def test_domain_modules_import_without_textual_or_aiodocker(run_python):
    done = run_python("-c", SNIPPET)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_cli_version_path_imports_nothing_heavy(run_python):
    snippet = (
        "import json, sys\n"
        "from hermes_tui.cli import build_parser\n"
        "try:\n    build_parser().parse_args(['--version'])\n"
        "except SystemExit:\n    pass\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('textual', 'aiodocker', 'pydantic'))), file=sys.stderr)\n"
    )
    done = run_python("-c", snippet)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stderr.strip().splitlines()[-1]) == []


EVERY_DOMAIN_MODULE = """
import importlib, json, pathlib, sys
import hermes_tui
root = pathlib.Path(hermes_tui.__file__).parent
names = []
for path in sorted(root.rglob("*.py")):  # by file: walking packages would import ui/ itself
    parts = ("hermes_tui", *path.relative_to(root).with_suffix("").parts)
    if parts[1] in ("ui", "app", "__main__"):
        continue
    names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
for name in names:
    importlib.import_module(name)
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "aiodocker"))
print(json.dumps({"checked": names, "heavy": heavy}))
"""


def test_every_domain_package_imports_without_textual_or_aiodocker(run_python):
    """Every module outside ui/ and app.py — engine, bridge, commands, migration and any
    package added later — found by walking the package, not by a list that goes stale."""
    done = run_python("-c", EVERY_DOMAIN_MODULE)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["heavy"] == []
    for package in ("engine", "bridge", "commands", "migration"):
        assert any(name.startswith(f"hermes_tui.{package}.") for name in result["checked"])
