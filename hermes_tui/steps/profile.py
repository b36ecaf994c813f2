"""Step 3 — Profile, headless: create (or complete and reuse) the profile and choose it.

Input: the profile name (already valid: ``profile.validate_name``). Outcome: the
``ProfileOutcome`` (where, created or reused), or ``ProfileError`` carrying a Problem.
State change: ``state.profile`` through ``Flow.choose_profile`` (another name clears what
steps 4-6 recorded); a failure is recorded as the step failing. Finishing the step (and
opening the next) is left to the front end: ``ProfileScreen`` and ``setup``.
"""

from __future__ import annotations

import asyncio

from hermes_tui.paths import Paths
from hermes_tui.profile import ProfileError, ProfileOutcome, create_profile
from hermes_tui.state import StepId
from hermes_tui.steps.flow import Flow

STEP = StepId.PROFILE
NOT_CREATED = "could not create the folder"


async def make_profile(flow: Flow, paths: Paths, name: str) -> ProfileOutcome:
    """Create or reuse profile ``name`` and make it the wizard's profile."""
    try:
        outcome = await asyncio.to_thread(create_profile, paths, name)
    except ProfileError:
        flow.fail(STEP, NOT_CREATED)
        raise
    flow.choose_profile(name)
    return outcome
