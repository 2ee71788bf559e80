"""Lambda's deadline in the middle of a call: what the provider's timeout timer does.

On AWS the timer fires 0.5 s before the invocation is stopped, which happens only when one call
outlives the 20 s the waits keep in hand (a slow answer, botocore's backoff in a throttling
storm). Lambda then delivers the timed-out event again:

- on a request's first invocation the timer hands the request over to polling with the progress
  recorded so far and answers nothing (a FAILED answer would let CloudFormation roll back, i.e.
  delete the package, before the redelivery creates it again);
- on a polling invocation it answers FAILED and removes the rule (the redelivered polling event
  only resumes, it never creates);
- whoever of the request flow and the timer comes second does nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import pytest

from osp_handler.crhelper_adapter import STATE_KEY, OspResource
from osp_handler.job import Job
from osp_handler.outcome import Done, Outcome, Pending

FUNCTION_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:provider"
RULE_PREFIX = "osp-1a2b3c4d"
START = 1_750_000_000.0


@dataclass
class Timer:
    seconds: float
    action: Callable[[], None]
    cancelled: bool = False

    def start(self) -> None:
        pass

    def cancel(self) -> None:
        self.cancelled = True

    def fire(self) -> None:
        self.action()


@dataclass
class Events:
    """Records the EventBridge calls of the polling set-up and removal."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def put_rule(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("PutRule", kwargs))
        return {"RuleArn": f"arn:aws:events:eu-west-1:123456789012:rule/{kwargs['Name']}"}

    def put_targets(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("PutTargets", kwargs))
        return {"FailedEntryCount": 0}

    def remove_targets(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("RemoveTargets", kwargs))
        return {"FailedEntryCount": 0}

    def delete_rule(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("DeleteRule", kwargs))
        return {}

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


class Clock:
    def now(self) -> float:
        return START

    def sleep(self, seconds: float) -> None:
        raise AssertionError("no wait in these tests")


class Context:
    aws_request_id = "lambda-request-1"
    invoked_function_arn = FUNCTION_ARN

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


@dataclass
class Provider:
    helper: OspResource
    events: Events
    timers: list[Timer]
    bodies: list[dict[str, Any]]


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Provider:
    monkeypatch.setenv("OSP_RULE_PREFIX", RULE_PREFIX)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")  # crhelper makes clients at construction
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    events = Events()
    timers: list[Timer] = []
    bodies: list[dict[str, Any]] = []

    def make_timer(seconds: float, action: Callable[[], None]) -> Timer:
        timers.append(Timer(seconds, action))
        return timers[-1]

    def send(url: str, body: bytes) -> bool:
        bodies.append(json.loads(body))
        return True

    helper = OspResource(
        opensearch=lambda: cast(Any, object()),
        events=lambda: cast(Any, events),
        clock=Clock(),
        sender=send,
        timer_factory=make_timer,
    )
    return Provider(helper, events, timers, bodies)


def _event(**extra: Any) -> dict[str, Any]:
    return {
        "RequestType": "Create",
        "ResponseURL": "https://example.invalid/response?X-Amz-Signature=abc",
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/s/1",
        "RequestId": "request-1",
        "LogicalResourceId": "Synonyms",
        "ResourceType": "Custom::OpenSearchPackage",
        "ResourceProperties": {"ServiceToken": FUNCTION_ARN, "ServiceTimeout": "3600"},
        **extra,
    }


def _register(provider: Provider, step: Callable[[Job], Outcome]) -> None:
    helper = provider.helper

    def run(event: dict[str, Any], context: Any) -> str | None:
        return helper.run(event, context, step)

    helper.create(run)
    helper.poll_create(run)


def test_a_first_invocation_hands_over_to_polling_and_answers_nothing(provider: Provider) -> None:
    def step(job: Job) -> Outcome:
        job.state.update(op="create", phase="available", package_id="F1", physical_id="F1")
        provider.timers[-1].fire()  # the deadline comes while a call hangs
        return Done("F1", {"PackageID": "F1"})  # the call returns after all, too late

    _register(provider, step)

    provider.helper(_event(), Context())

    assert provider.bodies == []
    assert provider.events.names() == ["PutRule", "PutTargets"]
    rule = provider.events.calls[0][1]
    assert rule["Name"].startswith(RULE_PREFIX) and rule["ScheduleExpression"] == "rate(1 minute)"
    (target,) = provider.events.calls[1][1]["Targets"]
    assert target["Arn"] == FUNCTION_ARN
    resumed = json.loads(target["Input"])
    assert resumed["CrHelperPoll"] is True
    state = resumed["CrHelperData"][STATE_KEY]
    assert (state["op"], state["phase"], state["package_id"]) == ("create", "available", "F1")
    assert state["started"] == START
    assert "ResponseURL" in resumed  # the polling invocation answers CloudFormation


def test_a_polling_invocation_answers_failed_and_removes_the_rule(provider: Provider) -> None:
    state = {"v": 1, "started": START - 300, "op": "create", "phase": "available"}
    state.update(package_id="F1", physical_id="F1")
    rule = f"arn:aws:events:eu-west-1:123456789012:rule/{RULE_PREFIX}abc"

    def step(job: Job) -> Outcome:
        provider.timers[-1].fire()
        return Pending(job.state)

    _register(provider, step)

    provider.helper(
        _event(CrHelperPoll=True, CrHelperRule=rule, CrHelperData={STATE_KEY: state}), Context()
    )

    (body,) = provider.bodies
    assert body["Status"] == "FAILED"
    assert body["Reason"].startswith("the provider function ran out of time")
    assert body["PhysicalResourceId"] == "F1"  # the rollback's Delete removes the package
    assert provider.events.names() == ["RemoveTargets", "DeleteRule"]


def test_the_timer_does_nothing_once_the_request_flow_ends_the_invocation(
    provider: Provider,
) -> None:
    def step(job: Job) -> Outcome:
        job.state.update(op="create", phase="available", package_id="F1", physical_id="F1")
        return Done("F1", {"PackageID": "F1"})

    _register(provider, step)
    helper = provider.helper
    send = helper._sender

    def send_slowly(url: str, body: bytes) -> bool:
        provider.timers[-1].fire()  # the deadline comes while the response is being sent
        return send(url, body)

    helper._sender = send_slowly

    helper(_event(), Context())

    (body,) = provider.bodies
    assert body["Status"] == "SUCCESS"
    assert provider.events.names() == []


def test_without_a_job_the_first_invocation_answers_nothing(provider: Provider) -> None:
    """Lambda delivers the timed-out event again; a FAILED answer would let CloudFormation roll
    back before that redelivery makes the package (an orphan)."""
    provider.helper.create(lambda event, context: provider.timers[-1].fire())

    provider.helper(_event(), Context())

    assert provider.bodies == []
    assert provider.events.names() == []
