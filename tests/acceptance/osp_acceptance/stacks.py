"""The acceptance app's stacks: the domain, the example app's dictionary, and a plugin.

- ``<prefix>-Domain``: the example app's domain (``app.py``'s ``example_domain``) made ready for
  custom plugins: OpenSearch 2.19 (>= 2.15), node-to-node encryption, encryption at rest, HTTPS
  only (all three already in the example) and the TLS policy Policy-Min-TLS-1-2-PFS-2023-10
  (service-evidence.md §5). One domain serves both package stacks: one domain to pay for and
  to wait for.
- ``<prefix>-Example``: the example app's package: a synonyms dictionary associated with the
  domain; context ``osp_dictionary=v2`` swaps in ``examples/dictionaries/synonyms-v2.txt``
  (a new version rolled out).
- ``<prefix>-Plugin``: a custom plugin that requires a license, with its license and
  configuration packages (:func:`associate_plugin`, the one place that says how they reach the
  domain).

Package names are explicit (``osp-acc-<run id>-<role>``) so the suite can find the packages the
provider Lambda made, and a person can find them after an interrupted run.
"""

from __future__ import annotations

import hashlib
import importlib.util
import tempfile
from pathlib import Path
from typing import Any

import aws_cdk
from aws_cdk import aws_opensearchservice
from constructs import Construct
from osp_acceptance.plugin import LICENSE_FILEPATH, plugin_zip_bytes
from osp_acceptance.settings import ENGINE_VERSION, REPOSITORY, RunSettings

from cdk_opensearch_packages import (
    DictionaryKind,
    OpenSearchPackage,
    PackageConfiguration,
    PackageSource,
    PackageType,
    RequirementLevel,
)

__all__ = ["PREREQUISITES", "associate_plugin", "build_app"]

DICTIONARIES = REPOSITORY / "examples" / "dictionaries"
#: The TLS policy custom plugins need (CloudFormation's value).
PLUGIN_TLS_POLICY = "Policy-Min-TLS-1-2-PFS-2023-10"
LICENSE_TEXT = "cdk-opensearch-packages acceptance test license: any use allowed.\n"
CONFIG_TEXT = '{"greeting": "hello from the acceptance suite"}\n'


def _example_app_module() -> Any:
    """The repository's ``app.py`` (the example app), imported by path."""
    spec = importlib.util.spec_from_file_location("osp_example_app", REPOSITORY / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _file(name: str, data: bytes) -> str:
    """A content-addressed file in the temporary directory (a stable CDK asset)."""
    digest = hashlib.sha256(data).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / "osp-acceptance" / digest / name
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return str(path)


class DomainStack(aws_cdk.Stack):
    """The example app's domain, ready for custom plugins."""

    def __init__(self, scope: Construct, id: str, *, settings: RunSettings) -> None:
        super().__init__(scope, id, description="cdk-opensearch-packages acceptance: domain")
        domain = _example_app_module().example_domain(self, settings.domain_name)
        cfn_domain = domain.node.default_child
        assert isinstance(cfn_domain, aws_opensearchservice.CfnDomain)
        cfn_domain.add_property_override(
            "DomainEndpointOptions.TLSSecurityPolicy", PLUGIN_TLS_POLICY
        )
        cfn_domain.add_property_override("ClusterConfig.InstanceType", settings.instance_type)
        aws_cdk.CfnOutput(self, "DomainName", value=domain.domain_name)
        aws_cdk.CfnOutput(self, "EngineVersion", value=ENGINE_VERSION)


class ExampleStack(aws_cdk.Stack):
    """The example app's package: synonyms associated with the domain."""

    def __init__(
        self, scope: Construct, id: str, *, settings: RunSettings, dictionary: str
    ) -> None:
        super().__init__(scope, id, description="cdk-opensearch-packages acceptance: dictionary")
        file = DICTIONARIES / ("synonyms-v2.txt" if dictionary == "v2" else "synonyms.txt")
        synonyms = OpenSearchPackage(
            self,
            "Synonyms",
            package_type=PackageType.TXT_DICTIONARY,
            source=PackageSource.from_asset(str(file)),
            package_name=settings.package_name("synonyms"),
            dictionary_kind=DictionaryKind.SYNONYMS,
            description="Product search synonyms",
        )
        association = synonyms.associate(settings.domain_name)
        aws_cdk.CfnOutput(self, "PackageId", value=synonyms.package_id)
        aws_cdk.CfnOutput(self, "PackageVersion", value=association.package_version)
        aws_cdk.CfnOutput(self, "ReferencePath", value=association.reference_path)


#: Which association lists which packages as prerequisites (role -> roles), as
#: :func:`associate_plugin` wires them: AWS's documented third-party plugin recipe, where the
#: license and the configuration each list the plugin.
PREREQUISITES: dict[str, tuple[str, ...]] = {"license": ("plugin",), "config": ("plugin",)}


def associate_plugin(
    plugin: OpenSearchPackage,
    license_package: OpenSearchPackage,
    config_package: OpenSearchPackage,
    domain_name: str,
) -> dict[str, str]:
    """Associate the plugin and its license and configuration packages with the domain.

    The library's API: one association of the plugin with ``license=`` and ``configuration=``
    (the domain's package set associates the three in one AssociatePackages, the license and
    configuration listing the plugin as their prerequisite). This is the one place to change
    when the library's association API changes.

    :return: the package version each association rolls out, by role.
    """
    association = plugin.associate(
        domain_name, license=license_package, configuration=config_package
    )
    assert association.license is not None and association.configuration is not None
    return {
        "plugin": association.package_version,
        "license": association.license.package_version,
        "config": association.configuration.package_version,
    }


class PluginStack(aws_cdk.Stack):
    """A custom plugin with a license and a configuration package."""

    def __init__(self, scope: Construct, id: str, *, settings: RunSettings) -> None:
        super().__init__(scope, id, description="cdk-opensearch-packages acceptance: plugin")
        if settings.plugin_zip is not None:
            plugin_file = str(settings.plugin_zip)
        else:
            version = ENGINE_VERSION.split("_", 1)[1] + ".0"
            plugin_file = _file("osp-acceptance-1.0.0.zip", plugin_zip_bytes(version))
        license_package = OpenSearchPackage(
            self,
            "License",
            package_type=PackageType.PACKAGE_LICENSE,
            source=PackageSource.from_asset(_file("license.txt", LICENSE_TEXT.encode())),
            package_name=settings.package_name("license"),
        )
        config_package = OpenSearchPackage(
            self,
            "Config",
            package_type=PackageType.PACKAGE_CONFIG,
            source=PackageSource.from_asset(_file("plugin-config.json", CONFIG_TEXT.encode())),
            package_name=settings.package_name("config"),
        )
        plugin = OpenSearchPackage(
            self,
            "Plugin",
            package_type=PackageType.ZIP_PLUGIN,
            source=PackageSource.from_asset(plugin_file),
            package_name=settings.package_name("plugin"),
            engine_version=ENGINE_VERSION,
            configuration=PackageConfiguration(
                license_requirement=RequirementLevel.REQUIRED,
                license_filepath=LICENSE_FILEPATH,
                configuration_requirement=RequirementLevel.OPTIONAL,
            ),
            description="cdk-opensearch-packages acceptance test plugin",
        )
        versions = associate_plugin(plugin, license_package, config_package, settings.domain_name)
        for role, package in (
            ("Plugin", plugin),
            ("License", license_package),
            ("Config", config_package),
        ):
            aws_cdk.CfnOutput(self, f"{role}Id", value=package.package_id)
            aws_cdk.CfnOutput(self, f"{role}Version", value=versions[role.lower()])


def build_app(app: aws_cdk.App) -> None:
    """Add the three stacks to ``app`` from its context (``osp_run_id``, ``osp_dictionary``...)."""
    context = app.node.try_get_context
    plugin_zip = context("osp_plugin_zip")
    settings = RunSettings(
        target="cdk",
        run_id=str(context("osp_run_id") or "local"),
        instance_type=str(context("osp_instance_type") or RunSettings.instance_type),
        plugin_zip=Path(plugin_zip) if plugin_zip else None,
    )
    domain = DomainStack(app, settings.domain_stack, settings=settings)
    example = ExampleStack(
        app,
        settings.example_stack,
        settings=settings,
        dictionary=str(context("osp_dictionary") or "v1"),
    )
    plugin = PluginStack(app, settings.plugin_stack, settings=settings)
    example.add_stack_dependency(domain)
    plugin.add_stack_dependency(domain)
