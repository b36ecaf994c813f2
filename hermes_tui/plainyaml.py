"""A quick reader for the plainest YAML: the ``config.yaml`` hermes-tui itself writes.

``hermes-tui status`` reads every profile's ``config.yaml``, and ruamel.yaml's pure-Python
scanner needs 2-3 ms for even a 20-line file: most of what status costs per profile.
`read_plain` reads the subset below about ten times faster, and answers only when it
gives what ruamel.yaml's loaders give (as plain values); for anything else it returns
`UNSURE` and the caller asks ruamel.yaml (`plain_mapping` does all of it).

The subset: printable ASCII; a mapping at the top; block mappings and sequences (a
sequence may sit at its key's own indentation, ``- key: value`` starts a mapping in an
item); keys and values that are one-line plain scalars which ruamel.yaml's resolver reads
as strings (values also as null), or exactly ``{}`` / ``[]``; comment lines and blank
lines. Everything else is `UNSURE`: quotes, ``#`` after content, flow collections with
content, anchors, aliases, tags, merge keys, block and multi-line scalars, directives,
document markers, tabs, numbers, booleans, dates, duplicate keys, a top that is not a
mapping, and any indentation YAML would read otherwise or refuse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from hermes_tui.limits import MAX_DEPTH, MAX_EXPANDED, expanded_size, too_deep, yaml_too_deep
from hermes_tui.yamledit import Source, load_mapping

#: What `read_plain` returns when it cannot vouch for the answer.
UNSURE: Any = object()

_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
#: Characters that start something other than a plain scalar (or may, followed by more).
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
#: In a content line: anything outside printable ASCII (tabs and lone carriage returns
#: included), quotes, a comment after content, flow brackets.
_REFUSED = re.compile(r"[^\x20-\x7e\n]|['\"#\[\]{}]")
#: In a comment line: what ruamel.yaml refuses as unprintable or reads as a line break.
_COMMENT_REFUSED = re.compile("[^\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|"
                              "[\u2028\u2029\ufeff]")
_LINE = re.compile(r"( *)(- +)?(.*)")
#: ruamel.yaml's limit for an implicit key.
_MAX_KEY = 1024


@dataclass(frozen=True)
class _Token:
    indent: int
    dash: bool = False
    key: str | None = None  # an entry ``key:`` (value below) or ``key: value``
    value: str | None = None  # the entry's inline value, or a scalar item's


def plain_mapping(path: Path, source: Source) -> Any:
    """`hermes_tui.yamledit.load_mapping` for a reader that only looks (``status`` reads
    every profile's file): the same answer, as plain values (dict, list, str, int, …)
    instead of ruamel.yaml's round-trip types, and several times faster.

    The plainest files (what hermes-tui writes) are read by `read_plain`, the others by
    ruamel.yaml's safe loader (it keeps no comments). Either answers only when it can vouch
    for the answer: on any error, a merge key (``<<``: the two loaders order merged keys
    differently), a limit passed, a top that is not a mapping or a key that is not a
    string (the two loaders' keys then print differently), the file goes to
    `load_mapping`, which answers, or raises the `ConfigError` it always raises.
    """
    text = source.text
    if text is None:
        return None
    data = read_plain(text)
    if data is UNSURE and "<<" not in text and not yaml_too_deep(text):
        from ruamel.yaml import YAML

        try:
            data = YAML(typ="safe", pure=True).load(text)
        except Exception:  # noqa: BLE001 - whatever it is, the round-trip loader says it
            data = UNSURE
    if data is None or (isinstance(data, dict) and not too_deep(data)
                        and expanded_size(data) <= MAX_EXPANDED and _string_keys(data)):
        return data
    return load_mapping(path, source)


def _string_keys(value: Any) -> bool:
    """Whether every mapping in ``value`` (one already found not too deep) has only string
    keys; each shared container (YAML aliases) is looked at once."""
    seen: set[int] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, dict):
            if not all(isinstance(key, str) for key in item):
                return False
            children = item.values()
        else:
            children = item
        stack.extend(child for child in children if isinstance(child, (dict, list)))
    return True


def read_plain(text: str) -> Any:
    """The YAML document in ``text`` as dicts, lists, strings and None (None for a
    document that is empty or only comments), or `UNSURE`."""
    tokens = _tokens(text)
    if tokens is UNSURE:
        return UNSURE
    if not tokens:
        return None
    reader = _Reader(tokens, _resolver())
    try:
        if tokens[0].indent != 0 or tokens[0].key is None:
            return UNSURE  # a top that is not a mapping at column 0: let ruamel.yaml say
        data, end = reader.mapping(0, 0)
    except _Unsure:
        return UNSURE
    return data if end == len(tokens) else UNSURE


class _Unsure(Exception):
    pass


@cache
def _resolver() -> Any:
    """ruamel.yaml's own resolver (YAML 1.2, as its loaders use unless a file says
    otherwise, and a file with a directive is not read here): it types each scalar.
    It fills its table on first use: that is done here, before any thread shares it."""
    from ruamel.yaml import YAML
    from ruamel.yaml.nodes import ScalarNode

    resolver = YAML(typ="safe", pure=True).resolver
    resolver.resolve(ScalarNode, "", (True, False))
    return resolver


def _tokens(text: str) -> list[_Token] | Any:
    """One token per line, two for ``- key: value`` or ``- value`` (the item's dash, then
    its content at its own column); comment and blank lines left out."""
    tokens: list[_Token] = []
    for raw in text.split("\n"):
        line = raw.removesuffix("\r")
        stripped = line.strip(" ")
        if not stripped or stripped.startswith("#"):
            if _COMMENT_REFUSED.search(line):
                return UNSURE  # what ruamel.yaml makes of those is not this reader's call
            continue
        if _REFUSED.search(line) and not _exact_flow(line):
            return UNSURE
        if line.startswith(("---", "...")):
            return UNSURE
        match = _LINE.fullmatch(line)
        if match is None:
            return UNSURE
        indent = len(match[1])
        content = match[3].rstrip(" ")
        if match[2] is not None:
            tokens.append(_Token(indent, dash=True))
            indent += len(match[2])
            if not content:
                return UNSURE  # an empty item, or one whose node starts below
        token = _content(indent, content)
        if token is UNSURE:
            return UNSURE
        tokens.append(token)
    return tokens


def _exact_flow(line: str) -> bool:
    """Whether the only refused characters in ``line`` are a value that is exactly ``{}``
    or ``[]`` (after ``key:`` or ``-``)."""
    body = line.rstrip(" ")
    if not body.endswith(("{}", "[]")):
        return False
    head = body[:-2]
    if _REFUSED.search(head):
        return False
    head = head.rstrip(" ")
    return head.endswith(":") or head.lstrip(" ") == "-"


def _content(indent: int, content: str) -> _Token | Any:
    """``key:``, ``key: value`` or a lone scalar, at ``indent``."""
    cut = content.find(": ")
    if cut < 0 and content.endswith(":"):
        cut = len(content) - 1
    if cut < 0:
        flow = content in ("{}", "[]")
        return _Token(indent, value=content) if flow or _plain(content) else UNSURE
    key = content[:cut].rstrip(" ")
    value = content[cut + 1:].strip(" ")
    if not _plain(key) or len(key) > _MAX_KEY:
        return UNSURE
    if value and value not in ("{}", "[]") and not _plain(value):
        return UNSURE
    return _Token(indent, key=key, value=value or None)


def _plain(scalar: str) -> bool:
    """A one-line plain scalar this reader takes: no indicator first (even where YAML
    would allow one), no ``: `` inside, no ``:`` last."""
    return (bool(scalar) and scalar[0] not in _INDICATORS and ": " not in scalar
            and not scalar.endswith(":"))


class _Reader:
    """Builds the nodes from the tokens, by indentation as YAML does."""

    def __init__(self, tokens: list[_Token], resolver: Any) -> None:
        self.tokens = tokens
        self.resolver = resolver

    def tag(self, scalar: str) -> str:
        from ruamel.yaml.nodes import ScalarNode

        return str(self.resolver.resolve(ScalarNode, scalar, (True, False)))

    def scalar(self, text: str) -> Any:
        if text == "{}":
            return {}
        if text == "[]":
            return []
        tag = self.tag(text)
        if tag == _STR:
            return text
        if tag == _NULL:
            return None
        raise _Unsure  # a number, boolean, date, …: typed by ruamel.yaml's constructor

    def at(self, index: int) -> _Token | None:
        return self.tokens[index] if index < len(self.tokens) else None

    def node(self, index: int, depth: int) -> tuple[Any, int]:
        token = self.tokens[index]
        if depth >= MAX_DEPTH:
            raise _Unsure  # too deep: ruamel.yaml's reader says so, and recursion stops here
        if token.dash:
            return self.sequence(index, token.indent, depth + 1)
        if token.key is not None:
            return self.mapping(index, token.indent, depth + 1)
        raise _Unsure  # a lone scalar on a line of its own: a continued scalar, or worse

    def mapping(self, index: int, indent: int, depth: int = 1) -> tuple[dict[str, Any], int]:
        data: dict[str, Any] = {}
        while (token := self.at(index)) is not None and token.indent == indent:
            if token.dash or token.key is None or token.key in data:
                raise _Unsure
            if self.tag(token.key) != _STR:
                raise _Unsure
            index += 1
            if token.value is not None:
                data[token.key] = self.scalar(token.value)
            else:
                below = self.at(index)
                if below is not None and (below.indent > indent
                                          or (below.indent == indent and below.dash)):
                    data[token.key], index = self.node(index, depth)
                else:
                    data[token.key] = None
            after = self.at(index)
            if after is not None and after.indent > indent:
                raise _Unsure
        return data, index

    def sequence(self, index: int, indent: int, depth: int) -> tuple[list[Any], int]:
        items: list[Any] = []
        while (token := self.at(index)) is not None and token.indent == indent:
            if not token.dash:
                break  # the key after an indentless sequence: its mapping goes on
            content = self.tokens[index + 1]  # a dash always has its content (see _tokens)
            if content.key is None:
                items.append(self.scalar(content.value or ""))
                index += 2
            else:
                if depth >= MAX_DEPTH:
                    raise _Unsure
                item, index = self.mapping(index + 1, content.indent, depth + 1)
                items.append(item)
            after = self.at(index)
            if after is not None and after.indent > indent:
                raise _Unsure
        return items, index
