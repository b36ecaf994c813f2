"""``hermes-tui setup --non-interactive``: the seven wizard steps, without the screen.

Each step calls the same domain code its screen calls and records its outcome in the same
``wizard.toml`` the wizard resumes from (``StateStore.save`` after every step, the same
statuses and reasons), so ``hermes-tui`` opens where ``setup`` stopped. One progress line
per step; the image pull adds a compact progress line (redrawn in place on a terminal, a
few plain lines when piped).

Credentials come from the environment under the very names the profile's ``.env`` uses
(``TELEGRAM_BOT_TOKEN``, ``SLACK_APP_TOKEN``, the router key
``HERMES_CUSTOM_HERMES_TUI_ROUTER_API_KEY``, ...); a value already in the profile's
``.env`` is kept when the environment has none. They are written to ``.env`` (0600)
only, never to the progress file or the output.

Exit codes: 0 all done; 2 bad arguments; 3 the progress file cannot be used; 5 another
hermes-tui is changing the data dir (``--wait SECONDS`` waits for it);
10 + N when step N fails (11 Runtime check … 17 Completion: the gateway did not start);
130 interrupted (the steps finished so far are saved).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hermes_tui.commands import (
    EXIT_STATE_ERROR,
    Console,
    load_state,
    lock_data_dir,
    settings_from,
)
from hermes_tui.problem import Problem, ProblemError, problem_lines

if TYPE_CHECKING:
    from hermes_tui.engine.detect import Diagnosis, EngineInfo
    from hermes_tui.engine.pull import PullProgress
    from hermes_tui.settings import Settings
    from hermes_tui.state import StateStore, StepId, StepStatus, WizardState

EXIT_OK = 0
EXIT_USAGE = 2
#: Step N failing exits with EXIT_STEP_BASE + N (11..17).
EXIT_STEP_BASE = 10
EXIT_INTERRUPTED = 130

MIGRATE_CHOICES = ("no", "dry-run", "apply")

EXIT_CODES_HELP = """\
exit codes:
  0    every step done or skipped, gateway running
  2    bad arguments
  3    the progress file (wizard.toml) cannot be used
  5    another hermes-tui (the wizard, setup, migrate) is changing this data
       dir; nothing was done (the message names it; --wait SECONDS waits for it)
  11   step 1 (Runtime check) failed
  12   step 2 (Image pull) failed
  13   step 3 (Profile) failed
  14   step 4 (Channels) failed
  15   step 5 (LLM bridge) failed
  16   step 6 (Claw migration) failed
  17   step 7 (Completion): the gateway did not start
  130  interrupted (Ctrl+C); finished steps are saved

Credentials are read from the environment under the names the profile's .env uses
(e.g. TELEGRAM_BOT_TOKEN, DISCORD_BOT_TOKEN, SLACK_BOT_TOKEN and SLACK_APP_TOKEN; the
router's API key as HERMES_CUSTOM_HERMES_TUI_ROUTER_API_KEY). Channels already complete in
the profile's .env stay configured. Progress is saved to the same wizard.toml the
interactive wizard resumes from.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from hermes_tui.channels import CATALOG

    parser.add_argument("--non-interactive", action="store_true",
                        help="run every step without the full screen (required)")
    parser.add_argument("--profile", metavar="NAME", help="profile to create or reuse (required)")
    parser.add_argument("--channel", metavar="NAME", action="append", default=[],
                        choices=[c.id for c in CATALOG],
                        help="messaging platform to configure; repeatable (choices: %(choices)s)")
    parser.add_argument("--default-model", metavar="ID",
                        help="the model Hermes uses by default (must be served by the router; "
                             "default: the current default if still served, else the first)")
    parser.add_argument("--migrate-claw", choices=MIGRATE_CHOICES, default="no",
                        help="OpenClaw migration: no (skip, the default), dry-run (print the "
                             "plan, write nothing), apply (migrate; conflicts make the step "
                             "fail). Without an OpenClaw setup the step is skipped, as in the "
                             "wizard")
    parser.add_argument("--migrate-secrets", action="store_true",
                        help="with --migrate-claw: migrate secrets too (tokens, API keys)")
    parser.add_argument("--health-timeout", metavar="SECONDS", type=float, default=30.0,
                        help="how long to wait for the gateway's /health (default: 30)")
    parser.add_argument("--wait", metavar="SECONDS", type=float, default=0.0,
                        help="when another hermes-tui is changing the data dir, wait up to "
                             "SECONDS for it to finish (default: 0, exit 5 at once)")


def check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse what cannot work before any step runs (``parser.error`` exits 2)."""
    from hermes_tui.profile import validate_name

    if not args.non_interactive:
        parser.error("setup needs --non-interactive (run hermes-tui with no subcommand for "
                     "the interactive wizard)")
    if not args.profile:
        parser.error("setup --non-interactive needs --profile NAME")
    verdict = validate_name(args.profile)
    if not verdict.ok:
        parser.error(f"invalid profile name {args.profile!r}: {verdict.message}")
    if args.migrate_secrets and args.migrate_claw == "no":
        parser.error("--migrate-secrets needs --migrate-claw dry-run or apply")
    if args.health_timeout <= 0:
        parser.error("--health-timeout must be more than 0")
    if args.wait < 0:
        parser.error("--wait must be 0 or more")


class StepFailed(ProblemError):
    """A step could not finish: ``reason`` goes to the progress file (a few words, no
    secrets); the problem (what, fix, log lines) to the user."""

    def __init__(self, reason: str, message: str, fix: str = "",
                 more: tuple[str, ...] = ()) -> None:
        super().__init__(Problem(message, fix, tuple(more)))
        self.reason = reason


class PullReporter:
    """Prints a pull's progress: one line redrawn in place on a TTY (≤ 10 times a second),
    else a line at each quarter. Reads the ``PullProgress`` model, never the event stream."""

    def __init__(self, console: Console, progress: PullProgress) -> None:
        self.console = console
        self.progress = progress
        self._last_quarter = -1
        self._drawn = False

    def line(self) -> str:
        p = self.progress
        layers = len(p.layers)
        if not layers:
            return "  pull: waiting for the registry…"
        text = f"  pull: {p.finished_layers}/{layers} layers"
        if p.has_bytes and p.bytes_total:
            text += f", {p.bytes_done / 1e6:.1f}/{p.bytes_total / 1e6:.1f} MB"
        fraction = p.fraction
        if fraction is not None:
            text += f" ({fraction * 100:.0f}%)"
        return text

    def tick(self) -> None:
        if self.console.tty:
            self.console.out.write("\r\x1b[2K" + self.line() if self.console.colour
                                   else "\r" + self.line().ljust(70))
            self.console.out.flush()
            self._drawn = True
            return
        fraction = self.progress.fraction
        if fraction is None or not self.progress.layers:
            return
        quarter = int(fraction * 4)
        if quarter > self._last_quarter and quarter < 4:
            self._last_quarter = quarter
            self.console.print(self.line())

    def close(self) -> None:
        if self.console.tty and self._drawn:
            self.console.out.write("\r\x1b[2K" if self.console.colour else "\r" + " " * 70 + "\r")
            self.console.out.flush()
        elif self.progress.layers and self.progress.done:
            self.console.print(self.line())

    async def run(self) -> None:
        while True:
            self.tick()
            await asyncio.sleep(0.1 if self.console.tty else 0.25)


class Setup:
    """Runs the seven steps against one `WizardState`, saving it after every change."""

    def __init__(self, args: argparse.Namespace, settings: Settings, store: StateStore,
                 state: WizardState, console: Console, environ: Mapping[str, str]) -> None:
        self.args = args
        self.settings = settings
        self.state = state
        self.console = console
        self.environ = environ
        self.engine: EngineInfo | None = None
        self.diagnosis: Diagnosis | None = None
        from hermes_tui.steps.flow import Flow

        #: The same transitions as the wizard's (HermesApp calls this Flow too).
        self.flow = Flow(state, store)

    # -- bookkeeping (the wizard's transitions: steps.flow) -------------------------------

    def _label(self, step: StepId) -> str:
        from hermes_tui.state import STEP_ORDER, STEP_TITLES, step_number

        return f"step {step_number(step)}/{len(STEP_ORDER)} {STEP_TITLES[step]}"

    def finish(self, step: StepId, detail: str, status: StepStatus | None = None,
               reason: str | None = None) -> None:
        from hermes_tui.state import StepStatus

        status = status or StepStatus.DONE
        self.flow.finish(step, status, reason)
        kind = "ok" if status is StepStatus.DONE else "skip"
        self.console.print(f"{self.console.mark(kind)} {self._label(step)}: {detail}")

    # -- the run --------------------------------------------------------------------------

    async def run(self) -> int:
        from hermes_tui.state import STEP_ORDER, STEP_TITLES, step_number

        steps = {
            "runtime": self.step_runtime, "pull": self.step_pull, "profile": self.step_profile,
            "channels": self.step_channels, "bridge": self.step_bridge,
            "migration": self.step_migration, "done": self.step_done,
        }
        for step in STEP_ORDER:
            self.flow.goto(step)
            try:
                await steps[step.value](step)
            except StepFailed as failure:
                self.flow.fail(step, failure.reason)
                number = step_number(step)
                self.console.print(f"{self.console.mark('fail')} {self._label(step)}: "
                                   f"{failure.reason}")
                for line in problem_lines(failure.problem,
                                          lead=f"step {number} ({STEP_TITLES[step]}) failed: "):
                    self.console.error(line)
                return EXIT_STEP_BASE + number
        return EXIT_OK

    # -- step 1 ---------------------------------------------------------------------------

    async def step_runtime(self, step: StepId) -> None:
        from hermes_tui.steps.runtime import NO_ENGINE, check_runtime

        diagnosis = await check_runtime(self.flow, self.settings.docker_host)
        engine = diagnosis.engine
        if engine is None:
            raise StepFailed(NO_ENGINE, diagnosis.headline, diagnosis.fix)
        self.diagnosis, self.engine = diagnosis, engine
        self.finish(step, f"{engine.summary} ({engine.source}: {engine.url})")

    # -- step 2 ---------------------------------------------------------------------------

    async def step_pull(self, step: StepId) -> None:
        from hermes_tui.engine.pull import PullError, PullProgress
        from hermes_tui.steps.pull import describe, pull_step

        assert self.diagnosis is not None
        image = self.settings.image
        self.console.print(f"  pulling {image}")
        progress = PullProgress()
        reporter = PullReporter(self.console, progress)
        ticker = asyncio.create_task(reporter.run())
        try:
            result = await pull_step(self.flow, self.diagnosis, image, progress)
        except PullError as error:
            raise StepFailed(error.kind.value, error.message, error.fix) from error
        finally:
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)
            reporter.close()
        how = describe(result).rstrip(".")
        self.finish(step, f"{image} — {how[0].lower()}{how[1:]} (digest "
                          f"{result.digest or 'unknown'})")

    # -- step 3 ---------------------------------------------------------------------------

    async def step_profile(self, step: StepId) -> None:
        from hermes_tui.paths import display_path
        from hermes_tui.profile import ProfileError
        from hermes_tui.steps.profile import NOT_CREATED, make_profile

        name = self.args.profile
        try:
            outcome = await make_profile(self.flow, self.settings.paths, name)
        except ProfileError as exc:
            raise StepFailed(NOT_CREATED, str(exc),
                             "Fix the folder's permissions or free some space, or pass "
                             "--data-dir DIR.") from exc
        verb = "created" if outcome.created else "reusing"
        self.finish(step, f"{verb} '{name}' at {display_path(outcome.path)}/")

    # -- step 4 ---------------------------------------------------------------------------

    async def step_channels(self, step: StepId) -> None:
        from hermes_tui import channels as catalog
        from hermes_tui.envfile import read_env
        from hermes_tui.steps.channels import (
            NOT_WRITTEN,
            ChannelsError,
            choose_channels,
            save_channels,
        )

        env_path = self.settings.paths.profile_dir(self.args.profile) / ".env"
        try:
            current = read_env(env_path)
        except (OSError, UnicodeDecodeError) as exc:
            raise StepFailed("could not read .env", f"Cannot read {env_path}: {exc}",
                             "Fix or move the file aside, then run setup again.") from exc
        # Each channel's values start from .env (as the screen's form does); the
        # environment overrides them. Setup gives no channel up: that is the screen's untick.
        chosen = {
            channel.id: {key: self.environ.get(key) or current.get(key, "")
                         for key in (*(f.key for f in channel.asked), channel.allow_list_key)}
            for channel in map(catalog.get, dict.fromkeys(self.args.channel))
        }
        choice = choose_channels(current, chosen)
        if not choice.complete:
            lacking = [(f, catalog.get(c)) for c, fields in choice.missing.items() for f in fields]
            names = ", ".join(f.key for f, _ in lacking)
            raise StepFailed(
                f"missing {names}",
                "Required credentials are not set: "
                + "; ".join(f"{f.key} ({c.name} {f.label.lower()})" for f, c in lacking) + ".",
                f"Export {names} in the environment (the same names as in the profile's "
                ".env), or leave the channel out.",
            )
        try:
            await save_channels(self.flow, env_path, choice)
        except ChannelsError as exc:
            raise StepFailed(NOT_WRITTEN, exc.problem.what, exc.problem.fix) from exc
        names = [catalog.get(c).name for c in choice.selected]
        detail = ", ".join(names) if names else "none (add channels later)"
        if choice.kept:
            detail += f" (kept from .env: {', '.join(catalog.get(c).name for c in choice.kept)})"
        self.finish(step, detail)

    # -- step 5 ---------------------------------------------------------------------------

    async def step_bridge(self, step: StepId) -> None:
        from hermes_tui.bridge.router import RouterError, initial_router_url, uses_host_network
        from hermes_tui.bridge.sync import ROUTER_KEY_ENV, load_router_key
        from hermes_tui.state import StepStatus
        from hermes_tui.steps.bridge import BridgeStep, SyncError

        explicit = self.settings.router_url
        url = initial_router_url(explicit, self.state.router_url, self.environ)
        if url is None:
            self.finish(step, "skipped: no router URL (pass --router-url URL)",
                        StepStatus.SKIPPED, "no router URL")
            return
        bridge = BridgeStep(self.flow, self.settings.paths.profile_dir(self.args.profile),
                            uses_host_network(self.engine))
        try:
            api_key = self.environ.get(ROUTER_KEY_ENV) or load_router_key(bridge.env_path)
            listing = await bridge.list(url, api_key)
        except RouterError as exc:
            if explicit:
                raise StepFailed(exc.kind.value, exc.message, exc.fix + ".") from exc
            self.console.print(f"  {url} (from saved progress or OPENAI_BASE_URL): {exc.message}")
            self.finish(step, f"skipped: router at {url} unreachable", StepStatus.SKIPPED,
                        "router unreachable")
            return
        base, models = listing.base, listing.ids
        if not models:
            raise StepFailed("no models loaded", f"{base} serves no models.",
                             "Load a model in the router (e.g. `ollama pull llama3.2`), then "
                             "run setup again.")
        default = self.args.default_model
        if default is not None and default not in models:
            raise StepFailed("default model not served",
                             f"--default-model {default} is not among the models {base} "
                             f"serves: {', '.join(models)}.",
                             "Pass one of those ids, or load that model in the router.")
        try:
            outcome = await bridge.sync(listing, api_key, default)
        except SyncError as exc:
            raise StepFailed("config.yaml not written", exc.problem.what,
                             "Fix or move the file aside, then run setup again.") from exc
        if not outcome.complete:
            raise StepFailed("not every model synced",
                             f"{bridge.config_path} lists {len(outcome.done)} of the "
                             f"{len(models)} models served, default {outcome.synced.default}.",
                             "Check the file by hand, then run setup again.")
        self.finish(step, f"{len(models)} model(s) synced from {base}, default "
                          f"{outcome.default}")

    # -- step 6 ---------------------------------------------------------------------------

    async def step_migration(self, step: StepId) -> None:
        from hermes_tui.state import StepStatus
        from hermes_tui.steps import migration

        claw_dir, choice = self.settings.claw_dir, self.args.migrate_claw
        found = await migration.find_claw(claw_dir)
        reason = migration.auto_skip_reason(found, claw_dir)
        if reason is not None or choice == "no":
            how = f"skipped: {reason}" if reason else "skipped (--migrate-claw no)"
            reason = migration.skip(self.flow, reason or migration.SKIPPED_BY_YOU)
            self.finish(step, how, StepStatus.SKIPPED, reason)
            return
        profile_dir = self.settings.paths.profile_dir(self.args.profile)
        try:
            plan = await migration.make_plan(self.flow, found, profile_dir, claw_dir,
                                             migrate_secrets=self.args.migrate_secrets)
        except migration.ClawNotFound as exc:
            raise StepFailed(migration.NOT_FOUND, exc.problem.what,
                             "Pass --claw-dir DIR, or --migrate-claw no.") from exc
        except migration.MigrationError as exc:
            raise StepFailed(migration.PLAN_FAILED, exc.problem.what, exc.problem.fix) from exc
        self._print_plan(plan)
        counts = ", ".join(f"{n} {s}" for s, n in plan.counts().items() if n)
        if choice == "dry-run":
            migration.accept_dry_run(self.flow)
            self.finish(step, f"dry run: {counts or 'nothing to migrate'}; nothing written")
            return
        conflicts = plan.unresolved_conflicts()
        if conflicts:
            raise StepFailed(
                f"{len(conflicts)} conflict(s)",
                f"{len(conflicts)} item(s) conflict with files in the profile: "
                + ", ".join(item.id for item in conflicts) + ". Nothing was written.",
                f"Choose per item: hermes-tui migrate --profile {self.args.profile} "
                "--on-conflict skip|overwrite|rename, or the wizard's Claw migration step.",
            )
        if plan.nothing_to_do:
            migration.accept_dry_run(self.flow)
            self.finish(step, "nothing left to migrate")
            return
        try:
            result = await migration.apply(self.flow, plan, found.path)
        except migration.MigrationError as exc:
            raise StepFailed(migration.APPLY_FAILED, exc.problem.what,
                             exc.problem.fix or "Read the message above.") from exc
        if result.errors:
            raise StepFailed(migration.APPLY_FAILED, "Some files were not written: "
                             + "; ".join(result.errors),
                             f"See {result.report_path}; undo with hermes-tui migrate "
                             f"--undo {result.run_dir}.")
        self.finish(step, f"applied: {len(result.created)} created, {len(result.replaced)} "
                          f"replaced, {len(result.archived)} archived (backups in "
                          f"{result.run_dir})")

    def _print_plan(self, plan: Any) -> None:
        for row in plan.to_json():
            self.console.print(f"  {row['status']:<9} {row['kind']:<16} {row['source']} → "
                               f"{row['destination']} ({row['reason']})")

    # -- step 7 ---------------------------------------------------------------------------

    async def step_done(self, step: StepId) -> None:
        from hermes_tui.engine.gateway import GatewayError
        from hermes_tui.engine.launch import EngineLost
        from hermes_tui.steps.completion import NOT_STARTED, profile_gateway, start_gateway

        assert self.engine is not None
        gateway = profile_gateway(self.settings, self.state, self.engine, self.args.profile)
        self.console.print(f"  starting the gateway for '{self.args.profile}'…")
        began = time.monotonic()
        try:
            status = await start_gateway(self.flow, gateway, self.args.health_timeout)
        except (GatewayError, EngineLost) as error:
            problem = error.problem
            raise StepFailed(NOT_STARTED, problem.what, problem.fix, problem.details) from error
        where = ""
        if status.api_port is not None:
            on = f" on {self.engine.remote}" if self.engine.remote else ""
            where = (f" at http://127.0.0.1:{status.api_port}{on} "
                     f"({status.health_detail or 'health not checked'})")
        self.finish(step, f"gateway {status.summary}{where} in {time.monotonic() - began:.1f} s")
        for line in api_access_lines(gateway.profile_dir / ".env", self.engine):
            self.console.print(f"  {line}")
        self.console.print("Setup complete. Run hermes-tui for the dashboard, "
                           "hermes-tui status for a summary.")


def api_access_lines(env_path: Path, engine: EngineInfo | None = None) -> list[str]:
    """How to call the gateway's API, for plain output: the key stays in ``.env``, masked.
    On a remote ``engine``, where the API is and how to reach it from here."""
    from hermes_tui.engine.api_server import KEY_ENV, read_api_server
    from hermes_tui.engine.route import reach_hint
    from hermes_tui.paths import display_path

    api = read_api_server(env_path)
    if api is None:
        return []
    remote = engine.remote if engine is not None else None
    hint = reach_hint(engine, api.port)
    return [
        f"API: {api.base_url} (OpenAI-compatible{', on ' + remote if remote else ''})",
        *([f"     {hint}"] if hint else []),
        f"API key: {api.masked}, in {display_path(env_path)} as {KEY_ENV}",
        f'Try: curl -H "Authorization: Bearer ${KEY_ENV}" {api.base_url}/models',
    ]


def run(args: argparse.Namespace) -> int:
    console = Console.detect()
    settings = settings_from(args)
    wait = float(getattr(args, "wait", 0.0) or 0.0)
    lock = lock_data_dir(settings.paths.root, wait=wait, err=console.error,
                         hint="" if wait else "Or pass --wait SECONDS to wait for it.")
    if isinstance(lock, int):
        return lock
    try:
        return _run(args, settings, console)
    finally:
        lock.release()


def _run(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from hermes_tui.state import StateError

    try:
        store, loaded = load_state(settings, console)
        setup = Setup(args, settings, store, loaded.state, console, os.environ)
        return asyncio.run(setup.run())
    except KeyboardInterrupt:
        from hermes_tui.state import STEP_TITLES, step_number

        step = loaded.state.current_step
        console.error(f"\nInterrupted during step {step_number(step)} ({STEP_TITLES[step]}); "
                      "the steps finished so far are saved. Run setup again to go on.")
        return EXIT_INTERRUPTED
    except StateError as exc:
        console.error(f"hermes-tui: {exc}")
        return EXIT_STATE_ERROR
