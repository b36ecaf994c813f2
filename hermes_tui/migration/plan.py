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
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from hermes_tui.envfile import parse_env, render_update
from hermes_tui.fsutil import describe_os_error
from hermes_tui.migration.detect import ConfigSyntaxError, config_file, parse_config_text
from hermes_tui.migration.mcp import mcp_entry, plain
from hermes_tui.migration.providers import BUILTIN_PROVIDERS, model_target
from hermes_tui.migration.redact import (
    REDACTED,
    is_secret_name,
    looks_secret,
    redact_json,
    redact_text,
)
from hermes_tui.problem import ProblemError
from hermes_tui.yamledit import ConfigError, Document, Source, decode, open_document

MEMORY_SEPARATOR = "\n§\n"
MEMORY_CHAR_LIMIT = 2200
USER_CHAR_LIMIT = 1375
IMPORTS_DIR = "skills/openclaw-imports"
RUNS_DIR = "migration/openclaw"
UNDONE_MARKER = "UNDONE"
#: Providers built into Hermes: only their keys migrate, never a custom_providers entry.
WELL_KNOWN_PROVIDERS = BUILTIN_PROVIDERS
PROVIDER_ENV = {
    "openrouter": "OPENROUTER_API_KEY",
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "google": "GEMINI_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "groq": "GROQ_API_KEY",
    "zai": "ZAI_API_KEY",
    "minimax": "MINIMAX_API_KEY",
}
WORKSPACE_CANDIDATES = ("workspace", "workspace-main", "workspace.default")
ARCHIVE_FILES = ("IDENTITY.md", "TOOLS.md", "HEARTBEAT.md", "BOOTSTRAP.md")
ARCHIVE_DIRS = (".learnings", "memory", "hooks")
#: (dotted key in openclaw.json, archive file name) dumped as JSON with secrets redacted.
ARCHIVE_DUMPS = (
    ("agents.defaults.models", "model-aliases.json"),
    ("agents.list", "agents-list.json"),
    ("agents.entries", "agents-entries.json"),
    ("gateway", "gateway-config.json"),
    ("plugins", "plugins-config.json"),
    ("tools", "tools-config.json"),
    ("skills.entries", "skills-entries.json"),
    ("session", "session-config.json"),
    ("messages", "messages-config.json"),
    ("talk", "talk-config.json"),
    ("cron", "cron-config.json"),
    ("hooks", "hooks-config.json"),
    ("bindings", "bindings.json"),
    ("browser", "browser-config.json"),
    ("approvals", "approvals-config.json"),
    ("memory", "memory-backend.json"),
    ("ui", "ui-config.json"),
    ("logging", "logging-config.json"),
    ("diagnostics", "diagnostics-config.json"),
)
#: What an archive row says beyond "kept for reference", per dotted key.
ARCHIVE_NOTES = {
    "gateway": ("secrets redacted; the gateway token is not migrated: Hermes has no such "
                "setting, its API server uses API_SERVER_KEY"),
    "browser": "secrets redacted; cdpUrl and headless are also mapped to config.yaml browser",
}
_CHANNEL_CORE_KEYS = frozenset({"enabled", "allowFrom", "token", "botToken", "appToken",
                                "accessToken", "password", "account", "httpUrl", "accounts",
                                "homeserverUrl", "homeserver", "homeServer", "userId"})
_BRAND_RE = re.compile(r"open[ \t]?claw|clawdbot|moltbot", re.IGNORECASE)
_NOISE_HEADING_RE = re.compile(r"^(memory|user|soul|agents|tools|identity)(\.md)?$", re.IGNORECASE)
_ENV_REF_RE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


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


# --- file changes -----------------------------------------------------------------------


def _decode_for_display(data: bytes | None) -> str | None:
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return f"<binary file, {len(data)} bytes>\n"


@dataclass
class FileChange:
    """One file of the profile before and after (None: absent). Paths are profile-relative.

    ``before``/``after`` hold the real text, secrets included, for writing; anything shown
    to a person or saved must use ``display_before``/``display_after`` or ``redacted()``.
    """

    path: str
    before: str | None
    after: str | None
    secret_values: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @property
    def is_env(self) -> bool:
        return self.path == ".env" or self.path.endswith("/.env")

    def _mask(self, text: str | None) -> str | None:
        if text is None:
            return None
        return redact_text(text, self.secret_values, env=self.is_env)

    @property
    def display_before(self) -> str | None:
        return self._mask(self.before)

    @property
    def display_after(self) -> str | None:
        return self._mask(self.after)

    @property
    def created(self) -> bool:
        return self.before is None and self.after is not None

    def redacted(self) -> FileChange:
        return FileChange(self.path, self.display_before, self.display_after)


# --- edits: how an item changes a file ----------------------------------------------------


EditKind = Literal["write", "create", "env", "yaml", "memory"]


@dataclass
class Edit:
    """A change to one profile file that composes with the others on the same file.

    - write:  data = (bytes, mode) replaces the file
    - create: data = (bytes, mode) only when the file does not exist yet
    - env:    data = {KEY: value} via envfile.render_update (other lines kept)
    - yaml:   data = callable(CommentedMap) mutating config.yaml, round-trip
    - memory: data = (entries, cap, overflow_name) merged as § entries under the cap
    """

    path: str
    kind: EditKind
    data: Any


def default_mode(path: str) -> int:
    if path in (".env", "config.yaml", "SOUL.md") or path.startswith("memories/"):
        return 0o600
    return 0o644


@dataclass
class Composed:
    data: bytes | None
    mode: int | None
    overflow: dict[str, list[str]] = field(default_factory=dict)


def compose(path: str, base: bytes | None, edits: Iterable[Edit]) -> Composed:
    """Apply ``edits`` to ``base`` (the file's current bytes) in order."""
    data, mode = base, None
    overflow: dict[str, list[str]] = {}
    document: Document | None = None
    for edit in edits:
        if edit.kind == "write":
            data, mode = edit.data
        elif edit.kind == "create":
            if data is None:
                data, mode = edit.data
        elif edit.kind == "env":
            text = (data or b"").decode("utf-8")
            data = render_update(text, edit.data).encode("utf-8")
        elif edit.kind == "memory":
            entries, cap, name = edit.data
            existing = split_memory((data or b"").decode("utf-8"))
            merged, over = merge_entries(existing, entries, cap)
            if over:
                kept = overflow.setdefault(name, [])
                kept.extend(entry for entry in over if entry not in kept)
            data = render_memory(merged).encode("utf-8")
        elif edit.kind == "yaml":
            # One document per file: every edit mutates it, and it is rendered in the
            # file's own style (indentation, comments, BOM, line endings) by yamledit.
            if document is None:
                document = open_document(path, decode(data, path))
            edit.data(document.data)
            data = document.to_bytes()
    return Composed(data, mode, overflow)


def load_yaml_doc(text: str) -> CommentedMap:
    """config.yaml's settings (empty for a file without any); ``ConfigError`` if unusable."""
    return open_document("config.yaml", Source(text)).data


def to_yaml(value: Any) -> Any:
    """Plain dicts/lists as ruamel round-trip nodes, in block style."""
    if isinstance(value, dict):
        node = CommentedMap()
        for k, v in value.items():
            node[k] = to_yaml(v)
        return node
    if isinstance(value, list):
        seq = CommentedSeq()
        seq.extend(to_yaml(v) for v in value)
        return seq
    return value


def _block_mapping(doc: CommentedMap, key: str) -> CommentedMap:
    """``doc[key]`` as a mapping (made one if it is missing, empty or a scalar)."""
    current = doc.get(key)
    if not isinstance(current, CommentedMap):
        current = CommentedMap()
        doc[key] = current
    if not current:
        current.fa.set_block_style()
    return current


# --- memory entries ------------------------------------------------------------------------


def rebrand(text: str) -> str:
    """OpenClaw / Open Claw / ClawdBot / MoltBot → Hermes (all-lowercase → hermes)."""
    return _BRAND_RE.sub(lambda m: "hermes" if m.group(0).islower() else "Hermes", text)


def _norm(entry: str) -> str:
    return " ".join(entry.split())


def extract_entries(text: str) -> list[str]:
    """Markdown → memory entries: each bullet and paragraph, prefixed with its heading path.

    Headings that only name the file (MEMORY.md, USER ...) are dropped from the prefix;
    fenced code and table rows are skipped; duplicates (whitespace-normalised) removed.
    """
    entries: list[str] = []
    seen: set[str] = set()
    stack: list[tuple[int, str]] = []
    para: list[str] = []
    in_fence = False

    def add(body: str) -> None:
        body = _norm(body)
        if not body:
            return
        heads = [t for _, t in stack if not _NOISE_HEADING_RE.match(t)]
        entry = f"{' > '.join(heads)}: {body}" if heads else body
        if _norm(entry) not in seen:
            seen.add(_norm(entry))
            entries.append(entry)

    def flush() -> None:
        if para:
            add(" ".join(para))
            para.clear()

    for line in text.splitlines():
        s = line.strip()
        if s.startswith(("```", "~~~")):
            flush()
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        heading = re.match(r"(#{1,6})\s+(.*)$", s)
        if heading:
            flush()
            level = len(heading.group(1))
            title = heading.group(2).strip().rstrip("#").strip()
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, title))
            continue
        if not s or s.startswith("|"):
            flush()
            continue
        bullet = re.match(r"(?:[-*+]|\d+[.)])\s+(.*)$", s)
        if bullet:
            flush()
            add(bullet.group(1))
            continue
        para.append(s)
    flush()
    return entries


def split_memory(text: str) -> list[str]:
    return [e.strip() for e in text.replace("\r\n", "\n").split(MEMORY_SEPARATOR) if e.strip()]


def render_memory(entries: list[str]) -> str:
    return MEMORY_SEPARATOR.join(entries) + "\n" if entries else ""


def merge_entries(existing: list[str], new: list[str], cap: int) -> tuple[list[str], list[str]]:
    """``existing`` plus the new entries that are not there yet and still fit under ``cap``."""
    merged = list(existing)
    seen = {_norm(e) for e in merged}
    overflow = []
    for entry in new:
        if _norm(entry) in seen:
            continue
        if len(MEMORY_SEPARATOR.join([*merged, entry])) > cap:
            overflow.append(entry)
            continue
        merged.append(entry)
        seen.add(_norm(entry))
    return merged, overflow


# --- reading the source safely ---------------------------------------------------------------


class SourceError(Exception):
    """A source file that cannot be used; the message says why in a sentence."""


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


@dataclass
class SourceTree:
    """A read-only view of one source folder that refuses to leave it through links."""

    root: Path
    label: Path  # what relative names are shown against (the Claw dir)

    def __post_init__(self) -> None:
        self.real = self.root.resolve()

    def name(self, path: Path) -> str:
        return _rel(path, self.label)

    def check_inside(self, path: Path) -> None:
        try:
            real = path.resolve()
        except (OSError, RuntimeError) as exc:
            raise SourceError(f"{self.name(path)}: cannot follow the link ({exc}).") from None
        if not real.is_relative_to(self.real):
            raise SourceError(
                f"{self.name(path)} is a symbolic link to {real}, outside the OpenClaw folder: "
                "not followed, not copied."
            )

    def read_bytes(self, path: Path) -> bytes:
        self.check_inside(path)
        try:
            st = path.stat()
            if not stat.S_ISREG(st.st_mode):
                raise SourceError(f"{self.name(path)} is not a regular file.")
            with open(path, "rb") as handle:
                return handle.read()
        except OSError as exc:
            raise SourceError(describe_os_error(exc, path, action="read")) from None

    def read_text(self, path: Path) -> str:
        data = self.read_bytes(path)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SourceError(
                f"{self.name(path)} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
                f"{exc.start}); convert it to UTF-8 and plan again."
            ) from None

    def walk(self, top: Path) -> tuple[list[tuple[str, bytes, int]], list[str], list[str]]:
        """Files under ``top`` as (relative path, bytes, mode), link escapes, other errors.

        Links are never descended into; a link to a file inside the tree is copied by
        content, a link that leads outside is reported and left out.
        """
        files: list[tuple[str, bytes, int]] = []
        escapes: list[str] = []
        errors: list[str] = []

        def onerror(exc: OSError) -> None:
            errors.append(describe_os_error(exc, exc.filename, action="read"))

        for dirpath, dirnames, filenames in os.walk(top, onerror=onerror, followlinks=False):
            here = Path(dirpath)
            for d in sorted(dirnames):
                p = here / d
                if p.is_symlink():
                    try:
                        self.check_inside(p)  # inside: simply not descended into
                    except SourceError as exc:
                        escapes.append(str(exc))
            dirnames[:] = sorted(d for d in dirnames if not (here / d).is_symlink())
            for f in sorted(filenames):
                p = here / f
                try:
                    data = self.read_bytes(p)
                    mode = 0o755 if p.stat().st_mode & 0o111 else 0o644
                except SourceError as exc:
                    (escapes if p.is_symlink() else errors).append(str(exc))
                    continue
                files.append((p.relative_to(top).as_posix(), data, mode))
        return files, escapes, errors


# --- plan items ------------------------------------------------------------------------------


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
    changes: list[FileChange] = field(default_factory=list)
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
            changes.append(FileChange(path, _decode_for_display(before),
                                      _decode_for_display(result.data), secrets))
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
        self._refresh_changes(item)

    def resolve(self, item_id: str, choice: Choice) -> None:
        item = self.get(item_id)
        if item.base_status is not ItemStatus.conflict:
            raise PlanError(f"{item_id} is not a conflict")
        if choice not in item.allowed and not (choice == "rename" and item.renamer):
            allowed = ", ".join(item.allowed + (("rename",) if item.renamer else ()))
            raise PlanError(f"{item_id}: {choice!r} does not apply here; choose {allowed}")
        item.resolution = choice
        item.refresh()
        self._refresh_changes(item)

    def _refresh_changes(self, item: PlanItem) -> None:
        item.changes = item_changes(item.edits, self.base, self.secret_values())

    # -- export
    def to_json(self) -> list[dict[str, Any]]:
        secrets = self.secret_values()
        return [redact_json(item.to_json(), secrets) for item in self.items]


def item_changes(edits: list[Edit], base: dict[str, bytes | None],
                 secrets: tuple[str, ...]) -> list[FileChange]:
    per_path: dict[str, list[Edit]] = {}
    for edit in edits:
        per_path.setdefault(edit.path, []).append(edit)
    out = []
    for path, group in per_path.items():
        try:
            after = compose(path, base.get(path), group).data
        except (ValueError, YAMLError, ConfigError):
            continue
        if after != base.get(path):
            out.append(FileChange(path, _decode_for_display(base.get(path)),
                                  _decode_for_display(after), secrets))
    return out


# --- the builder --------------------------------------------------------------------------------


def _dig(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Builder:
    def __init__(self, claw_dir: Path, profile_dir: Path, migrate_secrets: bool,
                 home: Path | None) -> None:
        self.claw = claw_dir
        self.profile = profile_dir
        self.migrate_secrets = migrate_secrets
        self.home = home
        self.tree = SourceTree(claw_dir, claw_dir)
        self.items: list[PlanItem] = []
        self.base: dict[str, bytes | None] = {}
        self.target_errors: dict[str, str] = {}
        self.config: dict[str, Any] = {}
        self.claw_env: dict[str, str] = {}
        self.claimed_skill_names: set[str] = set()
        self.secret_seen: dict[str, tuple[str, str]] = {}  # env key -> (value, item id)
        self.all_secrets: set[str] = set()

    # -- targets
    def target(self, rel: str) -> bytes | None:
        """Current bytes of a profile file (None: absent); errors remembered per path."""
        if rel not in self.base and rel not in self.target_errors:
            path = self.profile / rel
            try:
                self.base[rel] = path.read_bytes() if path.exists() else None
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
        text = self.target_text("config.yaml")
        if text is None:
            return None
        try:
            return load_yaml_doc(text.removeprefix("\ufeff"))
        except ConfigError as exc:
            raise SourceError(f"the profile's config.yaml cannot be read as YAML: {exc}") from None

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

    def error(self, kind: ItemKind, item_id: str, source: str, destination: str, reason: str,
              secret: bool = False) -> None:
        self.add(PlanItem(item_id, kind, source, destination, ItemStatus.error, reason,
                          secret=secret, selected=False))

    def skip(self, kind: ItemKind, item_id: str, source: str, destination: str, reason: str,
             secret: bool = False) -> None:
        self.add(PlanItem(item_id, kind, source, destination, ItemStatus.skipped, reason,
                          secret=secret, selected=False))

    # -- the run
    def step(self, kind: ItemKind, name: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Run one part of the plan; an OS error there (say, a folder that cannot be
        entered) becomes an error item and the other parts still run."""
        try:
            return fn(*args)
        except OSError as exc:
            self.error(kind, f"{kind}:{name}", exc.filename and self.tree.name(Path(exc.filename)) or name,
                       "—", describe_os_error(exc, exc.filename, action="read"))
            return None

    def build(self) -> Plan:
        try:
            os.listdir(self.claw)
        except OSError as exc:
            self.error(ItemKind.config, "config:claw_dir", str(self.claw), "—",
                       describe_os_error(exc, self.claw, action="read"))
            return Plan(self.claw, self.profile, self.items, self.base)
        s = self.step
        s(ItemKind.config, "openclaw.json", self.load_config)
        s(ItemKind.secret, ".env", self.load_claw_env)
        workspace = s(ItemKind.config, "workspace", self.find_workspace)
        if workspace is not None:
            s(ItemKind.soul, "SOUL.md", self.soul, workspace)
            s(ItemKind.agents_md, "AGENTS.md", self.agents_md, workspace)
            s(ItemKind.memory, "MEMORY.md", self.memory_file, workspace, "MEMORY.md",
              ItemKind.memory, "memories/MEMORY.md")
            s(ItemKind.user_profile, "USER.md", self.memory_file, workspace, "USER.md",
              ItemKind.user_profile, "memories/USER.md")
            s(ItemKind.daily_memory, "memory", self.daily_memory, workspace)
            s(ItemKind.skills, "skills", self.skills, workspace / "skills", ItemKind.skills, workspace)
        s(ItemKind.shared_skills, "skills", self.shared_skills, workspace)
        if workspace is not None:
            s(ItemKind.tts, "tts", self.tts, workspace)
        s(ItemKind.model, "model", self.model)
        s(ItemKind.custom_providers, "providers", self.custom_providers)
        s(ItemKind.mcp_servers, "servers", self.mcp_servers)
        s(ItemKind.command_allowlist, "exec-approvals.json", self.command_allowlist)
        s(ItemKind.tts, "tts-config", self.tts_config)
        s(ItemKind.session_reset, "session", self.session_reset)
        s(ItemKind.agent_settings, "agents.defaults", self.agent_settings)
        s(ItemKind.browser, "browser", self.browser)
        s(ItemKind.channel_settings, "channels", self.channels)
        s(ItemKind.channel_settings, "MESSAGING_CWD", self.messaging_cwd)
        s(ItemKind.secret, "secrets", self.secrets)
        s(ItemKind.archive, "archive", self.archive, workspace)
        # The same dict: a later "rename" adds the new (absent) targets to it.
        plan = Plan(self.claw, self.profile, self.items, self.base)
        for item in plan.items:
            plan._refresh_changes(item)
        return plan

    # -- source config
    def load_config(self) -> None:
        path = config_file(self.claw)
        name = self.tree.name(path)
        if not path.exists() and not path.is_symlink():
            self.skip(ItemKind.config, "config:openclaw.json", name, "—",
                      "no openclaw.json: settings, channels and keys are not migrated")
            return
        try:
            text = self.tree.read_text(path)
            self.config = parse_config_text(text)
        except SourceError as exc:
            self.error(ItemKind.config, "config:openclaw.json", name, "—",
                       f"{exc} Settings from it are left out; the rest proceeds.")
        except ConfigSyntaxError as exc:
            self.error(ItemKind.config, "config:openclaw.json", name, "—",
                       f"{name} is malformed ({exc}); settings, channels and keys from it are "
                       "left out, the rest proceeds.")

    def load_claw_env(self) -> None:
        path = self.claw / ".env"
        if not path.exists() and not path.is_symlink():
            return
        try:
            self.claw_env = parse_env(self.tree.read_text(path))
        except SourceError as exc:
            self.error(ItemKind.secret, "source:.env", ".env", ".env", str(exc))

    def find_workspace(self) -> Path | None:
        for name in WORKSPACE_CANDIDATES:
            candidate = self.claw / name
            if candidate.is_dir() or candidate.is_symlink():
                try:
                    self.tree.check_inside(candidate)
                except SourceError as exc:
                    self.error(ItemKind.config, f"workspace:{name}", name, "—", str(exc))
                    return None
                if candidate.is_dir():
                    return candidate
        configured = _dig(self.config, "agents.defaults.workspace")
        if isinstance(configured, str) and configured.strip():
            path = self.expand_source_path(configured)
            if path.is_dir():
                # An explicitly configured workspace outside the Claw dir is its own tree.
                if not path.resolve().is_relative_to(self.tree.real):
                    self.tree_ws = SourceTree(path, path)
                return path
        return None

    def expand_source_path(self, value: str) -> Path:
        """A path from openclaw.json; ``~/.openclaw/...`` (any legacy name) maps into claw_dir."""
        parts = Path(value).parts
        if len(parts) >= 2 and parts[0] == "~" and parts[1] in (".openclaw", ".clawdbot", ".moltbot"):
            return self.claw.joinpath(*parts[2:])
        if parts and parts[0] == "~" and self.home is not None:
            return self.home.joinpath(*parts[1:])
        return Path(value).expanduser()

    def ws_tree(self, workspace: Path) -> SourceTree:
        tree = getattr(self, "tree_ws", None)
        if tree is not None and workspace == tree.root:
            return tree
        return self.tree

    # -- files
    def soul(self, ws: Path) -> None:
        src = ws / "SOUL.md"
        tree = self.ws_tree(ws)
        item_id, dest = "soul", "SOUL.md"
        if not src.exists() and not src.is_symlink():
            return self.skip(ItemKind.soul, item_id, tree.name(src), dest, "no SOUL.md in the workspace")
        try:
            text = rebrand(tree.read_text(src))
            current = self.target(dest)
            if dest in self.target_errors:
                raise SourceError(self.target_errors[dest])
        except SourceError as exc:
            return self.error(ItemKind.soul, item_id, tree.name(src), dest, str(exc))
        data = text.encode("utf-8")
        edits = [Edit(dest, "write", (data, 0o600))]
        if current == data:
            status, reason = ItemStatus.skipped, "already matches"
        elif current is not None:
            status, reason = ItemStatus.conflict, "SOUL.md already exists in the profile and differs"
        else:
            status, reason = ItemStatus.migrated, "copied with OpenClaw → Hermes rebranding"
        self.add(PlanItem(item_id, ItemKind.soul, tree.name(src), dest, status, reason, edits=edits))

    def agents_md(self, ws: Path) -> None:
        src = ws / "AGENTS.md"
        if src.exists():
            self.skip(ItemKind.agents_md, "agents_md", self.ws_tree(ws).name(src), "—",
                      "workspace rules need a workspace target; not migrated (kept in OpenClaw)")

    def memory_caps(self) -> tuple[int, int]:
        try:
            doc = self.config_doc()
        except SourceError:
            doc = None
        mem = doc.get("memory") if isinstance(doc, dict) else None
        mem = mem if isinstance(mem, dict) else {}

        def num(key: str, default: int) -> int:
            value = mem.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default

        return num("memory_char_limit", MEMORY_CHAR_LIMIT), num("user_char_limit", USER_CHAR_LIMIT)

    def memory_item(self, kind: ItemKind, item_id: str, source: str, dest: str,
                    entries: list[str], overflow_name: str, planned: list[str]) -> None:
        """An item merging ``entries`` into ``dest``; ``planned`` are earlier items' entries."""
        cap = self.memory_caps()[1 if dest.endswith("USER.md") else 0]
        try:
            current = split_memory(self.target_text(dest) or "")
        except SourceError as exc:
            return self.error(kind, item_id, source, dest, str(exc))
        before, _ = merge_entries(current, planned, cap)
        after, over = merge_entries(before, entries, cap)
        added = len(after) - len(before)
        edits = [Edit(dest, "memory", (entries, cap, overflow_name))]
        if not entries:
            status, reason = ItemStatus.skipped, "no entries found"
        elif added == 0 and not over:
            status, reason = ItemStatus.skipped, "already matches (every entry is there)"
        elif added == 0 and self.overflowed_before(overflow_name, over):
            status = ItemStatus.skipped
            reason = (f"no room under the {cap}-character cap; its {len(over)} entries are "
                      f"already in overflow/{overflow_name}_overflow.txt of an earlier run")
        elif added == 0:
            # Nothing fits, but the entries are kept: selecting the item writes them to the
            # run's overflow file (deselecting leaves them out).
            status = ItemStatus.archived
            reason = (f"no room under the {cap}-character cap: its {len(over)} entries go to "
                      f"overflow/{overflow_name}_overflow.txt in the run folder, not into {dest}")
        else:
            status = ItemStatus.migrated
            reason = f"{added} entries merged (§-separated, cap {cap} characters)"
            if over:
                reason += (f"; {len(over)} over the cap go to overflow/{overflow_name}_overflow.txt "
                           "in the run folder")
        self.add(PlanItem(item_id, kind, source, dest, status, reason, edits=edits))
        planned.extend(entries)

    def overflowed_before(self, name: str, entries: list[str]) -> bool:
        """Every one of ``entries`` is in the overflow file of an earlier (not undone) run."""
        for run in previous_archives(self.profile):
            data = _read_or_none(run / "overflow" / f"{name}_overflow.txt")
            if data is not None:
                lines = set(data.decode("utf-8", "replace").splitlines())
                if all(entry in lines for entry in entries):
                    return True
        return False

    def memory_file(self, ws: Path, name: str, kind: ItemKind, dest: str) -> None:
        src = ws / name
        tree = self.ws_tree(ws)
        if not src.exists() and not src.is_symlink():
            return self.skip(kind, str(kind), tree.name(src), dest, f"no {name} in the workspace")
        try:
            entries = [rebrand(e) for e in extract_entries(tree.read_text(src))]
        except SourceError as exc:
            return self.error(kind, str(kind), tree.name(src), dest, str(exc))
        planned = self.planned_memory.setdefault(dest, [])
        self.memory_item(kind, str(kind), tree.name(src), dest, entries,
                         "user" if kind is ItemKind.user_profile else "memory", planned)

    @property
    def planned_memory(self) -> dict[str, list[str]]:
        if not hasattr(self, "_planned_memory"):
            self._planned_memory: dict[str, list[str]] = {}
        return self._planned_memory

    def daily_memory(self, ws: Path) -> None:
        folder = ws / "memory"
        tree = self.ws_tree(ws)
        if not folder.is_dir():
            return
        try:
            tree.check_inside(folder)
            names = sorted(p for p in folder.iterdir() if p.suffix == ".md")
        except SourceError as exc:
            return self.error(ItemKind.daily_memory, "daily_memory", tree.name(folder),
                              "memories/MEMORY.md", str(exc))
        except OSError as exc:
            return self.error(ItemKind.daily_memory, "daily_memory", tree.name(folder),
                              "memories/MEMORY.md", describe_os_error(exc, folder, action="read"))
        dest = "memories/MEMORY.md"
        planned = self.planned_memory.setdefault(dest, [])
        for path in names:
            item_id = f"daily_memory:{path.name}"
            try:
                entries = [rebrand(e) for e in extract_entries(tree.read_text(path))]
            except SourceError as exc:
                self.error(ItemKind.daily_memory, item_id, tree.name(path), dest, str(exc))
                continue
            if entries and not re.match(r"\d{4}-\d{2}-\d{2}", entries[0]):
                entries = [f"{path.stem}: {e}" for e in entries]
            self.memory_item(ItemKind.daily_memory, item_id, tree.name(path), dest, entries,
                             "memory", planned)

    # -- skills and trees
    def skills(self, folder: Path, kind: ItemKind, ws: Path | None, tree: SourceTree | None = None,
               prefix: str = "") -> None:
        tree = tree or (self.ws_tree(ws) if ws is not None else self.tree)
        if not folder.is_dir() and not folder.is_symlink():
            return
        try:
            tree.check_inside(folder)
            entries = sorted(folder.iterdir())
        except SourceError as exc:
            return self.error(kind, f"{kind}:{tree.name(folder)}", tree.name(folder), IMPORTS_DIR, str(exc))
        except OSError as exc:
            return self.error(kind, f"{kind}:{tree.name(folder)}", tree.name(folder), IMPORTS_DIR,
                              describe_os_error(exc, folder, action="read"))
        for skill_dir in entries:
            name = skill_dir.name
            item_id = f"{'skill' if kind is ItemKind.skills else 'shared_skill'}:{prefix}{name}"
            if skill_dir.is_symlink():
                try:
                    tree.check_inside(skill_dir)
                except SourceError as exc:
                    self.error(kind, item_id, tree.name(skill_dir), f"{IMPORTS_DIR}/{name}", str(exc))
                    continue
            if not skill_dir.is_dir() or not (skill_dir / "SKILL.md").exists():
                continue
            self.skill(kind, item_id, name, skill_dir, tree)

    def tree_item(self, kind: ItemKind, item_id: str, src_dir: Path, tree: SourceTree,
                  dest_dir: str, *, renamable: bool, extra: list[Edit] | None = None) -> None:
        source = tree.name(src_dir)
        files, escapes, errors = tree.walk(src_dir)
        for note in escapes:
            self.error(kind, f"link:{note.split(' ')[0]}", note.split(" ")[0], dest_dir, note)
        if errors:
            return self.error(kind, item_id, source, dest_dir, " ".join(errors))

        def edits_for(dest: str) -> list[Edit]:
            return [Edit(f"{dest}/{rel}", "write", (data, mode)) for rel, data, mode in files] + (extra or [])

        edits = edits_for(dest_dir)
        for edit in edits:
            self.target(edit.path)
        existing = (self.profile / dest_dir)
        same = all(self.base.get(f"{dest_dir}/{rel}") == data for rel, data, _ in files)
        if existing.exists() and same:
            status, reason = ItemStatus.skipped, "already matches"
        elif existing.exists() and renamable:
            status, reason = ItemStatus.conflict, f"{dest_dir}/ already exists and differs"
        elif existing.exists():
            differing = [rel for rel, data, _ in files
                         if self.base.get(f"{dest_dir}/{rel}") not in (None, data)]
            if differing:
                status = ItemStatus.conflict
                reason = f"{len(differing)} file(s) in {dest_dir}/ exist and differ: {', '.join(differing[:3])}"
            else:
                status, reason = ItemStatus.migrated, f"{len(files)} file(s) copied (existing ones kept)"
                edits = [e for e in edits if self.base.get(e.path) is None]
        else:
            status, reason = ItemStatus.migrated, f"{len(files)} file(s) copied"
        if escapes and status is not ItemStatus.skipped:
            reason += f"; {len(escapes)} link(s) left out"
        item = PlanItem(item_id, kind, source, dest_dir, status, reason, edits=edits)
        if renamable:
            item.allowed = ("overwrite", "skip")

            chosen: list[tuple[str, list[Edit]]] = []

            def renamer() -> tuple[str, list[Edit]]:
                if chosen:
                    return chosen[0]
                base_name = dest_dir.rsplit("/", 1)[-1]
                n = 1
                while True:
                    suffix = "-imported" if n == 1 else f"-imported-{n}"
                    new_dest = f"{dest_dir.rsplit('/', 1)[0]}/{base_name}{suffix}"
                    new_name = base_name + suffix
                    if not (self.profile / new_dest).exists() and new_name not in self.claimed_skill_names:
                        self.claimed_skill_names.add(new_name)
                        new_edits = edits_for(new_dest)
                        for edit in new_edits:
                            self.base.setdefault(edit.path, None)
                        chosen.append((new_dest, new_edits))
                        return chosen[0]
                    n += 1

            item.renamer = renamer
        self.add(item)

    def skill(self, kind: ItemKind, item_id: str, name: str, skill_dir: Path, tree: SourceTree) -> None:
        dest = f"{IMPORTS_DIR}/{name}"
        desc = Edit(f"{IMPORTS_DIR}/DESCRIPTION.md", "create",
                    (b"Skills imported from OpenClaw by hermes-tui.\n", 0o644))
        self.target(desc.path)
        if name in self.claimed_skill_names:
            # Same name as a skill planned earlier: never merge two skills into one folder.
            self.tree_item(kind, item_id, skill_dir, tree, dest, renamable=True, extra=[desc])
            item = self.items[-1]
            if item.base_status is not ItemStatus.error:
                item.status = item.base_status = ItemStatus.conflict
                item.reason = item.base_reason = "another imported skill already has this name"
                item.allowed = ("skip",)
            return
        self.claimed_skill_names.add(name)
        self.tree_item(kind, item_id, skill_dir, tree, dest, renamable=True, extra=[desc])

    def shared_skills(self, ws: Path | None) -> None:
        self.skills(self.claw / "skills", ItemKind.shared_skills, None, self.tree)
        if ws is not None:
            self.skills(ws / ".agents" / "skills", ItemKind.shared_skills, ws, prefix="agents:")
        if self.home is not None:
            folder = self.home / ".agents" / "skills"
            if folder.is_dir():
                self.skills(folder, ItemKind.shared_skills, None, SourceTree(folder, self.home),
                            prefix="home:")

    def tts(self, ws: Path) -> None:
        folder = ws / "tts"
        if folder.is_dir():
            tree = self.ws_tree(ws)
            try:
                tree.check_inside(folder)
            except SourceError as exc:
                return self.error(ItemKind.tts, "tts", tree.name(folder), "tts", str(exc))
            self.tree_item(ItemKind.tts, "tts", folder, tree, "tts", renamable=False)

    # -- config.yaml
    def yaml_item(self, kind: ItemKind, item_id: str, source: str, dest: str,
                  decide: Callable[[CommentedMap | None], tuple[ItemStatus, str]],
                  mutate: Callable[[CommentedMap], None], *, secret: bool = False,
                  secret_values: tuple[str, ...] = (), allowed: tuple[str, ...] = ("overwrite", "skip"),
                  need_config: bool = False) -> None:
        try:
            doc = self.config_doc()
        except SourceError as exc:
            return self.error(kind, item_id, source, dest, str(exc), secret=secret)
        if need_config and doc is None:
            return self.skip(kind, item_id, source, dest,
                             "the profile has no config.yaml yet (create the profile first)")
        status, reason = decide(doc)
        item = PlanItem(item_id, kind, source, dest, status, reason, secret=secret,
                        edits=[Edit("config.yaml", "yaml", mutate)], secret_values=secret_values)
        item.allowed = allowed
        self.all_secrets.update(secret_values)
        self.add(item)

    def model(self) -> None:
        defaults = _dig(self.config, "agents.defaults")
        if not isinstance(defaults, dict):
            return
        raw = defaults.get("model")
        source = "openclaw.json agents.defaults.model"
        if isinstance(raw, dict):
            raw, source = raw.get("primary"), source + ".primary"
        if not isinstance(raw, str) or not raw.strip():
            return
        value = raw.strip()
        catalog = defaults.get("models") if isinstance(defaults.get("models"), dict) else {}
        if value not in catalog:
            for key, meta in catalog.items():
                if isinstance(meta, dict) and meta.get("alias") == value:
                    value = key
                    break

        dest = "config.yaml model.provider / model.default"
        target = model_target(value, self.providers())
        alias = f" (alias {raw!r} resolved)" if value != raw else ""
        if target is None:
            return self.skip(ItemKind.model, "model", source, dest,
                             f"{value}{alias}: its provider is neither built into Hermes nor "
                             "configured with a baseUrl in openclaw.json; choose the model in "
                             "Hermes (hermes model)")

        def current(doc: CommentedMap | None) -> tuple[str, str]:
            model = doc.get("model") if doc is not None else None
            if isinstance(model, dict):
                default, provider = model.get("default"), model.get("provider")
            else:
                default, provider = model, None
            return (default.strip() if isinstance(default, str) else "",
                    provider.strip() if isinstance(provider, str) else "")

        def decide(doc: CommentedMap | None) -> tuple[ItemStatus, str]:
            default, provider = current(doc)
            if default == target.default and provider == target.provider:
                return ItemStatus.skipped, "already matches"
            # What an earlier migration wrote (the full reference, no provider) is upgraded.
            if (default or provider) and not (default == value and not provider):
                shown = f"{default!r}" + (f" (provider {provider!r})" if provider else "")
                return ItemStatus.conflict, f"config.yaml already sets model {shown}"
            via = (f"the custom_providers entry from provider:{target.source_provider}"
                   if target.custom else "built into Hermes")
            return ItemStatus.migrated, (f"model.provider = {target.provider} ({via}), "
                                         f"model.default = {target.default}{alias}")

        def mutate(doc: CommentedMap) -> None:
            model = _block_mapping(doc, "model")
            model["default"] = target.default
            model["provider"] = target.provider
            # A base_url left from another provider would redirect this one's requests.
            model.pop("base_url", None)

        self.yaml_item(ItemKind.model, "model", source, dest, decide, mutate)

    def providers(self) -> dict[str, dict[str, Any]]:
        providers = _dig(self.config, "models.providers")
        return {str(k): v for k, v in providers.items() if isinstance(v, dict)} if isinstance(providers, dict) else {}

    def custom_providers(self) -> None:
        for pid, body in self.providers().items():
            item_id = f"provider:{pid}"
            source = f"openclaw.json models.providers.{pid}"
            if pid.lower() in WELL_KNOWN_PROVIDERS:
                self.skip(ItemKind.custom_providers, item_id, source, "config.yaml custom_providers",
                          "built into Hermes; only its API key migrates (a secret item)")
                continue
            base_url = body.get("baseUrl") or body.get("baseURL")
            if not isinstance(base_url, str) or not base_url.strip():
                self.skip(ItemKind.custom_providers, item_id, source, "config.yaml custom_providers",
                          "no baseUrl")
                continue
            api = str(body.get("api") or body.get("apiType") or body.get("type") or "")
            api_mode = "anthropic_messages" if "anthropic" in api.lower() else "chat_completions"
            entry = {"name": pid, "base_url": base_url.strip(), "api_key": "", "api_mode": api_mode}

            def find(doc: CommentedMap | None, pid: str = pid) -> Any:
                seq = doc.get("custom_providers") if doc is not None else None
                if isinstance(seq, list):
                    for existing in seq:
                        if isinstance(existing, dict) and str(existing.get("name", "")).lower() == pid.lower():
                            return existing
                return None

            def decide(doc: CommentedMap | None, entry: dict = entry, find: Callable = find) -> tuple[ItemStatus, str]:
                existing = find(doc)
                if existing is None:
                    return ItemStatus.migrated, (f"{entry['name']} → {entry['base_url']} "
                                                 f"({entry['api_mode']}; api_key left empty)")
                if (existing.get("base_url") == entry["base_url"]
                        and existing.get("api_mode", "chat_completions") == entry["api_mode"]):
                    return ItemStatus.skipped, "already matches"
                return ItemStatus.conflict, f"config.yaml already has a provider named {existing.get('name')!r} that differs"

            def mutate(doc: CommentedMap, entry: dict = entry, find: Callable = find) -> None:
                seq = doc.get("custom_providers")
                if not isinstance(seq, list):
                    seq = CommentedSeq()
                    doc["custom_providers"] = seq
                existing = find(doc)
                if existing is None:
                    seq.append(to_yaml(entry))
                else:
                    for key in ("name", "base_url", "api_mode"):
                        existing[key] = entry[key]
                    existing.setdefault("api_key", "")

            self.yaml_item(ItemKind.custom_providers, item_id, source,
                           f"config.yaml custom_providers[{pid}]", decide, mutate)

    def mcp_servers(self) -> None:
        servers = _dig(self.config, "mcp.servers")
        if not isinstance(servers, dict):
            return
        for name, body in servers.items():
            item_id = f"mcp:{name}"
            source = f"openclaw.json mcp.servers.{name}"
            dest = f"config.yaml mcp_servers.{name}"
            if not isinstance(body, dict):
                self.error(ItemKind.mcp_servers, item_id, source, dest, "not an object")
                continue
            entry = mcp_entry(str(name), body)
            converted = entry.config
            needed = [c.var for c in entry.credentials] + entry.references
            found = find_secrets_in(body)
            self.all_secrets.update(found)
            notes = []
            if needed:
                refs = ", ".join(f"${{{var}}}" for var in dict.fromkeys(needed))
                if self.migrate_secrets:
                    notes.append(f"credentials as {refs}; their values go to .env (secret rows)")
                else:
                    notes.append(f"credentials as {refs}: set them in .env (or select their "
                                 "secret rows / --migrate-secrets), or the server cannot log in")
            if entry.dropped:
                notes.append("left out: " + ", ".join(entry.dropped))
            note = "; " + "; ".join(notes) if notes else ""

            def decide(doc: CommentedMap | None, name: str = name, converted: dict = converted,
                       note: str = note) -> tuple[ItemStatus, str]:
                servers = doc.get("mcp_servers") if doc is not None else None
                existing = servers.get(name) if isinstance(servers, dict) else None
                if existing is None:
                    kind = "stdio" if "command" in converted else "http" if "url" in converted else "server"
                    return ItemStatus.migrated, f"{kind} server, keys in snake_case{note}"
                if plain(existing) == converted:
                    return ItemStatus.skipped, "already matches"
                return ItemStatus.conflict, f"config.yaml already has an MCP server {name!r} that differs"

            def mutate(doc: CommentedMap, name: str = name, converted: dict = converted) -> None:
                _block_mapping(doc, "mcp_servers")[name] = to_yaml(converted)

            self.yaml_item(ItemKind.mcp_servers, item_id, source, dest, decide, mutate)
            for credential in entry.credentials:
                self.secret_item(credential.var, f"{source}.{credential.where}", credential.value,
                                 what=f"MCP server {name} credential, referenced from config.yaml")
            for var in dict.fromkeys(entry.references):
                self.secret_item(var, f"{source} (${{{var}}})", f"${{{var}}}",
                                 what=f"MCP server {name} credential, referenced from config.yaml")

    def command_allowlist(self) -> None:
        path = self.claw / "exec-approvals.json"
        if not path.exists() and not path.is_symlink():
            return
        item_id, source, dest = "command_allowlist", "exec-approvals.json", "config.yaml command_allowlist"
        try:
            data = parse_config_text(self.tree.read_text(path))
        except SourceError as exc:
            return self.error(ItemKind.command_allowlist, item_id, source, dest, str(exc))
        except ConfigSyntaxError as exc:
            return self.error(ItemKind.command_allowlist, item_id, source, dest,
                              f"exec-approvals.json is malformed ({exc})")
        patterns: set[str] = set()
        agents = data.get("agents")
        for agent in (agents.values() if isinstance(agents, dict) else []):
            allow = agent.get("allowlist") if isinstance(agent, dict) else None
            for entry in allow if isinstance(allow, list) else []:
                pattern = entry.get("pattern") if isinstance(entry, dict) else entry
                if isinstance(pattern, str) and pattern.strip():
                    patterns.add(pattern.strip())
        if not patterns:
            return self.skip(ItemKind.command_allowlist, item_id, source, dest, "no allowlist patterns")

        def existing(doc: CommentedMap | None) -> list[str]:
            current = doc.get("command_allowlist") if doc is not None else None
            return [str(p) for p in current] if isinstance(current, list) else []

        def decide(doc: CommentedMap | None) -> tuple[ItemStatus, str]:
            new = patterns - set(existing(doc))
            if not new:
                return ItemStatus.skipped, "already matches (every pattern is there)"
            return ItemStatus.migrated, f"{len(new)} pattern(s) merged (deduplicated, sorted)"

        def mutate(doc: CommentedMap) -> None:
            doc["command_allowlist"] = to_yaml(sorted(set(existing(doc)) | patterns))

        self.yaml_item(ItemKind.command_allowlist, item_id, source, dest, decide, mutate,
                       need_config=True)

    # -- config.yaml settings sections (tts, session_reset, agent defaults)
    def settings_item(self, kind: ItemKind, item_id: str, source: str, dest: str,
                      values: dict[str, Any], note: str = "") -> None:
        """An item setting leaf keys of config.yaml (``values``: dotted path -> value).

        Other keys of the same sections are kept. Conflict rules as for the other config.yaml
        rows: a key already set to a different value makes the item a conflict (overwrite sets
        every key of the item); every key already equal: skipped "already matches".
        """
        values = {k: v for k, v in values.items() if v is not None}
        if not values:
            return

        def decide(doc: CommentedMap | None) -> tuple[ItemStatus, str]:
            differing, new = [], []
            for dotted, value in values.items():
                now = _yaml_lookup(doc, dotted)
                if isinstance(now, _NotMapping):
                    differing.append(f"{now.path} is not a mapping")
                elif now is None or now == "":
                    new.append(f"{dotted} = {value}")
                elif plain(now) != value:
                    differing.append(f"{dotted} = {plain(now)!r}")
            if differing:
                return ItemStatus.conflict, f"config.yaml already sets {', '.join(differing)}"
            if not new:
                return ItemStatus.skipped, "already matches"
            return ItemStatus.migrated, ", ".join(new) + (f"; {note}" if note else "")

        def mutate(doc: CommentedMap) -> None:
            for dotted, value in values.items():
                *parents, leaf = dotted.split(".")
                node = doc
                for part in parents:
                    node = _block_mapping(node, part)
                node[leaf] = to_yaml(value)

        self.yaml_item(kind, item_id, source, dest, decide, mutate)

    def tts_config(self) -> None:
        """messages.tts / talk -> config.yaml tts, as [MIG] ``migrate_tts_config`` maps it.

        provider (elevenlabs/openai/edge), elevenlabs{voice_id, model_id}, openai{model, voice},
        edge{voice}. Provider settings are read from messages.tts.providers.<p>, then
        talk.providers.<p>, then the legacy flat messages.tts.<p>; talk.voiceId/modelId are
        the ElevenLabs fallback. Unlike [MIG], a ``talk`` block alone is mapped too, and
        talk.provider is a fallback for messages.tts.provider. The API keys are separate
        secret items (ELEVENLABS_API_KEY / VOICE_TOOLS_OPENAI_KEY, see ``secrets``).
        """
        tts = _dig(self.config, "messages.tts")
        tts = tts if isinstance(tts, dict) else {}
        talk = self.config.get("talk")
        talk = talk if isinstance(talk, dict) else {}
        if not tts and not talk:
            return
        providers = tts.get("providers") if isinstance(tts.get("providers"), dict) else {}
        talk_providers = talk.get("providers") if isinstance(talk.get("providers"), dict) else {}

        def pick(name: str) -> dict[str, Any]:
            for candidate in (providers.get(name), talk_providers.get(name), tts.get(name)):
                if isinstance(candidate, dict):
                    return candidate
            return {}

        def text(*candidates: Any) -> str | None:
            for value in candidates:
                if isinstance(value, str) and value.strip():
                    return value.strip()
            return None

        values: dict[str, Any] = {}
        provider = text(tts.get("provider"), talk.get("provider"))
        if provider in ("elevenlabs", "openai", "edge"):
            values["tts.provider"] = provider
        eleven, openai, edge = pick("elevenlabs"), pick("openai"), pick("edge")
        values["tts.elevenlabs.voice_id"] = text(eleven.get("voiceId"), talk.get("voiceId"))
        values["tts.elevenlabs.model_id"] = text(eleven.get("modelId"), talk.get("modelId"))
        values["tts.openai.model"] = text(openai.get("model"), openai.get("modelId"))
        values["tts.openai.voice"] = text(openai.get("voice"))
        values["tts.edge.voice"] = text(edge.get("voice"))
        source = "openclaw.json " + " + ".join(
            name for name, block in (("messages.tts", tts), ("talk", talk)) if block)
        if not any(v is not None for v in values.values()):
            return self.skip(ItemKind.tts, "tts:config", source, "config.yaml tts",
                             "no TTS setting Hermes reads (provider, voice, model); kept in the archive")
        self.settings_item(ItemKind.tts, "tts:config", source, "config.yaml tts", values,
                           note="API keys are separate secret items")

    def session_reset(self) -> None:
        """session.reset / resetTriggers -> config.yaml session_reset, as [MIG] maps it.

        reset{mode, atHour, idleMinutes} -> {mode, at_hour, idle_minutes} (mode passed through,
        "none" when missing); otherwise resetTriggers ["daily", "idle"] -> mode both / daily /
        idle. The advanced keys (identityLinks, threadBindings, ...) stay archived only.
        """
        session = self.config.get("session")
        if not isinstance(session, dict):
            return
        reset = session.get("reset")
        triggers = session.get("resetTriggers") or session.get("reset_triggers")
        item_id, dest = "session_reset", "config.yaml session_reset"
        note = "other session settings stay in the archive"
        values: dict[str, Any] = {}
        if isinstance(reset, dict) and reset:
            source = "openclaw.json session.reset"
            mode = reset.get("mode")
            values["session_reset.mode"] = mode if isinstance(mode, str) and mode else "none"
            at_hour = reset.get("atHour")
            if isinstance(at_hour, int) and not isinstance(at_hour, bool):
                values["session_reset.at_hour"] = at_hour
            idle = reset.get("idleMinutes")
            if isinstance(idle, int) and not isinstance(idle, bool) and idle > 0:
                values["session_reset.idle_minutes"] = idle
        elif isinstance(triggers, list) and triggers:
            source = "openclaw.json session.resetTriggers"
            daily, idle_on = "daily" in triggers, "idle" in triggers
            mode = "both" if daily and idle_on else "daily" if daily else "idle" if idle_on else None
            if mode is None:
                return self.skip(ItemKind.session_reset, item_id, source, dest,
                                 "no reset trigger Hermes knows (daily, idle); kept in the archive")
            values["session_reset.mode"] = mode
        else:
            return
        self.settings_item(ItemKind.session_reset, item_id, source, dest, values, note=note)

    def agent_settings(self) -> None:
        """agents.defaults misc, tools.exec and sandbox -> config.yaml, as [MIG]
        ``migrate_agent_config`` maps them, one item per config.yaml section:

        - agent: max_turns = min(timeoutSeconds // 10, 200) ([MIG]'s heuristic; left out
          below 1), verbose = verboseDefault, reasoning_effort from thinkingDefault
          (always/high -> high, auto/medium -> medium, off/low/none -> low; others left out)
        - compression.enabled = compaction.mode != "off"; compaction.model goes to
          auxiliary.compression.model as the formats reference §2.1 names it (some [MIG]
          versions write compression.summary_model instead)
        - human_delay{mode, min_ms, max_ms} from humanDelay{mode (or "natural" when only
          enabled: true), minMs, maxMs}; unlike [MIG], mode "off" is carried over too
        - timezone = userTimezone
        - terminal.timeout = tools.exec.timeoutSec (or .timeout); a docker sandbox gives
          terminal.backend = docker and terminal.docker_image = sandbox.docker.image (other
          sandbox backends have no Hermes equivalent and are not mapped, as in [MIG])
        """
        defaults = _dig(self.config, "agents.defaults")
        defaults = defaults if isinstance(defaults, dict) else {}
        kind = ItemKind.agent_settings

        def number(value: Any) -> int | float | None:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
            return value if ok else None

        def text(value: Any) -> str | None:
            return value.strip() if isinstance(value, str) and value.strip() else None

        # agent
        values: dict[str, Any] = {}
        used = []
        timeout = number(defaults.get("timeoutSeconds"))
        if timeout is not None and int(timeout) // 10 >= 1:
            values["agent.max_turns"] = min(int(timeout) // 10, 200)
            used.append("timeoutSeconds")
        verbose = defaults.get("verboseDefault")
        if verbose not in (None, "", False):
            values["agent.verbose"] = plain(verbose)
            used.append("verboseDefault")
        thinking = defaults.get("thinkingDefault")
        effort = {"always": "high", "high": "high", "auto": "medium", "medium": "medium",
                  "off": "low", "low": "low", "none": "low"}.get(str(thinking).strip().lower())
        if thinking is not None and effort:
            values["agent.reasoning_effort"] = effort
            used.append("thinkingDefault")
        if values:
            note = "max_turns is timeoutSeconds / 10 (at most 200)" if "timeoutSeconds" in used else ""
            self.settings_item(kind, "settings:agent", "openclaw.json agents.defaults." + "/".join(used),
                               "config.yaml agent", values, note=note)

        compaction = defaults.get("compaction")
        if isinstance(compaction, dict) and compaction:
            values = {"compression.enabled": compaction.get("mode") != "off",
                      "auxiliary.compression.model": text(compaction.get("model"))}
            self.settings_item(kind, "settings:compression", "openclaw.json agents.defaults.compaction",
                               "config.yaml compression / auxiliary.compression.model", values)

        delay = defaults.get("humanDelay")
        if isinstance(delay, dict) and delay:
            mode = text(delay.get("mode")) or ("natural" if delay.get("enabled") else None)
            values = {"human_delay.mode": mode, "human_delay.min_ms": number(delay.get("minMs")),
                      "human_delay.max_ms": number(delay.get("maxMs"))}
            self.settings_item(kind, "settings:human_delay", "openclaw.json agents.defaults.humanDelay",
                               "config.yaml human_delay", values)

        zone = text(defaults.get("userTimezone"))
        if zone:
            self.settings_item(kind, "settings:timezone", "openclaw.json agents.defaults.userTimezone",
                               "config.yaml timezone", {"timezone": zone})

        values, sources = {}, []
        exec_cfg = _dig(self.config, "tools.exec")
        if isinstance(exec_cfg, dict):
            seconds = number(exec_cfg.get("timeoutSec")) or number(exec_cfg.get("timeout"))
            if seconds is not None:
                values["terminal.timeout"] = seconds
                sources.append("tools.exec.timeoutSec")
        sandbox = defaults.get("sandbox")
        if isinstance(sandbox, dict) and sandbox.get("backend") == "docker":
            values["terminal.backend"] = "docker"
            values["terminal.docker_image"] = text(_dig(sandbox, "docker.image"))
            sources.append("agents.defaults.sandbox")
        if values:
            self.settings_item(kind, "settings:terminal", "openclaw.json " + " + ".join(sources),
                               "config.yaml terminal", values)

    def browser(self) -> None:
        """browser.cdpUrl -> browser.cdp_url; browser.headless -> browser.headed (negated).

        Hermes 0.19.0 reads ``browser.headed`` (tools/browser_tool.py; DEFAULT_CONFIG has no
        ``headless``), so the setting is carried over as its opposite. The other browser
        keys stay in the archive.
        """
        browser = self.config.get("browser")
        if not isinstance(browser, dict):
            return
        cdp = browser.get("cdpUrl") or browser.get("cdp_url")
        headless = browser.get("headless")
        values: dict[str, Any] = {
            "browser.cdp_url": cdp.strip() if isinstance(cdp, str) and cdp.strip() else None,
            "browser.headed": (not headless) if isinstance(headless, bool) else None,
        }
        if all(v is None for v in values.values()):
            return
        note = "headless is Hermes's headed, negated; other browser keys stay in the archive"
        self.settings_item(ItemKind.browser, "settings:browser", "openclaw.json browser",
                           "config.yaml browser", values, note=note)

    # -- .env
    def env_item(self, kind: ItemKind, item_id: str, source: str, key: str, value: str, *,
                 secret: bool = False, note: str = "", list_value: bool = False,
                 group: str | None = None, extra: list[Edit] | None = None) -> None:
        dest = f".env {key}"
        try:
            current = self.env_values().get(key, "")
        except SourceError as exc:
            return self.error(kind, item_id, source, dest, str(exc), secret=secret)

        def same(a: str, b: str) -> bool:
            if list_value:
                return {x.strip() for x in a.split(",") if x.strip()} == {x.strip() for x in b.split(",") if x.strip()}
            return a == b

        if current and same(current, value):
            status, reason = ItemStatus.skipped, "already matches"
        elif current:
            status, reason = ItemStatus.conflict, f"the profile's .env already sets {key} to a different value"
        elif secret:
            status, reason = ItemStatus.migrated, f"sets {key}"
        else:
            status, reason = ItemStatus.migrated, f"{key}={value}"
        if note:
            reason += f" ({note})" if secret else f"; {note}"
        secrets = (value,) if secret else ()
        self.all_secrets.update(secrets)
        edits = [Edit(".env", "env", {key: value}), *(extra or [])]
        self.add(PlanItem(item_id, kind, source, dest, status, reason, secret=secret,
                          edits=edits, secret_values=secrets, group=group))

    def channel_field(self, body: dict[str, Any], name: str) -> Any:
        if name in body:
            return body[name]
        default = _dig(body, "accounts.default")
        return default.get(name) if isinstance(default, dict) else None

    def channels(self) -> None:
        channels = self.config.get("channels")
        if not isinstance(channels, dict):
            channels = {}
        # Allowlist variables as Hermes's gateway reads them (gateway/authz_mixin.py).
        allow_keys = {"telegram": "TELEGRAM_ALLOWED_USERS", "discord": "DISCORD_ALLOWED_USERS",
                      "slack": "SLACK_ALLOWED_USERS", "whatsapp": "WHATSAPP_ALLOWED_USERS",
                      "signal": "SIGNAL_ALLOWED_USERS", "matrix": "MATRIX_ALLOWED_USERS"}
        for name, body in channels.items():
            if not isinstance(body, dict):
                continue
            src = f"openclaw.json channels.{name}"
            if body.get("enabled") is False:
                self.skip(ItemKind.channel_settings, f"channel:{name}", src, ".env",
                          "disabled in OpenClaw: not migrated")
                continue
            if name not in allow_keys:
                continue
            allow = self.channel_field(body, "allowFrom")
            ids = [str(x).strip() for x in allow if str(x).strip()] if isinstance(allow, list) else []
            sources = [f"{src}.allowFrom"] if ids else []
            if name == "telegram":
                extra = self.telegram_allow_file()
                if extra:
                    sources.append("credentials/telegram-default-allowFrom.json")
                ids += [x for x in extra if x not in ids]
            ids = list(dict.fromkeys(ids))
            note = ("WhatsApp needs pairing again: scan the QR code when the Hermes gateway starts "
                    "(hermes whatsapp)" if name == "whatsapp" else "")
            if ids:
                self.env_item(ItemKind.channel_settings, f"env:{allow_keys[name]}", " + ".join(sources),
                              allow_keys[name], ",".join(ids), note=note, list_value=True)
            if name == "whatsapp":
                self.env_item(ItemKind.channel_settings, "env:WHATSAPP_ENABLED", src,
                              "WHATSAPP_ENABLED", "true", note=note)
            if name == "signal":
                for field_name, key in (("account", "SIGNAL_ACCOUNT"), ("httpUrl", "SIGNAL_HTTP_URL")):
                    value = self.channel_field(body, field_name)
                    if isinstance(value, str) and value.strip():
                        self.env_item(ItemKind.channel_settings, f"env:{key}", f"{src}.{field_name}",
                                      key, value.strip())
            if name == "matrix":
                # gateway/config.py: MATRIX_HOMESERVER and MATRIX_USER_ID; the gateway turns
                # Matrix on only once MATRIX_ACCESS_TOKEN (a secret row) is set too.
                for field_names, key in ((("homeserverUrl", "homeserver", "homeServer"), "MATRIX_HOMESERVER"),
                                         (("userId", "user"), "MATRIX_USER_ID")):
                    field_name, value = next(
                        ((f, v) for f in field_names
                         if isinstance(v := self.channel_field(body, f), str) and v.strip()),
                        (None, None))
                    if field_name is not None and isinstance(value, str):
                        self.env_item(ItemKind.channel_settings, f"env:{key}", f"{src}.{field_name}",
                                      key, value.strip(),
                                      note="Matrix starts once MATRIX_ACCESS_TOKEN is set (secret row)")
        if "telegram" not in channels:
            extra = self.telegram_allow_file()
            if extra:
                self.env_item(ItemKind.channel_settings, "env:TELEGRAM_ALLOWED_USERS",
                              "credentials/telegram-default-allowFrom.json", "TELEGRAM_ALLOWED_USERS",
                              ",".join(extra), list_value=True)

    def telegram_allow_file(self) -> list[str]:
        if hasattr(self, "_tg_allow"):
            return self._tg_allow
        self._tg_allow: list[str] = []
        path = self.claw / "credentials" / "telegram-default-allowFrom.json"
        if path.exists() or path.is_symlink():
            try:
                data = parse_config_text(self.tree.read_text(path))
                allow = data.get("allowFrom")
                if isinstance(allow, list):
                    self._tg_allow = [str(x).strip() for x in allow if str(x).strip()]
            except (SourceError, ConfigSyntaxError) as exc:
                self.error(ItemKind.channel_settings, "source:telegram-default-allowFrom.json",
                           "credentials/telegram-default-allowFrom.json", ".env TELEGRAM_ALLOWED_USERS",
                           str(exc))
        return self._tg_allow

    def messaging_cwd(self) -> None:
        configured = _dig(self.config, "agents.defaults.workspace")
        if not isinstance(configured, str) or not configured.strip():
            return
        path = self.expand_source_path(configured)
        source = "openclaw.json agents.defaults.workspace"
        if path.resolve().is_relative_to(self.tree.real):
            return self.skip(ItemKind.channel_settings, "env:MESSAGING_CWD", source, ".env MESSAGING_CWD",
                             "the workspace lies inside the OpenClaw folder: not used as a working dir")
        self.env_item(ItemKind.channel_settings, "env:MESSAGING_CWD", source, "MESSAGING_CWD", str(path))

    # -- secrets
    def resolve_value(self, value: Any) -> tuple[str | None, str]:
        """A secret value, following ${VAR} and env SecretRefs through the Claw .env."""
        env = dict(self.claw_env)
        vars_ = self.config.get("env")
        if isinstance(vars_, dict):
            nested = vars_.get("vars")
            for src in (vars_, nested if isinstance(nested, dict) else {}):
                env.update({k: v for k, v in src.items() if isinstance(v, str)})
        if isinstance(value, dict):
            if value.get("source") == "env" and isinstance(value.get("id"), str):
                ref = value["id"]
                return (env.get(ref) or None), f"refers to ${{{ref}}}, which is not set in the OpenClaw .env"
            return None, f"a {value.get('source', 'secret')} reference: cannot be resolved offline"
        if not isinstance(value, str) or not value.strip():
            return None, "empty"
        m = _ENV_REF_RE.match(value.strip())
        if m:
            return (env.get(m.group(1)) or None), f"refers to ${{{m.group(1)}}}, which is not set in the OpenClaw .env"
        return value.strip(), ""

    def secret_item(self, key: str, source: str, raw: Any, *, extra: list[Edit] | None = None,
                    what: str = "") -> None:
        value, why = self.resolve_value(raw)
        base_id = f"secret:{key}"
        slug = re.sub(r"\s+", ":", source)
        if value is None:
            if why != "empty":
                self.skip(ItemKind.secret, f"{base_id}@{slug}", source, f".env {key}", why, secret=True)
            return
        self.all_secrets.add(value)
        seen = self.secret_seen.get(key)
        if seen is not None and seen[0] == value:
            self.add(PlanItem(f"{base_id}@{slug}", ItemKind.secret, source, f".env {key}",
                              ItemStatus.skipped, f"same value as {seen[1]}", secret=True,
                              selected=False, secret_values=(value,)))
            return
        item_id = base_id if seen is None else f"{base_id}@{slug}"
        if seen is None:
            self.secret_seen[key] = (value, item_id)
        note = what or "secret"
        if seen is not None:
            note += f"; another value for {key} comes from {seen[1]}: select only one"
        self.env_item(ItemKind.secret, item_id, source, key, value, secret=True, note=note,
                      group=f"env:{key}", extra=extra)

    def secrets(self) -> None:
        for pid, body in self.providers().items():
            if "apiKey" not in body:
                continue
            key = PROVIDER_ENV.get(pid.lower()) or f"{_env_name(pid)}_API_KEY"
            extra = None
            if pid.lower() not in WELL_KNOWN_PROVIDERS and (body.get("baseUrl") or body.get("baseURL")):
                try:
                    self.config_doc()
                    extra = [Edit("config.yaml", "yaml", _provider_key_ref(pid, key))]
                except SourceError:
                    pass  # the provider item is an error already; the key still goes to .env
            self.secret_item(key, f"openclaw.json models.providers.{pid}.apiKey", body["apiKey"],
                             extra=extra,
                             what="provider API key" + (f"; custom_providers[{pid}].key_env = {key}" if extra else ""))
        for name, value in self.claw_env.items():
            if name == "OPENCLAW_GATEWAY_TOKEN":
                self.gateway_token(f".env {name}", value)
            elif is_secret_name(name) or looks_secret(value):
                self.secret_item(name, f".env {name}", value)
            else:
                self.skip(ItemKind.secret, f"env:{name}@.env", f".env {name}", "—",
                          "not a setting Hermes reads: left in OpenClaw")
        env_block = self.config.get("env")
        if isinstance(env_block, dict):
            nested = env_block.get("vars")
            pairs = [(f"env.{k}", k, v) for k, v in env_block.items() if k != "vars"]
            if isinstance(nested, dict):
                pairs += [(f"env.vars.{k}", k, v) for k, v in nested.items()]
            for where, name, value in pairs:
                if isinstance(value, str) and (is_secret_name(name) or looks_secret(value)):
                    self.secret_item(name, f"openclaw.json {where}", value)
        self.auth_profiles()
        channels = self.config.get("channels") if isinstance(self.config.get("channels"), dict) else {}
        tokens = (("telegram", "botToken", "TELEGRAM_BOT_TOKEN"), ("discord", "token", "DISCORD_BOT_TOKEN"),
                  ("slack", "botToken", "SLACK_BOT_TOKEN"), ("slack", "appToken", "SLACK_APP_TOKEN"),
                  ("matrix", "accessToken", "MATRIX_ACCESS_TOKEN"),
                  ("mattermost", "botToken", "MATTERMOST_TOKEN"),
                  ("bluebubbles", "password", "BLUEBUBBLES_PASSWORD"))
        for channel, field_name, key in tokens:
            body = channels.get(channel)
            if isinstance(body, dict) and body.get("enabled") is not False:
                value = self.channel_field(body, field_name)
                if value:
                    self.secret_item(key, f"openclaw.json channels.{channel}.{field_name}", value,
                                     what=f"{channel} credential")
        for dotted in ("gateway.auth.token", "gateway.remote.token"):
            value = _dig(self.config, dotted)
            if value:
                self.gateway_token(f"openclaw.json {dotted}", value)
        password = _dig(self.config, "gateway.auth.password")
        if password:
            self.all_secrets.add(str(password))
            self.skip(ItemKind.secret, "secret:gateway.auth.password", "openclaw.json gateway.auth.password",
                      "—", "Hermes has no gateway password setting: not migrated", secret=True)
        singles = (("tools.web.search.brave.apiKey", "BRAVE_API_KEY"),
                   ("messages.tts.elevenlabs.apiKey", "ELEVENLABS_API_KEY"),
                   ("talk.apiKey", "ELEVENLABS_API_KEY"),
                   ("messages.tts.openai.apiKey", "VOICE_TOOLS_OPENAI_KEY"),
                   # Newer OpenClaw keeps provider settings under .providers.<name>.
                   ("messages.tts.providers.elevenlabs.apiKey", "ELEVENLABS_API_KEY"),
                   ("talk.providers.elevenlabs.apiKey", "ELEVENLABS_API_KEY"),
                   ("messages.tts.providers.openai.apiKey", "VOICE_TOOLS_OPENAI_KEY"),
                   ("talk.providers.openai.apiKey", "VOICE_TOOLS_OPENAI_KEY"))
        for dotted, key in singles:
            value = _dig(self.config, dotted)
            if value:
                self.secret_item(key, f"openclaw.json {dotted}", value)
        plugins = _dig(self.config, "plugins.entries")
        if isinstance(plugins, dict):
            for pid, body in plugins.items():
                if isinstance(body, dict) and body.get("apiKey"):
                    self.secret_item(f"PLUGIN_{_env_name(pid)}_API_KEY",
                                     f"openclaw.json plugins.entries.{pid}.apiKey", body["apiKey"])
        self.collect_other_secrets()

    def gateway_token(self, source: str, raw: Any) -> None:
        """OpenClaw's gateway token has no Hermes counterpart: no Hermes code reads a
        HERMES_GATEWAY_TOKEN, and its API server takes API_SERVER_KEY. Not migrated; the
        gateway settings are archived (token redacted)."""
        value, _ = self.resolve_value(raw)
        if value:
            self.all_secrets.add(value)
        slug = re.sub(r"\s+", ":", source)
        self.skip(ItemKind.secret, f"secret:gateway-token@{slug}", source, "—",
                  "Hermes has no gateway token setting (nothing reads HERMES_GATEWAY_TOKEN; its "
                  "API server uses API_SERVER_KEY): not migrated; the gateway settings are "
                  "archived in archive/gateway-config.json with the token redacted", secret=True)

    def auth_profiles(self) -> None:
        base = self.claw / "agents"
        if not base.is_dir():
            return
        for path in sorted(base.glob("*/agent/auth-profiles.json")):
            name = self.tree.name(path)
            try:
                data = parse_config_text(self.tree.read_text(path))
            except (SourceError, ConfigSyntaxError) as exc:
                self.error(ItemKind.secret, f"source:{name}", name, ".env", str(exc), secret=True)
                continue
            profiles = data.get("profiles")
            for pname, body in (profiles.items() if isinstance(profiles, dict) else []):
                if not isinstance(body, dict):
                    continue
                value = body.get("key") or body.get("apiKey") or body.get("token")
                provider = str(body.get("provider") or str(pname).split(":", 1)[0])
                if value:
                    key = PROVIDER_ENV.get(provider.lower()) or f"{_env_name(provider)}_API_KEY"
                    self.secret_item(key, f"{name} profiles.{pname}", value, what="provider API key")

    def collect_other_secrets(self) -> None:
        """Every secret-looking value anywhere in openclaw.json, for masking only."""
        self.all_secrets.update(find_secrets_in(self.config))

    # -- archive
    def archive(self, ws: Path | None) -> None:
        previous = previous_archives(self.profile)
        if ws is not None:
            tree = self.ws_tree(ws)
            for name in ARCHIVE_FILES:
                src = ws / name
                if not src.exists() and not src.is_symlink():
                    continue
                try:
                    data = tree.read_bytes(src)
                except SourceError as exc:
                    self.error(ItemKind.archive, f"archive:{name}", tree.name(src), f"archive/workspace/{name}", str(exc))
                    continue
                self.archive_item(f"archive:{name}", tree.name(src), f"archive/workspace/{name}",
                                  [(f"workspace/{name}", data)], previous)
            for name in ARCHIVE_DIRS:
                folder = ws / name
                if not folder.is_dir() or folder.is_symlink():
                    if folder.is_symlink():
                        self.error(ItemKind.archive, f"archive:{name}/", tree.name(folder),
                                   f"archive/workspace/{name}/", f"{tree.name(folder)} is a linked folder: not followed.")
                    continue
                files, escapes, errors = tree.walk(folder)
                for note in escapes:
                    self.error(ItemKind.archive, f"link:{note.split(' ')[0]}", note.split(" ")[0],
                               f"archive/workspace/{name}/", note)
                if errors:
                    self.error(ItemKind.archive, f"archive:{name}/", tree.name(folder),
                               f"archive/workspace/{name}/", " ".join(errors))
                    continue
                if files:
                    self.archive_item(f"archive:{name}/", tree.name(folder) + "/",
                                      f"archive/workspace/{name}/",
                                      [(f"workspace/{name}/{rel}", data) for rel, data, _ in files], previous)
        if self.config:
            secrets = tuple(self.all_secrets)
            for dotted, fname in ARCHIVE_DUMPS:
                value = _dig(self.config, dotted)
                if value in (None, {}, []):
                    continue
                dump = json.dumps(redact_json(value, secrets), indent=2, ensure_ascii=False) + "\n"
                note = ARCHIVE_NOTES.get(dotted, "secrets redacted")
                self.archive_item(f"archive:{fname}", f"openclaw.json {dotted}", f"archive/{fname}",
                                  [(fname, dump.encode("utf-8"))], previous, note=note)
            extras = {}
            channels = self.config.get("channels")
            for cname, body in (channels.items() if isinstance(channels, dict) else []):
                if isinstance(body, dict):
                    rest = {k: v for k, v in body.items() if k not in _CHANNEL_CORE_KEYS}
                    if rest:
                        extras[cname] = rest
            if extras:
                dump = json.dumps(redact_json(extras, secrets), indent=2, ensure_ascii=False) + "\n"
                self.archive_item("archive:channels-deep-config.json", "openclaw.json channels.* (other keys)",
                                  "archive/channels-deep-config.json",
                                  [("channels-deep-config.json", dump.encode("utf-8"))], previous,
                                  note="secrets redacted")

    def archive_item(self, item_id: str, source: str, dest: str, files: list[tuple[str, bytes]],
                     previous: list[Path], note: str = "") -> None:
        hit = next((run for run in previous
                    if all(_read_or_none(run / "archive" / rel) == data for rel, data in files)), None)
        if hit is not None:
            self.add(PlanItem(item_id, ItemKind.archive, source, dest, ItemStatus.skipped,
                              f"already archived in {hit.name}", selected=False))
            return
        reason = "kept for reference under the run's archive/, never activated"
        if note:
            reason += f" ({note})"
        self.add(PlanItem(item_id, ItemKind.archive, source, dest, ItemStatus.archived, reason,
                          archive=files))


def _read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes() if path.is_file() and not path.is_symlink() else None
    except OSError:
        return None


def previous_archives(profile_dir: Path) -> list[Path]:
    """Earlier (not undone) migration runs in this profile, newest first."""
    runs = profile_dir / RUNS_DIR
    try:
        found = [p for p in runs.iterdir() if p.is_dir() and not (p / UNDONE_MARKER).exists()]
    except OSError:
        return []
    return sorted(found, reverse=True)


def _env_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").upper() or "PROVIDER"


def _provider_key_ref(pid: str, key: str) -> Callable[[CommentedMap], None]:
    def mutate(doc: CommentedMap) -> None:
        seq = doc.get("custom_providers")
        for entry in seq if isinstance(seq, list) else []:
            # Hermes reads a custom provider's key from the environment named by key_env
            # (the same mechanism the LLM bridge uses); the key itself stays in .env.
            if (isinstance(entry, dict) and str(entry.get("name", "")).lower() == pid.lower()
                    and not entry.get("api_key") and not entry.get("key_env")):
                entry["key_env"] = key
    return mutate


class _NotMapping:
    """Found where ``_yaml_lookup`` needed a mapping: ``path`` holds a scalar or a list."""

    def __init__(self, path: str) -> None:
        self.path = path


def _yaml_lookup(doc: Any, dotted: str) -> Any:
    """The value at ``dotted`` in config.yaml (None: unset), or ``_NotMapping``."""
    node = doc
    parts = dotted.split(".")
    for i, part in enumerate(parts):
        if node is None:
            return None
        if not isinstance(node, dict):
            return _NotMapping(".".join(parts[:i]))
        node = node.get(part)
    return node


def find_secrets_in(value: Any, secret_key: bool = False) -> set[str]:
    """Strings under secret-named keys, or shaped like credentials, anywhere in ``value``."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            found |= find_secrets_in(inner, is_secret_name(str(key)))
    elif isinstance(value, list):
        for inner in value:
            found |= find_secrets_in(inner, secret_key)
    elif isinstance(value, str) and value.strip() and (
            (secret_key and len(value) >= 8 and not _ENV_REF_RE.match(value.strip()))
            or looks_secret(value)):
        found.add(value)
    return found


def build_plan(claw_dir: Path, profile_dir: Path, *, migrate_secrets: bool = False,
               home: Path | None = None) -> Plan:
    """Plan migrating ``claw_dir`` into ``profile_dir``. Reads only; writes nothing anywhere.

    ``home`` enables ``~/.agents/skills`` (shared skills outside the Claw dir) and ``~``
    expansion; without it nothing outside ``claw_dir`` and ``profile_dir`` is read, except an
    explicitly configured workspace path.
    """
    return _Builder(Path(claw_dir), Path(profile_dir), migrate_secrets, home).build()


def walk_items(plan: Plan, *statuses: ItemStatus) -> Iterator[PlanItem]:
    return (item for item in plan.items if not statuses or item.status in statuses)


__all__ = [
    "REDACTED", "Choice", "Edit", "FileChange", "ItemKind", "ItemStatus", "Plan", "PlanError",
    "PlanItem", "build_plan", "compose", "extract_entries", "rebrand",
]
