"""A package shared between two accounts, end to end: an owner stack shares a dictionary with a
consumer account (``shared_with``), a consumer stack in that account finds it by name and owner
(``from_package_name``) and associates it with its own domain; the owner then adds an account
and removes the consumer, and both stacks are deleted.

Each stack's provider calls the local OpenSearch API with its own account's credentials (the
access key id tells the accounts apart). What the consumer sees once removed from the list is the
emulation's UNVERIFIED assumption (docs/DESIGN.md, README "Sharing packages").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from e2e_support import CONSUMER_ACCOUNT

from cdk_opensearch_packages.local.aws.constants import (
    ACCOUNT_ID,
    FAKE_CREDENTIALS,
    access_key_id,
    credentials,
)
from cdk_opensearch_packages.local.aws.env import LocalAws
from cdk_opensearch_packages.local.awslambda.runner import FunctionConfig, LambdaRunner
from cdk_opensearch_packages.local.cloudformation.assembly import CloudAssembly, StackArtifact
from cdk_opensearch_packages.local.cloudformation.model import StackResult

OWNER_STACK = "SharingOwner"
CONSUMER_STACK = "SharingConsumer"
PACKAGE_NAME = "shared-synonyms"
CONSUMER_DOMAIN = "consumer-search"
THIRD_ACCOUNT = "333344445555"


@dataclass(frozen=True)
class Apps:
    """Every version of the owner and consumer stacks, synthesized once into one assembly."""

    assembly: CloudAssembly

    def artifact(self, artifact_id: str) -> StackArtifact:
        [found] = [a for a in self.assembly.stacks if a.artifact_id == artifact_id]
        return found


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Apps:
    import aws_cdk
    from aws_cdk import aws_opensearchservice

    from cdk_opensearch_packages import (
        DictionaryKind,
        OpenSearchPackage,
        PackageSource,
        PackageType,
    )

    work = tmp_path_factory.mktemp("sharing")
    dictionary = work / "synonyms.txt"
    dictionary.write_text("couch, sofa, settee\nlaptop, notebook\n", encoding="utf-8")
    app = aws_cdk.App(outdir=str(work / "cdk.out"))

    def owner(id: str, shared_with: list[str]) -> None:
        stack = aws_cdk.Stack(app, id, stack_name=OWNER_STACK)
        package = OpenSearchPackage(
            stack,
            "Shared",
            package_type=PackageType.TXT_DICTIONARY,
            source=PackageSource.from_asset(str(dictionary)),
            package_name=PACKAGE_NAME,
            dictionary_kind=DictionaryKind.SYNONYMS,
            vending_enabled=True,
            shared_with=shared_with,
        )
        aws_cdk.CfnOutput(stack, "PackageId", value=package.package_id)

    def consumer(id: str, refresh_key: str) -> None:
        stack = aws_cdk.Stack(app, id, stack_name=CONSUMER_STACK)
        domain = aws_opensearchservice.Domain(
            stack,
            "Domain",
            domain_name=CONSUMER_DOMAIN,
            version=aws_opensearchservice.EngineVersion.OPENSEARCH_2_19,
            removal_policy=aws_cdk.RemovalPolicy.DESTROY,
        )
        shared = OpenSearchPackage.from_package_name(
            stack, "Shared", PACKAGE_NAME, package_owner=ACCOUNT_ID, refresh_key=refresh_key
        )
        association = shared.associate(domain)
        aws_cdk.CfnOutput(stack, "PackageId", value=shared.package_id)
        aws_cdk.CfnOutput(stack, "ReferencePath", value=association.reference_path)

    owner("OwnerShared", [CONSUMER_ACCOUNT])
    owner("OwnerAdded", [CONSUMER_ACCOUNT, THIRD_ACCOUNT])
    owner("OwnerRemoved", [THIRD_ACCOUNT])
    consumer("Consumer", "1")
    consumer("ConsumerRefreshed", "2")
    app.synth()
    return Apps(CloudAssembly.load(work / "cdk.out"))


def _deploy(aws: LocalAws, apps: Apps, artifact_id: str, account: str | None) -> StackResult:
    return aws.cloudformation.deploy_artifact(apps.artifact(artifact_id), account=account)


def _owner_view(aws: LocalAws, package_id: str) -> dict[str, Any]:
    [details] = aws.opensearch_client.describe_packages(
        Filters=[{"Name": "PackageID", "Value": [package_id]}]
    )["PackageDetailsList"]
    return dict(details)


def _consumer_sees(aws: LocalAws) -> list[str]:
    """The packages of the owner that DescribePackages shows the consumer."""
    listed = aws.opensearch_client_for(CONSUMER_ACCOUNT).describe_packages(
        Filters=[{"Name": "PackageOwner", "Value": [ACCOUNT_ID]}]
    )["PackageDetailsList"]
    return [str(details["PackageID"]) for details in listed]


@pytest.mark.slow
def test_owner_and_consumer_stacks_share_a_package(aws: LocalAws, apps: Apps) -> None:
    owner = _deploy(aws, apps, "OwnerShared", None)
    assert owner.status == "CREATE_COMPLETE", owner.describe()
    package_id = owner.outputs["PackageId"]
    assert _owner_view(aws, package_id)["AllowListedUserList"] == [CONSUMER_ACCOUNT]
    assert _consumer_sees(aws) == [package_id]

    consumer = _deploy(aws, apps, "Consumer", CONSUMER_ACCOUNT)

    assert consumer.status == "CREATE_COMPLETE", consumer.describe()
    assert consumer.outputs["PackageId"] == package_id
    assert consumer.outputs["ReferencePath"] == f"analyzers/{package_id}"
    consumer_client = aws.opensearch_client_for(CONSUMER_ACCOUNT)
    [association] = consumer_client.list_packages_for_domain(DomainName=CONSUMER_DOMAIN)[
        "DomainPackageDetailsList"
    ]
    assert (association["PackageID"], association["DomainPackageStatus"]) == (package_id, "ACTIVE")
    assert aws.opensearch is not None
    calls = aws.opensearch.calls()
    associations = [c for c in calls if c.operation.startswith("AssociatePackage")]
    assert {c.account_id for c in associations} == {CONSUMER_ACCOUNT}
    assert {c.account_id for c in calls if c.operation == "UpdatePackageScope"} == {ACCOUNT_ID}

    # An account added, in place.
    added = _deploy(aws, apps, "OwnerAdded", None)
    assert added.status == "UPDATE_COMPLETE", added.describe()
    assert added.outputs["PackageId"] == package_id
    assert sorted(_owner_view(aws, package_id)["AllowListedUserList"]) == [
        CONSUMER_ACCOUNT,
        THIRD_ACCOUNT,
    ]

    # The consumer removed: the package disappears from its view; its association stays
    # (UNVERIFIED), and a new lookup fails with the lookup's message. CloudFormation's rollback
    # runs the lookup again with the old properties, which fails the same way: the stack ends
    # UPDATE_ROLLBACK_FAILED (README: continue the rollback skipping the lookup, or delete).
    removed = _deploy(aws, apps, "OwnerRemoved", None)
    assert removed.status == "UPDATE_COMPLETE", removed.describe()
    assert removed.outputs["PackageId"] == package_id
    assert _owner_view(aws, package_id)["AllowListedUserList"] == [THIRD_ACCOUNT]
    assert _consumer_sees(aws) == []
    [association] = consumer_client.list_packages_for_domain(DomainName=CONSUMER_DOMAIN)[
        "DomainPackageDetailsList"
    ]
    assert association["DomainPackageStatus"] == "ACTIVE"
    refreshed = _deploy(aws, apps, "ConsumerRefreshed", CONSUMER_ACCOUNT)
    assert refreshed.status == "UPDATE_ROLLBACK_FAILED", refreshed.describe()
    assert f"no package named '{PACKAGE_NAME}'" in refreshed.describe()
    scope_calls = [c for c in aws.opensearch.calls() if c.operation == "UpdatePackageScope"]
    assert [(c.params or {}).get("Operation") for c in scope_calls] == ["OVERRIDE"] * 3

    # Both stacks delete cleanly: the consumer dissociates, then the owner deletes the package
    # (without unsharing it first).
    deleted = aws.cloudformation.delete(CONSUMER_STACK)
    assert deleted.status == "DELETE_COMPLETE", deleted.describe()
    deleted = aws.cloudformation.delete(OWNER_STACK)
    assert deleted.status == "DELETE_COMPLETE", deleted.describe()
    aws.runner.wait_idle(30)
    assert aws.inventory().orphans() == {}
    assert len([c for c in aws.opensearch.calls() if c.operation == "UpdatePackageScope"]) == 3


def test_deploying_into_an_account_that_is_not_emulated_fails(aws: LocalAws, apps: Apps) -> None:
    from cdk_opensearch_packages.local.cloudformation.intrinsics import TemplateError

    with pytest.raises(TemplateError, match="not emulated"):
        _deploy(aws, apps, "Consumer", "999999999999")


def test_a_function_of_another_account_runs_with_its_credentials(tmp_path: Path) -> None:
    """The function's own variables never replace the emulation's credentials; an account's
    credentials do, and the OpenSearch API maps their access key id to the account."""
    runner = LambdaRunner(
        base_environment={"AWS_ACCESS_KEY_ID": access_key_id(ACCOUNT_ID)}, work_dir=tmp_path
    )
    try:
        mine = runner.environment(
            FunctionConfig(
                "consumer",
                tmp_path,
                environment={"AWS_ACCESS_KEY_ID": "from-the-template"},
                account_environment=credentials(CONSUMER_ACCOUNT),
            )
        )
        default = runner.environment(FunctionConfig("owner", tmp_path))
    finally:
        runner.close()
    assert mine["AWS_ACCESS_KEY_ID"] == access_key_id(CONSUMER_ACCOUNT)
    assert default["AWS_ACCESS_KEY_ID"] == access_key_id(ACCOUNT_ID)
    assert access_key_id(ACCOUNT_ID) == FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"]
    assert len(access_key_id(CONSUMER_ACCOUNT)) == len(access_key_id(ACCOUNT_ID)) == 20
