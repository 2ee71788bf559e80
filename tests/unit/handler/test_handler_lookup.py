"""Custom::OpenSearchPackageLookup: find by name, wait, never delete; every path, with Stubber."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from botocore.stub import Stubber

from osp_handler.cfn_response import send_response
from osp_handler.lifecycle import UnsupportedLifecycle, lifecycle_for
from osp_handler.lookup import LOOKUP_RESOURCE_TYPE, PackageLookupLifecycle, lookup_props
from osp_handler.outcome import Done, Pending, ResourceFailure
from osp_handler.props import PropertyError
from osp_handler.waiting import WaitTimeout

from .handler_fakes import (
    START,
    FakeClock,
    FakeContext,
    FakeTimers,
    ResponseServer,
    expect_describe,
    load_event,
    make_job,
    package,
)

if TYPE_CHECKING:
    from types_boto3_events.client import EventBridgeClient
    from types_boto3_opensearch.client import OpenSearchServiceClient

PID = "F222222222"
NAME = "shared-synonyms"
OWNER = "111122223333"
NAME_FILTER = {"Name": "PackageName", "Value": [NAME]}
OWNER_FILTER = {"Name": "PackageOwner", "Value": [OWNER]}


def _shared(
    package_id: str = PID,
    status: str = "AVAILABLE",
    *,
    version: str | None = "v3",
    owner: str | None = OWNER,
    **extra: Any,
) -> dict[str, Any]:
    details = package(package_id, status, name=NAME, version=version, **extra)
    if owner is not None:
        details["PackageOwner"] = owner
    return details


def _expect_find(
    stub: Stubber,
    *pages: list[dict[str, Any]],
    filters: list[dict[str, Any]] | None = None,
) -> None:
    """Queue the DescribePackages pages of one lookup (NextToken chains them)."""
    for index, page in enumerate(pages):
        response: dict[str, Any] = {"PackageDetailsList": page}
        params: dict[str, Any] = {"Filters": filters or [NAME_FILTER, OWNER_FILTER]}
        if index + 1 < len(pages):
            response["NextToken"] = f"token-{index + 1}"
        if index > 0:
            params["NextToken"] = f"token-{index}"
        stub.add_response("describe_packages", response, params)


def _event(*, owner: bool = True, request_type: str = "Create") -> dict[str, Any]:
    event = load_event("lookup_create")
    if not owner:
        del event["ResourceProperties"]["PackageOwner"]
    if request_type == "Update":
        event.update(
            RequestType="Update",
            PhysicalResourceId=PID,
            OldResourceProperties=dict(event["ResourceProperties"], OspRefreshKey="2025-05-01"),
        )
    return event


def _data(version: str = "v3", engine: str = "", owner: str = OWNER) -> dict[str, str]:
    return {
        "PackageID": PID,
        "PackageName": NAME,
        "PackageType": "TXT-DICTIONARY",
        "PackageVersion": version,
        "EngineVersion": engine,
        "PackageOwner": owner,
    }


def test_the_provider_dispatches_the_lookup_type() -> None:
    assert isinstance(lifecycle_for(LOOKUP_RESOURCE_TYPE), PackageLookupLifecycle)
    assert LOOKUP_RESOURCE_TYPE == "Custom::OpenSearchPackageLookup"
    refused = UnsupportedLifecycle("Custom::Other")._refuse()
    assert str(refused).endswith(
        "use Custom::OpenSearchPackage, Custom::OpenSearchDomainPackages or "
        "Custom::OpenSearchPackageLookup"
    )


def test_finds_the_package_by_name_and_owner(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    _expect_find(stub, [_shared()])

    outcome = PackageLookupLifecycle().create(make_job(_event(), opensearch, clock))

    assert outcome == Done(PID, _data())
    assert clock.sleeps == []


def test_without_an_owner_only_the_name_filters(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    _expect_find(stub, [_shared(owner=None)], filters=[NAME_FILTER])

    outcome = PackageLookupLifecycle().create(make_job(_event(owner=False), opensearch, clock))

    assert outcome == Done(PID, _data(owner=""))


def test_a_plugin_reports_its_engine_version(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    plugin = _shared(package_type="ZIP-PLUGIN")
    plugin["EngineVersion"] = "OpenSearch_2.19"
    _expect_find(stub, [plugin])

    outcome = PackageLookupLifecycle().create(make_job(_event(), opensearch, clock))

    assert isinstance(outcome, Done)
    assert outcome.data["PackageType"] == "ZIP-PLUGIN"
    assert outcome.data["EngineVersion"] == "OpenSearch_2.19"


def test_follows_next_token_and_keeps_only_the_exact_live_name(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    other_name = _shared("F333333333")
    other_name["PackageName"] = "shared-synonyms-old"
    deleted = _shared("F444444444", "DELETED")
    other_owner = _shared("F555555555", owner="999999999999")
    _expect_find(stub, [other_name], [], [deleted, other_owner, _shared()])

    outcome = PackageLookupLifecycle().create(make_job(_event(), opensearch, clock))

    assert outcome == Done(PID, _data())


@pytest.mark.parametrize(
    "answer",
    [
        "empty",
        "only-deleted",
        "ResourceNotFoundException",
        "ValidationException",
    ],
)
def test_fails_when_no_package_has_the_name(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock, answer: str
) -> None:
    if answer == "empty":
        _expect_find(stub, [])
    elif answer == "only-deleted":
        _expect_find(stub, [_shared(status="DELETED")])
    else:
        stub.add_client_error(
            "describe_packages",
            service_error_code=answer,
            service_message="Package not found",
            http_status_code=409 if answer == "ResourceNotFoundException" else 400,
            expected_params={"Filters": [NAME_FILTER, OWNER_FILTER]},
        )
    job = make_job(_event(), opensearch, clock)

    with pytest.raises(ResourceFailure) as failure:
        PackageLookupLifecycle().create(job)

    assert str(failure.value) == (
        "no package named 'shared-synonyms' owned by '111122223333' in this account and Region "
        "(packages shared with you appear once their owner has added this account to the "
        "package's scope with UpdatePackageScope): check the name, the account and the Region, "
        "or import the package by id with OpenSearchPackage.from_package_id"
    )
    assert "physical_id" not in job.state  # the Delete that follows has nothing to clean up


def test_fails_when_the_name_is_ambiguous_without_an_owner(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    mine = _shared("F333333333", owner="123456789012")
    _expect_find(stub, [mine, _shared(status="COPYING")], filters=[NAME_FILTER])

    with pytest.raises(ResourceFailure) as failure:
        PackageLookupLifecycle().create(make_job(_event(owner=False), opensearch, clock))

    assert str(failure.value) == (
        "2 packages named 'shared-synonyms' are visible in this account and Region: "
        "F333333333 (owner 123456789012, status AVAILABLE), "
        "F222222222 (owner 111122223333, status COPYING): pass package_owner (PackageOwner) "
        "or, for plugins (one package of a name per engine version), engine_version "
        "(EngineVersion) to choose one, or import the package by id with "
        "OpenSearchPackage.from_package_id"
    )


def test_an_engine_version_picks_one_of_the_plugin_packages_of_a_name(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    """ZIP-PLUGIN names repeat once per engine version: EngineVersion filters and matches."""
    old = _shared("F333333333", package_type="ZIP-PLUGIN")
    old["EngineVersion"] = "OpenSearch_2.17"
    new = _shared(package_type="ZIP-PLUGIN")
    new["EngineVersion"] = "OpenSearch_2.19"
    event = _event()
    event["ResourceProperties"]["EngineVersion"] = "OpenSearch_2.19"
    engine_filter = {"Name": "EngineVersion", "Value": ["OpenSearch_2.19"]}
    # a filter the service ignored would still leave only the package of that version
    _expect_find(stub, [old, new], filters=[NAME_FILTER, OWNER_FILTER, engine_filter])

    outcome = PackageLookupLifecycle().create(make_job(event, opensearch, clock))

    assert isinstance(outcome, Done)
    assert outcome.physical_id == PID
    assert outcome.data["EngineVersion"] == "OpenSearch_2.19"


def test_waits_while_the_package_is_copied_and_validated(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    _expect_find(stub, [_shared(status="COPYING", version="v2")])
    expect_describe(
        stub,
        PID,
        _shared(status="COPYING", version="v2"),
        _shared(status="VALIDATING", version="v2"),
        _shared(version="v3"),
    )

    outcome = PackageLookupLifecycle().create(make_job(_event(), opensearch, clock))

    assert outcome == Done(PID, _data("v3"))
    assert clock.sleeps == [0.5, 0.5]


def test_hands_over_to_polling_and_resumes(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = _event()
    _expect_find(stub, [_shared(status="VALIDATING")])
    # 22 s left: 2 s of waiting in process (20 s are kept in reserve).
    expect_describe(stub, PID, *[_shared(status="VALIDATING")] * 5)

    first = PackageLookupLifecycle().create(make_job(event, opensearch, clock, remaining=22.0))

    assert first == Pending(
        {"v": 1, "started": START, "op": "lookup", "phase": "available", "package_id": PID}
    )
    clock.sleep(60)
    expect_describe(stub, PID, _shared())
    second = PackageLookupLifecycle().resume(make_job(event, opensearch, clock, state=first.state))

    assert second == Done(PID, _data())


@pytest.mark.parametrize("status", ["VALIDATION_FAILED", "COPY_FAILED"])
def test_a_failed_package_fails_with_the_service_message(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock, status: str
) -> None:
    message = "Synonym file has an invalid rule at line 3"
    _expect_find(stub, [_shared(status="COPYING")])
    expect_describe(stub, PID, _shared(status=status, error=message))

    with pytest.raises(ResourceFailure) as failure:
        PackageLookupLifecycle().create(make_job(_event(), opensearch, clock))

    assert str(failure.value) == (
        f"{message} (package F222222222 named 'shared-synonyms' owned by '111122223333', "
        f"status {status}: it cannot be associated; fix the package where it is managed)"
    )


@pytest.mark.parametrize("status", ["DELETING", "DELETE_FAILED"])
def test_a_package_being_deleted_fails_at_once(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock, status: str
) -> None:
    _expect_find(stub, [_shared(status=status)])

    with pytest.raises(ResourceFailure, match=f"^package F222222222 named .* is {status}: "):
        PackageLookupLifecycle().create(make_job(_event(), opensearch, clock))


def test_a_package_that_disappears_while_awaited_fails_after_a_grace_period(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    state = {"v": 1, "started": START - 600, "op": "lookup", "phase": "available"}
    state["package_id"] = PID
    # 5 s apart: missing at 0, 5, ..., 30 s; 30 s missing means deleted.
    expect_describe(stub, PID, *[None] * 7)

    with pytest.raises(ResourceFailure, match="does not exist any more"):
        PackageLookupLifecycle().resume(make_job(_event(), opensearch, clock, state=state))

    assert clock.sleeps == [5.0] * 6


def test_times_out_at_the_service_timeout(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = _event()
    event["ResourceProperties"]["ServiceTimeout"] = "10"  # deadline: start + 5 s
    _expect_find(stub, [_shared(status="VALIDATING")])
    expect_describe(stub, PID, *[_shared(status="VALIDATING")] * 11)

    with pytest.raises(WaitTimeout, match=r"^timed out after 5 s waiting for package F222222222"):
        PackageLookupLifecycle().create(make_job(event, opensearch, clock))


def test_throttling_never_fails_the_lookup(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    for code, status in (("ThrottlingException", 400), ("InternalException", 500)):
        stub.add_client_error(
            "describe_packages",
            service_error_code=code,
            service_message="try again",
            http_status_code=status,
            expected_params={"Filters": [NAME_FILTER, OWNER_FILTER]},
        )
    _expect_find(stub, [_shared()])

    outcome = PackageLookupLifecycle().create(make_job(_event(), opensearch, clock))

    assert outcome == Done(PID, _data())


def test_other_errors_fail_the_lookup(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    stub.add_client_error(
        "describe_packages",
        service_error_code="AccessDeniedException",
        service_message="not authorized to perform es:DescribePackages",
        http_status_code=403,
        expected_params={"Filters": [NAME_FILTER, OWNER_FILTER]},
    )

    with pytest.raises(Exception, match="not authorized to perform es:DescribePackages"):
        PackageLookupLifecycle().create(make_job(_event(), opensearch, clock))


def test_an_update_looks_the_package_up_again(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    _expect_find(stub, [_shared(version="v4")])

    outcome = PackageLookupLifecycle().update(
        make_job(_event(request_type="Update"), opensearch, clock)
    )

    assert outcome == Done(PID, _data("v4"))


def test_an_update_that_finds_another_package_replaces_the_resource(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = _event(request_type="Update")
    event["ResourceProperties"]["PackageName"] = "shared-stopwords"
    stopwords = package("pkg-0a1b2c", "AVAILABLE", name="shared-stopwords", version="v1")
    stopwords["PackageOwner"] = OWNER
    filters = [{"Name": "PackageName", "Value": ["shared-stopwords"]}, OWNER_FILTER]
    _expect_find(stub, [stopwords], filters=filters)

    outcome = PackageLookupLifecycle().update(make_job(event, opensearch, clock))

    assert isinstance(outcome, Done)
    assert outcome.physical_id == "pkg-0a1b2c"  # CloudFormation then deletes the old lookup


@pytest.mark.parametrize(
    "physical_id", [PID, "osp-failed-SharedSynonymsLookupE5F6A7B8-0123456789ab", "pkg-0a1b2c"]
)
def test_delete_never_calls_the_service(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock, physical_id: str
) -> None:
    event = load_event("lookup_delete")
    event["PhysicalResourceId"] = physical_id

    outcome = PackageLookupLifecycle().delete(make_job(event, opensearch, clock))

    assert outcome == Done(physical_id)  # and the stub saw no call: nothing is ever deleted


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"PackageName": None}, "requires the property PackageName"),
        ({"PackageName": ""}, "requires the property PackageName"),
        ({"PackageName": "Shared_Synonyms"}, "PackageName 'Shared_Synonyms' cannot be the name"),
        ({"PackageName": "syn*"}, "PackageName 'syn*' cannot be the name"),
        ({"PackageName": "ab"}, "PackageName 'ab' cannot be the name"),
        ({"PackageName": "a" * 257}, "cannot be the name of a package: package names are 3-256"),
        ({"PackageName": ["x"]}, "property PackageName must be a string, got ['x']"),
        ({"PackageOwner": "1111*"}, "PackageOwner '1111*' is invalid"),
        ({"PackageOwner": "a b"}, "PackageOwner 'a b' is invalid"),
        ({"EngineVersion": "2.19"}, "EngineVersion '2.19' is invalid"),
        ({"PackageID": "F1"}, "has no properties ['PackageID']"),
    ],
)
def test_fails_on_bad_properties_before_calling_the_service(
    opensearch: OpenSearchServiceClient,
    stub: Stubber,
    clock: FakeClock,
    change: dict[str, Any],
    message: str,
) -> None:
    event = _event()
    for key, value in change.items():
        if value is None:
            del event["ResourceProperties"][key]
        else:
            event["ResourceProperties"][key] = value

    with pytest.raises(PropertyError, match=re.escape(message)):
        PackageLookupLifecycle().create(make_job(event, opensearch, clock))


def test_property_conversion() -> None:
    props = lookup_props({"PackageName": "a" * 256, "PackageOwner": 111122223333, "OspX": "1"})
    assert props.package_owner == "111122223333"  # a number in a raw template
    assert lookup_props({"PackageName": "abc", "PackageOwner": ""}).package_owner is None
    assert lookup_props({"PackageName": "abc"}).filters() == [
        {"Name": "PackageName", "Value": ["abc"]}
    ]


# Through index.handler: what CloudFormation receives ------------------------------------------


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"the sender slept {seconds} s")


@pytest.fixture
def invoke(
    monkeypatch: pytest.MonkeyPatch,
    opensearch: OpenSearchServiceClient,
    events: EventBridgeClient,
    clock: FakeClock,
    response_server: ResponseServer,
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Invoke ``index.handler`` (stubbed clients, fake clock); return the response body."""
    import index

    helper = index.helper
    monkeypatch.setattr(helper, "_opensearch_factory", lambda: opensearch)
    monkeypatch.setattr(helper, "_events_factory", lambda: events)
    monkeypatch.setattr(helper, "_clock", clock)
    monkeypatch.setattr(helper, "_sender", functools.partial(send_response, sleep=_no_sleep))
    monkeypatch.setattr(helper, "_timer_factory", FakeTimers())

    def run(event: dict[str, Any]) -> dict[str, Any]:
        event["ResponseURL"] = response_server.url
        before = len(response_server.requests)
        index.handler(event, FakeContext(clock))
        (body,) = response_server.bodies()[before:]
        return body

    return run


def test_the_provider_answers_the_attributes_and_deletes_nothing(
    invoke: Callable[[dict[str, Any]], dict[str, Any]],
    stub: Stubber,
    events_stub: Stubber,
) -> None:
    _expect_find(stub, [_shared()])

    created = invoke(_event())
    deleted = invoke(load_event("lookup_delete"))  # no OpenSearch or EventBridge call queued

    assert created["Status"] == "SUCCESS"
    assert created["PhysicalResourceId"] == PID
    assert created["Data"] == _data()
    assert deleted["Status"] == "SUCCESS"
    assert deleted["PhysicalResourceId"] == PID


def test_a_failed_lookup_answers_a_placeholder_that_deletes_cleanly(
    invoke: Callable[[dict[str, Any]], dict[str, Any]],
    stub: Stubber,
    events_stub: Stubber,
) -> None:
    _expect_find(stub, [])

    created = invoke(_event())
    delete = load_event("lookup_delete")
    delete["PhysicalResourceId"] = created["PhysicalResourceId"]
    deleted = invoke(delete)

    assert created["Status"] == "FAILED"
    # Longer than CloudFormation shows: the fix comes first, then the problem.
    assert created["Reason"].startswith("Check the name, the account and the Region, or import")
    assert "Why: no package named 'shared-synonyms' owned by" in created["Reason"]
    assert created["PhysicalResourceId"].startswith("osp-failed-SharedSynonymsLookupE5F6A7B8-")
    assert deleted["Status"] == "SUCCESS"
