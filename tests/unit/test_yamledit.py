"""One config.yaml editor for the bridge and the migration: the user's style survives both."""

from __future__ import annotations

import stat
from datetime import datetime
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from hermes_tui.bridge.sync import save_router_key, write_models
from hermes_tui.migration.apply import apply_plan
from hermes_tui.migration.plan import build_plan
from hermes_tui.yamledit import ConfigError, decode, detect_indent, edit_bytes, open_document
from tests.support.claw_tree import build_claw_tree, make_profile

#: A hand-written config.yaml: 4-space mappings, dashes indented under their key, comments
#: at the top, at the end of lines and between sections, a quoted string, a blank line.
FOUR_SPACE = """\
# Hermes settings, edited by hand.
model:
    default: ""          # chosen later

# Memory caps (Hermes defaults).
memory:
    memory_char_limit: 2200    # keep in sync with the docs
    user_char_limit: 1375

terminal:
    backend: 'local'
    timeout: 180   # seconds

command_allowlist:
    - /usr/bin/ls
"""

#: Blocks neither writer touches: they must come out byte for byte.
UNTOUCHED = (
    "# Hermes settings, edited by hand.\n",
    ("# Memory caps (Hermes defaults).\n"
    "memory:\n"
    "    memory_char_limit: 2200    # keep in sync with the docs\n"
    "    user_char_limit: 1375\n"
    "\n"
    "terminal:\n"
    "    backend: 'local'\n"
    "    timeout: 180   # seconds\n"),
)


def _profile(tmp_path: Path, text: str) -> Path:
    _, profile = make_profile(tmp_path)
    (profile / "config.yaml").write_text(text, encoding="utf-8")
    return profile


def _assert_kept(text: str) -> None:
    for block in UNTOUCHED:
        assert block in text, f"lost or re-indented:\n{block}\n--- in ---\n{text}"


def test_four_space_config_keeps_untouched_lines_after_a_migration_apply(tmp_path):
    profile = _profile(tmp_path, FOUR_SPACE)
    claw = build_claw_tree(tmp_path / ".openclaw")
    plan = build_plan(claw, profile)
    result = apply_plan(plan, now=datetime(2026, 11, 30, 12, 0, 0))
    assert not result.errors
    text = (profile / "config.yaml").read_text(encoding="utf-8")
    _assert_kept(text)
    # What the migration added follows the file's style: 4-space mappings, indented dashes.
    assert "mcp_servers:\n    filesystem:\n        command: npx\n" in text
    assert "command_allowlist:\n    - /usr/bin/git\n    - /usr/bin/ls\n" in text
    assert "custom_providers:\n    - name: localvllm\n      base_url:" in text
    assert stat.S_IMODE((profile / "config.yaml").stat().st_mode) == 0o600


def test_four_space_config_keeps_untouched_lines_after_a_bridge_sync(tmp_path):
    profile = _profile(tmp_path, FOUR_SPACE)
    ref = save_router_key(profile / ".env", "sk-router")
    write_models(profile / "config.yaml", base_url="http://router:4000/v1",
                 models=["llama3", "qwen3"], default="llama3", api_key_ref=ref)
    text = (profile / "config.yaml").read_text(encoding="utf-8")
    _assert_kept(text)
    # The new keys go under the section, its header comment stays above the next one.
    assert 'model:\n    default: "llama3"    # chosen later\n    provider: custom:hermes-tui-router\n' in text
    assert "command_allowlist:\n    - /usr/bin/ls\n" in text


def test_migration_then_bridge_then_migration_again_keeps_the_same_style(tmp_path):
    profile = _profile(tmp_path, FOUR_SPACE)
    claw = build_claw_tree(tmp_path / ".openclaw")
    apply_plan(build_plan(claw, profile), now=datetime(2026, 11, 30, 12, 0, 0))
    write_models(profile / "config.yaml", base_url="http://router:4000/v1",
                 models=["llama3"], default="llama3", api_key_ref=None)
    once = (profile / "config.yaml").read_bytes()
    write_models(profile / "config.yaml", base_url="http://router:4000/v1",
                 models=["llama3"], default="llama3", api_key_ref=None)
    assert (profile / "config.yaml").read_bytes() == once
    _assert_kept(once.decode())


def test_edit_keeps_bom_and_crlf():
    raw = b"\xef\xbb\xbf# top\r\nmodel:\r\n    default: a\r\n"

    def mutate(doc):
        doc["model"]["provider"] = "custom:x"

    out = edit_bytes(raw, mutate)
    assert out == b"\xef\xbb\xbf# top\r\nmodel:\r\n    default: a\r\n    provider: custom:x\r\n"


def test_comment_only_file_keeps_its_comments_and_gains_settings():
    out = edit_bytes(b"# only a comment\n", lambda doc: doc.update({"timezone": "UTC"}))
    assert out == b"# only a comment\ntimezone: UTC\n"


def test_absent_file_gets_two_space_block_style():
    def mutate(doc):
        doc["mcp_servers"] = {"fs": {"command": "npx"}}

    assert edit_bytes(None, mutate) == b"mcp_servers:\n  fs:\n    command: npx\n"


@pytest.mark.parametrize(("text", "expected"), [
    ("a:\n    b: 1\n", (4, 2, 0)),
    ("a:\n  - x\n", (2, 4, 2)),
    ("a:\n- x\nb:\n   c: 1\n", (3, 2, 0)),
    ("a: 1\n", (2, 2, 0)),
])
def test_detect_indent(text, expected):
    assert detect_indent(text) == expected


def test_non_mapping_and_invalid_yaml_are_config_errors():
    with pytest.raises(ConfigError, match="list at the top"):
        open_document("config.yaml", decode(b"- a\n- b\n"))
    with pytest.raises(ConfigError, match="line 3"):
        open_document("config.yaml", decode(b"a: 1\nb: [1, 2\n"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        decode(b"a: \xff\n")


def test_plan_preview_matches_what_apply_writes(tmp_path):
    profile = _profile(tmp_path, FOUR_SPACE)
    claw = build_claw_tree(tmp_path / ".openclaw")
    plan = build_plan(claw, profile)
    preview = next(c for c in plan.file_changes() if c.path == "config.yaml")
    apply_plan(plan, now=datetime(2026, 11, 30, 12, 0, 0))
    assert (profile / "config.yaml").read_text(encoding="utf-8") == preview.after
    YAML(typ="safe").load(preview.after)  # and it is valid YAML
