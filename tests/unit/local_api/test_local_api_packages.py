"""Packages over real HTTP with boto3: create, describe, update, delete, versions, failures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from local_api_helpers import (
    BUCKET,
    DESCRIPTOR,
    PHASE,
    create_available,
    describe,
    error_code,
    plugin_zip,
    unique_name,
)

from cdk_opensearch_packages.local.opensearch.api import LocalOpenSearchService, ManualClock

Put = Callable[..., dict[str, str]]


def statuses(service: LocalOpenSearchService, package_id: str) -> list[str | None]:
    return [
        t.to_status
        for t in service.transitions()
        if t.package_id == package_id and not t.domain_name
    ]


def test_create_package_moves_copying_validating_available(
    client: Any, clock: ManualClock, put: Put, service: LocalOpenSearchService
) -> None:
    name = unique_name("synonyms")
    details = client.create_package(
        PackageName=name,
        PackageType="TXT-DICTIONARY",
        PackageDescription="Synonyms",
        PackageSource=put(b"laptop, notebook\n"),
    )["PackageDetails"]
    package_id = details["PackageID"]
    assert package_id.startswith("F") and package_id[1:].isdigit()
    assert details["PackageStatus"] == "COPYING"
    assert details["PackageName"] == name
    assert details["PackageDescription"] == "Synonyms"
    assert "AvailablePackageVersion" not in details
    assert details["CreatedAt"] == details["LastUpdatedAt"]
    assert "ReferencePath" not in details

    clock.advance(PHASE * 0.99)
    assert describe(client, package_id)["PackageStatus"] == "COPYING"
    clock.advance(PHASE * 0.02)
    assert describe(client, package_id)["PackageStatus"] == "VALIDATING"
    clock.advance(PHASE)
    available = describe(client, package_id)
    assert available["PackageStatus"] == "AVAILABLE"
    assert available["AvailablePackageVersion"] == "v1"
    assert available["PackageOwner"] == "123456789012"
    assert (available["LastUpdatedAt"] - available["CreatedAt"]).total_seconds() == 2 * PHASE
    assert statuses(service, package_id) == ["COPYING", "VALIDATING", "AVAILABLE"]
    moments = [t.t for t in service.transitions() if t.package_id == package_id]
    assert moments == [0.0, PHASE, 2 * PHASE]


def test_package_ids_follow_the_seed(s3_endpoint: str, put: Put) -> None:
    ids = []
    for _ in range(2):
        with LocalOpenSearchService(s3_endpoint, seed=3, clock=ManualClock()) as service:
            created = service.client().create_package(
                PackageName="same-name", PackageType="TXT-DICTIONARY", PackageSource=put(b"a")
            )
            ids.append(created["PackageDetails"]["PackageID"])
    assert ids[0] == ids[1]


@pytest.mark.parametrize(
    ("source", "error_type"),
    [
        ({"S3BucketName": "no-such-bucket", "S3Key": "x.txt"}, "S3BucketNotFound"),
        ({"S3BucketName": BUCKET, "S3Key": "missing/x.txt"}, "S3ObjectNotFound"),
    ],
)
def test_missing_source_ends_in_copy_failed(
    client: Any, clock: ManualClock, source: dict[str, str], error_type: str
) -> None:
    package_id = client.create_package(
        PackageName=unique_name(), PackageType="TXT-DICTIONARY", PackageSource=source
    )["PackageDetails"]["PackageID"]
    assert describe(client, package_id)["PackageStatus"] == "COPYING"
    clock.advance(PHASE)
    failed = describe(client, package_id)
    assert failed["PackageStatus"] == "COPY_FAILED"
    assert failed["ErrorDetails"]["ErrorType"] == error_type
    assert source["S3BucketName"] in failed["ErrorDetails"]["ErrorMessage"]
    assert "AvailablePackageVersion" not in failed


@pytest.mark.parametrize(
    "case",
    [
        ("TXT-DICTIONARY", b"", "InvalidDictionary", "empty"),
        ("TXT-DICTIONARY", b"\xef\xbb\xbfa, b\n", "InvalidDictionary", "byte order mark"),
        ("ZIP-PLUGIN", b"not a zip", "", "PluginValidationFailureReason : "),
        ("ZIP-PLUGIN", plugin_zip(""), "", "plugin-descriptor.properties"),
        (
            "ZIP-PLUGIN",
            plugin_zip("version=1\n"),
            "",
            "lacks the required property 'name'",
        ),
        (
            "ZIP-PLUGIN",
            plugin_zip(DESCRIPTOR.replace("2.19.0", "2.17.1")),
            "",
            "the package's engine version is OpenSearch_2.19",
        ),
        (
            "ZIP-PLUGIN",
            plugin_zip(folder="analysis-demo/"),
            "",
            "not at the root of the zip",
        ),
        ("PACKAGE-LICENSE", b"", "EmptyFile", "empty"),
        ("PACKAGE-CONFIG", b"", "EmptyFile", "empty"),
    ],
)
def test_rejected_content_ends_in_validation_failed(
    client: Any, clock: ManualClock, put: Put, case: tuple[str, bytes, str, str]
) -> None:
    package_type, body, error_type, fragment = case
    extra = {"EngineVersion": "OpenSearch_2.19"} if package_type == "ZIP-PLUGIN" else {}
    package_id = client.create_package(
        PackageName=unique_name(), PackageType=package_type, PackageSource=put(body), **extra
    )["PackageDetails"]["PackageID"]
    clock.advance(PHASE)
    assert describe(client, package_id)["PackageStatus"] == "VALIDATING"
    clock.advance(PHASE)
    failed = describe(client, package_id)
    assert failed["PackageStatus"] == "VALIDATION_FAILED"
    assert failed["ErrorDetails"]["ErrorType"] == error_type
    assert fragment in failed["ErrorDetails"]["ErrorMessage"]
    if package_type == "ZIP-PLUGIN":  # as the service reports plugin validation failures
        assert failed["ErrorDetails"]["ErrorMessage"].startswith("PluginValidationFailureReason : ")


def test_a_dictionary_need_not_be_text(client: Any, clock: ManualClock, put: Put) -> None:
    """Binary Sudachi dictionaries are TXT-DICTIONARY packages: content that is not UTF-8 is
    accepted (the emulation used to end it in VALIDATION_FAILED)."""
    binary = bytes(range(256)) * 4 + b"caf\xe9"
    package_id = create_available(client, clock, put(binary))
    assert describe(client, package_id)["PackageStatus"] == "AVAILABLE"


def test_plugin_properties_and_configuration_become_available(
    client: Any, clock: ManualClock, put: Put
) -> None:
    configuration = {
        "LicenseRequirement": "REQUIRED",
        "LicenseFilepath": "license.txt",
        "ConfigurationRequirement": "OPTIONAL",
        "RequiresRestartForConfigurationUpdate": False,
    }
    package_id = create_available(
        client,
        clock,
        put(plugin_zip()),
        package_type="ZIP-PLUGIN",
        EngineVersion="OpenSearch_2.19",
        PackageConfiguration=configuration,
        PackageEncryptionOptions={"EncryptionEnabled": True, "KmsKeyIdentifier": "alias/key"},
        PackageVendingOptions={"VendingEnabled": False},
    )
    details = describe(client, package_id)
    assert details["EngineVersion"] == "OpenSearch_2.19"
    assert details["AvailablePackageConfiguration"] == configuration
    assert details["PackageEncryptionOptions"]["KmsKeyIdentifier"] == "alias/key"
    assert details["PackageVendingOptions"] == {"VendingEnabled": False}
    plugin = details["AvailablePluginProperties"]
    assert plugin["Name"] == "analysis-demo"
    assert plugin["ClassName"] == "org.example.DemoPlugin"
    assert plugin["Version"] == "1.2.3"
    assert plugin["UncompressedSizeInBytes"] > 0


@pytest.mark.parametrize(
    ("package_type", "extra", "fragment"),
    [
        ("TXT-DICTIONARY", {"EngineVersion": "OpenSearch_2.19"}, "EngineVersion"),
        (
            "ZIP-PLUGIN",
            {},
            "Operation not allowed. EngineVersion is a required parameter for this operation.",
        ),
        (
            "PACKAGE-LICENSE",
            {
                "PackageConfiguration": {
                    "LicenseRequirement": "NONE",
                    "ConfigurationRequirement": "NONE",
                }
            },
            "PackageConfiguration",
        ),
        (
            "TXT-DICTIONARY",
            {"PackageEncryptionOptions": {"EncryptionEnabled": True, "KmsKeyIdentifier": "k"}},
            "KmsKeyIdentifier",
        ),
    ],
)
def test_type_rules_of_the_service(
    client: Any, put: Put, package_type: str, extra: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(client.exceptions.ValidationException) as excinfo:
        client.create_package(
            PackageName=unique_name(), PackageType=package_type, PackageSource=put(b"x"), **extra
        )
    code, status, message = error_code(excinfo)
    assert (code, status) == ("ValidationException", 400)
    assert fragment in message


def test_encryption_without_a_key_is_fine_for_a_dictionary(client: Any, put: Put) -> None:
    client.create_package(
        PackageName=unique_name(),
        PackageType="TXT-DICTIONARY",
        PackageSource=put(b"a"),
        PackageEncryptionOptions={"EncryptionEnabled": True},
    )


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("a" * 257, "less than or equal to 256"),
        # The model's pattern, matched against the whole name, refuses these first.
        ("Upper-case", "at 'packageName' failed to satisfy constraint: Member must satisfy"),
        ("bad_underscore", "at 'packageName' failed to satisfy constraint: Member must satisfy"),
        ("x", "greater than or equal to 3"),
    ],
)
def test_names_the_service_refuses(raw_client: Any, put: Put, name: str, fragment: str) -> None:
    with pytest.raises(raw_client.exceptions.ValidationException) as excinfo:
        raw_client.create_package(
            PackageName=name, PackageType="TXT-DICTIONARY", PackageSource=put(b"a")
        )
    assert fragment in error_code(excinfo)[2]


@pytest.mark.parametrize("length", [28, 29, 256])
def test_names_up_to_the_models_256_characters_are_accepted(
    client: Any, put: Put, length: int
) -> None:
    """No 28-character limit: the model allows 256 and no public source shows less."""
    name = "a" * length
    created = client.create_package(
        PackageName=name, PackageType="TXT-DICTIONARY", PackageSource=put(b"a")
    )
    assert created["PackageDetails"]["PackageName"] == name


def test_plugin_names_are_unique_per_engine_version(
    client: Any, clock: ManualClock, put: Put
) -> None:
    """AWS has users create a ZIP-PLUGIN package with the same name for each new engine version;
    a dictionary name stays unique."""
    first = client.create_package(
        PackageName="analysis-demo",
        PackageType="ZIP-PLUGIN",
        PackageSource=put(plugin_zip(DESCRIPTOR.replace("2.19.0", "2.17.0"))),
        EngineVersion="OpenSearch_2.17",
    )["PackageDetails"]["PackageID"]
    second = client.create_package(
        PackageName="analysis-demo",
        PackageType="ZIP-PLUGIN",
        PackageSource=put(plugin_zip()),
        EngineVersion="OpenSearch_2.19",
    )["PackageDetails"]["PackageID"]
    assert first != second
    with pytest.raises(client.exceptions.ResourceAlreadyExistsException):
        client.create_package(
            PackageName="analysis-demo",
            PackageType="ZIP-PLUGIN",
            PackageSource=put(plugin_zip()),
            EngineVersion="OpenSearch_2.19",
        )
    client.create_package(
        PackageName="words", PackageType="TXT-DICTIONARY", PackageSource=put(b"a")
    )
    with pytest.raises(client.exceptions.ResourceAlreadyExistsException):
        client.create_package(
            PackageName="words", PackageType="TXT-DICTIONARY", PackageSource=put(b"b")
        )
    clock.advance(2 * PHASE)
    named = client.describe_packages(Filters=[{"Name": "PackageName", "Value": ["analysis-demo"]}])
    assert sorted(p["EngineVersion"] for p in named["PackageDetailsList"]) == [
        "OpenSearch_2.17",
        "OpenSearch_2.19",
    ]


def test_source_needs_bucket_and_key(client: Any) -> None:
    with pytest.raises(client.exceptions.ValidationException) as excinfo:
        client.create_package(
            PackageName=unique_name(),
            PackageType="TXT-DICTIONARY",
            PackageSource={"S3BucketName": BUCKET},
        )
    assert "S3Key" in error_code(excinfo)[2]


def test_names_are_unique_in_the_region(client: Any, put: Put) -> None:
    name = unique_name()
    client.create_package(PackageName=name, PackageType="TXT-DICTIONARY", PackageSource=put(b"a"))
    with pytest.raises(client.exceptions.ResourceAlreadyExistsException) as excinfo:
        client.create_package(
            PackageName=name, PackageType="PACKAGE-CONFIG", PackageSource=put(b"a")
        )
    assert error_code(excinfo)[:2] == ("ResourceAlreadyExistsException", 409)


def test_quota_of_25_packages(client: Any, put: Put, service: LocalOpenSearchService) -> None:
    source = put(b"a")
    for _ in range(25):
        client.create_package(
            PackageName=unique_name(), PackageType="TXT-DICTIONARY", PackageSource=source
        )
    with pytest.raises(client.exceptions.LimitExceededException) as excinfo:
        client.create_package(
            PackageName=unique_name(), PackageType="TXT-DICTIONARY", PackageSource=source
        )
    assert error_code(excinfo)[:2] == ("LimitExceededException", 409)
    assert len(service.packages()) == 25


def test_describe_filters(client: Any, clock: ManualClock, put: Put) -> None:
    dictionary = create_available(client, clock, put(b"a, b"))
    built_for_2_11 = plugin_zip(DESCRIPTOR.replace("2.19.0", "2.11.0"))
    plugin = create_available(
        client,
        clock,
        put(built_for_2_11),
        package_type="ZIP-PLUGIN",
        EngineVersion="OpenSearch_2.11",
    )
    copying = client.create_package(
        PackageName=unique_name("lic"), PackageType="PACKAGE-LICENSE", PackageSource=put(b"l")
    )["PackageDetails"]

    def ids(*filters: tuple[str, list[str]]) -> list[str]:
        response = client.describe_packages(
            Filters=[{"Name": name, "Value": values} for name, values in filters]
        )
        return [p["PackageID"] for p in response["PackageDetailsList"]]

    assert ids() == [dictionary, plugin, copying["PackageID"]]
    assert ids(("PackageType", ["ZIP-PLUGIN"])) == [plugin]
    assert ids(("PackageType", ["ZIP-PLUGIN", "TXT-DICTIONARY"])) == [dictionary, plugin]
    assert ids(("PackageStatus", ["COPYING"])) == [copying["PackageID"]]
    assert ids(("EngineVersion", ["OpenSearch_2.11"])) == [plugin]
    assert ids(("PackageName", [copying["PackageName"]])) == [copying["PackageID"]]
    assert ids(("PackageName", ["lic-*"])) == [copying["PackageID"]]
    assert ids(("PackageOwner", ["123456789012"]), ("PackageStatus", ["AVAILABLE"])) == [
        dictionary,
        plugin,
    ]
    assert ids(("PackageID", [plugin]), ("PackageType", ["TXT-DICTIONARY"])) == []


def test_describe_an_unknown_package_id_is_resource_not_found(client: Any) -> None:
    with pytest.raises(client.exceptions.ResourceNotFoundException) as excinfo:
        client.describe_packages(Filters=[{"Name": "PackageID", "Value": ["F999999999"]}])
    assert error_code(excinfo)[:2] == ("ResourceNotFoundException", 409)


def test_describe_refuses_a_bad_filter(client: Any) -> None:
    with pytest.raises(client.exceptions.ValidationException):
        client.describe_packages(Filters=[{"Name": "Colour", "Value": ["red"]}])
    with pytest.raises(client.exceptions.ValidationException):
        client.describe_packages(MaxResults=101)
    with pytest.raises(client.exceptions.ValidationException):
        client.describe_packages(Filters=[{"Name": "PackageName", "Value": ["a b"]}])


def test_describe_pagination(client: Any, put: Put) -> None:
    source = put(b"a")
    created = [
        client.create_package(
            PackageName=unique_name(), PackageType="TXT-DICTIONARY", PackageSource=source
        )["PackageDetails"]["PackageID"]
        for _ in range(7)
    ]
    seen: list[str] = []
    pages = 0
    kwargs: dict[str, Any] = {"MaxResults": 3}
    while True:
        page = client.describe_packages(**kwargs)
        pages += 1
        seen.extend(p["PackageID"] for p in page["PackageDetailsList"])
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert (seen, pages) == (created, 3)
    everything = client.describe_packages()
    assert len(everything["PackageDetailsList"]) == 7 and "NextToken" not in everything
    with pytest.raises(client.exceptions.ValidationException) as excinfo:
        client.describe_packages(MaxResults=3, NextToken="not-a-token")
    assert "NextToken" in error_code(excinfo)[2]
    token = client.describe_packages(MaxResults=3)["NextToken"]
    with pytest.raises(client.exceptions.ValidationException):
        client.describe_packages(
            MaxResults=3, NextToken=token, Filters=[{"Name": "PackageStatus", "Value": ["COPYING"]}]
        )
    with pytest.raises(client.exceptions.ValidationException):
        client.describe_packages(MaxResults=0)


def test_update_makes_a_new_version(
    client: Any, clock: ManualClock, put: Put, service: LocalOpenSearchService
) -> None:
    package_id = create_available(client, clock, put(b"a, b\n"))
    updated = client.update_package(
        PackageID=package_id,
        PackageSource=put(b"a, b, c\n"),
        PackageDescription="now with c",
        CommitMessage="add c",
    )["PackageDetails"]
    assert updated["PackageStatus"] == "COPYING"
    assert updated["AvailablePackageVersion"] == "v1"
    assert updated["PackageDescription"] == "now with c"
    clock.advance(PHASE)
    assert describe(client, package_id)["AvailablePackageVersion"] == "v1"
    clock.advance(PHASE)
    details = describe(client, package_id)
    assert (details["PackageStatus"], details["AvailablePackageVersion"]) == ("AVAILABLE", "v2")
    history = client.get_package_version_history(PackageID=package_id)
    assert history["PackageID"] == package_id
    versions = history["PackageVersionHistoryList"]
    assert [v["PackageVersion"] for v in versions] == ["v1", "v2"]
    assert versions[1]["CommitMessage"] == "add c"
    assert "CommitMessage" not in versions[0]
    assert versions[1]["CreatedAt"] > versions[0]["CreatedAt"]
    page = client.get_package_version_history(PackageID=package_id, MaxResults=1)
    assert [v["PackageVersion"] for v in page["PackageVersionHistoryList"]] == ["v1"]
    rest = client.get_package_version_history(
        PackageID=package_id, MaxResults=1, NextToken=page["NextToken"]
    )
    assert [v["PackageVersion"] for v in rest["PackageVersionHistoryList"]] == ["v2"]
    assert "NextToken" not in rest
    version_of_available = [
        t.package_version for t in service.transitions() if t.to_status == "AVAILABLE"
    ]
    assert version_of_available == ["v1", "v2"]


@pytest.mark.parametrize("wait", [0.0, 1.5])
def test_update_while_copying_or_validating_is_a_conflict(
    client: Any, clock: ManualClock, put: Put, wait: float
) -> None:
    package_id = client.create_package(
        PackageName=unique_name(), PackageType="TXT-DICTIONARY", PackageSource=put(b"a")
    )["PackageDetails"]["PackageID"]
    clock.advance(wait * PHASE)
    with pytest.raises(client.exceptions.ConflictException) as excinfo:
        client.update_package(PackageID=package_id, PackageSource=put(b"b"))
    code, status, message = error_code(excinfo)
    assert (code, status) == ("ConflictException", 409)
    assert ("VALIDATING" if wait else "COPYING") in message


def test_a_failed_update_keeps_the_available_version_and_can_be_retried(
    client: Any, clock: ManualClock, put: Put, service: LocalOpenSearchService
) -> None:
    package_id = create_available(client, clock, put(b"a, b\n"))
    client.update_package(PackageID=package_id, PackageSource=put(b""))
    clock.advance(2 * PHASE)
    failed = describe(client, package_id)
    assert failed["PackageStatus"] == "VALIDATION_FAILED"
    assert failed["AvailablePackageVersion"] == "v1"
    assert failed["ErrorDetails"]["ErrorType"] == "InvalidDictionary"

    client.update_package(
        PackageID=package_id, PackageSource={"S3BucketName": BUCKET, "S3Key": "gone"}
    )
    assert "ErrorDetails" not in describe(client, package_id)
    clock.advance(PHASE)
    copy_failed = describe(client, package_id)
    assert copy_failed["PackageStatus"] == "COPY_FAILED"
    assert copy_failed["ErrorDetails"]["ErrorType"] == "S3ObjectNotFound"
    assert copy_failed["AvailablePackageVersion"] == "v1"

    client.update_package(PackageID=package_id, PackageSource=put(b"a, b, c\n"))
    clock.advance(2 * PHASE)
    fixed = describe(client, package_id)
    assert (fixed["PackageStatus"], fixed["AvailablePackageVersion"]) == ("AVAILABLE", "v2")
    assert "ErrorDetails" not in fixed
    assert statuses(service, package_id)[3:] == [
        "COPYING",
        "VALIDATING",
        "VALIDATION_FAILED",
        "COPYING",
        "COPY_FAILED",
        "COPYING",
        "VALIDATING",
        "AVAILABLE",
    ]


def test_a_package_that_failed_its_creation_can_be_updated(
    client: Any, clock: ManualClock, put: Put
) -> None:
    package_id = client.create_package(
        PackageName=unique_name(), PackageType="TXT-DICTIONARY", PackageSource=put(b"")
    )["PackageDetails"]["PackageID"]
    clock.advance(2 * PHASE)
    assert describe(client, package_id)["PackageStatus"] == "VALIDATION_FAILED"
    client.update_package(PackageID=package_id, PackageSource=put(b"a, b"))
    clock.advance(2 * PHASE)
    assert describe(client, package_id)["AvailablePackageVersion"] == "v1"


def test_update_rules(client: Any, clock: ManualClock, put: Put) -> None:
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.update_package(PackageID="F123", PackageSource=put(b"a"))
    package_id = create_available(client, clock, put(b"a"))
    with pytest.raises(client.exceptions.ValidationException):
        client.update_package(
            PackageID=package_id,
            PackageSource=put(b"a"),
            PackageConfiguration={"LicenseRequirement": "NONE", "ConfigurationRequirement": "NONE"},
        )
    with pytest.raises(client.exceptions.ValidationException):
        client.update_package(
            PackageID=package_id, PackageSource=put(b"a"), CommitMessage="m" * 161
        )
    with pytest.raises(client.exceptions.ValidationException):
        client.update_package(PackageID="not-an-id", PackageSource=put(b"a"))


def test_delete_goes_through_deleting_then_the_package_is_gone(
    client: Any, clock: ManualClock, put: Put, service: LocalOpenSearchService
) -> None:
    name = unique_name()
    package_id = client.create_package(
        PackageName=name, PackageType="TXT-DICTIONARY", PackageSource=put(b"a")
    )["PackageDetails"]["PackageID"]
    clock.advance(2 * PHASE)
    deleted = client.delete_package(PackageID=package_id)["PackageDetails"]
    assert deleted["PackageStatus"] == "DELETING"
    assert client.delete_package(PackageID=package_id)["PackageDetails"]["PackageStatus"] == (
        "DELETING"
    )
    with pytest.raises(client.exceptions.ConflictException):
        client.update_package(PackageID=package_id, PackageSource=put(b"b"))
    with pytest.raises(client.exceptions.ResourceAlreadyExistsException):
        client.create_package(
            PackageName=name, PackageType="TXT-DICTIONARY", PackageSource=put(b"a")
        )
    clock.advance(PHASE)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        describe(client, package_id)
    with pytest.raises(client.exceptions.ResourceNotFoundException) as excinfo:
        client.delete_package(PackageID=package_id)
    assert error_code(excinfo)[:2] == ("ResourceNotFoundException", 409)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_package_version_history(PackageID=package_id)
    assert statuses(service, package_id)[-2:] == ["DELETING", "DELETED"]
    # the name is free again
    client.create_package(PackageName=name, PackageType="TXT-DICTIONARY", PackageSource=put(b"a"))


def test_delete_while_copying_cancels_the_pipeline(
    client: Any, clock: ManualClock, put: Put, service: LocalOpenSearchService
) -> None:
    package_id = client.create_package(
        PackageName=unique_name(), PackageType="TXT-DICTIONARY", PackageSource=put(b"a")
    )["PackageDetails"]["PackageID"]
    client.delete_package(PackageID=package_id)
    clock.advance(5 * PHASE)
    assert statuses(service, package_id) == ["COPYING", "DELETING", "DELETED"]


def test_operations_refuse_invalid_ids(client: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.delete_package(PackageID="X1")
    code, status, message = error_code(excinfo)
    assert (code, status) == ("ValidationException", 400)
    assert "packageID" in message
