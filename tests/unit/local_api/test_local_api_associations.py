"""Domains and associations over real HTTP with boto3."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from local_api_helpers import PHASE, create_available, error_code, plugin_zip, unique_name

from cdk_opensearch_packages.local.opensearch.api import LocalOpenSearchService, ManualClock

Put = Callable[..., dict[str, str]]
DOMAIN = "search"


@pytest.fixture
def domain(service: LocalOpenSearchService) -> str:
    service.register_domain(DOMAIN)
    return DOMAIN


def domain_packages(client: Any, domain: str) -> dict[str, dict[str, Any]]:
    listed = client.list_packages_for_domain(DomainName=domain)["DomainPackageDetailsList"]
    return {item["PackageID"]: item for item in listed}


def test_association_lifecycle_of_a_dictionary(
    client: Any, clock: ManualClock, put: Put, domain: str, service: LocalOpenSearchService
) -> None:
    package_id = create_available(client, clock, put(b"a, b\n"))
    details = client.associate_package(PackageID=package_id, DomainName=domain)[
        "DomainPackageDetails"
    ]
    assert details["DomainPackageStatus"] == "ASSOCIATING"
    assert details["PackageVersion"] == "v1"
    assert details["ReferencePath"] == f"analyzers/{package_id}"
    assert details["PackageType"] == "TXT-DICTIONARY"
    assert details["DomainName"] == domain
    clock.advance(PHASE)
    active = domain_packages(client, domain)[package_id]
    assert active["DomainPackageStatus"] == "ACTIVE"
    assert active["ReferencePath"] == f"analyzers/{package_id}"
    listed = client.list_domains_for_package(PackageID=package_id)["DomainPackageDetailsList"]
    assert [item["DomainName"] for item in listed] == [domain]

    with pytest.raises(client.exceptions.ConflictException) as excinfo:
        client.delete_package(PackageID=package_id)
    assert domain in error_code(excinfo)[2]

    gone = client.dissociate_package(PackageID=package_id, DomainName=domain)
    assert gone["DomainPackageDetails"]["DomainPackageStatus"] == "DISSOCIATING"
    clock.advance(PHASE)
    assert domain_packages(client, domain) == {}
    assert client.list_domains_for_package(PackageID=package_id)["DomainPackageDetailsList"] == []
    client.delete_package(PackageID=package_id)
    moves = [(t.from_status, t.to_status) for t in service.transitions() if t.kind == "association"]
    assert moves == [
        (None, "ASSOCIATING"),
        ("ASSOCIATING", "ACTIVE"),
        ("ACTIVE", "DISSOCIATING"),
        ("DISSOCIATING", "DISSOCIATED"),
    ]


def test_associate_needs_an_existing_package_and_domain(
    client: Any, clock: ManualClock, put: Put, domain: str
) -> None:
    package_id = create_available(client, clock, put(b"a"))
    with pytest.raises(client.exceptions.ResourceNotFoundException) as excinfo:
        client.associate_package(PackageID=package_id, DomainName="elsewhere")
    assert error_code(excinfo)[:2] == ("ResourceNotFoundException", 409)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.associate_package(PackageID="F404", DomainName=domain)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.list_packages_for_domain(DomainName="elsewhere")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.list_domains_for_package(PackageID="F404")
    with pytest.raises(client.exceptions.ValidationException):
        client.associate_package(PackageID=package_id, DomainName="Upper-Case")


def test_dissociating_a_package_the_domain_does_not_have_answers_as_reported(
    client: Any, clock: ManualClock, put: Put, domain: str, service: LocalOpenSearchService
) -> None:
    """Terraform's delete path: ValidationException "Package is not associated to this domain"
    (the default), or ResourceNotFoundException (the other shape, an emulator option)."""
    package_id = create_available(client, clock, put(b"a"))
    with pytest.raises(client.exceptions.ValidationException) as excinfo:
        client.dissociate_package(PackageID=package_id, DomainName=domain)
    assert error_code(excinfo) == (
        "ValidationException",
        400,
        "Package is not associated to this domain",
    )
    service.not_associated = "ResourceNotFoundException"
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.dissociate_package(PackageID=package_id, DomainName=domain)


def test_an_unknown_package_id_answers_either_reported_shape(
    client: Any, service: LocalOpenSearchService, domain: str
) -> None:
    """Terraform treats ResourceNotFoundException and ValidationException "Package not found"
    alike for DescribePackages/DeletePackage of an unknown id: the emulator answers either."""
    for call in (
        lambda: client.describe_packages(Filters=[{"Name": "PackageID", "Value": ["F404"]}]),
        lambda: client.delete_package(PackageID="F404"),
        lambda: client.associate_package(PackageID="F404", DomainName=domain),
    ):
        service.package_not_found = "ResourceNotFoundException"
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            call()
        service.package_not_found = "ValidationException"
        with pytest.raises(client.exceptions.ValidationException) as excinfo:
            call()
        assert error_code(excinfo)[2] == "Package not found"


def test_associate_needs_an_available_package(
    client: Any, clock: ManualClock, put: Put, domain: str
) -> None:
    package_id = client.create_package(
        PackageName=unique_name(), PackageType="TXT-DICTIONARY", PackageSource=put(b"a")
    )["PackageDetails"]["PackageID"]
    with pytest.raises(client.exceptions.ConflictException) as excinfo:
        client.associate_package(PackageID=package_id, DomainName=domain)
    assert "COPYING" in error_code(excinfo)[2]
    clock.advance(2 * PHASE)
    client.associate_package(PackageID=package_id, DomainName=domain)


def test_one_package_operation_at_a_time_per_domain(
    client: Any, clock: ManualClock, put: Put, domain: str, service: LocalOpenSearchService
) -> None:
    first = create_available(client, clock, put(b"a"))
    second = create_available(client, clock, put(b"b"))
    service.register_domain("other")
    client.associate_package(PackageID=first, DomainName=domain)
    with pytest.raises(client.exceptions.ConflictException) as excinfo:
        client.associate_package(PackageID=second, DomainName=domain)
    code, status, message = error_code(excinfo)
    assert (code, status) == ("ConflictException", 409)
    assert "Another package operation is in progress" in message
    with pytest.raises(client.exceptions.ConflictException):
        client.associate_package(PackageID=first, DomainName=domain)
    # another domain is not blocked
    client.associate_package(PackageID=second, DomainName="other")
    clock.advance(PHASE)
    client.associate_package(PackageID=second, DomainName=domain)
    with pytest.raises(client.exceptions.ConflictException):
        client.dissociate_package(PackageID=first, DomainName=domain)
    clock.advance(PHASE)
    client.dissociate_package(PackageID=first, DomainName=domain)


def test_reassociating_the_same_version_is_already_in_desired_state(
    client: Any, clock: ManualClock, put: Put, domain: str
) -> None:
    package_id = create_available(client, clock, put(b"a"))
    client.associate_package(PackageID=package_id, DomainName=domain)
    clock.advance(PHASE)
    with pytest.raises(client.exceptions.ConflictException) as excinfo:
        client.associate_package(PackageID=package_id, DomainName=domain)
    assert error_code(excinfo)[2] == "Package is already in desired state"


def test_a_new_version_is_rolled_out_by_associating_again(
    client: Any, clock: ManualClock, put: Put, domain: str, service: LocalOpenSearchService
) -> None:
    package_id = create_available(client, clock, put(b"a"))
    client.associate_package(PackageID=package_id, DomainName=domain)
    clock.advance(PHASE)
    client.update_package(PackageID=package_id, PackageSource=put(b"a, b"))
    with pytest.raises(client.exceptions.ConflictException):
        client.associate_package(PackageID=package_id, DomainName=domain)
    clock.advance(2 * PHASE)
    assert domain_packages(client, domain)[package_id]["PackageVersion"] == "v1"
    rolling = client.associate_package(PackageID=package_id, DomainName=domain)
    assert rolling["DomainPackageDetails"]["DomainPackageStatus"] == "ASSOCIATING"
    assert rolling["DomainPackageDetails"]["PackageVersion"] == "v2"
    clock.advance(PHASE)
    active = domain_packages(client, domain)[package_id]
    assert (active["DomainPackageStatus"], active["PackageVersion"]) == ("ACTIVE", "v2")
    versions = [
        (t.from_status, t.to_status, t.package_version)
        for t in service.transitions()
        if t.kind == "association"
    ]
    assert versions[-2:] == [("ACTIVE", "ASSOCIATING", "v2"), ("ASSOCIATING", "ACTIVE", "v2")]


def test_a_plugin_takes_longer_and_fails_on_another_engine_version(
    client: Any, clock: ManualClock, put: Put, domain: str, service: LocalOpenSearchService
) -> None:
    service.register_domain("old-engine", "OpenSearch_1.3")
    plugin = create_available(
        client, clock, put(plugin_zip()), package_type="ZIP-PLUGIN", EngineVersion="OpenSearch_2.19"
    )
    details = client.associate_package(PackageID=plugin, DomainName=domain)["DomainPackageDetails"]
    assert "ReferencePath" not in details
    client.associate_package(PackageID=plugin, DomainName="old-engine")
    clock.advance(PHASE)
    assert domain_packages(client, domain)[plugin]["DomainPackageStatus"] == "ASSOCIATING"
    clock.advance(4 * PHASE)
    assert domain_packages(client, domain)[plugin]["DomainPackageStatus"] == "ACTIVE"
    failed = domain_packages(client, "old-engine")[plugin]
    assert failed["DomainPackageStatus"] == "ASSOCIATION_FAILED"
    assert failed["ErrorDetails"]["ErrorType"] == "IncompatibleEngineVersion"
    assert "OpenSearch_1.3" in failed["ErrorDetails"]["ErrorMessage"]
    # a failed association can be removed
    client.dissociate_package(PackageID=plugin, DomainName="old-engine")
    clock.advance(5 * PHASE)
    assert domain_packages(client, "old-engine") == {}


def test_prerequisites_must_exist_and_are_listed(
    client: Any, clock: ManualClock, put: Put, domain: str
) -> None:
    license_id = create_available(client, clock, put(b"license"), package_type="PACKAGE-LICENSE")
    plugin = create_available(
        client, clock, put(plugin_zip()), package_type="ZIP-PLUGIN", EngineVersion="OpenSearch_2.19"
    )
    with pytest.raises(client.exceptions.ResourceNotFoundException) as excinfo:
        client.associate_package(
            PackageID=plugin, DomainName=domain, PrerequisitePackageIDList=["F111"]
        )
    assert "F111" in error_code(excinfo)[2]
    client.associate_package(PackageID=license_id, DomainName=domain)
    clock.advance(PHASE)
    details = client.associate_package(
        PackageID=plugin,
        DomainName=domain,
        PrerequisitePackageIDList=[license_id],
        AssociationConfiguration={"KeyStoreAccessOption": {"KeyStoreAccessEnabled": False}},
    )["DomainPackageDetails"]
    assert details["PrerequisitePackageIDList"] == [license_id]
    assert details["AssociationConfiguration"] == {
        "KeyStoreAccessOption": {"KeyStoreAccessEnabled": False}
    }
    with pytest.raises(client.exceptions.ConflictException):
        client.delete_package(PackageID=license_id)


def test_a_prerequisite_must_be_active_on_the_domain_first(
    client: Any, clock: ManualClock, put: Put, domain: str, service: LocalOpenSearchService
) -> None:
    service.register_domain("other")
    license_id = create_available(client, clock, put(b"license"), package_type="PACKAGE-LICENSE")
    plugin = create_available(
        client, clock, put(plugin_zip()), package_type="ZIP-PLUGIN", EngineVersion="OpenSearch_2.19"
    )

    def associate_plugin() -> dict[str, Any]:
        return dict(
            client.associate_package(
                PackageID=plugin, DomainName=domain, PrerequisitePackageIDList=[license_id]
            )["DomainPackageDetails"]
        )

    # Not associated with this domain (only with another one), then still ASSOCIATING.
    client.associate_package(PackageID=license_id, DomainName="other")
    clock.advance(PHASE)
    with pytest.raises(client.exceptions.ValidationException) as excinfo:
        associate_plugin()
    code, status, message = error_code(excinfo)
    assert (code, status) == ("ValidationException", 400)
    assert f"Prerequisite package {license_id} of package {plugin}" in message
    assert f"not associated on domain {domain}" in message
    client.associate_package(PackageID=license_id, DomainName=domain)
    with pytest.raises(client.exceptions.ValidationException) as excinfo:
        associate_plugin()
    message = error_code(excinfo)[2]
    assert f"{license_id} of package {plugin} is ASSOCIATING on domain {domain}" in message
    clock.advance(PHASE)
    assert associate_plugin()["DomainPackageStatus"] == "ASSOCIATING"
    clock.advance(5 * PHASE)
    assert domain_packages(client, domain)[plugin]["DomainPackageStatus"] == "ACTIVE"
    # A refused call changed nothing: two associations made on this domain, in order.
    moves = [
        (t.package_id, t.to_status)
        for t in service.transitions()
        if t.kind == "association" and t.domain_name == domain
    ]
    assert moves == [
        (license_id, "ASSOCIATING"),
        (license_id, "ACTIVE"),
        (plugin, "ASSOCIATING"),
        (plugin, "ACTIVE"),
    ]


def test_dissociating_a_prerequisite_removes_the_packages_that_list_it(
    client: Any, clock: ManualClock, put: Put, service: LocalOpenSearchService
) -> None:
    # AWS: dissociating a plugin "also removes any related configuration or license packages"
    # (which list the plugin as their prerequisite), whatever their status.
    domain = unique_name("dom")
    service.register_domain(domain)
    plugin = create_available(
        client, clock, put(plugin_zip()), package_type="ZIP-PLUGIN", EngineVersion="OpenSearch_2.19"
    )
    license_id = create_available(client, clock, put(b"license"), package_type="PACKAGE-LICENSE")
    dictionary = create_available(client, clock, put(b"a, b\n"))
    client.associate_package(PackageID=dictionary, DomainName=domain)
    clock.advance(PHASE)
    client.associate_package(PackageID=plugin, DomainName=domain)
    clock.advance(5 * PHASE)
    client.associate_package(
        PackageID=license_id, DomainName=domain, PrerequisitePackageIDList=[plugin]
    )
    clock.advance(PHASE)
    assert domain_packages(client, domain)[license_id]["DomainPackageStatus"] == "ACTIVE"

    details = client.dissociate_package(PackageID=plugin, DomainName=domain)
    assert details["DomainPackageDetails"]["DomainPackageStatus"] == "DISSOCIATING"
    listed = domain_packages(client, domain)
    assert listed[license_id]["DomainPackageStatus"] == "DISSOCIATING"
    assert listed[dictionary]["DomainPackageStatus"] == "ACTIVE"
    clock.advance(5 * PHASE)
    assert set(domain_packages(client, domain)) == {dictionary}
    # One domain operation took both away.
    [operation] = [op for op in service.domain_operations() if op.operation == "DissociatePackage"]
    assert set(operation.package_ids) == {plugin, license_id}
    # The license is no longer associated: dissociating it again is refused (the default
    # answer: ValidationException "Package is not associated to this domain").
    with pytest.raises(client.exceptions.ValidationException):
        client.dissociate_package(PackageID=license_id, DomainName=domain)


def test_an_index_using_the_package_makes_dissociation_fail_once(
    client: Any, clock: ManualClock, put: Put, domain: str, service: LocalOpenSearchService
) -> None:
    package_id = create_available(client, clock, put(b"a"))
    client.associate_package(PackageID=package_id, DomainName=domain)
    clock.advance(PHASE)
    service.mark_in_use(domain, package_id)
    client.dissociate_package(PackageID=package_id, DomainName=domain)
    clock.advance(PHASE)
    failed = domain_packages(client, domain)[package_id]
    assert failed["DomainPackageStatus"] == "DISSOCIATION_FAILED"
    assert failed["ErrorDetails"]["ErrorType"] == "PackageInUse"
    with pytest.raises(client.exceptions.ConflictException):
        client.delete_package(PackageID=package_id)
    client.dissociate_package(PackageID=package_id, DomainName=domain)
    clock.advance(PHASE)
    assert domain_packages(client, domain) == {}


def test_at_most_20_packages_per_domain(
    client: Any, clock: ManualClock, put: Put, domain: str
) -> None:
    source = put(b"a")
    ids = [
        client.create_package(
            PackageName=unique_name(), PackageType="TXT-DICTIONARY", PackageSource=source
        )["PackageDetails"]["PackageID"]
        for _ in range(21)
    ]
    clock.advance(2 * PHASE)
    for package_id in ids[:20]:
        client.associate_package(PackageID=package_id, DomainName=domain)
        clock.advance(PHASE)
    with pytest.raises(client.exceptions.LimitExceededException) as excinfo:
        client.associate_package(PackageID=ids[20], DomainName=domain)
    assert error_code(excinfo)[:2] == ("LimitExceededException", 409)
    first = client.list_packages_for_domain(DomainName=domain, MaxResults=15)
    rest = client.list_packages_for_domain(
        DomainName=domain, MaxResults=15, NextToken=first["NextToken"]
    )
    listed = [
        item["PackageID"] for page in (first, rest) for item in page["DomainPackageDetailsList"]
    ]
    assert listed == ids[:20]


def test_list_domains_for_package_pages(
    client: Any, clock: ManualClock, put: Put, service: LocalOpenSearchService
) -> None:
    package_id = create_available(client, clock, put(b"a"))
    names = [f"domain-{index}" for index in range(3)]
    for name in names:
        service.register_domain(name)
        client.associate_package(PackageID=package_id, DomainName=name)
    first = client.list_domains_for_package(PackageID=package_id, MaxResults=2)
    rest = client.list_domains_for_package(
        PackageID=package_id, MaxResults=2, NextToken=first["NextToken"]
    )
    assert "NextToken" not in rest
    listed = [d["DomainName"] for p in (first, rest) for d in p["DomainPackageDetailsList"]]
    assert listed == names


def test_unregistering_a_domain_drops_its_associations(
    client: Any, clock: ManualClock, put: Put, domain: str, service: LocalOpenSearchService
) -> None:
    package_id = create_available(client, clock, put(b"a"))
    client.associate_package(PackageID=package_id, DomainName=domain)
    service.unregister_domain(domain)
    assert service.associations() == []
    client.delete_package(PackageID=package_id)
    with pytest.raises(ValueError, match="invalid domain name"):
        service.register_domain("No")
    with pytest.raises(ValueError, match="invalid engine version"):
        service.register_domain("fine-name", "OpenSearch-2")
