"""Seeded fault injection: botocore retries throttling, 5xx and dropped connections."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ConnectionClosedError
from botocore.retries import standard

from cdk_opensearch_packages.local.opensearch.api import (
    Fault,
    FaultConfig,
    FaultInjector,
    LocalOpenSearchService,
    ManualClock,
)

Put = Callable[..., dict[str, str]]


@pytest.fixture
def retrying(service: LocalOpenSearchService, monkeypatch: pytest.MonkeyPatch) -> Any:
    """botocore's standard retry mode, as the handler uses it, without the backoff sleeps."""
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.0)
    return service.client(Config(retries={"mode": "standard", "max_attempts": 5}))


def outcomes(service: LocalOpenSearchService) -> list[tuple[str, int | None, str | None]]:
    return [(c.operation, c.status, c.error_code) for c in service.calls()]


def test_throttling_is_a_429_that_botocore_retries(
    service: LocalOpenSearchService, retrying: Any
) -> None:
    service.faults.set(throttle=1.0, count=1)
    response = retrying.describe_packages()
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert outcomes(service) == [
        ("DescribePackages", 429, "ThrottlingException"),
        ("DescribePackages", 200, None),
    ]
    assert service.calls()[0].faults == ("throttle",)


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retried(
    service: LocalOpenSearchService, retrying: Any, status: int
) -> None:
    service.faults.set(server_error=1.0, count=2, server_error_statuses=[status])
    response = retrying.describe_packages()
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert outcomes(service) == [
        ("DescribePackages", status, "InternalException"),
        ("DescribePackages", status, "InternalException"),
        ("DescribePackages", 200, None),
    ]


def test_a_dropped_connection_is_retried(service: LocalOpenSearchService, retrying: Any) -> None:
    service.faults.set(drop=1.0, count=1)
    response = retrying.describe_packages()
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert outcomes(service) == [("DescribePackages", None, None), ("DescribePackages", 200, None)]
    assert service.calls()[0].faults == ("drop",)


def test_without_retries_the_faults_reach_the_caller(
    service: LocalOpenSearchService, client: Any
) -> None:
    service.faults.set(throttle=1.0, count=1)
    with pytest.raises(client.exceptions.ThrottlingException) as throttled:
        client.describe_packages()
    assert throttled.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    service.faults.set(server_error=1.0, count=1, server_error_statuses=[503])
    with pytest.raises(client.exceptions.InternalException) as failed:
        client.describe_packages()
    assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    service.faults.set(drop=1.0, count=1)
    with pytest.raises(ConnectionClosedError):
        client.describe_packages()
    client.describe_packages()


def test_faults_can_be_limited_to_operations(
    service: LocalOpenSearchService, client: Any, put: Put
) -> None:
    service.faults.set(throttle=1.0, operations=["CreatePackage"])
    client.describe_packages()
    with pytest.raises(client.exceptions.ThrottlingException):
        client.create_package(
            PackageName="throttled", PackageType="TXT-DICTIONARY", PackageSource=put(b"a")
        )
    assert service.packages() == []
    with pytest.raises(ValueError, match="unknown operation"):
        service.faults.set(throttle=0.5, operations=["CreatePackages"])


def test_latency_delays_the_answer(service: LocalOpenSearchService, client: Any) -> None:
    service.faults.set(latency=1.0, latency_seconds=0.2, operations=["DescribePackages"])
    started = time.perf_counter()
    client.describe_packages()
    assert time.perf_counter() - started >= 0.2
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.list_packages_for_domain(DomainName="nowhere")
    slow, fast = service.calls()
    assert slow.faults == ("latency",) and slow.duration >= 0.2
    assert fast.faults == () and fast.duration < 0.2


def test_the_seed_decides_which_calls_meet_faults() -> None:
    def draws(seed: int) -> list[str | None]:
        injector = FaultInjector(FaultConfig(throttle=Fault(0.3)), seed=seed)
        return [injector.decide("DescribePackages").action for _ in range(400)]

    first = draws(11)
    assert first == draws(11)
    assert first != draws(12)
    assert 80 <= first.count("throttle") <= 160
    assert set(first) == {None, "throttle"}


def test_faults_given_at_construction_and_reset(s3_endpoint: str) -> None:
    faults = FaultConfig(throttle=Fault(1.0, operations=frozenset({"DescribePackages"}), count=1))
    with LocalOpenSearchService(s3_endpoint, faults=faults, clock=ManualClock()) as service:
        client = service.client(Config(retries={"mode": "standard", "total_max_attempts": 1}))
        with pytest.raises(client.exceptions.ThrottlingException):
            client.describe_packages()
        client.describe_packages()
        service.reset()
        assert service.calls() == []
        with pytest.raises(client.exceptions.ThrottlingException):
            client.describe_packages()
        service.faults.clear()
        client.describe_packages()


def _post(url: str, body: dict[str, Any], method: str = "POST") -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method=method, headers={"Content-Type": "json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_faults_over_http(service: LocalOpenSearchService, retrying: Any) -> None:
    url = f"{service.endpoint_url}/_local/faults"
    status, config = _post(
        url,
        {
            "throttle": {"probability": 1.0, "operations": ["DescribePackages"], "count": 2},
            "latency_seconds": 0.01,
            "seed": 4,
        },
    )
    assert status == 200
    assert config["throttle"] == {
        "probability": 1.0,
        "operations": ["DescribePackages"],
        "count": 2,
    }
    assert retrying.describe_packages()["ResponseMetadata"]["RetryAttempts"] == 2
    status, problem = _post(url, {"throttle": 2.0})
    assert status == 400 and "probability" in problem["message"]
    status, problem = _post(url, {"thrtotle": 0.5})
    assert status == 400 and "thrtotle" in problem["message"]
    status, cleared = _post(url, {}, method="DELETE")
    assert status == 200 and cleared["throttle"]["probability"] == 0.0
    with urllib.request.urlopen(url, timeout=5) as response:
        assert json.loads(response.read())["latency_seconds"] == 0.5
