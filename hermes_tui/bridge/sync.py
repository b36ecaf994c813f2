"""Write the router's models into a Hermes profile's ``config.yaml``, and read them back.

What Hermes reads (hermes-agent ``hermes_cli/runtime_provider.py`` and ``config.py``):

- ``model.provider: custom:<name>`` selects the ``custom_providers`` entry named ``<name>``;
  ``model.default`` is the model id sent to it. (A bare ``provider: custom`` would skip the
  entry and ignore its ``key_env``, so the wizard writes the ``custom:<name>`` form.)
- the entry ``{name, base_url, key_env, api_mode, models}``: ``key_env`` names the variable
  in the profile's ``.env`` that holds the API key, so the secret never enters
  ``config.yaml``; ``models`` is a mapping ``{<id>: {...}}`` whose per-model settings (e.g.
  ``context_length``) the wizard keeps for every id that is still served.

The wizard owns exactly one ``custom_providers`` entry, matched by name the way Hermes
matches it (case-insensitive, spaces as ``-``). Everything else in the file - comments, key
order, quoting, unrelated keys, the user's own providers - is kept: the file is edited with
ruamel.yaml's round-trip mode, and before anything is written the new text is parsed again
and every unrelated setting is compared with the original. A file that is not valid YAML,
not a mapping, or shaped in a way Hermes itself would reject is never overwritten: a
``ConfigError`` names the file (and line) instead. Writes are atomic, mode 0600.

ruamel.yaml is imported inside the functions that use it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hermes_tui.envfile import read_env, update_env
from hermes_tui.gcpause import paused_gc
from hermes_tui.limits import MAX_CONFIG_BYTES, read_bounded
from hermes_tui.paths import display_path
from hermes_tui.plainyaml import plain_mapping
from hermes_tui.yamledit import (
    BOM,
    CONFIG_MODE,
    ConfigError,
    Document,
    Source,
    block_map,
    decode,
    edit_config,
    kind_of,
    load_mapping,
    open_document,
    os_config_error,
    parse,
    read_source,
)

if TYPE_CHECKING:
    from ruamel.yaml.comments import CommentedMap

__all__ = ["CONFIG_MODE", "ConfigError"]  # re-exported from hermes_tui.yamledit

#: The ``custom_providers`` entry the wizard owns.
PROVIDER_NAME = "hermes-tui-router"
#: How ``model.provider`` refers to that entry (Hermes's ``custom:<name>`` menu key).
PROVIDER_REF = f"custom:{PROVIDER_NAME}"
API_MODE = "chat_completions"

#: Keys of ``model`` the wizard sets; every other key of ``model`` is the user's.
MODEL_KEYS = ("default", "provider", "base_url")
#: Keys of the owned entry that would override what the wizard writes if left stale: an
#: inline ``api_key`` wins over ``key_env``; an entry ``model``/``default_model`` wins over
#: ``model.default``. The wizard removes them; other keys of the entry are kept.
_OVERRIDING_ENTRY_KEYS = ("api_key", "model", "default_model", "apiKey", "keyEnv", "defaultModel")


def key_env_name(identity: str) -> str:
    """The ``.env`` variable for a custom endpoint's key, named the way Hermes names it.

    Mirrors hermes-agent's ``custom_endpoint_key_env``: ``HERMES_CUSTOM_<SLUG>_API_KEY``.
    """
    slug = re.sub(r"[^A-Z0-9]+", "_", identity.upper()).strip("_")
    return f"HERMES_CUSTOM_{slug}_API_KEY" if slug else "HERMES_CUSTOM_API_KEY"


#: ``HERMES_CUSTOM_HERMES_TUI_ROUTER_API_KEY``: where the router's API key lives in ``.env``.
ROUTER_KEY_ENV = key_env_name(PROVIDER_NAME)


def provider_key(name: str) -> str:
    """A provider name as Hermes compares it: trimmed, lowercase, spaces as ``-``."""
    return name.strip().lower().replace(" ", "-")


def _is_ours(entry: Any) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("name"), str)
        and provider_key(entry["name"]) == PROVIDER_NAME
    )


# --- reading -------------------------------------------------------------------------------------


def _load(path: Path) -> tuple[Source, Any]:
    source = read_source(path)
    return source, plain_mapping(path, source)  # only read: plain values will do


@dataclass(frozen=True)
class Synced:
    """What ``config.yaml`` says now about the wizard's models."""

    #: ``model.default`` (or ``model`` itself when it is a plain string).
    default: str | None = None
    #: The owned entry's ``base_url``: the URL Hermes calls, as the container sees it.
    base_url: str | None = None
    #: The owned entry's model ids, in file order.
    models: tuple[str, ...] = ()
    #: ``model.provider``.
    provider: str | None = None
    #: The owned entry's ``key_env``.
    key_env: str | None = None

    @property
    def active(self) -> bool:
        """True when ``model.provider`` selects the wizard's entry."""
        return self.provider is not None and provider_key(self.provider) == PROVIDER_REF


def _model_ids(models: Any) -> tuple[str, ...]:
    if isinstance(models, dict):
        return tuple(str(key) for key in models if str(key).strip())
    if isinstance(models, list):
        return tuple(item for item in models if isinstance(item, str) and item.strip())
    return ()


def _str_or_none(value: Any) -> str | None:
    return str(value) if isinstance(value, str) and value.strip() else None


def read_synced(config_path: Path | str) -> Synced:
    """What the file really says now (an absent file says nothing). Raises ``ConfigError``."""
    path = Path(config_path)
    _, doc = _load(path)
    return _synced_of(doc)


def _synced_of(doc: Any) -> Synced:
    """What the parsed file ``doc`` (None: absent or empty) says about the wizard's models."""
    if not doc:
        return Synced()
    model = doc.get("model")
    default = provider = None
    if isinstance(model, dict):
        default = _str_or_none(model.get("default"))
        provider = _str_or_none(model.get("provider"))
    elif isinstance(model, str):
        default = _str_or_none(model)
    entries = doc.get("custom_providers")
    entry = next((e for e in entries if _is_ours(e)), None) if isinstance(entries, list) else None
    if entry is None:
        return Synced(default=default, provider=provider)
    return Synced(
        default=default,
        base_url=_str_or_none(entry.get("base_url")),
        models=_model_ids(entry.get("models")),
        provider=provider,
        key_env=_str_or_none(entry.get("key_env")),
    )


# --- badges --------------------------------------------------------------------------------------


class Badge(StrEnum):
    PENDING = "Pending"
    SYNCED = "Synced"
    GONE = "Not served"


def badges(served: Sequence[str], synced: Synced) -> dict[str, Badge]:
    """One badge per model: served ones first (router order), then those no longer served.

    Served and in the file → Synced; served, not in the file → Pending; in the file but no
    longer served → Not served (listed, so the user sees it, never silently dropped).
    """
    in_file = set(synced.models)
    result = {
        model: Badge.SYNCED if model in in_file else Badge.PENDING
        for model in dict.fromkeys(served)
    }
    for model in synced.models:
        result.setdefault(model, Badge.GONE)
    return result


# --- writing -------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A deep copy without ruamel's comment bookkeeping, for comparing settings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return copy.copy(value)


def _unrelated(doc: Any) -> dict[str, Any]:
    """Every setting the wizard must not change, as plain data."""
    if not isinstance(doc, dict):
        return {}
    top = {str(k): v for k, v in doc.items()}
    entries = top.get("custom_providers")
    if isinstance(entries, list):  # not copied: the wizard's entry (all its models) goes
        top["custom_providers"] = [e for e in entries if not _is_ours(e)]
    plain = {k: _plain(v) for k, v in top.items()}
    model = plain.get("model")
    # A string/empty model is replaced by the wizard's mapping; only other keys are the user's.
    rest = {k: v for k, v in model.items() if k not in MODEL_KEYS} if isinstance(model, dict) else {}
    if rest:
        plain["model"] = rest
    else:
        plain.pop("model", None)
    entries = plain.get("custom_providers")
    if isinstance(entries, list):
        plain["custom_providers"] = [e for e in entries if not _is_ours(e)]
        if not plain["custom_providers"]:
            plain.pop("custom_providers")
    elif entries is None:
        plain.pop("custom_providers", None)
    return plain


def _check_shape(path: Path, doc: CommentedMap) -> None:
    model = doc.get("model")
    if model is not None and not isinstance(model, (dict, str)):
        raise ConfigError(
            f"{display_path(path)}: `model` is a {kind_of(model)}; Hermes expects a mapping "
            "(or a model name). Fix it or move the file aside: the wizard will not overwrite it.",
            path,
            _line_of(doc, "model"),
        )
    entries = doc.get("custom_providers")
    if entries is not None and not isinstance(entries, list):
        raise ConfigError(
            f"{display_path(path)}: `custom_providers` is a {kind_of(entries)}; Hermes expects a "
            "list (items prefixed with '- '). Fix it or move the file aside: the wizard will "
            "not overwrite it.",
            path,
            _line_of(doc, "custom_providers"),
        )


def _line_of(doc: CommentedMap, key: str) -> int | None:
    try:
        return doc.lc.key(key)[0] + 1
    except (AttributeError, KeyError, TypeError):
        return None


def _move_trailing_blank_lines(doc: CommentedMap, key: str, block: CommentedMap) -> None:
    """Keep the blank lines (and comments) that followed a scalar ``key`` after its new block.

    ruamel.yaml stores them with the key; once the value is a block they would be emitted
    between ``key:`` and the block's first line. An end-of-line comment stays on ``key:``.
    """
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    slots = doc.ca.items.get(key)
    token = slots[2] if slots and len(slots) > 2 else None
    if token is None:
        return
    first, _, after = token.value.partition("\n")
    if first.strip().startswith("#"):
        token.value = first + "\n"
        trailing = "\n" + after if after else ""
    else:
        slots[2] = None
        trailing = token.value
    if trailing:
        block.ca.items[MODEL_KEYS[-1]] = [
            None, None, CommentToken(trailing, CommentMark(0), None), None,
        ]


def _apply(
    doc: CommentedMap, *, base_url: str, models: Sequence[str], default: str,
    key_env: str | None,
) -> None:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    model = doc.get("model")
    if not isinstance(model, dict):
        # `model: ""`, `model:` or `model: <name>`: Hermes itself turns a plain name into
        # {default: <name>} before setting a sub-key; the name is then the old default,
        # which the new default replaces.
        model = block_map()
        doc["model"] = model
        _move_trailing_blank_lines(doc, "model", model)
    elif not model:
        model.fa.set_block_style()  # the template's `model: {}` grows into a block
    model["default"] = default
    model["provider"] = PROVIDER_REF
    model["base_url"] = base_url

    entries = doc.get("custom_providers")
    if entries is None:
        entries = CommentedSeq()
        doc["custom_providers"] = entries
    ours = [i for i, e in enumerate(entries) if _is_ours(e)]
    for index in reversed(ours[1:]):
        del entries[index]  # Hermes would only ever use the first one
    if ours:
        entry = entries[ours[0]]
    else:
        entry = CommentedMap()
        entries.append(entry)
    if not entry:
        entry.fa.set_block_style()
    if entry.get("name") is None:
        entry["name"] = PROVIDER_NAME
    entry["base_url"] = base_url
    for key in _OVERRIDING_ENTRY_KEYS:
        entry.pop(key, None)
    if key_env:
        entry["key_env"] = key_env
    else:
        entry.pop("key_env", None)
    entry["api_mode"] = API_MODE
    entry.pop("transport", None)  # the newer spelling of api_mode; one source of truth

    old = entry.get("models")
    ids = list(dict.fromkeys(models))
    if isinstance(old, dict) and list(old) == ids:
        return  # same ids in the same order: leave the user's mapping as it is
    fresh = CommentedMap()
    with paused_gc():  # 50,000 new mappings: see hermes_tui.gcpause
        for model_id in ids:
            kept = old.get(model_id) if isinstance(old, dict) else None
            fresh[model_id] = kept if isinstance(kept, dict) else CommentedMap()
    fresh.fa.set_block_style()
    entry["models"] = fresh


def _check_args(models: Sequence[str], default: str) -> None:
    if not models:
        raise ValueError("no models to sync: the screen shows 'No models loaded' instead")
    if default not in models:
        raise ValueError(f"the default model {default!r} is not among the models to sync")


def render_models(
    text: str | None, *, base_url: str, models: Sequence[str], default: str,
    api_key_ref: str | None, path: Path | str = "config.yaml",
) -> str:
    """The new text for a ``config.yaml`` whose current text is ``text`` (None: no file).

    The pure half of ``write_models`` (same checks, same ``ConfigError``s, nothing written),
    e.g. to preview the change.
    """
    path = Path(path)
    _check_args(models, default)
    source = Source(text, crlf=text is not None and "\r\n" in text)
    document = open_document(path, source)
    return _edit(document, base_url=base_url, models=models, default=default,
                 key_env=api_key_ref)[0]


def _edit(
    document: Document, *, base_url: str, models: Sequence[str], default: str,
    key_env: str | None,
) -> tuple[str, Any]:
    """Apply the wizard's settings to ``document``, checking nothing else would change.
    Returns the new text and what it parses to."""
    path, doc = document.path, document.data
    _check_shape(path, doc)
    before = _unrelated(doc)
    _apply(doc, base_url=base_url, models=models, default=default, key_env=key_env)

    # Trust, but verify: the new text must say the same about everything not ours.
    text = document.render()
    after = parse(path, text.replace("\r\n", "\n"))
    if _unrelated(after) != before:
        raise ConfigError(
            f"Updating {display_path(path)} would have changed settings the wizard does not "
            "manage, so it was left as it was. Add the models by hand, or report this file's "
            "shape as a bug.",
            path,
        )
    return text, after


def _encoded(document: Document, text: str) -> bytes:
    """``text`` as ``Document.to_bytes`` encodes it (the file's BOM kept)."""
    return (BOM if document.source.bom else b"") + text.encode("utf-8")


def write_models(
    config_path: Path | str, *, base_url: str, models: Sequence[str], default: str,
    api_key_ref: str | None,
) -> None:
    """Point the profile at the router: ``model.*`` and the owned ``custom_providers`` entry.

    ``base_url`` is the URL Hermes calls from inside its container - pass
    ``container_base_url(router_url, uses_host_network(engine))``, not the host's URL.
    ``models`` are the ids to list (order kept, duplicates dropped); ``default`` must be one
    of them. ``api_key_ref`` is the name of the ``.env`` variable holding the router's key
    (``ROUTER_KEY_ENV``, see ``save_router_key``) or None for a router without a key.

    Sets ``model.default``, ``model.provider: custom:hermes-tui-router``, ``model.base_url``
    and the entry ``{name, base_url, key_env, api_mode: chat_completions, models}``; nothing
    else changes. The file is edited through ``hermes_tui.yamledit`` (its own indentation,
    BOM and line endings kept), read and written under the folder's lock so a concurrent
    writer's change is kept. An identical result is not rewritten (the file stays
    byte-identical), but its mode is still made 0600. A symlinked file stays a link.
    Raises ``ConfigError`` (file left untouched) for a file that is not valid YAML or not
    shaped as Hermes expects, and for OS errors (naming the file, with the fix).
    """
    _check_args(models, default)

    def edit(document: Document) -> bytes:
        text, _ = _edit(document, base_url=base_url, models=models, default=default,
                        key_env=api_key_ref)
        return _encoded(document, text)

    # One read-modify-write under the folder's lock: another writer's change is re-read.
    edit_config(config_path, edit)


def sync_models(
    config_path: Path | str, *, base_url: str, models: Sequence[str],
    choose_default: Callable[[str | None], str], api_key_ref: Callable[[], str | None],
) -> tuple[str, Synced]:
    """``write_models`` as the LLM bridge step needs it, parsing the file as few times as
    it can (a router may serve 50,000 models): returns the default written and what the
    file says once written, read back from the disk.

    The default is ``choose_default(the file's current default)``, chosen under the lock.
    ``api_key_ref()`` runs once the file was read and found to be YAML (the router's key
    is stored in ``.env`` only then, as when the file was read first); it returns the
    ``.env`` variable's name or None. The read-back compares the file's bytes with what
    was written and parses them only when they differ (another writer came in between).
    Raises what ``write_models`` raises.
    """
    if not models:
        raise ValueError("no models to sync: the screen shows 'No models loaded' instead")
    with paused_gc():  # hundreds of thousands of objects, none of them garbage yet
        return _sync_models(Path(config_path), base_url, models, choose_default, api_key_ref)


def _sync_models(
    config_path: Path, base_url: str, models: Sequence[str],
    choose_default: Callable[[str | None], str], api_key_ref: Callable[[], str | None],
) -> tuple[str, Synced]:
    done: dict[str, Any] = {}

    def edit(document: Document) -> bytes:
        default = choose_default(_synced_of(document.data).default)
        _check_args(models, default)
        text, after = _edit(document, base_url=base_url, models=models, default=default,
                            key_env=api_key_ref())
        done.update(default=default, after=after, out=_encoded(document, text))
        return done["out"]

    edit_config(config_path, edit)
    return done["default"], _read_back(config_path, done["out"], done["after"])


def _read_back(path: Path, written: bytes, parsed: Any) -> Synced:
    """What ``path`` says now; ``parsed`` (what ``written`` parses to) when it holds
    ``written``, byte for byte."""
    try:
        raw = read_bounded(path, MAX_CONFIG_BYTES)
    except FileNotFoundError:
        return Synced()
    except OSError as exc:
        raise os_config_error(exc, path, "read") from exc
    if raw == written:
        return _synced_of(parsed)
    return _synced_of(load_mapping(path, decode(raw, path)))


# --- the router's API key ------------------------------------------------------------------------


def save_router_key(env_path: Path | str, api_key: str | None) -> str | None:
    """Store (or, for None/blank, remove) the router's key in the profile's ``.env``.

    Returns the value for ``write_models(api_key_ref=...)``: ``ROUTER_KEY_ENV`` when a key
    is stored, else None. The key never goes anywhere else.
    """
    key = (api_key or "").strip()
    update_env(Path(env_path), {ROUTER_KEY_ENV: key or None})
    return ROUTER_KEY_ENV if key else None


def load_router_key(env_path: Path | str) -> str | None:
    """The router key stored in the profile's ``.env``, if any (to pre-fill the masked field)."""
    return read_env(Path(env_path)).get(ROUTER_KEY_ENV) or None

