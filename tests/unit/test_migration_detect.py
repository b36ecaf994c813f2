"""Claw detection: which folder, which port, whether the gateway answers, auto-skip."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hermes_tui.migration.detect import (
    DEFAULT_GATEWAY_PORT,
    ERROR_NOT_FOUND,
    ClawDetection,
    ConfigReading,
    _load_config_off_loop,
    detect,
    load_config_quietly,
    parse_config_text,
)
from tests.support.claw_tree import build_claw_tree, openclaw_config


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_no_folder_no_gateway_no_channels_auto_skips_with_reason(tmp_path):
    found = await detect(home=tmp_path, timeout=0.2)
    assert found.path == tmp_path / ".openclaw"
    assert not found.exists and not found.is_dir
    assert found.gateway_port == DEFAULT_GATEWAY_PORT
    assert found.channels == ()
    if not found.gateway_running:
        assert found.auto_skip
        assert found.skip_reason == "no OpenClaw setup found"


async def test_legacy_folder_is_found_when_openclaw_is_absent(tmp_path):
    (tmp_path / ".moltbot").mkdir()
    found = await detect(home=tmp_path, timeout=0.1)
    assert found.path == tmp_path / ".moltbot"
    assert found.exists and found.is_dir and not found.auto_skip and found.skip_reason == ""


async def test_channels_and_port_come_from_openclaw_json(tmp_path):
    config = openclaw_config()
    config["gateway"]["port"] = _free_port()
    config["channels"]["discord"]["enabled"] = False
    claw = build_claw_tree(tmp_path / "claw", config=config)
    found = await detect(claw, timeout=0.1)
    assert found.gateway_port == config["gateway"]["port"]
    assert found.gateway_running is False
    assert found.channels == ("signal", "slack", "telegram", "whatsapp")


async def test_running_gateway_is_seen_on_loopback(tmp_path):
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        claw = tmp_path / "claw"
        claw.mkdir()
        (claw / "openclaw.json").write_text(json.dumps({"gateway": {"port": port}}))
        found = await detect(claw, timeout=1)
        assert found.gateway_running and found.gateway_port == port
        # A running gateway alone is enough to keep the step, even without a folder.
        assert not ClawDetection(None, False, False, port, True, ()).auto_skip
    finally:
        server.close()
        await server.wait_closed()


async def test_malformed_config_falls_back_to_default_port(tmp_path):
    claw = tmp_path / "claw"
    claw.mkdir()
    (claw / "openclaw.json").write_text("{ not json")
    found = await detect(claw, timeout=0.1)
    assert found.gateway_port == DEFAULT_GATEWAY_PORT and found.channels == ()


async def test_a_file_instead_of_a_folder_gets_the_not_found_message(tmp_path):
    path = tmp_path / "openclaw-file"
    path.write_text("x")
    found = await detect(path, timeout=0.1)
    assert found.exists and not found.is_dir
    assert ERROR_NOT_FOUND in found.not_found_message
    assert "is not a directory" in found.not_found_message
    # What happened only: each front end names its own way out (a key, a flag).
    assert "Skip" not in found.not_found_message and "press" not in found.not_found_message


async def test_missing_folder_message_says_it_does_not_exist(tmp_path):
    found = await detect(tmp_path / "nope", timeout=0.1)
    assert "does not exist" in found.not_found_message


def test_json5_comments_trailing_commas_and_bare_keys_are_tolerated():
    text = """{
      // the gateway
      gateway: { port: 19000, },  /* block */
      'channels': { telegram: { enabled: true, botToken: 'a:b"c' } },
    }"""
    data = parse_config_text(text)
    assert data["gateway"]["port"] == 19000
    assert data["channels"]["telegram"]["botToken"] == 'a:b"c'


@pytest.mark.parametrize("text", ["{", "[1, 2]", "{'a': }"])
def test_malformed_config_text_raises(text):
    with pytest.raises(ValueError):
        parse_config_text(text)


def test_plan_home_is_the_one_claw_dir_default(tmp_path, monkeypatch):
    from pathlib import Path

    from hermes_tui.migration.detect import plan_home

    monkeypatch.setenv("HOME", str(tmp_path))
    # The default folder (found in home): ~ in openclaw.json expands against the user's home.
    assert plan_home(None) == Path.home()
    # A folder passed explicitly: nothing outside it is read...
    assert plan_home(tmp_path / "claw") is None
    # ...unless a home is given (migrate --home).
    assert plan_home(tmp_path / "claw", tmp_path / "h") == tmp_path / "h"
    assert plan_home(None, str(tmp_path / "h")) == tmp_path / "h"


# --- hostile configs: detection never raises, never blocks the event loop ---------------


def telegram_config(padding: int = 0) -> str:
    """A JSON5 openclaw.json that configures Telegram, grown by ``padding`` agents."""
    agents = "".join(f"  {{id: 'agent-{i}', /* c */ model: 'anthropic/b',}},\n"
                     for i in range(padding))
    return ("{\n  // JSON5\n  channels: {telegram: {botToken: 'x:y',},},\n"
            f"  agents: {{list: [\n{agents}]}},\n}}\n")


@pytest.mark.parametrize("hostile", ["deep", "huge", "fifo"])
async def test_a_hostile_openclaw_json_is_passed_over_quietly(tmp_path, hostile):
    claw = tmp_path / "claw"
    claw.mkdir()
    config = claw / "openclaw.json"
    if hostile == "deep":  # json raised RecursionError here: a traceback on every launch
        config.write_text('{"channels": ' + "[" * 100_000 + "]" * 100_000 + "}")
    elif hostile == "huge":  # 98 MB: never read (sparse, so quick to make)
        config.write_text(telegram_config())
        os.truncate(config, 98_000_000)
    else:  # a FIFO would block the open for ever
        os.mkfifo(config)
    found = await detect(claw, timeout=0.1)
    # The folder is there, so the step runs; its plan says what is wrong with the file.
    assert found.exists and found.is_dir and not found.auto_skip
    assert found.channels == () and found.gateway_port == DEFAULT_GATEWAY_PORT


class GatedReading(ConfigReading):
    """Holds the parse (in its thread) at its first check until the event loop has shown
    progress, so the test proves the loop is free meanwhile - without timing anything."""

    def __init__(self) -> None:
        super().__init__()
        self.shown = threading.Event()
        self.threads: set[int] = set()
        self.waited_in_vain = False

    def check(self, done: int) -> None:
        self.threads.add(threading.get_ident())
        if not self.shown.is_set() and not self.shown.wait(30):
            self.waited_in_vain = True
        super().check(done)


async def test_openclaw_json_is_parsed_off_the_event_loop_with_progress_on_it(tmp_path):
    claw = tmp_path / "claw"
    claw.mkdir()
    (claw / "openclaw.json").write_text(telegram_config(padding=20))
    reading = GatedReading()
    seen: list[tuple[int, Path | None, int]] = []

    def progress(now: ConfigReading) -> None:
        seen.append((threading.get_ident(), now.path, now.total))
        if now.total:  # the parse is under way (and waits for this)
            reading.shown.set()

    config = await _load_config_off_loop(claw, progress, reading)
    loop_thread = threading.get_ident()
    assert not reading.waited_in_vain, "progress never reached the event loop"
    assert seen and all(thread == loop_thread for thread, _, _ in seen)
    assert seen[-1][1] == claw / "openclaw.json" and seen[-1][2] > 0
    assert reading.threads and loop_thread not in reading.threads
    assert config["channels"]["telegram"]["botToken"] == "x:y"
    assert reading.done == reading.total


def test_a_reader_told_to_stop_gives_up_and_detection_uses_nothing(tmp_path):
    claw = tmp_path / "claw"
    claw.mkdir()
    (claw / "openclaw.json").write_text(telegram_config(padding=5))
    reading = ConfigReading(stop=True)
    assert load_config_quietly(claw, reading) == {}
    assert load_config_quietly(claw, ConfigReading())["channels"]["telegram"]


# JSON5 as OpenClaw users write it, generated: the rewrite into JSON must give back the very
# value, whichever quoting, comments and trailing commas were used.
_KEY = st.from_regex(r"[A-Za-z_$][A-Za-z0-9_$]{0,6}", fullmatch=True)
_TEXT = st.text(alphabet=st.sampled_from(list("ab '\"\\/*,:{}[]\n\té")), max_size=8)
_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEY, inner, max_size=4),
    max_leaves=12,
)


def _json5(value: object, draw) -> str:
    gap = draw(st.sampled_from(["", " ", "\n", " // note\n", " /* note */ "]))
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            style = draw(st.sampled_from(["bare", "double", "single"]))
            shown = key if style == "bare" and key not in ("true", "false", "null") else (
                json.dumps(key) if style != "single" else "'" + key + "'")
            items.append(f"{gap}{shown}: {_json5(item, draw)}")
        trailing = "," if items and draw(st.booleans()) else ""
        return "{" + ",".join(items) + trailing + gap + "}"
    if isinstance(value, list):
        items = [gap + _json5(item, draw) for item in value]
        trailing = "," if items and draw(st.booleans()) else ""
        return "[" + ",".join(items) + trailing + gap + "]"
    if isinstance(value, str) and draw(st.booleans()):
        body = value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
        return "'" + body.replace("\t", "\\t") + "'"
    return json.dumps(value)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_KEY, _VALUE, max_size=5), st.data())
def test_json5_in_any_mix_of_styles_reads_back_as_the_value(value, data):
    assert parse_config_text(_json5(value, data.draw)) == value
