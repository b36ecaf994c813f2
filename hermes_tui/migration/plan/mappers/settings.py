"""Settings rows: command allowlist, TTS, session reset, agent defaults, browser, MESSAGING_CWD.

Each maps leaf keys of openclaw.json (or exec-approvals.json) onto config.yaml or .env, as
[MIG] (Hermes's own ``hermes claw migrate``) maps them unless a docstring says otherwise.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap

from hermes_tui.migration.detect import ConfigSyntaxError
from hermes_tui.migration.mcp import plain
from hermes_tui.migration.plan.context import Context
from hermes_tui.migration.plan.edits import to_yaml
from hermes_tui.migration.plan.items import env_item, settings_item, yaml_item
from hermes_tui.migration.plan.model import ItemKind, ItemStatus
from hermes_tui.migration.plan.source import expand_source_path
from hermes_tui.migration.plan.tree import SourceError, dig


def command_allowlist(ctx: Context) -> None:
    path = ctx.claw / "exec-approvals.json"
    if not path.exists() and not path.is_symlink():
        return
    item_id, source, dest = "command_allowlist", "exec-approvals.json", "config.yaml command_allowlist"
    try:
        data = ctx.tree.read_json(path)
    except SourceError as exc:
        return ctx.error(ItemKind.command_allowlist, item_id, source, dest, str(exc))
    except ConfigSyntaxError as exc:
        return ctx.error(ItemKind.command_allowlist, item_id, source, dest,
                         f"exec-approvals.json is malformed ({exc})")
    patterns: set[str] = set()
    agents = data.get("agents")
    for agent in (agents.values() if isinstance(agents, dict) else []):
        allow = agent.get("allowlist") if isinstance(agent, dict) else None
        for entry in allow if isinstance(allow, list) else []:
            pattern = entry.get("pattern") if isinstance(entry, dict) else entry
            if isinstance(pattern, str) and pattern.strip():
                patterns.add(pattern.strip())
    if not patterns:
        return ctx.skip(ItemKind.command_allowlist, item_id, source, dest, "no allowlist patterns")

    def existing(doc: CommentedMap | None) -> list[str]:
        current = doc.get("command_allowlist") if doc is not None else None
        return [str(p) for p in current] if isinstance(current, list) else []

    def decide(doc: CommentedMap | None) -> tuple[ItemStatus, str]:
        new = patterns - set(existing(doc))
        if not new:
            return ItemStatus.skipped, "already matches (every pattern is there)"
        return ItemStatus.migrated, f"{len(new)} pattern(s) merged (deduplicated, sorted)"

    def mutate(doc: CommentedMap) -> None:
        doc["command_allowlist"] = to_yaml(sorted(set(existing(doc)) | patterns))

    yaml_item(ctx, ItemKind.command_allowlist, item_id, source, dest, decide, mutate,
              need_config=True)


def tts_config(ctx: Context) -> None:
    """messages.tts / talk -> config.yaml tts, as [MIG] ``migrate_tts_config`` maps it.

    provider (elevenlabs/openai/edge), elevenlabs{voice_id, model_id}, openai{model, voice},
    edge{voice}. Provider settings are read from messages.tts.providers.<p>, then
    talk.providers.<p>, then the legacy flat messages.tts.<p>; talk.voiceId/modelId are
    the ElevenLabs fallback. Unlike [MIG], a ``talk`` block alone is mapped too, and
    talk.provider is a fallback for messages.tts.provider. The API keys are separate
    secret items (ELEVENLABS_API_KEY / VOICE_TOOLS_OPENAI_KEY, see ``secrets``).
    """
    tts = dig(ctx.config, "messages.tts")
    tts = tts if isinstance(tts, dict) else {}
    talk = ctx.config.get("talk")
    talk = talk if isinstance(talk, dict) else {}
    if not tts and not talk:
        return
    providers = tts.get("providers") if isinstance(tts.get("providers"), dict) else {}
    talk_providers = talk.get("providers") if isinstance(talk.get("providers"), dict) else {}

    def pick(name: str) -> dict[str, Any]:
        for candidate in (providers.get(name), talk_providers.get(name), tts.get(name)):
            if isinstance(candidate, dict):
                return candidate
        return {}

    def text(*candidates: Any) -> str | None:
        for value in candidates:
            if isinstance(value, str) and value.strip():
                return value.strip()
        return None

    values: dict[str, Any] = {}
    provider = text(tts.get("provider"), talk.get("provider"))
    if provider in ("elevenlabs", "openai", "edge"):
        values["tts.provider"] = provider
    eleven, openai, edge = pick("elevenlabs"), pick("openai"), pick("edge")
    values["tts.elevenlabs.voice_id"] = text(eleven.get("voiceId"), talk.get("voiceId"))
    values["tts.elevenlabs.model_id"] = text(eleven.get("modelId"), talk.get("modelId"))
    values["tts.openai.model"] = text(openai.get("model"), openai.get("modelId"))
    values["tts.openai.voice"] = text(openai.get("voice"))
    values["tts.edge.voice"] = text(edge.get("voice"))
    source = "openclaw.json " + " + ".join(
        name for name, block in (("messages.tts", tts), ("talk", talk)) if block)
    if not any(v is not None for v in values.values()):
        return ctx.skip(ItemKind.tts, "tts:config", source, "config.yaml tts",
                        "no TTS setting Hermes reads (provider, voice, model); kept in the archive")
    settings_item(ctx, ItemKind.tts, "tts:config", source, "config.yaml tts", values,
                  note="API keys are separate secret items")


def session_reset(ctx: Context) -> None:
    """session.reset / resetTriggers -> config.yaml session_reset, as [MIG] maps it.

    reset{mode, atHour, idleMinutes} -> {mode, at_hour, idle_minutes} (mode passed through,
    "none" when missing); otherwise resetTriggers ["daily", "idle"] -> mode both / daily /
    idle. The advanced keys (identityLinks, threadBindings, ...) stay archived only.
    """
    session = ctx.config.get("session")
    if not isinstance(session, dict):
        return
    reset = session.get("reset")
    triggers = session.get("resetTriggers") or session.get("reset_triggers")
    item_id, dest = "session_reset", "config.yaml session_reset"
    note = "other session settings stay in the archive"
    values: dict[str, Any] = {}
    if isinstance(reset, dict) and reset:
        source = "openclaw.json session.reset"
        mode = reset.get("mode")
        values["session_reset.mode"] = mode if isinstance(mode, str) and mode else "none"
        at_hour = reset.get("atHour")
        if isinstance(at_hour, int) and not isinstance(at_hour, bool):
            values["session_reset.at_hour"] = at_hour
        idle = reset.get("idleMinutes")
        if isinstance(idle, int) and not isinstance(idle, bool) and idle > 0:
            values["session_reset.idle_minutes"] = idle
    elif isinstance(triggers, list) and triggers:
        source = "openclaw.json session.resetTriggers"
        daily, idle_on = "daily" in triggers, "idle" in triggers
        mode = "both" if daily and idle_on else "daily" if daily else "idle" if idle_on else None
        if mode is None:
            return ctx.skip(ItemKind.session_reset, item_id, source, dest,
                            "no reset trigger Hermes knows (daily, idle); kept in the archive")
        values["session_reset.mode"] = mode
    else:
        return
    settings_item(ctx, ItemKind.session_reset, item_id, source, dest, values, note=note)


def agent_settings(ctx: Context) -> None:
    """agents.defaults misc, tools.exec and sandbox -> config.yaml, as [MIG]
    ``migrate_agent_config`` maps them, one item per config.yaml section:

    - agent: max_turns = min(timeoutSeconds // 10, 200) ([MIG]'s heuristic; left out
      below 1), verbose = verboseDefault, reasoning_effort from thinkingDefault
       (always/high -> high, auto/medium -> medium, off/low/none -> low; others left out)
    - compression.enabled = compaction.mode != "off"; compaction.model goes to
       auxiliary.compression.model as the formats reference §2.1 names it (some [MIG]
      versions write compression.summary_model instead)
    - human_delay{mode, min_ms, max_ms} from humanDelay{mode (or "natural" when only
      enabled: true), minMs, maxMs}; unlike [MIG], mode "off" is carried over too
    - timezone = userTimezone
    - terminal.timeout = tools.exec.timeoutSec (or .timeout); a docker sandbox gives
       terminal.backend = docker and terminal.docker_image = sandbox.docker.image (other
      sandbox backends have no Hermes equivalent and are not mapped, as in [MIG])
    """
    defaults = dig(ctx.config, "agents.defaults")
    defaults = defaults if isinstance(defaults, dict) else {}
    kind = ItemKind.agent_settings

    def number(value: Any) -> int | float | None:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
        return value if ok else None

    def text(value: Any) -> str | None:
        return value.strip() if isinstance(value, str) and value.strip() else None

    # agent
    values: dict[str, Any] = {}
    used = []
    timeout = number(defaults.get("timeoutSeconds"))
    if timeout is not None and int(timeout) // 10 >= 1:
        values["agent.max_turns"] = min(int(timeout) // 10, 200)
        used.append("timeoutSeconds")
    verbose = defaults.get("verboseDefault")
    if verbose not in (None, "", False):
        values["agent.verbose"] = plain(verbose)
        used.append("verboseDefault")
    thinking = defaults.get("thinkingDefault")
    effort = {"always": "high", "high": "high", "auto": "medium", "medium": "medium",
              "off": "low", "low": "low", "none": "low"}.get(str(thinking).strip().lower())
    if thinking is not None and effort:
        values["agent.reasoning_effort"] = effort
        used.append("thinkingDefault")
    if values:
        note = "max_turns is timeoutSeconds / 10 (at most 200)" if "timeoutSeconds" in used else ""
        settings_item(ctx, kind, "settings:agent", "openclaw.json agents.defaults." + "/".join(used),
                      "config.yaml agent", values, note=note)

    compaction = defaults.get("compaction")
    if isinstance(compaction, dict) and compaction:
        values = {"compression.enabled": compaction.get("mode") != "off",
                  "auxiliary.compression.model": text(compaction.get("model"))}
        settings_item(ctx, kind, "settings:compression", "openclaw.json agents.defaults.compaction",
                      "config.yaml compression / auxiliary.compression.model", values)

    delay = defaults.get("humanDelay")
    if isinstance(delay, dict) and delay:
        mode = text(delay.get("mode")) or ("natural" if delay.get("enabled") else None)
        values = {"human_delay.mode": mode, "human_delay.min_ms": number(delay.get("minMs")),
                  "human_delay.max_ms": number(delay.get("maxMs"))}
        settings_item(ctx, kind, "settings:human_delay", "openclaw.json agents.defaults.humanDelay",
                      "config.yaml human_delay", values)

    zone = text(defaults.get("userTimezone"))
    if zone:
        settings_item(ctx, kind, "settings:timezone", "openclaw.json agents.defaults.userTimezone",
                      "config.yaml timezone", {"timezone": zone})

    values, sources = {}, []
    exec_cfg = dig(ctx.config, "tools.exec")
    if isinstance(exec_cfg, dict):
        seconds = number(exec_cfg.get("timeoutSec")) or number(exec_cfg.get("timeout"))
        if seconds is not None:
            values["terminal.timeout"] = seconds
            sources.append("tools.exec.timeoutSec")
    sandbox = defaults.get("sandbox")
    if isinstance(sandbox, dict) and sandbox.get("backend") == "docker":
        values["terminal.backend"] = "docker"
        values["terminal.docker_image"] = text(dig(sandbox, "docker.image"))
        sources.append("agents.defaults.sandbox")
    if values:
        settings_item(ctx, kind, "settings:terminal", "openclaw.json " + " + ".join(sources),
                      "config.yaml terminal", values)


def browser(ctx: Context) -> None:
    """browser.cdpUrl -> browser.cdp_url; browser.headless -> browser.headed (negated).

    Hermes 0.19.0 reads ``browser.headed`` (tools/browser_tool.py; DEFAULT_CONFIG has no
    ``headless``), so the setting is carried over as its opposite. The other browser
    keys stay in the archive.
    """
    browser = ctx.config.get("browser")
    if not isinstance(browser, dict):
        return
    cdp = browser.get("cdpUrl") or browser.get("cdp_url")
    headless = browser.get("headless")
    values: dict[str, Any] = {
        "browser.cdp_url": cdp.strip() if isinstance(cdp, str) and cdp.strip() else None,
        "browser.headed": (not headless) if isinstance(headless, bool) else None,
    }
    if all(v is None for v in values.values()):
        return
    note = "headless is Hermes's headed, negated; other browser keys stay in the archive"
    settings_item(ctx, ItemKind.browser, "settings:browser", "openclaw.json browser",
                  "config.yaml browser", values, note=note)


def messaging_cwd(ctx: Context) -> None:
    configured = dig(ctx.config, "agents.defaults.workspace")
    if not isinstance(configured, str) or not configured.strip():
        return
    path = expand_source_path(ctx, configured)
    source = "openclaw.json agents.defaults.workspace"
    if path.resolve().is_relative_to(ctx.tree.real):
        return ctx.skip(ItemKind.channel_settings, "env:MESSAGING_CWD", source, ".env MESSAGING_CWD",
                        "the workspace lies inside the OpenClaw folder: not used as a working dir")
    env_item(ctx, ItemKind.channel_settings, "env:MESSAGING_CWD", source, "MESSAGING_CWD", str(path))
