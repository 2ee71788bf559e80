"""Inspection endpoints, the real clock, concurrency and plain boto3 configuration."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config
from local_api_helpers import PHASE, create_available, describe, unique_name

from cdk_opensearch_packages.local.opensearch.api import (
    LocalOpenSearchService,
    ManualClock,
    Timeline,
)

Put = Callable[..., dict[str, str]]


def http(
    service: LocalOpenSearchService, path: str, body: Any = None, method: str | None = None
) -> tuple[int, dict[str, Any]]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        service.endpoint_url + path, data=data, method=method or ("POST" if data else "GET")
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_state_calls_and_transitions_over_http(
    service: LocalOpenSearchService, client: Any, clock: ManualClock, put: Put
) -> None:
    assert http(service, "/_local/health") == (200, {"status": "ok"})
    status, _ = http(service, "/_local/domains", {"DomainName": "logs"})
    assert status == 200
    package_id = create_available(client, clock, put(b"a, b"))
    client.associate_package(PackageID=package_id, DomainName="logs")

    status, state = http(service, "/_local/state")
    assert status == 200
    [package] = state["packages"]
    assert (package["PackageID"], package["PackageStatus"]) == (package_id, "AVAILABLE")
    [association] = state["associations"]
    assert association["DomainPackageStatus"] == "ASSOCIATING"
    assert state["domains"][0]["DomainName"] == "logs"
    assert state["domains"][0]["EngineVersion"] == "OpenSearch_2.19"
    assert state["timeline"]["copying"] == PHASE
    assert state["faults"]["throttle"]["probability"] == 0.0
    assert state["clock"]["t"] == 2 * PHASE

    status, calls = http(service, "/_local/calls?operation=CreatePackage")
    [create] = calls["calls"]
    assert (create["status"], create["error_code"]) == (200, None)
    assert create["params"]["PackageType"] == "TXT-DICTIONARY"
    status, calls = http(service, "/_local/calls")
    assert [c["operation"] for c in calls["calls"]] == [
        "CreatePackage",
        "DescribePackages",
        "AssociatePackage",
    ]

    status, moves = http(service, f"/_local/transitions?package_id={package_id}&kind=package")
    assert [(m["from"], m["to"], m["t"]) for m in moves["transitions"]] == [
        (None, "COPYING", 0.0),
        ("COPYING", "VALIDATING", PHASE),
        ("VALIDATING", "AVAILABLE", 2 * PHASE),
    ]
    assert moves["transitions"][-1]["wall"] == clock.time()
    status, moves = http(service, "/_local/transitions?kind=association")
    assert [m["to"] for m in moves["transitions"]] == ["ASSOCIATING"]

    assert [t.to_status for t in service.transitions()][-1] == "ASSOCIATING"
    assert service.calls()[-1].to_dict()["operation"] == "AssociatePackage"


def test_control_endpoints(
    service: LocalOpenSearchService, client: Any, clock: ManualClock, put: Put
) -> None:
    status, _ = http(service, "/_local/timeline", {"copying": 3 * PHASE})
    assert status == 200
    assert service.timeline.copying == 3 * PHASE
    package_id = client.create_package(
        PackageName=unique_name(), PackageType="TXT-DICTIONARY", PackageSource=put(b"a")
    )["PackageDetails"]["PackageID"]
    clock.advance(2 * PHASE)
    assert describe(client, package_id)["PackageStatus"] == "COPYING"
    clock.advance(2 * PHASE)
    assert describe(client, package_id)["PackageStatus"] == "AVAILABLE"

    http(service, "/_local/domains", {"DomainName": "logs", "EngineVersion": "OpenSearch_2.11"})
    client.associate_package(PackageID=package_id, DomainName="logs")
    clock.advance(PHASE)
    status, marked = http(
        service, "/_local/in-use", {"DomainName": "logs", "PackageID": package_id}
    )
    assert status == 200 and marked["marked"]["PackageID"] == package_id
    client.dissociate_package(PackageID=package_id, DomainName="logs")
    clock.advance(PHASE)
    assert service.associations()[0]["DomainPackageStatus"] == "DISSOCIATION_FAILED"

    status, domains = http(service, "/_local/domains/logs", method="DELETE")
    assert status == 200 and domains == {"domains": []}
    assert service.associations() == []

    assert http(service, "/_local/answers") == (
        200,
        {"package_not_found": "ResourceNotFoundException", "not_associated": "ValidationException"},
    )
    status, answers = http(
        service, "/_local/answers", {"not_associated": "ResourceNotFoundException"}
    )
    assert status == 200 and answers["not_associated"] == "ResourceNotFoundException"
    assert service.not_associated == "ResourceNotFoundException"
    assert http(service, "/_local/answers", {"not_associated": "ConflictException"})[0] == 400
    assert http(service, "/_local/answers", {"shape": "x"})[0] == 400

    assert http(service, "/_local/reset", {})[0] == 200
    assert service.not_associated == "ValidationException"  # the construction-time answer
    assert service.packages() == [] and service.calls() == [] and service.transitions() == []
    assert service.timeline.copying == PHASE

    assert http(service, "/_local/timeline", {"coppying": 1})[0] == 400
    assert http(service, "/_local/domains", {"DomainName": "Bad Name"})[0] == 400
    assert http(service, "/_local/in-use", {"DomainName": "logs"})[0] == 400
    assert http(service, "/_local/nothing-here")[0] == 404
    assert http(service, "/_local/reset")[0] == 405


def test_unknown_and_unserved_operations(service: LocalOpenSearchService, client: Any) -> None:
    status, body = http(service, "/2021-01-01/nothing")
    assert status == 404 and "No operation" in body["message"]
    with pytest.raises(client.exceptions.ClientError) as excinfo:
        client.describe_domain(DomainName="logs")
    error = excinfo.value.response
    assert error["Error"]["Code"] == "NotImplemented"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert [(c.operation, c.status) for c in service.calls()] == [
        ("UnknownOperation", 404),
        ("DescribeDomain", 501),
    ]


def test_the_real_clock_follows_the_timeline(s3_endpoint: str, put: Put) -> None:
    source = put(b"a, b")
    with LocalOpenSearchService(s3_endpoint, timeline=Timeline.uniform(0.05)) as service:
        client = service.client()
        package_id = client.create_package(
            PackageName="timed", PackageType="TXT-DICTIONARY", PackageSource=source
        )["PackageDetails"]["PackageID"]
        deadline = time.monotonic() + 5
        while describe(client, package_id)["PackageStatus"] != "AVAILABLE":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        moves = service.transitions()
        assert [m.to_status for m in moves] == ["COPYING", "VALIDATING", "AVAILABLE"]
        assert moves[1].t - moves[0].t == pytest.approx(0.05)
        assert moves[2].t - moves[0].t == pytest.approx(0.10)
        assert abs(moves[2].wall - time.time()) < 5


def test_concurrent_clients(service: LocalOpenSearchService, put: Put) -> None:
    source = put(b"a")
    results: list[str] = []
    errors: list[str] = []

    def create(name: str) -> None:
        client = service.client(Config(retries={"mode": "standard", "total_max_attempts": 1}))
        try:
            created = client.create_package(
                PackageName=name, PackageType="TXT-DICTIONARY", PackageSource=source
            )
            results.append(created["PackageDetails"]["PackageID"])
        except client.exceptions.ResourceAlreadyExistsException:
            errors.append(name)

    names = [unique_name("many") for _ in range(6)] + ["same"] * 4
    threads = [threading.Thread(target=create, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == len(set(results)) == 7
    assert errors == ["same"] * 3
    assert len(service.packages()) == 7


def test_a_plain_boto3_client_finds_it_through_the_environment(
    service: LocalOpenSearchService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_OPENSEARCH", service.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "anything")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "anything")
    client = boto3.client("opensearch", region_name="eu-west-1")
    assert client.describe_packages()["PackageDetailsList"] == []
    assert service.calls()[0].operation == "DescribePackages"


def test_lifecycle_errors(s3_endpoint: str) -> None:
    service = LocalOpenSearchService(s3_endpoint)
    with pytest.raises(RuntimeError, match="start"):
        _ = service.endpoint_url
    service.start()
    with pytest.raises(RuntimeError, match="already running"):
        service.start()
    service.stop()
    service.stop()
    with pytest.raises(ValueError, match=r"Timeline\.copying"):
        Timeline(copying=-1)
