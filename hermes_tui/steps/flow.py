"""Every change to the wizard's progress, in one place.

``HermesApp`` (set_status, finish_step, goto, rerun_step, new_profile) and
``Setup`` (record, finish) both call this, so the two front ends cannot disagree on what
finishing, skipping, failing, going back or renaming the profile does to ``wizard.toml``.
Each transition saves at once through ``save`` (the app's shows a failure and goes on).
"""

from __future__ import annotations

from collections.abc import Callable

from hermes_tui.state import (
    STEP_ORDER,
    StateStore,
    StepId,
    StepStatus,
    WizardState,
)

#: Steps whose outcome belongs to one profile: choosing another profile starts them over.
PROFILE_STEPS: tuple[StepId, ...] = STEP_ORDER[STEP_ORDER.index(StepId.PROFILE):]


def next_step(step: StepId) -> StepId | None:
    index = STEP_ORDER.index(step)
    return STEP_ORDER[index + 1] if index + 1 < len(STEP_ORDER) else None


def previous_step(step: StepId) -> StepId | None:
    index = STEP_ORDER.index(step)
    return STEP_ORDER[index - 1] if index > 0 else None


class Flow:
    """The state transitions of the wizard over one ``WizardState`` and its store."""

    def __init__(self, state: WizardState, store: StateStore,
                 save: Callable[[WizardState], object] | None = None,
                 recorded: Callable[[StepId], object] | None = None) -> None:
        self.state = state
        self.store = store
        self._save = save or store.save
        #: Told after a step's status was recorded (the app redraws its sidebar).
        self._recorded = recorded

    def save(self) -> None:
        self._save(self.state)

    def record(self, step: StepId, status: StepStatus, reason: str | None = None,
               save: bool = True) -> None:
        """How ``step`` ended (or stands): status, reason and when; saved at once, unless
        ``save`` is False: then the caller saves (e.g. in a thread, for a large state)."""
        entry = self.state.steps[step]
        entry.status = status
        entry.reason = reason
        entry.updated_at = self.store.clock()
        if save:
            self.save()
        if self._recorded is not None:
            self._recorded(step)

    def goto(self, step: StepId) -> None:
        """Open ``step``: the wizard resumes there."""
        self.state.current_step = step
        self.save()

    def advance(self, step: StepId) -> StepId | None:
        """Move past ``step``; returns the step now open (None after the last)."""
        following = next_step(step)
        if following is not None:
            self.goto(following)
        return following

    def finish(self, step: StepId, status: StepStatus = StepStatus.DONE,
               reason: str | None = None) -> StepId | None:
        """Record how ``step`` ended and open the next one; returns it."""
        self.record(step, status, reason)
        return self.advance(step)

    def skip(self, step: StepId, reason: str) -> StepId | None:
        return self.finish(step, StepStatus.SKIPPED, reason)

    def fail(self, step: StepId, reason: str) -> None:
        """``step`` failed: it stays open (the wizard resumes there to try again)."""
        self.record(step, StepStatus.FAILED, reason)

    def go_back(self, step: StepId) -> StepId | None:
        """Open the step before ``step``; returns it (None from the first)."""
        earlier = previous_step(step)
        if earlier is not None:
            self.goto(earlier)
        return earlier

    def rerun(self, step: StepId) -> None:
        """Open ``step`` again from the dashboard (its statuses are kept until it ends)."""
        self.goto(step)

    def back_to_dashboard(self) -> None:
        """A re-run step ended: setup is complete again, the dashboard is what opens."""
        self.goto(StepId.DONE)

    def choose_profile(self, name: str) -> bool:
        """Use profile ``name``; returns whether it is another profile than before.

        Another profile: what steps 4-6 recorded (channels, synced models, the default
        model, the migration decision) was about the old one, so it is cleared.
        """
        changed = self.state.profile != name
        if changed:
            self.state.channels, self.state.synced_models = [], []
            self.state.default_model = self.state.migration = None
        self.state.profile = name
        self.save()
        return changed

    def new_profile(self) -> None:
        """Set up another profile: steps 3 onwards start over; engine and image are kept."""
        for step in PROFILE_STEPS:
            self.state.steps[step].status = StepStatus.PENDING
            self.state.steps[step].reason = None
        self.state.profile = None
        self.state.channels = []
        self.state.synced_models = []
        self.state.default_model = None
        self.state.migration = None
        self.goto(StepId.PROFILE)
