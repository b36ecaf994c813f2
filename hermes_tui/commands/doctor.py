"""``hermes-tui doctor``: check everything setup made, one line per check, with the fix.

Checks, in order: engine reachable, image present, profile valid, profile files owned by
the user, config readable, router reachable, gateway healthy (answering as hermes-agent). A check that cannot run because an earlier one failed counts
as failing and says so. Exit 0 only when every check passes (a router check skipped for
want of a router URL does not fail).

Nothing is changed: doctor only reads files and asks the engine and the router.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import stat
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from hermes_tui.commands import EXIT_STATE_ERROR, Console, open_command
from hermes_tui.problem import Problem, problem_lines

if TYPE_CHECKING:
    from hermes_tui.engine.detect import EngineInfo
    from hermes_tui.settings import Settings
    from hermes_tui.state import WizardState

EXIT_OK = 0
EXIT_FAILED = 1

#: Check names, in the order they run (also the labels printed).
CHECKS = ("engine", "image", "profile", "owner", "config", "router", "gateway")
#: Entries listed under a failed ownership check.
OWNER_LINES = 5
LOG_LINES = 8


@dataclass
class Check:
    name: str
    #: "ok", "fail" or "skip".
    verdict: str
    detail: str
    fix: str = ""
    #: Extra lines shown under the check (e.g. the gateway's last log lines).
    more: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.verdict != "fail"

    @property
    def problem(self) -> Problem:
        return Problem(self.detail, self.fix, self.more, subject=self.name)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", metavar="NAME",
                        help="profile to check (default: the one the wizard set up last)")


def _blocked(name: str, because: str) -> Check:
    """A check that cannot run: it fails, and the earlier failure's fix is the fix."""
    return Check(name, "fail", f"not checked: {because} (fix the failure above first)")


async def _engine_check(
    settings: Settings, saved: str | None = None
) -> tuple[Check, EngineInfo | None]:
    from hermes_tui.engine.detect import diagnose

    diagnosis = await diagnose(settings.docker_host, saved=saved)
    engine = diagnosis.engine
    if engine is None:
        return Check("engine", "fail", diagnosis.headline, diagnosis.fix), None
    return Check("engine", "ok", f"{engine.summary} ({engine.source}: {engine.url})"), engine


async def _image_check(engine: EngineInfo, image: str) -> Check:
    from hermes_tui.engine.detect import client
    from hermes_tui.engine.pull import local_digest

    docker = client(engine)
    try:
        digest = await local_digest(docker, image)
    except Exception as exc:  # noqa: BLE001 - any engine failure is this check's verdict
        return Check("image", "fail", f"cannot ask the engine about {image}: {exc}",
                     "Check the engine (see the engine line above), then run doctor again.")
    finally:
        await docker.close()
    if digest is None:
        return Check("image", "fail", f"{image} is not on the engine",
                     "Pull it: hermes-tui setup --non-interactive --profile NAME, or step 2 "
                     "(Image pull) in the wizard.")
    return Check("image", "ok", f"{image} @ {digest}")


def _profile_check(settings: Settings, name: str | None) -> Check:
    from hermes_tui.paths import display_path
    from hermes_tui.profile import ProfileError, inspect_profile

    if not name:
        return Check("profile", "fail", "no profile has been set up yet",
                     "Run hermes-tui (the wizard) or hermes-tui setup --non-interactive "
                     "--profile NAME; or pass --profile NAME.")
    try:
        info = inspect_profile(settings.paths, name)
    except ProfileError as exc:
        return Check("profile", "fail", str(exc), "Pick another name, or move the file away.")
    where = display_path(info.path)
    if not info.exists:
        return Check("profile", "fail", f"'{name}': {where}/ does not exist",
                     f"Create it: hermes-tui setup --non-interactive --profile {name}.")
    if info.missing:
        return Check("profile", "fail",
                     f"'{name}' at {where}/ is incomplete (missing: {', '.join(info.missing)})",
                     f"Complete it: hermes-tui setup --non-interactive --profile {name} "
                     "(existing files are kept).")
    env = info.path / ".env"
    try:
        mode = stat.S_IMODE(env.stat().st_mode)
    except OSError as exc:
        return Check("profile", "fail", f"cannot read {display_path(env)}: {exc.strerror}",
                     f"Check the owner and permissions of {display_path(info.path)}/.")
    if mode != 0o600:
        return Check("profile", "fail",
                     f"{display_path(env)} has mode {mode:04o}; it holds secrets and must be 0600",
                     f"chmod 600 {env}")
    return Check("profile", "ok", f"'{name}' at {where}/ (.env 0600)")


def _owner_check(settings: Settings, name: str) -> Check:
    """Profile files the user no longer owns: the gateway image chowns what it is given to
    HERMES_UID/HERMES_GID, or to uid 10000 when they are not passed (older versions of
    this wizard, or a gateway started by hand)."""
    from hermes_tui.paths import display_path
    from hermes_tui.profile import check_ownership

    folder = settings.paths.profile_dir(name)
    uid, gid = os.getuid(), os.getgid()
    found = check_ownership(folder, uid)
    where = display_path(folder)
    if not found.foreign:
        return Check("owner", "ok", f"every file in {where}/ is yours (uid {uid})")
    owners = ", ".join(str(o) for o in found.owners)
    count = f"{len(found.foreign)}{'+' if found.truncated else ''}"
    if uid == 0:
        # Root reads every file anyway; the image gives root's files to uid 10000 because
        # it accepts HERMES_UID only from 1 to 65534.
        return Check("owner", "ok", f"{count} entries in {where}/ belong to uid {owners} (the "
                     "gateway image's user: it does not take uid 0); root can still read them")
    return Check(
        "owner", "fail",
        f"{count} entries in {where}/ belong to uid {owners}, not to you (uid {uid}): the "
        "wizard may no longer read or update them",
        f"sudo chown -R {uid}:{gid} {folder}  - then restart the gateway (r on the "
        "dashboard): hermes-tui passes your uid to the image, so it stays yours.",
        tuple(found.foreign[:OWNER_LINES])
        + ((f"… and {len(found.foreign) - OWNER_LINES} more",)
           if len(found.foreign) > OWNER_LINES else ()),
    )


def _config_check(settings: Settings, name: str) -> tuple[Check, object | None]:
    from hermes_tui.bridge.sync import ConfigError, read_synced
    from hermes_tui.paths import display_path

    path = settings.paths.profile_dir(name) / "config.yaml"
    try:
        synced = read_synced(path)
    except ConfigError as exc:
        return Check("config", "fail", str(exc),
                     f"Edit {path} so it is a YAML mapping of settings, or move it aside and "
                     "re-run step 5 (LLM bridge)."), None
    if synced.models:
        detail = (f"{display_path(path)}: {len(synced.models)} model(s), default "
                  f"{synced.default or 'none'}")
    else:
        detail = f"{display_path(path)}: readable (no models synced yet)"
    return Check("config", "ok", detail), synced


async def _router_check(url: str | None, api_key: str | None) -> Check:
    from hermes_tui.bridge.router import RouterError, list_models

    if not url:
        return Check("router", "skip",
                     "skipped: no router URL (pass --router-url, or set OPENAI_BASE_URL)")
    try:
        models = await list_models(url, api_key)
    except RouterError as exc:
        return Check("router", "fail", exc.message, exc.fix + ".")
    if not models:
        return Check("router", "fail", f"{url} answers but serves no models",
                     "Load a model in the router, then run doctor again.")
    return Check("router", "ok", f"{url} lists {len(models)} model(s)")


async def _gateway_check(settings: Settings, engine: EngineInfo, name: str) -> Check:
    from hermes_tui.engine.gateway import FIX_LOG, container_name, gateway_status, log_tail
    from hermes_tui.engine.launch import engine_client
    from hermes_tui.engine.route import route_for

    url = "/health"
    try:
        route = route_for(engine)
        try:
            async with engine_client(engine) as docker:
                status = await gateway_status(
                    docker, name, data_dir=settings.paths.profiles, route=route)
                tail = [] if status.running else await log_tail(docker, name, LOG_LINES)
                if status.api_port is not None:
                    url = await route.health_url(status.api_port)
        finally:
            await route.aclose()
    except Exception as exc:  # noqa: BLE001 - any engine failure is this check's verdict
        return Check("gateway", "fail", f"cannot ask the engine about the gateway: {exc}",
                     "Check the engine, then run doctor again.")
    box = f"{container_name(name)} on {engine.place}"
    if not status.exists:
        return Check("gateway", "fail", f"{box} is not created",
                     f"Start it: hermes-tui setup --non-interactive --profile {name}, or press "
                     "s on the dashboard (hermes-tui).")
    if status.state == "created":
        return Check("gateway", "fail", f"{box} was created but never started",
                     f"Start it: hermes-tui setup --non-interactive --profile {name}, or press "
                     "s on the dashboard; either shows why the engine cannot start it.")
    if not status.running:
        if tail:
            return Check("gateway", "fail", f"{box} {status.summary}", FIX_LOG,
                         ("last log lines:", *tail[-LOG_LINES:]))
        return Check("gateway", "fail", f"{box} {status.summary} (its log is empty)",
                     "Fix the profile's .env or config.yaml (re-run the step that wrote it), "
                     "then start the gateway again (s on the dashboard).")
    if status.api_port is None:
        return Check("gateway", "ok", f"{box} running (API server off: /health not checked)")
    if status.health != "ok":
        return Check("gateway", "fail",
                     f"{box} running but GET {url} does not answer as hermes-agent "
                     f"({status.health_detail or 'no answer'})",
                     f"Read its log (docker logs {box}); check API_SERVER_KEY and "
                     f"API_SERVER_PORT ({status.api_port}) in the profile's .env (Hermes "
                     "refuses to start its API server without a key) and that nothing else "
                     "uses the port.")
    return Check("gateway", "ok", f"{box} running, {url} answers as {status.health_detail}, "
                 f"restarts {status.restart_count}")


async def run_checks(
    settings: Settings, state: WizardState, profile: str | None, image: str
) -> list[Check]:
    from hermes_tui.bridge.router import initial_router_url
    from hermes_tui.bridge.sync import ROUTER_KEY_ENV, load_router_key

    checks: list[Check] = []
    engine_check, engine = await _engine_check(settings, state.engine_url)
    checks.append(engine_check)
    checks.append(await _image_check(engine, image) if engine else _blocked("image", "no engine"))

    profile_check = _profile_check(settings, profile)
    checks.append(profile_check)
    if profile and profile_check.passed:
        checks.append(_owner_check(settings, profile))
    else:
        checks.append(_blocked("owner", "the profile is not valid"))
    if profile and profile_check.passed:
        config_check, _ = _config_check(settings, profile)
    else:
        config_check = _blocked("config", "the profile is not valid")
    checks.append(config_check)

    url = initial_router_url(settings.router_url, state.router_url, os.environ)
    key = None
    if profile and profile_check.passed:
        try:
            key = load_router_key(settings.paths.profile_dir(profile) / ".env")
        except (OSError, UnicodeDecodeError):
            key = None
    checks.append(await _router_check(url, os.environ.get(ROUTER_KEY_ENV) or key))

    if engine is None:
        checks.append(_blocked("gateway", "no engine"))
    elif not (profile and profile_check.passed):
        checks.append(_blocked("gateway", "the profile is not valid"))
    else:
        checks.append(await _gateway_check(settings, engine, profile))
    return checks


def print_checks(console: Console, checks: list[Check]) -> None:
    width = max(len(name) for name in CHECKS)
    for check in checks:
        lead = f"{console.mark(check.verdict)} {check.name.ljust(width)}  "
        if check.verdict != "fail":
            console.print(lead + check.detail)
            continue
        problem = replace(check.problem, subject=None)  # the check's name leads the line
        for line in problem_lines(problem, lead=lead, indent="      ", fix_indent="    "):
            console.print(line)


def run(args: argparse.Namespace) -> int:
    opened = open_command(args)
    if opened is None:
        return EXIT_STATE_ERROR
    console, settings, state = opened.console, opened.settings, opened.state
    profile = getattr(args, "profile", None) or state.profile
    # The image setup pulled, unless --image names another.
    image = getattr(args, "image", None) or state.image_ref or settings.image
    checks = asyncio.run(run_checks(settings, state, profile, image))
    print_checks(console, checks)
    failed = [c for c in checks if not c.passed]
    if failed:
        console.print(f"{len(failed)} of {len(checks)} checks failed.")
        return EXIT_FAILED
    console.print("All checks passed.")
    return EXIT_OK
