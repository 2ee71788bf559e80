"""Custom::OpenSearchPackageAssociation: associate, re-associate, dissociate, every path."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from botocore.stub import Stubber

from osp_handler.association import AssociationLifecycle
from osp_handler.outcome import Done, Pending, ResourceFailure
from osp_handler.props import PropertyError

from .handler_fakes import (
    START,
    FakeClock,
    domain_package,
    expect_describe,
    expect_list,
    load_event,
    make_job,
    package,
)

if TYPE_CHECKING:
    from types_boto3_opensearch.client import OpenSearchServiceClient

PID = "F111111111"
DOMAIN = "search-domain"


def _expect_associate(stub: Stubber, params: dict[str, Any] | None = None) -> None:
    stub.add_response(
        "associate_package",
        {"DomainPackageDetails": domain_package(PID, "ASSOCIATING")},
        params or {"PackageID": PID, "DomainName": DOMAIN},
    )


def _expect_associate_error(stub: Stubber, code: str, message: str) -> None:
    stub.add_client_error(
        "associate_package",
        code,
        message,
        409,
        expected_params={"PackageID": PID, "DomainName": DOMAIN},
    )


def _expect_dissociate_error(stub: Stubber, code: str, message: str, status: int = 409) -> None:
    stub.add_client_error(
        "dissociate_package",
        code,
        message,
        status,
        expected_params={"PackageID": PID, "DomainName": DOMAIN},
    )


def _expect_dissociate(stub: Stubber) -> None:
    stub.add_response(
        "dissociate_package",
        {"DomainPackageDetails": domain_package(PID, "DISSOCIATING")},
        {"PackageID": PID, "DomainName": DOMAIN},
    )


def _done(version: str = "v1") -> Done:
    return Done(
        f"{DOMAIN}|{PID}",
        {
            "ReferencePath": f"analyzers/{PID}",
            "PackageVersion": version,
            "DomainName": DOMAIN,
            "PackageID": PID,
        },
    )


def test_waits_for_the_package_then_associates_and_waits_until_active(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("association_create")
    expect_describe(stub, PID, package(PID, "VALIDATING"), package(PID, "AVAILABLE", version="v1"))
    _expect_associate(stub)
    other = domain_package("F999", "ACTIVE")
    expect_list(stub, [other], [domain_package(PID, "ASSOCIATING")])
    expect_list(stub, [other], [domain_package(PID, "ACTIVE", version="v1")])
    job = make_job(event, opensearch, clock)

    outcome = AssociationLifecycle().create(job)

    assert outcome == _done()
    assert job.state["physical_id"] == f"{DOMAIN}|{PID}"


def test_plugin_association_passes_prerequisites_and_converted_configuration(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("association_create_plugin")
    plugin = "F222222222"
    expect_describe(stub, plugin, package(plugin, "AVAILABLE", package_type="ZIP-PLUGIN"))
    stub.add_response(
        "associate_package",
        {"DomainPackageDetails": domain_package(plugin, "ASSOCIATING")},
        {
            "PackageID": plugin,
            "DomainName": DOMAIN,
            "PrerequisitePackageIDList": ["F333333333"],
            "AssociationConfiguration": {
                "KeyStoreAccessOption": {
                    "KeyAccessRoleArn": "arn:aws:iam::123456789012:role/search-keystore",
                    "KeyStoreAccessEnabled": True,
                }
            },
        },
    )
    expect_list(stub, [domain_package(plugin, "ACTIVE", version="v3")])

    outcome = AssociationLifecycle().create(make_job(event, opensearch, clock))

    assert isinstance(outcome, Done)
    assert outcome.physical_id == f"{DOMAIN}|{plugin}"
    assert outcome.data["PackageVersion"] == "v3"  # no OspPackageVersion: any version


def test_already_in_desired_state_is_success(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("association_create")
    expect_describe(stub, PID, package(PID, "AVAILABLE", version="v1"))
    _expect_associate_error(stub, "ConflictException", "Package is Already In Desired State")
    expect_list(stub, [domain_package(PID, "ACTIVE", version="v1")])

    assert AssociationLifecycle().create(make_job(event, opensearch, clock)) == _done()


def test_a_busy_domain_is_retried_with_backoff(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("association_create")
    expect_describe(stub, PID, package(PID, "AVAILABLE", version="v1"))
    for _ in range(3):
        _expect_associate_error(stub, "ConflictException", "Another operation is in progress")
        expect_list(stub, [domain_package("F999", "ASSOCIATING")])
    _expect_associate(stub)
    expect_list(stub, [domain_package(PID, "ACTIVE", version="v1")])

    assert AssociationLifecycle().create(make_job(event, opensearch, clock)) == _done()
    assert len(clock.sleeps) == 3


def test_other_associate_errors_fail(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("association_create")
    expect_describe(stub, PID, package(PID, "AVAILABLE", version="v1"))
    stub.add_client_error(
        "associate_package",
        "AccessDeniedException",
        "not authorized to perform es:AssociatePackage",
        403,
        expected_params={"PackageID": PID, "DomainName": DOMAIN},
    )
    job = make_job(event, opensearch, clock)

    with pytest.raises(Exception, match="not authorized"):
        AssociationLifecycle().create(job)

    assert "physical_id" not in job.state  # nothing to dissociate on the Delete that follows


def test_waits_for_the_requested_package_version(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("association_update")  # OspPackageVersion v2
    expect_describe(stub, PID, package(PID, "AVAILABLE", version="v2"))
    _expect_associate(stub)
    expect_list(stub, [domain_package(PID, "ACTIVE", version="v1")])
    expect_list(stub, [domain_package(PID, "ASSOCIATING", version="v1")])
    expect_list(stub, [domain_package(PID, "ACTIVE", version="v2")])

    outcome = AssociationLifecycle().update(make_job(event, opensearch, clock))

    assert outcome == _done("v2")  # same physical id: an update, not a replacement


def test_a_new_package_id_is_a_new_association(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("association_update")
    event["ResourceProperties"]["PackageID"] = "F444"
    del event["ResourceProperties"]["OspPackageVersion"]
    expect_describe(stub, "F444", package("F444", "AVAILABLE", version="v1"))
    stub.add_response(
        "associate_package",
        {"DomainPackageDetails": domain_package("F444", "ASSOCIATING")},
        {"PackageID": "F444", "DomainName": DOMAIN},
    )
    expect_list(stub, [domain_package(PID, "ACTIVE"), domain_package("F444", "ACTIVE")])

    outcome = AssociationLifecycle().update(make_job(event, opensearch, clock))

    assert isinstance(outcome, Done)
    assert outcome.physical_id == f"{DOMAIN}|F444"


def test_association_failed_fails_with_the_service_message(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("association_create")
    expect_describe(stub, PID, package(PID, "AVAILABLE", version="v1"))
    _expect_associate(stub)
    failed = domain_package(PID, "ASSOCIATION_FAILED", error="Synonym rule conflicts with index")
    expect_list(stub, [domain_package(PID, "ASSOCIATING")])
    expect_list(stub, [failed])

    with pytest.raises(ResourceFailure) as failure:
        AssociationLifecycle().create(make_job(event, opensearch, clock))

    assert str(failure.value) == (
        "Synonym rule conflicts with index (package F111111111 on domain search-domain, "
        "status ASSOCIATION_FAILED)"
    )


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("VALIDATION_FAILED", "bad file (package F111111111, status VALIDATION_FAILED: it cannot"),
        ("DELETING", "(package F111111111, status DELETING: it cannot be associated)"),
    ],
)
def test_an_unusable_package_is_never_associated(
    opensearch: OpenSearchServiceClient,
    stub: Stubber,
    clock: FakeClock,
    status: str,
    message: str,
) -> None:
    event = load_event("association_create")
    error = "bad file" if status.endswith("FAILED") else None
    expect_describe(stub, PID, package(PID, status, error=error))

    with pytest.raises(ResourceFailure) as failure:
        AssociationLifecycle().create(make_job(event, opensearch, clock))

    assert str(failure.value).startswith(message)


def test_a_missing_package_fails_after_a_grace_period(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("association_create")
    state = {"v": 1, "started": START - 600, "op": "associate", "phase": "package"}
    expect_describe(stub, PID, *[None] * 7)  # 0, 5, ..., 30 s

    with pytest.raises(ResourceFailure, match="package F111111111 does not exist"):
        AssociationLifecycle().resume(make_job(event, opensearch, clock, state=state))


def test_an_aws_provided_package_need_not_be_listed(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("association_create")
    event["ResourceProperties"]["PackageID"] = "G123456"
    del event["ResourceProperties"]["OspPackageVersion"]
    expect_describe(stub, "G123456", None)
    stub.add_response(
        "associate_package",
        {"DomainPackageDetails": domain_package("G123456", "ASSOCIATING")},
        {"PackageID": "G123456", "DomainName": DOMAIN},
    )
    expect_list(stub, [domain_package("G123456", "ACTIVE")])

    outcome = AssociationLifecycle().create(make_job(event, opensearch, clock))

    assert isinstance(outcome, Done)
    assert outcome.physical_id == f"{DOMAIN}|G123456"


def test_a_missing_domain_fails_clearly(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("association_create")
    expect_describe(stub, PID, package(PID, "AVAILABLE", version="v1"))
    _expect_associate(stub)
    stub.add_client_error(
        "list_packages_for_domain",
        "ResourceNotFoundException",
        "Domain not found: search-domain",
        409,
        expected_params={"DomainName": DOMAIN},
    )

    with pytest.raises(ResourceFailure, match="Domain not found: search-domain"):
        AssociationLifecycle().create(make_job(event, opensearch, clock))


def test_a_long_rollout_hands_over_after_associating(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("association_create")
    expect_describe(stub, PID, package(PID, "AVAILABLE", version="v1"))
    _expect_associate(stub)
    for _ in range(3):  # 0, 0.5, 1.0 s
        expect_list(stub, [domain_package(PID, "ASSOCIATING")])

    first = AssociationLifecycle().create(make_job(event, opensearch, clock, remaining=21.0))

    assert first == Pending(
        {
            "v": 1,
            "started": START,
            "op": "associate",
            "phase": "active",
            "physical_id": f"{DOMAIN}|{PID}",
        }
    )
    expect_list(stub, [domain_package(PID, "ACTIVE", version="v1")])  # no second Associate
    later = make_job(event, opensearch, clock, state=first.state)
    assert AssociationLifecycle().resume(later) == _done()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"DomainName": None}, "requires the properties ['DomainName']"),
        ({"PrerequisitePackageIDList": "F1"}, "property PrerequisitePackageIDList must be a list"),
        (
            {"AssociationConfiguration": {"KeyStoreAccessOption": {"KeyStoreAccessEnabled": "1"}}},
            "KeyStoreAccessOption.KeyStoreAccessEnabled must be 'true' or 'false'",
        ),
    ],
)
def test_fails_on_bad_properties(
    opensearch: OpenSearchServiceClient,
    stub: Stubber,
    clock: FakeClock,
    change: dict[str, Any],
    message: str,
) -> None:
    event = load_event("association_create")
    for key, value in change.items():
        if value is None:
            del event["ResourceProperties"][key]
        else:
            event["ResourceProperties"][key] = value

    with pytest.raises(PropertyError, match=message.replace("[", r"\[").replace("]", r"\]")):
        AssociationLifecycle().create(make_job(event, opensearch, clock))


# delete ---------------------------------------------------------------------------------


def test_dissociates_and_waits_until_the_package_leaves_the_domain(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("association_delete")
    _expect_dissociate(stub)
    expect_list(stub, [domain_package(PID, "DISSOCIATING")])
    expect_list(stub, [domain_package("F999", "ACTIVE")], [])

    outcome = AssociationLifecycle().delete(make_job(event, opensearch, clock))

    assert outcome == Done(f"{DOMAIN}|{PID}")


@pytest.mark.parametrize(
    "physical_id",
    [
        "osp-failed-SynonymsAssociationB1C2D3E4-0123456789ab",
        "F111111111",
        "search-domain|",
        "Search_Domain|F1",
        "a|b|c",
    ],
)
def test_a_physical_id_that_is_not_an_association_succeeds_at_once(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock, physical_id: str
) -> None:
    event = load_event("association_delete")
    event["PhysicalResourceId"] = physical_id

    assert AssociationLifecycle().delete(make_job(event, opensearch, clock)) == Done(physical_id)


@pytest.mark.parametrize(
    "error",
    [
        # the two shapes Terraform's delete path accepts for a package the domain lacks
        ("ValidationException", "Package is not associated to this domain", 400),
        ("ResourceNotFoundException", "Package is not associated with the domain", 409),
        ("ValidationException", "Domain not found", 400),
    ],
)
def test_nothing_to_dissociate_succeeds(
    opensearch: OpenSearchServiceClient,
    stub: Stubber,
    clock: FakeClock,
    error: tuple[str, str, int],
) -> None:
    event = load_event("association_delete")
    _expect_dissociate_error(stub, *error)

    assert AssociationLifecycle().delete(make_job(event, opensearch, clock)) == Done(
        f"{DOMAIN}|{PID}"
    )


def test_a_dissociation_in_progress_is_retried(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("association_delete")
    _expect_dissociate_error(stub, "ConflictException", "An update is in progress for the domain")
    expect_list(stub, [domain_package(PID, "ACTIVE"), domain_package("F999", "ASSOCIATING")])
    _expect_dissociate(stub)
    expect_list(stub, [])

    assert AssociationLifecycle().delete(make_job(event, opensearch, clock)) == Done(
        f"{DOMAIN}|{PID}"
    )
    assert clock.sleeps == [0.5]


def test_other_dissociation_conflicts_fail_with_the_service_message(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("association_delete")
    _expect_dissociate_error(stub, "ConflictException", "Package is used by index products")
    expect_list(stub, [domain_package(PID, "ACTIVE")])  # no operation runs on the domain

    with pytest.raises(ResourceFailure) as failure:
        AssociationLifecycle().delete(make_job(event, opensearch, clock))

    assert str(failure.value) == (
        "Package is used by index products (ConflictException from DissociatePackage of "
        "F111111111 from domain search-domain)"
    )


def test_dissociation_failed_fails_with_the_service_message(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("association_delete")
    _expect_dissociate(stub)
    expect_list(stub, [domain_package(PID, "DISSOCIATION_FAILED", error="Index uses synonyms")])

    with pytest.raises(ResourceFailure) as failure:
        AssociationLifecycle().delete(make_job(event, opensearch, clock))

    assert str(failure.value).startswith("Index uses synonyms (package F111111111 on domain")


def test_a_deleted_domain_means_dissociated(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("association_delete")
    _expect_dissociate(stub)
    stub.add_client_error(
        "list_packages_for_domain",
        "ResourceNotFoundException",
        "Domain not found",
        409,
        expected_params={"DomainName": DOMAIN},
    )

    assert AssociationLifecycle().delete(make_job(event, opensearch, clock)) == Done(
        f"{DOMAIN}|{PID}"
    )


def test_throttled_listing_is_retried(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("association_delete")
    _expect_dissociate(stub)
    stub.add_client_error(
        "list_packages_for_domain",
        "ThrottlingException",
        "Rate exceeded",
        400,
        expected_params={"DomainName": DOMAIN},
    )
    expect_list(stub, [])

    assert AssociationLifecycle().delete(make_job(event, opensearch, clock)) == Done(
        f"{DOMAIN}|{PID}"
    )


def test_an_update_of_a_failed_association_associates(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("association_update")
    event["PhysicalResourceId"] = "osp-failed-SynonymsAssociationB1C2D3E4-0123456789ab"
    expect_describe(stub, PID, package(PID, "AVAILABLE", version="v2"))
    _expect_associate(stub)
    expect_list(stub, [domain_package(PID, "ACTIVE", version="v2")])

    assert AssociationLifecycle().update(make_job(event, opensearch, clock)) == _done("v2")


def test_dissociation_already_in_desired_state_waits_until_gone(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("association_delete")
    _expect_dissociate_error(stub, "ConflictException", "Package is already in desired state")
    expect_list(stub, [domain_package(PID, "DISSOCIATING")])
    expect_list(stub, [])

    assert AssociationLifecycle().delete(make_job(event, opensearch, clock)) == Done(
        f"{DOMAIN}|{PID}"
    )


def test_a_conflict_while_the_domain_lists_an_operation_is_retried(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    # The message does not say "in progress", but another package is still ASSOCIATING.
    event = load_event("association_create")
    expect_describe(stub, PID, package(PID, "AVAILABLE", version="v1"))
    _expect_associate_error(stub, "ConflictException", "The domain cannot take this request")
    expect_list(stub, [domain_package("F999", "ASSOCIATING")])  # one listing decides
    _expect_associate(stub)
    expect_list(stub, [domain_package(PID, "ACTIVE", version="v1")])

    assert AssociationLifecycle().create(make_job(event, opensearch, clock)) == _done()
    assert len(clock.sleeps) == 1


def test_a_conflict_that_will_not_go_away_fails_at_once(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("association_create")
    expect_describe(stub, PID, package(PID, "AVAILABLE", version="v1"))
    _expect_associate_error(stub, "ConflictException", "Plugin conflicts with package F555")
    expect_list(stub, [domain_package("F555", "ACTIVE")])

    with pytest.raises(ResourceFailure) as failure:
        AssociationLifecycle().create(make_job(event, opensearch, clock))

    assert str(failure.value) == (
        "Plugin conflicts with package F555 (ConflictException from AssociatePackage of "
        "F111111111 with domain search-domain)"
    )
    assert clock.sleeps == []


def test_changed_prerequisites_dissociate_then_associate_with_the_new_settings(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("association_update")
    del event["ResourceProperties"]["OspPackageVersion"]
    event["OldResourceProperties"] = {**event["ResourceProperties"]}
    event["ResourceProperties"]["PrerequisitePackageIDList"] = ["F333333333"]
    _expect_dissociate(stub)
    expect_list(stub, [domain_package(PID, "DISSOCIATING")])
    expect_list(stub, [])
    expect_describe(stub, PID, package(PID, "AVAILABLE", version="v1"))
    _expect_associate(
        stub, {"PackageID": PID, "DomainName": DOMAIN, "PrerequisitePackageIDList": ["F333333333"]}
    )
    expect_list(stub, [domain_package(PID, "ACTIVE", version="v1")])

    outcome = AssociationLifecycle().update(make_job(event, opensearch, clock))

    assert outcome == _done()  # the same physical id: CloudFormation deletes nothing


def test_the_same_prerequisites_in_another_order_change_nothing(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("association_update")
    del event["ResourceProperties"]["OspPackageVersion"]
    event["ResourceProperties"]["PrerequisitePackageIDList"] = ["F3", "F4"]
    event["OldResourceProperties"] = {
        **event["ResourceProperties"],
        "PrerequisitePackageIDList": ["F4", "F3"],
    }
    expect_describe(stub, PID, package(PID, "AVAILABLE", version="v1"))
    stub.add_client_error(
        "associate_package",
        "ConflictException",
        "Package is already in desired state",
        409,
        expected_params={
            "PackageID": PID,
            "DomainName": DOMAIN,
            "PrerequisitePackageIDList": ["F3", "F4"],
        },
    )
    expect_list(stub, [domain_package(PID, "ACTIVE", version="v1")])

    assert AssociationLifecycle().update(make_job(event, opensearch, clock)) == _done()


@pytest.mark.parametrize("code", ["ConflictException", "ValidationException"])
def test_a_refused_dissociation_of_a_package_the_domain_does_not_list_is_done(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock, code: str
) -> None:
    """Whatever the wording, the domain's listing decides: nothing to dissociate."""
    event = load_event("association_delete")
    _expect_dissociate_error(stub, code, "The request cannot be completed", 400)
    expect_list(stub, [domain_package("F999", "ACTIVE")])

    assert AssociationLifecycle().delete(make_job(event, opensearch, clock)) == Done(
        f"{DOMAIN}|{PID}"
    )


def test_a_validation_refusal_while_the_domain_is_busy_is_retried(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    """The code for a busy domain is undocumented (the domain-config analogue is a
    ValidationException): the domain's listing decides."""
    event = load_event("association_create")
    expect_describe(stub, PID, package(PID, "AVAILABLE", version="v1"))
    _expect_associate_error(stub, "ValidationException", "The domain cannot take this request")
    expect_list(stub, [domain_package("F999", "DISSOCIATING")])
    _expect_associate(stub)
    expect_list(stub, [domain_package(PID, "ACTIVE", version="v1")])

    assert AssociationLifecycle().create(make_job(event, opensearch, clock)) == _done()


def test_a_refusal_while_the_package_is_already_active_is_success(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    """After an engine upgrade the service itself moved the plugin to this package: whatever
    the refusal says, the package ACTIVE with the wanted version is success."""
    event = load_event("association_create")
    expect_describe(stub, PID, package(PID, "AVAILABLE", version="v1"))
    _expect_associate_error(stub, "ConflictException", "Nothing to do")
    expect_list(stub, [domain_package(PID, "ACTIVE", version="v1")])
    expect_list(stub, [domain_package(PID, "ACTIVE", version="v1")])

    assert AssociationLifecycle().create(make_job(event, opensearch, clock)) == _done()


def test_a_plugin_that_never_leaves_the_domain_times_out_saying_why(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    """AWS: uninstalling a plugin an index still uses leaves the blue/green deployment in
    Processing (no DISSOCIATION_FAILED); the timeout says what to do."""
    from osp_handler.waiting import WaitTimeout

    event = load_event("association_delete")
    event["ResourceProperties"]["ServiceTimeout"] = "1"  # deadline after half a second
    _expect_dissociate(stub)
    stuck = domain_package(PID, "DISSOCIATING")
    stuck["PackageType"] = "ZIP-PLUGIN"
    del stuck["ReferencePath"]
    expect_list(stub, [stuck])
    expect_list(stub, [stuck])

    with pytest.raises(WaitTimeout) as failure:
        AssociationLifecycle().delete(make_job(event, opensearch, clock))

    assert "blue/green deployment in Processing" in str(failure.value)
    assert "remove it from the index settings" in str(failure.value)
