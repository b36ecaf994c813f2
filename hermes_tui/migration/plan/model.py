"""The plan model: items with a status and a reason, and the plan the user edits.

A ``PlanItem`` keeps the edits it would make; ``Plan`` composes the active ones per file
(``Plan.file_changes``) and records the user's choices (``select``, ``resolve``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from hermes_tui.migration.plan.edits import Composed, Edit, FileChange, compose, decode_for_display
from hermes_tui.migration.redact import redact_json
from hermes_tui.problem import ProblemError


class ItemKind(StrEnum):
    soul = "soul"
    memory = "memory"
    user_profile = "user_profile"
    daily_memory = "daily_memory"
    skills = "skills"
    shared_skills = "shared_skills"
    model = "model"
    custom_providers = "custom_providers"
    mcp_servers = "mcp_servers"
    command_allowlist = "command_allowlist"
    channel_settings = "channel_settings"
    secret = "secret"
    archive = "archive"
    #: Not in the original list: the source config file itself (its errors) and AGENTS.md / tts.
    config = "config"
    agents_md = "agents_md"
    tts = "tts"
    #: config.yaml session_reset from openclaw.json session.reset / resetTriggers.
    session_reset = "session_reset"
    #: config.yaml agent / compression / human_delay / timezone / terminal from agents.defaults.
    agent_settings = "agent_settings"
    #: config.yaml browser.cdp_url / browser.headed from openclaw.json browser.
    browser = "browser"


class ItemStatus(StrEnum):
    migrated = "migrated"
    conflict = "conflict"
    skipped = "skipped"
    archived = "archived"
    error = "error"


Choice = Literal["overwrite", "skip", "rename"]


class PlanError(ProblemError, ValueError):
    """A request the plan cannot honour (unknown item, a choice that does not apply)."""

@dataclass
class PlanItem:
    id: str
    kind: ItemKind
    source: str
    destination: str
    status: ItemStatus
    reason: str
    secret: bool = False
    selected: bool = True
    #: Chosen for a conflict: "overwrite", "skip" or "rename"; None until the user picks.
    resolution: str | None = None
    #: The edits this item makes when it is selected and migrated (conflict: on overwrite).
    edits: list[Edit] = field(default_factory=list, repr=False)
    #: Archive copies: (path under the run's archive/, bytes).
    archive: list[tuple[str, bytes]] = field(default_factory=list, repr=False)
    #: Secret values this item carries, for masking.
    secret_values: tuple[str, ...] = field(default=(), repr=False)
    #: Items in the same group write the same target; selecting one deselects the others.
    group: str | None = field(default=None, repr=False)
    base_status: ItemStatus | None = field(default=None, repr=False)
    base_reason: str = field(default="", repr=False)
    base_destination: str = field(default="", repr=False)
    base_edits: list[Edit] = field(default_factory=list, repr=False)
    allowed: tuple[str, ...] = field(default=("overwrite", "skip"), repr=False)
    renamer: Callable[[], tuple[str, list[Edit]]] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.status not in (ItemStatus.migrated, ItemStatus.conflict, ItemStatus.archived):
            self.selected = False
        self.base_status = self.status
        self.base_reason = self.reason
        self.base_destination = self.destination
        self.base_edits = list(self.edits)

    @property
    def toggleable(self) -> bool:
        return self.base_status in (ItemStatus.migrated, ItemStatus.conflict, ItemStatus.archived)

    @property
    def unresolved_conflict(self) -> bool:
        return self.selected and self.status is ItemStatus.conflict

    @property
    def active(self) -> bool:
        """This item's edits and archive copies are part of the apply."""
        return self.selected and self.status in (ItemStatus.migrated, ItemStatus.archived)

    def refresh(self) -> None:
        """Recompute status/reason from base status, selection and resolution."""
        if not self.toggleable:
            return
        self.destination, self.edits = self.base_destination, list(self.base_edits)
        if not self.selected:
            self.status = ItemStatus.skipped
            hint = (" (a secret: opt in per item, or with --migrate-secrets)" if self.secret
                    else "")
            self.reason = f"not selected{hint}; {self.base_reason}"
            return
        if self.base_status is ItemStatus.conflict and self.resolution:
            if self.resolution == "skip":
                self.status, self.reason = ItemStatus.skipped, "kept the existing one (your choice)"
            elif self.resolution == "overwrite":
                self.status = ItemStatus.migrated
                self.reason = f"overwrite (your choice; the old one is backed up first) — {self.base_reason}"
            elif self.resolution == "rename" and self.renamer is not None:
                self.destination, self.edits = self.renamer()
                self.status = ItemStatus.migrated
                self.reason = f"imported under a new name (your choice): {self.destination}"
            return
        self.status, self.reason = self.base_status, self.base_reason

    def to_json(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "kind": str(self.kind),
            "source": self.source,
            "destination": self.destination,
            "status": str(self.status),
            "reason": self.reason,
            "secret": self.secret,
            "selected": self.selected,
        }
        return redact_json(out, self.secret_values)


@dataclass
class Plan:
    claw_dir: Path
    profile_dir: Path
    items: list[PlanItem]
    #: Bytes of every profile file some item edits, as read when the plan was built.
    base: dict[str, bytes | None] = field(default_factory=dict, repr=False)

    # -- queries
    def get(self, item_id: str) -> PlanItem:
        for item in self.items:
            if item.id == item_id:
                return item
        raise PlanError(f"no plan item {item_id!r}")

    def counts(self) -> dict[ItemStatus, int]:
        counts = {status: 0 for status in ItemStatus}
        for item in self.items:
            counts[item.status] += 1
        return counts

    def secret_values(self) -> tuple[str, ...]:
        return tuple(sorted({v for item in self.items for v in item.secret_values}))

    def unresolved_conflicts(self) -> list[PlanItem]:
        return [item for item in self.items if item.unresolved_conflict]

    def pending(self) -> list[PlanItem]:
        """Items an apply would act on, plus conflicts still waiting for a choice."""
        return [i for i in self.items if i.active or i.unresolved_conflict]

    @property
    def nothing_to_do(self) -> bool:
        return not self.pending()

    def active_edits(self) -> dict[str, list[Edit]]:
        per_path: dict[str, list[Edit]] = {}
        for item in self.items:
            if item.active:
                for edit in item.edits:
                    per_path.setdefault(edit.path, []).append(edit)
        return per_path

    def composed(self) -> dict[str, Composed]:
        return {path: compose(path, self.base.get(path), edits)
                for path, edits in self.active_edits().items()}

    def file_changes(self) -> list[FileChange]:
        """Before/after of every file the selected items would create or change, plan order."""
        secrets = self.secret_values()
        changes = []
        for path, result in self.composed().items():
            before = self.base.get(path)
            if result.data == before:
                continue
            changes.append(FileChange(path, decode_for_display(before),
                                      decode_for_display(result.data), secrets))
        return changes

    def archive_files(self) -> list[tuple[str, bytes]]:
        return [entry for item in self.items if item.active for entry in item.archive]

    # -- choices
    def select(self, item_id: str, on: bool) -> None:
        item = self.get(item_id)
        if not item.toggleable:
            raise PlanError(f"{item_id} is {item.status}: there is nothing to select")
        item.selected = on
        if on and item.group:
            for other in self.items:
                if other is not item and other.group == item.group and other.selected:
                    other.selected = False
                    other.refresh()
        item.refresh()

    def resolve(self, item_id: str, choice: Choice) -> None:
        item = self.get(item_id)
        if item.base_status is not ItemStatus.conflict:
            raise PlanError(f"{item_id} is not a conflict")
        if choice not in item.allowed and not (choice == "rename" and item.renamer):
            allowed = ", ".join(item.allowed + (("rename",) if item.renamer else ()))
            raise PlanError(f"{item_id}: {choice!r} does not apply here; choose {allowed}")
        item.resolution = choice
        item.refresh()

    # -- export
    def to_json(self) -> list[dict[str, Any]]:
        secrets = self.secret_values()
        return [redact_json(item.to_json(), secrets) for item in self.items]


def keep_choices(previous: Plan, plan: Plan) -> None:
    """Carry the user's choices from ``previous`` into ``plan``, a re-plan of the same
    folders (after an apply or an undo), so nothing chosen has to be chosen again.

    An item left out stays out. A conflict kept ("skip") is still a conflict on re-planning
    (the profile kept its own file) and stays kept; one imported under a new name ("rename")
    is kept too: the renamed copy is in the profile, and renaming again would import a
    second copy. An overwrite needs nothing: the profile now matches, so the item is skipped.
    """
    before = {item.id: item for item in previous.items}
    for item in plan.items:
        old = before.get(item.id)
        if old is None or not item.toggleable:
            continue
        if not old.selected and item.selected:
            plan.select(item.id, False)
        elif (item.unresolved_conflict and old.resolution in ("skip", "rename")
              and "skip" in item.allowed):
            plan.resolve(item.id, "skip")
