"""Stacks shared by the construct tests (built and synthesized once per session)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk
from aws_cdk import assertions, aws_iam, aws_kms, aws_opensearchservice, aws_s3

from cdk_opensearch_packages import (
    DictionaryKind,
    IOpenSearchPackage,
    OpenSearchPackage,
    OpenSearchPackageAssociation,
    OpenSearchPackageProvider,
    PackageConfiguration,
    PackageSource,
    PackageType,
    RequirementLevel,
)

SYNONYMS = "laptop, notebook\ntv, television\ncolour => color\n"
BUCKET_NAME = "my-packages-bucket"
OBJECT_VERSION = "3HL4kqtJlcpXroDTDmJ"


@dataclass
class FullStack:
    """A stack using every feature once; see :func:`build_full_stack`."""

    stack: aws_cdk.Stack
    template: assertions.Template
    domain: aws_opensearchservice.Domain
    key: aws_kms.Key
    key_store_role: aws_iam.Role
    synonyms: OpenSearchPackage
    license: OpenSearchPackage
    plugin: OpenSearchPackage
    imported: IOpenSearchPackage
    synonyms_on_domain: OpenSearchPackageAssociation
    plugin_on_domain: OpenSearchPackageAssociation
    imported_on_logs: OpenSearchPackageAssociation
    synonyms_on_logs: OpenSearchPackageAssociation
    provider: OpenSearchPackageProvider

    def logical_id(self, construct: Any) -> str:
        """The logical id of a construct's primary resource (or of a CfnElement)."""
        element = construct
        while not isinstance(element, aws_cdk.CfnElement):
            # Down the default children: a CustomResource's CfnResource is one level deeper.
            element = element.node.default_child
        return str(self.stack.resolve(self.stack.get_logical_id(element)))

    def resource(self, construct: Any) -> dict[str, Any]:
        """The template entry of a construct's primary resource."""
        resources: dict[str, Any] = self.template.to_json()["Resources"]
        return dict(resources[self.logical_id(construct)])


def build_full_stack(synonyms_file: Path) -> FullStack:
    """Packages of every type and associations with a domain construct and a domain name."""
    app = aws_cdk.App()
    stack = aws_cdk.Stack(app, "Full")
    domain = aws_opensearchservice.Domain(
        stack,
        "Domain",
        version=aws_opensearchservice.EngineVersion.OPENSEARCH_2_19,
        removal_policy=aws_cdk.RemovalPolicy.DESTROY,
    )
    bucket = aws_s3.Bucket.from_bucket_name(stack, "Bucket", BUCKET_NAME)
    key = aws_kms.Key(stack, "Key", enable_key_rotation=True)
    key_store_role = aws_iam.Role(
        stack, "KeyStoreRole", assumed_by=aws_iam.ServicePrincipal("es.amazonaws.com")
    )
    synonyms = OpenSearchPackage(
        stack,
        "Synonyms",
        package_type=PackageType.TXT_DICTIONARY,
        source=PackageSource.from_asset(str(synonyms_file)),
        package_name="synonyms",
        description="Product synonyms",
        dictionary_kind=DictionaryKind.SYNONYMS,
        timeout=aws_cdk.Duration.minutes(10),
        removal_policy=aws_cdk.RemovalPolicy.RETAIN,
        domains=[domain],
    )
    license_package = OpenSearchPackage(
        stack,
        "License",
        package_type=PackageType.PACKAGE_LICENSE,
        source=PackageSource.from_bucket(bucket, "licenses/license.txt"),
    )
    plugin = OpenSearchPackage(
        stack,
        "Plugin",
        package_type=PackageType.ZIP_PLUGIN,
        source=PackageSource.from_bucket(bucket, "plugins/analysis.zip", OBJECT_VERSION),
        engine_version=aws_opensearchservice.EngineVersion.OPENSEARCH_2_19,
        configuration=PackageConfiguration(
            license_requirement=RequirementLevel.REQUIRED,
            configuration_requirement=RequirementLevel.NONE,
            license_filepath="LICENSE.txt",
            requires_restart_for_configuration_update=False,
        ),
        vending_enabled=False,
        encryption_key=key,
    )
    plugin_on_domain = plugin.associate(
        domain,
        license=license_package,
        key_store_access_role=key_store_role,
        timeout=aws_cdk.Duration.minutes(45),
    )
    imported = OpenSearchPackage.from_package_id(stack, "Imported", "F123456789")
    imported_on_logs = imported.associate("logs-domain")
    synonyms_on_logs = synonyms.associate("logs-domain")
    synonyms_on_domain = synonyms.node.find_child("AssociationDomain")
    assert isinstance(synonyms_on_domain, OpenSearchPackageAssociation)
    return FullStack(
        stack=stack,
        template=assertions.Template.from_stack(stack),
        domain=domain,
        key=key,
        key_store_role=key_store_role,
        synonyms=synonyms,
        license=license_package,
        plugin=plugin,
        imported=imported,
        synonyms_on_domain=synonyms_on_domain,
        plugin_on_domain=plugin_on_domain,
        imported_on_logs=imported_on_logs,
        synonyms_on_logs=synonyms_on_logs,
        provider=OpenSearchPackageProvider.get_or_create(stack),
    )
