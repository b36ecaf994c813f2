"""Step 1 — Runtime check, headless: which engine answers, recorded in the progress.

Input: the diagnosis (``engine.detect.diagnose``: the wizard caches it for the run, setup
makes one). Outcome: the engine found, or the diagnosis's problem (headline and fix).
State change: ``engine_url``/``engine_summary`` and the step's status (done, or failed
"no engine reachable"). Opening the next step is left to the front end:
``RuntimeScreen`` waits for Enter, ``setup`` goes on at once.
"""

from __future__ import annotations

from hermes_tui.engine.detect import Diagnosis, diagnose
from hermes_tui.state import StepId, StepStatus
from hermes_tui.steps.flow import Flow

STEP = StepId.RUNTIME
NO_ENGINE = "no engine reachable"


def record_diagnosis(flow: Flow, diagnosis: Diagnosis) -> Diagnosis:
    """Record what ``diagnosis`` found: the engine (done) or that none answered (failed)."""
    engine = diagnosis.engine
    if engine is None:
        flow.fail(STEP, NO_ENGINE)
        return diagnosis
    flow.state.engine_url, flow.state.engine_summary = engine.url, engine.summary
    flow.record(STEP, StepStatus.DONE)
    return diagnosis


async def check_runtime(flow: Flow, docker_host: str | None) -> Diagnosis:
    """Probe every place an engine may answer (``docker_host`` first) and record it."""
    return record_diagnosis(flow, await diagnose(docker_host, saved=flow.state.engine_url))
