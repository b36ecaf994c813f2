"""Long runs of ``key: {}`` entries, read and written without ruamel.yaml's cost per token.

A router can serve 50,000 models, and the LLM bridge lists every one in ``config.yaml`` as
``<id>: {}``. ruamel.yaml's round trip takes about 0.15 ms per such line to parse and again
to emit, so one sync, which parses and emits the file several times, took over half a
minute. This module takes those lines out of ruamel's way and puts them back exactly as
ruamel would have made them, so what is read and written does not change:

- Reading (``fold_text``, then ``Folded.locate``, ``Located.stand_in``, ``Located.expand``):
  a run of consecutive lines that are all ``<indent><key>: {}`` at one indentation, with a
  plain key that ruamel reads as that very string, is replaced by one placeholder line and
  blank lines (so every other line keeps its number); the run's last line stays as it is.
  Once ruamel parsed that, the placeholder becomes the run's entries: the same
  ``CommentedMap`` values, line and column records and key order ruamel builds. Anything
  unexpected (the placeholder inside a block scalar or a flow collection, a duplicate key,
  a merge key, comments attached elsewhere) and the caller parses the text as it is.
- Writing (``fold_data``, then ``DataFolds.unfold``): in each block mapping, a run of
  entries whose key is such a plain string and whose value an empty mapping without
  comment, tag or anchor, used nowhere else, is dumped as one placeholder entry, whose line
  is then replaced by the run's lines, indented as the placeholder was.

Runs shorter than ``FOLD_MIN`` are left to ruamel. ``tests/unit/test_yamlfold.py``
compares both halves with ruamel's own results. Imported only where ruamel.yaml is used.
"""

from __future__ import annotations

import re
import secrets
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.anchor import anchor_attrib
from ruamel.yaml.comments import (
    CommentedMap,
    LineCol,
    comment_attrib,
    format_attrib,
    line_col_attrib,
    merge_attrib,
)
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.tag import tag_attrib

from hermes_tui.gcpause import paused_gc
from hermes_tui.limits import containers

#: The shortest run worth folding: below it, ruamel's own cost is small.
FOLD_MIN = 64
#: Longer keys are left to ruamel (it writes a key of 128 characters or more as ``? key``).
MAX_KEY = 100

_KEY = r"[A-Za-z0-9_][A-Za-z0-9_./@+-]*(?::[A-Za-z0-9_./@+-]+)*"
_LINE = re.compile(rf"( *)({_KEY}): \{{\}}(\r?)")
_KEY_ONLY = re.compile(_KEY)
_STR_TAG = "tag:yaml.org,2002:str"
#: ruamel.yaml's implicit types under YAML 1.2 (bool, int, float, null, date...), by the
#: first character of the plain scalars they match.
_IMPLICIT: dict[Any, list[tuple[str, Any]]] = VersionedResolver(version=(1, 2)).versioned_resolver


def plain_key(key: str, shaped: bool = False) -> bool:
    """Whether ruamel.yaml writes ``key`` plain and reads it back as that string: only
    letters, digits and ``_./@+-:`` (a colon never last), not a number, bool, null or date.
    ``shaped``: the caller already matched the characters."""
    if len(key) > MAX_KEY or not (shaped or _KEY_ONLY.fullmatch(key)):
        return False
    for tag, regexp in _IMPLICIT.get(key[0], ()):
        if regexp.match(key):
            return tag == _STR_TAG
    return True


def _values(node: Any) -> Iterable[Any]:
    # OrderedDict's own view: CommentedMap's is a Python generator, ten times slower.
    return OrderedDict.values(node) if isinstance(node, OrderedDict) else node.values()


# --- reading -------------------------------------------------------------------------------------


@dataclass
class _Run:
    keys: list[str]  # every key of the run but the last line's
    line: int  # 0-based line of the first entry
    col: int
    last: str  # the key of the run's last line, left in the text
    padding: int  # blank lines after the placeholder


@dataclass
class Folded:
    """Text with its long runs folded, and what is needed to put them back."""

    text: str
    runs: dict[str, _Run]

    def locate(self, data: Any) -> Located | None:
        """Where the placeholders are in ``data`` (parsed from ``text``); None when one is
        not where the text put it: parse the original text instead."""
        found: list[tuple[Any, str, _Run]] = []
        for node in containers(data):
            if isinstance(node, dict):
                for key in OrderedDict.keys(node) if isinstance(node, OrderedDict) else node:
                    if isinstance(key, str) and key in self.runs:
                        found.append((node, key, self.runs[key]))
        if len(found) != len(self.runs) or len({p for _, p, _ in found}) != len(found):
            return None
        if not all(_in_place(mapping, key, run) for mapping, key, run in found):
            return None
        keys: dict[int, set[str]] = {}  # two runs of one mapping must not share a key
        for mapping, _, run in found:
            seen = keys.setdefault(id(mapping), set())
            if not seen.isdisjoint(run.keys):
                return None
            seen.update(run.keys)
        return Located(found)


@dataclass
class Located:
    """The placeholders found in the parsed data: (mapping, placeholder, run)."""

    places: list[tuple[Any, str, _Run]]

    def stand_in(self) -> None:
        """Give each placeholder a value as big as its run (a list of ``len - 1`` Nones),
        so ``limits.expanded_size`` and ``too_deep`` say of the folded data exactly what
        they would of the expanded one, without walking every entry."""
        for mapping, placeholder, run in self.places:
            OrderedDict.__setitem__(mapping, placeholder, [None] * (len(run.keys) - 1))

    def expand(self) -> None:
        """Replace each placeholder by its run's entries, as ruamel.yaml builds them."""
        for mapping, placeholder, run in self.places:
            _expand_one(mapping, placeholder, run)


def fold_text(text: str) -> Folded | None:
    """``text`` with every run of more than ``FOLD_MIN`` ``key: {}`` lines folded; None
    when there is none (or the text has a ``%YAML`` directive: 1.1 reads keys otherwise)."""
    if text.count(": {}") <= FOLD_MIN or text.startswith("%") or "\n%" in text:
        return None
    lines = text.split("\n")
    matches = [_LINE.fullmatch(line) for line in lines]
    nonce = _nonce(text)
    out: list[str] = []
    runs: dict[str, _Run] = {}
    i, count = 0, len(lines)
    while i < count:
        first = matches[i]
        if first is None or not plain_key(first[2], shaped=True):
            out.append(lines[i])
            i += 1
            continue
        indent, eol = first[1], first[3]
        j = i + 1
        while j < count:
            m = matches[j]
            if m is None or m[1] != indent or m[3] != eol or not plain_key(m[2], shaped=True):
                break
            j += 1
        if j - i - 1 < FOLD_MIN:
            out.extend(lines[i:j])
        else:
            placeholder = f"hermes-tui-fold-{nonce}-{len(runs)}"
            keys = [m[2] for m in matches[i:j - 1]]  # type: ignore[index]
            last = matches[j - 1][2]  # type: ignore[index]
            runs[placeholder] = _Run(keys, i, len(indent), last, len(keys) - 1)
            out.append(f"{indent}{placeholder}: {{}}{eol}")
            out.extend([eol] * (len(keys) - 1))
            out.append(lines[j - 1])
        i = j
    return Folded("\n".join(out), runs) if runs else None


def _nonce(text: str) -> str:
    while True:
        nonce = secrets.token_hex(6)
        if nonce not in text:
            return nonce


def _in_place(mapping: Any, placeholder: str, run: _Run) -> bool:
    """Whether ``placeholder`` was read as a key of a block mapping, on its line and
    column, followed by the run's last key, with the blank lines as that key's comment,
    and whether the run's keys can join the mapping (no duplicates, no merge)."""
    if type(mapping) is not CommentedMap or getattr(mapping, merge_attrib, None):
        return False
    keys = list(OrderedDict.keys(mapping))
    pos = keys.index(placeholder)
    if pos + 1 >= len(keys) or keys[pos + 1] != run.last:
        return False
    value = OrderedDict.__getitem__(mapping, placeholder)
    if type(value) is not CommentedMap or value or _has_extras(value):
        return False
    width = len(placeholder) + 2
    if mapping.lc.data.get(placeholder) != [run.line, run.col, run.line, run.col + width]:
        return False
    items = _comment_items(mapping)
    if placeholder in items:
        return False
    if run.padding:
        slot = items.get(run.last)
        if (slot is None or len(slot) != 4 or any(slot[k] is not None for k in (0, 2, 3))
                or not isinstance(slot[1], list) or len(slot[1]) != 1
                or getattr(slot[1][0], "value", None) != "\n" * run.padding):
            return False
    own = set(run.keys)
    return len(own) == len(run.keys) and run.last not in own and own.isdisjoint(keys)


def _expand_one(mapping: Any, placeholder: str, run: _Run) -> None:
    if run.padding:
        comment = getattr(mapping, comment_attrib)
        del comment.items[run.last]
        if not (comment.comment or comment.items or comment.end
                or getattr(comment, "pre", None)):
            delattr(mapping, comment_attrib)  # it held only the padding
    lines = mapping.lc.data
    keys = list(OrderedDict.keys(mapping))
    after = keys[keys.index(placeholder) + 1:]
    own, put, col = mapping._ok, OrderedDict.__setitem__, run.col
    with paused_gc():
        for line, key in enumerate(run.keys, run.line):
            # What ruamel's constructor does for `key: {}`, minus its per-call overhead.
            entry = CommentedMap()
            where = LineCol()
            where.line, where.col = line, col + len(key) + 2
            setattr(entry, line_col_attrib, where)
            lines[key] = [line, col, line, col + len(key) + 2]
            put(mapping, key, entry)
            own.add(key)
    for key in after:
        mapping.move_to_end(key)
    del mapping[placeholder]
    del lines[placeholder]


def _has_extras(value: Any) -> bool:
    """A comment, anchor, tag or merge on a mapping (all of which ruamel would write)."""
    comment = getattr(value, comment_attrib, None)
    anchor = getattr(value, anchor_attrib, None)
    tag = getattr(value, tag_attrib, None)
    if comment is None and anchor is None and tag is None:  # the usual case, made quick
        return bool(getattr(value, merge_attrib, None))
    if comment is not None and (comment.comment or comment.items or comment.end
                                or getattr(comment, "pre", None)):
        return True
    return bool((anchor is not None and anchor.value) or (tag is not None and tag.value)
                or getattr(value, merge_attrib, None))


# --- writing -------------------------------------------------------------------------------------


@dataclass
class DataFolds:
    """Runs folded out of a document for one dump; ``restore`` puts the data back."""

    runs: dict[str, list[str]] = field(default_factory=dict)
    _saved: list[tuple[Any, list[tuple[Any, Any]]]] = field(default_factory=list)

    def restore(self) -> None:
        for mapping, items in self._saved:
            OrderedDict.clear(mapping)
            for key, value in items:
                OrderedDict.__setitem__(mapping, key, value)
        self._saved.clear()

    def unfold(self, text: str) -> str | None:
        """The dumped ``text`` with each placeholder line replaced by its run's lines; None
        when a placeholder is not alone on a line of its own (dump without folding)."""
        if not self.runs:
            return text
        found = sorted((text.find(placeholder), placeholder) for placeholder in self.runs)
        pieces: list[str] = []
        pos = 0
        for at, placeholder in found:
            keys = self.runs[placeholder]
            start = text.rfind("\n", 0, at) + 1
            end = text.find("\n", at)
            if at < pos or end < 0 or text[at + len(placeholder):end] != ": {}" \
                    or text.count(placeholder) != 1:
                return None
            prefix = text[start:at]
            if prefix.strip(" -") or (prefix and not prefix.endswith(" ")):
                return None
            indent = " " * len(prefix)
            pieces.append(text[pos:start])
            pieces.append(f"{prefix}{keys[0]}: {{}}\n")
            pieces.extend(f"{indent}{key}: {{}}\n" for key in keys[1:])
            pos = end + 1
        pieces.append(text[pos:])
        return "".join(pieces)


def fold_data(data: Any) -> DataFolds:
    """Fold the long runs of ``data`` (in place, until ``restore``) for one dump."""
    folds = DataFolds()
    candidates = [m for m in _block_mappings(data) if len(m) > FOLD_MIN]
    if not candidates:
        return folds
    uses = _uses(data)
    nonce = secrets.token_hex(6)
    for mapping in candidates:
        comments = _comment_items(mapping)
        items = list(OrderedDict.items(mapping))
        flags = [not value and type(key) is str and type(value) in _EMPTY_KINDS
                 and uses[id(value)] == 1 and key not in comments
                 and not _has_extras(value) and plain_key(key)
                 for key, value in items]
        new: list[tuple[Any, Any]] = []
        i = 0
        while i < len(items):
            if not flags[i]:
                new.append(items[i])
                i += 1
                continue
            j = i
            while j < len(items) and flags[j]:
                j += 1
            if j - i >= FOLD_MIN:
                placeholder = f"hermes-tui-fold-{nonce}-{len(folds.runs)}"
                folds.runs[placeholder] = [key for key, _ in items[i:j]]
                new.append((placeholder, CommentedMap()))
            else:
                new.extend(items[i:j])
            i = j
        if len(new) < len(items):
            folds._saved.append((mapping, items))
            OrderedDict.clear(mapping)
            for key, value in new:
                OrderedDict.__setitem__(mapping, key, value)
    return folds


_EMPTY_KINDS = (CommentedMap, dict)


def _comment_items(mapping: Any) -> dict[Any, Any]:
    comment = getattr(mapping, comment_attrib, None)
    return comment.items if comment is not None else {}


def _in_flow_style(node: Any) -> bool:
    style = getattr(node, format_attrib, None)
    return style is not None and style.flow_style()


def _block_mappings(data: Any) -> Iterator[Any]:
    """Every ``CommentedMap`` written in block style: not flow, not under a flow node (all
    inside one is written in flow style), no merge keys."""
    for node in containers(data, skip=_in_flow_style):
        if type(node) is CommentedMap and not getattr(node, merge_attrib, None):
            yield node


def _uses(data: Any) -> Counter[int]:
    """How often each mapping or list is referenced in ``data`` (ruamel writes one
    referenced twice with an anchor)."""
    uses: Counter[int] = Counter([id(data)])
    for node in containers(data):
        uses.update(map(id, _values(node) if isinstance(node, dict) else node))
    return uses
