"""OpenSearch Service custom packages: the interface, the base class and the construct."""

from __future__ import annotations

import contextlib
import enum
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import aws_cdk
import constructs
import jsii
from aws_cdk import aws_iam, aws_kms, aws_opensearchservice
from constructs import Construct

from cdk_opensearch_packages import construct_props
from cdk_opensearch_packages.association import OpenSearchPackageAssociation, default_association_id
from cdk_opensearch_packages.checks import props
from cdk_opensearch_packages.checks.files import check_package_file
from cdk_opensearch_packages.provider import OpenSearchPackageProvider
from cdk_opensearch_packages.source import PackageSource

__all__ = [
    "DictionaryKind",
    "IOpenSearchPackage",
    "OpenSearchPackage",
    "OpenSearchPackageBase",
    "PackageConfiguration",
    "PackageType",
    "RequirementLevel",
    "SynonymTokenizer",
]

RESOURCE_TYPE = "Custom::OpenSearchPackage"
LOOKUP_RESOURCE_TYPE = "Custom::OpenSearchPackageLookup"
#: Any name a package can have (the service model's rule: 3 to 256 characters).
LOOKUP_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{2,255}$")
#: A ``PackageOwner`` filter value without wildcards.
LOOKUP_OWNER_PATTERN = re.compile(r"^[0-9a-zA-Z._\\/-]{1,1024}$")
FILE_WARNING_ID = "cdk-opensearch-packages:PackageFile"


class PackageType(enum.Enum):
    """The type of a package (the values are the API's ``PackageType`` strings)."""

    #: A dictionary file: synonyms, stopwords or a user dictionary (usually UTF-8 text; binary
    #: dictionaries such as compiled Sudachi ones are TXT-DICTIONARY packages too).
    TXT_DICTIONARY = "TXT-DICTIONARY"
    #: A custom or third-party plugin (a .zip file); needs an ``engine_version``.
    ZIP_PLUGIN = "ZIP-PLUGIN"
    #: A license file for a third-party plugin (associated with the plugin as its prerequisite).
    PACKAGE_LICENSE = "PACKAGE-LICENSE"
    #: A configuration file for a third-party plugin (associated with the plugin as its
    #: prerequisite).
    PACKAGE_CONFIG = "PACKAGE-CONFIG"


class RequirementLevel(enum.Enum):
    """Whether a plugin requires a license or a configuration package."""

    REQUIRED = "REQUIRED"
    OPTIONAL = "OPTIONAL"
    NONE = "NONE"


class DictionaryKind(enum.Enum):
    """What a TXT-DICTIONARY file holds; selects the synth-time checks of its content.

    Every kind but BINARY gets the encoding checks (UTF-8, no byte-order mark, no NUL, not
    empty); the others check the format as the analyzer that reads the file does (see the
    README's *Fail before deploy*).
    """

    #: Solr-format synonym rules (``synonyms_path`` of a synonym or synonym_graph filter),
    #: checked as Lucene's SolrSynonymParser reads them; see :class:`SynonymTokenizer`.
    SYNONYMS = "SYNONYMS"
    #: One stopword per line (``stopwords_path`` of a stop filter), read as OpenSearch does.
    STOPWORDS = "STOPWORDS"
    #: The ``user_dictionary`` of the kuromoji (Japanese) tokenizer: CSV lines
    #: ``surface,segmentation,readings,part-of-speech``, checked as OpenSearch and Lucene read them.
    KUROMOJI_USER_DICTIONARY = "KUROMOJI_USER_DICTIONARY"
    #: The ``user_dictionary`` of the nori (Korean) tokenizer: a surface form per line, optionally
    #: followed by its segments, checked as OpenSearch and Lucene read them.
    NORI_USER_DICTIONARY = "NORI_USER_DICTIONARY"
    #: A user dictionary of another analyzer (e.g. a Sudachi or smartcn text dictionary): only the
    #: encoding is checked; prefer KUROMOJI_USER_DICTIONARY or NORI_USER_DICTIONARY for those.
    USER_DICTIONARY = "USER_DICTIONARY"
    #: A binary dictionary, e.g. a compiled Sudachi system or user dictionary (AWS's guide
    #: uploads those as TXT-DICTIONARY packages): no text checks, only that it is not empty.
    BINARY = "BINARY"


class SynonymTokenizer(enum.Enum):
    """The tokenizer of the analyzers that use a synonym file (``synonym_tokenizer``).

    The synonym filter analyzes each term of the file with the tokenizer of the analyzer it
    belongs to, and fails on a term that analyzes to nothing. A term without letters, digits,
    ideographs or emoji (``-``, ``&``, ``...``) fails with the standard tokenizer but not with the
    whitespace tokenizer, so the tokenizer decides whether such a term is an error.
    """

    #: The ``standard`` tokenizer (OpenSearch's default, and most language analyzers'): a term
    #: it makes no token of is an error.
    STANDARD = "STANDARD"
    #: The ``whitespace`` tokenizer: such a term is a warning (the file would fail in an
    #: analyzer with the standard tokenizer).
    WHITESPACE = "WHITESPACE"


@dataclass(frozen=True, kw_only=True)
class PackageConfiguration:
    """The license and configuration requirements of a ZIP-PLUGIN package
    (``PackageConfiguration`` of CreatePackage).

    :param license_requirement: whether the plugin requires a license package.
    :param configuration_requirement: whether the plugin requires a configuration package.
    :param license_filepath: the path of the license file inside the plugin. Default: - none.
    :param requires_restart_for_configuration_update: whether updating the configuration package
        needs a blue/green deployment. Default: - the service's default.
    """

    license_requirement: RequirementLevel
    configuration_requirement: RequirementLevel
    license_filepath: str | None = None
    requires_restart_for_configuration_update: bool | None = None

    def render(self) -> dict[str, Any]:
        """The ``PackageConfiguration`` property (absent optionals omitted)."""
        rendered: dict[str, Any] = {
            "LicenseRequirement": self.license_requirement.value,
            "ConfigurationRequirement": self.configuration_requirement.value,
        }
        if self.license_filepath is not None:
            rendered["LicenseFilepath"] = self.license_filepath
        if self.requires_restart_for_configuration_update is not None:
            rendered["RequiresRestartForConfigurationUpdate"] = (
                self.requires_restart_for_configuration_update
            )
        return rendered


class IOpenSearchPackage(constructs.IConstruct, Protocol):
    """A package, created by this app or imported, that domains can be associated with."""

    @property
    def package_id(self) -> str:
        """The package id (``PackageID``)."""
        ...

    @property
    def package_name(self) -> str | None:
        """The package name; ``None`` when unknown (imported by id)."""
        ...

    @property
    def package_version(self) -> str | None:
        """The available package version; ``None`` when unknown (imported)."""
        ...

    @property
    def engine_version(self) -> str | None:
        """The engine version of a plugin package; ``None`` when not a plugin or unknown."""
        ...

    def associate(
        self,
        domain: aws_opensearchservice.IDomain | str,
        *,
        id: str | None = None,
        prerequisites: Sequence[IOpenSearchPackage] = (),
        license: IOpenSearchPackage | None = None,
        configuration: IOpenSearchPackage | None = None,
        key_store_access_role: aws_iam.IRole | None = None,
        timeout: aws_cdk.Duration | None = None,
    ) -> OpenSearchPackageAssociation:
        """Associate the package with a domain."""
        ...


class OpenSearchPackageBase(Construct):
    """What every package (created or imported) shares: its attributes and :meth:`associate`."""

    _package_id: str
    _package_name: str | None = None
    _package_version: str | None = None
    _engine_version: str | None = None

    @property
    def package_id(self) -> str:
        """The package id (``PackageID``), e.g. ``pkg-0a1b2c...`` or ``F123456789``."""
        return self._package_id

    @property
    def package_name(self) -> str | None:
        """The package name; ``None`` for a package imported by id."""
        return self._package_name

    @property
    def package_version(self) -> str | None:
        """The available version (``AvailablePackageVersion``, e.g. ``v2``); ``None`` when
        imported by id."""
        return self._package_version

    @property
    def engine_version(self) -> str | None:
        """The engine version a plugin package is built for; ``None`` otherwise."""
        return self._engine_version

    def associate(
        self,
        domain: aws_opensearchservice.IDomain | str,
        *,
        id: str | None = None,
        prerequisites: Sequence[IOpenSearchPackage] = (),
        license: IOpenSearchPackage | None = None,
        configuration: IOpenSearchPackage | None = None,
        key_store_access_role: aws_iam.IRole | None = None,
        timeout: aws_cdk.Duration | None = None,
    ) -> OpenSearchPackageAssociation:
        """Associate this package with a domain.

        The association is created in this package's scope and is an entry of the domain's
        package set (:class:`~cdk_opensearch_packages.OpenSearchDomainPackages`, one per domain
        and stack): every package of the stack reaches the domain in one operation.

        Example (a third-party plugin, as AWS documents it: one call, the plugin first, the
        license and configuration listing the plugin as their prerequisite)::

            plugin.associate(domain, license=license_pkg, configuration=config_pkg)

        :param domain: the domain, or its name.
        :param id: the construct id of the association. Default: - ``Association`` followed by
            the domain's construct id, or by the domain name when a name is given.
        :param prerequisites: packages that must be on the domain before or with this one
            (``PrerequisitePackageIDList``); each joins the domain's set. Default: - none.
        :param license: a plugin's PACKAGE-LICENSE package (checked at synth: this package must
            be a ZIP-PLUGIN whose configuration allows a license). Default: - none.
        :param configuration: a plugin's PACKAGE-CONFIG package (checked likewise).
            Default: - none.
        :param key_store_access_role: a role OpenSearch Service assumes to reach the plugin's key
            store (``AssociationConfiguration.KeyStoreAccessOption``). Default: - none.
        :param timeout: how long CloudFormation waits for the domain's package set (1 second to
            1 hour; the set takes the longest its associations ask for). Default: - 1 hour.
        """
        return OpenSearchPackageAssociation(
            self,
            id if id is not None else default_association_id(self, domain),
            package=self,
            domain=domain,
            prerequisites=prerequisites,
            license=license,
            configuration=configuration,
            key_store_access_role=key_store_access_role,
            timeout=timeout,
        )


@jsii.implements(constructs.IValidation)
class _Problems:
    """The property problems of one construct, reported by CDK's validation phase (before
    anything is written), so that one ``cdk synth`` lists every problem of the app."""

    def __init__(self, scope: Construct) -> None:
        self._path = scope.node.path
        self.messages: list[str] = []
        scope.node.add_validation(self)

    @contextlib.contextmanager
    def check(self) -> Iterator[None]:
        """Record the ``ValueError`` a check raises instead of stopping the app."""
        try:
            yield
        except ValueError as error:
            for line in str(error).splitlines():
                prefix = f"{self._path}: "
                self.messages.append(line[len(prefix) :] if line.startswith(prefix) else line)

    def validate(self) -> list[str]:
        """:return: the problems found (CDK prefixes each with the construct path)."""
        return list(self.messages)


class _ImportedPackage(OpenSearchPackageBase):
    def __init__(
        self,
        scope: Construct,
        id: str,
        package_id: str,
        *,
        package_name: str | None = None,
        package_version: str | None = None,
        engine_version: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        path = self.node.path
        problems = _Problems(self)
        with problems.check():
            props.validate_package_id(path, package_id)
        with problems.check():
            _validate_imported_name(path, package_name)
        with problems.check():
            _validate_imported_version(path, package_version)
        if engine_version is not None:
            with problems.check():
                props.validate_engine_version(path, "ZIP-PLUGIN", engine_version)
        self._package_id = package_id
        self._package_name = package_name
        self._package_version = package_version
        self._engine_version = engine_version


#: What ``AvailablePackageVersion`` looks like (``v1``, ``v2``...).
PACKAGE_VERSION_PATTERN = re.compile(r"^v[1-9][0-9]*$")


def _validate_imported_name(path: str, name: str | None) -> None:
    construct_props.validate_pattern(
        path,
        "package_name",
        name,
        LOOKUP_NAME_PATTERN,
        rule="no package can have this name: names are 3 to 256 characters, a lowercase letter, "
        "then lowercase letters, digits and hyphens",
        fix="Pass the exact PackageName that DescribePackages shows, or omit package_name",
    )


def _validate_imported_version(path: str, version: str | None) -> None:
    construct_props.validate_pattern(
        path,
        "package_version",
        version,
        PACKAGE_VERSION_PATTERN,
        rule="it must be a version as AvailablePackageVersion shows it (v1, v2, ...)",
        fix="Pass the package's available version, e.g. 'v3', or omit package_version",
    )


class _LookedUpPackage(OpenSearchPackageBase):
    """A package found by name at deploy time (``Custom::OpenSearchPackageLookup``)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        package_name: str,
        package_owner: str | None,
        engine_version: str | None,
        refresh_key: str | None,
        timeout: aws_cdk.Duration | None,
    ) -> None:
        super().__init__(scope, id)
        path = self.node.path
        problems = _Problems(self)
        with problems.check():
            _validate_lookup_name(path, package_name)
        with problems.check():
            _validate_lookup_owner(path, package_owner)
        with problems.check():
            props.validate_engine_version_format(path, engine_version)
        service_timeout = _service_timeout(problems, path, timeout)

        provider = OpenSearchPackageProvider.get_or_create(self)
        properties: dict[str, Any] = {"PackageName": package_name}
        if package_owner is not None:
            properties["PackageOwner"] = package_owner
        if engine_version is not None:
            properties["EngineVersion"] = engine_version
        if refresh_key is not None:
            properties["OspRefreshKey"] = refresh_key
        resource = aws_cdk.CustomResource(
            self,
            "Resource",
            resource_type=LOOKUP_RESOURCE_TYPE,
            service_token=provider.service_token,
            properties=properties,
            service_timeout=service_timeout,
        )
        provider.add_dependent(resource)

        #: The underlying custom resource; its attributes are ``PackageID``, ``PackageName``,
        #: ``PackageType``, ``PackageVersion``, ``EngineVersion`` and ``PackageOwner`` ("" when
        #: the service reports none).
        self.resource = resource
        self._package_id = resource.get_att_string("PackageID")
        self._package_name = package_name
        self._package_version = resource.get_att_string("PackageVersion")
        self._engine_version = engine_version


def _engine_version_string(
    engine_version: str | aws_opensearchservice.EngineVersion | None,
) -> str | None:
    """The API string of an engine version given as a string or an ``EngineVersion``."""
    if isinstance(engine_version, aws_opensearchservice.EngineVersion):
        return engine_version.version
    return engine_version


def _service_timeout(
    problems: _Problems, path: str, timeout: aws_cdk.Duration | None
) -> aws_cdk.Duration:
    """The ServiceTimeout; an invalid one is recorded and the default used meanwhile."""
    with problems.check():
        return construct_props.service_timeout(path, timeout)
    return construct_props.service_timeout(path, None)


def _validate_lookup_name(path: str, name: str) -> None:
    construct_props.validate_pattern(
        path,
        "package_name",
        name,
        LOOKUP_NAME_PATTERN,
        rule="no package can have this name: names are 3 to 256 characters, a lowercase letter, "
        "then lowercase letters, digits and hyphens (no wildcards)",
        fix="Pass the exact PackageName that DescribePackages shows, or import by id with "
        "OpenSearchPackage.from_package_id",
    )


def _validate_lookup_owner(path: str, owner: str | None) -> None:
    construct_props.validate_pattern(
        path,
        "package_owner",
        owner,
        LOOKUP_OWNER_PATTERN,
        rule="it must be one owner as DescribePackages reports it (letters, digits and . _ / \\ -, "
        "no wildcards)",
        fix="Pass the owning account id, e.g. '111122223333', or omit package_owner",
    )


class OpenSearchPackage(OpenSearchPackageBase):
    """An Amazon OpenSearch Service custom package (``Custom::OpenSearchPackage``).

    Example::

        synonyms = OpenSearchPackage(self, "Synonyms",
            package_type=PackageType.TXT_DICTIONARY,
            source=PackageSource.from_asset("dictionaries/synonyms.txt"),
            dictionary_kind=DictionaryKind.SYNONYMS,
        )
        association = synonyms.associate(domain)
        # "synonyms_path": association.reference_path

    A change of the file (or of the description, configuration or encryption) updates the package
    in place: a new package version, rolled out to the associated domains. A change of
    ``package_name``, ``package_type``, ``engine_version`` or ``vending_enabled`` replaces it; a
    change of ``shared_with`` changes who may use it, in place.
    """

    #: ``shared_with`` value that shares a package with every account (``GLOBAL``).
    ALL_ACCOUNTS = props.ALL_ACCOUNTS

    @staticmethod
    def from_package_id(scope: Construct, id: str, package_id: str) -> IOpenSearchPackage:
        """Import an existing package by id.

        An imported package can be associated with domains; the stack never changes or deletes
        it.

        :param package_id: the package id (``F123456789``, ``G123456789`` or ``pkg-...``).
        """
        return _ImportedPackage(scope, id, package_id)

    @staticmethod
    def from_package_attributes(
        scope: Construct,
        id: str,
        *,
        package_id: str,
        package_name: str | None = None,
        package_version: str | None = None,
        engine_version: str | None = None,
    ) -> IOpenSearchPackage:
        """Import an existing package whose attributes you know (made by another stack or
        tool), without any deploy-time lookup.

        ``package_version`` matters for associations: it is what they roll out, so changing it
        (e.g. from ``v3`` to ``v4`` after the package was updated elsewhere) updates the
        associations of this stack. The stack never changes or deletes the package.

        Example::

            shared = OpenSearchPackage.from_package_attributes(self, "Shared",
                package_id="F123456789", package_name="shared-synonyms", package_version="v3",
            )
            shared.associate(domain)

        :param package_id: the package id (``F123456789``, ``G123456789`` or ``pkg-...``).
        :param package_name: the package name. Default: - unknown (``package_name`` is ``None``).
        :param package_version: the available version, ``v1``, ``v2``...
            Default: - unknown; associations then roll out whatever version is available.
        :param engine_version: the engine version of a ZIP-PLUGIN package, e.g.
            ``OpenSearch_2.19`` (checked against the domains it is associated with).
            Default: - unknown.
        """
        return _ImportedPackage(
            scope,
            id,
            package_id,
            package_name=package_name,
            package_version=package_version,
            engine_version=engine_version,
        )

    @staticmethod
    def from_package_name(
        scope: Construct,
        id: str,
        package_name: str,
        *,
        package_owner: str | None = None,
        engine_version: str | aws_opensearchservice.EngineVersion | None = None,
        refresh_key: str | None = None,
        timeout: aws_cdk.Duration | None = None,
    ) -> IOpenSearchPackage:
        """Import an existing package by name, for packages made elsewhere (another stack,
        another tool, or another account that shared it with this one).

        Package names only resolve to ids at deploy time (there is no CDK context lookup for
        OpenSearch Service), so this adds a ``Custom::OpenSearchPackageLookup`` resource, served
        by the stack's provider: it finds the package with DescribePackages (waiting while the
        package is still COPYING/VALIDATING) and fails the deployment when no package, or more
        than one, has the name. It never changes or deletes the package.

        ``package_id`` and ``package_version`` are deploy-time tokens; :meth:`associate` works
        as for a package of this stack, and the association rolls out the version the lookup
        found. The lookup runs when it is created and whenever its properties change
        (CloudFormation sends no update otherwise): change ``refresh_key`` to pick up a version
        published since the last lookup.

        Example::

            shared = OpenSearchPackage.from_package_name(self, "Shared", "shared-synonyms",
                package_owner="111122223333",
            )
            shared.associate(domain)

        :param package_name: the exact package name (``PackageName``).
        :param package_owner: the owner of the package as DescribePackages reports it
            (``PackageOwner``, the owning account id); needed when packages of several owners
            with this name are visible. Default: - any owner (exactly one package must match).
        :param engine_version: the engine version of a ZIP-PLUGIN package (``EngineVersion``);
            needed when plugin packages of this name exist for several engine versions (plugin
            names are unique per engine version). Default: - any engine version (exactly one
            package must match).
        :param refresh_key: any string; changing it looks the package up again on the next
            deployment (e.g. the version you expect, or a build number). Default: - the package
            is looked up again only when ``package_name`` or ``package_owner`` changes.
        :param timeout: how long CloudFormation waits for the lookup (the custom resource's
            ``ServiceTimeout``, 1 second to 1 hour). Default: - 1 hour (rendered explicitly).
        """
        return _LookedUpPackage(
            scope,
            id,
            package_name=package_name,
            package_owner=package_owner,
            engine_version=_engine_version_string(engine_version),
            refresh_key=refresh_key,
            timeout=timeout,
        )

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        package_type: PackageType,
        source: PackageSource,
        package_name: str | None = None,
        description: str | None = None,
        configuration: PackageConfiguration | None = None,
        engine_version: str | aws_opensearchservice.EngineVersion | None = None,
        vending_enabled: bool | None = None,
        shared_with: Sequence[str] | None = None,
        encryption_key: aws_kms.IKey | None = None,
        dictionary_kind: DictionaryKind | None = None,
        synonym_tokenizer: SynonymTokenizer | None = None,
        domains: Sequence[aws_opensearchservice.IDomain | str] = (),
        timeout: aws_cdk.Duration | None = None,
        removal_policy: aws_cdk.RemovalPolicy | None = None,
    ) -> None:
        """
        :param package_type: the type of package.
        :param source: the package file, see :class:`PackageSource`.
        :param package_name: the package name (3 to 256 characters, ``[a-z][a-z0-9-]+``). A
            ZIP-PLUGIN name is unique per engine version (give the plugin packages for two
            engine versions the same name: AWS's domain upgrade needs that); other names are
            unique in the account and Region. Changing it replaces the package. Default: - a
            unique, valid name is generated from the stack and the construct; it changes (and
            the package is replaced) only when a replacement is needed.
        :param description: the package description (at most 1024 characters). Default: - none.
        :param configuration: license/configuration requirements (ZIP-PLUGIN only).
            Default: - none.
        :param engine_version: the engine the plugin is built for, e.g. ``"OpenSearch_2.19"`` or
            ``EngineVersion.OPENSEARCH_2_19``. Required for ZIP-PLUGIN, rejected for other types.
            Default: - none.
        :param vending_enabled: whether the package can be shared with other accounts
            (``PackageVendingOptions``). Default: - the service's default (not vended).
        :param shared_with: the accounts that may see and associate the package: 12-digit account
            ids, or ``[OpenSearchPackage.ALL_ACCOUNTS]`` (``GLOBAL``, every account). Needs
            ``vending_enabled=True``. Applied with UpdatePackageScope once the package is
            AVAILABLE and changed in place (the package is not replaced); ``[]`` removes every
            account. Those accounts find the package with :meth:`from_package_name` and
            ``package_owner`` set to this stack's account. Default: - not shared (a package that
            was shared by an earlier deployment is unshared, as with ``[]``).
        :param encryption_key: a customer-managed KMS key that encrypts the package (ZIP-PLUGIN
            only); the provider may use this key only. Default: - the service's default
            encryption.
        :param dictionary_kind: what a TXT-DICTIONARY holds, to check its syntax at synth time;
            ``DictionaryKind.BINARY`` for a file that is not text (no UTF-8 checks).
            Default: - only generic dictionary checks (UTF-8 text, not empty).
        :param synonym_tokenizer: the tokenizer of the analyzers using a synonym file
            (``dictionary_kind=DictionaryKind.SYNONYMS`` only): decides whether a term it makes
            no token of (``-``, ``&``) is an error. Default: - SynonymTokenizer.STANDARD.
        :param domains: domains (or domain names) to associate the package with, as
            :meth:`associate` does. Default: - none.
        :param timeout: how long CloudFormation waits for a create/update/delete (the custom
            resource's ``ServiceTimeout``, 1 second to 1 hour). Default: - 1 hour (rendered
            explicitly).
        :param removal_policy: what happens to the package when it leaves the stack; RETAIN keeps
            it. Default: - RemovalPolicy.DESTROY (the package is deleted).
        """
        super().__init__(scope, id)
        path = self.node.path
        try:  # also accepts the API string, e.g. "TXT-DICTIONARY"
            package_type = PackageType(package_type)
        except ValueError:
            raise props.fail(
                path,
                "package_type",
                package_type,
                "it must be one of " + ", ".join(t.value for t in PackageType),
                "Use a PackageType member, e.g. PackageType.TXT_DICTIONARY",
            ) from None
        type_value = package_type.value
        engine = _engine_version_string(engine_version)
        # Every problem below is reported by CDK's validation phase, all of them in one synth.
        problems = _Problems(self)
        with problems.check():
            props.validate_package_name(path, package_name)
        with problems.check():
            props.validate_description(path, description)
        with problems.check():
            props.validate_engine_version(path, type_value, engine)
        with problems.check():
            props.validate_type_specific(
                path, "configuration", configuration, type_value, props.ZIP_PLUGIN
            )
        if configuration is not None:
            with problems.check():
                props.validate_license_filepath(path, configuration.license_filepath)
        with problems.check():
            props.validate_type_specific(
                path,
                "encryption_key",
                None if encryption_key is None else encryption_key.node.path,
                type_value,
                props.ZIP_PLUGIN,
            )
        with problems.check():
            props.validate_type_specific(
                path,
                "dictionary_kind",
                None if dictionary_kind is None else dictionary_kind.name,
                type_value,
                props.TXT_DICTIONARY,
            )
        if synonym_tokenizer is not None and dictionary_kind is not DictionaryKind.SYNONYMS:
            with problems.check():
                raise props.fail(
                    path,
                    "synonym_tokenizer",
                    synonym_tokenizer.name,
                    "it applies to synonym files only",
                    "Set dictionary_kind=DictionaryKind.SYNONYMS, or omit synonym_tokenizer",
                )
        shared = None
        with problems.check():
            if isinstance(shared_with, str):
                raise props.fail(
                    path,
                    "shared_with",
                    shared_with,
                    "it must be a list of account ids, not one string",
                    f"Pass [{shared_with!r}]",
                )
            shared = None if shared_with is None else list(shared_with)
            props.validate_shared_with(
                path, shared, vending_enabled, aws_cdk.Stack.of(self).account
            )
        with problems.check():
            construct_props.validate_removal_policy(path, removal_policy)
        service_timeout = _service_timeout(problems, path, timeout)

        provider = OpenSearchPackageProvider.get_or_create(self)
        if vending_enabled is True:
            # Also without shared_with: a later deployment that drops shared_with unshares the
            # package, which needs the permission still.
            provider.grant_package_scope()
        if package_name is not None:
            with problems.check():
                provider.claim_package_name(path, package_name, type_value, engine)
        bound = source.bind(self, grantee=provider.role)
        with problems.check():
            props.validate_bucket_location(path, bound.bucket_name, bound.object_key)
        if bound.local_path is not None:
            with problems.check():
                self._check_file(
                    bound.local_path,
                    package_type=type_value,
                    engine_version=engine,
                    dictionary_kind=None if dictionary_kind is None else dictionary_kind.value,
                    license_filepath=(
                        None if configuration is None else configuration.license_filepath
                    ),
                    synonym_tokenizer=(synonym_tokenizer or SynonymTokenizer.STANDARD).value,
                )

        properties: dict[str, Any] = {
            "PackageType": type_value,
            "PackageSource": {"S3BucketName": bound.bucket_name, "S3Key": bound.object_key},
        }
        if package_name is not None:
            properties["PackageName"] = package_name
        if description is not None:
            properties["PackageDescription"] = description
        if configuration is not None:
            properties["PackageConfiguration"] = configuration.render()
        if engine is not None:
            properties["EngineVersion"] = engine
        if vending_enabled is not None:
            properties["PackageVendingOptions"] = {"VendingEnabled": vending_enabled}
        if shared is not None:
            properties["AllowListedUserList"] = shared
        if encryption_key is not None:
            properties["PackageEncryptionOptions"] = {
                "KmsKeyIdentifier": encryption_key.key_arn,
                "EncryptionEnabled": True,
            }
            provider.grant_key(encryption_key.key_arn)
        if bound.source_version is not None:
            properties["OspSourceVersion"] = bound.source_version

        resource = aws_cdk.CustomResource(
            self,
            "Resource",
            resource_type=RESOURCE_TYPE,
            service_token=provider.service_token,
            properties=properties,
            service_timeout=service_timeout,
            removal_policy=removal_policy,
        )
        # The provider (function, policy with this package's permissions, invoke permission)
        # exists before the handler first runs for this package.
        provider.add_dependent(resource)

        #: The underlying custom resource.
        self.resource = resource
        #: The package type.
        self.package_type = package_type
        #: The plugin's license and configuration requirements (``None`` when not given).
        self.configuration = configuration
        self._package_id = resource.get_att_string("PackageID")
        self._package_name = resource.get_att_string("PackageName")
        self._package_version = resource.get_att_string("PackageVersion")
        self._engine_version = engine

        for domain in domains:
            self.associate(domain)

    def _check_file(
        self,
        local_path: str,
        *,
        package_type: str,
        engine_version: str | None,
        dictionary_kind: str | None,
        license_filepath: str | None,
        synonym_tokenizer: str,
    ) -> None:
        findings = check_package_file(
            local_path,
            package_type=package_type,
            engine_version=engine_version,
            dictionary_kind=dictionary_kind,
            license_filepath=license_filepath,
            synonym_tokenizer=synonym_tokenizer,
        )
        errors = [finding.message for finding in findings if finding.severity == "error"]
        if errors:
            raise ValueError("\n".join(f"{self.node.path}: source: {error}" for error in errors))
        for finding in findings:
            if finding.severity == "warning":
                aws_cdk.Annotations.of(self).add_warning_v2(FILE_WARNING_ID, finding.message)
