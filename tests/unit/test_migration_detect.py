"""Claw detection: which folder, which port, whether the gateway answers, auto-skip."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest

from hermes_tui.migration.detect import (
    DEFAULT_GATEWAY_PORT,
    ERROR_NOT_FOUND,
    ClawDetection,
    detect,
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
    assert "If you have never used Claw, press Skip" in found.not_found_message


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
