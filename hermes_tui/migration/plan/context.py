"""What the mappers share while a plan is built: one dataclass with every field declared.

A mapper reads the source through ``tree`` / ``workspace_tree`` and the profile through
``target`` (which records each file's bytes in ``base``, the plan's "before"), and adds
items with ``add`` / ``error`` / ``skip``. The fields below the line are produced by one
mapper for later ones; ``registry.REGISTRY`` says which mapper writes and reads each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from hermes_tui.envfile import parse_env
from hermes_tui.fsutil import describe_os_error
from hermes_tui.limits import MAX_CONFIG_BYTES, MAX_ENV_BYTES, read_bounded
from hermes_tui.migration.plan.edits import load_yaml_doc
from hermes_tui.migration.plan.model import ItemKind, ItemStatus, PlanItem
from hermes_tui.migration.plan.tree import SourceError, SourceTree
from hermes_tui.yamledit import ConfigError

#: Profile files the plan parses, and the most of each it reads.
_PARSED = {".env": MAX_ENV_BYTES, "config.yaml": MAX_CONFIG_BYTES}


@dataclass
class Context:
    claw: Path
    profile: Path
    migrate_secrets: bool
    home: Path | None
    #: The Claw folder, read without ever following a link out of it.
    tree: SourceTree = field(init=False)
    #: The plan's rows, in the order they are added.
    items: list[PlanItem] = field(default_factory=list)
    #: Bytes of every profile file an item may edit, as read now (None: absent).
    base: dict[str, bytes | None] = field(default_factory=dict)
    #: Profile files that could not be read: path -> why.
    target_errors: dict[str, str] = field(default_factory=dict)
    #: Why the profile's config.yaml could not be parsed (None: not tried, or it could).
    config_doc_error: str | None = None
    # -- produced by the mappers, in registry order --------------------------------------
    #: openclaw.json, parsed ({} when missing or malformed). Written by "config".
    config: dict[str, Any] = field(default_factory=dict)
    #: The Claw folder's .env. Written by "claw-env".
    claw_env: dict[str, str] = field(default_factory=dict)
    #: The agent workspace (None: none found). Written by "workspace".
    workspace: Path | None = None
    #: Its own tree when the workspace is configured outside the Claw folder.
    workspace_tree: SourceTree | None = None
    #: Memory entries earlier items add per memory file, so later ones count what is left.
    planned_memory: dict[str, list[str]] = field(default_factory=dict)
    #: Skill folder names already taken under skills/openclaw-imports.
    claimed_skill_names: set[str] = field(default_factory=set)
    #: env key -> (value, item id) of the first secret row for that key.
    secret_seen: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: Gateway token value -> the id of the one row that names every place it is kept.
    gateway_tokens: dict[str, str] = field(default_factory=dict)
    #: Every secret value met anywhere, for masking what is shown and archived.
    all_secrets: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.tree = SourceTree(self.claw, self.claw)

    def ws(self) -> Path:
        """The workspace, for a mapper the registry runs only when there is one."""
        if self.workspace is None:
            raise RuntimeError("this mapper needs a workspace; the registry should have skipped it")
        return self.workspace

    def ws_tree(self, workspace: Path) -> SourceTree:
        tree = self.workspace_tree
        if tree is not None and workspace == tree.root:
            return tree
        return self.tree

    # -- targets
    def target(self, rel: str) -> bytes | None:
        """Current bytes of a profile file (None: absent); errors remembered per path."""
        if rel not in self.base and rel not in self.target_errors:
            path = self.profile / rel
            try:
                if not path.exists():
                    self.base[rel] = None
                elif rel in _PARSED:  # parsed, so bounded; others are copied byte for byte
                    self.base[rel] = read_bounded(path, _PARSED[rel])
                else:
                    self.base[rel] = path.read_bytes()
            except OSError as exc:
                self.target_errors[rel] = describe_os_error(exc, path, action="read")
        return self.base.get(rel)

    def target_text(self, rel: str) -> str | None:
        data = self.target(rel)
        if rel in self.target_errors:
            raise SourceError(self.target_errors[rel])
        if data is None:
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise SourceError(f"the profile's {rel} is not UTF-8 text; fix it and plan again.") from None

    def config_doc(self) -> CommentedMap | None:
        """The profile's config.yaml, parsed afresh for each caller; a file that cannot
        be parsed is judged once (a hostile one can take a second to refuse)."""
        if self.config_doc_error is not None:
            raise SourceError(self.config_doc_error)
        text = self.target_text("config.yaml")
        if text is None:
            return None
        try:
            return load_yaml_doc(text.removeprefix("\ufeff"))
        except ConfigError as exc:
            self.config_doc_error = f"the profile's config.yaml cannot be read as YAML: {exc}"
            raise SourceError(self.config_doc_error) from None

    def env_values(self) -> dict[str, str]:
        text = self.target_text(".env")
        return parse_env(text or "")

    # -- items
    def add(self, item: PlanItem) -> PlanItem:
        if item.secret and item.status in (ItemStatus.migrated, ItemStatus.conflict):
            item.selected = self.migrate_secrets
            # One value per target key: the first source wins unless the user picks another.
            if item.group and any(o.group == item.group for o in self.items):
                item.selected = False
            item.refresh()
        self.items.append(item)
        return item

    def also_from(self, item_id: str, source: str) -> None:
        """The same value found again at ``source``: one row names both places (a second
        row for one value would read as two things to migrate)."""
        item = next(i for i in self.items if i.id == item_id)
        if source not in item.source.split(" + "):
            item.source = f"{item.source} + {source}"

    def error(self, kind: ItemKind, item_id: str, source: str, destination: str, reason: str,
              secret: bool = False) -> None:
        self.add(PlanItem(item_id, kind, source, destination, ItemStatus.error, reason,
                          secret=secret, selected=False))

    def skip(self, kind: ItemKind, item_id: str, source: str, destination: str, reason: str,
             secret: bool = False) -> None:
        self.add(PlanItem(item_id, kind, source, destination, ItemStatus.skipped, reason,
                          secret=secret, selected=False))

