"""Custom::OpenSearchDomainPackages: a domain's package set in one AssociatePackages /
DissociatePackages per change, from what the domain lists; every path, with Stubber."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from botocore.stub import Stubber

from osp_handler.domain_packages import DomainPackagesLifecycle, prerequisites_first
from osp_handler.lifecycle import lifecycle_for
from osp_handler.names import domain_packages_physical_id, parse_domain_packages_physical_id
from osp_handler.outcome import Done, ResourceFailure
from osp_handler.props import DomainPackageEntry, PropertyError, domain_packages_props

from .handler_fakes import (
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

SYN, PLUGIN, LICENSE, STOP, OLD = (
    "F111111111",
    "F222222222",
    "F333333333",
    "F444444444",
    "F555555555",
)
ROLE = {
    "KeyStoreAccessOption": {
        "KeyAccessRoleArn": "arn:aws:iam::123456789012:role/search-keystore",
        "KeyStoreAccessEnabled": True,
    }
}
LIFECYCLE = DomainPackagesLifecycle()


def listed(
    package_id: str, status: str, *, version: str = "v1", error: str | None = None, **extra: Any
) -> dict[str, Any]:
    details = domain_package(package_id, status, version=version, error=error)
    details.update(extra)
    return details


def expect_available(stub: Stubber, *ids_versions: tuple[str, str]) -> None:
    for package_id, version in ids_versions:
        expect_describe(stub, package_id, package(package_id, "AVAILABLE", version=version))


def expect_associate(stub: Stubber, entries: list[dict[str, Any]]) -> None:
    stub.add_response(
        "associate_packages",
        {"DomainPackageDetailsList": []},
        {"DomainName": "search-domain", "PackageList": entries},
    )


def expect_dissociate(stub: Stubber, ids: list[str]) -> None:
    stub.add_response(
        "dissociate_packages",
        {"DomainPackageDetailsList": []},
        {"DomainName": "search-domain", "PackageList": ids},
    )


PLUGIN_ENTRY = {"PackageID": PLUGIN, "AssociationConfiguration": ROLE}
LICENSE_ENTRY = {"PackageID": LICENSE, "PrerequisitePackageIDList": [PLUGIN]}
ACTIVE_SET = [
    listed(SYN, "ACTIVE"),
    listed(PLUGIN, "ACTIVE", AssociationConfiguration=ROLE),
    listed(LICENSE, "ACTIVE", PrerequisitePackageIDList=[PLUGIN]),
]


def test_create_associates_every_package_in_one_call_plugin_before_its_license(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("domain_packages_create")
    expect_available(stub, (SYN, "v1"), (PLUGIN, "v1"), (LICENSE, "v1"))
    expect_list(stub, [])
    expect_associate(stub, [{"PackageID": SYN}, PLUGIN_ENTRY, LICENSE_ENTRY])
    expect_list(stub, [listed(p, "ASSOCIATING") for p in (SYN, PLUGIN, LICENSE)])
    expect_list(stub, ACTIVE_SET)

    outcome = lifecycle_for(event["ResourceType"]).create(make_job(event, opensearch, clock))

    assert isinstance(outcome, Done)
    assert outcome.physical_id == "search-domain|packages"
    assert outcome.data["Synonyms.ReferencePath"] == f"analyzers/{SYN}"
    assert outcome.data["License.PackageVersion"] == "v1"
    assert outcome.data["Plugin.PackageID"] == PLUGIN
    assert outcome.data["DomainName"] == "search-domain"


def test_a_redelivered_create_finds_the_set_in_place_and_calls_nothing(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("domain_packages_create")
    expect_available(stub, (SYN, "v1"), (PLUGIN, "v1"), (LICENSE, "v1"))
    expect_list(stub, ACTIVE_SET)

    outcome = LIFECYCLE.create(make_job(event, opensearch, clock))

    assert isinstance(outcome, Done)


def test_a_lost_answer_is_waited_out_and_not_sent_twice(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    # The batch was applied but its answer lost (botocore retried: the domain is busy), then
    # the domain lists it: nothing is sent again.
    event = load_event("domain_packages_create")
    expect_available(stub, (SYN, "v1"), (PLUGIN, "v1"), (LICENSE, "v1"))
    expect_list(stub, [])
    stub.add_client_error(
        "associate_packages",
        service_error_code="ConflictException",
        service_message="Another package operation is in progress on domain search-domain",
        http_status_code=409,
    )
    expect_list(stub, [listed(p, "ASSOCIATING") for p in (SYN, PLUGIN, LICENSE)])
    expect_list(stub, ACTIVE_SET)

    assert isinstance(LIFECYCLE.create(make_job(event, opensearch, clock)), Done)


def test_a_package_that_ends_association_failed_fails_the_resource_with_its_name(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("domain_packages_create")
    expect_available(stub, (SYN, "v1"), (PLUGIN, "v1"), (LICENSE, "v1"))
    expect_list(stub, [])
    expect_associate(stub, [{"PackageID": SYN}, PLUGIN_ENTRY, LICENSE_ENTRY])
    failed = listed(PLUGIN, "ASSOCIATION_FAILED", error="Plugin is built for OpenSearch_1.3")
    failed["PackageName"] = "hello-plugin"
    expect_list(stub, [listed(SYN, "ACTIVE"), failed, listed(LICENSE, "ACTIVE")])

    with pytest.raises(ResourceFailure) as excinfo:
        LIFECYCLE.create(make_job(event, opensearch, clock))

    assert str(excinfo.value) == (
        f"Plugin is built for OpenSearch_1.3 (package hello-plugin ({PLUGIN}) on domain "
        "search-domain, status ASSOCIATION_FAILED)"
    )


def test_update_dissociates_what_left_then_associates_what_changed_in_one_call_each(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("domain_packages_update")
    expect_available(stub, (SYN, "v2"), (PLUGIN, "v1"), (LICENSE, "v1"), (STOP, "v1"))
    before = [*ACTIVE_SET, listed(OLD, "ACTIVE", version="v3")]
    expect_list(stub, before)
    expect_dissociate(stub, [OLD])
    expect_list(stub, [*ACTIVE_SET, listed(OLD, "DISSOCIATING", version="v3")])
    expect_list(stub, ACTIVE_SET)
    # The synonyms' new version and the new stopwords, in one call; the plugin is untouched.
    expect_list(stub, ACTIVE_SET)
    expect_associate(stub, [{"PackageID": SYN}, {"PackageID": STOP}])
    after = [
        listed(SYN, "ACTIVE", version="v2"),
        *ACTIVE_SET[1:],
        listed(STOP, "ACTIVE"),
    ]
    expect_list(stub, after)

    outcome = LIFECYCLE.update(make_job(event, opensearch, clock))

    assert isinstance(outcome, Done)
    assert outcome.data["Synonyms.PackageVersion"] == "v2"
    assert outcome.data["Stopwords.ReferencePath"] == f"analyzers/{STOP}"


def test_changed_settings_dissociate_and_associate_again(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("domain_packages_update")
    event["ResourceProperties"] = event["OldResourceProperties"] = dict(
        load_event("domain_packages_create")["ResourceProperties"]
    )
    event["OldResourceProperties"] = {
        **event["ResourceProperties"],
        "PackageList": [
            item if item["PackageID"] != PLUGIN else {"PackageID": PLUGIN, "OspKey": "Plugin"}
            for item in event["ResourceProperties"]["PackageList"]
        ],
    }
    plugin_without_role = listed(PLUGIN, "ACTIVE")
    expect_list(stub, [ACTIVE_SET[0], plugin_without_role, ACTIVE_SET[2]])  # settings check
    expect_available(stub, (SYN, "v1"), (PLUGIN, "v1"), (LICENSE, "v1"))
    expect_list(stub, [ACTIVE_SET[0], plugin_without_role, ACTIVE_SET[2]])
    expect_dissociate(stub, [PLUGIN])
    # The plugin's license leaves with it (AWS's cascade).
    expect_list(stub, [ACTIVE_SET[0]])
    expect_list(stub, [ACTIVE_SET[0]])
    expect_associate(stub, [PLUGIN_ENTRY, LICENSE_ENTRY])
    expect_list(stub, ACTIVE_SET)

    assert isinstance(LIFECYCLE.update(make_job(event, opensearch, clock)), Done)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("ValidationException", "Package is not associated to this domain"),
        ("ResourceNotFoundException", "Package F333333333 is not associated with search-domain."),
    ],
)
def test_delete_dissociates_the_set_in_one_call_and_accepts_what_already_left(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock, code: str, message: str
) -> None:
    event = load_event("domain_packages_delete")
    expect_list(stub, ACTIVE_SET)
    expect_dissociate(stub, [SYN, PLUGIN, LICENSE])
    expect_list(stub, [listed(p, "DISSOCIATING") for p in (SYN, PLUGIN, LICENSE)])
    # A redelivery (or a lost answer): the license already left with the plugin.
    expect_list(stub, [listed(SYN, "ACTIVE"), listed(PLUGIN, "ACTIVE")])
    stub.add_client_error(
        "dissociate_packages",
        service_error_code=code,
        service_message=message,
        http_status_code=400 if code == "ValidationException" else 409,
    )
    expect_list(stub, [])

    outcome = LIFECYCLE.delete(make_job(event, opensearch, clock))

    assert outcome == Done("search-domain|packages")


def test_delete_of_a_domain_that_is_gone_or_a_placeholder_calls_little(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("domain_packages_delete")
    stub.add_client_error(
        "list_packages_for_domain",
        service_error_code="ResourceNotFoundException",
        service_message="Domain not found",
        http_status_code=409,
    )
    assert LIFECYCLE.delete(make_job(event, opensearch, clock)) == Done("search-domain|packages")
    event["PhysicalResourceId"] = "osp-failed-DomainPackages-0123456789ab"
    assert LIFECYCLE.delete(make_job(event, opensearch, clock)) == Done(
        "osp-failed-DomainPackages-0123456789ab"
    )


def test_a_failed_dissociation_this_request_asked_for_fails_the_resource(
    opensearch: OpenSearchServiceClient, stub: Stubber, clock: FakeClock
) -> None:
    event = load_event("domain_packages_delete")
    event["ResourceProperties"]["PackageList"] = [{"PackageID": SYN}]
    expect_list(stub, [listed(SYN, "ACTIVE")])
    expect_dissociate(stub, [SYN])
    expect_list(stub, [listed(SYN, "DISSOCIATION_FAILED", error="in use by index products")])

    with pytest.raises(ResourceFailure, match="in use by index products"):
        LIFECYCLE.delete(make_job(event, opensearch, clock))


def test_props_convert_entries_and_refuse_duplicates(opensearch: OpenSearchServiceClient) -> None:
    model = opensearch.meta.service_model
    props = load_event("domain_packages_create")["ResourceProperties"]
    converted = domain_packages_props(props, model)
    assert converted.domain_name == "search-domain"
    assert converted.entries[1].configuration == ROLE  # "true" became True
    assert converted.entries[2].api_entry() == LICENSE_ENTRY
    assert converted.entries[0].key == "Synonyms"
    twice = {**props, "PackageList": [props["PackageList"][0]] * 2}
    with pytest.raises(PropertyError, match="lists the package F111111111 twice"):
        domain_packages_props(twice, model)
    with pytest.raises(PropertyError, match="unknown control keys"):
        domain_packages_props(
            {**props, "PackageList": [{"PackageID": SYN, "OspOther": "x"}]}, model
        )
    assert domain_packages_props({"PackageList": "junk"}, model, lenient=True).entries == ()


def test_prerequisites_come_first_and_physical_ids_round_trip() -> None:
    entries = [
        DomainPackageEntry(LICENSE, prerequisites=(PLUGIN,)),
        DomainPackageEntry(SYN),
        DomainPackageEntry(PLUGIN),
    ]
    assert [e.package_id for e in prerequisites_first(entries)] == [PLUGIN, LICENSE, SYN]
    physical_id = domain_packages_physical_id("search-domain")
    assert parse_domain_packages_physical_id(physical_id) == "search-domain"
    assert parse_domain_packages_physical_id("search-domain|F1") is None
    assert parse_domain_packages_physical_id(None) is None
