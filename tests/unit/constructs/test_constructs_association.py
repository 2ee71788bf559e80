"""The Custom::OpenSearchPackageAssociation contract, its permissions and ordering."""

from __future__ import annotations

from typing import Any

from construct_stacks import FullStack

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
        "PrerequisitePackageIDList": [get_att(full, full.license, "PackageID")],
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


def test_associations_on_one_domain_run_one_after_the_other(full: FullStack) -> None:
    on_domain = full.resource(full.plugin_on_domain)["DependsOn"]
    assert full.logical_id(full.synonyms_on_domain) in on_domain
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


def test_prerequisite_packages_exist_before_the_association(full: FullStack) -> None:
    """The GetAtt in PrerequisitePackageIDList orders the association (no redundant DependsOn)."""
    resource = full.resource(full.plugin_on_domain)
    assert resource["Properties"]["PrerequisitePackageIDList"] == [
        get_att(full, full.license, "PackageID")
    ]
    assert full.logical_id(full.license) not in resource.get("DependsOn", [])


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
