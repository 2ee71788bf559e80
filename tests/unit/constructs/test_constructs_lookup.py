"""OpenSearchPackage.from_package_name: the Custom::OpenSearchPackageLookup contract, associations
of looked-up packages, and the synth-time checks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import aws_cdk
import pytest
from aws_cdk import assertions
from synth_problems import synth_fails

from cdk_opensearch_packages import (
    IOpenSearchPackage,
    OpenSearchPackage,
    OpenSearchPackageAssociation,
    OpenSearchPackageBase,
    OpenSearchPackageProvider,
)
from cdk_opensearch_packages.provider import DOMAIN_ACTIONS, PACKAGE_ACTIONS, RULE_ACTIONS


@dataclass
class LookupStack:
    """A stack that only uses packages made elsewhere, found by name."""

    stack: aws_cdk.Stack
    template: assertions.Template
    shared: IOpenSearchPackage
    plugin: IOpenSearchPackage
    license: IOpenSearchPackage
    by_parameter: IOpenSearchPackage
    shared_on_logs: OpenSearchPackageAssociation
    plugin_on_logs: OpenSearchPackageAssociation
    provider: OpenSearchPackageProvider

    def logical_id(self, construct: Any) -> str:
        element = construct
        while not isinstance(element, aws_cdk.CfnElement):
            element = element.node.default_child
        return str(self.stack.resolve(self.stack.get_logical_id(element)))

    def resource(self, construct: Any) -> dict[str, Any]:
        resources: dict[str, Any] = self.template.to_json()["Resources"]
        return dict(resources[self.logical_id(construct)])

    def get_att(self, construct: Any, attribute: str) -> dict[str, Any]:
        return {"Fn::GetAtt": [self.logical_id(construct), attribute]}

    def service_token(self) -> dict[str, Any]:
        return self.get_att(self.provider.function, "Arn")


@pytest.fixture(scope="module")
def lookups() -> LookupStack:
    stack = aws_cdk.Stack(aws_cdk.App(), "Lookups")
    shared = OpenSearchPackage.from_package_name(
        stack,
        "Shared",
        "shared-synonyms",
        package_owner="111122223333",
        refresh_key="build-42",
        timeout=aws_cdk.Duration.minutes(5),
    )
    plugin = OpenSearchPackage.from_package_name(stack, "Plugin", "analysis-plugin")
    license_package = OpenSearchPackage.from_package_name(stack, "License", "analysis-license")
    name = aws_cdk.CfnParameter(stack, "PackageName", default="team-stopwords")
    by_parameter = OpenSearchPackage.from_package_name(
        stack, "ByParameter", name.value_as_string, package_owner=aws_cdk.Aws.ACCOUNT_ID
    )
    shared_on_logs = shared.associate("logs-domain")
    plugin_on_logs = plugin.associate("logs-domain", license=license_package)
    return LookupStack(
        stack=stack,
        template=assertions.Template.from_stack(stack),
        shared=shared,
        plugin=plugin,
        license=license_package,
        by_parameter=by_parameter,
        shared_on_logs=shared_on_logs,
        plugin_on_logs=plugin_on_logs,
        provider=OpenSearchPackageProvider.get_or_create(stack),
    )


def test_lookup_renders_the_name_owner_and_refresh_key(lookups: LookupStack) -> None:
    resource = lookups.resource(lookups.shared)
    assert resource["Type"] == "Custom::OpenSearchPackageLookup"
    assert resource["Properties"] == {
        "ServiceToken": lookups.service_token(),
        "ServiceTimeout": "300",
        "PackageName": "shared-synonyms",
        "PackageOwner": "111122223333",
        "OspRefreshKey": "build-42",
    }


def test_lookup_defaults_to_any_owner_and_an_hour(lookups: LookupStack) -> None:
    assert lookups.resource(lookups.plugin)["Properties"] == {
        "ServiceToken": lookups.service_token(),
        "ServiceTimeout": "3600",
        "PackageName": "analysis-plugin",
    }


def test_deploy_time_names_and_owners_are_passed_through(lookups: LookupStack) -> None:
    properties = lookups.resource(lookups.by_parameter)["Properties"]
    assert properties["PackageName"] == {"Ref": "PackageName"}
    assert properties["PackageOwner"] == {"Ref": "AWS::AccountId"}


def test_attributes_are_the_lookup_get_atts(lookups: LookupStack) -> None:
    shared = lookups.shared
    resolve = lookups.stack.resolve
    assert isinstance(shared, OpenSearchPackageBase)
    assert resolve(shared.package_id) == lookups.get_att(shared, "PackageID")
    assert resolve(shared.package_version) == lookups.get_att(shared, "PackageVersion")
    assert shared.package_name == "shared-synonyms"
    assert shared.engine_version is None  # unknown at synth time
    resource = shared.node.find_child("Resource")
    assert isinstance(resource, aws_cdk.CustomResource)
    assert resolve(resource.get_att_string("EngineVersion")) == lookups.get_att(
        shared, "EngineVersion"
    )


def test_the_domain_set_uses_the_looked_up_ids_and_versions(lookups: LookupStack) -> None:
    """Looked-up packages have no type at synth: ``license=`` is taken as given."""
    resource = lookups.resource(lookups.shared_on_logs.domain_packages)
    assert resource["Type"] == "Custom::OpenSearchDomainPackages"
    assert resource["Properties"]["DomainName"] == "logs-domain"
    shared, plugin = (
        lookups.get_att(lookups.shared, "PackageID"),
        lookups.get_att(lookups.plugin, "PackageID"),
    )
    listed = resource["Properties"]["PackageList"]
    assert [item["PackageID"] for item in listed] == [
        shared,
        plugin,
        lookups.get_att(lookups.license, "PackageID"),
    ]
    assert listed[0]["OspPackageVersion"] == lookups.get_att(lookups.shared, "PackageVersion")
    assert listed[2]["PrerequisitePackageIDList"] == [plugin]
    assert lookups.plugin_on_logs.domain_packages is lookups.shared_on_logs.domain_packages


def test_no_package_is_ever_created_and_one_provider_serves_all(lookups: LookupStack) -> None:
    template = lookups.template
    template.resource_count_is("Custom::OpenSearchPackage", 0)
    template.resource_count_is("Custom::OpenSearchPackageLookup", 4)
    template.resource_count_is("Custom::OpenSearchDomainPackages", 1)
    template.resource_count_is("AWS::Lambda::Function", 1)
    types = {
        child.cfn_resource_type
        for child in lookups.shared.node.find_all()
        if isinstance(child, aws_cdk.CfnResource)
    }
    assert types == {"Custom::OpenSearchPackageLookup"}


def test_lookups_depend_on_the_invoke_permission(lookups: LookupStack) -> None:
    permission = lookups.logical_id(lookups.provider.invoke_permission)
    for construct in (lookups.shared, lookups.plugin, lookups.license, lookups.by_parameter):
        assert permission in lookups.resource(construct)["DependsOn"]


def test_lookups_need_no_permission_beyond_the_provider_s_own(lookups: LookupStack) -> None:
    policy = lookups.resource(lookups.provider.policy)
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    actions = {
        action
        for statement in statements
        for action in (
            [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        )
    }
    star = [statement for statement in statements if statement["Resource"] == "*"]
    assert [sorted(statement["Action"]) for statement in star] == [sorted(PACKAGE_ACTIONS)]
    # es:DescribePackages on "*" (above), the polling rules, the domain of the associations and
    # the logs: no S3 object, key or role is involved in a lookup.
    assert actions == {*PACKAGE_ACTIONS, *RULE_ACTIONS, *DOMAIN_ACTIONS} | {
        action for action in actions if action.startswith("logs:")
    }
    assert "es:DescribePackages" in PACKAGE_ACTIONS


# Failing cases ------------------------------------------------------------------------------


def expect(prop: str, value: str, *fragments: str) -> str:
    """The pattern an error must match: path, property, the bad value, then rule and fix."""
    pattern = rf"^Fresh/Shared: {re.escape(prop)}: .*{re.escape(value)}.* is invalid: "
    return pattern + "".join(f"(?s:.*){re.escape(fragment)}" for fragment in fragments)


@pytest.mark.parametrize(
    "name", ["ab", "a" * 257, "Synonyms", "1synonyms", "syn_onyms", "syn*", "syn?nyms", ""]
)
def test_fails_a_name_no_package_can_have(stack: aws_cdk.Stack, name: str) -> None:
    with synth_fails(stack, expect("package_name", name, "no package can have this name", "Pass")):
        OpenSearchPackage.from_package_name(stack, "Shared", name)


def test_accepts_every_name_the_service_model_allows(stack: aws_cdk.Stack) -> None:
    longest = OpenSearchPackage.from_package_name(stack, "Longest", "a" * 256)
    shortest = OpenSearchPackage.from_package_name(stack, "Shortest", "a-1")
    assert longest.package_name == "a" * 256
    assert shortest.package_name == "a-1"


@pytest.mark.parametrize("owner", ["1111*", "11112222?333", "", "a b", "x" * 1025])
def test_fails_an_owner_that_is_not_one_owner(stack: aws_cdk.Stack, owner: str) -> None:
    with synth_fails(stack, expect("package_owner", owner[:40], "one owner", "account id")):
        OpenSearchPackage.from_package_name(stack, "Shared", "shared", package_owner=owner)


def test_fails_a_timeout_over_an_hour(stack: aws_cdk.Stack) -> None:
    with synth_fails(stack, expect("timeout", "1 hour 1 minute", "1 to 3600")):
        OpenSearchPackage.from_package_name(
            stack, "Shared", "shared", timeout=aws_cdk.Duration.minutes(61)
        )


def test_a_plugin_lookup_can_name_its_engine_version(stack: aws_cdk.Stack) -> None:
    """Plugin names repeat once per engine version: the engine version picks one."""
    from aws_cdk import assertions, aws_opensearchservice

    plugin = OpenSearchPackage.from_package_name(
        stack,
        "Plugin219",
        "analysis-plugin",
        engine_version=aws_opensearchservice.EngineVersion.OPENSEARCH_2_19,
    )
    assert plugin.engine_version == "OpenSearch_2.19"
    assertions.Template.from_stack(stack).has_resource_properties(
        "Custom::OpenSearchPackageLookup",
        {"PackageName": "analysis-plugin", "EngineVersion": "OpenSearch_2.19"},
    )


def test_fails_a_lookup_engine_version_of_another_form(stack: aws_cdk.Stack) -> None:
    with synth_fails(stack, r"^Fresh/Bad: engine_version: .*2\.19.* is invalid"):
        OpenSearchPackage.from_package_name(stack, "Bad", "analysis-plugin", engine_version="2.19")


def test_imported_attributes_are_carried_to_the_associations() -> None:
    stack = aws_cdk.Stack(aws_cdk.App(), "Attributes")
    shared = OpenSearchPackage.from_package_attributes(
        stack,
        "Shared",
        package_id="F123456789",
        package_name="shared-synonyms",
        package_version="v3",
    )
    shared.associate("search-domain")

    template = assertions.Template.from_stack(stack)

    assert (shared.package_id, shared.package_name, shared.package_version) == (
        "F123456789",
        "shared-synonyms",
        "v3",
    )
    template.resource_count_is("Custom::OpenSearchPackageLookup", 0)
    template.has_resource_properties(
        "Custom::OpenSearchDomainPackages",
        {
            "DomainName": "search-domain",
            "PackageList": [
                assertions.Match.object_like({"PackageID": "F123456789", "OspPackageVersion": "v3"})
            ],
        },
    )


def test_fails_an_owner_with_a_trailing_newline(stack: aws_cdk.Stack) -> None:
    # The whole value must match (``$`` alone also matches before a final newline).
    with synth_fails(stack, expect("package_owner", "111122223333", "one owner", "account id")):
        OpenSearchPackage.from_package_name(
            stack, "Shared", "shared", package_owner="111122223333\n"
        )
