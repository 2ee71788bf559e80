"""Behaviours aligned with public evidence of the real service (docs/SERVICE-BEHAVIOUR.md)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from local_api_helpers import DESCRIPTOR, PHASE, create_available, plugin_zip

from cdk_opensearch_packages.local.opensearch import errors, state
from cdk_opensearch_packages.local.opensearch.api import (
    LocalOpenSearchService,
    ManualClock,
    UpgradeRefused,
)

Put = Callable[..., dict[str, str]]
DOMAIN = "search"
PLUGIN_PHASE = 5 * PHASE  # the fixture's plugin association/dissociation time


def listed(client: Any, domain: str = DOMAIN) -> dict[str, dict[str, Any]]:
    packages = client.list_packages_for_domain(DomainName=domain)["DomainPackageDetailsList"]
    return {item["PackageID"]: item for item in packages}


def plugin(
    client: Any, clock: ManualClock, put: Put, engine: str = "OpenSearch_2.19", name: str = "demo"
) -> str:
    built = f"{engine.split('_')[1]}.0"
    details = client.create_package(
        PackageName=name,
        PackageType="ZIP-PLUGIN",
        PackageSource=put(plugin_zip(DESCRIPTOR.replace("2.19.0", built))),
        EngineVersion=engine,
    )["PackageDetails"]
    clock.advance(2 * PHASE)
    return str(details["PackageID"])


def test_associating_while_a_new_version_is_copying_associates_the_available_one(
    client: Any, clock: ManualClock, put: Put, service: LocalOpenSearchService
) -> None:
    """trade-tariff's log: AssociatePackage right after UpdatePackage (COPYING) succeeded.
    Which version it associates is UNVERIFIED; the emulation associates the available one."""
    service.register_domain(DOMAIN)
    package_id = create_available(client, clock, put(b"a, b\n"))
    client.update_package(PackageID=package_id, PackageSource=put(b"a, b, c\n"))
    details = client.associate_package(PackageID=package_id, DomainName=DOMAIN)
    assert details["DomainPackageDetails"]["PackageVersion"] == "v1"
    clock.advance(PHASE)
    assert listed(client)[package_id]["DomainPackageStatus"] == "ACTIVE"
    clock.advance(PHASE)
    rolled = client.associate_package(PackageID=package_id, DomainName=DOMAIN)
    assert rolled["DomainPackageDetails"]["PackageVersion"] == "v2"


def test_a_package_without_an_available_version_still_cannot_be_associated(
    client: Any, put: Put, service: LocalOpenSearchService
) -> None:
    service.register_domain(DOMAIN)
    package_id = client.create_package(
        PackageName="fresh", PackageType="TXT-DICTIONARY", PackageSource=put(b"a")
    )["PackageDetails"]["PackageID"]
    with pytest.raises(client.exceptions.ConflictException):
        client.associate_package(PackageID=package_id, DomainName=DOMAIN)


def test_dissociating_a_plugin_an_index_uses_stays_in_progress(
    client: Any, clock: ManualClock, put: Put, service: LocalOpenSearchService
) -> None:
    """AWS: the blue/green deployment stays in Processing (no DISSOCIATION_FAILED)."""
    service.register_domain(DOMAIN)
    plugin_id = plugin(client, clock, put)
    client.associate_package(PackageID=plugin_id, DomainName=DOMAIN)
    clock.advance(PLUGIN_PHASE)
    service.mark_in_use(DOMAIN, plugin_id)
    client.dissociate_package(PackageID=plugin_id, DomainName=DOMAIN)
    clock.advance(100 * PLUGIN_PHASE)
    assert listed(client)[plugin_id]["DomainPackageStatus"] == "DISSOCIATING"
    service.release_in_use(DOMAIN, plugin_id)
    assert listed(client) == {}


def test_a_dictionary_an_index_uses_fails_to_dissociate(
    client: Any, clock: ManualClock, put: Put, service: LocalOpenSearchService
) -> None:
    service.register_domain(DOMAIN)
    package_id = create_available(client, clock, put(b"a, b\n"))
    client.associate_package(PackageID=package_id, DomainName=DOMAIN)
    clock.advance(PHASE)
    service.mark_in_use(DOMAIN, package_id)
    client.dissociate_package(PackageID=package_id, DomainName=DOMAIN)
    clock.advance(PHASE)
    assert listed(client)[package_id]["DomainPackageStatus"] == "DISSOCIATION_FAILED"


def test_an_engine_upgrade_moves_a_plugin_to_its_package_for_the_new_version(
    client: Any, clock: ManualClock, put: Put, service: LocalOpenSearchService
) -> None:
    service.register_domain(DOMAIN, "OpenSearch_2.17")
    old = plugin(client, clock, put, "OpenSearch_2.17")
    client.associate_package(PackageID=old, DomainName=DOMAIN)
    clock.advance(PLUGIN_PHASE)
    with pytest.raises(UpgradeRefused, match="create it before upgrading"):
        service.register_domain(DOMAIN, "OpenSearch_2.19")
    assert service.domains()[0]["EngineVersion"] == "OpenSearch_2.17"
    assert set(listed(client)) == {old}

    new = plugin(client, clock, put, "OpenSearch_2.19")  # same name, new engine version
    service.register_domain(DOMAIN, "OpenSearch_2.19")
    after = listed(client)
    assert set(after) == {new}
    assert (after[new]["DomainPackageStatus"], after[new]["PackageVersion"]) == ("ACTIVE", "v1")
    with pytest.raises(client.exceptions.ConflictException):  # already in desired state
        client.associate_package(PackageID=new, DomainName=DOMAIN)
    with pytest.raises(client.exceptions.ValidationException):  # not associated any more
        client.dissociate_package(PackageID=old, DomainName=DOMAIN)
    client.delete_package(PackageID=old)


_STATE_SOURCES = [
    Path(state.__file__),
    Path(errors.__file__).with_name("model.py"),
]


def test_every_catalogued_error_case_is_answered_somewhere_and_only_those() -> None:
    """Each ERROR_CASES entry is raised by the emulation (or is a fault), and every case the
    code raises exists: the catalogue is the complete list of error answers."""
    text = "\n".join(path.read_text(encoding="utf-8") for path in _STATE_SOURCES)
    raised = set(re.findall(r'"(E-[A-Z0-9-]+)"', text))
    catalogued = {entry.id for entry in errors.ERROR_CASES}
    assert raised <= catalogued
    faults = {"E-FAULT-THROTTLING", "E-FAULT-INTERNAL", "E-INPUT-INVALID"}
    assert catalogued - faults <= raised, catalogued - faults - raised
    assert len(catalogued) == len(errors.ERROR_CASES)


def test_the_catalogue_derives_the_per_operation_codes() -> None:
    assert "ResourceNotFoundException" in errors.ERRORS_BY_OPERATION["DeletePackage"]
    assert "ValidationException" in errors.ERRORS_BY_OPERATION["DissociatePackage"]
    assert ("UpdatePackage", "ConflictException") in errors.UNMODELLED_ERRORS
    assert "E-NOT-ASSOCIATED" not in errors.UNVERIFIED_CASES
    assert "E-DOMAIN-BUSY" in errors.UNVERIFIED_CASES


def test_a_case_answered_by_an_operation_it_does_not_list_is_an_emulator_bug(
    client: Any, service: LocalOpenSearchService, monkeypatch: pytest.MonkeyPatch
) -> None:
    def wrong(params: dict[str, Any]) -> dict[str, Any]:
        raise errors.service_error("E-ASSOCIATE-ALREADY", "not for this operation")

    monkeypatch.setitem(service._store._handlers, "ListPackagesForDomain", wrong)
    with pytest.raises(client.exceptions.InternalException, match="Emulator bug"):
        client.list_packages_for_domain(DomainName=DOMAIN)
