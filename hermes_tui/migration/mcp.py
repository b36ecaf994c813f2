"""An OpenClaw MCP server (``mcp.servers.<name>``) as a Hermes ``mcp_servers.<name>`` entry.

Hermes 0.19.0 reads ``command``/``args``/``env``/``cwd`` (stdio) or ``url``/``headers``
(http), plus ``timeout``, ``connect_timeout``, ``tools{include,exclude}``, ``sampling`` and
``auth`` - a string, where only ``oauth`` means something (``tools/mcp_tool.py``). It
expands ``${VAR}`` in config values from the environment, which holds the profile's
``.env`` (``hermes_cli.config._expand_env_vars`` in ``load_config``, and
``tools.mcp_tool._interpolate_env_vars``).

So credentials never enter ``config.yaml``: every secret-looking ``env`` value, header and
bearer token becomes a ``${MCP_<SERVER>_<NAME>}`` reference, and its value is a separate
consent-gated ``.env`` item. A value that already is a ``${VAR}`` reference stays one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from hermes_tui.migration.redact import is_secret_name, looks_secret

_ENV_REF_RE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
#: Header names that carry credentials even when the value does not look like one.
_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})
#: Keys of an OpenClaw ``auth`` object that hold a bearer token.
_TOKEN_KEYS = ("token", "bearer", "bearerToken", "accessToken", "apiKey", "value")


@dataclass(frozen=True)
class Credential:
    """One secret taken out of an MCP server entry: ``var`` in ``.env`` holds ``value``."""

    var: str
    value: str
    where: str  # e.g. "env.GITHUB_TOKEN", "headers.Authorization", "auth.token"


@dataclass
class McpEntry:
    config: dict[str, Any]
    credentials: list[Credential] = field(default_factory=list)
    #: ``${VAR}`` references the OpenClaw entry already used (kept as they are).
    references: list[str] = field(default_factory=list)
    #: Settings left out because Hermes cannot read them (said in the item).
    dropped: list[str] = field(default_factory=list)


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def env_slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").upper() or "X"


def plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def convert_mcp(body: dict[str, Any]) -> dict[str, Any]:
    """An OpenClaw MCP server entry in Hermes's shape: keys snake_case, user maps kept as
    they are (``env``, ``headers``, ``tools``). Credentials are NOT taken out here."""
    out: dict[str, Any] = {}
    for key, value in body.items():
        skey = snake(str(key))
        if skey in ("env", "headers", "tools"):
            out[skey] = plain(value)
        elif isinstance(value, dict):
            out[skey] = {snake(str(k)): plain(v) for k, v in value.items()}
        else:
            out[skey] = plain(value)
    return out


def _is_credential(name: str, value: Any, *, header: bool = False) -> bool:
    if not isinstance(value, str) or not value.strip():
        return False
    if header and name.lower() in _CREDENTIAL_HEADERS:
        return True
    return is_secret_name(name) or looks_secret(value)


def mcp_entry(server: str, body: dict[str, Any]) -> McpEntry:
    """``body`` converted, with its credentials replaced by ``${VAR}`` references."""
    config = convert_mcp(body)
    entry = McpEntry(config)
    prefix = f"MCP_{env_slug(server)}_"

    def take(where: str, name: str, value: str) -> str:
        ref = _ENV_REF_RE.match(value.strip())
        if ref:
            entry.references.append(ref.group(1))
            return value.strip()
        var = prefix + env_slug(name)
        entry.credentials.append(Credential(var, value.strip(), where))
        return f"${{{var}}}"

    env = config.get("env")
    if isinstance(env, dict):
        for name, value in env.items():
            if _is_credential(name, value):
                env[name] = take(f"env.{name}", name, value)
    headers = config.get("headers")
    if isinstance(headers, dict):
        for name, value in headers.items():
            if _is_credential(name, value, header=True):
                headers[name] = take(f"headers.{name}", name, value)

    auth = body.get("auth")
    if isinstance(auth, dict):
        # Hermes's `auth` is a string (only "oauth" means something): a bearer token moves
        # into an Authorization header, anything else is left out and said so.
        config.pop("auth", None)
        token_key = next((k for k in _TOKEN_KEYS if isinstance(auth.get(k), str) and auth[k].strip()),
                         None)
        kind = str(auth.get("type") or auth.get("mode") or "").lower()
        if token_key is not None and kind in ("", "bearer", "token", "api_key", "apikey"):
            value = auth[token_key].strip()
            header = value if value.lower().startswith("bearer ") or _ENV_REF_RE.match(value) \
                else f"Bearer {value}"
            ref = take(f"auth.{token_key}", "authorization", header)
            if _ENV_REF_RE.match(value):
                ref = f"Bearer {value}"
            headers = config.setdefault("headers", {})
            if isinstance(headers, dict):
                headers.setdefault("Authorization", ref)
        elif kind == "oauth":
            config["auth"] = "oauth"
        else:
            entry.dropped.append("auth (a shape Hermes does not read)")
    elif auth is not None and not isinstance(auth, str):
        config.pop("auth", None)
        entry.dropped.append("auth (not a string)")
    return entry
