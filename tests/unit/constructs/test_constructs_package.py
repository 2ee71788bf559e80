"""The Custom::OpenSearchPackage contract, the provider and its permissions."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aws_cdk
import pytest
from aws_cdk import assertions, aws_s3
from construct_stacks import BUCKET_NAME, OBJECT_VERSION, FullStack

import cdk_opensearch_packages
from cdk_opensearch_packages import OpenSearchPackage, PackageSource, PackageType
from cdk_opensearch_packages.provider import (
    DOMAIN_ACTIONS,
    PACKAGE_ACTIONS,
    RULE_ACTIONS,
    OpenSearchPackageProvider,
)

REPO = Path(__file__).resolve().parents[3]
ASSETS_BUCKET = {"Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"}


def provider_ids(full: FullStack) -> dict[str, str]:
    provider = full.provider
    return {
        "function": full.logical_id(provider.function),
        "role": full.logical_id(provider.role),
        "policy": full.logical_id(provider.policy),
        "log_group": full.logical_id(provider.log_group),
        "permission": full.logical_id(provider.invoke_permission),
    }


def service_token(full: FullStack) -> dict[str, Any]:
    return {"Fn::GetAtt": [provider_ids(full)["function"], "Arn"]}


def provider_statements(full: FullStack) -> list[dict[str, Any]]:
    policy = full.resource(full.provider.policy)
    return list(policy["Properties"]["PolicyDocument"]["Statement"])


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def resources_of(full: FullStack, action: str) -> list[Any]:
    """Every resource the provider's policy allows ``action`` on."""
    found: list[Any] = []
    for statement in provider_statements(full):
        if action in as_list(statement["Action"]):
            assert statement["Effect"] == "Allow"
            found.extend(as_list(statement["Resource"]))
    return found


def rule_arn(prefix: str) -> dict[str, Any]:
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":events:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                f":rule/{prefix}*",
            ],
        ]
    }


def object_arn(bucket: Any, key: str) -> dict[str, Any]:
    partition = {"Ref": "AWS::Partition"}
    if isinstance(bucket, str):
        return {"Fn::Join": ["", ["arn:", partition, f":s3:::{bucket}/{key}"]]}
    return {"Fn::Join": ["", ["arn:", partition, ":s3:::", bucket, f"/{key}"]]}


def test_public_api_exports() -> None:
    for name in ("OpenSearchPackage", "PackageSource", "PackageType", "IOpenSearchPackage"):
        assert name in cdk_opensearch_packages.__all__
        assert hasattr(cdk_opensearch_packages, name)
    assert "SynonymTokenizer" in cdk_opensearch_packages.__all__
    assert [
        kind.value for kind in cdk_opensearch_packages.DictionaryKind if kind.name != "BINARY"
    ] == [
        "SYNONYMS",
        "STOPWORDS",
        "KUROMOJI_USER_DICTIONARY",
        "NORI_USER_DICTIONARY",
        "USER_DICTIONARY",
    ]
    assert [t.value for t in cdk_opensearch_packages.SynonymTokenizer] == ["STANDARD", "WHITESPACE"]
    assert [t.value for t in PackageType] == [
        "TXT-DICTIONARY",
        "ZIP-PLUGIN",
        "PACKAGE-LICENSE",
        "PACKAGE-CONFIG",
    ]


def test_asset_package_properties_are_the_create_package_names(full: FullStack) -> None:
    source = full.synonyms.node.find_child("Source")
    assert isinstance(source, aws_cdk.aws_s3_assets.Asset)
    resource = full.resource(full.synonyms)
    assert resource["Type"] == "Custom::OpenSearchPackage"
    assert resource["Properties"] == {
        "ServiceToken": service_token(full),
        "ServiceTimeout": "600",
        "PackageType": "TXT-DICTIONARY",
        "PackageName": "synonyms",
        "PackageDescription": "Product synonyms",
        "PackageSource": {"S3BucketName": ASSETS_BUCKET, "S3Key": f"{source.asset_hash}.txt"},
        "OspSourceVersion": source.asset_hash,
    }


def test_removal_policy_retain_keeps_the_package(full: FullStack) -> None:
    assert full.resource(full.synonyms)["DeletionPolicy"] == "Retain"
    assert full.resource(full.synonyms)["UpdateReplacePolicy"] == "Retain"
    assert full.resource(full.license)["DeletionPolicy"] == "Delete"


def test_plugin_package_renders_every_optional_property(full: FullStack) -> None:
    assert full.resource(full.plugin)["Properties"] == {
        "ServiceToken": service_token(full),
        "ServiceTimeout": "3600",
        "PackageType": "ZIP-PLUGIN",
        "PackageSource": {"S3BucketName": BUCKET_NAME, "S3Key": "plugins/analysis.zip"},
        "PackageConfiguration": {
            "LicenseRequirement": "REQUIRED",
            "ConfigurationRequirement": "NONE",
            "LicenseFilepath": "LICENSE.txt",
            "RequiresRestartForConfigurationUpdate": False,
        },
        "EngineVersion": "OpenSearch_2.19",
        "PackageVendingOptions": {"VendingEnabled": False},
        "PackageEncryptionOptions": {
            "KmsKeyIdentifier": {"Fn::GetAtt": [full.logical_id(full.key), "Arn"]},
            "EncryptionEnabled": True,
        },
        "OspSourceVersion": OBJECT_VERSION,
    }


def test_absent_optionals_are_omitted_and_timeout_defaults_to_an_hour(full: FullStack) -> None:
    assert full.resource(full.license)["Properties"] == {
        "ServiceToken": service_token(full),
        "ServiceTimeout": "3600",
        "PackageType": "PACKAGE-LICENSE",
        "PackageSource": {"S3BucketName": BUCKET_NAME, "S3Key": "licenses/license.txt"},
    }


def test_attributes_are_get_att_tokens(full: FullStack) -> None:
    synonyms = full.logical_id(full.synonyms)
    resolve = full.stack.resolve
    assert resolve(full.synonyms.package_id) == {"Fn::GetAtt": [synonyms, "PackageID"]}
    assert resolve(full.synonyms.package_version) == {"Fn::GetAtt": [synonyms, "PackageVersion"]}
    assert resolve(full.synonyms.package_name) == {"Fn::GetAtt": [synonyms, "PackageName"]}
    assert full.plugin.engine_version == "OpenSearch_2.19"
    assert full.synonyms.engine_version is None


def test_imported_package_has_its_id_and_no_resource(full: FullStack) -> None:
    assert full.imported.package_id == "F123456789"
    assert full.imported.package_version is None
    assert full.imported.package_name is None
    # No resource under the import: never a package (its association is an entry of the
    # domain's package set).
    types = {
        child.cfn_resource_type
        for child in full.imported.node.find_all()
        if isinstance(child, aws_cdk.CfnResource)
    }
    assert types == set()


def test_one_provider_function_for_every_package(full: FullStack) -> None:
    full.template.resource_count_is("AWS::Lambda::Function", 1)
    full.template.resource_count_is("Custom::OpenSearchPackage", 3)
    assert OpenSearchPackageProvider.get_or_create(full.synonyms) is full.provider


def test_provider_function_configuration(full: FullStack) -> None:
    ids = provider_ids(full)
    function = full.resource(full.provider.function)
    properties = function["Properties"]
    assert properties["Runtime"] == "python3.14"
    assert properties["Architectures"] == ["arm64"]
    assert properties["Handler"] == "index.handler"
    assert properties["Timeout"] == 900
    assert properties["MemorySize"] == 256
    assert "ReservedConcurrentExecutions" not in properties
    assert properties["LoggingConfig"] == {"LogGroup": {"Ref": ids["log_group"]}}
    assert properties["Role"] == {"Fn::GetAtt": [ids["role"], "Arn"]}
    variables = properties["Environment"]["Variables"]
    assert variables["AWS_DATA_PATH"] == "/var/task/models"
    assert re.fullmatch(r"osp-[0-9a-f]{8}", variables["OSP_RULE_PREFIX"])
    assert variables["OSP_RULE_PREFIX"] == full.provider.rule_prefix
    # Rule names are the prefix plus 32 hex characters and must fit in 64.
    assert len(full.provider.rule_prefix) + 32 <= 64
    # Permissions are in place before the function (and so any custom resource) is created.
    assert function["DependsOn"] == [ids["policy"]]
    full.template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30})


def test_rule_prefix_differs_between_stacks() -> None:
    app = aws_cdk.App()
    first = aws_cdk.Stack(app, "First")
    second = aws_cdk.Stack(app, "Second")
    bucket = aws_s3.Bucket.from_bucket_name(first, "B", BUCKET_NAME)
    for stack in (first, second):
        OpenSearchPackage(
            stack,
            "Package",
            package_type=PackageType.PACKAGE_CONFIG,
            source=PackageSource.from_bucket(bucket, "config.json"),
        )
    prefixes = {
        OpenSearchPackageProvider.get_or_create(stack).rule_prefix for stack in (first, second)
    }
    assert len(prefixes) == 2


def test_custom_resources_depend_on_the_invoke_permission(full: FullStack) -> None:
    permission = provider_ids(full)["permission"]
    for construct in (
        full.synonyms,
        full.plugin,
        full.license,
        full.plugin_on_domain.domain_packages,
    ):
        assert permission in full.resource(construct)["DependsOn"]


def test_polling_rules_may_invoke_the_function(full: FullStack) -> None:
    ids = provider_ids(full)
    full.template.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Fn::GetAtt": [ids["function"], "Arn"]},
            "Principal": "events.amazonaws.com",
            "SourceAccount": {"Ref": "AWS::AccountId"},
            "SourceArn": rule_arn(full.provider.rule_prefix),
        },
    )


def test_package_actions_on_star_and_nothing_else_is_star(full: FullStack) -> None:
    star_actions = {
        action
        for statement in provider_statements(full)
        if "*" in as_list(statement["Resource"])
        for action in as_list(statement["Action"])
    }
    assert star_actions == set(PACKAGE_ACTIONS)
    assert set(PACKAGE_ACTIONS) == {
        "es:CreatePackage",
        "es:DescribePackages",
        "es:UpdatePackage",
        "es:DeletePackage",
        "es:GetPackageVersionHistory",
        "es:ListDomainsForPackage",
    }


def test_rule_actions_on_the_prefix_only(full: FullStack) -> None:
    for action in ("PutRule", "PutTargets", "RemoveTargets", "DeleteRule"):
        assert resources_of(full, f"events:{action}") == [rule_arn(full.provider.rule_prefix)]


def _operations_called_in_handler(service: str) -> set[str]:
    """The operations of ``service`` whose boto3 method the handler's source calls (or passes
    on, as ``functools.partial(client.method, ...)``)."""
    import botocore.session
    from botocore import xform_name

    session = botocore.session.get_session()
    session.set_config_variable("data_path", str(REPO / "lambda" / "models"))
    model = session.get_service_model(service)
    by_method = {xform_name(name): name for name in model.operation_names}
    called: set[str] = set()
    for source in (REPO / "lambda").rglob("*.py"):
        for method in re.findall(r"\.([a-z][a-z_]+)\b", source.read_text(encoding="utf-8")):
            if method in by_method:
                called.add(by_method[method])
    return called


def test_the_granted_actions_are_the_calls_the_handler_makes() -> None:
    """Least privilege both ways: every granted action is called somewhere in the handler, and
    every call the handler makes is granted."""
    granted_es = {a.removeprefix("es:") for a in (*PACKAGE_ACTIONS, *DOMAIN_ACTIONS)}
    granted_events = {a.removeprefix("events:") for a in RULE_ACTIONS}

    assert _operations_called_in_handler("opensearch") == granted_es
    assert _operations_called_in_handler("events") == granted_events


def test_get_object_on_the_exact_source_objects(full: FullStack) -> None:
    source = full.synonyms.node.find_child("Source")
    assert isinstance(source, aws_cdk.aws_s3_assets.Asset)
    assert sorted(map(str, resources_of(full, "s3:GetObject"))) == sorted(
        map(
            str,
            [
                object_arn(ASSETS_BUCKET, f"{source.asset_hash}.txt"),
                object_arn(BUCKET_NAME, "licenses/license.txt"),
                object_arn(BUCKET_NAME, "plugins/analysis.zip"),
            ],
        )
    )
    actions = {
        action for statement in provider_statements(full) for action in as_list(statement["Action"])
    }
    assert not [action for action in actions if action.startswith("s3:") and "*" in action]
    assert not [action for action in actions if action.startswith("s3:List")]


def test_statements_are_merged(full: FullStack) -> None:
    actions = [tuple(as_list(statement["Action"])) for statement in provider_statements(full)]
    assert len(actions) == len(set(actions))
    assert sum("s3:GetObject" in group for group in actions) == 1


def test_kms_actions_on_the_encryption_key_only(full: FullStack) -> None:
    key_arn = {"Fn::GetAtt": [full.logical_id(full.key), "Arn"]}
    for action in ("kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant"):
        assert resources_of(full, action) == [key_arn]
    (grant,) = [s for s in provider_statements(full) if "kms:CreateGrant" in as_list(s["Action"])]
    # The handler never calls CreateGrant: only OpenSearch Service may, on its behalf.
    assert grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    assert as_list(grant["Action"]) == ["kms:CreateGrant"]


def test_logs_written_to_the_provider_log_group_only(full: FullStack) -> None:
    log_group_arn = {"Fn::GetAtt": [provider_ids(full)["log_group"], "Arn"]}
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        assert resources_of(full, action) == [log_group_arn]


def test_provider_role_has_no_managed_policy(full: FullStack) -> None:
    role = full.resource(full.provider.role)
    assert "ManagedPolicyArns" not in role["Properties"]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
        }
    ]
    full.template.resource_count_is("AWS::IAM::ManagedPolicy", 0)


def test_from_bucket_of_an_encrypted_bucket_may_decrypt_with_its_key() -> None:
    stack = aws_cdk.Stack(aws_cdk.App(), "Encrypted")
    key = aws_cdk.aws_kms.Key(stack, "BucketKey")
    bucket = aws_s3.Bucket.from_bucket_attributes(
        stack, "Bucket", bucket_name=BUCKET_NAME, encryption_key=key
    )
    OpenSearchPackage(
        stack,
        "Config",
        package_type=PackageType.PACKAGE_CONFIG,
        source=PackageSource.from_bucket(bucket, "config.json"),
    )
    template = assertions.Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": assertions.Match.array_with(
                    [
                        {
                            "Action": "kms:Decrypt",
                            "Effect": "Allow",
                            "Resource": stack.resolve(key.key_arn),
                        }
                    ]
                )
            }
        },
    )


def test_fails_when_the_provider_id_is_taken(stack: aws_cdk.Stack) -> None:
    aws_cdk.aws_s3.Bucket(stack, "OpenSearchPackageProvider")
    with pytest.raises(ValueError, match="reserved for the cdk-opensearch-packages provider"):
        OpenSearchPackageProvider.get_or_create(stack)
