"""Reading ``config.yaml`` quickly for a reader that only looks (``hermes-tui status``
reads every profile's file).

ruamel.yaml's round-trip loader (what the writers need: it keeps comments and layout) is
pure Python, ~4.5 ms for a 30-line file: most of what status costs per profile. Its safe
loader on libyaml (ruamel.yaml.clib) reads the same file in ~0.6 ms, as plain values.
`plain_mapping` uses it when it can vouch for the answer, else the round-trip loader.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hermes_tui.limits import (
    MAX_EXPANDED,
    containers,
    expanded_size,
    too_deep,
    yaml_too_deep,
)
from hermes_tui.yamledit import Source, load_mapping

#: What the safe loader's answer is when it cannot be used.
UNSURE: Any = object()


def plain_mapping(path: Path, source: Source) -> Any:
    """`hermes_tui.yamledit.load_mapping` for a reader that only looks (``status`` reads
    every profile's file): the same answer, as plain values (dict, list, str, int, …)
    instead of ruamel.yaml's round-trip types, and several times faster.

    The safe loader (libyaml's parser, ruamel.yaml's resolver; it keeps no comments)
    answers only when it can vouch for the answer: on any error, a merge key (``<<``: the
    two loaders order merged keys differently), a directive (``%YAML 1.1``: libyaml's
    parser does not pass it to the resolver, so ``yes`` would stay a string), a limit passed, a top that is not a mapping or a key that is not a
    string (the two loaders' keys then print differently), the file goes to
    `load_mapping`, which answers, or raises the `ConfigError` it always raises.
    """
    text = source.text
    if text is None:
        return None
    data = UNSURE
    directive = text.startswith("%") or "\n%" in text
    if "<<" not in text and not directive and not yaml_too_deep(text):
        from ruamel.yaml import YAML

        try:
            data = YAML(typ="safe", pure=False).load(text)
        except Exception:  # noqa: BLE001 - whatever it is, the round-trip loader says it
            data = UNSURE
    if data is None or (isinstance(data, dict) and not too_deep(data)
                        and expanded_size(data) <= MAX_EXPANDED and _string_keys(data)):
        return data
    return load_mapping(path, source)


def _string_keys(value: Any) -> bool:
    """Whether every mapping in ``value`` (one already found not too deep) has only string
    keys; each shared container (YAML aliases) is looked at once."""
    return all(all(isinstance(key, str) for key in node)
               for node in containers(value) if isinstance(node, dict))
