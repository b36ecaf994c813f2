"""The migration plan: what moving an OpenClaw setup into a Hermes profile would do.

``build_plan`` only reads. It turns the mapping table of the formats reference (§3) into
``PlanItem``s, each with a status and a reason, and keeps, per item, the edits it would
make to files of the profile. Edits compose per file in plan order, so the full before/after
text of every file is known before anything is written (``Plan.file_changes``).

Rules the plan enforces:
- Secrets (tokens, API keys, passwords) are separate items, off unless opted in.
- A conflict (the profile already has something different) is never overwritten silently:
  the item stays ``conflict`` until ``Plan.resolve`` records the user's choice.
- Hazards become ``error`` items and the rest proceeds: non-UTF-8 text, unreadable files,
  a malformed ``openclaw.json``, and symbolic links that lead out of the source tree
  (never followed, never copied).
- What already matches is ``skipped``, so planning again after an apply finds nothing to do.

The package: ``model`` (items, plan, statuses), ``edits`` (file edits and how they compose),
``memtext`` (memory entries), ``tree`` (reading the source safely), ``context`` (what the
mappers share), ``source`` (openclaw.json, .env, workspace), ``items`` (shared row
builders), ``mappers/`` (one module per OpenClaw area) and ``registry`` (their order and
``build_plan``).
"""

from __future__ import annotations

from hermes_tui.migration.mcp import plain
from hermes_tui.migration.plan.edits import (
    Composed,
    Edit,
    FileChange,
    compose,
    default_mode,
    load_yaml_doc,
    to_yaml,
)
from hermes_tui.migration.plan.items import find_secrets_in
from hermes_tui.migration.plan.mappers.skills import IMPORTS_DIR
from hermes_tui.migration.plan.memtext import (
    MEMORY_CHAR_LIMIT,
    MEMORY_SEPARATOR,
    USER_CHAR_LIMIT,
    extract_entries,
    merge_entries,
    rebrand,
    render_memory,
    split_memory,
)
from hermes_tui.migration.plan.model import (
    Choice,
    ItemKind,
    ItemStatus,
    Plan,
    PlanError,
    PlanItem,
    keep_choices,
)
from hermes_tui.migration.plan.registry import REGISTRY, Mapper, build_plan
from hermes_tui.migration.plan.tree import (
    RUNS_DIR,
    UNDONE_MARKER,
    SourceError,
    SourceTree,
    previous_archives,
)
from hermes_tui.migration.redact import REDACTED

__all__ = [
    "IMPORTS_DIR", "MEMORY_CHAR_LIMIT", "MEMORY_SEPARATOR", "REDACTED", "REGISTRY", "RUNS_DIR",
    "UNDONE_MARKER", "USER_CHAR_LIMIT", "Choice", "Composed", "Edit", "FileChange", "ItemKind",
    "ItemStatus", "Mapper", "Plan", "PlanError", "PlanItem", "SourceError", "SourceTree",
    "build_plan", "compose", "default_mode", "extract_entries", "find_secrets_in", "keep_choices",
    "load_yaml_doc", "merge_entries", "plain", "previous_archives", "rebrand",
    "render_memory", "split_memory", "to_yaml",
]
