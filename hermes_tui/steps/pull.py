"""Step 2 — Image pull, headless: pull the pinned image on the engine step 1 found.

Inputs: the diagnosis from step 1 (its engine, or why there is none), the image reference,
and a ``PullProgress`` the front end watches (the screen's layer bars, setup's progress
line: both read the model, never the event stream). Outcome: the ``PullResult`` and one
sentence for it (``describe``), or ``PullError`` carrying a Problem. State change:
``image_ref``/``image_digest`` and the step's status (done, or failed with the error's
kind). Opening the next step is left to the front end: ``PullScreen`` and ``setup``.
"""

from __future__ import annotations

from hermes_tui.engine.detect import Diagnosis, UnsupportedEngineError, client
from hermes_tui.engine.pull import (
    PullError,
    PullErrorKind,
    PullProgress,
    PullResult,
    check_image_ref,
    pull_image,
)
from hermes_tui.state import StepId, StepStatus
from hermes_tui.steps.flow import Flow

STEP = StepId.PULL


def describe(result: PullResult) -> str:
    """What the pull did, in one sentence."""
    if result.used_local:
        return "The registry could not be reached; using the copy already on this engine."
    if result.up_to_date:
        return "Already up to date: nothing to download."
    return "Pulled."


def _no_engine(diagnosis: Diagnosis) -> PullError:
    return PullError(PullErrorKind.ENGINE_GONE,
                     f"No container engine is reachable: {diagnosis.headline}",
                     "Go back to step 1 (Runtime check) to fix it, then retry.")


def _lost_over_ssh(url: str, error: PullError) -> PullError:
    """An ssh:// engine that "stopped answering" mid-pull most often lost its SSH
    connection: say so (and that r connects again), from what the bridge saw."""
    if error.kind is not PullErrorKind.ENGINE_GONE or not url.startswith("ssh://"):
        return error
    from hermes_tui.engine.ssh import explain_lost

    lost = explain_lost(url)
    if lost is None:
        return error
    return PullError(PullErrorKind.ENGINE_GONE, f"{lost.problem.what} The pull stopped.",
                     lost.problem.fix)


async def pull_step(flow: Flow, diagnosis: Diagnosis, image: str,
                    progress: PullProgress) -> PullResult:
    """Pull ``image`` on the diagnosed engine, filling ``progress``; record the outcome.

    Raises ``PullError`` (recorded as the step failing with its kind); a malformed
    ``image`` is ``ImageRefError``, before the engine is asked (fixing the engine or the
    network would not help).
    """
    try:
        check_image_ref(image)
        engine = diagnosis.engine
        if engine is None:
            raise _no_engine(diagnosis)
        try:
            docker = client(engine)
        except UnsupportedEngineError as exc:
            raise PullError(PullErrorKind.UNSUPPORTED, str(exc),
                            "Use Docker or Podman (pass --docker-host).") from exc
        try:
            result = await pull_image(docker, image, progress)
        except PullError as error:
            raise _lost_over_ssh(engine.url, error) from error
        finally:
            await docker.close()
    except PullError as error:
        flow.fail(STEP, error.kind.value)
        raise
    flow.state.image_ref, flow.state.image_digest = image, result.digest
    flow.record(STEP, StepStatus.DONE)
    return result
