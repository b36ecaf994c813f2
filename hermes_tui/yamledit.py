"""The one way hermes-tui edits a Hermes ``config.yaml``: round-trip, in the file's own style.

Both writers of ``config.yaml`` - the LLM bridge (``bridge/sync.py``) and the OpenClaw
migration (``migration/plan/``) - go through this module, so a user's file looks the same
after either: comments, key order, quoting and unrelated keys are kept by ruamel.yaml's
round-trip mode, and the whole file is re-emitted with the indentation it already uses
(mapping indent and list-dash offset guessed from its own lines), its BOM and its line
endings. A file holding only comments keeps them verbatim, with the new settings after.

The steps: ``decode``/``read_source`` (bytes → ``Source``), ``open_document`` (parse,
refuse a non-mapping), mutate ``Document.data``, ``Document.render``/``to_bytes``, and
``write_config`` (atomic, mode 0600, not rewritten when nothing changed), or all of it in
one ``edit_config`` under the folder's lock. Every failure is a ``ConfigError`` naming the
file (and the line when known; for an OS error, the fix).

ruamel.yaml is imported inside the functions that use it (start-up time).
"""

from __future__ import annotations

import io
import os
import re
import stat
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hermes_tui.fsutil import atomic_write, os_error_problem
from hermes_tui.limits import (
    MAX_CONFIG_BYTES,
    MAX_DEPTH,
    MAX_EXPANDED,
    expanded_size,
    format_size,
    limit_text,
    read_bounded,
    too_deep,
    yaml_too_deep,
)
from hermes_tui.paths import display_path
from hermes_tui.problem import Problem, ProblemError

if TYPE_CHECKING:
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    from hermes_tui.yamlfold import Located

CONFIG_MODE = 0o600
BOM = b"\xef\xbb\xbf"


class ConfigError(ProblemError):
    """``config.yaml`` cannot be read or safely rewritten; the message names the file."""

    def __init__(self, message: str, path: Path, line: int | None = None, fix: str = "") -> None:
        where = display_path(path)  # the message gives the line
        super().__init__(Problem(message, fix, subject=where))
        self.path = path
        self.line = line


def new_yaml() -> YAML:
    """A round-trip loader/dumper that keeps quotes and never re-wraps a long line."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 1 << 16
    return yaml


@dataclass
class Source:
    """A file's text as read (None: the file does not exist) and how it was encoded."""

    text: str | None
    bom: bool = False
    crlf: bool = False


def decode(raw: bytes | None, path: Path | str = "config.yaml") -> Source:
    """Bytes → ``Source``; refuses text that is not UTF-8."""
    if raw is None:
        return Source(None)
    path = Path(path)
    bom = raw.startswith(BOM)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{display_path(path)} is not UTF-8 text (line {line}). Fix it or move it aside: "
            "the wizard will not overwrite it.",
            path,
            line,
        ) from exc
    return Source(text, bom=bom, crlf="\r\n" in text)


def read_source(path: Path) -> Source:
    try:
        raw = read_bounded(path, MAX_CONFIG_BYTES)
    except FileNotFoundError:
        return Source(None)
    except OSError as exc:
        raise os_config_error(exc, path, "read") from exc
    return decode(raw, path)


def os_config_error(exc: OSError, path: Path, action: str = "write") -> ConfigError:
    """An OS error on ``config.yaml`` as a ``ConfigError`` naming the file, with the fix."""
    problem = os_error_problem(exc, path, action)
    return ConfigError(problem.what, path, fix=problem.fix)


def parse(path: Path, text: str) -> Any:
    """The YAML in ``text`` as round-trip nodes; ``ConfigError`` (with the line) if invalid."""
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    if len(text) > MAX_CONFIG_BYTES:  # text handed in directly (the migration's plan)
        raise ConfigError(f"{display_path(path)} is {format_size(len(text))}, more than the "
                          f"{limit_text(MAX_CONFIG_BYTES)} the wizard reads. Fix it or move "
                          "it aside: the wizard will not overwrite it.", path)
    if yaml_too_deep(text):
        raise _too_deep(path)
    try:
        data, located = _load(text)
    except RecursionError:  # ruamel.yaml recurses per level: ~300 levels from the top
        raise _too_deep(path) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        where = f"line {line}: " if line else ""
        raise ConfigError(
            f"{display_path(path)} is not valid YAML ({where}{problem}). Fix it or move it "
            "aside: the wizard will not overwrite it.",
            path,
            line,
        ) from exc
    except YAMLError as exc:
        raise ConfigError(
            f"{display_path(path)} is not valid YAML ({exc}). Fix it or move it aside: the "
            "wizard will not overwrite it.",
            path,
        ) from exc
    if too_deep(data):
        raise _too_deep(path)
    if expanded_size(data) > MAX_EXPANDED:
        raise ConfigError(
            f"{display_path(path)} uses aliases (*name) that stand for more than "
            f"{MAX_EXPANDED:,} values once followed, which no Hermes configuration does. Fix "
            "it or move it aside: the wizard will not overwrite it.", path)
    if located is not None:
        located.expand()
    return data


def _load(text: str) -> tuple[Any, Located | None]:
    """ruamel.yaml's round-trip load of ``text``. Long runs of ``key: {}`` lines (a large
    router's models) are taken out of its way (``hermes_tui.yamlfold``): then the data
    comes with the runs still folded, a stand-in of the same size in their place, and
    ``Located.expand`` puts them back. Errors are always ruamel's own, on ``text``."""
    from ruamel.yaml.error import YAMLError

    from hermes_tui.yamlfold import fold_text

    folded = fold_text(text)
    if folded is not None:
        try:
            data = new_yaml().load(folded.text)
        except (YAMLError, RecursionError):
            pass  # the text as it is says what is wrong, and where
        else:
            located = folded.locate(data)
            if located is not None:
                located.stand_in()
                return data, located
    return new_yaml().load(text), None


def _too_deep(path: Path) -> ConfigError:
    return ConfigError(
        f"{display_path(path)} nests mappings or lists more than {MAX_DEPTH} levels deep, "
        "which no Hermes configuration does. Fix it or move it aside: the wizard will not "
        "overwrite it.", path)


def kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    return "scalar" if value is not None else "null"


def load_mapping(path: Path, source: Source) -> Any:
    """The parsed file (None when absent, empty or comments only); refuses a non-mapping."""
    if source.text is None:
        return None
    doc = parse(path, source.text)
    if doc is not None and not isinstance(doc, dict):
        raise ConfigError(
            f"{display_path(path)} holds a YAML {kind_of(doc)} at the top, not a mapping of "
            "settings. Fix it or move it aside: the wizard will not overwrite it.",
            path,
            1,
        )
    return doc


def detect_indent(text: str) -> tuple[int, int, int]:
    """``(mapping, sequence, offset)`` for ruamel.yaml, guessed from the user's own file.

    ruamel.yaml re-emits the whole file with one indentation style, so it must be the style
    the file already uses, or untouched lines would move: the first nested key gives the
    mapping indent, the first block list under a key the dash offset.
    """
    mapping: int | None = None
    offset: int | None = None
    opener: int | None = None  # indent of the previous line if it opened a block ("key:")
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith(("#", "---", "...")):
            continue
        indent = len(line) - len(stripped)
        if opener is not None and indent >= opener:
            if stripped.startswith("- ") or stripped == "-":
                offset = indent - opener if offset is None else offset
            elif indent > opener and mapping is None:
                mapping = indent - opener
        if mapping is not None and offset is not None:
            break
        opens = re.fullmatch(r"[^\s#\-][^#]*?:\s*(#.*)?", stripped) is not None
        opener = indent if opens else None
    mapping = mapping or 2
    offset = offset or 0
    return mapping, max(offset + 2, 2), offset


@dataclass
class Document:
    """A ``config.yaml`` open for editing: mutate ``data``, then ``render``."""

    path: Path
    source: Source
    #: The settings (an empty mapping for an absent, empty or comments-only file).
    data: CommentedMap
    #: The text of a comments-only file, kept verbatim before the new settings.
    prefix: str = ""
    #: Every mapping of the file as opened, with its last key (see ``_keep_trailing``).
    _tails: list[tuple[Any, Any]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._tails = list(_mappings_with_last_key(self.data))

    @property
    def style_text(self) -> str:
        """The text whose style (indentation, ``---``) the output follows."""
        return "" if self.prefix or self.source.text is None else self.source.text

    def render(self) -> str:
        """The new text, with the file's indentation and line endings (no BOM)."""
        yaml = new_yaml()
        text = self.style_text
        mapping, sequence, offset = detect_indent(text)
        yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
        first = next((ln.strip() for ln in text.splitlines()
                      if ln.strip() and not ln.lstrip().startswith("#")), "")
        yaml.explicit_start = first.startswith("---")
        self._keep_trailing()
        out = self.prefix + (_dump(yaml, self.data) if self.data or not self.prefix else "")
        if out == "{}\n" and not self.source.text:
            out = ""
        if self.source.crlf:
            out = out.replace("\r\n", "\n").replace("\n", "\r\n")
        return out

    def _keep_trailing(self) -> None:
        """Keep the blank lines and comments that followed a mapping's last key after it.

        ruamel.yaml stores what follows a key (an end-of-line comment, then blank lines and
        the comments that open the next section) with that key. When keys are appended to
        the mapping, that text would end up between the old last key and the new ones - a
        section's header comment would move above the new keys. So the part after the
        end-of-line comment moves to the mapping's new last key.
        """
        tails = []
        for mapping, old_last in self._tails:
            keys = list(mapping)
            if keys and keys[-1] != old_last and old_last in mapping:
                _move_trailing(_tail_slot(mapping, old_last), _tail_slot(mapping, keys[-1]))
            tails.append((mapping, keys[-1] if keys else None))
        self._tails = tails

    def to_bytes(self) -> bytes:
        return (BOM if self.source.bom else b"") + self.render().encode("utf-8")


def _dump(yaml: YAML, data: Any) -> str:
    """``yaml.dump(data)`` as text; long runs of ``key: {}`` entries are written by
    ``hermes_tui.yamlfold`` exactly as ruamel.yaml writes them, only faster."""
    from hermes_tui.yamlfold import fold_data

    folds = fold_data(data)
    buffer = io.StringIO()
    try:
        yaml.dump(data, buffer)
    finally:
        folds.restore()
    text = folds.unfold(buffer.getvalue())
    if text is None:  # a placeholder did not come out alone on its line: no shortcut
        buffer = io.StringIO()
        yaml.dump(data, buffer)
        text = buffer.getvalue()
    return text


def _mappings_with_last_key(node: Any) -> Iterator[tuple[Any, Any]]:
    if isinstance(node, dict):
        if node:
            yield node, list(node)[-1]
        # OrderedDict's own view: CommentedMap's is a slow generator (50,000 models...).
        children = OrderedDict.values(node) if isinstance(node, OrderedDict) else node.values()
    elif isinstance(node, list):
        children = node
    else:
        return
    for value in children:
        if isinstance(value, (dict, list)) and value:  # an empty one holds no mapping
            yield from _mappings_with_last_key(value)


def _tail_slot(mapping: Any, key: Any) -> tuple[Any, Any] | None:
    """Where the comment after ``mapping[key]`` (and all it holds) lives: the deepest last
    key of nested mappings. None when the value ends in a list or flow mapping."""
    while True:
        value = mapping[key]
        if isinstance(value, dict) and value:
            if getattr(value, "fa", None) is not None and value.fa.flow_style():
                return None
            mapping, key = value, list(value)[-1]
            continue
        if isinstance(value, list) and value:
            return None
        return (mapping, key) if hasattr(mapping, "ca") else None


def _move_trailing(source: tuple[Any, Any] | None, target: tuple[Any, Any] | None) -> None:
    if source is None or target is None or source == target:
        return
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    mapping, key = source
    slots = mapping.ca.items.get(key)
    token = slots[2] if slots and len(slots) > 2 else None
    if token is None or not isinstance(token.value, str):
        return
    first, newline, after = token.value.partition("\n")
    if not after:
        return  # only an end-of-line comment: it belongs to its own line
    token.value = first + newline
    new_map, new_key = target
    new_slots = new_map.ca.items.setdefault(new_key, [None, None, None, None])
    while len(new_slots) < 4:
        new_slots.append(None)
    existing = new_slots[2]
    if existing is not None and isinstance(existing.value, str):
        existing.value = existing.value + after
    else:
        new_slots[2] = CommentToken("\n" + after, CommentMark(0), None)


def open_document(path: Path | str, source: Source) -> Document:
    """Parse ``source`` for editing; ``ConfigError`` for invalid YAML or a non-mapping."""
    from ruamel.yaml.comments import CommentedMap

    path = Path(path)
    doc = load_mapping(path, source)
    if doc is not None:
        return Document(path, source, doc)
    # Empty or comments only: ruamel.yaml would drop those comments, so keep the text as
    # it is and add the new settings after it.
    prefix = (source.text or "").replace("\r\n", "\n")
    if prefix and not prefix.endswith("\n"):
        prefix += "\n"
    return Document(path, source, CommentedMap(), prefix)


def edit_bytes(raw: bytes | None, mutate: Callable[[CommentedMap], None],
               path: Path | str = "config.yaml") -> bytes:
    """``raw`` (None: no file) with ``mutate`` applied to its settings, in its own style."""
    document = open_document(path, decode(raw, path))
    mutate(document.data)
    return document.to_bytes()


def block_map(**items: Any) -> CommentedMap:
    """A new mapping that renders in block style (``key: value`` lines) even when empty."""
    from ruamel.yaml.comments import CommentedMap

    result = CommentedMap()
    for key, value in items.items():
        result[key] = value
    result.fa.set_block_style()
    return result


def write_config(path: Path, document: Document, data: bytes | None = None) -> bool:
    """Write ``document`` (or ``data``) to ``path`` atomically with mode 0600.

    Identical bytes are not rewritten (the file stays byte-identical) but its mode is still
    made 0600. Follows a symlinked ``config.yaml`` to its target. Returns True when written.
    Holds the folder's lock (`hermes_tui.lock.locked_folder`); a caller that read the file
    should hold it from that read on (see `edit_config`), so no other writer's change is
    lost in between. An OS error (a full disk, permissions) is a ``ConfigError`` naming
    the file, with the fix.
    """
    from hermes_tui.lock import locked_folder

    path = Path(os.path.realpath(path))
    out = document.to_bytes() if data is None else data
    with locked_folder(path.parent, file=path):
        try:
            old = path.read_bytes() if document.source.text is not None else None
        except OSError:
            old = None
        try:
            if old is not None and old == out:
                if stat.S_IMODE(path.stat().st_mode) != CONFIG_MODE:
                    os.chmod(path, CONFIG_MODE)
                return False
            atomic_write(path, out, mode=CONFIG_MODE)
        except OSError as exc:
            raise os_config_error(exc, path) from exc
    return True


def edit_config(path: Path | str, edit: Callable[[Document], bytes | None]) -> bool:
    """Read ``config.yaml``, ``edit`` the open document, write it back: one
    read-modify-write under the folder's lock, so two writers never lose each other's
    settings. Follows a symlink to its target. Returns True when the file was written.
    ``edit`` may return the bytes to write when it rendered the document itself (so a
    large file is not rendered twice); None: ``Document.to_bytes``."""
    from hermes_tui.lock import locked_folder

    path = Path(os.path.realpath(path))
    with locked_folder(path.parent, file=path):
        document = open_document(path, read_source(path))
        return write_config(path, document, edit(document))
