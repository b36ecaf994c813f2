"""How an item changes a profile file: edits that compose per file, and their before/after.

Edits of several items to the same file compose in plan order, so the full text of every
file is known before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from hermes_tui.envfile import render_update
from hermes_tui.migration.plan.memtext import merge_entries, render_memory, split_memory
from hermes_tui.migration.redact import redact_text
from hermes_tui.yamledit import Document, Source, decode, open_document


def decode_for_display(data: bytes | None) -> str | None:
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


def block_mapping(doc: CommentedMap, key: str) -> CommentedMap:
    """``doc[key]`` as a mapping (made one if it is missing, empty or a scalar)."""
    current = doc.get(key)
    if not isinstance(current, CommentedMap):
        current = CommentedMap()
        doc[key] = current
    if not current:
        current.fa.set_block_style()
    return current

