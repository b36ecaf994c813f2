"""Wizard states for UI tests: open at a given step with the earlier ones settled."""

from __future__ import annotations

from hermes_tui.state import STEP_ORDER, StepId, StepStatus, WizardState

ENGINE_URL = "unix:///run/hermes-test/docker.sock"
ENGINE_SUMMARY = "Docker 20.10.24 · API 1.41 · linux/amd64"


def at(step: StepId, **fields: object) -> WizardState:
    """A state open at ``step``: earlier steps done, except 6 (skipped: no OpenClaw)."""
    state = WizardState(current_step=step, **fields)
    for earlier in STEP_ORDER[: STEP_ORDER.index(step)]:
        record = state.steps[earlier]
        if earlier is StepId.MIGRATION:
            record.status, record.reason = StepStatus.SKIPPED, "no OpenClaw setup found"
        else:
            record.status = StepStatus.DONE
    if STEP_ORDER.index(step) > STEP_ORDER.index(StepId.RUNTIME):
        state.engine_url = state.engine_url or ENGINE_URL
        state.engine_summary = state.engine_summary or ENGINE_SUMMARY
    return state


#: A made-up API key for UI tests: snapshots must never hold a real one. 43 characters,
#: like a generated key; the screens show it as ••••••••abcd until revealed.
FAKE_API_KEY = "FAKE-api-key-for-tests-only-0123456789-abcd"
FAKE_API_MASKED = "••••••••abcd"


def with_api_key(paths, profile: str, port: int = 8642, key: str = FAKE_API_KEY):
    """Create ``profile`` with its API server turned on in ``.env`` (a fixed fake key)."""
    from hermes_tui.engine.api_server import ENABLED_ENV, ENV_FILE, KEY_ENV, PORT_ENV
    from hermes_tui.envfile import update_env
    from hermes_tui.profile import create_profile

    create_profile(paths, profile)
    env_path = paths.profile_dir(profile) / ENV_FILE
    update_env(env_path, {ENABLED_ENV: "true", PORT_ENV: str(port), KEY_ENV: key})
    return env_path
