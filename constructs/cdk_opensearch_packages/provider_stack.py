"""The shared provider stack: one provider per account and Region for plain CloudFormation users.

Templates written without the CDK declare ``Custom::OpenSearchPackage`` and
``Custom::OpenSearchDomainPackages`` (a domain's package set) resources whose ``ServiceToken`` is
``!ImportValue OpenSearchPackageProvider-ServiceToken``. That export (and an SSM parameter holding
the same value) comes from :class:`OpenSearchPackageProviderStack`: the
:class:`~cdk_opensearch_packages.provider.OpenSearchPackageProvider` (same handler, same role, same
polling permission) in a stack that needs no CDK bootstrap. Its code comes from a zip file the user
uploads (parameters ``CodeBucket``/``CodeKey``), and what the provider may touch comes from
parameters:

- ``AllowedSourceBuckets``: ``s3:GetObject`` on the objects of these buckets.
- ``AllowedDomainNames``: associate, dissociate and list packages on these domains (of the
  stack's account and Region).
- ``AllowedKmsKeyArns``: keys of encrypted plugin packages and of SSE-KMS source objects.
- ``KeyStoreAccessRoleArns``: roles the provider may pass to OpenSearch Service (key-store access
  of plugin associations).
- ``AllowPackageSharing``: ``true`` grants ``es:UpdatePackageScope`` (packages with an
  ``AllowListedUserList``, shared with other accounts); ``false`` (the default) does not.

An empty list grants nothing (the statement's policy is left out by a condition).

CloudFormation cannot prefix each element of a list parameter with a value only known at deploy
time (``Fn::Join``/``Fn::Split`` take literal delimiters), so the bucket and domain ARNs carry a
wildcard where the partition, Region and account would be: ``arn:*:s3:::<bucket>/*`` and
``arn:*:es:*:*:domain/<name>``. They grant no more than the exact ARNs: a role acts in its own
partition only, the OpenSearch Service configuration API addresses domains by name in the caller's
account, and the domain statement is limited to the stack's Region with ``aws:RequestedRegion``.

:func:`publish_provider` writes what a user uploads: the template and the handler zip (the staged
handler bundle of :mod:`.handler_asset`, zipped deterministically).
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk
from aws_cdk import aws_iam, aws_lambda, aws_ssm
from constructs import Construct

from cdk_opensearch_packages.handler_asset import HandlerBundle, stage_handler_bundle
from cdk_opensearch_packages.provider import (
    DOMAIN_ACTIONS,
    PROVIDER_ID,
    SCOPE_ACTIONS,
    OpenSearchPackageProvider,
    kms_statements,
)

__all__ = [
    "CODE_FILE_PREFIX",
    "EXPORT_PREFIX",
    "PARAMETER_PATH",
    "ROLE_ARN_EXPORT",
    "SERVICE_TOKEN_EXPORT",
    "TEMPLATE_FILE_NAME",
    "OpenSearchPackageProviderStack",
    "ProviderArtifacts",
    "code_file_name",
    "publish_provider",
    "write_handler_zip",
]

#: Prefix of the stack's export names.
EXPORT_PREFIX = "OpenSearchPackageProvider"
#: The export templates import as their ``ServiceToken``.
SERVICE_TOKEN_EXPORT = f"{EXPORT_PREFIX}-ServiceToken"
#: The export of the provider role's ARN (for bucket and key policies).
ROLE_ARN_EXPORT = f"{EXPORT_PREFIX}-RoleArn"
#: The SSM parameter path under which the ``service-token`` and ``role-arn`` parameters live.
PARAMETER_PATH = "/cdk-opensearch-packages/provider"
#: The published template's file name.
TEMPLATE_FILE_NAME = "opensearch-package-provider.template.json"
#: The published handler zip's file name starts with this (then the bundle hash and ``.zip``).
CODE_FILE_PREFIX = "opensearch-package-provider-"

_BUCKET_NAME_PATTERN = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
_OBJECT_KEY_PATTERN = r"^.{1,1024}$"
_EMPTY_OR = "^$|"
_DOMAIN_NAME_PATTERN = r"^[a-z][a-z0-9-]{2,27}$"
_KMS_KEY_ARN_PATTERN = r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$"
_ROLE_ARN_PATTERN = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]+$"
# A fixed timestamp (the zip format's earliest) and mode make the zip depend on the files only.
_ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
_ZIP_FILE_MODE = 0o644 << 16
_PATH_METADATA = "aws:cdk:enable-path-metadata"


class OpenSearchPackageProviderStack(aws_cdk.Stack):
    """The provider of the custom package resources, deployed once per account and Region.

    Synthesized with :class:`aws_cdk.BootstraplessSynthesizer`: the template has no asset and no
    bootstrap check, so it deploys with ``aws cloudformation deploy`` in any account and Region
    (env-agnostic). It exports the ``ServiceToken`` (:data:`SERVICE_TOKEN_EXPORT`) and the role ARN
    (:data:`ROLE_ARN_EXPORT`), and writes both to SSM parameters under :data:`PARAMETER_PATH`.

    Example::

        app = aws_cdk.App()
        OpenSearchPackageProviderStack(app, "OpenSearchPackageProvider")
        app.synth()
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bundle: HandlerBundle | None = None,
        export_prefix: str = EXPORT_PREFIX,
        parameter_path: str = PARAMETER_PATH,
        stack_name: str | None = None,
        description: str | None = None,
    ) -> None:
        """
        :param bundle: the staged handler bundle the published zip holds (its hash names the
            zip, the ``CodeKey`` default). Default: - :func:`stage_handler_bundle`.
        :param export_prefix: prefix of the export names (``<prefix>-ServiceToken``,
            ``<prefix>-RoleArn``). Default: - :data:`EXPORT_PREFIX`.
        :param parameter_path: SSM path of the ``service-token`` and ``role-arn`` parameters.
            Default: - :data:`PARAMETER_PATH`.
        :param stack_name: the stack name. Default: - the construct id.
        :param description: the stack description. Default: - what the stack provides.
        """
        super().__init__(
            scope,
            id,
            stack_name=stack_name,
            description=description
            or (
                "cdk-opensearch-packages: the shared provider of Custom::OpenSearchPackage, "
                "Custom::OpenSearchDomainPackages and Custom::OpenSearchPackageLookup (one per "
                "account and Region)"
            ),
            synthesizer=aws_cdk.BootstraplessSynthesizer(),
            analytics_reporting=False,
        )
        # A published template is read by people: no aws:cdk:path metadata on every resource.
        self.node.set_context(_PATH_METADATA, False)
        #: The handler bundle whose zip the template expects at ``CodeBucket``/``CodeKey``.
        self.bundle = bundle if bundle is not None else stage_handler_bundle()
        #: The zip's file name, the default ``CodeKey``.
        self.code_file_name = code_file_name(self.bundle)

        self.code_bucket = aws_cdk.CfnParameter(
            self,
            "CodeBucket",
            type="String",
            allowed_pattern=_BUCKET_NAME_PATTERN,
            constraint_description="an S3 bucket name",
            description=(
                "Bucket holding the provider's code zip; it must be in the Region of this stack"
            ),
        )
        self.code_key = aws_cdk.CfnParameter(
            self,
            "CodeKey",
            type="String",
            default=self.code_file_name,
            allowed_pattern=_OBJECT_KEY_PATTERN,
            constraint_description="an S3 object key",
            description="Key of the provider's code zip in CodeBucket",
        )
        self.allowed_source_buckets = _list_parameter(
            self,
            "AllowedSourceBuckets",
            _BUCKET_NAME_PATTERN,
            "bucket names",
            "Buckets holding package files: the provider may read (s3:GetObject) every object "
            "in them. Empty: none (grant through bucket policies naming the exported role)",
        )
        self.allowed_domain_names = _list_parameter(
            self,
            "AllowedDomainNames",
            _DOMAIN_NAME_PATTERN,
            "domain names",
            "OpenSearch Service domains (of this account and Region) the provider may associate "
            "packages with. Empty: none",
        )
        self.allowed_kms_key_arns = _list_parameter(
            self,
            "AllowedKmsKeyArns",
            _KMS_KEY_ARN_PATTERN,
            "KMS key ARNs",
            "KMS keys of encrypted plugin packages (PackageEncryptionOptions) and of SSE-KMS "
            "encrypted package files. Empty: none",
        )
        self.key_store_access_role_arns = _list_parameter(
            self,
            "KeyStoreAccessRoleArns",
            _ROLE_ARN_PATTERN,
            "IAM role ARNs",
            "Roles the provider may pass to OpenSearch Service as KeyAccessRoleArn of a "
            "package's AssociationConfiguration. Empty: none",
        )

        self.allow_package_sharing = aws_cdk.CfnParameter(
            self,
            "AllowPackageSharing",
            type="String",
            default="false",
            allowed_values=["false", "true"],
            description="'true' lets the provider share packages with other accounts "
            "(es:UpdatePackageScope, for AllowListedUserList). Keep it 'true' while a package "
            "the provider manages is vended: removing AllowListedUserList unshares it",
        )

        code = aws_lambda.Code.from_cfn_parameters(
            bucket_name_param=self.code_bucket, object_key_param=self.code_key
        )
        #: The provider (function, role, log group, polling permission).
        self.provider = OpenSearchPackageProvider(self, PROVIDER_ID, code=code)
        self._add_scoped_policies()

        self.service_token_export_name = f"{export_prefix}-ServiceToken"
        self.role_arn_export_name = f"{export_prefix}-RoleArn"
        aws_cdk.CfnOutput(
            self,
            "ServiceToken",
            value=self.provider.service_token,
            export_name=self.service_token_export_name,
            description="ServiceToken of the Custom::OpenSearch* package resources",
        )
        aws_cdk.CfnOutput(
            self,
            "RoleArn",
            value=self.provider.role.role_arn,
            export_name=self.role_arn_export_name,
            description="The provider's role: name it in bucket policies and key policies",
        )
        #: The SSM parameter holding the ServiceToken.
        self.service_token_parameter = aws_ssm.StringParameter(
            self,
            "ServiceTokenParameter",
            parameter_name=f"{parameter_path}/service-token",
            string_value=self.provider.service_token,
            description="cdk-opensearch-packages: ServiceToken of the shared provider",
        )
        #: The SSM parameter holding the role ARN.
        self.role_arn_parameter = aws_ssm.StringParameter(
            self,
            "RoleArnParameter",
            parameter_name=f"{parameter_path}/role-arn",
            string_value=self.provider.role.role_arn,
            description="cdk-opensearch-packages: role of the shared provider",
        )
        self.template_options.metadata = {"AWS::CloudFormation::Interface": _interface()}

    def _add_scoped_policies(self) -> None:
        """One policy per list parameter, present only when the list is not empty."""
        role = self.provider.role
        source_objects = _arn_per_item(self.allowed_source_buckets, "arn:*:s3:::", "/*")
        source_policy = _conditional_policy(
            self,
            "SourceObjectsPolicy",
            role,
            self.allowed_source_buckets,
            aws_iam.PolicyStatement(actions=["s3:GetObject"], resources=source_objects),
        )
        domains = _arn_per_item(self.allowed_domain_names, "arn:*:es:*:*:domain/", "")
        domain_policy = _conditional_policy(
            self,
            "DomainsPolicy",
            role,
            self.allowed_domain_names,
            aws_iam.PolicyStatement(
                actions=list(DOMAIN_ACTIONS),
                resources=domains,
                conditions={"StringEquals": {"aws:RequestedRegion": self.region}},
            ),
        )
        _conditional_policy(
            self,
            "KmsKeysPolicy",
            role,
            self.allowed_kms_key_arns,
            *kms_statements(self.allowed_kms_key_arns.value_as_list),
        )
        _conditional_policy(
            self,
            "KeyStoreAccessRolesPolicy",
            role,
            self.key_store_access_role_arns,
            aws_iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=self.key_store_access_role_arns.value_as_list,
                conditions={"StringEquals": {"iam:PassedToService": "es.amazonaws.com"}},
            ),
        )
        sharing = _policy_under(
            self,
            "PackageSharingPolicy",
            role,
            aws_cdk.CfnCondition(
                self,
                "AllowsPackageSharing",
                expression=aws_cdk.Fn.condition_equals(
                    self.allow_package_sharing.value_as_string, "true"
                ),
            ),
            aws_iam.PolicyStatement(actions=list(SCOPE_ACTIONS), resources=["*"]),
        )
        aws_cdk.Validations.of(sharing).acknowledge(
            aws_cdk.Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason=(
                    "es:UpdatePackageScope supports no resource-level permissions (there is no "
                    "package ARN); granted only when AllowPackageSharing is 'true'"
                ),
            )
        )
        aws_cdk.Validations.of(source_policy).acknowledge(
            aws_cdk.Acknowledgment(
                id=_nag_resource_finding(self, source_objects),
                reason=(
                    "s3:GetObject on the objects of the buckets named in AllowedSourceBuckets "
                    "only; the partition is '*' because CloudFormation cannot prefix each list "
                    "item with AWS::Partition, and a role acts in its own partition only"
                ),
            )
        )
        aws_cdk.Validations.of(domain_policy).acknowledge(
            aws_cdk.Acknowledgment(
                id=_nag_resource_finding(self, domains),
                reason=(
                    "Domains named in AllowedDomainNames only; partition, Region and account are "
                    "'*' because CloudFormation cannot prefix each list item with pseudo "
                    "parameters: the role acts in its partition, the API addresses domains of "
                    "the caller's account, and aws:RequestedRegion pins the Region"
                ),
            )
        )


@dataclass(frozen=True)
class ProviderArtifacts:
    """What :func:`publish_provider` wrote.

    :param template: the provider template (JSON).
    :param code_zip: the handler zip; upload it to ``CodeBucket`` under ``code_key``.
    :param code_key: the zip's file name, the template's ``CodeKey`` default.
    :param asset_hash: the handler bundle's hash (also in ``code_key``).
    """

    template: Path
    code_zip: Path
    code_key: str
    asset_hash: str


def code_file_name(bundle: HandlerBundle) -> str:
    """The handler zip's file name: ``opensearch-package-provider-<bundle hash>.zip``."""
    return f"{CODE_FILE_PREFIX}{bundle.asset_hash}.zip"


def write_handler_zip(bundle: HandlerBundle, directory: Path) -> Path:
    """Zip a staged handler bundle into ``directory`` (named by :func:`code_file_name`).

    The entries are the bundle's files in sorted order, with a fixed timestamp and mode, so the
    same handler files give the same zip bytes. The zip is written under a temporary name and
    renamed into place.

    :returns: the zip's path.
    """
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / code_file_name(bundle)
    handle, partial_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=directory)
    os.close(handle)
    partial = Path(partial_name)
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
            for relative in bundle.files:
                info = zipfile.ZipInfo(relative, date_time=_ZIP_TIMESTAMP)
                info.external_attr = _ZIP_FILE_MODE
                info.compress_type = zipfile.ZIP_DEFLATED
                data = bundle.directory.joinpath(*relative.split("/")).read_bytes()
                zf.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
        partial.chmod(0o644)  # mkstemp creates it private; the zip is published
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def publish_provider(
    template: Mapping[str, Any], bundle: HandlerBundle, directory: Path
) -> ProviderArtifacts:
    """Write the provider template and its handler zip into ``directory``.

    :param template: the synthesized template of an :class:`OpenSearchPackageProviderStack`.
    :param bundle: that stack's :attr:`~OpenSearchPackageProviderStack.bundle`.
    :param directory: where to write (created when missing); existing files are replaced.
    :raises ValueError: when the template's ``CodeKey`` default is not this bundle's zip.
    """
    code_key = code_file_name(bundle)
    default = template.get("Parameters", {}).get("CodeKey", {}).get("Default")
    if default != code_key:
        raise ValueError(
            f"the template expects the code zip {default!r}, but the bundle is {code_key!r}: "
            "synthesize the stack with the bundle you publish"
        )
    directory.mkdir(parents=True, exist_ok=True)
    code_zip = write_handler_zip(bundle, directory)
    template_path = directory / TEMPLATE_FILE_NAME
    template_path.write_text(json.dumps(template, indent=1) + "\n", encoding="utf-8")
    return ProviderArtifacts(
        template=template_path, code_zip=code_zip, code_key=code_key, asset_hash=bundle.asset_hash
    )


def _list_parameter(
    stack: aws_cdk.Stack, name: str, item_pattern: str, items: str, description: str
) -> aws_cdk.CfnParameter:
    """A ``CommaDelimitedList`` parameter, empty by default, each item matching a pattern."""
    return aws_cdk.CfnParameter(
        stack,
        name,
        type="CommaDelimitedList",
        default="",
        allowed_pattern=_EMPTY_OR + item_pattern,
        constraint_description=f"a comma-separated list of {items}",
        description=description,
    )


def _arn_per_item(parameter: aws_cdk.CfnParameter, prefix: str, suffix: str) -> list[str]:
    """``[prefix + item + suffix for item in parameter]``, computed by CloudFormation.

    ``prefix`` and ``suffix`` must be literals: they become part of an ``Fn::Join`` delimiter.
    """
    joined = aws_cdk.Fn.join(f"{suffix},{prefix}", parameter.value_as_list)
    return aws_cdk.Fn.split(",", f"{prefix}{joined}{suffix}")


def _conditional_policy(
    stack: aws_cdk.Stack,
    id: str,
    role: aws_iam.IRole,
    parameter: aws_cdk.CfnParameter,
    *statements: aws_iam.PolicyStatement,
) -> aws_iam.Policy:
    """A policy of ``role`` holding ``statements``, left out when ``parameter`` is empty."""
    condition = aws_cdk.CfnCondition(
        stack,
        f"Has{parameter.node.id}",
        expression=aws_cdk.Fn.condition_not(
            aws_cdk.Fn.condition_equals(aws_cdk.Fn.join("", parameter.value_as_list), "")
        ),
    )
    return _policy_under(stack, id, role, condition, *statements)


def _policy_under(
    stack: aws_cdk.Stack,
    id: str,
    role: aws_iam.IRole,
    condition: aws_cdk.CfnCondition,
    *statements: aws_iam.PolicyStatement,
) -> aws_iam.Policy:
    """A policy of ``role`` holding ``statements``, present only when ``condition`` holds."""
    policy = aws_iam.Policy(stack, id, roles=[role], statements=list(statements))
    resource = policy.node.default_child
    assert isinstance(resource, aws_iam.CfnPolicy)
    resource.cfn_options.condition = condition
    return policy


def _nag_resource_finding(stack: aws_cdk.Stack, resources: list[str]) -> str:
    """The id of cdk-nag's IAM5 finding on a computed resource list (its JSON, compact)."""
    rendered = json.dumps(stack.resolve(resources), separators=(",", ":"))
    return f"AwsSolutions-IAM5[Resource::{rendered}]"


def _interface() -> dict[str, Any]:
    """``AWS::CloudFormation::Interface``: parameter groups for the console."""
    groups: Sequence[tuple[str, Sequence[str]]] = (
        ("Provider code (the uploaded zip)", ("CodeBucket", "CodeKey")),
        (
            "What the provider may use",
            (
                "AllowedSourceBuckets",
                "AllowedDomainNames",
                "AllowedKmsKeyArns",
                "KeyStoreAccessRoleArns",
                "AllowPackageSharing",
            ),
        ),
    )
    return {
        "ParameterGroups": [
            {"Label": {"default": label}, "Parameters": list(names)} for label, names in groups
        ]
    }
