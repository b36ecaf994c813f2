"""Long runs of ``key: {}`` read and written past ruamel.yaml: the same data, the same text.

``hermes_tui.yamlfold`` takes a router's 50,000 ``<id>: {}`` lines out of ruamel.yaml's way.
Every test here compares what ``yamledit`` now reads (and writes) with what ruamel.yaml
itself reads (and writes) for the same text (and data): node types, key order, values,
comments, line and column records, flow style, anchors and tags; and byte for byte.
"""

from __future__ import annotations

import io
import random
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.tag import Tag

from hermes_tui.bridge.sync import render_models, write_models
from hermes_tui.limits import MAX_EXPANDED
from hermes_tui.yamledit import (
    ConfigError,
    Document,
    Source,
    _dump,
    new_yaml,
    open_document,
    parse,
)
from hermes_tui.yamlfold import FOLD_MIN, fold_data, fold_text, plain_key

PATH = Path("config.yaml")
RUN = FOLD_MIN + 6  # long enough to be folded


def ids(count: int, prefix: str = "vendor/model") -> list[str]:
    return [f"{prefix}-{i:05d}:q4_K_M" for i in range(count)]


def block(keys: list[str], indent: str) -> str:
    return "".join(f"{indent}{key}: {{}}\n" for key in keys)


# --- comparing with ruamel.yaml ------------------------------------------------------------------


def _comments(node: Any) -> Any:
    ca = getattr(node, "_yaml_comment", None)
    if ca is None:
        return None

    def token(t: Any) -> Any:
        if t is None:
            return None
        if isinstance(t, list):
            return [token(x) for x in t]
        mark = t.start_mark
        return (type(t).__name__, t.value, getattr(mark, "line", None), mark.column)

    return (token(ca.comment), {k: token(v) for k, v in ca.items.items()}, token(ca.end),
            token(getattr(ca, "pre", None)))


def _lines(node: Any) -> Any:
    lc = getattr(node, "_yaml_line_col", None)
    return None if lc is None else (lc.line, lc.col, lc.data)


def same(ours: Any, theirs: Any, where: str = "$") -> None:
    """Fail, naming the place, where ``ours`` is not what ruamel.yaml built."""
    assert type(ours) is type(theirs), f"{where}: {type(ours)} != {type(theirs)}"
    if isinstance(ours, dict):
        assert list(OrderedDict.keys(ours)) == list(OrderedDict.keys(theirs)), where
        assert ours._ok == theirs._ok, f"{where}: own keys"
        for key in OrderedDict.keys(ours):
            same(OrderedDict.__getitem__(ours, key), OrderedDict.__getitem__(theirs, key),
                 f"{where}.{key}")
    elif isinstance(ours, list):
        assert len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            same(a, b, f"{where}[{i}]")
    else:
        assert ours == theirs, where
    if isinstance(ours, (CommentedMap, CommentedSeq)):
        assert _comments(ours) == _comments(theirs), f"{where}: comments"
        assert _lines(ours) == _lines(theirs), f"{where}: lines"
        assert ours.fa.flow_style() == theirs.fa.flow_style(), f"{where}: style"
        assert ours.anchor.value == theirs.anchor.value, f"{where}: anchor"
        assert ours.tag.value == theirs.tag.value, f"{where}: tag"


def reads_as_ruamel_does(text: str, *, folds: bool = True) -> Any:
    """Parse ``text`` both ways and compare; ``folds``: the fast path must have been taken."""
    assert (fold_text(text) is not None) is folds
    ours = parse(PATH, text)
    same(ours, new_yaml().load(text))
    return ours


def dumps_as_ruamel_does(data: Any, **indent: int) -> str:
    yaml = new_yaml()
    if indent:
        yaml.indent(**indent)
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    ours = _dump(yaml, data)
    assert ours == buffer.getvalue()
    return ours


# --- reading -------------------------------------------------------------------------------------


MODELS = ids(RUN)
SHAPES = {
    "the bridge's own file": render_models(
        "# my config\nmodel: {}\n\nagent:\n  max_turns: 7\n", base_url="http://h:1/v1",
        models=MODELS, default=MODELS[3], api_key_ref="KEY"),
    "top level": block(MODELS, "") + "after: 1\n",
    "nested, then a comment and a section": (
        "a:\n  models:\n" + block(MODELS, "    ") + "  # the end of the models\n\n"
        "# next section\nb: [1, 2]\n"),
    "first keys of a list item": "items:\n- " + block(MODELS, "  ")[2:] + "- x: 1\n",
    "indented list, offset dashes": (
        "providers:\n  - name: a\n    models:\n" + block(MODELS, "      ") + "  - name: b\n"),
    "two runs in one mapping": (
        "m:\n" + block(MODELS, "  ") + "  middle: 0  # between\n"
        + block(ids(RUN, "other"), "  ") + "z: 9\n"),
    "a run at the end of the file": "m:\n" + block(MODELS, "  "),
    "windows line endings": ("m:\n" + block(MODELS, "  ") + "n: 1\n").replace("\n", "\r\n"),
    "comments right before and after": (
        "m:\n  # first\n" + block(MODELS, "  ") + "  # last\n  tail: {}\n"),
    "blank lines around": "m:\n\n" + block(MODELS, "  ") + "\n\nn: 1\n",
    "keys that are not plain strings break the run": (
        "m:\n" + block(MODELS[:RUN // 2], "  ") + "  'quoted': {}\n  1.5: {}\n  true: {}\n"
        "  null: {}\n  2024-01-01: {}\n  0x1F: {}\n  yes: {}\n  on: {}\n"
        + block(MODELS[RUN // 2:] + ids(RUN, "more"), "  ")),
    "an alias to the run's mapping": (
        "base: &b\n" + block(MODELS, "  ") + "copy: *b\nmerged:\n  <<: *b\n  extra: 1\n"),
}


@pytest.mark.parametrize("text", SHAPES.values(), ids=SHAPES.keys())
def test_a_long_run_is_read_exactly_as_ruamel_reads_it(text):
    reads_as_ruamel_does(text)


@pytest.mark.parametrize("text", SHAPES.values(), ids=SHAPES.keys())
def test_a_long_run_is_written_exactly_as_ruamel_writes_it(text):
    data = parse(PATH, text)
    for indent in ({}, {"mapping": 4, "sequence": 4, "offset": 2},
                   {"mapping": 2, "sequence": 2, "offset": 0}):
        dumps_as_ruamel_does(data, **indent)
    # and the document round-trips unchanged (where ruamel's own round trip does)
    document = open_document(PATH, Source(text, crlf="\r\n" in text))
    expected = Document(PATH, Source(text, crlf="\r\n" in text), new_yaml().load(text))
    assert document.render() == expected.render()


CONTEXTS = {
    "a block scalar": "note: |\n" + block(MODELS, "  ") + "other: 1\n",
    "a quoted string": 'note: "\n' + block(MODELS, "  ") + '  end"\nother: 1\n',
    "a %YAML 1.1 document": "%YAML 1.1\n---\nm:\n" + block(MODELS, "  "),
}


@pytest.mark.parametrize("text", CONTEXTS.values(), ids=CONTEXTS.keys())
def test_lines_that_only_look_like_a_run_are_left_to_ruamel(text):
    folded = fold_text(text)
    ours = parse(PATH, text)
    same(ours, new_yaml().load(text))
    if folded is not None:  # folded, then found where no mapping key can be: parsed again
        assert folded.locate(new_yaml().load(folded.text)) is None


BROKEN = {
    "a key twice in the run": "m:\n" + block(MODELS + MODELS[:1] + MODELS[5:9], "  "),
    "a key of the run also after it": "m:\n" + block(MODELS, "  ") + "  x: 1\n"
                                      + f"  {MODELS[0]}: 2\n",
    "a key in two runs": "m:\n" + block(MODELS, "  ") + "  x: 1\n" + block(MODELS, "  "),
    "no comma in a flow mapping": "m: {\n" + block(MODELS, "  ") + "}\n",
    "a run under a scalar": "m: text\n" + block(MODELS, "  "),
    "bad YAML after the run": "m:\n" + block(MODELS, "  ") + "n: [unclosed\n",
}


@pytest.mark.parametrize("text", BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_file_gets_ruamels_own_error_and_line(text):
    from ruamel.yaml.error import MarkedYAMLError

    with pytest.raises(MarkedYAMLError) as theirs:
        new_yaml().load(text)
    with pytest.raises(ConfigError) as ours:
        parse(PATH, text)
    mark = theirs.value.problem_mark or theirs.value.context_mark
    assert ours.value.line == mark.line + 1
    assert f"line {mark.line + 1}: {theirs.value.problem}" in ours.value.problem.what


def test_a_shape_error_after_a_long_run_names_the_line_of_the_file(tmp_path):
    config = tmp_path / "config.yaml"
    text = ("custom_providers:\n- name: mine\n  models:\n" + block(MODELS, "      ")
            + "model:\n- not a mapping\n")
    config.write_text(text)
    with pytest.raises(ConfigError) as caught:
        write_models(config, base_url="http://h/v1", models=["a"], default="a",
                     api_key_ref=None)
    assert caught.value.line == text.splitlines().index("model:") + 1
    assert config.read_text() == text


def test_aliases_over_a_long_run_count_every_entry_against_the_limit():
    # 100 aliases of the run's mapping, aliased again: past the limit only when each of
    # the run's entries counts, as in ruamel's own data.
    per_copy = 100 * (RUN + 1) + 1
    copies = MAX_EXPANDED // per_copy + 1

    def text(count: int) -> str:
        hundred = "[" + ", ".join(["*b"] * 100) + "]"
        return ("base: &b\n" + block(MODELS, "  ") + f"hundred: &h {hundred}\n"
                + "copies: [" + ", ".join(["*h"] * count) + "]\n")

    with pytest.raises(ConfigError, match="aliases"):
        parse(PATH, text(copies))
    fewer = parse(PATH, text(copies - 2))
    same(fewer["base"], new_yaml().load(text(copies - 2))["base"])


def test_random_keys_read_and_write_as_ruamel_does():
    rng = random.Random(13)
    special = "019_./@+-:# '\"!&*%é,[]{}?|>=~<"
    folded = 0
    for _ in range(8):
        keys = list(dict.fromkeys(
            "".join(rng.choice("abcxyz" if rng.random() < 0.8 else special)
                    for _ in range(rng.randint(1, 12)))
            for _ in range(400)))
        at = rng.randrange(len(keys))
        keys[at:at] = [f"m{i}" for i in range(FOLD_MIN * 2) if f"m{i}" not in keys]
        data = CommentedMap()
        data["models"] = models = CommentedMap()
        for key in keys:
            models[key] = CommentedMap()
        folds = fold_data(data)
        folds.restore()
        text = dumps_as_ruamel_does(data)
        folded += bool(folds.runs) and fold_text(text) is not None
        reads_as_ruamel_does(text, folds=fold_text(text) is not None)
    assert folded == 8  # the fast path was taken both ways every time


# --- writing -------------------------------------------------------------------------------------


def test_values_ruamel_writes_otherwise_are_never_folded():
    data = CommentedMap()
    data["m"] = models = CommentedMap()
    shared = CommentedMap()
    for i, key in enumerate(ids(RUN * 3)):
        models[key] = CommentedMap()
    keys = list(models)
    models[keys[10]] = shared  # written with an anchor...
    data["again"] = shared  # ...and an alias here
    models[keys[20]] = {}  # a plain dict writes as {} too: folded
    models[keys[30]].yaml_set_anchor("mine", always_dump=True)
    models.yaml_add_eol_comment("note", keys[40])
    models[keys[50]] = CommentedMap(x=1)
    flowing = CommentedMap((k, CommentedMap()) for k in ids(RUN, "flow"))
    flowing.fa.set_flow_style()
    data["flow"] = flowing
    tagged = CommentedMap()
    tagged.yaml_set_ctag(Tag(suffix="!x"))
    models[keys[60]] = tagged
    models[1234] = CommentedMap()  # not a string key
    models["x" * 150] = CommentedMap()  # too long to be a simple key
    text = dumps_as_ruamel_does(data, mapping=2, sequence=4, offset=2)
    assert "&mine {}" in text and "*id001" in text and "# note" in text
    folds = fold_data(data)
    try:
        folded = {key for run in folds.runs.values() for key in run}
    finally:
        folds.restore()
    assert folded and folded.isdisjoint({keys[10], keys[30], keys[40], keys[50], keys[60]})
    assert folded.isdisjoint(flowing)


def test_the_data_is_given_back_unchanged_after_a_dump():
    data = parse(PATH, SHAPES["two runs in one mapping"])
    keys = list(data["m"])
    dumps_as_ruamel_does(data)
    assert list(data["m"]) == keys and all(data["m"][k] == {} for k in keys if k != "middle")
    same(data, new_yaml().load(SHAPES["two runs in one mapping"]))


def test_plain_keys_are_those_ruamel_writes_plain():
    for key in ("llama3.2:3b", "vendor/model-1:q4_K_M", "gpt-4o", "a@b", "x+y", "yes", "on"):
        assert plain_key(key), key
    for key in ("1.5", "true", "null", "2024-01-01", "0x1F", "-x", ":x", "x:", "a b", "a#b",
                "'q'", "é", "x" * 101, "", ".5", "~"):
        assert not plain_key(key), key


def test_garbage_collection_pauses_for_the_block_only_and_never_turns_on_by_itself():
    import gc

    from hermes_tui.gcpause import paused_gc

    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():  # nested: the outer block decides
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), paused_gc():
        raise RuntimeError("a failed parse")
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()  # turned off by someone else: left off
    finally:
        gc.enable()
