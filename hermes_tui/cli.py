"""The ``hermes-tui`` command: argument parsing and the start of the wizard.

Kept light on purpose: Textual, pydantic and friends are imported only after the
arguments are parsed, so ``--help`` and ``--version`` answer at once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from hermes_tui import __version__

EXIT_STATE_ERROR = 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hermes-tui",
        description="Set up a Hermes agent in a container, step by step, from the terminal.",
        epilog="Progress is saved after every change; run again to resume where you left off.",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="where profiles and progress live (default: $HERMES_TUI_DATA_DIR, "
        "else the platform's user data dir for 'hermes')",
    )
    parser.add_argument("--docker-host", metavar="URL", help="container engine to use, e.g. "
                        "unix:///run/user/1000/podman/podman.sock or tcp://host:2376")
    parser.add_argument("--image", metavar="REF", help="Hermes image to pull instead of the pinned one")
    parser.add_argument("--router-url", metavar="URL",
                        help="OpenAI-compatible router base URL, e.g. http://127.0.0.1:11434/v1")
    parser.add_argument("--claw-dir", metavar="DIR", help="OpenClaw folder to migrate (default ~/.openclaw)")
    parser.add_argument("--reset", action="store_true",
                        help="start over; the old progress file is kept as a backup")
    parser.add_argument("--version", action="version", version=f"hermes-tui {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    from pathlib import Path

    from hermes_tui.paths import Paths
    from hermes_tui.settings import DEFAULT_IMAGE, Settings
    from hermes_tui.state import StateError, StateStore

    settings = Settings(
        paths=Paths.resolve(args.data_dir),
        image=args.image or DEFAULT_IMAGE,
        docker_host=args.docker_host,
        router_url=args.router_url,
        claw_dir=Path(args.claw_dir).expanduser() if args.claw_dir else None,
    )
    store = StateStore(settings.paths.state_file)
    try:
        loaded = store.reset() if args.reset else store.load()
        if args.router_url and args.router_url != loaded.state.router_url:
            loaded.state.router_url = args.router_url
        store.save(loaded.state)
    except StateError as exc:
        print(f"hermes-tui: {exc}", file=sys.stderr)
        return EXIT_STATE_ERROR

    from hermes_tui.app import HermesApp

    app = HermesApp(settings, store, loaded.state, notice=loaded.notice)
    app.run()
    return app.return_code or 0


if __name__ == "__main__":
    sys.exit(main())
