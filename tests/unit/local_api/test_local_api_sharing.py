"""Several accounts and UpdatePackageScope: who sees, changes and associates a shared package."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from local_api_helpers import PHASE, create_available, describe, error_code

from cdk_opensearch_packages.local.opensearch.api import LocalOpenSearchService, ManualClock

OWNER = "123456789012"
CONSUMER = "210987654321"
STRANGER = "333333333333"
NO_RETRY = Config(retries={"mode": "standard", "total_max_attempts": 1})


@pytest.fixture
def consumer(service: LocalOpenSearchService) -> Any:
    """A client of the consumer account (its own access key id)."""
    service.access_keys["AKIACONSUMERLOCAL001"] = CONSUMER
    service.access_keys["AKIASTRANGERLOCAL001"] = STRANGER
    service.register_domain("consumer-search", account_id=CONSUMER)
    return service.client(NO_RETRY, account_id=CONSUMER)


@pytest.fixture
def stranger(consumer: Any, service: LocalOpenSearchService) -> Any:
    service.register_domain("stranger-search", account_id=STRANGER)
    return service.client(NO_RETRY, account_id=STRANGER)


def visible(client: Any, **filters: str) -> list[str]:
    """The ids of the packages DescribePackages shows ``client`` (with ``filters``)."""
    listed = client.describe_packages(
        Filters=[{"Name": name, "Value": [value]} for name, value in filters.items()]
    )
    return [details["PackageID"] for details in listed["PackageDetailsList"]]


def vended(client: Any, clock: ManualClock, put: Any) -> str:
    return create_available(
        client, clock, put(b"a, b\n"), PackageVendingOptions={"VendingEnabled": True}
    )


def test_the_calling_account_follows_the_access_key(
    service: LocalOpenSearchService, client: Any, consumer: Any, clock: ManualClock, put: Any
) -> None:
    mine = create_available(consumer, clock, put(b"x\n"))
    assert describe(consumer, mine)["PackageOwner"] == CONSUMER
    assert visible(client, PackageOwner=CONSUMER) == []  # not shared: invisible to others
    calls = service.calls()
    assert {call.account_id for call in calls} == {OWNER, CONSUMER}
    # names are per account: the owner may use the consumer's name
    name = describe(consumer, mine)["PackageName"]
    client.create_package(PackageName=name, PackageType="TXT-DICTIONARY", PackageSource=put(b"y\n"))


def test_an_allow_listed_account_sees_and_associates_the_package(
    client: Any, consumer: Any, stranger: Any, clock: ManualClock, put: Any
) -> None:
    package_id = vended(client, clock, put)
    assert visible(consumer, PackageOwner=OWNER) == []

    answer = client.update_package_scope(
        PackageID=package_id, Operation="ADD", PackageUserList=[CONSUMER]
    )

    assert (answer["Operation"], answer["PackageUserList"]) == ("ADD", [CONSUMER])
    assert describe(client, package_id)["AllowListedUserList"] == [CONSUMER]
    seen = describe(consumer, package_id)
    assert seen["PackageOwner"] == OWNER
    assert "AllowListedUserList" not in seen  # the owner's only
    assert visible(consumer, PackageOwner=OWNER, PackageName=seen["PackageName"]) == [package_id]
    assert visible(stranger) == []
    consumer.associate_package(PackageID=package_id, DomainName="consumer-search")
    clock.advance(PHASE)
    [association] = consumer.list_packages_for_domain(DomainName="consumer-search")[
        "DomainPackageDetailsList"
    ]
    assert association["DomainPackageStatus"] == "ACTIVE"
    # the owner never sees another account's domains
    assert client.list_domains_for_package(PackageID=package_id)["DomainPackageDetailsList"] == []
    with pytest.raises(ClientError) as excinfo:
        stranger.associate_package(PackageID=package_id, DomainName="stranger-search")
    assert error_code(excinfo)[:2] == ("ResourceNotFoundException", 409)
    with pytest.raises(ClientError) as excinfo:
        consumer.associate_package(PackageID=package_id, DomainName="stranger-search")
    assert error_code(excinfo)[0] == "ResourceNotFoundException"  # another account's domain


def test_global_shares_with_every_account(
    client: Any, consumer: Any, stranger: Any, clock: ManualClock, put: Any
) -> None:
    package_id = vended(client, clock, put)
    client.update_package_scope(
        PackageID=package_id, Operation="OVERRIDE", PackageUserList=["GLOBAL"]
    )
    assert visible(consumer, PackageID=package_id) == visible(stranger, PackageID=package_id)
    assert visible(stranger, PackageID=package_id) == [package_id]


def test_add_remove_override(client: Any, consumer: Any, clock: ManualClock, put: Any) -> None:
    package_id = vended(client, clock, put)

    def scope(operation: str, *users: str) -> list[str]:
        answer = client.update_package_scope(
            PackageID=package_id, Operation=operation, PackageUserList=list(users)
        )
        listed = describe(client, package_id).get("AllowListedUserList", [])
        assert answer["PackageUserList"] == listed
        return list(listed)

    assert scope("ADD", CONSUMER, STRANGER, CONSUMER) == [CONSUMER, STRANGER]
    assert scope("ADD", CONSUMER) == [CONSUMER, STRANGER]
    assert scope("REMOVE", STRANGER, "444444444444") == [CONSUMER]
    assert scope("OVERRIDE", STRANGER) == [STRANGER]
    assert scope("REMOVE", STRANGER) == []


def test_only_the_owner_changes_the_scope_of_a_vended_package(
    client: Any, consumer: Any, clock: ManualClock, put: Any
) -> None:
    private = create_available(client, clock, put(b"p\n"))
    with pytest.raises(ClientError) as excinfo:
        client.update_package_scope(PackageID=private, Operation="ADD", PackageUserList=[CONSUMER])
    code, status, message = error_code(excinfo)
    assert (code, status) == ("ValidationException", 400)
    assert "not vended" in message

    package_id = vended(client, clock, put)
    client.update_package_scope(PackageID=package_id, Operation="ADD", PackageUserList=[CONSUMER])
    for call in (
        lambda: consumer.update_package_scope(
            PackageID=package_id, Operation="ADD", PackageUserList=[STRANGER]
        ),
        lambda: consumer.delete_package(PackageID=package_id),
        lambda: consumer.update_package(
            PackageID=package_id, PackageSource=describe_source(package_id)
        ),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_code(excinfo)[0] == "ResourceNotFoundException"


def describe_source(package_id: str) -> dict[str, str]:
    return {"S3BucketName": "packages", "S3Key": f"{package_id}.txt"}


def test_removed_from_the_list_the_consumer_keeps_its_association_but_cannot_associate_again(
    service: LocalOpenSearchService, client: Any, consumer: Any, clock: ManualClock, put: Any
) -> None:
    """The emulation's UNVERIFIED assumption: the association stays; the package is invisible."""
    package_id = vended(client, clock, put)
    client.update_package_scope(PackageID=package_id, Operation="ADD", PackageUserList=[CONSUMER])
    consumer.associate_package(PackageID=package_id, DomainName="consumer-search")
    clock.advance(PHASE)

    client.update_package_scope(
        PackageID=package_id, Operation="REMOVE", PackageUserList=[CONSUMER]
    )

    assert visible(consumer, PackageOwner=OWNER) == []
    [association] = consumer.list_packages_for_domain(DomainName="consumer-search")[
        "DomainPackageDetailsList"
    ]
    assert (association["PackageID"], association["DomainPackageStatus"]) == (package_id, "ACTIVE")
    with pytest.raises(ClientError) as excinfo:
        consumer.associate_package(PackageID=package_id, DomainName="consumer-search")
    assert error_code(excinfo)[0] == "ResourceNotFoundException"
    # the owner cannot delete it while the consumer's domain uses it
    with pytest.raises(ClientError) as excinfo:
        client.delete_package(PackageID=package_id)
    code, _, message = error_code(excinfo)
    assert code == "ConflictException"
    assert "1 domain(s) of other accounts" in message
    assert "consumer-search" not in message  # another account's domain is not named
    consumer.dissociate_package(PackageID=package_id, DomainName="consumer-search")
    clock.advance(PHASE)
    assert (
        consumer.list_packages_for_domain(DomainName="consumer-search")["DomainPackageDetailsList"]
        == []
    )
    client.delete_package(PackageID=package_id)
    assert [c.account_id for c in service.calls() if c.operation == "DissociatePackage"] == [
        CONSUMER
    ]


def test_domain_names_are_unique_across_accounts(service: LocalOpenSearchService) -> None:
    service.register_domain("shared-name", account_id=CONSUMER)
    with pytest.raises(ValueError, match="exists in account 210987654321"):
        service.register_domain("shared-name")
    assert {d["DomainName"]: d["AccountId"] for d in service.domains()}["shared-name"] == CONSUMER


def test_sharing_survives_export_and_import(
    service: LocalOpenSearchService, client: Any, consumer: Any, clock: ManualClock, put: Any
) -> None:
    """The command line's saved state keeps allow-lists and the accounts of domains."""
    package_id = vended(client, clock, put)
    client.update_package_scope(PackageID=package_id, Operation="ADD", PackageUserList=[CONSUMER])
    restored = LocalOpenSearchService(clock=clock, seed=7, source_reader=None)
    restored.import_state(json.loads(json.dumps(service.export_state())))
    restored.access_keys.update(service.access_keys)
    with restored:
        seen = restored.client(NO_RETRY, account_id=CONSUMER)
        assert visible(seen, PackageOwner=OWNER) == [package_id]
        seen.associate_package(PackageID=package_id, DomainName="consumer-search")
    assert {d["DomainName"]: d["AccountId"] for d in restored.domains()} == {
        "consumer-search": CONSUMER
    }


def test_a_package_added_as_made_by_another_account_is_shared_with_this_one(
    service: LocalOpenSearchService, client: Any
) -> None:
    """``packages add`` with an owner: the package a stack of this account imports by name and
    owner is visible to it, as a package shared with it would be."""
    details = service.add_existing_package(
        name="company-synonyms", package_type="TXT-DICTIONARY", owner=CONSUMER
    )
    assert "AllowListedUserList" not in details
    assert visible(client, PackageName="company-synonyms", PackageOwner=CONSUMER) == [
        details["PackageID"]
    ]
