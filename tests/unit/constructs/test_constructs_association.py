"""The Custom::OpenSearchPackageAssociation contract, its permissions and ordering."""

from __future__ import annotations

from typing import Any

import aws_cdk
from aws_cdk import assertions, aws_s3
from construct_stacks import FullStack

from cdk_opensearch_packages import OpenSearchPackage, PackageSource, PackageType
from cdk_opensearch_packages.association import OpenSearchPackageAssociation


def service_token(full: FullStack) -> dict[str, Any]:
    return {"Fn::GetAtt": [full.logical_id(full.provider.function), "Arn"]}


def get_att(full: FullStack, construct: Any, attribute: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [full.logical_id(construct), attribute]}


def domain_name_arn(name: str) -> dict[str, Any]:
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":es:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                f":domain/{name}",
            ],
        ]
    }


def test_association_of_an_owned_package_follows_its_version(full: FullStack) -> None:
    resource = full.resource(full.synonyms_on_domain)
    assert resource["Type"] == "Custom::OpenSearchPackageAssociation"
    assert resource["Properties"] == {
        "ServiceToken": service_token(full),
        "ServiceTimeout": "3600",
        "PackageID": get_att(full, full.synonyms, "PackageID"),
        "DomainName": {"Ref": full.logical_id(full.domain)},
        "OspPackageVersion": get_att(full, full.synonyms, "PackageVersion"),
    }


def test_plugin_association_with_prerequisites_and_key_store_role(full: FullStack) -> None:
    assert full.resource(full.plugin_on_domain)["Properties"] == {
        "ServiceToken": service_token(full),
        "ServiceTimeout": "2700",
        "PackageID": get_att(full, full.plugin, "PackageID"),
        "DomainName": {"Ref": full.logical_id(full.domain)},
        "PrerequisitePackageIDList": [get_att(full, _license_on_domain(full), "PackageID")],
        "AssociationConfiguration": {
            "KeyStoreAccessOption": {
                "KeyAccessRoleArn": get_att(full, full.key_store_role, "Arn"),
                "KeyStoreAccessEnabled": True,
            }
        },
        "OspPackageVersion": get_att(full, full.plugin, "PackageVersion"),
    }


def test_association_of_an_imported_package_by_domain_name(full: FullStack) -> None:
    assert full.resource(full.imported_on_logs)["Properties"] == {
        "ServiceToken": service_token(full),
        "ServiceTimeout": "3600",
        "PackageID": "F123456789",
        "DomainName": "logs-domain",
    }


def test_attributes_are_get_att_tokens(full: FullStack) -> None:
    association = full.synonyms_on_domain
    resolve = full.stack.resolve
    for attribute, value in (
        ("ReferencePath", association.reference_path),
        ("PackageVersion", association.package_version),
        ("DomainName", association.domain_name),
        ("PackageID", association.package_id),
    ):
        assert resolve(value) == get_att(full, association, attribute)


def test_domains_prop_associates_like_associate(full: FullStack) -> None:
    assert isinstance(full.synonyms_on_domain, OpenSearchPackageAssociation)
    assert full.synonyms_on_domain.node.scope is full.synonyms
    assert full.synonyms_on_domain.node.id == "AssociationDomain"
    assert full.synonyms_on_logs.node.id == "Associationlogs-domain"


def _license_on_domain(full: FullStack) -> OpenSearchPackageAssociation:
    association = full.license.node.find_child("AssociationDomain")
    assert isinstance(association, OpenSearchPackageAssociation)
    return association


def test_associations_on_one_domain_run_one_after_the_other(full: FullStack) -> None:
    # synonyms, then the plugin's license (made by the plugin's association), then the plugin.
    license_on_domain = _license_on_domain(full)
    assert full.logical_id(full.synonyms_on_domain) in full.resource(license_on_domain)["DependsOn"]
    on_domain = full.resource(full.plugin_on_domain)
    assert on_domain["Properties"]["PrerequisitePackageIDList"] == [
        get_att(full, license_on_domain, "PackageID")
    ]
    on_logs = full.resource(full.synonyms_on_logs)["DependsOn"]
    assert full.logical_id(full.imported_on_logs) in on_logs
    # The first association on each domain waits for no other association.
    for first in (full.synonyms_on_domain, full.imported_on_logs):
        depends_on = full.resource(first).get("DependsOn", [])
        assert not [
            name
            for name in depends_on
            if full.template.to_json()["Resources"][name]["Type"]
            == "Custom::OpenSearchPackageAssociation"
        ]
    # Associations on different domains are not chained to each other.
    assert full.logical_id(full.synonyms_on_domain) not in on_logs


def test_prerequisites_are_associated_with_the_domain_first(full: FullStack) -> None:
    """AWS: prerequisites "must be associated with the domain before" the plugin. The plugin's
    PrerequisitePackageIDList reads them from their associations: that GetAtt orders the plugin
    after them (no redundant DependsOn), and CloudFormation dissociates them after it."""
    license_on_domain = _license_on_domain(full)
    assert full.resource(license_on_domain)["Properties"] == {
        "ServiceToken": service_token(full),
        "ServiceTimeout": "3600",
        "PackageID": get_att(full, full.license, "PackageID"),
        "DomainName": {"Ref": full.logical_id(full.domain)},
        "OspPackageVersion": get_att(full, full.license, "PackageVersion"),
    }
    resource = full.resource(full.plugin_on_domain)
    assert resource["Properties"]["PrerequisitePackageIDList"] == [
        get_att(full, license_on_domain, "PackageID")
    ]
    assert full.logical_id(license_on_domain) not in resource.get("DependsOn", [])


def test_a_prerequisite_association_already_in_the_stack_is_reused() -> None:
    stack = aws_cdk.Stack(aws_cdk.App(), "Reuse")
    bucket = aws_s3.Bucket.from_bucket_name(stack, "Bucket", "artifacts")
    license_package = OpenSearchPackage(
        stack,
        "License",
        package_type=PackageType.PACKAGE_LICENSE,
        source=PackageSource.from_bucket(bucket, "license.txt"),
    )
    plugin = OpenSearchPackage.from_package_id(stack, "Plugin", "F123456789")
    first = license_package.associate("search-domain")

    plugin.associate("search-domain", prerequisites=[license_package])  # reuses `first`
    plugin.associate("logs-domain", prerequisites=[license_package])  # a new one on logs-domain

    template = assertions.Template.from_stack(stack)
    template.resource_count_is("Custom::OpenSearchPackageAssociation", 4)
    found = template.find_resources(
        "Custom::OpenSearchPackageAssociation",
        {"Properties": {"PackageID": "F123456789", "DomainName": "search-domain"}},
    )
    (plugin_on_search,) = found.values()
    assert plugin_on_search["Properties"]["PrerequisitePackageIDList"] == [
        stack.resolve(first.package_id)
    ]


def test_domain_actions_scoped_to_the_associated_domains(full: FullStack) -> None:
    policy = full.resource(full.provider.policy)
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    domain_statements = [s for s in statements if "es:AssociatePackage" in s["Action"]]
    assert len(domain_statements) == 1
    statement = domain_statements[0]
    assert sorted(statement["Action"]) == [
        "es:AssociatePackage",
        "es:DissociatePackage",
        "es:ListPackagesForDomain",
    ]
    assert statement["Resource"] == [
        get_att(full, full.domain, "Arn"),
        domain_name_arn("logs-domain"),
    ]


def test_key_store_role_may_only_be_passed_to_opensearch(full: FullStack) -> None:
    policy = full.resource(full.provider.policy)
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert [s for s in statements if s["Action"] == "iam:PassRole"] == [
        {
            "Action": "iam:PassRole",
            "Condition": {"StringEquals": {"iam:PassedToService": "es.amazonaws.com"}},
            "Effect": "Allow",
            "Resource": get_att(full, full.key_store_role, "Arn"),
        }
    ]
