"""Step 7 — Completion, headless: what is unfinished, and starting the profile's gateway.

Inputs: the settings, the progress and the engine step 1 found. Outcome: the running
gateway's ``GatewayStatus`` (state, health, Hermes version, API port), or an error carrying
a Problem (``GatewayError``; ``EngineLost`` when the engine stops answering). State change:
the step is done once the gateway started — setup is complete when an agent runs — and
failed ("gateway did not start") otherwise. ``DoneScreen`` and ``setup`` drive this; the
dashboard builds its gateway here too.
"""

from __future__ import annotations

from pathlib import Path

from hermes_tui.engine.detect import EngineInfo
from hermes_tui.engine.gateway import GatewayError, GatewayStatus
from hermes_tui.engine.launch import EngineLost, ProfileGateway
from hermes_tui.settings import Settings
from hermes_tui.state import STEP_ORDER, MigrationDecision, StepId, StepStatus, WizardState
from hermes_tui.steps.flow import Flow

STEP = StepId.DONE
NOT_STARTED = "gateway did not start"


def unfinished(state: WizardState) -> list[StepId]:
    """Steps 1-6 not yet done or skipped (the gateway waits for them)."""
    return [s for s in STEP_ORDER[:-1] if state.status(s) in (StepStatus.PENDING, StepStatus.FAILED)]


def profile_gateway(settings: Settings, state: WizardState, engine: EngineInfo,
                    profile: str | None = None) -> ProfileGateway:
    """The gateway of ``profile`` (default: the wizard's) on ``engine``: the image pulled,
    the OpenClaw folder mounted read-only when a migration was applied."""
    name = profile or state.profile
    if name is None:
        raise ValueError("no profile chosen yet")
    claw = state.claw_dir if state.migration is MigrationDecision.APPLIED else None
    return ProfileGateway(
        paths=settings.paths,
        profile=name,
        image=state.image_ref or settings.image,
        engine=engine,
        claw_dir=Path(claw) if claw else None,
        command=settings.gateway_command,
    )


async def start_gateway(flow: Flow, gateway: ProfileGateway,
                        health_timeout: float = 30.0) -> GatewayStatus:
    """Start (or keep) the gateway and wait for its health; record the outcome."""
    try:
        status = await gateway.start(health_timeout=health_timeout)
    except (GatewayError, EngineLost):
        flow.fail(STEP, NOT_STARTED)
        raise
    flow.record(STEP, StepStatus.DONE)
    return status
