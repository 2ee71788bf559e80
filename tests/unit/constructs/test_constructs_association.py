"""Associations: one Custom::OpenSearchDomainPackages per domain and stack, its contract,
third-party plugins as AWS documents them, permissions."""

from __future__ import annotations

import inspect
from typing import Any

import aws_cdk
import pytest
from aws_cdk import assertions, aws_opensearchservice, aws_s3
from construct_stacks import FullStack

from cdk_opensearch_packages import (
    OpenSearchDomainPackages,
    OpenSearchPackage,
    PackageConfiguration,
    PackageSource,
    PackageType,
    RequirementLevel,
)
from cdk_opensearch_packages.association import OpenSearchPackageAssociation

SET_TYPE = "Custom::OpenSearchDomainPackages"


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


def entry(full: FullStack, association: OpenSearchPackageAssociation, **extra: Any) -> Any:
    package = association.package
    rendered: dict[str, Any] = {
        "PackageID": get_att(full, package, "PackageID"),
        "OspKey": association.entry.key,
        **extra,
    }
    rendered["OspPackageVersion"] = get_att(full, package, "PackageVersion")
    return rendered


def license_on_domain(full: FullStack) -> OpenSearchPackageAssociation:
    association = full.license.node.find_child("AssociationDomain")
    assert isinstance(association, OpenSearchPackageAssociation)
    return association


def test_one_resource_per_domain_holds_every_package_of_the_stack(full: FullStack) -> None:
    full.template.resource_count_is(SET_TYPE, 2)
    full.template.resource_count_is("Custom::OpenSearchPackageAssociation", 0)
    on_domain = full.synonyms_on_domain.domain_packages
    assert full.plugin_on_domain.domain_packages is on_domain
    assert license_on_domain(full).domain_packages is on_domain
    assert full.synonyms_on_logs.domain_packages is full.imported_on_logs.domain_packages
    assert full.synonyms_on_logs.domain_packages is not on_domain


def test_the_set_lists_the_plugin_first_and_its_license_with_the_plugin_as_prerequisite(
    full: FullStack,
) -> None:
    resource = full.resource(full.synonyms_on_domain.domain_packages)
    assert resource["Type"] == SET_TYPE
    properties = resource["Properties"]
    assert properties["ServiceToken"] == service_token(full)
    assert properties["DomainName"] == {"Ref": full.logical_id(full.domain)}
    # The longest timeout an association asked for (the plugin's 45 minutes).
    assert int(properties["ServiceTimeout"]) == 2700
    assert properties["PackageList"] == [
        entry(full, full.synonyms_on_domain),
        entry(
            full,
            full.plugin_on_domain,
            AssociationConfiguration={
                "KeyStoreAccessOption": {
                    "KeyAccessRoleArn": get_att(full, full.key_store_role, "Arn"),
                    "KeyStoreAccessEnabled": True,
                }
            },
        ),
        entry(
            full,
            license_on_domain(full),
            PrerequisitePackageIDList=[get_att(full, full.plugin, "PackageID")],
        ),
    ]
    assert full.plugin_on_domain.license is license_on_domain(full)
    assert full.plugin_on_domain.configuration is None


def test_an_imported_package_by_domain_name(full: FullStack) -> None:
    properties = full.resource(full.imported_on_logs.domain_packages)["Properties"]
    assert properties["DomainName"] == "logs-domain"
    assert int(properties["ServiceTimeout"]) == 3600
    assert properties["PackageList"][0] == {
        "PackageID": "F123456789",
        "OspKey": full.imported_on_logs.entry.key,
    }


def test_attributes_are_typed_properties_read_from_the_set(full: FullStack) -> None:
    association = full.synonyms_on_domain
    resolve = full.stack.resolve
    packages = association.domain_packages
    key = association.entry.key
    for attribute, value in (
        ("ReferencePath", association.reference_path),
        ("PackageVersion", association.package_version),
        ("PackageID", association.package_id),
    ):
        assert resolve(value) == get_att(full, packages, f"{key}.{attribute}")
    assert resolve(association.domain_name) == get_att(full, packages, "DomainName")
    for name in ("reference_path", "package_version", "domain_name", "package_id"):
        member = inspect.getattr_static(OpenSearchPackageAssociation, name)
        assert isinstance(member, property), name
        assert member.__doc__ and member.fget is not None
        assert inspect.signature(member.fget).return_annotation in ("str", str)
        assert name in dir(OpenSearchPackageAssociation)


def test_domains_prop_associates_like_associate(full: FullStack) -> None:
    assert isinstance(full.synonyms_on_domain, OpenSearchPackageAssociation)
    assert full.synonyms_on_domain.node.scope is full.synonyms
    assert full.synonyms_on_domain.node.id == "AssociationDomain"
    assert full.synonyms_on_logs.node.id == "Associationlogs-domain"


def test_domain_actions_scoped_to_the_associated_domains(full: FullStack) -> None:
    policy = full.resource(full.provider.policy)
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    domain_statements = [s for s in statements if "es:AssociatePackages" in s["Action"]]
    assert len(domain_statements) == 1
    statement = domain_statements[0]
    assert sorted(statement["Action"]) == [
        "es:AssociatePackages",
        "es:DissociatePackages",
        "es:ListPackagesForDomain",
    ]
    assert statement["Resource"] == [
        get_att(full, full.domain, "Arn"),
        domain_name_arn("logs-domain"),
    ]
    granted = {
        a
        for s in statements
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert not {"es:AssociatePackage", "es:DissociatePackage"} & granted


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


# third-party plugins -------------------------------------------------------------------------


def plugin_stack(
    license_requirement: RequirementLevel = RequirementLevel.REQUIRED,
    configuration_requirement: RequirementLevel = RequirementLevel.OPTIONAL,
) -> tuple[aws_cdk.Stack, dict[str, OpenSearchPackage]]:
    stack = aws_cdk.Stack(aws_cdk.App(), "Plugins")
    bucket = aws_s3.Bucket.from_bucket_name(stack, "Bucket", "artifacts")
    packages = {
        name: OpenSearchPackage(
            stack,
            name.capitalize(),
            package_type=package_type,
            source=PackageSource.from_bucket(bucket, f"{name}.bin"),
        )
        for name, package_type in (
            ("license", PackageType.PACKAGE_LICENSE),
            ("config", PackageType.PACKAGE_CONFIG),
            ("dictionary", PackageType.TXT_DICTIONARY),
        )
    }
    packages["plugin"] = OpenSearchPackage(
        stack,
        "Plugin",
        package_type=PackageType.ZIP_PLUGIN,
        source=PackageSource.from_bucket(bucket, "plugin.zip"),
        engine_version=aws_opensearchservice.EngineVersion.OPENSEARCH_2_19,
        configuration=PackageConfiguration(
            license_requirement=license_requirement,
            configuration_requirement=configuration_requirement,
        ),
    )
    return stack, packages


def package_list(stack: aws_cdk.Stack) -> list[dict[str, Any]]:
    (resource,) = assertions.Template.from_stack(stack).find_resources(SET_TYPE).values()
    return list(resource["Properties"]["PackageList"])


def test_a_third_party_plugin_its_license_and_configuration_in_one_set() -> None:
    stack, packages = plugin_stack()
    association = packages["plugin"].associate(
        "search-domain", license=packages["license"], configuration=packages["config"]
    )
    plugin_id = stack.resolve(packages["plugin"].package_id)
    listed = package_list(stack)
    assert [item["PackageID"] for item in listed] == [
        stack.resolve(packages[name].package_id) for name in ("plugin", "license", "config")
    ]
    assert "PrerequisitePackageIDList" not in listed[0]
    assert listed[1]["PrerequisitePackageIDList"] == [plugin_id]
    assert listed[2]["PrerequisitePackageIDList"] == [plugin_id]
    assert association.license is not None and association.configuration is not None
    assert association.license.node.scope is packages["license"]


def test_a_license_associated_before_its_plugin_is_reused() -> None:
    stack, packages = plugin_stack()
    first = packages["license"].associate("search-domain")
    association = packages["plugin"].associate("search-domain", license=packages["license"])
    assert association.license is first
    listed = package_list(stack)
    assert len(listed) == 2
    assert listed[0]["PrerequisitePackageIDList"] == [stack.resolve(packages["plugin"].package_id)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"license": "config"},
            "the license package must be a PACKAGE-LICENSE, not a PACKAGE-CONFIG",
        ),
        ({"configuration": "license"}, "must be a PACKAGE-CONFIG, not a PACKAGE-LICENSE"),
        ({"prerequisites": ["license"]}, "Pass it as license=... instead"),
    ],
)
def test_the_types_of_a_plugins_parts_are_checked(kwargs: dict[str, Any], message: str) -> None:
    _, packages = plugin_stack()
    given = {
        key: [packages[v] for v in value] if isinstance(value, list) else packages[value]
        for key, value in kwargs.items()
    }
    with pytest.raises(ValueError, match="Plugins/Plugin/Associationsearch-domain") as excinfo:
        packages["plugin"].associate("search-domain", **given)
    assert message in str(excinfo.value)


def test_only_a_plugin_takes_a_license() -> None:
    _, packages = plugin_stack()
    with pytest.raises(ValueError, match="only a ZIP-PLUGIN takes a license package"):
        packages["dictionary"].associate("search-domain", license=packages["license"])


def test_a_plugin_that_needs_no_license_takes_none() -> None:
    _, packages = plugin_stack(license_requirement=RequirementLevel.NONE)
    with pytest.raises(ValueError, match="license_requirement NONE"):
        packages["plugin"].associate("search-domain", license=packages["license"])


@pytest.mark.parametrize("missing", ["license", "configuration"])
def test_a_plugin_that_requires_a_license_or_configuration_gets_one_at_synth(
    missing: str,
) -> None:
    stack, packages = plugin_stack(configuration_requirement=RequirementLevel.REQUIRED)
    given = {"license": packages["license"], "configuration": packages["config"]}
    del given[missing]
    packages["plugin"].associate("search-domain", **given)
    with pytest.raises(Exception, match=f"Plugins/Plugin: {missing}: the plugin's") as excinfo:
        assertions.Template.from_stack(stack)
    assert f"pass {missing}=" in str(excinfo.value)


def test_the_set_of_a_domain_can_be_read_and_has_one_instance_per_stack() -> None:
    stack, packages = plugin_stack()
    association = packages["dictionary"].associate("search-domain")
    packages_on_domain = OpenSearchDomainPackages.of(stack, "search-domain")
    assert packages_on_domain is association.domain_packages
    assert packages_on_domain.entries[0].package is packages["dictionary"]
    with pytest.raises(ValueError, match="already has a package set for this domain"):
        OpenSearchDomainPackages(stack, "Another", domain="search-domain")
