"""The fault proxy in front of moto's EventBridge: faults as EventBridge answers them, botocore
retries them, lost answers are applied, everything else passes through untouched."""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError
from botocore.retries import standard

from cdk_opensearch_packages.local.events.proxy import EventBridgeFaultProxy
from cdk_opensearch_packages.local.faults import Fault, FaultConfig

TARGET = "arn:aws:lambda:us-east-1:123456789012:function:handler"
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


def _client(service: str, endpoint: str, config: Config = NO_RETRIES) -> Any:
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=config,
    )


@pytest.fixture
def proxy(s3_endpoint: str) -> Iterator[EventBridgeFaultProxy]:
    """The proxy in front of the session's moto server (moto serves every service on it)."""
    with EventBridgeFaultProxy(s3_endpoint, seed=3) as running:
        yield running


@pytest.fixture
def moto_events(s3_endpoint: str) -> Iterator[Any]:
    """moto's EventBridge, directly; the rules a test made are deleted after it."""
    client = _client("events", s3_endpoint)
    yield client
    for rule in client.list_rules()["Rules"]:
        targets = client.list_targets_by_rule(Rule=rule["Name"])["Targets"]
        if targets:
            client.remove_targets(Rule=rule["Name"], Ids=[t["Id"] for t in targets])
        client.delete_rule(Name=rule["Name"])


@pytest.fixture
def events(proxy: EventBridgeFaultProxy) -> Any:
    """An EventBridge client through the proxy that does not retry."""
    return _client("events", proxy.endpoint_url)


@pytest.fixture
def retrying(proxy: EventBridgeFaultProxy, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The handler's EventBridge client configuration (standard mode, 10 retries), without
    botocore's backoff sleeps."""
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.0)
    return _client(
        "events", proxy.endpoint_url, Config(retries={"mode": "standard", "max_attempts": 10})
    )


def outcomes(proxy: EventBridgeFaultProxy) -> list[tuple[str, int | None, str | None]]:
    return [(c.operation, c.status, c.error_code) for c in proxy.calls()]


def test_calls_pass_through_to_moto_and_are_recorded(
    proxy: EventBridgeFaultProxy, events: Any, moto_events: Any, s3_endpoint: str
) -> None:
    arn = events.put_rule(Name="r1", ScheduleExpression="rate(1 minute)")["RuleArn"]
    events.put_targets(Rule="r1", Targets=[{"Id": "1", "Arn": TARGET, "Input": "{}"}])
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_rule(Name="missing")

    assert moto_events.describe_rule(Name="r1")["Arn"] == arn
    assert [t["Id"] for t in moto_events.list_targets_by_rule(Rule="r1")["Targets"]] == ["1"]
    assert outcomes(proxy) == [
        ("PutRule", 200, None),
        ("PutTargets", 200, None),
        ("DescribeRule", 400, "ResourceNotFoundException"),
    ]
    put_rule = proxy.calls("PutRule")[0]
    assert put_rule.params == {"Name": "r1", "ScheduleExpression": "rate(1 minute)"}
    assert put_rule.faults == () and put_rule.applied and put_rule.request_id
    # Anything that is not an EventBridge call passes through, unrecorded.
    assert "Buckets" in _client("s3", proxy.endpoint_url).list_buckets()
    assert len(proxy.calls()) == 3


def test_throttling_is_eventbridges_400_that_botocore_retries(
    proxy: EventBridgeFaultProxy, events: Any, retrying: Any, moto_events: Any
) -> None:
    proxy.faults.set(throttle=1.0, count=1)
    with pytest.raises(ClientError) as throttled:
        events.put_rule(Name="r1", ScheduleExpression="rate(1 minute)")
    error = throttled.value.response
    assert error["Error"]["Code"] == "ThrottlingException"
    assert error["Error"]["Message"] == "Rate exceeded"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert moto_events.list_rules()["Rules"] == []  # refused before it reached moto

    proxy.faults.set(throttle=1.0, count=2)
    response = retrying.put_rule(Name="r1", ScheduleExpression="rate(1 minute)")
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert outcomes(proxy)[1:] == [
        ("PutRule", 400, "ThrottlingException"),
        ("PutRule", 400, "ThrottlingException"),
        ("PutRule", 200, None),
    ]
    assert [c.faults for c in proxy.calls()] == [("throttle",)] * 3 + [()]


def test_server_errors_are_internal_exceptions_500_and_retried(
    proxy: EventBridgeFaultProxy, events: Any, retrying: Any
) -> None:
    proxy.faults.set(server_error=1.0, count=1)
    with pytest.raises(events.exceptions.InternalException) as failed:
        events.list_rules()
    assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500

    proxy.faults.set(server_error=1.0, count=3)
    assert retrying.list_rules()["ResponseMetadata"]["RetryAttempts"] == 3
    assert {c.status for c in proxy.calls() if c.faults} == {500}


def test_a_dropped_connection_is_retried_and_was_not_applied(
    proxy: EventBridgeFaultProxy, events: Any, retrying: Any, moto_events: Any
) -> None:
    proxy.faults.set(drop=1.0, count=1, operations=["PutRule"])
    with pytest.raises(ConnectionClosedError):
        events.put_rule(Name="r1", ScheduleExpression="rate(1 minute)")
    assert moto_events.list_rules()["Rules"] == []

    proxy.faults.set(drop=1.0, count=1, operations=["PutRule"])
    response = retrying.put_rule(Name="r1", ScheduleExpression="rate(1 minute)")
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert outcomes(proxy) == [("PutRule", None, None)] * 2 + [("PutRule", 200, None)]
    assert [c.applied for c in proxy.calls()] == [False, False, True]


@pytest.mark.parametrize(("kind", "status"), [("drop_after", None), ("error_after", 500)])
def test_a_lost_answer_was_applied_and_the_retry_meets_the_new_state(
    proxy: EventBridgeFaultProxy, retrying: Any, moto_events: Any, kind: str, status: int | None
) -> None:
    retrying.put_rule(Name="r1", ScheduleExpression="rate(1 minute)")
    retrying.put_targets(Rule="r1", Targets=[{"Id": "1", "Arn": TARGET}])
    proxy.faults.set_from_mapping(
        {kind: {"probability": 1.0, "operations": ["RemoveTargets", "DeleteRule"], "count": 1}}
    )

    removed = retrying.remove_targets(Rule="r1", Ids=["1"])
    retrying.delete_rule(Name="r1")

    # Both calls were carried out by their first try; the retry of each found it done.
    assert removed["ResponseMetadata"]["RetryAttempts"] == 1
    assert removed["FailedEntryCount"] == 0
    assert moto_events.list_rules()["Rules"] == []
    lost, retried, deleted = proxy.calls()[2:]
    assert (lost.operation, lost.status, lost.faults) == ("RemoveTargets", status, (kind,))
    assert (lost.lost_status, lost.lost_error_code, lost.applied) == (200, None, True)
    assert (retried.status, deleted.status, deleted.faults) == (200, 200, ())


def test_latency_and_faults_limited_to_operations(
    proxy: EventBridgeFaultProxy, events: Any
) -> None:
    proxy.faults.set(
        latency=Fault(1.0, operations=frozenset({"ListRules"})),
        throttle=Fault(1.0, operations=frozenset({"PutTargets"})),
        latency_seconds=0.2,
    )
    started = time.perf_counter()
    events.list_rules()
    assert time.perf_counter() - started >= 0.2
    events.put_rule(Name="r1", ScheduleExpression="rate(1 minute)")
    with pytest.raises(ClientError, match="ThrottlingException"):
        events.put_targets(Rule="r1", Targets=[{"Id": "1", "Arn": TARGET}])
    assert [c.faults for c in proxy.calls()] == [("latency",), (), ("throttle",)]
    with pytest.raises(ValueError, match="unknown operation"):
        proxy.faults.set(throttle=0.5, operations=["PutRules"])
    proxy.faults.clear()
    assert proxy.faults.config.server_error_statuses == (500,)


def test_the_seed_decides_which_calls_meet_faults(s3_endpoint: str, moto_events: Any) -> None:
    def run(seed: int) -> list[tuple[str, ...]]:
        config = FaultConfig(throttle=Fault(0.4), server_error=Fault(0.2))
        with EventBridgeFaultProxy(s3_endpoint, faults=config, seed=seed) as proxy:
            client = _client("events", proxy.endpoint_url)
            for _ in range(30):
                with contextlib.suppress(ClientError):
                    client.list_rules()
            return [call.faults for call in proxy.calls()]

    first = run(5)
    assert first == run(5)
    assert first != run(6)
    assert {("throttle",), ("server_error",), ()} == set(first)


def test_the_local_control_api(proxy: EventBridgeFaultProxy, events: Any) -> None:
    def local(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            f"{proxy.endpoint_url}/_local/{path}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())

    config = local("POST", "faults", {"throttle": {"probability": 1, "count": 1}, "seed": 2})
    assert config["throttle"] == {"probability": 1.0, "operations": None, "count": 1}
    with pytest.raises(ClientError, match="ThrottlingException"):
        events.list_rules()
    events.list_rules()
    calls = local("GET", "calls?operation=ListRules")["calls"]
    assert [(c["status"], c["faults"]) for c in calls] == [(400, ["throttle"]), (200, [])]
    assert local("DELETE", "faults")["throttle"]["probability"] == 0.0
    with pytest.raises(urllib.error.HTTPError) as bad:
        local("POST", "faults", {"throttles": 1})
    assert bad.value.code == 400
