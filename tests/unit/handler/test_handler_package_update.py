"""Custom::OpenSearchPackage Update: in place, redelivered, unchanged, replaced, refused."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from osp_handler.cfn_response import MAX_REASON_CHARS
from osp_handler.names import generated_package_name
from osp_handler.opensearch_api import response_reason
from osp_handler.outcome import Done, ResourceFailure
from osp_handler.package import PackageLifecycle, update_commit_message

from .handler_fakes import (
    FakeClock,
    expect_describe,
    expect_history,
    load_event,
    make_job,
    package,
)

if TYPE_CHECKING:
    from types_boto3_opensearch.client import OpenSearchServiceClient

NEW_SOURCE = {
    "S3BucketName": "cdk-hnb659fds-assets-123456789012-eu-west-1",
    "S3Key": "9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b.txt",
}
DESCRIPTION = "Synonyms for product search"


def _expect_update(stub: Stubber, params: dict[str, Any], event: dict[str, Any]) -> None:
    """History (no version made by this request yet), then UpdatePackage tagged with it."""
    expect_history(stub, params["PackageID"], {"PackageVersion": "v1", "CommitMessage": "x"})
    tagged = {**params, "CommitMessage": update_commit_message(event["RequestId"])}
    stub.add_response(
        "update_package", {"PackageDetails": package("F111111111", "COPYING")}, tagged
    )


def test_new_source_updates_in_place_and_waits_for_a_new_version(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_update")
    pid = "F111111111"
    expect_describe(stub, pid, package(pid, "AVAILABLE", version="v1"))
    _expect_update(
        stub,
        {"PackageID": pid, "PackageSource": NEW_SOURCE, "PackageDescription": DESCRIPTION},
        event,
    )
    expect_describe(
        stub,
        pid,
        package(pid, "AVAILABLE", version="v1"),  # not started yet
        package(pid, "COPYING", version="v1"),
        package(pid, "VALIDATING", version="v1"),
        package(pid, "AVAILABLE", version="v2"),
    )

    outcome = PackageLifecycle().update(make_job(event, opensearch, clock))

    assert outcome == Done(
        pid,
        {
            "PackageID": pid,
            "PackageName": "synonyms",
            "PackageType": "TXT-DICTIONARY",
            "PackageVersion": "v2",
        },
    )


def _expect_update_conflict(stub: Stubber, event: dict[str, Any], message: str) -> None:
    """The package is idle (v1); UpdatePackage answers ConflictException with ``message``."""
    pid = "F111111111"
    expect_describe(stub, pid, package(pid, "AVAILABLE", version="v1"))
    expect_history(stub, pid)
    stub.add_client_error(
        "update_package",
        service_error_code="ConflictException",
        service_message=message,
        http_status_code=409,
        expected_params={
            "PackageID": pid,
            "PackageSource": NEW_SOURCE,
            "PackageDescription": DESCRIPTION,
            "CommitMessage": update_commit_message(event["RequestId"]),
        },
    )


def test_a_retried_update_that_finds_its_first_try_accepted_waits_for_it(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    """The first try's answer was lost; the retry meets the package busy with that update."""
    event = load_event("package_update")
    pid = "F111111111"
    _expect_update_conflict(stub, event, "Package is being updated")
    expect_describe(stub, pid, package(pid, "COPYING", version="v1"))  # busy with our update
    expect_describe(stub, pid, package(pid, "AVAILABLE", version="v2"))

    outcome = PackageLifecycle().update(make_job(event, opensearch, clock))

    assert isinstance(outcome, Done)
    assert outcome.data["PackageVersion"] == "v2"
    stub.assert_no_pending_responses()


def test_whatever_code_the_retry_meets_the_package_status_decides(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    """The code a retry of an accepted UpdatePackage meets is not documented: a busy package
    means the first try went through, whatever the code says."""
    event = load_event("package_update")
    pid = "F111111111"
    expect_describe(stub, pid, package(pid, "AVAILABLE", version="v1"))
    expect_history(stub, pid)
    stub.add_client_error(
        "update_package",
        service_error_code="ValidationException",
        service_message="Package is in COPYING state",
        http_status_code=400,
    )
    expect_describe(stub, pid, package(pid, "COPYING", version="v1"))
    expect_describe(stub, pid, package(pid, "AVAILABLE", version="v2"))

    outcome = PackageLifecycle().update(make_job(event, opensearch, clock))

    assert isinstance(outcome, Done)
    assert outcome.data["PackageVersion"] == "v2"
    stub.assert_no_pending_responses()


def test_an_update_delivered_again_after_its_version_is_available_changes_nothing(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    """The CommitMessage names the request: a redelivery finds its version and does not update."""
    event = load_event("package_update")
    pid = "F111111111"
    mine = {"PackageVersion": "v2", "CommitMessage": update_commit_message(event["RequestId"])}
    expect_describe(stub, pid, package(pid, "AVAILABLE", version="v2"))
    expect_history(stub, pid, {"PackageVersion": "v1", "CommitMessage": "first"}, mine)
    expect_describe(stub, pid, package(pid, "AVAILABLE", version="v2"))

    outcome = PackageLifecycle().update(make_job(event, opensearch, clock))

    assert isinstance(outcome, Done)
    assert outcome.data["PackageVersion"] == "v2"
    stub.assert_no_pending_responses()  # and no UpdatePackage


def test_an_update_refused_while_the_package_is_idle_fails(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_update")
    pid = "F111111111"
    _expect_update_conflict(stub, event, "The package cannot be updated now")
    expect_describe(stub, pid, package(pid, "AVAILABLE", version="v1"))  # not busy: a real refusal

    with pytest.raises(ClientError, match="The package cannot be updated now"):
        PackageLifecycle().update(make_job(event, opensearch, clock))
    stub.assert_no_pending_responses()


def test_source_version_alone_updates_in_place(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_update")
    event["ResourceProperties"]["PackageSource"] = event["OldResourceProperties"]["PackageSource"]
    old_source = event["OldResourceProperties"]["PackageSource"]
    pid = "F111111111"
    expect_describe(stub, pid, package(pid, "AVAILABLE", version="v3"))
    _expect_update(
        stub,
        {"PackageID": pid, "PackageSource": old_source, "PackageDescription": DESCRIPTION},
        event,
    )
    expect_describe(stub, pid, package(pid, "AVAILABLE", version="v4"))

    outcome = PackageLifecycle().update(make_job(event, opensearch, clock))

    assert isinstance(outcome, Done)
    assert outcome.data["PackageVersion"] == "v4"


def test_configuration_and_encryption_are_passed_to_update_package(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_update_replace")
    event["ResourceProperties"] = dict(event["OldResourceProperties"])
    event["ResourceProperties"]["PackageConfiguration"] = {
        "LicenseRequirement": "NONE",
        "ConfigurationRequirement": "REQUIRED",
        "RequiresRestartForConfigurationUpdate": "false",
    }
    pid = "F222222222"
    expect_describe(stub, pid, package(pid, "AVAILABLE", version="v1"))
    props = event["ResourceProperties"]
    _expect_update(
        stub,
        {
            "PackageID": pid,
            "PackageSource": props["PackageSource"],
            "PackageDescription": props["PackageDescription"],
            "PackageConfiguration": {
                "LicenseRequirement": "NONE",
                "ConfigurationRequirement": "REQUIRED",
                "RequiresRestartForConfigurationUpdate": False,
            },
            "PackageEncryptionOptions": {
                "KmsKeyIdentifier": props["PackageEncryptionOptions"]["KmsKeyIdentifier"],
                "EncryptionEnabled": True,
            },
        },
        event,
    )
    expect_describe(stub, pid, package(pid, "AVAILABLE", version="v2"))

    outcome = PackageLifecycle().update(make_job(event, opensearch, clock))

    assert isinstance(outcome, Done)
    assert outcome.physical_id == pid


def test_redelivered_update_of_a_package_in_progress_just_waits(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_update")
    pid = "F111111111"
    expect_describe(
        stub,
        pid,
        package(pid, "VALIDATING", version="v1"),  # the first delivery's UpdatePackage
        package(pid, "VALIDATING", version="v1"),
        package(pid, "AVAILABLE", version="v2"),
    )

    outcome = PackageLifecycle().update(make_job(event, opensearch, clock))

    assert isinstance(outcome, Done)
    assert outcome.data["PackageVersion"] == "v2"


def test_failed_update_fails_with_the_service_message_and_keeps_the_package(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_update")
    pid = "F111111111"
    expect_describe(stub, pid, package(pid, "AVAILABLE", version="v1"))
    _expect_update(
        stub,
        {"PackageID": pid, "PackageSource": NEW_SOURCE, "PackageDescription": DESCRIPTION},
        event,
    )
    expect_describe(
        stub, pid, package(pid, "VALIDATION_FAILED", version="v1", error="File is not UTF-8")
    )

    with pytest.raises(ResourceFailure) as failure:  # no DeletePackage queued: none is made
        PackageLifecycle().update(make_job(event, opensearch, clock))

    assert str(failure.value) == "File is not UTF-8 (package F111111111, status VALIDATION_FAILED)"


def test_unchanged_properties_answer_the_current_details(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_update")
    event["ResourceProperties"] = dict(event["OldResourceProperties"])
    event["ResourceProperties"]["ServiceTimeout"] = "1800"  # a control property only
    pid = "F111111111"
    expect_describe(stub, pid, package(pid, "AVAILABLE", version="v7"))

    outcome = PackageLifecycle().update(make_job(event, opensearch, clock))

    assert isinstance(outcome, Done)
    assert outcome.data["PackageVersion"] == "v7"


def test_update_of_a_package_deleted_outside_the_stack_fails(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_update")
    expect_describe(stub, "F111111111", None)

    with pytest.raises(ResourceFailure, match="package F111111111 does not exist any more"):
        PackageLifecycle().update(make_job(event, opensearch, clock))


def test_engine_version_and_name_change_replace_the_package(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_update_replace")
    props = event["ResourceProperties"]
    stub.add_response(
        "create_package",
        {"PackageDetails": package("F444", "COPYING", name="analysis-plugin-2-19")},
        {
            "PackageName": "analysis-plugin-2-19",
            "PackageType": "ZIP-PLUGIN",
            "PackageDescription": props["PackageDescription"],
            "PackageSource": props["PackageSource"],
            "EngineVersion": "OpenSearch_2.19",
            "PackageConfiguration": {
                "LicenseRequirement": "NONE",
                "ConfigurationRequirement": "OPTIONAL",
                "RequiresRestartForConfigurationUpdate": True,
            },
            "PackageVendingOptions": {"VendingEnabled": False},
            "PackageEncryptionOptions": {
                "KmsKeyIdentifier": props["PackageEncryptionOptions"]["KmsKeyIdentifier"],
                "EncryptionEnabled": True,
            },
        },
    )
    expect_describe(
        stub,
        "F444",
        package("F444", "AVAILABLE", name="analysis-plugin-2-19", version="v1"),
    )
    job = make_job(event, opensearch, clock)

    outcome = PackageLifecycle().update(job)

    assert isinstance(outcome, Done)
    assert outcome.physical_id == "F444"  # new id: CloudFormation deletes F222222222 later
    assert job.state["replaces"] == "F222222222"


def test_a_plugin_for_a_new_engine_version_keeps_its_name(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    """Plugin names are unique per engine version (AWS's upgrade guide: create a package with
    the same name for the new version), so the replacement is created under the same name."""
    event = load_event("package_update_replace")
    event["ResourceProperties"]["PackageName"] = "analysis-plugin"
    stub.add_response(
        "create_package",
        {"PackageDetails": package("F444", "COPYING", name="analysis-plugin")},
    )
    expect_describe(
        stub, "F444", package("F444", "AVAILABLE", name="analysis-plugin", version="v1")
    )
    job = make_job(event, opensearch, clock)

    outcome = PackageLifecycle().update(job)

    assert isinstance(outcome, Done)
    assert outcome.physical_id == "F444"
    assert job.state["replaces"] == "F222222222"
    stub.assert_no_pending_responses()


def test_replacement_with_an_unchanged_explicit_name_fails_before_creating_anything(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_update_replace")
    event["ResourceProperties"]["PackageName"] = "analysis-plugin"
    event["ResourceProperties"]["EngineVersion"] = "OpenSearch_2.17"
    event["ResourceProperties"]["PackageVendingOptions"] = {"VendingEnabled": "true"}
    existing = package("F222222222", "AVAILABLE", name="analysis-plugin", package_type="ZIP-PLUGIN")
    existing["EngineVersion"] = "OpenSearch_2.17"
    expect_describe(stub, "F222222222", existing)

    with pytest.raises(ResourceFailure) as failure:
        PackageLifecycle().update(make_job(event, opensearch, clock))
    stub.assert_no_pending_responses()

    assert str(failure.value) == (
        "PackageVendingOptions.VendingEnabled False -> True replaces package F222222222, but "
        "PackageName 'analysis-plugin' did not change and package names are unique per account "
        "and Region (the new package is created before the old one is deleted): change "
        "package_name, or omit it to get a generated one"
    )
    # CloudFormation shows 256 characters: the reason sent starts with the fix.
    reason = response_reason(failure.value)
    assert len(str(failure.value)) > MAX_REASON_CHARS >= len(reason)
    assert reason.startswith(
        "Change package_name, or omit it to get a generated one. Why: "
        "PackageVendingOptions.VendingEnabled False -> True replaces package F222222222"
    )


def test_rollback_of_a_refused_replacement_replaces_nothing(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    """CloudFormation rolls a refused update back with an Update to the old properties."""
    refused = load_event("package_update_replace")
    refused["ResourceProperties"]["PackageName"] = "analysis-plugin"
    refused["ResourceProperties"]["EngineVersion"] = "OpenSearch_2.17"
    refused["ResourceProperties"]["PackageVendingOptions"] = {"VendingEnabled": "true"}
    rollback = dict(refused)
    rollback["ResourceProperties"] = refused["OldResourceProperties"]
    rollback["OldResourceProperties"] = refused["ResourceProperties"]
    existing = package(
        "F222222222", "AVAILABLE", name="analysis-plugin", package_type="ZIP-PLUGIN", version="v1"
    )
    existing["EngineVersion"] = "OpenSearch_2.17"
    existing["PackageVendingOptions"] = {"VendingEnabled": False}
    expect_describe(stub, "F222222222", existing)  # one look: it is as the rollback asks

    outcome = PackageLifecycle().update(make_job(rollback, opensearch, clock))

    assert isinstance(outcome, Done)
    assert outcome.physical_id == "F222222222"
    stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    "change",
    [
        {"PackageType": "PACKAGE-CONFIG"},
        {"PackageVendingOptions": {"VendingEnabled": "true"}},
        {"EngineVersion": "OpenSearch_2.19"},
    ],
)
def test_replacement_with_a_generated_name_gets_a_new_name(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock, change: dict[str, Any]
) -> None:
    event = load_event("package_update")
    event["ResourceProperties"].update(change)
    props = event["ResourceProperties"]
    vending = props.get("PackageVendingOptions", {}).get("VendingEnabled") == "true"
    name = generated_package_name(
        stack_id=event["StackId"],
        logical_id=event["LogicalResourceId"],
        package_type=props["PackageType"],
        engine_version=props.get("EngineVersion", ""),
        vending_enabled=vending,
    )
    old_name = generated_package_name(
        stack_id=event["StackId"],
        logical_id=event["LogicalResourceId"],
        package_type="TXT-DICTIONARY",
        engine_version="",
        vending_enabled=False,
    )
    assert name != old_name
    expected: dict[str, Any] = {
        "PackageName": name,
        "PackageType": props["PackageType"],
        "PackageDescription": DESCRIPTION,
        "PackageSource": NEW_SOURCE,
    }
    if "EngineVersion" in change:
        expected["EngineVersion"] = "OpenSearch_2.19"
    if "PackageVendingOptions" in change:
        expected["PackageVendingOptions"] = {"VendingEnabled": True}
    stub.add_response(
        "create_package", {"PackageDetails": package("F555", "COPYING", name=name)}, expected
    )
    expect_describe(stub, "F555", package("F555", "AVAILABLE", name=name, version="v1"))

    outcome = PackageLifecycle().update(make_job(event, opensearch, clock))

    assert isinstance(outcome, Done)
    assert outcome.physical_id == "F555"
    assert re.fullmatch(r"[a-z][a-z0-9-]+", outcome.data["PackageName"])


def test_a_physical_id_that_is_not_a_package_id_means_create(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_update")
    event["PhysicalResourceId"] = "osp-failed-SynonymsPackage1A2B3C4D-0123456789ab"
    name = generated_package_name(
        stack_id=event["StackId"],
        logical_id=event["LogicalResourceId"],
        package_type="TXT-DICTIONARY",
        engine_version="",
        vending_enabled=False,
    )
    stub.add_response(
        "create_package",
        {"PackageDetails": package("F666", "COPYING", name=name)},
        {
            "PackageName": name,
            "PackageType": "TXT-DICTIONARY",
            "PackageDescription": DESCRIPTION,
            "PackageSource": NEW_SOURCE,
        },
    )
    expect_describe(stub, "F666", package("F666", "AVAILABLE", name=name, version="v1"))

    outcome = PackageLifecycle().update(make_job(event, opensearch, clock))

    assert isinstance(outcome, Done)
    assert outcome.physical_id == "F666"


def test_old_properties_that_do_not_convert_never_block_the_update(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    # e.g. the rollback of an update that failed on a bad value
    event = load_event("package_update")
    event["ResourceProperties"] = dict(event["OldResourceProperties"])
    event["OldResourceProperties"]["PackageVendingOptions"] = {"VendingEnabled": "maybe"}
    event["OldResourceProperties"]["Unknown"] = "x"
    pid = "F111111111"
    expect_describe(stub, pid, package(pid, "AVAILABLE", version="v1"))

    outcome = PackageLifecycle().update(make_job(event, opensearch, clock))

    assert isinstance(outcome, Done)
    assert outcome.physical_id == pid


@pytest.mark.parametrize("status", ["DELETING", "DELETE_FAILED"])
def test_update_of_a_package_being_deleted_fails(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock, status: str
) -> None:
    event = load_event("package_update")
    expect_describe(stub, "F111111111", package("F111111111", status))

    with pytest.raises(ResourceFailure, match=f"package F111111111 is {status}"):
        PackageLifecycle().update(make_job(event, opensearch, clock))


def test_a_package_deleted_while_its_new_version_is_awaited_fails(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("package_update")
    pid = "F111111111"
    expect_describe(stub, pid, package(pid, "AVAILABLE", version="v1"))
    _expect_update(
        stub,
        {"PackageID": pid, "PackageSource": NEW_SOURCE, "PackageDescription": DESCRIPTION},
        event,
    )
    expect_describe(stub, pid, package(pid, "COPYING", version="v1"), package(pid, "DELETING"))

    with pytest.raises(ResourceFailure, match="package F111111111 is DELETING"):
        PackageLifecycle().update(make_job(event, opensearch, clock))
