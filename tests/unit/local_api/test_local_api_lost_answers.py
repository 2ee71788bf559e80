"""Lost answers: the service applies a call, then its answer is lost (``drop_after``,
``error_after``); botocore retries the same call, which meets the state the first one made."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ConnectionClosedError
from botocore.retries import standard
from local_api_helpers import PHASE, create_available, describe, error_code, unique_name

from cdk_opensearch_packages.local.opensearch.api import (
    Fault,
    FaultConfig,
    FaultInjector,
    LocalOpenSearchService,
    ManualClock,
)

Put = Callable[..., dict[str, str]]
Outcome = tuple[str, int | None, str | None, tuple[str, ...], int | None, str | None]


@pytest.fixture
def retrying(service: LocalOpenSearchService, monkeypatch: pytest.MonkeyPatch) -> Any:
    """botocore's standard retry mode, as the handler uses it, without the backoff sleeps."""
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.0)
    return service.client(Config(retries={"mode": "standard", "max_attempts": 5}))


def outcomes(service: LocalOpenSearchService, since: int = 0) -> list[Outcome]:
    """(operation, status, error code, faults, lost status, lost error code) of each call."""
    return [
        (c.operation, c.status, c.error_code, c.faults, c.lost_status, c.lost_error_code)
        for c in service.calls()[since:]
    ]


@pytest.mark.parametrize("kind", ["drop_after", "error_after"])
def test_a_create_whose_answer_is_lost_is_retried_into_already_exists(
    service: LocalOpenSearchService, retrying: Any, put: Put, kind: str
) -> None:
    service.faults.set(**{kind: 1.0}, operations=["CreatePackage"], count=1)
    name = unique_name("lost")

    with pytest.raises(retrying.exceptions.ResourceAlreadyExistsException) as excinfo:
        retrying.create_package(
            PackageName=name, PackageType="TXT-DICTIONARY", PackageSource=put(b"a, b\n")
        )

    # botocore retried once, and the retry met the package the first attempt had created.
    assert excinfo.value.response["ResponseMetadata"]["RetryAttempts"] == 1
    assert error_code(excinfo)[:2] == ("ResourceAlreadyExistsException", 409)
    first = (None, None) if kind == "drop_after" else (500, "InternalException")
    assert outcomes(service) == [
        ("CreatePackage", *first, (kind,), 200, None),
        ("CreatePackage", 409, "ResourceAlreadyExistsException", (), None, None),
    ]
    created, retried = service.calls()
    assert created.applied and not retried.applied
    assert created.params == retried.params
    [package] = service.packages()
    assert package["PackageName"] == name
    assert package["PackageStatus"] == "COPYING"


def test_without_retries_the_caller_sees_the_lost_answer_but_the_state_changed(
    service: LocalOpenSearchService, client: Any, put: Put
) -> None:
    service.faults.set(drop_after=1.0, operations=["CreatePackage"], count=1)
    with pytest.raises(ConnectionClosedError):
        client.create_package(
            PackageName=unique_name(), PackageType="TXT-DICTIONARY", PackageSource=put(b"a\n")
        )
    service.faults.set(error_after=1.0, operations=["CreatePackage"], count=1)
    with pytest.raises(client.exceptions.InternalException) as excinfo:
        client.create_package(
            PackageName=unique_name(), PackageType="TXT-DICTIONARY", PackageSource=put(b"b\n")
        )
    assert error_code(excinfo)[:2] == ("InternalException", 500)
    assert "after the request was processed" in error_code(excinfo)[2]
    assert len(service.packages()) == 2


def test_an_update_whose_answer_is_lost_made_one_version_and_the_retry_conflicts(
    service: LocalOpenSearchService, retrying: Any, clock: ManualClock, put: Put
) -> None:
    package_id = create_available(retrying, clock, put(b"a, b\n"))
    service.faults.set(error_after=1.0, operations=["UpdatePackage"], count=1)
    since = len(service.calls())

    with pytest.raises(retrying.exceptions.ConflictException):
        retrying.update_package(
            PackageID=package_id, PackageSource=put(b"a, b, c\n"), CommitMessage="request 1"
        )

    assert outcomes(service, since) == [
        ("UpdatePackage", 500, "InternalException", ("error_after",), 200, None),
        ("UpdatePackage", 409, "ConflictException", (), None, None),
    ]
    assert describe(retrying, package_id)["PackageStatus"] == "COPYING"
    clock.advance(2 * PHASE)
    details = describe(retrying, package_id)
    assert (details["PackageStatus"], details["AvailablePackageVersion"]) == ("AVAILABLE", "v2")
    history = retrying.get_package_version_history(PackageID=package_id)
    assert [v["PackageVersion"] for v in history["PackageVersionHistoryList"]] == ["v1", "v2"]
    assert history["PackageVersionHistoryList"][1]["CommitMessage"] == "request 1"


def test_a_delete_whose_answer_is_lost_succeeds_on_the_retry(
    service: LocalOpenSearchService, retrying: Any, clock: ManualClock, put: Put
) -> None:
    package_id = create_available(retrying, clock, put(b"a, b\n"))
    service.faults.set(drop_after=1.0, operations=["DeletePackage"], count=1)
    since = len(service.calls())

    response = retrying.delete_package(PackageID=package_id)

    # DeletePackage of a package already DELETING answers its details again.
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert response["PackageDetails"]["PackageStatus"] == "DELETING"
    assert outcomes(service, since) == [
        ("DeletePackage", None, None, ("drop_after",), 200, None),
        ("DeletePackage", 200, None, (), None, None),
    ]
    clock.advance(PHASE)
    assert service.packages() == []


def test_associate_and_dissociate_whose_answers_are_lost_are_retried_into_conflicts(
    service: LocalOpenSearchService, retrying: Any, clock: ManualClock, put: Put
) -> None:
    service.register_domain("lost-answers")
    package_id = create_available(retrying, clock, put(b"a, b\n"))
    service.faults.set(
        drop_after={"probability": 1.0, "operations": ["AssociatePackage"], "count": 1},
        error_after={"probability": 1.0, "operations": ["DissociatePackage"], "count": 1},
    )
    since = len(service.calls())

    with pytest.raises(retrying.exceptions.ConflictException) as associating:
        retrying.associate_package(PackageID=package_id, DomainName="lost-answers")
    assert "in progress" in error_code(associating)[2]
    clock.advance(PHASE)
    [association] = service.associations()
    assert association["DomainPackageStatus"] == "ACTIVE"

    with pytest.raises(retrying.exceptions.ConflictException):
        retrying.dissociate_package(PackageID=package_id, DomainName="lost-answers")
    assert outcomes(service, since) == [
        ("AssociatePackage", None, None, ("drop_after",), 200, None),
        ("AssociatePackage", 409, "ConflictException", (), None, None),
        ("DissociatePackage", 500, "InternalException", ("error_after",), 200, None),
        ("DissociatePackage", 409, "ConflictException", (), None, None),
    ]
    clock.advance(PHASE)
    assert service.associations() == []
    transitions = [
        (t.from_status, t.to_status) for t in service.transitions() if t.kind == "association"
    ]
    assert transitions == [
        (None, "ASSOCIATING"),
        ("ASSOCIATING", "ACTIVE"),
        ("ACTIVE", "DISSOCIATING"),
        ("DISSOCIATING", "DISSOCIATED"),
    ]


def test_an_error_answer_can_be_lost_too(service: LocalOpenSearchService, client: Any) -> None:
    service.faults.set(drop_after=1.0, count=1)
    with pytest.raises(ConnectionClosedError):
        client.list_packages_for_domain(DomainName="nowhere")
    [call] = service.calls()
    assert (call.status, call.lost_status, call.lost_error_code) == (
        None,
        409,
        "ResourceNotFoundException",
    )
    assert not call.applied
    assert call.to_dict()["lost_error_code"] == "ResourceNotFoundException"
    assert call.to_dict()["applied"] is False


def test_refusing_faults_are_drawn_first_and_only_one_action_per_request() -> None:
    injector = FaultInjector(
        FaultConfig(
            throttle=Fault(1.0, count=1),
            drop_after=Fault(1.0, count=2),
            error_after=Fault(1.0),
        )
    )
    actions = [injector.decide("CreatePackage").action for _ in range(4)]
    assert actions == ["throttle", "drop_after", "drop_after", "error_after"]
    assert injector.used() == {"throttle": 1, "drop_after": 2, "error_after": 1}
    decision = injector.decide("CreatePackage")
    assert (decision.status, decision.loses_answer, decision.refuses) == (500, True, False)


def test_the_new_kinds_leave_the_draws_of_the_others_unchanged() -> None:
    def draws(config: FaultConfig) -> list[str | None]:
        injector = FaultInjector(config, seed=3)
        return [injector.decide("DescribePackages").action for _ in range(200)]

    base = FaultConfig(drop=Fault(0.1), throttle=Fault(0.2), server_error=Fault(0.1))
    assert draws(base) == draws(base.updated(drop_after=0.0, error_after=0.0))
    with_lost = draws(base.updated(drop_after=0.2, error_after=0.2))
    assert {"drop_after", "error_after"} <= set(with_lost)


def _request(url: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_lost_answer_faults_over_http(
    service: LocalOpenSearchService, retrying: Any, put: Put
) -> None:
    url = f"{service.endpoint_url}/_local/faults"
    status, config = _request(
        url,
        {
            "drop_after": {"probability": 1.0, "operations": ["CreatePackage"], "count": 1},
            "error_after": 0.5,
            "operations": ["DeletePackage"],
            "count": 3,
        },
    )
    assert status == 200
    assert config["drop_after"] == {
        "probability": 1.0,
        "operations": ["CreatePackage"],
        "count": 1,
    }
    assert config["error_after"] == {
        "probability": 0.5,
        "operations": ["DeletePackage"],
        "count": 3,
    }
    assert service.faults.config.error_after == Fault(0.5, frozenset({"DeletePackage"}), 3)
    with pytest.raises(retrying.exceptions.ResourceAlreadyExistsException):
        retrying.create_package(
            PackageName=unique_name(), PackageType="TXT-DICTIONARY", PackageSource=put(b"a\n")
        )
    status, calls = _request(f"{service.endpoint_url}/_local/calls?operation=CreatePackage")
    assert status == 200
    assert [(c["faults"], c["status"], c["lost_status"], c["applied"]) for c in calls["calls"]] == [
        (["drop_after"], None, 200, True),
        ([], 409, None, False),
    ]
    status, problem = _request(url, {"error_after": {"probability": 1.0, "operation": ["X"]}})
    assert status == 400 and "operation" in problem["message"]
    status, problem = _request(url, {"drop_after": {"probability": 1.0, "operations": ["X"]}})
    assert status == 400 and "unknown operation" in problem["message"]
    status, state = _request(f"{service.endpoint_url}/_local/state")
    assert state["faults"]["drop_after"]["probability"] == 1.0
