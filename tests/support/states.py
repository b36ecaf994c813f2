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
