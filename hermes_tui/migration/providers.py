"""Which Hermes provider an OpenClaw model reference ends up on, and under which model id.

OpenClaw names a model ``<provider>/<model>`` (``agents.defaults.model.primary``), the
provider being a key of ``models.providers`` or one OpenClaw knows itself. Hermes 0.19.0
picks the provider from ``model.provider`` (``hermes_cli.runtime_provider.
resolve_requested_provider``); without one it resolves ``auto`` and sends whatever key the
environment holds to a hosted provider. So a migrated model always names its provider:

- a provider Hermes has built in gets Hermes's own id for it (``hermes_cli.auth.
  resolve_provider`` / ``PROVIDER_REGISTRY``: OpenAI is ``openai-api``, Google is
  ``gemini``) and the model id in the form that provider takes (``hermes_cli.
  model_normalize``: OpenRouter keeps ``vendor/model``, Anthropic wants dots as hyphens);
- any other provider with a ``baseUrl`` becomes a ``custom_providers`` entry, selected with
  ``custom:<name>`` (the name as Hermes normalises it: trimmed, lowercase, spaces as ``-``)
  and the bare model id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hermes_tui.bridge.sync import provider_key

#: OpenClaw provider id -> the id Hermes 0.19.0 resolves it to. Hermes has no ``openai``
#: (it is ``openai-api``) and no ``groq`` (that one migrates as a custom provider).
HERMES_PROVIDER_IDS = {
    "openrouter": "openrouter",
    "openai": "openai-api",
    "anthropic": "anthropic",
    "deepseek": "deepseek",
    "google": "gemini",
    "gemini": "gemini",
    "zai": "zai",
    "minimax": "minimax",
    "xai": "xai",
}
#: Built into Hermes: never written as ``custom_providers`` entries.
BUILTIN_PROVIDERS = frozenset(HERMES_PROVIDER_IDS)


def base_url_of(body: Any) -> str | None:
    value = body.get("baseUrl") or body.get("baseURL") if isinstance(body, dict) else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def is_custom(pid: str, body: Any) -> bool:
    """True when ``models.providers.<pid>`` migrates as a ``custom_providers`` entry."""
    return pid.lower() not in BUILTIN_PROVIDERS and base_url_of(body) is not None


def custom_ref(pid: str) -> str:
    """``model.provider`` for the ``custom_providers`` entry named ``pid``."""
    return f"custom:{provider_key(pid)}"


def hermes_model_id(provider: str, model: str) -> str:
    """``model`` as the Hermes provider ``provider`` expects it in ``model.default``."""
    if provider == "anthropic":
        return model.replace(".", "-")
    return model


@dataclass(frozen=True)
class ModelTarget:
    """What ``config.yaml`` ``model`` gets for one OpenClaw model reference."""

    provider: str  # model.provider
    default: str  # model.default
    source_provider: str  # the OpenClaw provider id
    custom: bool  # selected through a custom_providers entry


def model_target(ref: str, providers: dict[str, Any]) -> ModelTarget | None:
    """Where ``<provider>/<model>`` goes in Hermes; None when Hermes cannot reach it (no
    provider part, or a provider that is neither built in nor configured with a URL)."""
    pid, sep, model = ref.strip().partition("/")
    if not sep or not pid or not model:
        return None
    body = next((b for k, b in providers.items() if k.lower() == pid.lower()), None)
    if pid.lower() in BUILTIN_PROVIDERS:
        hermes = HERMES_PROVIDER_IDS[pid.lower()]
        return ModelTarget(hermes, hermes_model_id(hermes, model), pid, custom=False)
    if body is not None and is_custom(pid, body):
        name = next(k for k in providers if k.lower() == pid.lower())
        return ModelTarget(custom_ref(name), model, name, custom=True)
    return None
