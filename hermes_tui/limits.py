"""How much of a file someone else wrote the wizard reads, and how deeply nested it may be.

Every parser of such a file (``openclaw.json`` and the other JSON the migration reads, a
profile's ``config.yaml``, a ``.env``) reads it through ``read_bounded`` and checks what it
parsed with ``too_deep``, so a huge or hostile file becomes a message naming the file, its
size and the limit - never a ``RecursionError``, a frozen screen or memory filled up.

The limits are far above any real file: an OpenClaw config is a few kB, a ``config.yaml``
with 100,000 synced models about 4 MB, a ``.env`` a few hundred lines. Python's own parsers
(json, tomllib, ruamel.yaml) recurse per level and fail somewhere between 300 and 1,000
levels, depending on how deep the caller already is; 100 levels is a fixed bound below
all of them, so a file is accepted or refused the same way everywhere.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

#: openclaw.json (and the other JSON files of an OpenClaw folder), config.yaml.
MAX_CONFIG_BYTES = 8 * 1024 * 1024
#: A .env file: ~1 s to parse at this size with python-dotenv, as Hermes does.
MAX_ENV_BYTES = 1024 * 1024
#: Objects/lists (mappings/sequences) inside each other, the outermost counting as 1.
MAX_DEPTH = 100
#: Values a YAML file may stand for once its aliases are followed (an "alias bomb" of a
#: few lines stands for billions, and copying or comparing it never ends).
MAX_EXPANDED = 1_000_000


def format_size(size: int) -> str:
    """``12 bytes``, ``3.4 KiB``, ``98.0 MiB``."""
    if size < 1024:
        return f"{size} byte{'s' if size != 1 else ''}"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


def limit_text(limit: int) -> str:
    """A limit as written in messages: ``8 MiB`` (whole units when they are whole)."""
    for unit, name in ((1024 * 1024, "MiB"), (1024, "KiB")):
        if limit % unit == 0:
            return f"{limit // unit} {name}"
    return format_size(limit)


class FileTooLarge(OSError):
    """A file over its limit. An ``OSError`` (``EFBIG``), so every caller that already
    reports a file it cannot read reports this one too; the text reads well after
    "Cannot read <path>: " and stays right when lower-cased."""

    def __init__(self, path: Path | str, size: int, limit: int) -> None:
        super().__init__(errno.EFBIG,
                         f"the file is too large ({size:,} bytes; at most {limit:,} are read)",
                         str(path))
        self.path = Path(path)
        self.size = size
        self.limit = limit

    def sentence(self, name: str | None = None) -> str:
        """``<name> is 98.0 MiB, more than the 8 MiB the wizard reads.``"""
        return (f"{name or self.path} is {format_size(self.size)}, more than the "
                f"{limit_text(self.limit)} the wizard reads.")


def read_bounded(path: Path | str, limit: int, *, regular_only: bool = True) -> bytes:
    """The bytes of ``path``, refused with ``FileTooLarge`` past ``limit`` bytes.

    The size is checked before reading (a 100 MB file is never read), and the read stops
    after ``limit + 1`` bytes, for a file that grows meanwhile. With ``regular_only``
    anything but a regular file (a FIFO, a device, a folder) is refused with an
    ``OSError`` saying so, without blocking; without it (a ``.env`` a secrets manager
    serves through a named pipe) such a file is read as ``open`` would, up to the limit.
    """
    flags = os.O_RDONLY | os.O_CLOEXEC
    if regular_only:
        flags |= os.O_NONBLOCK  # a FIFO where a config file belongs must not block the open
    fd = os.open(path, flags)
    with open(fd, "rb") as handle:
        info = os.fstat(fd)
        regular = stat.S_ISREG(info.st_mode)
        if regular_only and not regular:
            raise OSError(errno.EINVAL, "it is not a regular file", str(path))
        if regular and info.st_size > limit:
            raise FileTooLarge(path, info.st_size, limit)
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(path, max(len(data), info.st_size), limit)
    return data


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether dicts/lists in ``value`` nest more than ``limit`` levels (without recursing:
    the point is to refuse what recursion cannot handle).

    A container shared by several parents (YAML anchors and aliases) is walked again only
    when reached deeper than before, so the walk stays linear in practice instead of
    exponential for an alias bomb, and a structure that contains itself is too deep.
    """
    stack: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, (dict, list)) else []
    deepest: dict[int, int] = {}
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if deepest.get(id(item), 0) >= depth:
            continue
        deepest[id(item)] = depth
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, (dict, list)))
    return False


def expanded_size(value: Any, limit: int = MAX_EXPANDED) -> int:
    """How many values ``value`` stands for with every shared container counted each time
    it is reached (as a deep copy would), stopping once past ``limit``. Linear in the
    distinct containers: each one's size is computed once."""
    if not isinstance(value, (dict, list)):
        return 1
    sizes: dict[int, int] = {}
    entered: set[int] = set()
    stack: list[tuple[Any, bool]] = [(value, False)]
    while stack:
        item, children_done = stack.pop()
        if id(item) in sizes:
            continue
        children = list(item.values() if isinstance(item, dict) else item)
        if not children_done:
            if id(item) in entered:  # it contains itself: endless once followed
                return limit + 1
            entered.add(id(item))
            stack.append((item, True))
            stack.extend((child, False) for child in children
                         if isinstance(child, (dict, list)) and id(child) not in sizes)
            continue
        total = 1 + sum(sizes.get(id(child), 0) if isinstance(child, (dict, list)) else 1
                        for child in children)
        sizes[id(item)] = min(total, limit + 1)
    return sizes[id(value)]


_FLOW = re.compile(r"[\[\]{}]")


def yaml_too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether the YAML in ``text`` nests more than ``limit`` levels, found before loading it.

    ruamel.yaml's pure-Python scanner is quadratic in the nesting depth (1,000 levels: 2.5 s
    before it fails), so depth is judged from its event stream, which is produced lazily
    and abandoned as soon as the limit is passed. That pass runs only when a cheap look at
    the text allows deep nesting: brackets open more than ``limit // 2`` deep, or content
    starting ``limit // 2`` columns in (each block level indents, compact ``- - -`` too);
    ordinary files - a config.yaml of 50,000 models included - never need it. A file
    that is not valid YAML is left for the loader to report.
    """
    half = limit // 2
    balance = peak = 0
    for bracket in _FLOW.findall(text):
        balance += 1 if bracket in "[{" else -1
        peak = max(peak, balance)
    if peak <= half and all(len(line) - len(line.lstrip(" -\t")) <= half
                            for line in text.splitlines()):
        return False
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent

    depth = 0
    try:
        for event in YAML(typ="rt").parse(text):
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > limit:
                    return True
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    except (YAMLError, RecursionError):
        return False
    return False


def containers(data: Any, skip: Callable[[Any], bool] | None = None) -> Iterator[Any]:
    """``data`` and every non-empty mapping and list in it, once each (YAML aliases and
    cycles are followed once); a node ``skip`` accepts is passed over with all it holds."""
    seen: set[int] = set()
    stack = [data]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if skip is not None and skip(node):
            continue
        yield node
        if isinstance(node, OrderedDict):  # ruamel's CommentedMap: its own view is slower
            children: Any = OrderedDict.values(node)
        else:
            children = node.values() if isinstance(node, dict) else node
        stack.extend(v for v in children if isinstance(v, (dict, list)) and v)
