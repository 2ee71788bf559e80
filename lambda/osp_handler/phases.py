"""Running a lifecycle as phases that a later invocation can resume."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from .job import Job
from .outcome import Outcome, Pending
from .waiting import HandOver

__all__ = ["Lifecycle", "Phase", "run_phases"]

#: A phase returns the outcome, or ``None`` after recording the next phase in ``job.state``.
Phase = Callable[[Job], Outcome | None]


class Lifecycle(Protocol):
    """The lifecycle of one custom resource type."""

    def create(self, job: Job) -> Outcome:
        """Handle a Create request (first invocation)."""
        ...

    def update(self, job: Job) -> Outcome:
        """Handle an Update request (first invocation)."""
        ...

    def delete(self, job: Job) -> Outcome:
        """Handle a Delete request (first invocation)."""
        ...

    def resume(self, job: Job) -> Outcome:
        """Continue a pending request (a polling invocation; ``job.state`` holds the progress)."""
        ...


def run_phases(job: Job, phases: Mapping[str, Phase]) -> Outcome:
    """Run phases from ``job.state["phase"]`` until one returns an outcome.

    When the invocation's budget is spent (:class:`~osp_handler.waiting.HandOver`), answer
    :class:`~osp_handler.outcome.Pending` with the state, so a later invocation resumes at the
    phase that was running.

    :raises ValueError: when the state names an unknown phase.
    """
    try:
        while True:
            name = job.state.get("phase")
            phase = phases.get(str(name))
            if phase is None:
                raise ValueError(f"unknown phase {name!r} of operation {job.state.get('op')!r}")
            outcome = phase(job)
            if outcome is not None:
                return outcome
    except HandOver:
        return Pending(dict(job.state))
