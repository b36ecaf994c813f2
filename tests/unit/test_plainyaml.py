"""Reading ``config.yaml`` quickly for a reader that only looks (``status``): the answer is
always ruamel.yaml's round-trip answer, value for value and error for error, and the files
hermes-tui writes itself are read by the safe loader on libyaml."""

from __future__ import annotations

import datetime
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hermes_tui.bridge.sync import read_synced, write_models
from hermes_tui.paths import Paths
from hermes_tui.plainyaml import plain_mapping
from hermes_tui.profile import create_profile
from hermes_tui.yamledit import ConfigError, Source, load_mapping

CONFIG = Path("/profiles/bot/config.yaml")


def plain(value: Any) -> Any:
    """``value`` with ruamel.yaml's round-trip types as what they stand for: the strings
    exactly, other scalars by kind and value."""
    if isinstance(value, dict):
        return {(("str", str(k)) if isinstance(k, str) else ("key", repr(k))): plain(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return ("str", str(value))
    if isinstance(value, bool) or type(value).__name__ == "ScalarBoolean":
        return ("bool", bool(value))
    if isinstance(value, int):
        return ("int", int(value))
    if isinstance(value, float):
        return ("float", repr(float(value)))
    if isinstance(value, datetime.datetime):
        return ("datetime", value.replace(tzinfo=None).isoformat())
    if isinstance(value, datetime.date):
        return ("date", value.isoformat())
    return (type(value).__name__, repr(value))


def outcome(load: Any, text: str) -> Any:
    try:
        return "ok", plain(load(CONFIG, Source(text)))
    except ConfigError as error:
        return "error", str(error)


def assert_same_as_round_trip(text: str) -> None:
    want = outcome(load_mapping, text)
    assert outcome(plain_mapping, text) == want, text


# --- what hermes-tui writes: the quick path ---------------------------------------------


def test_the_files_hermes_tui_writes_are_read_by_the_safe_loader_on_libyaml(tmp_path):
    from ruamel.yaml import YAML

    assert YAML(typ="safe", pure=False).Parser.__module__.endswith("_ruamel_yaml")  # libyaml

    paths = Paths.resolve(tmp_path)
    create_profile(paths, "bot")
    config = paths.profile_dir("bot") / "config.yaml"
    fresh = config.read_text()
    write_models(config, base_url="http://127.0.0.1:11434/v1",
                 models=["llama3.2:3b", "qwen2.5:7b", "mistral-small:24b-instruct-q4_K_M"],
                 default="qwen2.5:7b", api_key_ref="HERMES_CUSTOM_HERMES_TUI_ROUTER_API_KEY")
    synced = config.read_text()

    for text in (fresh, synced):
        assert_same_as_round_trip(text)
    assert read_synced(config).models == ("llama3.2:3b", "qwen2.5:7b",
                                          "mistral-small:24b-instruct-q4_K_M")
    assert read_synced(config).default == "qwen2.5:7b"


# --- everything else: the same answer, or the same error --------------------------------

CASES = {
    "empty": "",
    "comments only": "# nothing yet\n\n   # indented\n",
    "crlf": "model:\r\n  default: a\r\n",
    "indentless sequence": "a:\n- x\n- y\nb: z\n",
    "indented sequence": "a:\n    - x\n    -   k: v\n        l: w\nb: {}\n",
    "item mapping under key": "a:\n- k:\n  - x\n  l: []\n",
    "value on the next line": "a:\n  continued\n",
    "multi-line plain": "a: one\n  two\n",
    "quotes": "a: 'x'\nb: \"y\\n\"\nc: it's\n",
    "inline comment": "a: b # note\nc: d#e\n",
    "types": "a: 1\nb: 1.5\nc: true\nd: 2001-12-14\ne: ~\nf: null\ng: .inf\nh: 0x1f\n",
    "typed keys": "1: a\ntrue: b\n2001-12-14: c\n1.10: d\n~: e\n",
    "yaml 1.1 booleans": "%YAML 1.1\n---\na: yes\nb: on\n",
    "merge keys": "base: &b\n  x: 1\n  y: 2\nuse:\n  <<: *b\n  z: 3\n  x: 0\n",
    "alias": "a: &x hello\nb: *x\n",
    "tag": "a: !custom thing\nb: !!str 1\n",
    "duplicate key": "a: 1\na: 2\n",
    "tab": "a:\n\tb: c\n",
    "non-ascii": "a: é\n# ünicode comment\n",
    "flow": "a: {b: 1, c: [1, 2]}\nd: [ ]\n",
    "block scalar": "a: |\n  line\n  line\n",
    "document markers": "---\na: b\n...\n",
    "two documents": "a: b\n---\nc: d\n",
    "top list": "- a\n- b\n",
    "top scalar": "just text\n",
    "bad indentation": "a:\n    b: c\n  d: e\n",
    "mapping value not allowed": "a: b: c\n",
    "key without space": "a:b\n",
    "dash alone": "a:\n-\n- x\n",
    "nested dashes": "a:\n- - x\n",
    "question key": "? a\n: b\n",
    "line separator": "a: b\u2028c\n",
    "lone carriage return": "a: b\rc: d\n",
    "too deep": "".join(f"{' ' * n}k:\n" for n in range(150)) + " " * 150 + "v\n",
    "alias bomb": ("a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                   + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)},"
                             f" *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)},"
                             f" *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)},"
                             f" *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(7))),
}


@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
def test_every_reading_gives_the_round_trip_answer_or_its_error(text):
    assert_same_as_round_trip(text)


def test_a_deep_file_is_refused_with_the_usual_message():
    assert outcome(plain_mapping, CASES["too deep"])[0] == "error"
    assert "nests mappings or lists more than 100 levels" in outcome(plain_mapping,
                                                                       CASES["too deep"])[1]


# --- generated documents ----------------------------------------------------------------

#: Mostly what configs hold (what the quick reader takes), some of everything else.
KEYS = ["model", "default", "provider", "base_url", "models", "llama3.2:3b", "qwen2.5:7b",
        "x:y", "yes", "on", "k k", "n-1", "a.b", "k1", "k2", "k3", "k4", "k5", "k6",
        "1", "true", "~", "<<", "é", "q'r", "#k", "-k"]
VALUES = ["v", "llama3.2:3b", "http://127.0.0.1:11434/v1", "custom:hermes-tui-router",
          "yes", "on", "{}", "[]", "a b", "x,y", "50%", "a&b", "", "", "chat_completions",
          "no", "1", "0.5", "~", "null", "2001-12-14", "-x", "*x", "é", "a #b", "a#b",
          "'q'", "{a: 1}", "|"]
ODD_LINES = ["x", "- x", "#c", "a: b: c", "---", "k:v", "  ", "\tk: v", "? k"]


def document(rng: random.Random) -> str:
    """A YAML document in one of the styles people write (indent 2, 3 or 4, sequences at
    or below their key, comments and blank lines anywhere), sometimes with one line
    shifted, cut or added."""
    lines: list[str] = []
    step = rng.choice([2, 2, 3, 4])

    def pick(pool: list[str]) -> str:  # the plain first half, four times out of five
        return rng.choice(pool[:len(pool) // 2] if rng.random() < 0.8 else pool)

    def mapping(indent: int, depth: int, first: str | None = None) -> None:
        keys = list(dict.fromkeys(pick(KEYS) for _ in range(rng.randint(1, 4))))
        for i, key in enumerate(keys):
            lead = first if (i == 0 and first is not None) else " " * indent
            roll = rng.random()
            if depth < 4 and roll < 0.25:
                lines.append(f"{lead}{key}:")
                mapping(indent + step, depth + 1)
            elif depth < 4 and roll < 0.45:
                lines.append(f"{lead}{key}:")
                at = indent if rng.random() < 0.5 else indent + step
                for _ in range(rng.randint(1, 3)):
                    dash = "-" + " " * rng.choice([1, 1, 2])
                    if rng.random() < 0.5:
                        mapping(at + len(dash), depth + 1, first=" " * at + dash)
                    else:
                        lines.append(" " * at + dash + (pick(VALUES) or "v"))
            else:
                value = pick(VALUES)
                lines.append(f"{lead}{key}:" + (" " * rng.choice([1, 2]) + value if value else ""))
            if rng.random() < 0.1:
                lines.append(" " * rng.randint(0, 6) + "# note")
            if rng.random() < 0.05:
                lines.append("")

    mapping(0, 0)
    if rng.random() < 0.3:
        at, roll = rng.randrange(len(lines)), rng.random()
        if roll < 0.4:
            lines[at] = " " + lines[at]
        elif roll < 0.6:
            lines[at] = lines[at][1:]
        elif roll < 0.8:
            lines.insert(at, " " * rng.randint(0, 6) + rng.choice(ODD_LINES))
        else:
            lines[at] += rng.choice([" ", "  # c", ":", " x"])
    return rng.choice(["\n", "\r\n"]).join(lines) + "\n"


@settings(max_examples=400, deadline=None)
@given(st.randoms(use_true_random=False))
def test_generated_documents_read_as_the_round_trip_loader_reads_them(rng):
    assert_same_as_round_trip(document(rng))
