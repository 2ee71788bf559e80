"""The association of a package with a domain: one entry of the domain's package set."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import aws_cdk
from aws_cdk import aws_iam, aws_opensearchservice
from constructs import Construct

from cdk_opensearch_packages import construct_props
from cdk_opensearch_packages.checks import props
from cdk_opensearch_packages.domain_packages import (
    CONFIG,
    LICENSE,
    PLUGIN,
    DomainPackageEntry,
    OpenSearchDomainPackages,
    describe_domain,
    package_type_of,
    requirement_of,
)

if TYPE_CHECKING:
    from cdk_opensearch_packages.package import IOpenSearchPackage

__all__ = ["OpenSearchPackageAssociation", "default_association_id"]


class OpenSearchPackageAssociation(Construct):
    """Associates a package with a domain and keeps the domain on the package's latest version.

    Every association of this stack with one domain is an entry of the domain's
    :class:`~cdk_opensearch_packages.domain_packages.OpenSearchDomainPackages` (one custom
    resource per domain): the stack's packages reach the domain in one AssociatePackages call
    on create, an update makes one call for what changed and one for what left, a delete one
    DissociatePackages. When the package gets a new version (its file changed), the domain
    receives it in the same deployment.

    A third-party plugin is associated as AWS documents it: the plugin, its license and its
    configuration in one call, the license and configuration each listing the plugin as their
    prerequisite (``license=`` / ``configuration=``). Dissociating the plugin removes them too.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        package: IOpenSearchPackage,
        domain: aws_opensearchservice.IDomain | str,
        prerequisites: Sequence[IOpenSearchPackage] = (),
        license: IOpenSearchPackage | None = None,
        configuration: IOpenSearchPackage | None = None,
        key_store_access_role: aws_iam.IRole | None = None,
        timeout: aws_cdk.Duration | None = None,
    ) -> None:
        """
        :param package: the package to associate.
        :param domain: the domain, or the name of a domain in this stack's account and Region.
        :param prerequisites: packages that must be on the domain before or with this one
            (``PrerequisitePackageIDList``); each is added to the domain's set too. For a
            plugin's license and configuration use ``license=`` / ``configuration=``.
            Default: - none.
        :param license: the plugin's PACKAGE-LICENSE package; it is associated in the same
            call, listing the plugin as its prerequisite. Default: - none.
        :param configuration: the plugin's PACKAGE-CONFIG package, associated likewise.
            Default: - none.
        :param key_store_access_role: a role OpenSearch Service assumes to reach the plugin's key
            store; the provider is allowed to pass it to es.amazonaws.com only. Default: - none.
        :param timeout: how long CloudFormation may wait for the domain's package set (its
            ``ServiceTimeout``: the longest timeout any association asks for, 1 second to 1
            hour). Default: - 1 hour.
        """
        super().__init__(scope, id)
        path = self.node.path
        _check_plugin_parts(path, package, prerequisites, license, configuration)
        if timeout is not None:
            construct_props.service_timeout(path, timeout)
        packages = OpenSearchDomainPackages.of(self, domain)
        self._packages = packages
        self._package = package
        self._entry = packages.add(
            package,
            prerequisites=list(prerequisites),
            key_store_access_role=key_store_access_role,
            timeout=timeout,
        )
        self._parts: dict[str, OpenSearchPackageAssociation] = {}
        for prop, part in (("license", license), ("configuration", configuration)):
            if part is not None:
                self._parts[prop] = _association_of(
                    part, domain, prerequisite=package, timeout=timeout
                )

    @property
    def license(self) -> OpenSearchPackageAssociation | None:
        """The association of the plugin's license package (``None`` when not given)."""
        return self._parts.get("license")

    @property
    def configuration(self) -> OpenSearchPackageAssociation | None:
        """The association of the plugin's configuration package (``None`` when not given)."""
        return self._parts.get("configuration")

    @property
    def package(self) -> IOpenSearchPackage:
        """The associated package."""
        return self._package

    @property
    def domain_packages(self) -> OpenSearchDomainPackages:
        """The domain's package set this association is an entry of."""
        return self._packages

    @property
    def entry(self) -> DomainPackageEntry:
        """The package's entry in the domain's set (``PackageList``)."""
        return self._entry

    @property
    def resource(self) -> aws_cdk.CustomResource:
        """The custom resource that holds the association (the domain's package set, shared
        by every association of this stack with the domain)."""
        return self._packages.resource

    @property
    def reference_path(self) -> str:
        """Where analyzers find the package, e.g. ``analyzers/F123456789`` (``ReferencePath``);
        use it as ``synonyms_path``, ``stopwords_path`` or ``user_dictionary``. A deploy-time
        token ("" for plugins, licenses and configurations)."""
        return self._packages.attribute(self._entry, "ReferencePath")

    @property
    def package_version(self) -> str:
        """The package version active on the domain (``PackageVersion``, e.g. ``v2``), a
        deploy-time token."""
        return self._packages.attribute(self._entry, "PackageVersion")

    @property
    def domain_name(self) -> str:
        """The domain name (``DomainName``), a deploy-time token."""
        return self._packages.domain_name

    @property
    def package_id(self) -> str:
        """The package id (``PackageID``), from the domain's set: a deploy-time token that
        orders what uses it after the association."""
        return self._packages.attribute(self._entry, "PackageID")


def _association_of(
    part: IOpenSearchPackage,
    domain: aws_opensearchservice.IDomain | str,
    *,
    prerequisite: IOpenSearchPackage,
    timeout: aws_cdk.Duration | None,
) -> OpenSearchPackageAssociation:
    """The association of a plugin's license or configuration with the domain, listing the
    plugin as its prerequisite: the one ``part.associate(domain)`` made, else a new one."""
    child_id = f"Association{domain if isinstance(domain, str) else domain.node.id}"
    existing = part.node.try_find_child(child_id)
    if isinstance(existing, OpenSearchPackageAssociation):
        existing.domain_packages.add(part, prerequisites=[prerequisite], timeout=timeout)
        return existing
    return part.associate(domain, prerequisites=[prerequisite], timeout=timeout)


def _check_plugin_parts(
    path: str,
    package: IOpenSearchPackage,
    prerequisites: Sequence[IOpenSearchPackage],
    license: IOpenSearchPackage | None,
    configuration: IOpenSearchPackage | None,
) -> None:
    """The types fit: ``license`` is a PACKAGE-LICENSE, ``configuration`` a PACKAGE-CONFIG, both
    only for a ZIP-PLUGIN whose configuration does not say NONE; a plugin lists no license or
    configuration among its prerequisites (AWS documents the reverse)."""
    package_type = package_type_of(package)
    for prop, part, expected, requirement in (
        ("license", license, LICENSE, "license_requirement"),
        ("configuration", configuration, CONFIG, "configuration_requirement"),
    ):
        if part is None:
            continue
        if package_type not in (PLUGIN, None):
            raise props.fail(
                path,
                prop,
                part.node.path,
                f"only a ZIP-PLUGIN takes a {prop} package; this package is a {package_type}",
                f"Associate the {prop} with the plugin: plugin.associate(domain, {prop}=...)",
            )
        part_type = package_type_of(part)
        if part_type not in (expected, None):
            raise props.fail(
                path,
                prop,
                part.node.path,
                f"the {prop} package must be a {expected}, not a {part_type}",
                f"Pass a package created with package_type=PackageType."
                f"{expected.replace('-', '_')}",
            )
        if requirement_of(package, requirement) == "NONE":
            raise props.fail(
                path,
                prop,
                part.node.path,
                f"the plugin's PackageConfiguration says {requirement} NONE",
                f"Leave {prop} out, or set {requirement} to OPTIONAL or REQUIRED",
            )
    if package_type == PLUGIN:
        for prerequisite in prerequisites:
            part_type = package_type_of(prerequisite)
            if part_type in (LICENSE, CONFIG):
                prop = "license" if part_type == LICENSE else "configuration"
                raise props.fail(
                    path,
                    "prerequisites",
                    prerequisite.node.path,
                    f"a {part_type} package is not a prerequisite of its plugin: AWS documents "
                    "the reverse (the plugin is the prerequisite of its license and "
                    "configuration, all associated in one call)",
                    f"Pass it as {prop}=... instead",
                )


def default_association_id(package: Construct, domain: aws_opensearchservice.IDomain | str) -> str:
    """The construct id ``associate`` gives an association: ``Association<domain id or name>``.

    :raises ValueError: when the domain is a name only known at deploy time (pass ``id``), or
        when the package is already associated with that domain here.
    """
    if isinstance(domain, str):
        if aws_cdk.Token.is_unresolved(domain):
            raise props.fail(
                package.node.path,
                "domain",
                domain,
                "associate() names the association after the domain, but this domain name is "
                "only known at deploy time",
                "Pass id='...' to associate(), or pass the domain construct",
            )
        suffix = domain
    else:
        suffix = domain.node.id
    child_id = f"Association{suffix}"
    if package.node.try_find_child(child_id) is not None:
        raise props.fail(
            package.node.path,
            "domain",
            describe_domain(domain),
            "the package is already associated with this domain (or a domain with the same "
            f"construct id) as {child_id!r}",
            "Associate a package with a domain once; pass id='...' to tell two domains apart",
        )
    return child_id
