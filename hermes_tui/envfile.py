r"""Read and update a Hermes profile ``.env`` without losing anything the user wrote.

Hermes loads ``.env`` with python-dotenv (``hermes_cli/env_loader.py``: ``load_dotenv``,
override on, interpolation on), so this module parses with python-dotenv's own parser and
resolves ``${NAME}`` / ``${NAME:-default}`` references as it does, and writes values in a
form that loader reads back exactly. python-dotenv has no escape for a literal ``${`` (it
expands inside single and double quotes alike), so the writer spells it ``${:-$}{``: a
reference to the empty name, which no environment can hold, defaulting to ``$``. A value's
last backslash is spelled ``${:-\}`` the same way, for older python-dotenv parsers.

Updating a key rewrites only that key's line; comments, blank lines, unknown keys and
malformed lines stay as they were. The file is always written atomically with mode 0600:
it holds secrets; and re-read under its folder's lock first, so two processes updating it
at once both keep their keys.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path

from dotenv.parser import parse_stream
from dotenv.variables import parse_variables

from hermes_tui.fsutil import WriteError, atomic_write
from hermes_tui.limits import MAX_ENV_BYTES, read_bounded

ENV_MODE = 0o600
_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Characters that need no quoting for python-dotenv (or a shell) to read them back as-is.
_PLAIN_RE = re.compile(r"[A-Za-z0-9_./:@+,%^~-]+")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"}
#: How a literal "${" is written so that python-dotenv's interpolation yields "${".
LITERAL_DOLLAR_BRACE = "${:-$}{"
#: How a value's last backslash is written (see `format_value`).
TRAILING_BACKSLASH = "${:-\\}"
# python-dotenv counts the blank lines above a binding as part of it; they are the user's.
_LEADING_BLANKS = re.compile(r"(?:[ \t]*\r?\n)*")


class EnvFileError(ValueError):
    """A key or value that cannot be written safely."""


def format_value(value: str) -> str:
    """The text to put after ``KEY=`` so Hermes's loader returns exactly ``value``."""
    if _PLAIN_RE.fullmatch(value):
        return value
    quoted = "".join(_ESCAPES.get(ch, ch) for ch in value).replace("${", LITERAL_DOLLAR_BRACE)
    if value.endswith("\\"):
        # python-dotenv before 1.2.4 (Hermes 0.19.0 ships 1.2.2) reads `\\"` as an escaped
        # quote, so a closing quote right after an escaped backslash runs the value on into
        # the next lines. The last backslash is spelled as an interpolation default instead.
        quoted = quoted[:-2] + TRAILING_BACKSLASH
    return '"' + quoted + '"'


def parse_env(text: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Key → value, as Hermes's loader reads them: python-dotenv's parser, then its
    interpolation of ``${NAME}`` from the earlier keys of the file and ``environ``
    (default: this process's environment), the file winning. Later keys win; malformed
    lines are skipped (silently: python-dotenv would log a warning to stderr)."""
    lookup = dict(os.environ if environ is None else environ)
    values: dict[str, str] = {}
    for binding in parse_stream(io.StringIO(text)):
        if binding.key is None or binding.error:
            continue
        raw = binding.value or ""
        value = "".join(atom.resolve(lookup) or "" for atom in parse_variables(raw))
        values[binding.key] = lookup[binding.key] = value
    return values


def read_env(path: Path) -> dict[str, str]:
    """The values in ``path``; an absent file is empty."""
    try:
        # Bounded: a huge file would take seconds to parse (an OSError past the limit).
        text = read_bounded(path, MAX_ENV_BYTES, regular_only=False).decode("utf-8")
    except FileNotFoundError:
        return {}
    return parse_env(text)


def render_update(text: str, updates: Mapping[str, str | None]) -> str:
    """``text`` with each key in ``updates`` set (or removed, for None), all else untouched.

    A key's first line is replaced in place and any later duplicates are dropped, so the
    value written is the value read. Keys not yet present are appended at the end.
    """
    for key, value in updates.items():
        if not _KEY_RE.fullmatch(key):
            raise EnvFileError(f"{key!r} is not a valid environment variable name")
        if value is not None and "\x00" in value:
            raise EnvFileError(f"the value for {key} contains a NUL character")

    pending = dict(updates)
    seen: set[str] = set()
    out: list[str] = []
    for binding in parse_stream(io.StringIO(text)):
        key = binding.key
        if key is None or binding.error or key not in updates:
            out.append(binding.original.string)
            continue
        out.append(_LEADING_BLANKS.match(binding.original.string).group(0))
        if key in seen:
            continue  # a later duplicate would override the value we write
        seen.add(key)
        value = pending.pop(key)
        if value is not None:
            out.append(f"{key}={format_value(value)}\n")
    if out and not out[-1].endswith("\n"):
        out[-1] += "\n"
    for key, value in pending.items():
        if value is not None:
            out.append(f"{key}={format_value(value)}\n")
    return "".join(out)


def edit_env(path: Path, decide: Callable[[dict[str, str]], Mapping[str, str | None]], *,
             always: bool = False) -> dict[str, str]:
    """Read ``path`` (absent: empty), call ``decide`` with its values, apply the updates it
    returns; the values afterwards.

    The read, the decision and the atomic write (mode 0600) happen under the folder's lock
    (`hermes_tui.lock.locked_folder`), so two writers never lose each other's keys: each
    re-reads the file the other just wrote. Nothing is written when ``decide`` returns no
    updates (unless ``always``). OS errors are
    raised as `WriteError` (an ``OSError`` naming the file, with the fix).
    """
    from hermes_tui.lock import locked_folder

    path = Path(path)
    with locked_folder(path.parent, file=path):
        try:
            with open(path, encoding="utf-8", newline="") as handle:  # keep CRLF lines as they are
                text = handle.read()
        except FileNotFoundError:
            text = ""
        except OSError as exc:
            raise WriteError.wrap(exc, path, action="read") from exc
        current = parse_env(text)
        updates = dict(decide(dict(current)))
        rendered = render_update(text, updates)
        if updates or always:
            try:
                atomic_write(path, rendered.encode("utf-8"), mode=ENV_MODE)
            except OSError as exc:
                raise WriteError.wrap(exc, path) from exc
        return applied(current, updates)


def applied(env: Mapping[str, str], updates: Mapping[str, str | None]) -> dict[str, str]:
    """``env`` with ``updates`` made: a value sets its key, None removes it."""
    after = dict(env)
    for key, value in updates.items():
        if value is None:
            after.pop(key, None)
        else:
            after[key] = value
    return after


def update_env(path: Path, updates: Mapping[str, str | None]) -> None:
    """Apply ``updates`` to the file at ``path`` (created if absent), atomically, mode 0600,
    re-reading it under the folder's lock (see `edit_env`)."""
    edit_env(Path(path), lambda _current: updates, always=True)
