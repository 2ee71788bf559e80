"""Custom::OpenSearchPackage Create: every path, with botocore's Stubber."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from osp_handler.names import generated_package_name
from osp_handler.outcome import Done, Pending, ResourceFailure
from osp_handler.package import PackageLifecycle
from osp_handler.props import PropertyError
from osp_handler.waiting import WaitTimeout

from .handler_fakes import (
    START,
    FakeClock,
    expect_describe,
    expect_describe_error,
    load_event,
    make_job,
    package,
)

if TYPE_CHECKING:
    from types_boto3_opensearch.client import OpenSearchServiceClient

SOURCE = {
    "S3BucketName": "cdk-hnb659fds-assets-123456789012-eu-west-1",
    "S3Key": "3f2a1c0b9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b.txt",
}
DESCRIPTION = "Synonyms for product search"


def _generated_name(event: dict[str, Any]) -> str:
    return generated_package_name(
        stack_id=event["StackId"],
        logical_id=event["LogicalResourceId"],
        package_type="TXT-DICTIONARY",
        engine_version="",
        vending_enabled=False,
    )


def _expect_create(stub: Stubber, name: str, answer: dict[str, Any]) -> None:
    stub.add_response(
        "create_package",
        {"PackageDetails": answer},
        {
            "PackageName": name,
            "PackageType": "TXT-DICTIONARY",
            "PackageDescription": DESCRIPTION,
            "PackageSource": SOURCE,
        },
    )


def _expect_create_error(stub: Stubber, name: str, code: str, message: str, status: int) -> None:
    stub.add_client_error(
        "create_package",
        service_error_code=code,
        service_message=message,
        http_status_code=status,
        expected_params={
            "PackageName": name,
            "PackageType": "TXT-DICTIONARY",
            "PackageDescription": DESCRIPTION,
            "PackageSource": SOURCE,
        },
    )


def _expect_find_by_name(stub: Stubber, name: str, answer: dict[str, Any] | None) -> None:
    stub.add_response(
        "describe_packages",
        {"PackageDetailsList": [] if answer is None else [answer]},
        {"Filters": [{"Name": "PackageName", "Value": [name]}]},
    )


def test_creates_with_generated_name_and_waits_until_available(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_create")
    name = _generated_name(event)
    assert re.fullmatch(r"synonymspackage1a2b-[0-9a-f]{8}", name)
    _expect_create(stub, name, package("F111", "COPYING", name=name))
    expect_describe(
        stub,
        "F111",
        package("F111", "COPYING", name=name),
        package("F111", "VALIDATING", name=name),
        package("F111", "AVAILABLE", name=name, version="v1"),
    )
    job = make_job(event, opensearch, clock)

    outcome = PackageLifecycle().create(job)

    assert outcome == Done(
        "F111",
        {
            "PackageID": "F111",
            "PackageName": name,
            "PackageType": "TXT-DICTIONARY",
            "PackageVersion": "v1",
        },
    )
    assert clock.sleeps == [0.5, 0.5]
    assert job.state["physical_id"] == "F111"


def test_creates_plugin_with_converted_booleans(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_create_plugin")
    stub.add_response(
        "create_package",
        {"PackageDetails": package("F222", "COPYING", name="analysis-plugin")},
        {
            "PackageName": "analysis-plugin",
            "PackageType": "ZIP-PLUGIN",
            "PackageDescription": "Custom analysis plugin",
            "PackageSource": {
                "S3BucketName": "plugins-123456789012",
                "S3Key": "analysis-plugin-2.17.0.zip",
            },
            "EngineVersion": "OpenSearch_2.17",
            "PackageConfiguration": {
                "LicenseRequirement": "NONE",
                "ConfigurationRequirement": "OPTIONAL",
                "RequiresRestartForConfigurationUpdate": True,
            },
            "PackageVendingOptions": {"VendingEnabled": False},
            "PackageEncryptionOptions": {
                "KmsKeyIdentifier": (
                    "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                ),
                "EncryptionEnabled": True,
            },
        },
    )
    available = package(
        "F222", "AVAILABLE", name="analysis-plugin", package_type="ZIP-PLUGIN", version="v1"
    )
    expect_describe(stub, "F222", available)

    outcome = PackageLifecycle().create(make_job(event, opensearch, clock))

    assert isinstance(outcome, Done)
    assert outcome.physical_id == "F222"
    assert outcome.data["PackageType"] == "ZIP-PLUGIN"


def test_redelivered_request_with_generated_name_adopts_the_package(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_create")
    name = _generated_name(event)
    _expect_create_error(
        stub, name, "ResourceAlreadyExistsException", "Package name already exists", 409
    )
    _expect_find_by_name(stub, name, package("F111", "VALIDATING", name=name, created=1.0))
    expect_describe(stub, "F111", package("F111", "AVAILABLE", name=name, version="v1"))

    outcome = PackageLifecycle().create(make_job(event, opensearch, clock))

    assert isinstance(outcome, Done)
    assert outcome.physical_id == "F111"


def test_redelivered_request_with_explicit_name_adopts_same_type_and_description(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_create")
    event["ResourceProperties"]["PackageName"] = "synonyms"
    _expect_create_error(stub, "synonyms", "ResourceAlreadyExistsException", "exists", 409)
    existing = package("F111", "COPYING", description=DESCRIPTION, created=START - 120)
    _expect_find_by_name(stub, "synonyms", existing)
    expect_describe(stub, "F111", package("F111", "AVAILABLE", version="v1"))

    outcome = PackageLifecycle().create(make_job(event, opensearch, clock))

    assert isinstance(outcome, Done)
    assert outcome.physical_id == "F111"


@pytest.mark.parametrize(
    ("existing_description", "created"),
    [("Another team's synonyms", START - 120), (DESCRIPTION, START - 30 * 86400)],
    ids=["other-description", "created-long-ago"],
)
def test_fails_when_explicit_name_is_used_by_another_package(
    opensearch: OpenSearchServiceClient,
    stub: Stubber,
    clock: FakeClock,
    existing_description: str,
    created: float,
) -> None:
    event = load_event("package_create")
    event["ResourceProperties"]["PackageName"] = "synonyms"
    _expect_create_error(stub, "synonyms", "ResourceAlreadyExistsException", "exists", 409)
    existing = package("F999", "AVAILABLE", description=existing_description, created=created)
    _expect_find_by_name(stub, "synonyms", existing)
    job = make_job(event, opensearch, clock)

    with pytest.raises(ResourceFailure) as failure:
        PackageLifecycle().create(job)

    assert str(failure.value) == (
        "PackageName 'synonyms' is already used by package F999 in this account and Region: "
        "choose another package_name, or omit it to get a generated one"
    )
    assert "physical_id" not in job.state  # never report (and later delete) someone else's


def test_fails_when_name_exists_but_is_not_visible(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_create")
    event["ResourceProperties"]["PackageName"] = "synonyms"
    _expect_create_error(stub, "synonyms", "ResourceAlreadyExistsException", "exists", 409)
    _expect_find_by_name(stub, "synonyms", None)

    with pytest.raises(ResourceFailure, match="already used in this account and Region"):
        PackageLifecycle().create(make_job(event, opensearch, clock))


@pytest.mark.parametrize("status", ["VALIDATION_FAILED", "COPY_FAILED"])
def test_failed_package_is_deleted_and_the_service_message_comes_first(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock, status: str
) -> None:
    event = load_event("package_create")
    name = _generated_name(event)
    _expect_create(stub, name, package("F111", "COPYING", name=name))
    message = "Synonym file has an invalid rule at line 3"
    expect_describe(stub, "F111", package("F111", status, name=name, error=message))
    stub.add_response("delete_package", {}, {"PackageID": "F111"})
    job = make_job(event, opensearch, clock)

    with pytest.raises(ResourceFailure) as failure:
        PackageLifecycle().create(job)

    assert str(failure.value) == f"{message} (package F111, status {status})"
    assert job.state["physical_id"] == "F111"  # the Delete that follows makes sure it is gone


def test_a_plugin_validation_failure_reads_as_the_service_reports_it(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    """Plugin validation failures have an empty ErrorType and a PluginValidationFailureReason
    message (AWS's custom-plugin guide); the FAILED reason shows that text."""
    event = load_event("package_create")
    name = _generated_name(event)
    _expect_create(stub, name, package("F111", "COPYING", name=name))
    failed = package("F111", "VALIDATION_FAILED", name=name)
    text = "PluginValidationFailureReason : The provided plugin could not be loaded"
    failed["ErrorDetails"] = {"ErrorType": "", "ErrorMessage": text}
    expect_describe(stub, "F111", failed)
    stub.add_response("delete_package", {}, {"PackageID": "F111"})

    with pytest.raises(ResourceFailure) as failure:
        PackageLifecycle().create(make_job(event, opensearch, clock))

    assert str(failure.value) == f"{text} (package F111, status VALIDATION_FAILED)"


def test_failed_package_whose_deletion_fails_still_fails_with_the_service_message(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_create")
    name = _generated_name(event)
    _expect_create(stub, name, package("F111", "COPYING", name=name))
    expect_describe(stub, "F111", package("F111", "COPY_FAILED", name=name))
    stub.add_client_error("delete_package", "AccessDeniedException", "denied", 403)

    with pytest.raises(ResourceFailure) as failure:
        PackageLifecycle().create(make_job(event, opensearch, clock))

    assert str(failure.value) == (
        "the package ended in status COPY_FAILED (package F111, status COPY_FAILED)"
    )


def test_times_out_at_the_service_timeout_and_deletes_the_package(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_create")
    # A polling invocation of a Create that started 3550 s ago: the deadline (start + 3600 s
    # - 30 s) is 20 s away and the probes are 5 s apart by now.
    state = {
        "v": 1,
        "started": START - 3550,
        "op": "create",
        "phase": "available",
        "package_id": "F111",
        "physical_id": "F111",
    }
    expect_describe(stub, "F111", *[package("F111", "VALIDATING")] * 5)
    stub.add_response("delete_package", {}, {"PackageID": "F111"})

    with pytest.raises(WaitTimeout) as failure:
        PackageLifecycle().resume(make_job(event, opensearch, clock, state=state))

    assert str(failure.value) == (
        "timed out after 3570 s waiting for package F111 to become AVAILABLE (status VALIDATING); "
        "the resource's ServiceTimeout is 3600 s"
    )
    assert clock.sleeps == [5.0] * 4


def test_a_short_service_timeout_keeps_half_of_it_as_margin(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_create")
    event["ResourceProperties"]["ServiceTimeout"] = "10"  # deadline: start + 5 s
    name = _generated_name(event)
    _expect_create(stub, name, package("F111", "COPYING", name=name))
    expect_describe(stub, "F111", *[package("F111", "VALIDATING", name=name)] * 11)
    stub.add_response("delete_package", {}, {"PackageID": "F111"})

    with pytest.raises(WaitTimeout, match=r"^timed out after 5 s waiting for package F111"):
        PackageLifecycle().create(make_job(event, opensearch, clock))

    assert clock.sleeps == [0.5] * 10


def test_hands_over_when_the_invocation_runs_short_and_resumes_later(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_create")
    name = _generated_name(event)
    _expect_create(stub, name, package("F111", "COPYING", name=name))
    # 22 s left: 2 s of waiting in process (20 s are kept in reserve).
    expect_describe(stub, "F111", *[package("F111", "COPYING", name=name)] * 5)

    first = PackageLifecycle().create(make_job(event, opensearch, clock, remaining=22.0))

    assert isinstance(first, Pending)
    assert first.state == {
        "v": 1,
        "started": START,
        "op": "create",
        "phase": "available",
        "package_id": "F111",
        "physical_id": "F111",
    }
    assert clock.now() == pytest.approx(START + 2.0)

    clock.sleep(60)  # the polling rule fires a minute later
    expect_describe(stub, "F111", package("F111", "AVAILABLE", name=name, version="v1"))
    resumed = make_job(event, opensearch, clock, state=first.state)
    second = PackageLifecycle().resume(resumed)

    assert isinstance(second, Done)
    assert second.physical_id == "F111"
    assert resumed.waiter.budget.started == START  # the deadline counts from the first invocation


def test_throttling_and_server_errors_never_fail_the_wait(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_create")
    name = _generated_name(event)
    _expect_create_error(stub, name, "ThrottlingException", "Rate exceeded", 400)
    _expect_create_error(stub, name, "InternalException", "Internal error", 500)
    # The second attempt's request may have created it: the next one finds it (generated name).
    _expect_create_error(stub, name, "ResourceAlreadyExistsException", "exists", 409)
    _expect_find_by_name(stub, name, package("F111", "COPYING", name=name))
    expect_describe_error(stub, "F111", "TooManyRequestsException", "slow down", 429)
    expect_describe_error(stub, "F111", "ServiceUnavailable", "unavailable", 503)
    expect_describe(stub, "F111", package("F111", "AVAILABLE", name=name, version="v1"))

    outcome = PackageLifecycle().create(make_job(event, opensearch, clock))

    assert isinstance(outcome, Done)
    assert outcome.physical_id == "F111"


def test_a_validation_error_of_create_package_fails_at_once(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_create")
    name = _generated_name(event)
    _expect_create_error(stub, name, "ValidationException", "S3 object not found", 400)
    # No package of the name exists: the refusal is not about the name, it fails as it is.
    stub.add_response(
        "describe_packages",
        {"PackageDetailsList": []},
        {"Filters": [{"Name": "PackageName", "Value": [name]}]},
    )

    with pytest.raises(ClientError, match="S3 object not found"):
        PackageLifecycle().create(make_job(event, opensearch, clock))
    stub.assert_no_pending_responses()


def test_a_package_missing_right_after_create_is_awaited_briefly(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_create")
    name = _generated_name(event)
    _expect_create(stub, name, package("F111", "COPYING", name=name))
    expect_describe(stub, "F111", None, None, package("F111", "AVAILABLE", name=name, version="v1"))

    outcome = PackageLifecycle().create(make_job(event, opensearch, clock))

    assert isinstance(outcome, Done)


def test_fails_when_the_package_stays_missing(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_create")
    state = {"v": 1, "started": START - 600, "op": "create", "phase": "available"}
    state["package_id"] = "F111"
    # 5 s apart: missing at 0, 5, ..., 30 s; 30 s missing means deleted.
    expect_describe(stub, "F111", *[None] * 7)  # nothing left to delete

    with pytest.raises(ResourceFailure, match="package F111 does not exist any more"):
        PackageLifecycle().resume(make_job(event, opensearch, clock, state=state))


def test_fails_when_the_package_is_deleted_while_waiting(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_create")
    name = _generated_name(event)
    _expect_create(stub, name, package("F111", "COPYING", name=name))
    expect_describe(stub, "F111", package("F111", "DELETING", name=name))

    with pytest.raises(ResourceFailure, match="package F111 is DELETING"):
        PackageLifecycle().create(make_job(event, opensearch, clock))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"PackageVendingOptions": {"VendingEnabled": "yes"}},
            "property PackageVendingOptions.VendingEnabled must be 'true' or 'false', got 'yes'",
        ),
        ({"PackageNmae": "x"}, "Custom::OpenSearchPackage has no property 'PackageNmae'"),
        ({"PackageType": None}, "requires the properties ['PackageType']"),
        ({"PackageName": "Synonyms_1"}, "PackageName 'Synonyms_1' is invalid"),
        ({"PackageName": "a" * 257}, "256"),
        ({"PackageSource": {"S3Bucket": "b"}}, "property PackageSource has unknown keys"),
    ],
)
def test_fails_on_bad_properties_before_calling_the_service(
    opensearch: OpenSearchServiceClient,
    stub: Stubber,
    clock: FakeClock,
    change: dict[str, Any],
    message: str,
) -> None:
    event = load_event("package_create")
    for key, value in change.items():
        if value is None:
            del event["ResourceProperties"][key]
        else:
            event["ResourceProperties"][key] = value

    with pytest.raises(PropertyError, match=re.escape(message)):
        PackageLifecycle().create(make_job(event, opensearch, clock))


def test_a_taken_plugin_name_is_looked_up_for_its_engine_version_only(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    """ZIP-PLUGIN names are unique per engine version: the package of the same name for
    another version is not this request's and is never adopted."""
    event = load_event("package_create_plugin")
    stub.add_client_error("create_package", "ResourceAlreadyExistsException", "exists", 409)
    mine = package(
        "F111", "VALIDATING", name="analysis-plugin", package_type="ZIP-PLUGIN", created=START
    )
    mine["EngineVersion"] = "OpenSearch_2.17"
    mine["PackageDescription"] = "Custom analysis plugin"
    stub.add_response(
        "describe_packages",
        {"PackageDetailsList": [mine]},
        {
            "Filters": [
                {"Name": "PackageName", "Value": ["analysis-plugin"]},
                {"Name": "EngineVersion", "Value": ["OpenSearch_2.17"]},
            ]
        },
    )
    expect_describe(stub, "F111", {**mine, "PackageStatus": "AVAILABLE"})

    outcome = PackageLifecycle().create(make_job(event, opensearch, clock))

    assert isinstance(outcome, Done)
    assert outcome.physical_id == "F111"
    stub.assert_no_pending_responses()
