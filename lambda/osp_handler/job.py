"""The request (a parsed CloudFormation event) and the job a lifecycle works on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .outcome import ResourceFailure
from .props import service_timeout
from .request_time import request_sent_at
from .waiting import Budget, Clock, Waiter

if TYPE_CHECKING:
    from types_boto3_opensearch.client import OpenSearchServiceClient

__all__ = ["STATE_VERSION", "Job", "Request", "TooLate", "start_job"]

#: Version of the pending state's layout (a newer handler refuses to guess an older layout).
STATE_VERSION = 1


class TooLate(ResourceFailure):
    """A Create or Update delivered after CloudFormation stopped waiting for it."""


@dataclass(frozen=True)
class Request:
    """The parts of a CloudFormation custom resource request a lifecycle needs.

    :param request_type: ``Create``, ``Update`` or ``Delete``.
    :param resource_type: e.g. ``Custom::OpenSearchPackage``.
    :param props: ``ResourceProperties`` as sent (stringified scalars).
    :param old_props: ``OldResourceProperties`` (updates only, else empty).
    :param physical_id: ``PhysicalResourceId`` (updates and deletes only).
    """

    request_type: str
    resource_type: str
    stack_id: str
    request_id: str
    logical_id: str
    props: Mapping[str, Any] = field(default_factory=dict)
    old_props: Mapping[str, Any] = field(default_factory=dict)
    physical_id: str | None = None

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Request:
        """Read a CloudFormation custom resource event."""
        return cls(
            request_type=str(event["RequestType"]),
            resource_type=str(event.get("ResourceType", "")),
            stack_id=str(event["StackId"]),
            request_id=str(event["RequestId"]),
            logical_id=str(event["LogicalResourceId"]),
            props=event.get("ResourceProperties") or {},
            old_props=event.get("OldResourceProperties") or {},
            physical_id=event.get("PhysicalResourceId") or None,
        )


@dataclass
class Job:
    """One invocation's work on one request.

    :param request: the request.
    :param opensearch: the OpenSearch Service client.
    :param waiter: waits within this invocation's budget.
    :param state: the pending state (JSON-serialisable); a lifecycle records its progress here
        (``op``, ``phase``, ids) and a later invocation resumes from it. ``started`` (the first
        invocation's start) and ``v`` are set by :func:`start_job`. A lifecycle sets
        ``physical_id`` once a Create has made something that a later Delete must clean up.
    """

    request: Request
    opensearch: OpenSearchServiceClient
    waiter: Waiter
    state: dict[str, Any]


def start_job(
    event: Mapping[str, Any],
    *,
    opensearch: OpenSearchServiceClient,
    clock: Clock,
    remaining_seconds: float,
    state: Mapping[str, Any] | None = None,
) -> Job:
    """Build the job of one invocation.

    :param event: the CloudFormation event.
    :param opensearch: the OpenSearch Service client.
    :param clock: the clock.
    :param remaining_seconds: what is left of this Lambda invocation.
    :param state: the pending state of a polling invocation (``None`` on the first invocation).
    :raises ValueError: when ``state`` has an unknown layout.
    :raises TooLate: when a Create or Update arrives after its ServiceTimeout (a redelivery by
        Lambda once CloudFormation has given up and rolled back): acting on it would leave a
        package or version behind that no stack knows about.
    """
    now = clock.now()
    if state is None:
        # The operation started when CloudFormation sent the request, not when this delivery
        # of it began (Lambda retries a crashed or timed-out invocation minutes later).
        sent = request_sent_at(str(event.get("ResponseURL", "")))
        started = now if sent is None else min(now, sent)
        current: dict[str, Any] = {"v": STATE_VERSION, "started": started}
    else:
        if state.get("v") != STATE_VERSION or "started" not in state:
            raise ValueError(f"unknown pending state layout (v={state.get('v')!r})")
        current = dict(state)
    request = Request.from_event(event)
    budget = Budget.plan(
        now=now,
        started=float(current["started"]),
        service_timeout=service_timeout(request.props),
        remaining_seconds=remaining_seconds,
        polling=state is not None,
    )
    if state is None and request.request_type in ("Create", "Update") and now >= budget.deadline:
        raise TooLate(
            f"this {request.request_type} request reached the provider "
            f"{now - budget.started:.0f} s after CloudFormation sent it, past the resource's "
            f"ServiceTimeout of {budget.service_timeout} s (Lambda delivered it again after a "
            "failed invocation): CloudFormation no longer waits for it, so nothing was changed"
        )
    return Job(request=request, opensearch=opensearch, waiter=Waiter(clock, budget), state=current)
