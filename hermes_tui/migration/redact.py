"""Keep secrets out of anything shown or saved besides the profile's ``.env``.

Two nets: keys whose names say "secret" (token, api key, password ...) and values shaped
like well-known credentials (``sk-``, ``ghp_``, ``xoxb-``, ``AIza``, ``Bearer``), plus the
exact secret values a plan found, which catch everything else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

REDACTED = "***REDACTED***"
MASK = "••••••••"

SECRET_NAME_RE = re.compile(
    r"token|api[_-]?key|secret|passw(or)?d|credential|cookie|private[_-]?key|auth|nsec",
    re.IGNORECASE,
)
SECRET_VALUE_RE = re.compile(
    r"(?<![A-Za-z0-9])(?:sk-[A-Za-z0-9_\-]{6,}|ghp_[A-Za-z0-9]{6,}|xox[a-z]-[A-Za-z0-9\-]{4,}"
    r"|AIza[0-9A-Za-z_\-]{6,}|Bearer\s+[^\s\"',}]+)"
)
_ENV_LINE_RE = re.compile(r"^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_]*)(\s*=\s*)(.*)$")


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME_RE.search(name))


def looks_secret(value: str) -> bool:
    return bool(SECRET_VALUE_RE.search(value))


def redact_text(text: str, secrets: Iterable[str] = (), *, env: bool = False,
                mask: str = MASK) -> str:
    """``text`` with every known secret value and every credential-shaped value masked.

    With ``env=True`` the value of every ``.env`` line whose key names a secret is masked
    too, so a token the user already had never shows in a diff.
    """
    for value in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(value, mask)
    text = SECRET_VALUE_RE.sub(mask, text)
    if env:
        lines = []
        for line in text.splitlines(keepends=True):
            m = _ENV_LINE_RE.match(line.rstrip("\r\n"))
            if m and is_secret_name(m.group(2)) and m.group(4).strip():
                ending = line[len(line.rstrip("\r\n")):]
                line = f"{m.group(1)}{m.group(2)}{m.group(3)}{mask}{ending}"
            lines.append(line)
        text = "".join(lines)
    return text


def redact_json(obj: Any, secrets: Iterable[str] = ()) -> Any:
    """A copy of a JSON-like value with secret-named keys and secret values replaced."""
    known = tuple(secrets)

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            out = {}
            for key, inner in value.items():
                if is_secret_name(str(key)) and inner not in (None, "", [], {}, False, True):
                    out[key] = REDACTED
                else:
                    out[key] = walk(inner)
            return out
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str):
            return redact_text(value, known, mask=REDACTED)
        return value

    return walk(obj)
