"""The association of a package with a domain (``Custom::OpenSearchPackageAssociation``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import aws_cdk
from aws_cdk import aws_iam, aws_opensearchservice
from constructs import Construct

from cdk_opensearch_packages import construct_props
from cdk_opensearch_packages.checks import props
from cdk_opensearch_packages.provider import OpenSearchPackageProvider

if TYPE_CHECKING:
    from cdk_opensearch_packages.package import IOpenSearchPackage

__all__ = ["OpenSearchPackageAssociation", "default_association_id"]

RESOURCE_TYPE = "Custom::OpenSearchPackageAssociation"
_DOMAIN_NAME = re.compile(r"^[a-z][a-z0-9-]{2,27}$")


class OpenSearchPackageAssociation(Construct):
    """Associates a package with a domain and keeps the domain on the package's latest version.

    When the package gets a new version (its file changed), the association is updated and the
    domain receives that version. Deleting the association dissociates the package.

    Associations with the same domain in one stack are chained (each depends on the previous one)
    because a domain handles one package operation at a time.

    A plugin's prerequisites (its license and configuration packages) must be associated with the
    domain before the plugin: each prerequisite gets its own association with the domain (or
    reuses the one this stack already has), and the plugin's association lists the prerequisites
    through those associations, so CloudFormation associates them first, dissociates them last,
    and rolls a new version of a license or configuration out to the domain like any package's.
    """

    #: The package id (``PackageID``), from the association.
    package_id: str

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        package: IOpenSearchPackage,
        domain: aws_opensearchservice.IDomain | str,
        prerequisites: Sequence[IOpenSearchPackage] = (),
        key_store_access_role: aws_iam.IRole | None = None,
        timeout: aws_cdk.Duration | None = None,
    ) -> None:
        """
        :param package: the package to associate.
        :param domain: the domain, or the name of a domain in this stack's account and Region.
        :param prerequisites: license/configuration packages the plugin needs
            (``PrerequisitePackageIDList``); each is also associated with the domain (an
            association of it with this domain already in the stack is reused).
            Default: - none.
        :param key_store_access_role: a role OpenSearch Service assumes to reach the plugin's key
            store; the provider is allowed to pass it to es.amazonaws.com only. Default: - none.
        :param timeout: how long CloudFormation waits for the association (the custom resource's
            ``ServiceTimeout``, 1 second to 1 hour). Default: - 1 hour (rendered explicitly).
        """
        super().__init__(scope, id)
        path = self.node.path
        stack = aws_cdk.Stack.of(self)
        if isinstance(domain, str):
            _validate_domain_name(path, domain)
            domain_name = domain
            domain_arn = stack.format_arn(
                service="es",
                resource="domain",
                resource_name=domain,
                arn_format=aws_cdk.ArnFormat.SLASH_RESOURCE_NAME,
            )
        else:
            domain_name = domain.domain_name
            domain_arn = domain.domain_arn
        props.validate_engine_compatibility(
            path, package.engine_version, _domain_engine_version(domain), _describe(domain)
        )
        service_timeout = construct_props.service_timeout(path, timeout)

        provider = OpenSearchPackageProvider.get_or_create(self)
        provider.grant_domain(domain_arn)
        domain_key = _domain_key(domain)
        prerequisite_associations = [
            _association_of(provider, prerequisite, domain, domain_key)
            for prerequisite in prerequisites
        ]
        properties: dict[str, Any] = {"PackageID": package.package_id, "DomainName": domain_name}
        if prerequisite_associations:
            properties["PrerequisitePackageIDList"] = [
                association.package_id for association in prerequisite_associations
            ]
        if key_store_access_role is not None:
            properties["AssociationConfiguration"] = {
                "KeyStoreAccessOption": {
                    "KeyAccessRoleArn": key_store_access_role.role_arn,
                    "KeyStoreAccessEnabled": True,
                }
            }
            provider.grant_pass_role(key_store_access_role.role_arn)
        if package.package_version is not None:
            properties["OspPackageVersion"] = package.package_version

        resource = aws_cdk.CustomResource(
            self,
            "Resource",
            resource_type=RESOURCE_TYPE,
            service_token=provider.service_token,
            properties=properties,
            service_timeout=service_timeout,
        )
        provider.add_dependent(resource)
        # No DependsOn on the prerequisites: their ids are GetAtts of their associations, which
        # already order this association after them (an explicit DependsOn on top is what
        # cfn-lint reports as W3005).
        previous = provider.chain_domain_operation(domain_key, self)
        if previous is not None and previous not in prerequisite_associations:
            resource.node.add_dependency(previous)
        provider.register_association(domain_key, package, self)

        #: The underlying custom resource.
        self.resource = resource
        #: The associated package.
        self.package = package
        #: Where analyzers find the package, e.g. ``analyzers/F123456789`` (``ReferencePath``);
        #: use it as ``synonyms_path``, ``stopwords_path`` or ``user_dictionary``.
        self.reference_path = resource.get_att_string("ReferencePath")
        #: The package version active on the domain (``PackageVersion``).
        self.package_version = resource.get_att_string("PackageVersion")
        #: The domain name (``DomainName``).
        self.domain_name = resource.get_att_string("DomainName")
        self.package_id = resource.get_att_string("PackageID")


def _association_of(
    provider: OpenSearchPackageProvider,
    package: IOpenSearchPackage,
    domain: aws_opensearchservice.IDomain | str,
    domain_key: str,
) -> OpenSearchPackageAssociation:
    """The stack's association of ``package`` with the domain, made when there is none."""
    existing = provider.association_of(domain_key, package)
    if existing is not None:
        return existing
    return package.associate(domain)


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
            _describe(domain),
            "the package is already associated with this domain (or a domain with the same "
            f"construct id) as {child_id!r}",
            "Associate a package with a domain once; pass id='...' to tell two domains apart",
        )
    return child_id


def _validate_domain_name(path: str, name: str) -> None:
    if construct_props.is_unresolved(name) or _DOMAIN_NAME.fullmatch(name):
        return
    raise props.fail(
        path,
        "domain",
        name,
        "a domain name is 3 to 28 characters: a lowercase letter, then lowercase letters, digits "
        "and hyphens",
        "Pass the domain's name (not its ARN or endpoint) or the domain construct",
    )


def _domain_engine_version(domain: aws_opensearchservice.IDomain | str) -> str | None:
    """The engine version of a domain defined in this app (``None`` when unknown)."""
    if not isinstance(domain, aws_opensearchservice.Domain):
        return None
    child = domain.node.default_child
    if isinstance(child, aws_opensearchservice.CfnDomain):
        return child.engine_version
    return None


def _domain_key(domain: aws_opensearchservice.IDomain | str) -> str:
    """Identify a domain so associations with the same domain are chained."""
    name = domain if isinstance(domain, str) else domain.domain_name
    if not aws_cdk.Token.is_unresolved(name):
        return f"name:{name}"
    if isinstance(domain, str):
        return f"token:{name}"
    return f"construct:{domain.node.path}"


def _describe(domain: aws_opensearchservice.IDomain | str) -> str:
    return domain if isinstance(domain, str) else domain.node.path
