"""OpenClaw → Hermes migration: detection, a read-only plan (dry run), apply and undo.

Domain code only: nothing here imports Textual. ``detect`` decides whether the wizard step
runs; ``plan.build_plan`` reads the Claw folder and the profile and says what would change;
``apply.apply_plan`` writes it with backups; ``apply.undo`` restores.
"""

from __future__ import annotations

from hermes_tui.migration.apply import ApplyResult, ConflictsPending, apply_plan, undo
from hermes_tui.migration.detect import (
    CLAW_DIR_NAMES,
    DEFAULT_GATEWAY_PORT,
    ERROR_NOT_FOUND,
    ClawDetection,
    detect,
)
from hermes_tui.migration.plan import (
    FileChange,
    ItemKind,
    ItemStatus,
    Plan,
    PlanError,
    PlanItem,
    build_plan,
)

__all__ = [
    "CLAW_DIR_NAMES", "DEFAULT_GATEWAY_PORT", "ERROR_NOT_FOUND", "ApplyResult", "ClawDetection",
    "ConflictsPending", "FileChange", "ItemKind", "ItemStatus", "Plan", "PlanError", "PlanItem",
    "apply_plan", "build_plan", "detect", "undo",
]
