"""``hermes-tui status [--json]``: every profile, its gateway, models and channels.

Works without an engine: the gateway state is then "unknown" and a note says why.

``--json`` prints one object (stable; new keys may be added, none removed or renamed)::

    {
      "data_dir": "/home/me/.local/share/hermes",
      "current_profile": "bot" | null,
      "engine": {"reachable": true, "summary": "Docker 27.3.1 · API 1.47 · linux/amd64",
                 "url": "unix:///var/run/docker.sock", "source": "Docker socket",
                 "remote": null, "note": null},
      "profiles": [
        {
          "name": "bot",
          "current": true,
          "path": "/home/me/.local/share/hermes/profiles/bot",
          "gateway": {"state": "running", "exit_code": null, "health": "ok",
                      "api_port": 8642, "restart_count": 0, "version": "0.19.0",
                      "engine": "this machine"},
          "channels": ["telegram"],
          "models": ["llama3.2:3b", "qwen2.5:7b"],
          "default_model": "llama3.2:3b",
          "router_url": "http://127.0.0.1:11434/v1",
          "error": null
        }
      ]
    }

``gateway.state`` is "running", "restarting", "exited", "created", "paused", "missing"
(no container) or "unknown" (no engine). ``health`` is "ok", "failing" or null (not
running, API server off, or not checked; "ok" only when ``/health`` answers as
hermes-agent), ``version`` the Hermes version it reported (null when not known); only
this data dir's gateways count, though other data dirs may share the engine. ``channels``: the wizard's choice for the current
profile, the channels whose keys are set in ``.env`` for the others. ``models``,
``default_model`` and ``router_url`` are what the profile's ``config.yaml`` says (the
router URL as Hermes calls it from its container). ``engine.remote`` names the other
machine an ``ssh://`` or ``tcp://`` engine runs on ("ops@host:22 over SSH", "host:2376
over TLS"; null for this machine's socket), and each ``gateway.engine`` says where that
profile's gateway runs ("this machine" or "remote host …"; null when no engine answered). ``error`` says why a profile's files
could not be read (null when they could). ``engine.source`` says where the engine was
found: "--docker-host", "DOCKER_HOST", "saved from last run" (``engine_url`` in
``wizard.toml``), a Docker context or a well-known socket; null when none answered.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import TYPE_CHECKING, Any

from hermes_tui.commands import EXIT_STATE_ERROR, Console, open_command

if TYPE_CHECKING:
    from hermes_tui.engine.gateway import GatewayStatus
    from hermes_tui.settings import Settings
    from hermes_tui.state import WizardState


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object (shape documented in hermes_tui/commands/status.py)")


def env_channels(env: dict[str, str]) -> list[str]:
    """Channels configured in a ``.env``: the test the Channels step uses to pre-tick them."""
    from hermes_tui.steps.channels import configured_channels

    return configured_channels(env)


async def _gateways(
    settings: Settings, saved: str | None = None
) -> tuple[dict[str, Any], dict[str, GatewayStatus] | None]:
    from hermes_tui.engine.detect import diagnose

    diagnosis = await diagnose(settings.docker_host, saved=saved)
    engine = diagnosis.engine
    if engine is None:
        note = f"gateway state unknown: no container engine reachable ({diagnosis.headline})"
        return {"reachable": False, "summary": None, "url": None, "source": None,
                "remote": None, "note": note}, None
    info = {"reachable": True, "summary": engine.summary, "url": engine.url,
            "source": engine.source, "remote": engine.remote, "place": engine.place,
            "note": None}
    from hermes_tui.engine.gateway import find_gateways
    from hermes_tui.engine.launch import engine_client
    from hermes_tui.engine.route import route_for

    try:
        route = route_for(engine)
        try:
            async with engine_client(engine) as docker:
                return info, await find_gateways(
                    docker, data_dir=settings.paths.profiles, route=route)
        finally:
            await route.aclose()
    except Exception as exc:  # noqa: BLE001 - any engine failure: state unknown, said so
        info["note"] = f"gateway state unknown: the engine failed to list containers ({exc})"
        return info, None


def _gateway_json(status: GatewayStatus | None, place: str | None) -> dict[str, Any]:
    """``place``: where the engine runs (None when no engine answered)."""
    if place is None:
        return {"state": "unknown", "exit_code": None, "health": None, "api_port": None,
                "restart_count": None, "version": None, "engine": None}
    if status is None:
        return {"state": "missing", "exit_code": None, "health": None, "api_port": None,
                "restart_count": 0, "version": None, "engine": place}
    return {"state": status.state, "exit_code": status.exit_code, "health": status.health,
            "api_port": status.api_port, "restart_count": status.restart_count,
            "version": status.version, "engine": place}


def _profile_json(settings: Settings, state: WizardState, name: str,
                  gateways: dict[str, GatewayStatus] | None,
                  place: str | None = None) -> dict[str, Any]:
    from hermes_tui.bridge.sync import ConfigError, read_synced
    from hermes_tui.envfile import read_env

    path = settings.paths.profile_dir(name)
    current = name == state.profile
    errors: list[str] = []
    if current:
        channels = list(state.channels)
    else:
        try:
            channels = env_channels(read_env(path / ".env"))
        except (OSError, UnicodeDecodeError) as exc:
            channels = []
            errors.append(f"cannot read .env: {exc}")
    models: list[str] = []
    default = router = None
    try:
        synced = read_synced(path / "config.yaml")
        models, default, router = list(synced.models), synced.default, synced.base_url
    except ConfigError as exc:
        errors.append(str(exc))
    return {
        "name": name,
        "current": current,
        "path": str(path),
        "gateway": _gateway_json((gateways or {}).get(name),
                                 place if gateways is not None else None),
        "channels": channels,
        "models": models,
        "default_model": default,
        "router_url": router,
        "error": "; ".join(errors) or None,
    }


async def collect(settings: Settings, state: WizardState) -> dict[str, Any]:
    """The whole status as the documented JSON-ready dict."""
    engine, gateways = await _gateways(settings, state.engine_url)
    from hermes_tui.profile import profile_names

    names = profile_names(settings.paths.profiles)
    place = engine.pop("place", None)
    return {
        "data_dir": str(settings.paths.root),
        "current_profile": state.profile,
        "engine": engine,
        "profiles": [_profile_json(settings, state, n, gateways, place) for n in names],
    }


def _gateway_text(gateway: dict[str, Any]) -> str:
    state = gateway["state"]
    if state == "exited" and gateway["exit_code"] is not None:
        text = f"exited with code {gateway['exit_code']}"
    elif state == "missing":
        text = "not created"
    else:
        text = state
    if gateway["health"]:
        text += f", health {gateway['health']}"
    if gateway.get("version"):
        text += f" (Hermes {gateway['version']})"
    if gateway["api_port"]:
        text += f", port {gateway['api_port']}"
    if gateway["restart_count"]:
        text += f", {gateway['restart_count']} restart(s)"
    return text


def print_text(console: Console, data: dict[str, Any]) -> None:
    from hermes_tui import channels as catalog

    engine = data["engine"]
    console.print(f"Data dir  {data['data_dir']}")
    if engine["summary"]:
        console.print(f"Engine    {engine['summary']} ({engine['source']}: {engine['url']})")
        if engine["remote"]:
            console.print(f"Host      {engine['remote']} (another machine)")
    else:
        console.print("Engine    not reachable")
    if engine["note"]:
        console.print(f"Note      {engine['note']}")
    if not data["profiles"]:
        console.print("No profiles yet: run hermes-tui, or hermes-tui setup --non-interactive "
                      "--profile NAME.")
        return
    for profile in data["profiles"]:
        console.print()
        star = " (current)" if profile["current"] else ""
        console.print(console.bold(f"{profile['name']}{star}") + f"  {profile['path']}")
        names = [catalog.BY_ID[c].name if c in catalog.BY_ID else c for c in profile["channels"]]
        models = profile["models"]
        rows = [
            ("Gateway", _gateway_text(profile["gateway"])),
            *([("Runs on", profile["gateway"]["engine"])] if profile["gateway"]["engine"] else []),
            ("Channels", ", ".join(names) or "none"),
            ("Models", ", ".join(models) if models else "none synced"),
            ("Default", profile["default_model"] or "none"),
            ("Router", profile["router_url"] or "not set"),
        ]
        if profile["error"]:
            rows.append(("Error", profile["error"]))
        for label, value in rows:
            console.print(f"  {label:<9} {value}")


def run(args: argparse.Namespace) -> int:
    opened = open_command(args)
    if opened is None:
        return EXIT_STATE_ERROR
    console = opened.console
    data = asyncio.run(collect(opened.settings, opened.state))
    if getattr(args, "json", False):
        console.print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print_text(console, data)
    return 0
