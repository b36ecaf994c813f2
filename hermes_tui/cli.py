"""The ``hermes-tui`` command: argument parsing and the start of the wizard.

Kept light on purpose: Textual, pydantic and friends are imported only after the
arguments are parsed, so ``--help`` and ``--version`` answer at once.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence

from hermes_tui import __version__

EXIT_STATE_ERROR = 3


#: Subcommands: name → (module, one-line help). Each module has ``add_arguments(parser)``
#: and ``run(args) -> int`` and is imported only when its subcommand runs.
COMMANDS: dict[str, tuple[str, str]] = {
    "doctor": ("hermes_tui.commands.doctor",
               "check engine, image, profile, config, router and gateway; exit 0 when all pass"),
    "status": ("hermes_tui.commands.status",
               "profiles, gateway state, models and channels (--json for scripts)"),
    "setup": ("hermes_tui.commands.setup",
              "run the seven steps without the full screen (--non-interactive)"),
    # Wiring for issue 5's `hermes-tui migrate`: the module belongs to the migration package.
    "migrate": ("hermes_tui.migration.cli",
                "migrate an OpenClaw setup into a profile (plan with --dry-run, then apply)"),
}

DESCRIPTIONS = {
    "doctor": "One line per check, with the fix for each failure. Exit 0 only when every "
              "check passes, 1 otherwise (3: the progress file cannot be used).",
    "status": "Every profile under the data dir, which one is current, its gateway's state, "
              "channels and synced models. Works without a container engine.",
    "setup": "Run all seven wizard steps with progress lines, recording each in the same "
             "progress file the wizard resumes from.",
    "migrate": "Show (--dry-run) or apply the OpenClaw -> Hermes migration plan. Exit codes: "
               "0 done, 1 apply failed for some files, 2 usage or profile missing, "
               "3 CLAW_CONFIG_NOT_FOUND, 4 unresolved conflicts (nothing written), "
               "5 another hermes-tui is changing the data dir (nothing written), "

               "6 an earlier apply was interrupted (undo or finish it first).",
}


def _add_common(
    parser: argparse.ArgumentParser, *, suppress: bool, skip: frozenset[str] = frozenset()
) -> None:
    """The options every command shares.

    On a subcommand they default to ``SUPPRESS``: argparse copies a subparser's defaults
    over the top-level values, so ``hermes-tui --data-dir X doctor`` would lose X otherwise.
    """
    extra = {"default": argparse.SUPPRESS} if suppress else {}
    options = [
        ("--data-dir", "DIR", ("where profiles and progress live (default: "
                               "$HERMES_TUI_DATA_DIR, else the platform's user data dir for "
                               "'hermes')")),
        ("--docker-host", "URL", ("container engine to use, e.g. "
                                  "unix:///run/user/1000/podman/podman.sock or tcp://host:2376 or ssh://user@host")),
        ("--image", "REF", "Hermes image to pull instead of the pinned one"),
        ("--router-url", "URL", "OpenAI-compatible router base URL, e.g. http://127.0.0.1:11434/v1"),
        ("--claw-dir", "DIR", "OpenClaw folder to migrate (default ~/.openclaw)"),
    ]
    for flag, metavar, text in options:
        if flag not in skip:
            checked = {"type": _image_ref} if flag == "--image" else {}
            parser.add_argument(flag, metavar=metavar, help=text, **extra, **checked)


def _image_ref(text: str) -> str:
    """--image: refused at once, saying what is wrong, when no engine would accept it."""
    from hermes_tui.engine.pull import ImageRefError, check_image_ref

    try:
        return check_image_ref(text)
    except ImageRefError as error:
        raise argparse.ArgumentTypeError(f"{error.message} {error.fix}.") from None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line; given ``argv``, only the commands named in it get their
    options (each command's options import its module: the wizard's start skips them)."""
    named = set(COMMANDS) if argv is None else set(argv) & set(COMMANDS)
    parser = argparse.ArgumentParser(
        prog="hermes-tui",
        description="Set up a Hermes agent in a container, step by step, from the terminal.",
        epilog="Progress is saved after every change; run again to resume where you left off. "
               "With no command the wizard starts; 'hermes-tui COMMAND --help' describes each "
               "command and its exit codes. One wizard, setup or migrate at a time per data "
               "dir: another exits with 5, naming the process that holds it.",
    )
    _add_common(parser, suppress=False)
    parser.add_argument("--reset", action="store_true",
                        help="start over; the old progress file is kept as a backup")
    parser.add_argument("--version", action="version", version=f"hermes-tui {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND",
                                     title="commands (without one, the wizard starts)")
    for name, (_module, summary) in COMMANDS.items():
        sub = commands.add_parser(name, help=summary, description=textwrap.fill(DESCRIPTIONS[name]),
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        if name in named:
            _add_arguments(name, sub)
        sub.set_defaults(command_parser=sub)
    return parser


def _add_arguments(name: str, sub: argparse.ArgumentParser) -> None:
    """Each command's own options, then the shared ones it does not define itself.

    The option definitions are light; the command modules keep their heavy imports inside
    ``run``. (``migrate`` defines its own ``--claw-dir``.)
    """
    if name == "doctor":
        from hermes_tui.commands.doctor import add_arguments
    elif name == "status":
        from hermes_tui.commands.status import add_arguments
    elif name == "setup":
        from hermes_tui.commands.setup import EXIT_CODES_HELP, add_arguments

        sub.epilog = EXIT_CODES_HELP
    else:
        from hermes_tui.migration.cli import add_arguments
    add_arguments(sub)
    defined = {flag for action in sub._actions for flag in action.option_strings}
    _add_common(sub, suppress=True, skip=frozenset(defined))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    if args.command is not None:
        return _run_command(parser, args)

    import gc
    from pathlib import Path

    # Start-up allocates hundreds of thousands of long-lived objects (modules, classes,
    # styles) and the collector would walk them again and again: it is paused until the
    # first frame is drawn and the state loaded, then those objects are frozen (the app
    # keeps them for its whole run) and collection resumes.
    gc.disable()

    from hermes_tui.paths import Paths
    from hermes_tui.progress import Outline, StateError, read_outline
    from hermes_tui.settings import DEFAULT_IMAGE, Settings

    settings = Settings(
        paths=Paths.resolve(args.data_dir),
        image=args.image or DEFAULT_IMAGE,
        docker_host=args.docker_host,
        router_url=args.router_url,
        claw_dir=Path(args.claw_dir).expanduser() if args.claw_dir else None,
    )
    # One writer per data dir: a second wizard (or a running setup/migrate) is refused here,
    # naming the process that holds the data dir, before anything is read or reset.
    from hermes_tui.commands import lock_data_dir

    lock = lock_data_dir(settings.paths.root,
                         argv=None if argv is None else ["hermes-tui", *argv])
    if isinstance(lock, int):
        return lock
    try:
        # The first screen is drawn from a quick read of the progress file; the app loads
        # and validates it (pydantic) right after that frame.
        try:
            outline = Outline() if args.reset else read_outline(settings.paths.state_file)
        except StateError as exc:
            print(f"hermes-tui: {exc}", file=sys.stderr)
            return EXIT_STATE_ERROR

        from hermes_tui.app import HermesApp, Opening

        app = HermesApp(settings, opening=Opening(outline, reset=args.reset,
                                                  router_url=args.router_url,
                                                  collector_paused=True))
        app.run()
        if app.state_error is not None:
            print(f"hermes-tui: {app.state_error}", file=sys.stderr)
            return EXIT_STATE_ERROR
        return app.return_code or 0
    finally:
        lock.release()


def _run_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.reset:
        parser.error("--reset only applies to the wizard (no command)")
    from importlib import import_module

    module = import_module(COMMANDS[args.command][0])
    if args.command == "setup":
        module.check_arguments(args.command_parser, args)
    return int(module.run(args))


if __name__ == "__main__":
    sys.exit(main())
