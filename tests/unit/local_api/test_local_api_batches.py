"""AssociatePackages / DissociatePackages over real HTTP with boto3: one domain operation per
batch (or one per package), prerequisites in the same batch, the plugin's cascade."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from local_api_helpers import PHASE, create_available, error_code, plugin_zip, unique_name

from cdk_opensearch_packages.local.opensearch.api import LocalOpenSearchService, ManualClock

Put = Callable[..., dict[str, str]]


def listed(client: Any, domain: str) -> dict[str, dict[str, Any]]:
    items = client.list_packages_for_domain(DomainName=domain)["DomainPackageDetailsList"]
    return {item["PackageID"]: item for item in items}


def statuses(client: Any, domain: str) -> dict[str, str]:
    return {k: v["DomainPackageStatus"] for k, v in listed(client, domain).items()}


def third_party(client: Any, clock: ManualClock, put: Put) -> tuple[str, str, str, str]:
    """A dictionary, a plugin, its license and its configuration (ids)."""
    dictionary = create_available(client, clock, put(b"a, b\n"))
    plugin = create_available(
        client, clock, put(plugin_zip()), package_type="ZIP-PLUGIN", EngineVersion="OpenSearch_2.19"
    )
    license_id = create_available(client, clock, put(b"key"), package_type="PACKAGE-LICENSE")
    config = create_available(client, clock, put(b"{}"), package_type="PACKAGE-CONFIG")
    return dictionary, plugin, license_id, config


def documented_batch(dictionary: str, plugin: str, license_id: str, config: str) -> list[Any]:
    """AWS's recipe: the plugin first, license and configuration listing it as prerequisite."""
    return [
        {"PackageID": plugin},
        {"PackageID": license_id, "PrerequisitePackageIDList": [plugin]},
        {"PackageID": config, "PrerequisitePackageIDList": [plugin]},
        {"PackageID": dictionary},
    ]


@pytest.mark.parametrize("mode", ["one-operation", "per-package"])
def test_a_batch_associates_a_plugin_with_its_license_and_configuration(
    client: Any, clock: ManualClock, put: Put, service: LocalOpenSearchService, mode: str
) -> None:
    domain = unique_name("dom")
    service.register_domain(domain)
    service.batch_mode = mode
    dictionary, plugin, license_id, config = third_party(client, clock, put)

    answer = client.associate_packages(
        DomainName=domain, PackageList=documented_batch(dictionary, plugin, license_id, config)
    )["DomainPackageDetailsList"]

    assert [item["PackageID"] for item in answer] == [plugin, license_id, config, dictionary]
    assert {item["DomainPackageStatus"] for item in answer} == {"ASSOCIATING"}
    assert listed(client, domain)[license_id]["PrerequisitePackageIDList"] == [plugin]
    # The domain is busy with the batch: nothing else may start.
    with pytest.raises(client.exceptions.ConflictException) as excinfo:
        client.dissociate_packages(DomainName=domain, PackageList=[dictionary])
    assert "in progress" in error_code(excinfo)[2]
    operations = service.domain_operations()
    if mode == "one-operation":
        # One blue/green deployment: everything is ACTIVE when the plugin is (5 phases).
        assert [op.package_ids for op in operations] == [(plugin, license_id, config, dictionary)]
        clock.advance(5 * PHASE - 0.01)
        assert set(statuses(client, domain).values()) == {"ASSOCIATING"}
        clock.advance(0.01)
    else:
        # One operation per package, in list order: 5 + 1 + 1 + 1 phases.
        assert [op.package_ids for op in operations] == [
            (plugin,),
            (license_id,),
            (config,),
            (dictionary,),
        ]
        assert [op.until - op.t for op in operations] == [5 * PHASE, PHASE, PHASE, PHASE]
        clock.advance(7 * PHASE)
        assert statuses(client, domain)[dictionary] == "ASSOCIATING"
        clock.advance(PHASE)
    assert set(statuses(client, domain).values()) == {"ACTIVE"}

    # The same batch again: every package already runs its available version.
    with pytest.raises(client.exceptions.ConflictException) as excinfo:
        client.associate_packages(
            DomainName=domain, PackageList=documented_batch(dictionary, plugin, license_id, config)
        )
    assert "already in desired state" in error_code(excinfo)[2]

    # Dissociating the plugin alone takes its license and configuration with it.
    gone = client.dissociate_packages(DomainName=domain, PackageList=[plugin])
    assert {item["PackageID"] for item in gone["DomainPackageDetailsList"]} == {
        plugin,
        license_id,
        config,
    }
    clock.advance(5 * PHASE)
    assert statuses(client, domain) == {dictionary: "ACTIVE"}
    last = service.domain_operations()[-1]
    assert (last.operation, set(last.package_ids)) == (
        "DissociatePackages",
        {plugin, license_id, config},
    )


def test_a_prerequisite_must_be_active_or_in_the_same_batch(
    client: Any, clock: ManualClock, put: Put, service: LocalOpenSearchService
) -> None:
    domain = unique_name("dom")
    service.register_domain(domain)
    dictionary, plugin, license_id, _ = third_party(client, clock, put)
    with pytest.raises(client.exceptions.ValidationException) as excinfo:
        client.associate_packages(
            DomainName=domain,
            PackageList=[
                {"PackageID": dictionary},
                {"PackageID": license_id, "PrerequisitePackageIDList": [plugin]},
            ],
        )
    assert f"Prerequisite package {plugin} of package {license_id}" in error_code(excinfo)[2]
    # Refused as a whole: nothing started.
    assert statuses(client, domain) == {}
    assert service.domain_operations() == []
    with pytest.raises(client.exceptions.ValidationException):
        client.associate_packages(
            DomainName=domain, PackageList=[{"PackageID": dictionary}, {"PackageID": dictionary}]
        )
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.associate_packages(DomainName=domain, PackageList=[{"PackageID": "F404"}])


def test_a_failing_plugin_fails_its_license_in_the_same_batch(
    client: Any, clock: ManualClock, put: Put, service: LocalOpenSearchService
) -> None:
    domain = unique_name("dom")
    service.register_domain(domain, "OpenSearch_1.3")
    dictionary, plugin, license_id, config = third_party(client, clock, put)
    client.associate_packages(
        DomainName=domain, PackageList=documented_batch(dictionary, plugin, license_id, config)
    )
    clock.advance(5 * PHASE)
    after = listed(client, domain)
    assert after[plugin]["DomainPackageStatus"] == "ASSOCIATION_FAILED"
    assert after[plugin]["ErrorDetails"]["ErrorType"] == "IncompatibleEngineVersion"
    assert after[license_id]["DomainPackageStatus"] == "ASSOCIATION_FAILED"
    assert plugin in after[license_id]["ErrorDetails"]["ErrorMessage"]
    assert after[dictionary]["DomainPackageStatus"] == "ACTIVE"


def test_dissociating_packages_that_are_not_associated_is_refused_as_a_whole(
    client: Any, clock: ManualClock, put: Put, service: LocalOpenSearchService
) -> None:
    domain = unique_name("dom")
    service.register_domain(domain)
    first = create_available(client, clock, put(b"a\n"))
    second = create_available(client, clock, put(b"b\n"))
    client.associate_packages(DomainName=domain, PackageList=[{"PackageID": first}])
    clock.advance(PHASE)
    with pytest.raises(client.exceptions.ValidationException) as excinfo:
        client.dissociate_packages(DomainName=domain, PackageList=[first, second])
    assert error_code(excinfo)[2] == "Package is not associated to this domain"
    service.not_associated = "ResourceNotFoundException"
    with pytest.raises(client.exceptions.ResourceNotFoundException) as excinfo:
        client.dissociate_packages(DomainName=domain, PackageList=[first, second])
    assert second in error_code(excinfo)[2]
    assert statuses(client, domain) == {first: "ACTIVE"}


def test_batch_mode_and_domain_operations_over_http(service: LocalOpenSearchService) -> None:
    import json
    import urllib.request

    def call(path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            service.endpoint_url + path,
            data=None if body is None else json.dumps(body).encode(),
            method="GET" if body is None else "POST",
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())

    assert call("/_local/batch-mode") == {"mode": "one-operation"}
    assert call("/_local/batch-mode", {"mode": "per-package"}) == {"mode": "per-package"}
    assert service.batch_mode == "per-package"
    assert call("/_local/domain-operations") == {"operations": []}
    with pytest.raises(ValueError):
        service.batch_mode = "sometimes"
