"""Time: the injected clock, the budget of one invocation and the wait loop.

A lifecycle waits for the service with :meth:`Waiter.until`. The loop ends in one of three ways:

- the probe returns a value: the wait is over;
- the in-process budget of this invocation is spent (the Lambda function has less than
  :data:`HANDOVER_MARGIN_SECONDS` left, or a polling invocation has waited
  :data:`POLL_WAIT_SECONDS`): :class:`HandOver` is raised and the lifecycle answers "pending", so
  crhelper's polling continues in a later invocation;
- the resource's deadline (first invocation start + ``ServiceTimeout`` - a margin) has passed:
  :class:`WaitTimeout` is raised and the resource fails with a clear reason.

Throttling, server errors and connection errors never end a wait on their own (see
:func:`osp_handler.opensearch_api.is_transient`): the probe is tried again at the next tick.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from .opensearch_api import describe_error, is_transient
from .outcome import ResourceFailure

__all__ = [
    "DEFAULT_SERVICE_TIMEOUT_SECONDS",
    "HANDOVER_MARGIN_SECONDS",
    "POLL_WAIT_SECONDS",
    "Budget",
    "Clock",
    "HandOver",
    "NotYet",
    "SystemClock",
    "WaitTimeout",
    "Waiter",
    "poll_interval",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: CloudFormation's default (and maximum) ``ServiceTimeout`` of a custom resource, in seconds.
DEFAULT_SERVICE_TIMEOUT_SECONDS = 3600
#: Time kept in reserve before the resource's ``ServiceTimeout`` (at most half of it).
DEADLINE_MARGIN_SECONDS = 30.0
#: Stop waiting in process when the Lambda function has less than this left.
HANDOVER_MARGIN_SECONDS = 20.0
#: The longest wait of a polling invocation: less than the 1-minute schedule, so two polling
#: invocations of one resource never overlap.
POLL_WAIT_SECONDS = 50.0


class Clock(Protocol):
    """Wall-clock time and sleeping (injected so tests never sleep)."""

    def now(self) -> float:
        """Return the current time in seconds since the epoch."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block for ``seconds``."""
        ...


class SystemClock:
    """The real clock: :func:`time.time` and :func:`time.sleep`."""

    def now(self) -> float:
        """Return :func:`time.time`."""
        return time.time()

    def sleep(self, seconds: float) -> None:
        """Call :func:`time.sleep`."""
        time.sleep(seconds)


def poll_interval(elapsed: float) -> float:
    """Return the pause between two probes: ``min(5, max(0.5, 0.08 * elapsed))`` seconds.

    :param elapsed: seconds since the operation started (its first invocation).
    """
    return min(5.0, max(0.5, 0.08 * elapsed))


@dataclass(frozen=True)
class Budget:
    """How long one invocation may wait.

    :param started: when the operation's first invocation started (epoch seconds).
    :param deadline: past this the resource fails (``started + ServiceTimeout - margin``).
    :param stop: past this this invocation hands over to polling.
    :param service_timeout: the resource's ``ServiceTimeout`` in seconds (for messages).
    """

    started: float
    deadline: float
    stop: float
    service_timeout: int

    @classmethod
    def plan(
        cls,
        *,
        now: float,
        started: float,
        service_timeout: int,
        remaining_seconds: float,
        polling: bool,
    ) -> Budget:
        """Compute the budget of an invocation.

        :param now: the current time.
        :param started: when the operation's first invocation started.
        :param service_timeout: the resource's ``ServiceTimeout`` in seconds.
        :param remaining_seconds: what the Lambda context says is left of this invocation.
        :param polling: whether this is a polling invocation (waits at most
            :data:`POLL_WAIT_SECONDS`).
        """
        margin = min(DEADLINE_MARGIN_SECONDS, service_timeout / 2)
        in_process = remaining_seconds - HANDOVER_MARGIN_SECONDS
        if polling:
            in_process = min(in_process, POLL_WAIT_SECONDS)
        return cls(
            started=started,
            deadline=started + service_timeout - margin,
            stop=now + in_process,
            service_timeout=service_timeout,
        )


class HandOver(Exception):
    """The in-process budget is spent: continue in a later (polling) invocation."""


class WaitTimeout(ResourceFailure):
    """The resource's deadline passed while waiting."""


@dataclass(frozen=True)
class NotYet:
    """A probe's answer "not yet".

    :param status: the state observed, for messages (e.g. ``"status VALIDATING"``).
    """

    status: str


class Waiter:
    """Waits for the service within a :class:`Budget`.

    :param clock: the clock (and sleep) to use.
    :param budget: the budget of this invocation.
    """

    def __init__(self, clock: Clock, budget: Budget) -> None:
        self.clock = clock
        self.budget = budget

    def elapsed(self) -> float:
        """Seconds since the operation's first invocation started."""
        return self.clock.now() - self.budget.started

    def until(self, probe: Callable[[], T | NotYet], what: str) -> T:
        """Call ``probe`` until it returns something other than :class:`NotYet`.

        :param probe: checks once; returns the result or :class:`NotYet`; may raise (a transient
            error means "try again", any other error ends the wait).
        :param what: what is awaited, for messages ("package F1 to become AVAILABLE").
        :raises HandOver: when this invocation's budget is spent.
        :raises WaitTimeout: when the resource's deadline has passed.
        """
        last = "not checked yet"
        reported = ""
        while True:
            try:
                result = probe()
            except Exception as error:
                if not is_transient(error):
                    raise
                logger.warning(
                    "transient error while waiting for %s: %s", what, describe_error(error)
                )
                result = NotYet(f"{last}; last error: {describe_error(error)}")
            if not isinstance(result, NotYet):
                return result
            last = result.status
            if last != reported:
                logger.info("waiting for %s (%s)", what, last)
                reported = last
            now = self.clock.now()
            if now >= self.budget.deadline:
                raise WaitTimeout(
                    f"timed out after {int(now - self.budget.started)} s waiting for {what} "
                    f"({last}); the resource's ServiceTimeout is {self.budget.service_timeout} s"
                )
            if now >= self.budget.stop:
                logger.info("handing over to polling while waiting for %s (%s)", what, last)
                raise HandOver(what)
            limit = min(self.budget.deadline, self.budget.stop)
            self.clock.sleep(min(poll_interval(now - self.budget.started), limit - now))

    def call(self, action: Callable[[], T], what: str) -> T:
        """Call ``action`` once it succeeds, retrying transient errors within the budget.

        botocore already retries throttling and server errors (standard mode, 10 attempts); this
        keeps trying after that until the budget is spent.

        :param action: the API call.
        :param what: what is being done, for messages ("CreatePackage for 'x'").
        """
        return self.until(action, what)
