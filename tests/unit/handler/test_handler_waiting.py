"""The wait loop: intervals, budgets, hand-over, deadline, transient errors."""

from __future__ import annotations

from typing import Any, cast

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from osp_handler.job import TooLate
from osp_handler.opensearch_api import failure_reason, is_transient
from osp_handler.outcome import ResourceFailure
from osp_handler.request_time import request_sent_at
from osp_handler.waiting import Budget, HandOver, NotYet, Waiter, WaitTimeout, poll_interval

from .handler_fakes import START, FakeClock, load_event, make_job


def _client_error(code: str, status: int, message: str = "m") -> ClientError:
    response = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(cast(Any, response), "DescribePackages")


@pytest.mark.parametrize(
    ("elapsed", "interval"), [(0, 0.5), (5, 0.5), (10, 0.8), (30, 2.4), (62.5, 5.0), (3000, 5.0)]
)
def test_poll_interval(elapsed: float, interval: float) -> None:
    assert poll_interval(elapsed) == pytest.approx(interval)


def test_first_invocation_budget_keeps_20_seconds_and_the_deadline_margin() -> None:
    budget = Budget.plan(
        now=START, started=START, service_timeout=3600, remaining_seconds=900, polling=False
    )

    assert budget.stop == START + 880
    assert budget.deadline == START + 3570


def test_polling_invocation_waits_at_most_50_seconds() -> None:
    budget = Budget.plan(
        now=START, started=START - 300, service_timeout=1200, remaining_seconds=900, polling=True
    )

    assert budget.stop == START + 50
    assert budget.deadline == START - 300 + 1170


def _waiter(clock: FakeClock, *, deadline: float = 3570, stop: float = 880) -> Waiter:
    budget = Budget(
        started=START, deadline=START + deadline, stop=START + stop, service_timeout=3600
    )
    return Waiter(clock, budget)


def test_until_returns_the_first_answer(clock: FakeClock) -> None:
    answers: list[str | NotYet] = [NotYet("status A"), NotYet("status B"), "done"]

    assert _waiter(clock).until(lambda: answers.pop(0), "x") == "done"
    assert clock.sleeps == [0.5, 0.5]


def test_until_hands_over_at_the_stop(clock: FakeClock) -> None:
    with pytest.raises(HandOver):
        _waiter(clock, stop=3).until(lambda: NotYet("status A"), "x")

    assert clock.now() == START + 3


def test_until_times_out_at_the_deadline_before_handing_over(clock: FakeClock) -> None:
    with pytest.raises(WaitTimeout) as failure:
        _waiter(clock, deadline=2, stop=2).until(lambda: NotYet("status VALIDATING"), "thing")

    assert str(failure.value).startswith(
        "timed out after 2 s waiting for thing (status VALIDATING)"
    )
    assert isinstance(failure.value, ResourceFailure)


def test_transient_errors_are_retried_and_reported_on_timeout(clock: FakeClock) -> None:
    def probe() -> str:
        raise _client_error("ThrottlingException", 400)

    with pytest.raises(WaitTimeout, match="last error: ThrottlingException: m"):
        _waiter(clock, deadline=1).until(probe, "thing")


def test_other_errors_end_the_wait(clock: FakeClock) -> None:
    def probe() -> str:
        raise _client_error("AccessDeniedException", 403, "denied")

    with pytest.raises(ClientError, match="denied"):
        _waiter(clock).until(probe, "thing")
    assert clock.sleeps == []


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (_client_error("ThrottlingException", 400), True),
        (_client_error("TooManyRequestsException", 429), True),
        (_client_error("Whatever", 429), True),
        (_client_error("InternalException", 500), True),
        (_client_error("Unknown", 503), True),
        (EndpointConnectionError(endpoint_url="https://es"), True),
        (ReadTimeoutError(endpoint_url="https://es"), True),
        (_client_error("ValidationException", 400), False),
        (_client_error("ConflictException", 409), False),
        (ValueError("x"), False),
    ],
)
def test_is_transient(error: Exception, transient: bool) -> None:
    assert is_transient(error) is transient


def test_failure_reason_puts_the_service_message_first() -> None:
    assert failure_reason(
        _client_error("AccessDeniedException", 403, "User is not authorized")
    ) == ("User is not authorized (AccessDeniedException from DescribePackages)")
    assert failure_reason(ResourceFailure("plain")) == "plain"
    assert failure_reason(KeyError("ResourceType")) == "'ResourceType' (KeyError)"


def test_connection_errors_are_retried(clock: FakeClock) -> None:
    failures: list[Exception] = [
        EndpointConnectionError(endpoint_url="https://es.eu-west-1.amazonaws.com"),
        ReadTimeoutError(endpoint_url="https://es.eu-west-1.amazonaws.com"),
    ]

    def probe() -> str:
        if failures:
            raise failures.pop(0)
        return "answer"

    assert _waiter(clock).until(probe, "thing") == "answer"
    assert clock.sleeps == [0.5, 0.5]


@pytest.mark.parametrize(
    ("url", "sent"),
    [
        (
            "https://cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com/"
            "arn%3Aaws%3Acloudformation%7Cx?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Date=20250615T150640Z&X-Amz-SignedHeaders=host&X-Amz-Expires=7199"
            "&X-Amz-Signature=abc",
            START,
        ),
        ("https://bucket.s3.amazonaws.com/key?AWSAccessKeyId=A&Expires=1&Signature=s", None),
        ("https://example.com/key?X-Amz-Date=yesterday", None),
        ("", None),
    ],
)
def test_request_sent_at_reads_the_signing_time(url: str, sent: float | None) -> None:
    assert request_sent_at(url) == sent


def test_a_redelivered_request_keeps_the_deadline_of_the_original(
    opensearch: Any, clock: FakeClock
) -> None:
    # Lambda delivers the event again 10 minutes after CloudFormation sent it.
    event = load_event("package_create")
    clock.current = START + 600

    job = make_job(event, opensearch, clock)

    assert job.state["started"] == START
    assert job.waiter.budget.deadline == START + 3600 - 30
    assert job.waiter.elapsed() == 600


def test_a_create_past_its_deadline_is_refused_before_any_call(
    opensearch: Any, clock: FakeClock
) -> None:
    event = load_event("package_create")
    clock.current = START + 3570

    with pytest.raises(TooLate, match=r"reached the provider 3570 s after CloudFormation sent"):
        make_job(event, opensearch, clock)
