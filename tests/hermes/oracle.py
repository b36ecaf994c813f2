"""Run inside the real Hermes venv (HERMES_HOME = the profile): what Hermes makes of it.

Reads ``.env`` through Hermes's own loader, then reports as JSON on the last stdout line
(prefixed ``ORACLE:``): the config validator's issues, the resolved runtime provider, the
``model`` and ``mcp_servers`` sections after ``${VAR}`` expansion, each custom provider's
model ids, the memory store as
loaded, and ``model.default`` as Hermes would normalise it for the resolved provider.
Only Hermes's public-ish functions are called; nothing is written by this script.
"""

import json
import os

from hermes_cli.env_loader import load_hermes_dotenv

load_hermes_dotenv(hermes_home=os.environ["HERMES_HOME"])

from hermes_cli.config import load_config, validate_config_structure

out = {}
config = load_config()
out["issues"] = [[i.severity, i.message] for i in validate_config_structure(config)]
out["model"] = config.get("model")
out["mcp_servers"] = config.get("mcp_servers")
out["browser"] = {k: (config.get("browser") or {}).get(k) for k in ("cdp_url", "headed")}
try:
    from hermes_cli.config import get_compatible_custom_providers

    # Each custom provider's model ids as Hermes's picker lists them (order and type kept).
    out["custom_provider_models"] = {
        str(entry.get("name")): list(entry.get("models") or {})
        for entry in get_compatible_custom_providers(config)}
except Exception as exc:  # noqa: BLE001
    out["custom_provider_models"] = f"error: {exc}"
try:
    from hermes_cli.runtime_provider import resolve_runtime_provider

    runtime = resolve_runtime_provider()
    out["runtime"] = {k: runtime.get(k) for k in
                      ("provider", "base_url", "api_key", "api_mode", "source", "requested_provider")}
except Exception as exc:  # noqa: BLE001 - the test shows Hermes's own words
    out["runtime_error"] = f"{type(exc).__name__}: {exc}"
try:
    from hermes_cli.model_normalize import normalize_model_for_provider

    model = config.get("model") if isinstance(config.get("model"), dict) else {}
    provider = (out.get("runtime") or {}).get("provider") or ""
    out["normalized_default"] = normalize_model_for_provider(model.get("default") or "", provider)
except Exception as exc:  # noqa: BLE001
    out["normalized_default"] = f"error: {exc}"

from tools.memory_tool import load_on_disk_store

store = load_on_disk_store()
out["memory"] = {
    "memory_chars": store._char_count("memory"),
    "user_chars": store._char_count("user"),
    "memory_limit": store.memory_char_limit,
    "user_limit": store.user_char_limit,
    "memory_entries": store.memory_entries,
    "user_entries": store.user_entries,
}
print("ORACLE:" + json.dumps(out))
