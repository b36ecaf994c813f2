"""The real Hermes (hermes-agent 0.19.0) reads every profile shape the wizard writes.

Shapes: the LLM bridge alone (with and without a router key), the OpenClaw migration alone
(with and without secrets; a custom provider and a built-in one), both in either order, MCP
servers with credentials, memory at its caps. For each, Hermes's own loader and validator
accept ``config.yaml`` without issues, ``resolve_runtime_provider()`` picks the provider,
base URL and key we meant (the key read from ``.env`` by Hermes's loader), the memory store
loads within its caps, and ``${VAR}`` references expand to the ``.env`` values.

Each test builds its profile in ``tmp_path``; Hermes runs in its own venv (``hermes_venv``).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from hermes_tui.bridge.sync import save_router_key, write_models
from hermes_tui.migration.apply import apply_plan
from hermes_tui.migration.plan import MEMORY_SEPARATOR, build_plan
from tests.support.claw_tree import FAKE_SECRETS, build_claw_tree, make_profile, openclaw_config
from tests.support.openai_router import many_models

ORACLE = (Path(__file__).parent / "oracle.py").read_text(encoding="utf-8")
NOW = datetime(2026, 11, 30, 12, 0, 0)
ROUTER_URL = "http://router.test:4000/v1"
ROUTER_KEY = "sk-FAKE-router-key-0000"


def hermes_view(hermes_venv: Any, profile: Path) -> dict[str, Any]:
    done = hermes_venv.run_python(ORACLE, profile, timeout=180)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("ORACLE:")]
    assert done.returncode == 0 and lines, (
        f"Hermes could not read the profile (exit {done.returncode}):\n"
        f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    )
    return json.loads(lines[-1].removeprefix("ORACLE:"))


def assert_accepted(view: dict[str, Any]) -> None:
    assert view["issues"] == [], f"Hermes's validator complains: {view['issues']}"
    assert "runtime_error" not in view, view.get("runtime_error")
    memory = view["memory"]
    assert memory["memory_chars"] <= memory["memory_limit"]
    assert memory["user_chars"] <= memory["user_limit"]


def bridge(profile: Path, key: str | None) -> None:
    ref = save_router_key(profile / ".env", key)
    write_models(profile / "config.yaml", base_url=ROUTER_URL, models=["llama3", "qwen3"],
                 default="llama3", api_key_ref=ref)


def migrate(claw: Path, profile: Path, *, secrets: bool, choices: dict[str, str] | None = None) -> None:
    plan = build_plan(claw, profile, migrate_secrets=secrets)
    for item_id, choice in (choices or {}).items():
        plan.resolve(item_id, choice)  # type: ignore[arg-type]
    result = apply_plan(plan, now=NOW)
    assert not result.errors, result.errors


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    return make_profile(tmp_path)[1]


@pytest.fixture
def claw(tmp_path: Path) -> Path:
    return build_claw_tree(tmp_path / ".openclaw")


# --- the bridge alone ------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "expected_key"), [(ROUTER_KEY, ROUTER_KEY), (None, "no-key-required")])
def test_bridge_only_profile_resolves_to_the_router(hermes_venv, profile, key, expected_key):
    bridge(profile, key)
    view = hermes_view(hermes_venv, profile)
    assert_accepted(view)
    runtime = view["runtime"]
    assert runtime["provider"] == "custom"
    assert runtime["requested_provider"] == "custom:hermes-tui-router"
    assert runtime["base_url"] == ROUTER_URL
    assert runtime["api_key"] == expected_key
    assert runtime["api_mode"] == "chat_completions"
    assert view["model"]["default"] == "llama3"


def test_a_router_with_50000_models_is_read_whole_and_in_order(hermes_venv, profile):
    # The fast path for long runs of `<id>: {}` (hermes_tui.yamlfold) writes this file;
    # Hermes's own loader (PyYAML) must see every id, as a string, in the router's order.
    models = many_models(50_000)
    ref = save_router_key(profile / ".env", ROUTER_KEY)
    write_models(profile / "config.yaml", base_url=ROUTER_URL, models=models,
                 default=models[-1], api_key_ref=ref)
    write_models(profile / "config.yaml", base_url=ROUTER_URL, models=models[::-1],
                 default=models[0], api_key_ref=ref)  # the second sync rewrites the run
    view = hermes_view(hermes_venv, profile)
    assert_accepted(view)
    assert view["runtime"]["requested_provider"] == "custom:hermes-tui-router"
    assert view["model"]["default"] == models[0]
    assert view["custom_provider_models"]["hermes-tui-router"] == models[::-1]


# --- the migration alone ---------------------------------------------------------------------


@pytest.mark.parametrize("secrets", [False, True])
def test_migrated_profile_resolves_to_the_custom_provider_not_a_hosted_one(
        hermes_venv, claw, profile, secrets):
    migrate(claw, profile, secrets=secrets)
    view = hermes_view(hermes_venv, profile)
    assert_accepted(view)
    runtime = view["runtime"]
    # With secrets the .env holds OPENAI/ANTHROPIC/OPENROUTER keys too: without
    # model.provider Hermes would resolve "auto" and send one of them to a hosted provider.
    assert runtime["requested_provider"] == "custom:localvllm"
    assert runtime["provider"] == "custom"
    assert runtime["base_url"] == "http://127.0.0.1:8000/v1"
    assert runtime["api_key"] == (FAKE_SECRETS["localvllm"] if secrets else "no-key-required")
    assert view["model"]["default"] == "qwen3-32b"


@pytest.mark.parametrize(("ref", "provider", "base_host", "secret"), [
    ("openrouter/anthropic/claude-sonnet-4.5", "openrouter", "openrouter.ai", "openrouter"),
    ("anthropic/claude-sonnet-4.5", "anthropic", "api.anthropic.com", "anthropic_env"),
    ("openai/gpt-4o", "openai-api", "api.openai.com", "openai_profile"),
])
def test_migrated_builtin_provider_is_hermes_own_with_its_key_and_model_form(
        hermes_venv, tmp_path, profile, ref, provider, base_host, secret):
    config = openclaw_config()
    config["agents"]["defaults"]["model"] = {"primary": ref}
    migrate(build_claw_tree(tmp_path / ".openclaw", config=config), profile, secrets=True)
    view = hermes_view(hermes_venv, profile)
    assert_accepted(view)
    runtime = view["runtime"]
    assert runtime["provider"] == provider
    assert base_host in runtime["base_url"]
    assert runtime["api_key"] == FAKE_SECRETS[secret]
    # The model id is already in the form Hermes sends to that provider.
    assert view["normalized_default"] == view["model"]["default"]


def test_migrated_memory_loads_within_the_caps_even_with_overflowing_daily_notes(
        hermes_venv, claw, profile):
    facts = "\n".join(f"- standing fact {i}: " + "m" * 90 for i in range(20))
    (claw / "workspace/MEMORY.md").write_text(f"# MEMORY.md\n{facts}\n")
    notes = "\n".join(f"- note {i}: " + "d" * 120 for i in range(5))
    (claw / "workspace/memory/2026-11-02.md").write_text(f"# 2026-11-02\n{notes}\n")
    many = "\n".join(f"- user fact {i}: " + "u" * 80 for i in range(40))
    (claw / "workspace/USER.md").write_text(f"# USER.md\n{many}\n")
    migrate(claw, profile, secrets=False)
    view = hermes_view(hermes_venv, profile)
    assert_accepted(view)
    written = (profile / "memories/MEMORY.md").read_text().rstrip("\n").split(MEMORY_SEPARATOR)
    assert view["memory"]["memory_entries"] == written  # every entry, none truncated
    assert view["memory"]["memory_chars"] > 2000 and view["memory"]["user_chars"] > 1200


# --- both ------------------------------------------------------------------------------------


def test_migration_then_bridge_resolves_to_the_router(hermes_venv, claw, profile):
    migrate(claw, profile, secrets=True)
    bridge(profile, ROUTER_KEY)
    view = hermes_view(hermes_venv, profile)
    assert_accepted(view)
    assert view["runtime"]["requested_provider"] == "custom:hermes-tui-router"
    assert view["runtime"]["api_key"] == ROUTER_KEY
    names = [p["name"] for p in hermes_custom_providers(profile)]
    assert names == ["localvllm", "hermes-tui-router"]


@pytest.mark.parametrize(("choice", "provider", "base_url"), [
    ("skip", "custom:hermes-tui-router", ROUTER_URL),
    ("overwrite", "custom:localvllm", "http://127.0.0.1:8000/v1"),
])
def test_bridge_then_migration_follows_the_model_conflict_choice(
        hermes_venv, claw, profile, choice, provider, base_url):
    bridge(profile, ROUTER_KEY)
    migrate(claw, profile, secrets=False, choices={"model": choice})
    view = hermes_view(hermes_venv, profile)
    assert_accepted(view)
    assert view["runtime"]["requested_provider"] == provider
    assert view["runtime"]["base_url"] == base_url


def hermes_custom_providers(profile: Path) -> list[dict[str, Any]]:
    from ruamel.yaml import YAML

    return YAML(typ="safe").load((profile / "config.yaml").read_text())["custom_providers"]


# --- MCP servers and other sections ----------------------------------------------------------


def _mcp_claw(tmp_path: Path) -> Path:
    config = openclaw_config()
    config["mcp"]["servers"].update({
        "github": {"command": "gh-mcp", "env": {"GITHUB_TOKEN": FAKE_SECRETS["mcp_github"]}},
        "remote": {"url": "https://mcp.example.com/mcp",
                   "auth": {"type": "bearer", "token": "FAKE-remote-mcp-token-0000"}},
    })
    config["browser"] = {"cdpUrl": "http://127.0.0.1:9222", "headless": True}
    return build_claw_tree(tmp_path / ".openclaw", config=config)


def test_mcp_references_expand_to_the_env_values_with_consent(hermes_venv, tmp_path, profile):
    migrate(_mcp_claw(tmp_path), profile, secrets=True)
    view = hermes_view(hermes_venv, profile)
    assert_accepted(view)
    servers = view["mcp_servers"]
    assert servers["github"]["env"]["GITHUB_TOKEN"] == FAKE_SECRETS["mcp_github"]
    assert servers["remote"]["headers"]["Authorization"] == "Bearer FAKE-remote-mcp-token-0000"
    assert servers["filesystem"]["connect_timeout"] == 10
    assert view["browser"] == {"cdp_url": "http://127.0.0.1:9222", "headed": False}


def test_mcp_references_stay_unresolved_without_consent(hermes_venv, tmp_path, profile):
    migrate(_mcp_claw(tmp_path), profile, secrets=False)
    view = hermes_view(hermes_venv, profile)
    assert_accepted(view)
    assert view["mcp_servers"]["github"]["env"]["GITHUB_TOKEN"] == "${MCP_GITHUB_GITHUB_TOKEN}"
    assert FAKE_SECRETS["mcp_github"] not in json.dumps(view)


MATRIX_VIEW = """
import json, os
from hermes_cli.env_loader import load_hermes_dotenv
load_hermes_dotenv(hermes_home=os.environ["HERMES_HOME"])
from gateway.config import Platform, load_gateway_config
matrix = load_gateway_config().platforms.get(Platform.MATRIX)
print("ORACLE:" + json.dumps(None if matrix is None else {
    "enabled": matrix.enabled, "token": matrix.token, "extra": matrix.extra,
    "allowed": os.environ.get("MATRIX_ALLOWED_USERS")}))
"""


def test_migrated_matrix_settings_configure_hermes_gateway_with_consent(hermes_venv, tmp_path, profile):
    config = openclaw_config()
    config["channels"]["matrix"] = {
        "enabled": True, "homeserverUrl": "https://matrix.example.org",
        "userId": "@moss:example.org", "accessToken": "syt_FAKE_matrix_token_0000",
        "allowFrom": ["@alice:example.org"],
    }
    migrate(build_claw_tree(tmp_path / ".openclaw", config=config), profile, secrets=True)
    done = hermes_venv.run_python(MATRIX_VIEW, profile, timeout=180)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("ORACLE:")]
    assert lines, done.stderr[-3000:]
    matrix = json.loads(lines[-1].removeprefix("ORACLE:"))
    assert matrix is not None and matrix["enabled"]
    assert matrix["token"] == "syt_FAKE_matrix_token_0000"
    assert matrix["extra"]["homeserver"] == "https://matrix.example.org"
    assert matrix["extra"]["user_id"] == "@moss:example.org"
    assert matrix["allowed"] == "@alice:example.org"
