"""A domain's package set (``Custom::OpenSearchDomainPackages``): every package a stack
associates with one domain, applied in as few domain operations as the service allows."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aws_cdk
import constructs
import jsii
from aws_cdk import aws_iam, aws_opensearchservice
from constructs import Construct, IConstruct

from cdk_opensearch_packages import construct_props
from cdk_opensearch_packages.checks import props
from cdk_opensearch_packages.provider import OpenSearchPackageProvider

if TYPE_CHECKING:
    from cdk_opensearch_packages.package import IOpenSearchPackage

__all__ = ["RESOURCE_TYPE", "DomainPackageEntry", "OpenSearchDomainPackages"]

RESOURCE_TYPE = "Custom::OpenSearchDomainPackages"
PLUGIN = "ZIP-PLUGIN"
LICENSE = "PACKAGE-LICENSE"
CONFIG = "PACKAGE-CONFIG"
_DOMAIN_NAME = re.compile(r"^[a-z][a-z0-9-]{2,27}$")
_KEY_CHARS = re.compile(r"[^A-Za-z0-9]")


def package_type_of(package: IConstruct) -> str | None:
    """The API type of a package of this app (``None`` when unknown: imported or looked up)."""
    value = getattr(package, "package_type", None)
    return str(getattr(value, "value", value)) if value is not None else None


def requirement_of(package: IConstruct, what: str) -> str | None:
    """A plugin's ``license_requirement`` / ``configuration_requirement`` (``REQUIRED``...)."""
    configuration = getattr(package, "configuration", None)
    level = getattr(configuration, what, None)
    return str(getattr(level, "value", level)) if level is not None else None


@dataclass
class DomainPackageEntry:
    """One package of the set.

    :param package: the package.
    :param key: the prefix of its attributes (``<key>.ReferencePath``...).
    :param prerequisites: packages listed in its ``PrerequisitePackageIDList``.
    :param key_store_access_role: the role of its ``AssociationConfiguration``.
    """

    package: IOpenSearchPackage
    key: str
    prerequisites: list[IOpenSearchPackage] = field(default_factory=list)
    key_store_access_role: aws_iam.IRole | None = None

    def render(self) -> dict[str, Any]:
        """The ``PackageList`` entry (``PackageDetailsForAssociation`` plus control keys)."""
        rendered: dict[str, Any] = {"PackageID": self.package.package_id, "OspKey": self.key}
        if self.prerequisites:
            rendered["PrerequisitePackageIDList"] = [p.package_id for p in self.prerequisites]
        if self.key_store_access_role is not None:
            rendered["AssociationConfiguration"] = {
                "KeyStoreAccessOption": {
                    "KeyAccessRoleArn": self.key_store_access_role.role_arn,
                    "KeyStoreAccessEnabled": True,
                }
            }
        if self.package.package_version is not None:
            rendered["OspPackageVersion"] = self.package.package_version
        return rendered


class OpenSearchDomainPackages(Construct):
    """Every package this stack associates with one domain, as one custom resource
    (``Custom::OpenSearchDomainPackages``).

    A domain runs one package operation at a time, and a plugin's association is a blue/green
    deployment of the whole domain. So the stack keeps one set per domain: creating it makes one
    AssociatePackages call with every package (prerequisites in the same call); an update makes
    one DissociatePackages for what left the set and one AssociatePackages for what is new or
    has a new version; deleting it makes one DissociatePackages.

    :meth:`OpenSearchPackageBase.associate` adds packages to the set of its domain (made on first
    use, see :meth:`of`); use this construct directly only to set the timeout or to read it.
    """

    @staticmethod
    def of(
        scope: Construct, domain: aws_opensearchservice.IDomain | str
    ) -> OpenSearchDomainPackages:
        """The set of ``domain`` in the stack of ``scope`` (made on first use).

        :param domain: the domain, or the name of a domain in the stack's account and Region.
        """
        provider = OpenSearchPackageProvider.get_or_create(scope)
        key = domain_key(domain)
        existing = provider.domain_set(key)
        if isinstance(existing, OpenSearchDomainPackages):
            return existing
        stack = aws_cdk.Stack.of(scope)
        base = _KEY_CHARS.sub("", domain if isinstance(domain, str) else domain.node.id) or "Domain"
        child_id = f"{base}Packages"
        if stack.node.try_find_child(child_id) is not None:
            child_id = f"{base}Packages{_short_hash(key)}"
        return OpenSearchDomainPackages(stack, child_id, domain=domain)

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        domain: aws_opensearchservice.IDomain | str,
        timeout: aws_cdk.Duration | None = None,
    ) -> None:
        """
        :param domain: the domain, or the name of a domain in this stack's account and Region.
        :param timeout: how long CloudFormation waits for the set's changes (the custom
            resource's ``ServiceTimeout``, 1 second to 1 hour). The set takes the longest of
            this and the timeouts given to :meth:`add`. Default: - 1 hour when no timeout is
            given anywhere (rendered explicitly).
        """
        super().__init__(scope, id)
        path = self.node.path
        if isinstance(domain, str):
            _validate_domain_name(path, domain)
            domain_name = domain
            domain_arn = aws_cdk.Stack.of(self).format_arn(
                service="es",
                resource="domain",
                resource_name=domain,
                arn_format=aws_cdk.ArnFormat.SLASH_RESOURCE_NAME,
            )
        else:
            domain_name = domain.domain_name
            domain_arn = domain.domain_arn
        provider = OpenSearchPackageProvider.get_or_create(self)
        key = domain_key(domain)
        if provider.domain_set(key) is not None:
            raise props.fail(
                path,
                "domain",
                describe_domain(domain),
                "this stack already has a package set for this domain",
                "Use OpenSearchDomainPackages.of(scope, domain) to get it",
            )
        provider.register_domain_set(key, self)
        provider.grant_domain(domain_arn)
        self._provider = provider
        self._domain = domain
        self._entries: list[DomainPackageEntry] = []
        self._seconds: list[float] = []
        self._ask_timeout(path, timeout)

        resource = aws_cdk.CustomResource(
            self,
            "Resource",
            resource_type=RESOURCE_TYPE,
            service_token=provider.service_token,
            properties={
                "DomainName": domain_name,
                "PackageList": aws_cdk.Lazy.any(_Producer(self), omit_empty_array=False),
            },
            service_timeout=aws_cdk.Duration.seconds(
                aws_cdk.Token.as_number(aws_cdk.Lazy.number(_TimeoutProducer(self)))
            ),
        )
        provider.add_dependent(resource)
        self.node.add_validation(_PluginPartsValidation(self))
        #: The underlying custom resource.
        self.resource = resource

    @property
    def domain_name(self) -> str:
        """The domain's name (``DomainName`` attribute)."""
        return self.resource.get_att_string("DomainName")

    @property
    def entries(self) -> list[DomainPackageEntry]:
        """The packages of the set, in the order they were added."""
        return list(self._entries)

    def entry_of(self, package: IConstruct) -> DomainPackageEntry | None:
        """The entry of ``package`` (a package construct of this app), if it is in the set."""
        return next((e for e in self._entries if e.package.node.path == package.node.path), None)

    def add(
        self,
        package: IOpenSearchPackage,
        *,
        prerequisites: list[IOpenSearchPackage] | None = None,
        key_store_access_role: aws_iam.IRole | None = None,
        timeout: aws_cdk.Duration | None = None,
    ) -> DomainPackageEntry:
        """Add a package to the set (or extend its entry: prerequisites are merged).

        :param prerequisites: packages it lists in ``PrerequisitePackageIDList``; each is added
            to the set too. Default: - none.
        :param key_store_access_role: the role of ``AssociationConfiguration.KeyStoreAccessOption``
            (the provider may pass it to es.amazonaws.com only). Default: - none.
        :param timeout: the set's ``ServiceTimeout`` is at least this. Default: - none.
        """
        path = self.node.path
        props.validate_engine_compatibility(
            package.node.path,
            package.engine_version,
            _domain_engine_version(self._domain),
            describe_domain(self._domain),
        )
        self._ask_timeout(package.node.path, timeout)
        entry = self.entry_of(package)
        if entry is None:
            entry = DomainPackageEntry(package, _entry_key(package))
            self._entries.append(entry)
        for prerequisite in prerequisites or []:
            if self.entry_of(prerequisite) is None:
                self._entries.insert(
                    self._entries.index(entry),
                    DomainPackageEntry(prerequisite, _entry_key(prerequisite)),
                )
            if all(p.node.path != prerequisite.node.path for p in entry.prerequisites):
                entry.prerequisites.append(prerequisite)
        if key_store_access_role is not None:
            if entry.key_store_access_role not in (None, key_store_access_role):
                raise props.fail(
                    path,
                    "key_store_access_role",
                    key_store_access_role.node.path,
                    f"package {package.node.path} already has another key-store role here",
                    "Pass one key_store_access_role per package and domain",
                )
            entry.key_store_access_role = key_store_access_role
            self._provider.grant_pass_role(key_store_access_role.role_arn)
        return entry

    def attribute(self, entry: DomainPackageEntry, name: str) -> str:
        """The ``<key>.<name>`` attribute of an entry (``ReferencePath``, ``PackageVersion``,
        ``PackageID``), a deploy-time token."""
        return self.resource.get_att_string(f"{entry.key}.{name}")

    def _ask_timeout(self, path: str, timeout: aws_cdk.Duration | None) -> None:
        """Check ``timeout`` (reported under ``path``) and count it toward the set's."""
        if timeout is None:
            return
        checked = construct_props.service_timeout(path, timeout)
        if not checked.is_unresolved():
            self._seconds.append(checked.to_seconds(integral=False))

    def _timeout_seconds(self) -> float:
        """The longest timeout asked for (the set's own or an association's), else 1 hour."""
        return max(self._seconds, default=float(props.DEFAULT_TIMEOUT_SECONDS))


@jsii.implements(aws_cdk.IStableAnyProducer)
class _Producer:
    """Renders ``PackageList`` at synth time (every package added until then)."""

    def __init__(self, owner: OpenSearchDomainPackages) -> None:
        self._owner = owner

    def produce(self) -> Any:
        return [entry.render() for entry in self._owner.entries]


@jsii.implements(aws_cdk.IStableNumberProducer)
class _TimeoutProducer:
    def __init__(self, owner: OpenSearchDomainPackages) -> None:
        self._owner = owner

    def produce(self) -> Any:
        return self._owner._timeout_seconds()


@jsii.implements(constructs.IValidation)
class _PluginPartsValidation:
    """At synth: a plugin whose ``PackageConfiguration`` requires a license (configuration)
    has a PACKAGE-LICENSE (PACKAGE-CONFIG) package in the set that lists it as prerequisite."""

    def __init__(self, owner: OpenSearchDomainPackages) -> None:
        self._owner = owner

    def validate(self) -> list[str]:
        errors: list[str] = []
        entries = self._owner.entries
        for plugin in entries:
            if package_type_of(plugin.package) != PLUGIN:
                continue
            for what, part_type, prop in (
                ("license_requirement", LICENSE, "license"),
                ("configuration_requirement", CONFIG, "configuration"),
            ):
                if requirement_of(plugin.package, what) != "REQUIRED":
                    continue
                if any(
                    package_type_of(e.package) in (part_type, None)
                    and any(p.node.path == plugin.package.node.path for p in e.prerequisites)
                    for e in entries
                ):
                    continue
                errors.append(
                    f"{plugin.package.node.path}: {prop}: the plugin's PackageConfiguration has "
                    f"{what.split('_')[0].capitalize()}Requirement REQUIRED, but no {part_type} "
                    f"package is associated with domain {describe_domain(self._owner._domain)} "
                    f"with the plugin as its prerequisite. Fix: pass {prop}=<a {part_type} "
                    "package> to the plugin's associate()"
                )
        return errors


def _entry_key(package: IConstruct) -> str:
    """A short attribute prefix, stable across synths: the construct id's letters and digits
    (at most 16) and a hash of the construct path."""
    base = _KEY_CHARS.sub("", package.node.id)[:16] or "Package"
    return f"{base}{_short_hash(package.node.path)}"


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:6]


def _validate_domain_name(path: str, name: str) -> None:
    construct_props.validate_pattern(
        path,
        "domain",
        name,
        _DOMAIN_NAME,
        rule="a domain name is 3 to 28 characters: a lowercase letter, then lowercase "
        "letters, digits and hyphens",
        fix="Pass the domain's name (not its ARN or endpoint) or the domain construct",
    )


def _domain_engine_version(domain: aws_opensearchservice.IDomain | str) -> str | None:
    """The engine version of a domain defined in this app (``None`` when unknown)."""
    if not isinstance(domain, aws_opensearchservice.Domain):
        return None
    child = domain.node.default_child
    if isinstance(child, aws_opensearchservice.CfnDomain):
        return child.engine_version
    return None


def domain_key(domain: aws_opensearchservice.IDomain | str) -> str:
    """Identify a domain: its name when known at synth, else its construct (or token)."""
    name = domain if isinstance(domain, str) else domain.domain_name
    if not aws_cdk.Token.is_unresolved(name):
        return f"name:{name}"
    if isinstance(domain, str):
        return f"token:{name}"
    return f"construct:{domain.node.path}"


def describe_domain(domain: aws_opensearchservice.IDomain | str) -> str:
    """The domain's name, or its construct path."""
    return domain if isinstance(domain, str) else domain.node.path
