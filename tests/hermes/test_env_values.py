"""Every ``.env`` value the wizard writes reads back exactly through Hermes's own loader.

``hermes_cli.env_loader.load_hermes_dotenv`` (python-dotenv, override and interpolation on,
plus Hermes's own sanitising pass that may rewrite the file) runs in the real Hermes venv
on a profile whose ``.env`` `hermes_tui.envfile.update_env` wrote; what lands in its
``os.environ`` must be the very values written, and the file must come out unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path

from hermes_tui.envfile import read_env, update_env
from tests.support.hermes import HermesVenv

#: Values that python-dotenv or a shell would mangle if written naively.
TRICKY = {
    "HERMES_TUI_T_DOLLAR_BRACE": "abc${HOME}def",
    "HERMES_TUI_T_DOLLAR": "a$HOME b$ c$$",
    "HERMES_TUI_T_DEFAULT": "${NOPE:-fallback}",
    "HERMES_TUI_T_ESCAPE_LOOKALIKE": "${:-$}",
    "HERMES_TUI_T_QUOTES": "it's \"quoted\" and 'single'",
    "HERMES_TUI_T_HASH": "before # not a comment",
    "HERMES_TUI_T_HASH_TIGHT": "a#b",
    "HERMES_TUI_T_BACKSLASH": "C:\\path\\to\\n",
    # A closing quote right after a backslash: python-dotenv 1.2.2 (Hermes's) misreads it.
    "HERMES_TUI_T_TRAILING_BACKSLASH": "ends with \\",
    "HERMES_TUI_T_TRAILING_BACKSLASHES": "two\\\\",
    "HERMES_TUI_T_SPACES": "  padded  ",
    "HERMES_TUI_T_EQUALS": "a=b=c",
    "HERMES_TUI_T_UNICODE": "ünïcödé ✓ 😀",
    "HERMES_TUI_T_NEWLINE": "two\nlines",
    "HERMES_TUI_T_EMPTY": "",
    # Credential-named keys: Hermes strips non-ASCII from these on purpose (they become
    # HTTP headers), so they carry every ASCII hazard instead.
    "TELEGRAM_BOT_TOKEN": "123456:AA${HOME}-$x'\"#\\",
    "HERMES_CUSTOM_HERMES_TUI_ROUTER_API_KEY": "sk-${OPENAI_API_KEY}-end",
    "API_SERVER_KEY": "k#${X}'\"\\ $",
}

READ_BACK = """
import json, os, sys
from pathlib import Path
from hermes_cli.env_loader import load_hermes_dotenv
names = json.loads(sys.argv[1])
load_hermes_dotenv(hermes_home=os.environ["HERMES_HOME"])
print("ORACLE:" + json.dumps({name: os.environ.get(name) for name in names}))
"""


def test_values_the_wizard_writes_reach_hermes_exactly(
    hermes_venv: HermesVenv, tmp_path: Path
) -> None:
    profile = tmp_path / "bot"
    profile.mkdir()
    (profile / ".env").write_text("# the user's own notes\nUSER_SETTING=kept\n")
    update_env(profile / ".env", TRICKY)
    written = (profile / ".env").read_bytes()

    done = hermes_venv.run_python(READ_BACK, profile, json.dumps([*TRICKY, "USER_SETTING"]))
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("ORACLE:"))
    seen = json.loads(line.removeprefix("ORACLE:"))

    assert seen == {**TRICKY, "USER_SETTING": "kept"}
    # Hermes's sanitiser found nothing to repair: the file is as the wizard wrote it.
    assert (profile / ".env").read_bytes() == written
    # And the wizard reads back what Hermes reads.
    assert {k: v for k, v in read_env(profile / ".env").items() if k in TRICKY} == TRICKY


def test_hundreds_of_random_hazardous_values_reach_hermes_exactly(
    hermes_venv: HermesVenv, tmp_path: Path
) -> None:
    """One file, many keys: a value that runs on into the next line would break its
    neighbours too, so they are all read back in one go (seeded: the same every run)."""
    import random

    rng = random.Random(20261130)
    alphabet = " #'\"=\\\n\t$a1é€😀{}:-_"
    values = {
        f"HERMES_TUI_R{i:03d}": "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        for i in range(300)
    }
    profile = tmp_path / "bot"
    profile.mkdir()
    update_env(profile / ".env", values)

    done = hermes_venv.run_python(READ_BACK, profile, json.dumps(list(values)))
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("ORACLE:"))
    seen = json.loads(line.removeprefix("ORACLE:"))
    wrong = {k: (seen[k], v) for k, v in values.items() if seen[k] != v}
    assert not wrong
