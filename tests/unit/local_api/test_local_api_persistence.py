"""The state a later process restores (the command line's state folder) and packages made
elsewhere (``packages add``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from local_api_helpers import PHASE, create_available

from cdk_opensearch_packages.local.opensearch.api import LocalOpenSearchService, ManualClock


def _fresh(clock: ManualClock) -> LocalOpenSearchService:
    return LocalOpenSearchService(clock=clock, seed=7, source_reader=None)


def test_export_then_import_gives_the_same_packages_associations_and_domains(
    service: LocalOpenSearchService,
    client: Any,
    clock: ManualClock,
    put: Callable[[bytes], dict[str, str]],
) -> None:
    service.register_domain("search")
    package_id = create_available(client, clock, put(b"a, b\n"))
    client.update_package(PackageID=package_id, PackageSource=put(b"a, b\nc, d\n"))
    clock.advance(2 * PHASE)
    client.associate_package(PackageID=package_id, DomainName="search")
    deleting = create_available(client, clock, put(b"x, y\n"))
    client.delete_package(PackageID=deleting)  # DELETING for PHASE more seconds

    exported = json.loads(json.dumps(service.export_state()))  # through JSON, as saved
    restored = _fresh(clock)
    restored.import_state(exported)

    assert restored.packages() == service.packages()
    assert restored.associations() == service.associations()
    assert restored.domains() == service.domains()
    assert restored.versions(package_id) == service.versions(package_id)
    clock.advance(PHASE)  # the scheduled changes go on after the restore
    assert [p["PackageID"] for p in restored.packages()] == [package_id]
    assert restored.associations()[0]["DomainPackageStatus"] == "ACTIVE"
    # The id generator goes on too: a new package never reuses an id.
    made = restored.add_existing_package(name="later", package_type="TXT-DICTIONARY")
    assert made["PackageID"] not in {package_id, deleting}


def test_a_package_made_elsewhere_is_available_with_its_versions(clock: ManualClock) -> None:
    service = _fresh(clock)

    details = service.add_existing_package(
        name="shared-stopwords", package_type="TXT-DICTIONARY", version="v3", package_id="F12"
    )

    assert details["PackageID"] == "F12"
    assert details["PackageStatus"] == "AVAILABLE"
    assert details["AvailablePackageVersion"] == "v3"
    assert details["PackageOwner"] == service.account_id
    assert [v["PackageVersion"] for v in service.versions("F12")] == ["v1", "v2", "v3"]


@pytest.mark.parametrize(
    ("details", "message"),
    [
        ({"name": "Bad_Name", "package_type": "TXT-DICTIONARY"}, "invalid package name"),
        ({"name": "ok-name", "package_type": "TXT-DICTIONARY", "version": "3"}, "invalid version"),
        (
            {"name": "ok-name", "package_type": "TXT-DICTIONARY", "package_id": "X1"},
            "invalid package id",
        ),
        ({"name": "ok-name", "package_type": "ZIP-PLUGIN"}, "engine version is required"),
        ({"name": "taken", "package_type": "TXT-DICTIONARY"}, "already exists"),
    ],
)
def test_a_package_made_elsewhere_follows_the_service_rules(
    clock: ManualClock, details: dict[str, str], message: str
) -> None:
    service = _fresh(clock)
    service.add_existing_package(name="taken", package_type="TXT-DICTIONARY")

    with pytest.raises(ValueError, match=message):
        service.add_existing_package(**details)
