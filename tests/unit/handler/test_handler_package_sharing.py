"""Custom::OpenSearchPackage ``AllowListedUserList``: UpdatePackageScope once the package is
AVAILABLE, in place on updates, never on deletes; property checks."""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any

import pytest
from botocore.stub import Stubber

from osp_handler.names import generated_package_name
from osp_handler.outcome import Done
from osp_handler.package import PackageLifecycle
from osp_handler.props import PropertyError, package_props

from .handler_fakes import FakeClock, expect_describe, load_event, make_job, package

if TYPE_CHECKING:
    from types_boto3_opensearch.client import OpenSearchServiceClient

PID = "F111111111"
CONSUMER = "210987654321"
OTHER = "111122223333"
VENDED = {"VendingEnabled": "true"}


def shared(details: dict[str, Any], *users: str) -> dict[str, Any]:
    """``details`` of a vended package, allow-listing ``users``."""
    result = {**details, "PackageVendingOptions": {"VendingEnabled": True}}
    if users:
        result["AllowListedUserList"] = list(users)
    return result


def create_event(users: list[str] | None) -> dict[str, Any]:
    event = load_event("package_create")
    props = event["ResourceProperties"]
    props["PackageVendingOptions"] = VENDED
    if users is not None:
        props["AllowListedUserList"] = users
    return event


def update_event(old: list[str] | None, new: list[str] | None) -> dict[str, Any]:
    """An Update that changes nothing but the allow-list (``None``: property absent)."""
    event = load_event("package_update")
    event["OldResourceProperties"] = copy.deepcopy(event["ResourceProperties"])
    for key, users in (("OldResourceProperties", old), ("ResourceProperties", new)):
        event[key]["PackageVendingOptions"] = VENDED
        if users is not None:
            event[key]["AllowListedUserList"] = users
    return event


def expect_scope(stub: Stubber, operation: str, users: list[str], after: list[str]) -> None:
    stub.add_response(
        "update_package_scope",
        {"PackageID": PID, "Operation": operation, "PackageUserList": after},
        {"PackageID": PID, "Operation": operation, "PackageUserList": users},
    )


def test_create_shares_the_package_once_it_is_available(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = create_event([OTHER, CONSUMER])
    name = generated_package_name(
        stack_id=event["StackId"],
        logical_id=event["LogicalResourceId"],
        package_type="TXT-DICTIONARY",
        engine_version="",
        vending_enabled=True,
    )
    props = event["ResourceProperties"]
    stub.add_response(
        "create_package",
        {"PackageDetails": package(PID, "COPYING")},
        {
            "PackageName": name,
            "PackageType": "TXT-DICTIONARY",
            "PackageDescription": props["PackageDescription"],
            "PackageSource": props["PackageSource"],
            "PackageVendingOptions": {"VendingEnabled": True},  # never AllowListedUserList
        },
    )
    expect_describe(
        stub, PID, package(PID, "COPYING"), shared(package(PID, "AVAILABLE", version="v1"))
    )
    expect_scope(stub, "OVERRIDE", [OTHER, CONSUMER], [OTHER, CONSUMER])  # sorted

    outcome = PackageLifecycle().create(make_job(event, opensearch, clock))

    assert isinstance(outcome, Done)
    assert (outcome.physical_id, outcome.data["PackageVersion"]) == (PID, "v1")
    stub.assert_no_pending_responses()


def test_create_without_the_property_never_calls_update_package_scope(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    stub.add_response("create_package", {"PackageDetails": package(PID, "COPYING")})
    expect_describe(stub, PID, shared(package(PID, "AVAILABLE", version="v1")))

    outcome = PackageLifecycle().create(make_job(create_event(None), opensearch, clock))

    assert isinstance(outcome, Done)
    stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    "case",
    [
        # (old property, new property, the package's list, the expected call)
        # an account added: the whole list (sorted), idempotent
        ([CONSUMER], [CONSUMER, OTHER], [CONSUMER], ("OVERRIDE", [OTHER, CONSUMER])),
        # an account removed
        ([CONSUMER, OTHER], [OTHER], [CONSUMER, OTHER], ("OVERRIDE", [OTHER])),
        # everyone
        ([CONSUMER], ["GLOBAL"], [CONSUMER], ("OVERRIDE", ["GLOBAL"])),
        # nobody: REMOVE what the package lists (an empty OVERRIDE is not documented)
        ([CONSUMER, OTHER], [], [CONSUMER, OTHER], ("REMOVE", [OTHER, CONSUMER])),
        # the property dropped: unshared as with []
        ([CONSUMER], None, [CONSUMER], ("REMOVE", [CONSUMER])),
        # shared outside the stack (drift): the property wins
        ([CONSUMER], [CONSUMER], [CONSUMER, OTHER], ("OVERRIDE", [CONSUMER])),
        # already as asked (a redelivered update): no call
        ([CONSUMER], [CONSUMER, OTHER], [OTHER, CONSUMER], None),
        ([CONSUMER], [], [], None),
    ],
)
def test_an_allow_list_change_is_applied_in_place(
    opensearch: OpenSearchServiceClient,
    stub: Stubber,
    clock: FakeClock,
    case: tuple[list[str] | None, list[str] | None, list[str], tuple[str, list[str]] | None],
) -> None:
    old, new, listed, call = case
    expect_describe(stub, PID, shared(package(PID, "AVAILABLE", version="v1"), *listed))
    if call is not None:
        expect_scope(stub, call[0], call[1], [])

    outcome = PackageLifecycle().update(make_job(update_event(old, new), opensearch, clock))

    assert isinstance(outcome, Done)
    assert outcome.physical_id == PID  # in place: same package, no replacement
    stub.assert_no_pending_responses()


def test_an_update_of_an_unmanaged_package_leaves_its_sharing_alone(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    """Neither the old nor the new properties name an allow-list: a package shared by other
    means stays shared."""
    expect_describe(stub, PID, shared(package(PID, "AVAILABLE", version="v1"), CONSUMER))

    outcome = PackageLifecycle().update(make_job(update_event(None, None), opensearch, clock))

    assert isinstance(outcome, Done)
    stub.assert_no_pending_responses()


def test_delete_does_not_unshare_first(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_delete")
    event["ResourceProperties"]["AllowListedUserList"] = [CONSUMER]
    event["ResourceProperties"]["PackageVendingOptions"] = VENDED
    pid = event["PhysicalResourceId"]
    expect_describe(stub, pid, shared(package(pid, "AVAILABLE", version="v1"), CONSUMER))
    stub.add_response(
        "delete_package", {"PackageDetails": package(pid, "DELETING")}, {"PackageID": pid}
    )
    expect_describe(stub, pid, None)

    outcome = PackageLifecycle().delete(make_job(event, opensearch, clock))

    assert outcome == Done(pid)
    stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"AllowListedUserList": [CONSUMER]}, "needs PackageVendingOptions.VendingEnabled 'true'"),
        (
            {
                "AllowListedUserList": ["12345", f"{OTHER}\n", CONSUMER],
                "PackageVendingOptions": VENDED,
            },
            f"invalid entries ['12345', '{OTHER}\\n']: each must be a 12-digit account id or "
            "'GLOBAL'",
        ),
        (
            {"AllowListedUserList": CONSUMER, "PackageVendingOptions": VENDED},
            "must be a list",
        ),
    ],
)
def test_invalid_allow_lists_fail_before_any_call(
    opensearch: OpenSearchServiceClient, props: dict[str, Any], message: str
) -> None:
    base = load_event("package_create")["ResourceProperties"]
    with pytest.raises(PropertyError, match=re.escape(message)):
        package_props({**base, **props}, opensearch.meta.service_model)


def test_old_allow_lists_never_block_a_rollback(opensearch: OpenSearchServiceClient) -> None:
    base = load_event("package_create")["ResourceProperties"]
    old = package_props(
        {**base, "AllowListedUserList": "junk"}, opensearch.meta.service_model, lenient=True
    )
    assert old.allow_list is None
    new = package_props(
        {**base, "AllowListedUserList": [OTHER, CONSUMER, OTHER], "PackageVendingOptions": VENDED},
        opensearch.meta.service_model,
    )
    assert new.allow_list == (OTHER, CONSUMER)  # sorted, once each
    empty_parameter = package_props(
        {**base, "AllowListedUserList": [""]}, opensearch.meta.service_model
    )
    assert empty_parameter.allow_list == ()  # an empty CommaDelimitedList: nobody
    assert new.create_kwargs("n").get("AllowListedUserList") is None  # never a CreatePackage param
