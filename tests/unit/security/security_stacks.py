"""A stack that uses every feature of the library, checked by cdk-nag and cfn-lint.

Features: a dictionary from an asset with a ``dictionary_kind`` (also vended, retained, with a
custom timeout), a dictionary from a bucket object with ``object_version`` (the bucket has its own
KMS key), a plugin from an asset zip with an engine version, configuration requirements, an
encryption key and its license and config packages (listing the plugin as prerequisite), with a
key-store access role; packages imported by id and by name; associations with a ``Domain``
construct and with a domain name string.

The domain is configured as the example app configures its own (what cdk-nag's AwsSolutions pack
accepts); the findings an example domain cannot avoid are acknowledged on the domain itself, each
with its reason.
"""

from __future__ import annotations

import importlib.util
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import aws_cdk
from aws_cdk import aws_iam, aws_kms, aws_opensearchservice, aws_s3
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

from cdk_opensearch_packages import (
    DictionaryKind,
    OpenSearchPackage,
    OpenSearchPackageProvider,
    PackageConfiguration,
    PackageSource,
    PackageType,
    RequirementLevel,
)

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "fixtures" / "files"
STACK_NAME = "EveryFeature"
DOMAIN_NAME = "every-feature"
NAMED_DOMAIN = "logs-domain"
SOURCE_BUCKET = "my-packages-bucket"
SOURCE_KEY = "dictionaries/stopwords.txt"
OBJECT_VERSION = "3HL4kqtJlcpXroDTDmJ"
IMPORTED_ID = "F123456789"
LOOKED_UP_NAME = "company-synonyms"
ENGINE = "OpenSearch_2.19"


@dataclass
class EveryFeature:
    """The synthesized every-feature app.

    :param stack: the stack.
    :param provider: the stack's provider.
    :param template: the synthesized template.
    :param outdir: the cloud assembly directory.
    :param template_file: the template file cdk synth wrote.
    """

    stack: aws_cdk.Stack
    provider: OpenSearchPackageProvider
    template: dict[str, Any]
    outdir: Path
    template_file: Path

    def logical_id(self, construct: IConstruct) -> str:
        """The logical id of a construct's CloudFormation resource (its default child chain)."""
        element: Any = construct
        while not isinstance(element, aws_cdk.CfnElement):
            element = element.node.default_child
        return str(self.stack.resolve(self.stack.get_logical_id(element)))

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """The template's resources of one type, by logical id."""
        return {
            logical_id: resource
            for logical_id, resource in self.template["Resources"].items()
            if resource["Type"] == resource_type
        }


def plugin_zip(directory: Path) -> Path:
    """A plugin zip built from the ``hello`` fixture: its descriptor, LICENSE.txt and a jar
    holding the descriptor's class."""
    directory.mkdir(parents=True, exist_ok=True)
    jar = io.BytesIO()
    with zipfile.ZipFile(jar, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        archive.writestr("org/example/hello/HelloPlugin.class", b"\xca\xfe\xba\xbe")
    path = directory / "hello-2.19.0.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for file in sorted((FIXTURES / "plugins" / "hello").iterdir()):
            archive.write(file, file.name)
        archive.writestr("hello-1.0.0.jar", jar.getvalue())
    return path


def _example_app() -> ModuleType:
    """The example app's module (``app.py`` at the repository root; nothing runs on import)."""
    spec = importlib.util.spec_from_file_location("osp_example_app", REPO / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def nag_clean_domain(stack: aws_cdk.Stack) -> aws_opensearchservice.Domain:
    """A small domain configured as the example app's (slow logs, encryption, IAM access policy)."""
    domain: aws_opensearchservice.Domain = _example_app().example_domain(stack, DOMAIN_NAME)
    return domain


def build_every_feature(
    app: aws_cdk.App, work: Path, *, env: aws_cdk.Environment | None = None
) -> aws_cdk.Stack:
    """Add the every-feature stack to ``app`` (files it needs are written under ``work``)."""
    stack = aws_cdk.Stack(app, STACK_NAME, env=env)
    domain = nag_clean_domain(stack)

    package_key = aws_kms.Key(stack, "PackageKey", enable_key_rotation=True)
    bucket_key = aws_kms.Key(stack, "BucketKey", enable_key_rotation=True)
    bucket = aws_s3.Bucket.from_bucket_attributes(
        stack, "SourceBucket", bucket_name=SOURCE_BUCKET, encryption_key=bucket_key
    )
    key_store_role = aws_iam.Role(
        stack,
        "KeyStoreRole",
        assumed_by=aws_iam.ServicePrincipal("es.amazonaws.com"),
        description="Lets OpenSearch Service reach the plugin's key store",
    )

    synonyms = OpenSearchPackage(
        stack,
        "Synonyms",
        package_type=PackageType.TXT_DICTIONARY,
        source=PackageSource.from_asset(str(FIXTURES / "dictionaries" / "good" / "synonyms.txt")),
        dictionary_kind=DictionaryKind.SYNONYMS,
        description="Product synonyms",
        vending_enabled=True,
        timeout=aws_cdk.Duration.minutes(20),
        removal_policy=aws_cdk.RemovalPolicy.RETAIN,
        domains=[domain],
    )
    synonyms.associate(NAMED_DOMAIN)
    stopwords = OpenSearchPackage(
        stack,
        "Stopwords",
        package_type=PackageType.TXT_DICTIONARY,
        source=PackageSource.from_bucket(bucket, SOURCE_KEY, OBJECT_VERSION),
        package_name="every-feature-stopwords",
    )
    stopwords.associate(domain, timeout=aws_cdk.Duration.minutes(5))

    license_package = OpenSearchPackage(
        stack,
        "License",
        package_type=PackageType.PACKAGE_LICENSE,
        source=PackageSource.from_asset(str(FIXTURES / "license" / "LICENSE.txt")),
    )
    config_package = OpenSearchPackage(
        stack,
        "Config",
        package_type=PackageType.PACKAGE_CONFIG,
        source=PackageSource.from_asset(str(FIXTURES / "config" / "plugin-config.json")),
    )
    plugin = OpenSearchPackage(
        stack,
        "Plugin",
        package_type=PackageType.ZIP_PLUGIN,
        source=PackageSource.from_asset(str(plugin_zip(work / "plugin"))),
        engine_version=aws_opensearchservice.EngineVersion.OPENSEARCH_2_19,
        configuration=PackageConfiguration(
            license_requirement=RequirementLevel.REQUIRED,
            configuration_requirement=RequirementLevel.OPTIONAL,
            license_filepath="LICENSE.txt",
            requires_restart_for_configuration_update=True,
        ),
        encryption_key=package_key,
        timeout=aws_cdk.Duration.hours(1),
    )
    plugin.associate(
        domain,
        license=license_package,
        configuration=config_package,
        key_store_access_role=key_store_role,
        timeout=aws_cdk.Duration.hours(1),
    )

    imported = OpenSearchPackage.from_package_id(stack, "Imported", IMPORTED_ID)
    imported.associate(NAMED_DOMAIN)
    looked_up = OpenSearchPackage.from_package_name(
        stack,
        "LookedUp",
        LOOKED_UP_NAME,
        package_owner="111122223333",
        refresh_key="1",
        timeout=aws_cdk.Duration.minutes(10),
    )
    looked_up.associate(domain)

    aws_cdk.CfnOutput(stack, "SynonymsId", value=synonyms.package_id)
    aws_cdk.CfnOutput(stack, "PluginVersion", value=plugin.package_version or "")
    return stack


def synth_every_feature(
    outdir: Path, work: Path, *, env: aws_cdk.Environment | None = None
) -> EveryFeature:
    """Synthesize the every-feature stack with cdk-nag's AwsSolutions pack as a validation plugin.

    :raises RuntimeError: ``ValidationFailed`` when cdk-nag reports a finding nobody acknowledged.
    """
    app = aws_cdk.App(outdir=str(outdir))
    stack = build_every_feature(app, work, env=env)
    aws_cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    assembly = app.synth()
    artifact = assembly.get_stack_artifact(stack.artifact_id)
    template_file = Path(assembly.directory) / artifact.template_file
    return EveryFeature(
        stack=stack,
        provider=OpenSearchPackageProvider.get_or_create(stack),
        template=json.loads(template_file.read_text(encoding="utf-8")),
        outdir=Path(assembly.directory),
        template_file=template_file,
    )
