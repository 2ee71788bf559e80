"""The shared provider stack's template: exports, SSM parameters, parameters, scoped statements."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aws_cdk import assertions
from provider_stack_support import (
    ProviderTemplate,
    build_provider_template,
    evaluate,
    list_parameter,
)

from cdk_opensearch_packages.provider import DOMAIN_ACTIONS, KMS_KEY_ACTIONS, PACKAGE_ACTIONS
from cdk_opensearch_packages.provider_stack import (
    PARAMETER_PATH,
    ROLE_ARN_EXPORT,
    SERVICE_TOKEN_EXPORT,
    code_file_name,
)

LIST_PARAMETERS = (
    "AllowedSourceBuckets",
    "AllowedDomainNames",
    "AllowedKmsKeyArns",
    "KeyStoreAccessRoleArns",
)


def _function_arn(provider: ProviderTemplate) -> dict[str, Any]:
    return {"Fn::GetAtt": [provider.logical_id(provider.stack.provider.function), "Arn"]}


def _role_arn(provider: ProviderTemplate) -> dict[str, Any]:
    return {"Fn::GetAtt": [provider.logical_id(provider.stack.provider.role), "Arn"]}


def _policies(provider: ProviderTemplate) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in provider.json["Resources"].items()
        if resource["Type"] == "AWS::IAM::Policy"
    }


def _conditional_policy(provider: ProviderTemplate, condition: str) -> dict[str, Any]:
    (policy,) = [p for p in _policies(provider).values() if p.get("Condition") == condition]
    return policy


def _parameters(**values: str) -> dict[str, Any]:
    """Parameter values as ``Ref`` sees them (lists split), the others at their defaults."""
    resolved: dict[str, Any] = {name: list_parameter("") for name in LIST_PARAMETERS}
    resolved.update({name: list_parameter(value) for name, value in values.items()})
    resolved["AWS::Region"] = "eu-west-1"
    return resolved


def _statements_when(
    provider: ProviderTemplate, condition: str, **values: str
) -> list[dict[str, Any]] | None:
    """The policy statements guarded by ``condition`` as deployed with ``values`` (``None``
    when the condition leaves the policy out)."""
    conditions = provider.json["Conditions"]
    parameters = _parameters(**values)
    if not evaluate(conditions[condition], parameters, conditions):
        return None
    policy = _conditional_policy(provider, condition)
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    resolved: list[dict[str, Any]] = evaluate(statements, parameters, conditions)
    return resolved


def _statement_when(
    provider: ProviderTemplate, condition: str, **values: str
) -> dict[str, Any] | None:
    """The one policy statement guarded by ``condition`` (see :func:`_statements_when`)."""
    statements = _statements_when(provider, condition, **values)
    if statements is None:
        return None
    (statement,) = statements
    return statement


def test_exports_the_service_token_and_the_role(provider: ProviderTemplate) -> None:
    provider.template.has_output(
        "ServiceToken",
        {"Value": _function_arn(provider), "Export": {"Name": SERVICE_TOKEN_EXPORT}},
    )
    provider.template.has_output(
        "RoleArn", {"Value": _role_arn(provider), "Export": {"Name": ROLE_ARN_EXPORT}}
    )
    assert SERVICE_TOKEN_EXPORT == "OpenSearchPackageProvider-ServiceToken"


def test_writes_the_service_token_and_the_role_to_ssm(provider: ProviderTemplate) -> None:
    provider.template.resource_count_is("AWS::SSM::Parameter", 2)
    provider.template.has_resource_properties(
        "AWS::SSM::Parameter",
        {
            "Name": f"{PARAMETER_PATH}/service-token",
            "Type": "String",
            "Value": _function_arn(provider),
        },
    )
    provider.template.has_resource_properties(
        "AWS::SSM::Parameter",
        {"Name": f"{PARAMETER_PATH}/role-arn", "Type": "String", "Value": _role_arn(provider)},
    )
    assert PARAMETER_PATH == "/cdk-opensearch-packages/provider"


def test_one_function_with_code_from_the_parameters(provider: ProviderTemplate) -> None:
    provider.template.resource_count_is("AWS::Lambda::Function", 1)
    provider.template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Code": {"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "CodeKey"}},
            "Handler": "index.handler",
            "Runtime": "python3.14",
            "Architectures": ["arm64"],
            "Timeout": 900,
            "MemorySize": 256,
            "Environment": {
                "Variables": {
                    "AWS_DATA_PATH": "/var/task/models",
                    "OSP_RULE_PREFIX": provider.stack.provider.rule_prefix,
                }
            },
        },
    )


def test_code_parameters(provider: ProviderTemplate) -> None:
    parameters = provider.json["Parameters"]
    assert "Default" not in parameters["CodeBucket"]
    assert parameters["CodeBucket"]["Type"] == "String"
    assert parameters["CodeKey"]["Default"] == code_file_name(provider.stack.bundle)
    assert parameters["CodeKey"]["Default"] == (
        f"opensearch-package-provider-{provider.stack.bundle.asset_hash}.zip"
    )


@pytest.mark.parametrize("name", LIST_PARAMETERS)
def test_list_parameters_are_empty_by_default(provider: ProviderTemplate, name: str) -> None:
    parameter = provider.json["Parameters"][name]
    assert parameter["Type"] == "CommaDelimitedList"
    assert parameter["Default"] == ""
    assert parameter["AllowedPattern"].startswith("^$|^")


def test_needs_no_bootstrap_and_no_asset(provider: ProviderTemplate) -> None:
    template = provider.json
    assert set(template["Parameters"]) == {
        "CodeBucket",
        "CodeKey",
        "AllowPackageSharing",
        *LIST_PARAMETERS,
    }
    assert "Rules" not in template  # no CheckBootstrapVersion
    assert "CDKMetadata" not in template["Resources"]
    assert all("Metadata" not in resource for resource in template["Resources"].values())
    assert "AWS::CloudFormation::Interface" in template["Metadata"]


def test_no_unconditional_source_or_domain_permission(provider: ProviderTemplate) -> None:
    default_policy = provider.resource(provider.stack.provider.policy)
    assert "Condition" not in default_policy
    actions = {
        action
        for statement in default_policy["Properties"]["PolicyDocument"]["Statement"]
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }
    assert set(PACKAGE_ACTIONS) <= actions
    assert not {a for a in actions if a.startswith(("s3:", "kms:", "iam:"))}
    assert not set(DOMAIN_ACTIONS) & actions


@pytest.mark.parametrize(
    "condition",
    [f"Has{name}" for name in LIST_PARAMETERS],
)
def test_empty_lists_leave_their_policy_out(provider: ProviderTemplate, condition: str) -> None:
    assert _statement_when(provider, condition) is None
    assert _conditional_policy(provider, condition)["Properties"]["Roles"] == [
        {"Ref": provider.logical_id(provider.stack.provider.role)}
    ]


def test_source_buckets_grant_get_object_on_their_objects_only(
    provider: ProviderTemplate,
) -> None:
    statement = _statement_when(
        provider, "HasAllowedSourceBuckets", AllowedSourceBuckets="search-files,more.files"
    )
    assert statement == {
        "Action": "s3:GetObject",
        "Effect": "Allow",
        "Resource": ["arn:*:s3:::search-files/*", "arn:*:s3:::more.files/*"],
    }
    one = _statement_when(provider, "HasAllowedSourceBuckets", AllowedSourceBuckets="one")
    assert one is not None and one["Resource"] == ["arn:*:s3:::one/*"]


def test_domains_grant_association_actions_on_those_domains_in_the_region(
    provider: ProviderTemplate,
) -> None:
    statement = _statement_when(
        provider, "HasAllowedDomainNames", AllowedDomainNames="products,orders"
    )
    assert statement == {
        "Action": sorted(DOMAIN_ACTIONS),
        "Effect": "Allow",
        "Resource": ["arn:*:es:*:*:domain/products", "arn:*:es:*:*:domain/orders"],
        "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
    }


def test_kms_keys_grant_the_key_actions_on_those_keys(provider: ProviderTemplate) -> None:
    keys = (
        "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab,"
        "arn:aws:kms:eu-west-1:123456789012:key/mrk-1234"
    )
    statements = _statements_when(provider, "HasAllowedKmsKeyArns", AllowedKmsKeyArns=keys)
    assert statements == [
        {
            "Action": sorted(KMS_KEY_ACTIONS),
            "Effect": "Allow",
            "Resource": keys.split(","),
        },
        {
            "Action": "kms:CreateGrant",
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            "Effect": "Allow",
            "Resource": keys.split(","),
        },
    ]


@pytest.mark.parametrize(("value", "granted"), [("false", False), ("true", True)])
def test_package_sharing_is_granted_only_when_allowed(
    provider: ProviderTemplate, value: str, granted: bool
) -> None:
    parameter = provider.json["Parameters"]["AllowPackageSharing"]
    assert (parameter["Default"], parameter["AllowedValues"]) == ("false", ["false", "true"])
    conditions = provider.json["Conditions"]
    parameters = {**_parameters(), "AllowPackageSharing": value}
    assert evaluate(conditions["AllowsPackageSharing"], parameters, conditions) is granted
    policy = _conditional_policy(provider, "AllowsPackageSharing")
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {"Action": "es:UpdatePackageScope", "Effect": "Allow", "Resource": "*"}
    ]


def test_key_store_roles_may_be_passed_to_opensearch_only(provider: ProviderTemplate) -> None:
    role = "arn:aws:iam::123456789012:role/key-store-access"
    statement = _statement_when(provider, "HasKeyStoreAccessRoleArns", KeyStoreAccessRoleArns=role)
    assert statement == {
        "Action": "iam:PassRole",
        "Effect": "Allow",
        "Resource": [role],
        "Condition": {"StringEquals": {"iam:PassedToService": "es.amazonaws.com"}},
    }


def test_reuses_the_provider_idioms(provider: ProviderTemplate) -> None:
    role = provider.resource(provider.stack.provider.role)
    assert "ManagedPolicyArns" not in role["Properties"]
    provider.template.resource_count_is("AWS::IAM::ManagedPolicy", 0)
    provider.template.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "Action": "lambda:InvokeFunction",
            "Principal": "events.amazonaws.com",
            "FunctionName": _function_arn(provider),
            "SourceAccount": {"Ref": "AWS::AccountId"},
        },
    )
    provider.template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30})


@pytest.mark.parametrize(
    ("parameter", "good", "bad"),
    [
        ("AllowedSourceBuckets", "my-bucket.files", "My_Bucket"),
        ("AllowedDomainNames", "products", "Products"),
        ("AllowedKmsKeyArns", "arn:aws-cn:kms:cn-north-1:123456789012:key/abc-1", "alias/mine"),
        ("KeyStoreAccessRoleArns", "arn:aws:iam::123456789012:role/a/b", "role/a"),
    ],
)
def test_list_items_are_checked_by_pattern(
    provider: ProviderTemplate, parameter: str, good: str, bad: str
) -> None:
    pattern = re.compile(provider.json["Parameters"][parameter]["AllowedPattern"])
    assert pattern.fullmatch(good)
    assert pattern.fullmatch("")
    assert not pattern.fullmatch(bad)


def test_export_names_and_parameter_path_can_be_changed() -> None:
    custom = build_provider_template(export_prefix="TeamSearch", parameter_path="/team/search")
    custom.template.has_output("ServiceToken", {"Export": {"Name": "TeamSearch-ServiceToken"}})
    custom.template.has_output("RoleArn", {"Export": {"Name": "TeamSearch-RoleArn"}})
    custom.template.has_resource_properties(
        "AWS::SSM::Parameter", {"Name": "/team/search/service-token"}
    )
    custom.template.has_resource_properties(
        "AWS::SSM::Parameter", {"Name": assertions.Match.exact("/team/search/role-arn")}
    )
