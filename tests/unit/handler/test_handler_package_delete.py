"""Custom::OpenSearchPackage Delete: gone in every form, conflicts, settling, failures."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from botocore.stub import Stubber

from osp_handler.outcome import Done, Pending, ResourceFailure
from osp_handler.package import PackageLifecycle
from osp_handler.waiting import poll_interval

from .handler_fakes import (
    START,
    FakeClock,
    domain_package,
    expect_describe,
    expect_describe_error,
    load_event,
    make_job,
    package,
)

if TYPE_CHECKING:
    from types_boto3_opensearch.client import OpenSearchServiceClient

PID = "F111111111"


def _expect_delete(stub: Stubber) -> None:
    stub.add_response(
        "delete_package", {"PackageDetails": package(PID, "DELETING")}, {"PackageID": PID}
    )


@pytest.mark.parametrize(
    "physical_id",
    ["osp-failed-SynonymsPackage1A2B3C4D-0123456789ab", "search-domain|F1", "f123", "pkg-XYZ"],
)
def test_a_physical_id_that_is_not_a_package_id_succeeds_at_once(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock, physical_id: str
) -> None:
    event = load_event("package_delete")
    event["PhysicalResourceId"] = physical_id

    outcome = PackageLifecycle().delete(make_job(event, opensearch, clock))

    assert outcome == Done(physical_id)


def test_deletes_and_waits_until_gone(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_delete")
    expect_describe(stub, PID, package(PID, "AVAILABLE", version="v2"))
    _expect_delete(stub)
    expect_describe(stub, PID, package(PID, "DELETING"), package(PID, "DELETING"), None)

    outcome = PackageLifecycle().delete(make_job(event, opensearch, clock))

    assert outcome == Done(PID)


@pytest.mark.parametrize(
    "gone",
    [
        ("ResourceNotFoundException", "Package not found", 409),
        ("ValidationException", "Package F111111111 not found", 400),
        "DELETED",
    ],
)
def test_every_form_of_gone_counts_while_waiting(
    opensearch: OpenSearchServiceClient,
    stub: Stubber,
    clock: FakeClock,
    gone: tuple[str, str, int] | str,
) -> None:
    event = load_event("package_delete")
    expect_describe(stub, PID, package(PID, "AVAILABLE", version="v1"))
    _expect_delete(stub)
    if isinstance(gone, str):
        expect_describe(stub, PID, package(PID, gone))
    else:
        expect_describe_error(stub, PID, *gone)

    assert PackageLifecycle().delete(make_job(event, opensearch, clock)) == Done(PID)


def test_a_package_that_is_already_gone_succeeds(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_delete")
    expect_describe(stub, PID, None)

    assert PackageLifecycle().delete(make_job(event, opensearch, clock)) == Done(PID)


@pytest.mark.parametrize(
    "error",
    [
        ("ResourceNotFoundException", "Package not found", 409),
        ("ValidationException", "Package not found: F111111111", 400),
    ],
)
def test_delete_package_saying_not_found_succeeds(
    opensearch: OpenSearchServiceClient,
    stub: Stubber,
    clock: FakeClock,
    error: tuple[str, str, int],
) -> None:
    event = load_event("package_delete")
    expect_describe(stub, PID, package(PID, "AVAILABLE", version="v1"))
    code, message, status = error
    stub.add_client_error(
        "delete_package", code, message, status, expected_params={"PackageID": PID}
    )

    assert PackageLifecycle().delete(make_job(event, opensearch, clock)) == Done(PID)


def test_a_validation_error_that_is_not_not_found_fails(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_delete")
    expect_describe(stub, PID, package(PID, "AVAILABLE", version="v1"))
    stub.add_client_error(
        "delete_package", "ValidationException", "bad id", 400, expected_params={"PackageID": PID}
    )
    _expect_domains(stub)  # no domain uses it: the state does not explain the refusal

    with pytest.raises(Exception, match="bad id"):
        PackageLifecycle().delete(make_job(event, opensearch, clock))


def _expect_delete_conflict(stub: Stubber) -> None:
    stub.add_client_error(
        "delete_package",
        "ConflictException",
        "Package is associated with domains",
        409,
        expected_params={"PackageID": PID},
    )


def _expect_domains(stub: Stubber, *domains: tuple[str, str]) -> None:
    stub.add_response(
        "list_domains_for_package",
        {
            "DomainPackageDetailsList": [
                domain_package(PID, status, domain=name) for name, status in domains
            ]
        },
        {"PackageID": PID},
    )


def test_a_package_still_associated_fails_at_once_naming_the_domains(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_delete")
    expect_describe(stub, PID, package(PID, "AVAILABLE", version="v1"))
    _expect_delete_conflict(stub)
    _expect_domains(stub, ("search-domain", "ACTIVE"), ("logs", "DISSOCIATING"))

    with pytest.raises(ResourceFailure) as failure:
        PackageLifecycle().delete(make_job(event, opensearch, clock))

    assert str(failure.value) == (
        "Package is associated with domains (DeletePackage of F111111111: the package is still "
        "associated with search-domain (ACTIVE); dissociate it first)"
    )
    assert clock.sleeps == []


def test_a_package_just_leaving_its_domains_is_deleted_once_they_let_go(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_delete")
    expect_describe(stub, PID, package(PID, "AVAILABLE", version="v1"))
    _expect_delete_conflict(stub)
    _expect_domains(stub, ("search-domain", "DISSOCIATING"))
    _expect_delete_conflict(stub)
    _expect_domains(stub)
    _expect_delete(stub)
    expect_describe(stub, PID, None)

    outcome = PackageLifecycle().delete(make_job(event, opensearch, clock))

    assert outcome == Done(PID)
    assert len(clock.sleeps) == 2


def test_a_conflict_no_domain_explains_fails_after_a_grace_period(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_delete")
    expect_describe(stub, PID, package(PID, "AVAILABLE", version="v1"))
    elapsed, attempts = 0.0, 1  # tried at 0 s, then after each pause until 60 s have passed
    while elapsed < 60:
        elapsed += poll_interval(elapsed)
        attempts += 1
    for _ in range(attempts):
        _expect_delete_conflict(stub)
        _expect_domains(stub)

    with pytest.raises(ResourceFailure, match=r"although no domain lists it for 60 s"):
        PackageLifecycle().delete(make_job(event, opensearch, clock))

    assert 58 <= sum(clock.sleeps) <= 65


def test_a_conflict_that_cannot_be_explained_fails_with_the_service_message(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_delete")
    expect_describe(stub, PID, package(PID, "AVAILABLE", version="v1"))
    _expect_delete_conflict(stub)
    stub.add_client_error("list_domains_for_package", "AccessDeniedException", "not allowed", 403)

    with pytest.raises(ResourceFailure) as failure:
        PackageLifecycle().delete(make_job(event, opensearch, clock))

    assert str(failure.value) == (
        "Package is associated with domains (DeletePackage of F111111111: the package is still "
        "associated; dissociate it first)"
    )


def test_a_package_still_validating_is_deleted_once_it_settles(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_delete")
    expect_describe(
        stub,
        PID,
        package(PID, "COPYING"),
        package(PID, "VALIDATING"),  # settle: first probe
        package(PID, "VALIDATION_FAILED", error="bad file"),
        package(PID, "VALIDATION_FAILED", error="bad file"),  # delete phase
    )
    _expect_delete(stub)
    expect_describe(stub, PID, None)

    assert PackageLifecycle().delete(make_job(event, opensearch, clock)) == Done(PID)


def test_a_package_that_vanishes_while_settling_succeeds(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_delete")
    expect_describe(stub, PID, package(PID, "COPYING"), None)

    assert PackageLifecycle().delete(make_job(event, opensearch, clock)) == Done(PID)


def test_a_package_already_deleting_is_awaited_without_a_second_delete(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_delete")
    expect_describe(stub, PID, package(PID, "DELETING"), package(PID, "DELETING"), None)

    assert PackageLifecycle().delete(make_job(event, opensearch, clock)) == Done(PID)


def test_delete_failed_fails_with_the_service_message(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_delete")
    expect_describe(stub, PID, package(PID, "AVAILABLE", version="v1"))
    _expect_delete(stub)
    expect_describe(stub, PID, package(PID, "DELETE_FAILED", error="Internal failure"))

    with pytest.raises(ResourceFailure) as failure:
        PackageLifecycle().delete(make_job(event, opensearch, clock))

    assert str(failure.value) == "Internal failure (package F111111111, status DELETE_FAILED)"


def test_a_long_delete_hands_over_and_resumes_in_its_phase(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_delete")
    expect_describe(stub, PID, package(PID, "AVAILABLE", version="v1"))
    _expect_delete(stub)
    expect_describe(stub, PID, *[package(PID, "DELETING")] * 3)  # 0, 0.5, 1.0 s

    first = PackageLifecycle().delete(make_job(event, opensearch, clock, remaining=21.0))

    assert first == Pending(
        {"v": 1, "started": START, "op": "delete", "phase": "gone", "package_id": PID}
    )
    expect_describe(stub, PID, None)  # no second DeletePackage
    later = make_job(event, opensearch, clock, state=first.state)
    assert PackageLifecycle().resume(later) == Done(PID)
