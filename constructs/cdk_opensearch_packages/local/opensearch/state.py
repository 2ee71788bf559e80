"""State and rules of the local OpenSearch packages API: packages, versions, domains, associations.

Everything is time-driven. An operation schedules the coming statuses of its package or
association (``now + phase``); every later call first applies whatever has become due, in due
order, recording each change as a :class:`Transition` stamped with its *scheduled* time. So the
emulation needs no background thread and is deterministic under a :class:`.ManualClock`.

Rules that mirror the service (beyond what the model says):

- package names are 3 to 256 characters of ``[a-z][a-z0-9-]+`` (the whole name, the model's
  rule). A ZIP-PLUGIN name is unique per engine version (AWS has users create a package with the
  same name for each new engine version); other names are unique in the Region
  (ResourceAlreadyExistsException); at most ``package_quota`` (25) packages exist
  (LimitExceededException); a package in DELETING still counts;
- ``EngineVersion`` is required for ZIP-PLUGIN ("Operation not allowed. EngineVersion is a
  required parameter for this operation.") and refused for other types; so are
  ``PackageConfiguration`` and a ``KmsKeyIdentifier`` in ``PackageEncryptionOptions``;
- ``PackageSource`` needs both ``S3BucketName`` and ``S3Key``;
- ids are ``F`` + 9 digits; versions ``v1``, ``v2``... (a version that fails does not use up its
  number); ``AvailablePackageVersion`` moves only when a version becomes AVAILABLE; a failed
  version leaves it in place with status COPY_FAILED/VALIDATION_FAILED and ErrorDetails;
- UpdatePackage of a package COPYING, VALIDATING or DELETING: ConflictException;
- DeletePackage of a package associated with a domain (or a prerequisite of an association):
  ConflictException; of a package already DELETING: answers its details again (idempotent);
- an unknown PackageID (DescribePackages: a ``PackageID`` filter none of whose ids exists):
  ResourceNotFoundException, or ValidationException "Package not found" with
  ``package_not_found="ValidationException"`` (tools handle both). Filter values may use
  ``*``/``?``;
- ``MaxResults`` below 1 is a ValidationException (the model has no minimum); default page 100;
- AssociatePackage needs a package with an AVAILABLE version (a package COPYING or VALIDATING a
  new version, or whose new version failed, associates its available one), an existing domain
  and existing prerequisite
  ids, each ACTIVE on that domain (else ValidationException naming the prerequisite and the
  domain: AWS documents that prerequisites "must be associated with the domain before the
  package can be associated"); a domain runs one package operation at a time
  (ConflictException "Another package operation is in progress..."); re-associating the
  version the domain already runs ACTIVE is ConflictException "Package is already in desired
  state"; a newer version re-runs ASSOCIATING;
  ZIP-PLUGIN on a domain of another engine version ends in ASSOCIATION_FAILED; at most
  ``domain_package_quota`` (20) packages per domain (LimitExceededException);
- DissociatePackage of a package the domain does not have: ValidationException "Package is not
  associated to this domain", or ResourceNotFoundException with
  ``not_associated="ResourceNotFoundException"`` (DissociatePackages alike, refusing the whole
  batch). It ends the association (transition to ``DISSOCIATED``) or, after
  :meth:`PackageStore.mark_in_use` (an index uses the package): a dictionary's ends in
  DISSOCIATION_FAILED (once per mark), a plugin's stays DISSOCIATING (the blue/green deployment
  is stuck) until :meth:`PackageStore.release_in_use`. A failed association may be dissociated
  (or associated again). Dissociating a package also dissociates the associations on the domain
  that list it among their prerequisites, in the same operation (AWS: dissociating a plugin
  "also removes any related configuration or license packages"), transitively;
- AssociatePackages / DissociatePackages act on several packages of one domain "in a single
  operation": in a batch a prerequisite may be associated "before or simultaneously" (it is
  ACTIVE on the domain or in the same batch); a batch is refused as a whole (nothing applied)
  when one entry is refused. :attr:`PackageStore.batch_mode` says how the domain runs a batch:
  ``one-operation`` (every entry takes the time of the longest, one domain operation) or
  ``per-package`` (one operation per entry, one after the other, in list order); AWS documents
  neither (UNVERIFIED). An entry whose prerequisite in the same batch fails ends in
  ASSOCIATION_FAILED too. Every domain operation is recorded
  (:meth:`PackageStore.domain_operations`);
- a domain's engine upgrade (:meth:`PackageStore.register_domain` with a new version) moves
  each associated ZIP-PLUGIN to the AVAILABLE ZIP-PLUGIN of the same name built for the new
  version (the old package leaves the domain, the new one is ACTIVE); without one the upgrade is
  refused (AWS: the blue/green deployment fails).

Every error answer names its case in :data:`.errors.ERROR_CASES`, which says which codes are
backed by public evidence and which are the emulation's assumptions (``docs/SERVICE-BEHAVIOUR.md``
has the sources).

Several accounts (package sharing). Each call is made by an account (``handle(...,
account_id=...)``; the HTTP layer derives it from the access key id; default: the store's
``account_id``). A package belongs to the account that created it (``PackageOwner``); names are
unique and the quota counts per owner. Domains belong to the account that registered them
(domain names stay unique across accounts here, a simplification). UpdatePackageScope (owner
only, vended packages only) sets the package's ``AllowListedUserList`` (ADD, REMOVE,
OVERRIDE). Another account sees a package (DescribePackages, GetPackageVersionHistory,
ListDomainsForPackage) and may associate it with its own domains only while the package is
vended and the account, or ``GLOBAL``, is allow-listed; otherwise the package does not exist for
it (ResourceNotFoundException). ``AllowListedUserList`` is shown to the owner only. What AWS does
on these points beyond the model's documentation is not documented; the emulation's choices are
the UNVERIFIED cases ``E-SCOPE-NOT-VENDED``, ``E-PACKAGE-NOT-OWNED``, ``E-PACKAGE-NOT-SHARED``
and these rules:

- an association made while allow-listed stays (ACTIVE, its version) when the owner removes the
  account from the list; the consumer can still dissociate it, not associate again;
- DeletePackage by the owner is refused (ConflictException) while any account's domain has the
  package associated; ListDomainsForPackage shows the caller's own domains only.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import contextvars
import json
import random
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Final, Literal, TypeVar

from cdk_opensearch_packages.checks.props import (
    ENGINE_VERSION_PATTERN,
    PACKAGE_NAME_MAX,
    PACKAGE_NAME_MIN,
    PACKAGE_NAME_PATTERN,
)
from cdk_opensearch_packages.local.opensearch.content import inspect_content
from cdk_opensearch_packages.local.opensearch.errors import (
    ApiError,
    service_error,
)
from cdk_opensearch_packages.local.opensearch.source import SourceError, SourceReader
from cdk_opensearch_packages.local.opensearch.timeline import Clock, Timeline

__all__ = [
    "BATCH_MODES",
    "DEFAULT_ENGINE_VERSION",
    "MAX_PACKAGE_NAME_LENGTH",
    "NOT_ASSOCIATED_MESSAGE",
    "PACKAGE_NOT_FOUND_MESSAGE",
    "DomainOperation",
    "NotAssociatedCode",
    "PackageNotFoundCode",
    "PackageStore",
    "Transition",
    "UpgradeRefused",
]

T = TypeVar("T")

#: The engine version :meth:`PackageStore.register_domain` gives a domain by default.
DEFAULT_ENGINE_VERSION: Final = "OpenSearch_2.19"
#: The longest package name (the model's 256; no shorter limit is publicly documented); the
#: constructs' synth-time check (:mod:`cdk_opensearch_packages.checks.props`) holds the rule.
MAX_PACKAGE_NAME_LENGTH: Final = PACKAGE_NAME_MAX
MIN_PACKAGE_NAME_LENGTH: Final = PACKAGE_NAME_MIN
#: The message of a DissociatePackage of a package the domain does not have (as reported).
NOT_ASSOCIATED_MESSAGE: Final = "Package is not associated to this domain"
#: The message of a ValidationException for an unknown package id (as reported).
PACKAGE_NOT_FOUND_MESSAGE: Final = "Package not found"
#: The two answers public sources show for an unknown package id.
PackageNotFoundCode = Literal["ResourceNotFoundException", "ValidationException"]
#: The two answers public sources show for dissociating a package the domain does not have.
NotAssociatedCode = Literal["ValidationException", "ResourceNotFoundException"]
_DEFAULT_PAGE: Final = 100
_NAME = re.compile(r"[a-z][a-z0-9\-]+")
# The model's EngineVersion pattern (the constructs' synth-time check holds it).
_ENGINE = ENGINE_VERSION_PATTERN
_UPDATABLE: Final = frozenset({"AVAILABLE", "COPY_FAILED", "VALIDATION_FAILED"})
_PLUGIN: Final = "ZIP-PLUGIN"


class UpgradeRefused(ValueError):
    """A domain's engine upgrade cannot proceed (a custom plugin has no package for the new
    version)."""


#: The ``PackageUser`` that allow-lists every account.
GLOBAL_USER: Final = "GLOBAL"
#: The account making the current call (``None``: the store's own account).
_CALLER: contextvars.ContextVar[str | None] = contextvars.ContextVar("osp_caller", default=None)


_DOMAIN_BUSY: Final = frozenset({"ASSOCIATING", "DISSOCIATING"})
#: How the emulated domain runs a batch (AssociatePackages / DissociatePackages).
BATCH_MODES: Final = ("one-operation", "per-package")


@dataclass(frozen=True)
class DomainOperation:
    """One package operation a domain ran (a blue/green deployment for plugins).

    :param domain_name: the domain.
    :param operation: the call that started it (``AssociatePackage``, ``AssociatePackages``...).
    :param package_ids: the packages it (dis)associated, cascaded dissociations included.
    :param t: when it started, on the emulation clock's monotonic scale.
    :param until: when it ends (scheduled).
    """

    domain_name: str
    operation: str
    package_ids: tuple[str, ...]
    t: float
    until: float

    def to_dict(self) -> dict[str, Any]:
        """:return: JSON form (same keys)."""
        return {**asdict(self), "package_ids": list(self.package_ids)}


@dataclass(frozen=True)
class Transition:
    """One status change.

    :param kind: ``package`` or ``association``.
    :param package_id: the package.
    :param domain_name: the domain of an association, else ``None``.
    :param from_status: the status before (``None`` when the package/association appears).
    :param to_status: the status after; ``DELETED`` when a package disappears, ``DISSOCIATED``
        when an association does.
    :param t: when, on the emulation clock's monotonic scale (the scheduled time).
    :param wall: when, in epoch seconds.
    :param package_version: the version concerned (being built, or associated).
    """

    kind: Literal["package", "association"]
    package_id: str
    domain_name: str | None
    from_status: str | None
    to_status: str
    t: float
    wall: float
    package_version: str | None

    def to_dict(self) -> dict[str, Any]:
        """:return: JSON form with keys ``kind package_id domain_name from to t wall
        package_version``."""
        return {
            "kind": self.kind,
            "package_id": self.package_id,
            "domain_name": self.domain_name,
            "from": self.from_status,
            "to": self.to_status,
            "t": self.t,
            "wall": self.wall,
            "package_version": self.package_version,
        }


@dataclass
class _Version:
    label: str
    created_at: float
    commit_message: str | None
    configuration: dict[str, Any] | None
    plugin_properties: dict[str, Any] | None = None

    def history_entry(self) -> dict[str, Any]:
        return _compact(
            {
                "PackageVersion": self.label,
                "CommitMessage": self.commit_message,
                "CreatedAt": self.created_at,
                "PluginProperties": self.plugin_properties,
                "PackageConfiguration": self.configuration,
            }
        )


@dataclass
class _Step:
    due: float
    to_status: str
    error_details: dict[str, str] | None = None
    version: _Version | None = None
    remove: bool = False


@dataclass
class _Package:
    package_id: str
    name: str
    package_type: str
    description: str | None
    engine_version: str | None
    owner: str
    vending: dict[str, Any] | None
    encryption: dict[str, Any] | None
    status: str
    created_at: float
    last_updated_at: float
    building: str | None = None
    available: _Version | None = None
    history: list[_Version] = field(default_factory=list)
    error_details: dict[str, str] | None = None
    pending: list[_Step] = field(default_factory=list)
    allow_listed: list[str] = field(default_factory=list)

    def vended(self) -> bool:
        return bool((self.vending or {}).get("VendingEnabled"))

    def visible_to(self, account_id: str) -> bool:
        """Whether ``account_id`` owns the package or is allow-listed (and it is vended)."""
        if account_id == self.owner:
            return True
        listed = self.allow_listed
        return self.vended() and (account_id in listed or GLOBAL_USER in listed)


@dataclass
class _Association:
    domain_name: str
    package_id: str
    status: str
    version: str | None
    prerequisites: list[str]
    configuration: dict[str, Any] | None
    last_updated: float
    error_details: dict[str, str] | None = None
    pending: list[_Step] = field(default_factory=list)


@dataclass
class _Domain:
    name: str
    engine_version: str
    registered_at: float
    account_id: str = ""


@dataclass(frozen=True)
class _Copy:
    """What COPYING/VALIDATING will decide for a source, read when the request arrives."""

    copy_error: dict[str, str] | None
    validation_error: dict[str, str] | None
    plugin_properties: dict[str, Any] | None


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}


class PackageStore:
    """The emulated service's state; every public method is thread-safe.

    :param clock: the time source.
    :param timeline: phase durations.
    :param reader: reads package sources (COPYING).
    :param account_id: the account (``PackageOwner``).
    :param region: the Region (names are unique within it).
    :param seed: seed of the package-id generator.
    :param package_quota: packages per Region.
    :param domain_package_quota: packages per domain.
    :param package_not_found: the code answered for an unknown package id: the default
        ResourceNotFoundException, or ValidationException "Package not found" (public sources
        show both).
    :param not_associated: the code answered by DissociatePackage of a package the domain does
        not have: the default ValidationException "Package is not associated to this domain",
        or ResourceNotFoundException (public sources show both).
    """

    def __init__(
        self,
        *,
        clock: Clock,
        timeline: Timeline,
        reader: SourceReader,
        account_id: str = "123456789012",
        region: str = "us-east-1",
        seed: int = 0,
        package_quota: int = 25,
        domain_package_quota: int = 20,
        package_not_found: PackageNotFoundCode = "ResourceNotFoundException",
        not_associated: NotAssociatedCode = "ValidationException",
    ) -> None:
        self._package_not_found: PackageNotFoundCode = _answer(
            "package_not_found", package_not_found
        )
        self._not_associated: NotAssociatedCode = _answer("not_associated", not_associated)
        self._initial_answers = (package_not_found, not_associated)
        self._lock = threading.RLock()
        self._clock = clock
        self._initial_timeline = timeline
        self._timeline = timeline
        self._reader = reader
        self.account_id = account_id
        self.region = region
        self._seed = seed
        self.package_quota = package_quota
        self.domain_package_quota = domain_package_quota
        self._packages: dict[str, _Package] = {}
        self._associations: dict[tuple[str, str], _Association] = {}
        self._domains: dict[str, _Domain] = {}
        self._in_use: set[tuple[str, str]] = set()
        self._stuck: set[tuple[str, str]] = set()
        self._transitions: list[Transition] = []
        self._issued: set[str] = set()
        self._ids = random.Random(f"package-ids-{seed}")
        self._batch_mode = "one-operation"
        self._operations: list[DomainOperation] = []
        self._handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "CreatePackage": self.create_package,
            "DescribePackages": self.describe_packages,
            "UpdatePackage": self.update_package,
            "DeletePackage": self.delete_package,
            "GetPackageVersionHistory": self.get_package_version_history,
            "AssociatePackage": self.associate_package,
            "DissociatePackage": self.dissociate_package,
            "AssociatePackages": self.associate_packages,
            "DissociatePackages": self.dissociate_packages,
            "ListDomainsForPackage": self.list_domains_for_package,
            "ListPackagesForDomain": self.list_packages_for_domain,
            "UpdatePackageScope": self.update_package_scope,
        }

    # ----------------------------------------------------------------- configuration, time

    @property
    def package_not_found(self) -> PackageNotFoundCode:
        """The answer for an unknown package id (settable; a code is checked)."""
        return self._package_not_found

    @package_not_found.setter
    def package_not_found(self, value: PackageNotFoundCode) -> None:
        self._package_not_found = _answer("package_not_found", value)

    @property
    def not_associated(self) -> NotAssociatedCode:
        """DissociatePackage's answer for a package the domain does not have (settable)."""
        return self._not_associated

    @not_associated.setter
    def not_associated(self, value: NotAssociatedCode) -> None:
        self._not_associated = _answer("not_associated", value)

    @property
    def timeline(self) -> Timeline:
        """The phase durations used by operations from now on."""
        with self._lock:
            return self._timeline

    @timeline.setter
    def timeline(self, value: Timeline) -> None:
        with self._lock:
            self._timeline = value

    @property
    def batch_mode(self) -> str:
        """How a batch runs on the domain: ``one-operation`` (default) or ``per-package``."""
        with self._lock:
            return self._batch_mode

    @batch_mode.setter
    def batch_mode(self, value: str) -> None:
        if value not in BATCH_MODES:
            raise ValueError(f"batch mode {value!r}: use one of {', '.join(BATCH_MODES)}")
        with self._lock:
            self._batch_mode = value

    def domain_operations(self) -> list[DomainOperation]:
        """:return: every domain operation so far, oldest first."""
        with self._lock:
            return list(self._operations)

    def _count_operation(
        self, domain_name: str, operation: str, package_ids: list[str], t: float, until: float
    ) -> None:
        self._operations.append(
            DomainOperation(domain_name, operation, tuple(package_ids), t, until)
        )

    def handle(
        self, operation: str, params: dict[str, Any], *, account_id: str | None = None
    ) -> dict[str, Any]:
        """Run one validated API call.

        :param operation: the operation name (one of :data:`.SERVED_OPERATIONS`).
        :param params: its validated input.
        :param account_id: the calling account. Default: - the store's ``account_id``.
        :return: the output (JSON types, timestamps as epoch seconds).
        :raises ApiError: the AWS error to answer with.
        """
        if account_id is None:
            return self._handlers[operation](params)
        with self.acting_as(account_id):
            return self._handlers[operation](params)

    @contextlib.contextmanager
    def acting_as(self, account_id: str | None) -> Iterator[None]:
        """Make the calls in this context (this thread) ``account_id``'s (``None``: the
        store's own account)."""
        token = _CALLER.set(account_id)
        try:
            yield
        finally:
            _CALLER.reset(token)

    def _caller(self) -> str:
        return _CALLER.get() or self.account_id

    def advance(self) -> None:
        """Apply every scheduled status change that is due now."""
        with self._lock:
            self._advance()

    def _advance(self) -> None:
        now = self._clock.monotonic()
        while True:
            entities: list[_Package | _Association] = [
                *self._packages.values(),
                *self._associations.values(),
            ]
            due = [entity for entity in entities if entity.pending and entity.pending[0].due <= now]
            if not due:
                return
            first = min(due, key=lambda entity: entity.pending[0].due)
            step = first.pending.pop(0)
            if isinstance(first, _Package):
                self._apply_package(first, step)
            else:
                self._apply_association(first, step)

    def _wall(self, t: float) -> float:
        return self._clock.time() - (self._clock.monotonic() - t)

    def _record(
        self,
        kind: Literal["package", "association"],
        package_id: str,
        *,
        domain_name: str | None = None,
        before: str | None,
        after: str,
        t: float,
        version: str | None,
    ) -> None:
        self._transitions.append(
            Transition(
                kind=kind,
                package_id=package_id,
                domain_name=domain_name,
                from_status=before,
                to_status=after,
                t=t,
                wall=self._wall(t),
                package_version=version,
            )
        )

    def _apply_package(self, package: _Package, step: _Step) -> None:
        previous = package.status
        package.status = step.to_status
        package.last_updated_at = self._wall(step.due)
        if step.error_details is not None:
            package.error_details = step.error_details
        if step.version is not None:
            package.available = step.version
            package.history.append(step.version)
            package.error_details = None
        version = package.building
        if step.to_status in ("AVAILABLE", "COPY_FAILED", "VALIDATION_FAILED"):
            package.building = None
        self._record(
            "package",
            package.package_id,
            before=previous,
            after=step.to_status,
            t=step.due,
            version=version,
        )
        if step.remove:
            del self._packages[package.package_id]

    def _apply_association(self, association: _Association, step: _Step) -> None:
        previous = association.status
        association.status = step.to_status
        association.last_updated = self._wall(step.due)
        if step.error_details is not None:
            association.error_details = step.error_details
        self._record(
            "association",
            association.package_id,
            domain_name=association.domain_name,
            before=previous,
            after=step.to_status,
            t=step.due,
            version=association.version,
        )
        if step.remove:
            del self._associations[(association.domain_name, association.package_id)]

    # ---------------------------------------------------------------------------- packages

    def _unknown_package(self, package_id: str) -> ApiError:
        """The answer for an unknown package id (:attr:`package_not_found`)."""
        if self.package_not_found == "ValidationException":
            return service_error("E-PACKAGE-NOT-FOUND-VALIDATION", PACKAGE_NOT_FOUND_MESSAGE)
        return service_error("E-PACKAGE-NOT-FOUND", f"Package {package_id} not found.")

    def _package(self, package_id: str) -> _Package:
        """A package the caller may see (its own, or allow-listed for it)."""
        package = self._packages.get(package_id)
        if package is None:
            raise self._unknown_package(package_id)
        if not package.visible_to(self._caller()):
            raise service_error("E-PACKAGE-NOT-SHARED", f"Package {package_id} not found.")
        return package

    def _owned_package(self, package_id: str) -> _Package:
        """A package of the caller's (another account's is not found: UNVERIFIED)."""
        package = self._package(package_id)
        if package.owner != self._caller():
            raise service_error("E-PACKAGE-NOT-OWNED", f"Package {package_id} not found.")
        return package

    def _details(self, package: _Package, *, owner_view: bool = True) -> dict[str, Any]:
        available = package.available
        return _compact(
            {
                "PackageID": package.package_id,
                "PackageName": package.name,
                "PackageType": package.package_type,
                "PackageDescription": package.description,
                "PackageStatus": package.status,
                "CreatedAt": package.created_at,
                "LastUpdatedAt": package.last_updated_at,
                "AvailablePackageVersion": available.label if available else None,
                "ErrorDetails": package.error_details,
                "EngineVersion": package.engine_version,
                "AvailablePluginProperties": available.plugin_properties if available else None,
                "AvailablePackageConfiguration": available.configuration if available else None,
                "PackageOwner": package.owner,
                "PackageVendingOptions": package.vending,
                "PackageEncryptionOptions": package.encryption,
                "AllowListedUserList": (
                    list(package.allow_listed) if owner_view and package.allow_listed else None
                ),
            }
        )

    def _check_type_rules(
        self, package_type: str, params: dict[str, Any], engine_version_allowed: bool
    ) -> None:
        source = params["PackageSource"]
        missing = [key for key in ("S3BucketName", "S3Key") if not source.get(key)]
        if missing:
            raise service_error(
                "E-SOURCE-INCOMPLETE", f"PackageSource requires {' and '.join(missing)}."
            )
        plugin = package_type == "ZIP-PLUGIN"
        if engine_version_allowed:
            engine = params.get("EngineVersion")
            if plugin and engine is None:
                raise service_error(
                    "E-ENGINE-REQUIRED",
                    "Operation not allowed. EngineVersion is a required parameter for this "
                    "operation.",
                )
            if not plugin and engine is not None:
                raise service_error(
                    "E-ENGINE-NOT-PLUGIN",
                    "EngineVersion can only be specified for package type ZIP-PLUGIN.",
                )
        if not plugin and params.get("PackageConfiguration") is not None:
            raise service_error(
                "E-PLUGIN-ONLY-OPTION",
                "PackageConfiguration can only be specified for package type ZIP-PLUGIN.",
            )
        encryption = params.get("PackageEncryptionOptions") or {}
        if not plugin and encryption.get("KmsKeyIdentifier") is not None:
            raise service_error(
                "E-PLUGIN-ONLY-OPTION",
                "PackageEncryptionOptions.KmsKeyIdentifier can only be specified for package "
                "type ZIP-PLUGIN.",
            )

    def _copy(
        self,
        package_type: str,
        source: dict[str, str],
        engine_version: str | None,
        configuration: dict[str, Any] | None,
    ) -> _Copy:
        try:
            data = self._reader.read(source["S3BucketName"], source["S3Key"])
        except SourceError as error:
            return _Copy({"ErrorType": error.error_type, "ErrorMessage": error.message}, None, None)
        verdict = inspect_content(
            package_type,
            data,
            engine_version=engine_version,
            license_filepath=(configuration or {}).get("LicenseFilepath"),
        )
        return _Copy(None, verdict.error_details, verdict.plugin_properties)

    def _start_pipeline(
        self, package: _Package, copy: _Copy, version: _Version, now: float
    ) -> None:
        timeline = self._timeline
        package.building = version.label
        copied = now + timeline.copying
        if copy.copy_error is not None:
            package.pending = [_Step(copied, "COPY_FAILED", error_details=copy.copy_error)]
            return
        validated = copied + timeline.validating
        version.plugin_properties = copy.plugin_properties
        last = (
            _Step(validated, "VALIDATION_FAILED", error_details=copy.validation_error)
            if copy.validation_error is not None
            else _Step(validated, "AVAILABLE", version=version)
        )
        package.pending = [_Step(copied, "VALIDATING"), last]

    def _new_id(self) -> str:
        while True:
            candidate = f"F{self._ids.randrange(10**8, 10**9)}"
            if candidate not in self._issued:
                self._issued.add(candidate)
                return candidate

    def _name_taken(self, name: str, package_type: str, engine_version: str | None) -> bool:
        """Whether a new package of this name, type and engine version would clash: ZIP-PLUGIN
        names are unique per engine version, other names in the Region (per owner)."""
        for package in self._packages.values():
            if package.name != name or package.owner != self._caller():
                continue
            both_plugins = package_type == _PLUGIN and package.package_type == _PLUGIN
            if not both_plugins or package.engine_version == engine_version:
                return True
        return False

    def _check_create(self, name: str, package_type: str, engine_version: str | None) -> None:
        if self._name_taken(name, package_type, engine_version):
            which = f"ZIP-PLUGIN package named {name} for {engine_version}"
            raise service_error(
                "E-NAME-TAKEN",
                f"A {which if package_type == _PLUGIN else f'package named {name}'} already "
                f"exists in {self.region}.",
            )
        owner = self._caller()
        if sum(1 for p in self._packages.values() if p.owner == owner) >= self.package_quota:
            raise service_error(
                "E-PACKAGE-QUOTA",
                f"The limit of {self.package_quota} packages per Region is reached; delete a "
                "package first.",
            )

    def create_package(self, params: dict[str, Any]) -> dict[str, Any]:
        """CreatePackage."""
        name = params["PackageName"]
        package_type = params["PackageType"]
        if not _valid_package_name(name):
            raise service_error(
                "E-NAME-INVALID",
                f"Invalid package name {name!r}: use {MIN_PACKAGE_NAME_LENGTH} to "
                f"{MAX_PACKAGE_NAME_LENGTH} characters, a lowercase letter then lowercase "
                "letters, digits and hyphens.",
            )
        engine_version = params.get("EngineVersion")
        self._check_type_rules(package_type, params, engine_version_allowed=True)
        with self._lock:
            self._advance()
            self._check_create(name, package_type, engine_version)
        copy = self._copy(
            package_type,
            params["PackageSource"],
            engine_version,
            params.get("PackageConfiguration"),
        )
        with self._lock:
            self._advance()
            self._check_create(name, package_type, engine_version)
            started = self._clock.monotonic()
            now = self._wall(started)
            package = _Package(
                package_id=self._new_id(),
                name=name,
                package_type=package_type,
                description=params.get("PackageDescription"),
                engine_version=engine_version,
                owner=self._caller(),
                vending=params.get("PackageVendingOptions"),
                encryption=params.get("PackageEncryptionOptions"),
                status="COPYING",
                created_at=now,
                last_updated_at=now,
            )
            version = _Version("v1", now, None, params.get("PackageConfiguration"))
            self._packages[package.package_id] = package
            self._start_pipeline(package, copy, version, started)
            self._record(
                "package",
                package.package_id,
                before=None,
                after="COPYING",
                t=started,
                version=version.label,
            )
            return {"PackageDetails": self._details(package)}

    def _check_update(self, package_id: str, params: dict[str, Any]) -> _Package:
        package = self._owned_package(package_id)
        self._check_type_rules(package.package_type, params, engine_version_allowed=False)
        if package.status not in _UPDATABLE:
            raise service_error(
                "E-UPDATE-BUSY",
                f"Package {package_id} is {package.status}; it can be updated once it is "
                "AVAILABLE (or failed).",
            )
        return package

    def update_package(self, params: dict[str, Any]) -> dict[str, Any]:
        """UpdatePackage."""
        package_id = params["PackageID"]
        with self._lock:
            self._advance()
            package = self._check_update(package_id, params)
            configuration = _configuration_of_update(package, params)
            package_type, engine_version = package.package_type, package.engine_version
        copy = self._copy(package_type, params["PackageSource"], engine_version, configuration)
        with self._lock:
            self._advance()
            package = self._check_update(package_id, params)
            started = self._clock.monotonic()
            now = self._wall(started)
            label = f"v{len(package.history) + 1}"
            configuration = _configuration_of_update(package, params)
            version = _Version(label, now, params.get("CommitMessage"), configuration)
            if "PackageDescription" in params:
                package.description = params["PackageDescription"]
            if "PackageEncryptionOptions" in params:
                package.encryption = params["PackageEncryptionOptions"]
            previous = package.status
            package.status = "COPYING"
            package.error_details = None
            package.last_updated_at = now
            self._start_pipeline(package, copy, version, started)
            self._record(
                "package",
                package_id,
                before=previous,
                after="COPYING",
                t=started,
                version=label,
            )
            return {"PackageDetails": self._details(package)}

    def delete_package(self, params: dict[str, Any]) -> dict[str, Any]:
        """DeletePackage."""
        package_id = params["PackageID"]
        with self._lock:
            self._advance()
            package = self._owned_package(package_id)
            if package.status == "DELETING":
                return {"PackageDetails": self._details(package)}
            domains = sorted(
                {
                    association.domain_name
                    for association in self._associations.values()
                    if association.package_id == package_id
                    or package_id in association.prerequisites
                }
            )
            if domains:
                caller = self._caller()
                own = [name for name in domains if self._domain_account(name) == caller]
                others = len(domains) - len(own)
                where = [f"domain(s) {', '.join(own)}"] if own else []
                if others:  # other accounts' domains are not named (UNVERIFIED)
                    where.append(f"{others} domain(s) of other accounts")
                raise service_error(
                    "E-DELETE-IN-USE",
                    f"Package {package_id} is associated with {' and '.join(where)}; "
                    "dissociate it first.",
                )
            now = self._clock.monotonic()
            previous = package.status
            package.status = "DELETING"
            package.building = None
            package.last_updated_at = self._wall(now)
            package.pending = [_Step(now + self._timeline.deleting, "DELETED", remove=True)]
            self._record(
                "package", package_id, before=previous, after="DELETING", t=now, version=None
            )
            return {"PackageDetails": self._details(package)}

    def describe_packages(self, params: dict[str, Any]) -> dict[str, Any]:
        """DescribePackages."""
        filters: list[tuple[str, list[str]]] = []
        for index, item in enumerate(params.get("Filters") or [], start=1):
            if item.get("Name") is None or not item.get("Value"):
                raise service_error(
                    "E-FILTER-INVALID", f"Filter {index} needs a Name and at least one Value."
                )
            filters.append((item["Name"], list(item["Value"])))
        with self._lock:
            self._advance()
            caller = self._caller()
            packages = [p for p in self._packages.values() if p.visible_to(caller)]
            for name, values in filters:
                if name == "PackageID" and not any(
                    fnmatchcase(package.package_id, value)
                    for package in packages
                    for value in values
                ):
                    raise self._unknown_package(", ".join(values))
            matching = [
                self._details(package, owner_view=package.owner == caller)
                for package in packages
                if all(self._matches(package, name, values) for name, values in filters)
            ]
        key = json.dumps(["DescribePackages", filters])
        page, token = _paginate(matching, params, key)
        return _compact({"PackageDetailsList": page, "NextToken": token})

    @staticmethod
    def _matches(package: _Package, name: str, values: list[str]) -> bool:
        actual = {
            "PackageID": package.package_id,
            "PackageName": package.name,
            "PackageStatus": package.status,
            "PackageType": package.package_type,
            "EngineVersion": package.engine_version,
            "PackageOwner": package.owner,
        }[name]
        return actual is not None and any(fnmatchcase(actual, value) for value in values)

    def get_package_version_history(self, params: dict[str, Any]) -> dict[str, Any]:
        """GetPackageVersionHistory."""
        package_id = params["PackageID"]
        with self._lock:
            self._advance()
            entries = [version.history_entry() for version in self._package(package_id).history]
        page, token = _paginate(entries, params, f"GetPackageVersionHistory/{package_id}")
        return _compact(
            {"PackageID": package_id, "PackageVersionHistoryList": page, "NextToken": token}
        )

    def update_package_scope(self, params: dict[str, Any]) -> dict[str, Any]:
        """UpdatePackageScope: ADD, REMOVE or OVERRIDE the package's ``AllowListedUserList``."""
        package_id = params["PackageID"]
        operation = params["Operation"]
        users = list(dict.fromkeys(params["PackageUserList"]))
        with self._lock:
            self._advance()
            package = self._owned_package(package_id)
            if not package.vended():
                raise service_error(
                    "E-SCOPE-NOT-VENDED",
                    f"Package {package_id} is not vended (PackageVendingOptions.VendingEnabled "
                    "is false): only a vended package can be shared.",
                )
            if package.status == "DELETING":
                raise self._unknown_package(package_id)
            current = package.allow_listed
            if operation == "ADD":
                package.allow_listed = current + [user for user in users if user not in current]
            elif operation == "REMOVE":
                package.allow_listed = [user for user in current if user not in users]
            else:
                package.allow_listed = users
            return {
                "PackageID": package_id,
                "Operation": operation,
                "PackageUserList": list(package.allow_listed),
            }

    # ------------------------------------------------------------------------ associations

    def _domain_account(self, name: str) -> str | None:
        domain = self._domains.get(name)
        return None if domain is None else (domain.account_id or self.account_id)

    def _domain(self, name: str) -> _Domain:
        if not _NAME.fullmatch(name):
            raise service_error(
                "E-DOMAIN-INVALID",
                f"Invalid domain name {name!r}: a lowercase letter then lowercase letters, "
                "digits and hyphens.",
            )
        if self._domain_account(name) != self._caller():
            raise service_error("E-DOMAIN-NOT-FOUND", f"Domain {name} not found.")
        return self._domains[name]

    def _association_details(self, association: _Association) -> dict[str, Any]:
        package = self._packages.get(association.package_id)
        package_type = package.package_type if package else None
        return _compact(
            {
                "PackageID": association.package_id,
                "PackageName": package.name if package else None,
                "PackageType": package_type,
                "LastUpdated": association.last_updated,
                "DomainName": association.domain_name,
                "DomainPackageStatus": association.status,
                "PackageVersion": association.version,
                "PrerequisitePackageIDList": association.prerequisites or None,
                "ReferencePath": (
                    f"analyzers/{association.package_id}"
                    if package_type == "TXT-DICTIONARY"
                    else None
                ),
                "ErrorDetails": association.error_details,
                "AssociationConfiguration": association.configuration,
            }
        )

    def _busy(self, domain_name: str) -> _Association | None:
        for association in self._associations.values():
            if association.domain_name == domain_name and association.status in _DOMAIN_BUSY:
                return association
        return None

    def _refuse_if_busy(self, domain_name: str) -> None:
        busy = self._busy(domain_name)
        if busy is not None:
            raise service_error(
                "E-DOMAIN-BUSY",
                f"Another package operation is in progress on domain {domain_name} "
                f"(package {busy.package_id} is {busy.status}); retry when it has finished.",
            )

    def associate_package(self, params: dict[str, Any]) -> dict[str, Any]:
        """AssociatePackage."""
        package_id = params["PackageID"]
        domain_name = params["DomainName"]
        prerequisites = list(params.get("PrerequisitePackageIDList") or [])
        with self._lock:
            self._advance()
            package = self._package(package_id)
            domain = self._domain(domain_name)
            self._check_associable(domain_name, package, prerequisites)
            if self._already_associated(domain_name, package):
                raise service_error("E-ASSOCIATE-ALREADY", "Package is already in desired state")
            self._refuse_if_busy(domain_name)
            self._check_domain_quota(domain_name, [package_id])
            now = self._clock.monotonic()
            due = now + self._timeline.association_seconds(package.package_type)
            association = self._start_association(
                domain, package, params, due, now, failed_prerequisite=None
            )
            self._count_operation(domain_name, "AssociatePackage", [package_id], now, due)
            return {"DomainPackageDetails": self._association_details(association)}

    def _check_associable(
        self,
        domain_name: str,
        package: _Package,
        prerequisites: list[str],
        same_batch: frozenset[str] = frozenset(),
    ) -> None:
        """Refuse one package (of AssociatePackage, or one entry of AssociatePackages): unknown
        or inactive prerequisites, or no available version."""
        for prerequisite in prerequisites:
            known = self._packages.get(prerequisite)
            if known is None or not known.visible_to(self._caller()):
                raise service_error(
                    "E-PREREQUISITE-NOT-FOUND",
                    f"Prerequisite package {prerequisite} not found.",
                )
        self._check_prerequisites_active(domain_name, package.package_id, prerequisites, same_batch)
        if package.status == "DELETING" or package.available is None:
            # A package COPYING/VALIDATING a new version, or whose new version failed,
            # still has its previous AVAILABLE version: that one is associated (evidence:
            # an AssociatePackage right after UpdatePackage succeeded; which version it
            # associated is not shown).
            raise service_error(
                "E-ASSOCIATE-UNAVAILABLE",
                f"Package {package.package_id} is {package.status} and has no available "
                "version; only an AVAILABLE package can be associated.",
            )

    def _already_associated(self, domain_name: str, package: _Package) -> bool:
        """Whether the package's available version is already ACTIVE on the domain."""
        existing = self._associations.get((domain_name, package.package_id))
        return (
            existing is not None
            and existing.status == "ACTIVE"
            and package.available is not None
            and existing.version == package.available.label
        )

    def _check_domain_quota(self, domain_name: str, package_ids: list[str]) -> None:
        count = sum(1 for a in self._associations if a[0] == domain_name)
        new = sum(1 for p in package_ids if (domain_name, p) not in self._associations)
        if new and count + new > self.domain_package_quota:
            raise service_error(
                "E-DOMAIN-QUOTA",
                f"Domain {domain_name} already has {count} packages, the limit.",
            )

    def _start_association(
        self,
        domain: _Domain,
        package: _Package,
        entry: dict[str, Any],
        due: float,
        now: float,
        *,
        failed_prerequisite: str | None,
    ) -> _Association:
        """Put one package ASSOCIATING on the domain, ending ACTIVE or ASSOCIATION_FAILED at
        ``due`` (an incompatible plugin, or a prerequisite of the same batch that fails)."""
        available = package.available
        assert available is not None
        package_id, domain_name = package.package_id, domain.name
        existing = self._associations.get((domain_name, package_id))
        association = _Association(
            domain_name=domain_name,
            package_id=package_id,
            status="ASSOCIATING",
            version=available.label,
            prerequisites=list(entry.get("PrerequisitePackageIDList") or []),
            configuration=entry.get("AssociationConfiguration"),
            last_updated=self._wall(now),
        )
        failure = _association_failure(package, domain, failed_prerequisite)
        if failure is not None:
            association.pending = [_Step(due, "ASSOCIATION_FAILED", error_details=failure)]
        else:
            association.pending = [_Step(due, "ACTIVE")]
        self._associations[(domain_name, package_id)] = association
        self._record(
            "association",
            package_id,
            domain_name=domain_name,
            before=existing.status if existing else None,
            after="ASSOCIATING",
            t=now,
            version=available.label,
        )
        return association

    def _check_prerequisites_active(
        self,
        domain_name: str,
        package_id: str,
        prerequisites: list[str],
        same_batch: frozenset[str] = frozenset(),
    ) -> None:
        """Refuse (ValidationException) prerequisites that are not ACTIVE on the domain: they
        "must be associated with the domain before the package can be associated" (in a batch:
        "before or simultaneously", i.e. also in ``same_batch``)."""
        for prerequisite in prerequisites:
            if prerequisite in same_batch:
                continue
            association = self._associations.get((domain_name, prerequisite))
            if association is None or association.status != "ACTIVE":
                state = "not associated" if association is None else association.status
                raise service_error(
                    "E-PREREQUISITE-NOT-ACTIVE",
                    f"Prerequisite package {prerequisite} of package {package_id} is {state} on "
                    f"domain {domain_name}: associate it with the domain (ACTIVE) before the "
                    "package, or in the same AssociatePackages call.",
                )

    def associate_packages(self, params: dict[str, Any]) -> dict[str, Any]:
        """AssociatePackages: every entry of ``PackageList`` in one domain operation (or one per
        entry, see :attr:`batch_mode`); refused as a whole when an entry is refused."""
        domain_name = params["DomainName"]
        entries: list[dict[str, Any]] = list(params["PackageList"])
        with self._lock:
            self._advance()
            domain = self._domain(domain_name)
            if not entries:
                raise service_error("E-BATCH-EMPTY", "PackageList must list at least one package.")
            ids = [str(entry["PackageID"]) for entry in entries]
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                raise service_error(
                    "E-BATCH-DUPLICATE", f"PackageList lists {', '.join(duplicates)} twice."
                )
            batch = frozenset(ids)
            packages: list[_Package] = []
            for entry in entries:
                package = self._package(str(entry["PackageID"]))
                prerequisites = list(entry.get("PrerequisitePackageIDList") or [])
                self._check_associable(domain_name, package, prerequisites, batch)
                packages.append(package)
            if all(self._already_associated(domain_name, package) for package in packages):
                raise service_error("E-ASSOCIATE-ALREADY", "Package is already in desired state")
            self._refuse_if_busy(domain_name)
            self._check_domain_quota(domain_name, ids)
            now = self._clock.monotonic()
            durations = [self._timeline.association_seconds(p.package_type) for p in packages]
            dues = self._batch_dues(now, durations)
            # An entry fails when a prerequisite in the same batch fails (in dependency order).
            prerequisites_of = {
                str(entry["PackageID"]): list(entry.get("PrerequisitePackageIDList") or [])
                for entry in entries
            }
            failed: set[str] = set()
            for package in _prerequisites_first(packages, entries):
                if _association_failure(package, domain, None) is not None or any(
                    p in failed for p in prerequisites_of[package.package_id]
                ):
                    failed.add(package.package_id)
            details = []
            for package, entry, due in zip(packages, entries, dues, strict=True):
                failed_prerequisite = next(
                    (
                        p
                        for p in prerequisites_of[package.package_id]
                        if p in failed and p != package.package_id
                    ),
                    None,
                )
                association = self._start_association(
                    domain, package, entry, due, now, failed_prerequisite=failed_prerequisite
                )
                details.append(self._association_details(association))
            self._count_batch(domain_name, "AssociatePackages", [[i] for i in ids], now, dues)
            return {"DomainPackageDetailsList": details}

    def _batch_dues(self, now: float, durations: list[float]) -> list[float]:
        """When each entry of a batch ends: all with the longest (``one-operation``), or one
        after the other (``per-package``)."""
        if self._batch_mode == "per-package":
            dues, moment = [], now
            for duration in durations:
                moment += duration
                dues.append(moment)
            return dues
        longest = max(durations, default=0.0)
        return [now + longest for _ in durations]

    def _count_batch(
        self,
        domain_name: str,
        operation: str,
        groups: list[list[str]],
        now: float,
        dues: list[float],
    ) -> None:
        """Record a batch: one operation, or one per entry (``groups``: each entry's packages,
        cascaded dissociations included)."""
        if self._batch_mode == "per-package":
            start = now
            for group, due in zip(groups, dues, strict=True):
                self._count_operation(domain_name, operation, group, start, due)
                start = due
        else:
            every = [package_id for group in groups for package_id in group]
            self._count_operation(domain_name, operation, every, now, max(dues, default=now))

    def _dependents(self, domain_name: str, package_id: str) -> list[str]:
        """The packages associated with the domain (in any status but DISSOCIATING) that list
        ``package_id`` among their prerequisites, transitively (a plugin's license and
        configuration packages)."""
        on_domain = [
            (dependent, association)
            for (domain, dependent), association in sorted(self._associations.items())
            if domain == domain_name and association.status != "DISSOCIATING"
        ]
        found: list[str] = []
        queue = [package_id]
        while queue:
            current = queue.pop(0)
            for dependent, association in on_domain:
                if (
                    current in association.prerequisites
                    and dependent not in found
                    and dependent != package_id
                ):
                    found.append(dependent)
                    queue.append(dependent)
        return found

    def _associated(self, domain_name: str, package_id: str) -> _Association:
        """The association, or the answer to dissociating a package the domain does not have
        (:attr:`not_associated` says which of the two reported shapes)."""
        association = self._associations.get((domain_name, package_id))
        if association is None:
            if self.not_associated == "ResourceNotFoundException":
                raise service_error(
                    "E-NOT-ASSOCIATED-NOT-FOUND",
                    f"Package {package_id} is not associated with domain {domain_name}.",
                )
            raise service_error("E-NOT-ASSOCIATED", NOT_ASSOCIATED_MESSAGE)
        return association

    def _start_dissociation(self, association: _Association, due: float, now: float) -> None:
        domain_name, package_id = association.domain_name, association.package_id
        previous = association.status
        association.status = "DISSOCIATING"
        association.error_details = None
        association.last_updated = self._wall(now)
        package = self._packages.get(package_id)
        plugin = package is not None and package.package_type == _PLUGIN
        if (domain_name, package_id) in self._in_use and plugin:
            # AWS: uninstalling a plugin an index still uses leaves the blue/green deployment in
            # Processing; the emulation keeps the association DISSOCIATING until
            # release_in_use().
            self._stuck.add((domain_name, package_id))
            association.pending = []
        elif (domain_name, package_id) in self._in_use:
            self._in_use.discard((domain_name, package_id))
            association.pending = [
                _Step(
                    due,
                    "DISSOCIATION_FAILED",
                    error_details={
                        "ErrorType": "PackageInUse",
                        "ErrorMessage": (
                            f"Package {package_id} is in use by an index on domain "
                            f"{domain_name}; remove it from the index settings first."
                        ),
                    },
                )
            ]
        else:
            association.pending = [_Step(due, "DISSOCIATED", remove=True)]
        self._record(
            "association",
            package_id,
            domain_name=domain_name,
            before=previous,
            after="DISSOCIATING",
            t=now,
            version=association.version,
        )

    def _dissociation_seconds(self, package_id: str) -> float:
        package = self._packages.get(package_id)
        return self._timeline.dissociation_seconds(
            package.package_type if package else "TXT-DICTIONARY"
        )

    def dissociate_package(self, params: dict[str, Any]) -> dict[str, Any]:
        """DissociatePackage (its dependents on the domain leave with it)."""
        package_id = params["PackageID"]
        domain_name = params["DomainName"]
        with self._lock:
            self._advance()
            self._domain(domain_name)
            self._dissociate(domain_name, [package_id], "DissociatePackage")
            return {
                "DomainPackageDetails": self._association_details(
                    self._associations[(domain_name, package_id)]
                )
            }

    def dissociate_packages(self, params: dict[str, Any]) -> dict[str, Any]:
        """DissociatePackages: every listed package (and its dependents) in one domain operation
        (or one per listed package, see :attr:`batch_mode`); refused as a whole when one is not
        associated."""
        domain_name = params["DomainName"]
        ids = [str(i) for i in params["PackageList"]]
        with self._lock:
            self._advance()
            self._domain(domain_name)
            if not ids:
                raise service_error("E-BATCH-EMPTY", "PackageList must list at least one package.")
            leaving = self._dissociate(domain_name, ids, "DissociatePackages")
            return {
                "DomainPackageDetailsList": [
                    self._association_details(self._associations[(domain_name, package_id)])
                    for package_id in leaving
                ]
            }

    def _dissociate(self, domain_name: str, ids: list[str], operation: str) -> list[str]:
        """Start dissociating ``ids`` and their dependents on the domain (one domain operation,
        or one per listed package, see :attr:`batch_mode`); refused as a whole when one is not
        associated or the domain is busy.

        :return: the packages leaving, each listed package followed by its dependents.
        """
        associations = [self._associated(domain_name, package_id) for package_id in ids]
        self._refuse_if_busy(domain_name)
        now = self._clock.monotonic()
        dues = self._batch_dues(now, [self._dissociation_seconds(i) for i in ids])
        leaving: list[str] = []
        groups: list[list[str]] = []
        for association, due in zip(associations, dues, strict=True):
            cascade = [
                d
                for d in self._dependents(domain_name, association.package_id)
                if d not in ids and d not in leaving
            ]
            for dependent in cascade:
                self._start_dissociation(self._associations[(domain_name, dependent)], due, now)
            self._start_dissociation(association, due, now)
            leaving.extend([association.package_id, *cascade])
            groups.append([association.package_id, *cascade])
        self._count_batch(domain_name, operation, groups, now, dues)
        return leaving

    def list_domains_for_package(self, params: dict[str, Any]) -> dict[str, Any]:
        """ListDomainsForPackage."""
        package_id = params["PackageID"]
        with self._lock:
            self._advance()
            self._package(package_id)
            caller = self._caller()
            entries = [
                self._association_details(association)
                for key, association in sorted(self._associations.items())
                if key[1] == package_id and self._domain_account(key[0]) == caller
            ]
        page, token = _paginate(entries, params, f"ListDomainsForPackage/{package_id}")
        return _compact({"DomainPackageDetailsList": page, "NextToken": token})

    def list_packages_for_domain(self, params: dict[str, Any]) -> dict[str, Any]:
        """ListPackagesForDomain."""
        domain_name = params["DomainName"]
        with self._lock:
            self._advance()
            self._domain(domain_name)
            entries = [
                self._association_details(association)
                for key, association in self._associations.items()
                if key[0] == domain_name
            ]
        page, token = _paginate(entries, params, f"ListPackagesForDomain/{domain_name}")
        return _compact({"DomainPackageDetailsList": page, "NextToken": token})

    # ------------------------------------------------------------------- local (test) hooks

    def register_domain(
        self,
        name: str,
        engine_version: str = DEFAULT_ENGINE_VERSION,
        *,
        account_id: str | None = None,
    ) -> None:
        """Make a domain exist (the CloudFormation stand-in "creates" one); idempotent.

        Re-registering with another engine version is an engine upgrade: every ZIP-PLUGIN
        associated with the domain moves to the AVAILABLE ZIP-PLUGIN package of the same name
        built for the new version (AWS's upgrade guide: create that package before upgrading).
        The new package's association is ACTIVE with its available version, the old package's
        disappears (both recorded as transitions).

        :param name: the domain name (3-28 chars, ``[a-z][a-z0-9-]+``).
        :param engine_version: ``OpenSearch_X.Y`` or ``Elasticsearch_X.Y``.
        :param account_id: the account the domain belongs to. Default: - the store's.
        :raises ValueError: invalid name or engine version, or a domain of that name in another
            account (names are unique across the emulated accounts).
        :raises UpgradeRefused: an associated plugin has no package of its name for the new
            version, or the domain runs a package operation (nothing changes).
        """
        account = account_id or self.account_id
        if not 3 <= len(name) <= 28 or not _NAME.fullmatch(name):
            raise ValueError(f"invalid domain name {name!r}: 3-28 chars of [a-z][a-z0-9-]+")
        if not _ENGINE.fullmatch(engine_version):
            raise ValueError(
                f"invalid engine version {engine_version!r}: OpenSearch_X.Y or Elasticsearch_X.Y"
            )
        with self._lock:
            self._advance()
            existing = self._domains.get(name)
            if existing is not None and (existing.account_id or self.account_id) != account:
                raise ValueError(
                    f"domain {name!r} exists in account {existing.account_id}: domain names are "
                    "unique across the emulated accounts"
                )
            if existing is not None and existing.engine_version != engine_version:
                self._upgrade_plugins(name, engine_version)
            registered = existing.registered_at if existing else self._clock.time()
            self._domains[name] = _Domain(name, engine_version, registered, account)

    def _upgrade_plugins(self, domain_name: str, engine_version: str) -> None:
        """Move the domain's plugins to their packages for ``engine_version`` (or refuse)."""
        busy = self._busy(domain_name)
        if busy is not None:
            raise UpgradeRefused(
                f"domain {domain_name} cannot be upgraded while package {busy.package_id} is "
                f"{busy.status}"
            )
        moves: list[tuple[_Association, _Package]] = []
        for (domain, package_id), association in sorted(self._associations.items()):
            package = self._packages.get(package_id)
            if domain != domain_name or package is None or package.package_type != _PLUGIN:
                continue
            if package.engine_version == engine_version:
                continue
            target = next(
                (
                    candidate
                    for candidate in self._packages.values()
                    if candidate.package_type == _PLUGIN
                    and candidate.name == package.name
                    and candidate.engine_version == engine_version
                    and candidate.available is not None
                    and candidate.status != "DELETING"
                ),
                None,
            )
            if target is None:
                raise UpgradeRefused(
                    f"the upgrade of domain {domain_name} to {engine_version} fails: plugin "
                    f"package {package_id} ({package.name!r}, {package.engine_version}) has no "
                    f"AVAILABLE ZIP-PLUGIN package named {package.name!r} for {engine_version}; "
                    "create it before upgrading the domain"
                )
            moves.append((association, target))
        now = self._clock.monotonic()
        for association, target in moves:
            self._drop_association(association, now)
            label = target.available.label if target.available else None
            self._associations[(domain_name, target.package_id)] = _Association(
                domain_name=domain_name,
                package_id=target.package_id,
                status="ACTIVE",
                version=label,
                prerequisites=list(association.prerequisites),
                configuration=association.configuration,
                last_updated=self._wall(now),
            )
            self._record(
                "association",
                target.package_id,
                domain_name=domain_name,
                before=None,
                after="ACTIVE",
                t=now,
                version=label,
            )

    def _drop_association(self, association: _Association, t: float) -> None:
        """Remove an association at once (its domain went away or moved on), recorded as
        DISSOCIATED."""
        del self._associations[(association.domain_name, association.package_id)]
        self._record(
            "association",
            association.package_id,
            domain_name=association.domain_name,
            before=association.status,
            after="DISSOCIATED",
            t=t,
            version=association.version,
        )

    def unregister_domain(self, name: str) -> None:
        """Remove a domain and its associations (the domain was deleted); no-op when unknown.

        :param name: the domain name.
        """
        with self._lock:
            self._advance()
            if self._domains.pop(name, None) is None:
                return
            now = self._clock.monotonic()
            for key in [key for key in self._associations if key[0] == name]:
                self._drop_association(self._associations[key], now)
            self._in_use = {mark for mark in self._in_use if mark[0] != name}
            self._stuck = {mark for mark in self._stuck if mark[0] != name}

    def mark_in_use(self, domain_name: str, package_id: str) -> None:
        """Mark ``package_id`` as used by an index of ``domain_name``: the next dissociation of a
        dictionary (or license/config) ends in DISSOCIATION_FAILED; a plugin's stays
        DISSOCIATING until :meth:`release_in_use` (a stuck blue/green deployment).

        :param domain_name: the domain.
        :param package_id: the package.
        """
        with self._lock:
            self._in_use.add((domain_name, package_id))

    def release_in_use(self, domain_name: str, package_id: str) -> None:
        """The index no longer uses the package: clear the mark, and let a plugin's stuck
        dissociation finish now.

        :param domain_name: the domain.
        :param package_id: the package.
        """
        with self._lock:
            self._advance()
            self._in_use.discard((domain_name, package_id))
            if (domain_name, package_id) not in self._stuck:
                return
            self._stuck.discard((domain_name, package_id))
            association = self._associations.get((domain_name, package_id))
            if association is not None and association.status == "DISSOCIATING":
                association.pending = [_Step(self._clock.monotonic(), "DISSOCIATED", remove=True)]
                self._advance()

    def packages(self) -> list[dict[str, Any]]:
        """:return: every package as DescribePackages shows it now (timestamps: epoch s)."""
        with self._lock:
            self._advance()
            return [self._details(package) for package in self._packages.values()]

    def associations(self) -> list[dict[str, Any]]:
        """:return: every association as ListPackagesForDomain shows it now."""
        with self._lock:
            self._advance()
            return [self._association_details(a) for a in self._associations.values()]

    def domains(self) -> list[dict[str, Any]]:
        """:return: the registered domains: ``DomainName``, ``EngineVersion``,
        ``RegisteredAt``."""
        with self._lock:
            return [
                {
                    "DomainName": domain.name,
                    "EngineVersion": domain.engine_version,
                    "RegisteredAt": domain.registered_at,
                    "AccountId": domain.account_id or self.account_id,
                }
                for domain in self._domains.values()
            ]

    def versions(self, package_id: str) -> list[dict[str, Any]]:
        """:return: the version history of a package (as GetPackageVersionHistory shows it).

        :raises KeyError: unknown package.
        """
        with self._lock:
            self._advance()
            package = self._packages.get(package_id)
            if package is None:
                raise KeyError(package_id)
            return [version.history_entry() for version in package.history]

    def transitions(self) -> list[Transition]:
        """:return: every status change so far, in time order."""
        with self._lock:
            self._advance()
            return list(self._transitions)

    def reset(self) -> None:
        """Forget everything (packages, domains, marks, transitions); restore the timeline, the
        construction-time answers and the id generator's seed."""
        with self._lock:
            self.package_not_found, self.not_associated = self._initial_answers
            self._packages.clear()
            self._associations.clear()
            self._domains.clear()
            self._in_use.clear()
            self._stuck.clear()
            self._transitions.clear()
            self._operations.clear()
            self._batch_mode = "one-operation"
            self._issued.clear()
            self._timeline = self._initial_timeline
            self._ids = random.Random(f"package-ids-{self._seed}")

    # ------------------------------------------------------------- persistence (the CLI's)

    def export_state(self) -> dict[str, Any]:
        """:return: packages, versions, associations, domains, in-use marks and the id
        generator as JSON types (for :meth:`import_state` in a later process). Status changes
        still scheduled keep their remaining seconds; transitions are not exported."""
        with self._lock:
            self._advance()
            now = self._clock.monotonic()

            def steps(pending: list[_Step]) -> list[dict[str, Any]]:
                return [{**asdict(step), "due": max(0.0, step.due - now)} for step in pending]

            return {
                "format": 1,
                "packages": [
                    {**asdict(package), "pending": steps(package.pending)}
                    for package in self._packages.values()
                ],
                "associations": [
                    {**asdict(association), "pending": steps(association.pending)}
                    for association in self._associations.values()
                ],
                "domains": [asdict(domain) for domain in self._domains.values()],
                "in_use": sorted([list(mark) for mark in self._in_use]),
                "stuck": sorted([list(mark) for mark in self._stuck]),
                "issued": sorted(self._issued),
                "ids": _random_state(self._ids),
            }

    def import_state(self, data: dict[str, Any]) -> None:
        """Replace the state with one :meth:`export_state` made (in another process).

        :raises ValueError: the data is not of a known format.
        """
        if data.get("format") != 1:
            raise ValueError(f"unknown state format {data.get('format')!r}")
        with self._lock:
            now = self._clock.monotonic()

            def version(raw: dict[str, Any] | None) -> _Version | None:
                return None if raw is None else _Version(**raw)

            def steps(raw: list[dict[str, Any]]) -> list[_Step]:
                return [
                    _Step(**{**step, "due": now + step["due"], "version": version(step["version"])})
                    for step in raw
                ]

            self._packages = {}
            for raw in data.get("packages", []):
                package = _Package(
                    **{
                        **raw,
                        "available": version(raw["available"]),
                        "history": [_Version(**entry) for entry in raw["history"]],
                        "pending": steps(raw["pending"]),
                    }
                )
                self._packages[package.package_id] = package
            self._associations = {}
            for raw in data.get("associations", []):
                association = _Association(**{**raw, "pending": steps(raw["pending"])})
                self._associations[(association.domain_name, association.package_id)] = association
            self._domains = {raw["name"]: _Domain(**raw) for raw in data.get("domains", [])}
            self._in_use = {(str(mark[0]), str(mark[1])) for mark in data.get("in_use", [])}
            self._stuck = {(str(mark[0]), str(mark[1])) for mark in data.get("stuck", [])}
            self._issued = set(data.get("issued", [])) | set(self._packages)
            if data.get("ids"):
                self._ids.setstate(_as_random_state(data["ids"]))

    def add_existing_package(
        self,
        *,
        name: str,
        package_type: str,
        version: str = "v1",
        package_id: str | None = None,
        description: str | None = None,
        engine_version: str | None = None,
        owner: str | None = None,
    ) -> dict[str, Any]:
        """Make a package exist, AVAILABLE, as if made elsewhere (another stack, the console):
        versions ``v1`` to ``version``, no source (it is never updated by this account's
        stacks).

        :param name: the package name (the service's rules).
        :param package_type: ``TXT-DICTIONARY``, ``ZIP-PLUGIN``, ...
        :param version: the available version, ``v<N>``.
        :param package_id: the id (``F`` + digits). Default: a new one.
        :param description: its description. Default: none.
        :param engine_version: required for ``ZIP-PLUGIN``, refused for other types.
        :param owner: the owning account. Default: this account. Another account's package is
            vended and allow-lists this account (shared with it), so this account sees it.
        :return: the package as DescribePackages shows it.
        :raises ValueError: a rule is broken (name, id, version, type, duplicates).
        """
        if not _valid_package_name(name):
            raise ValueError(
                f"invalid package name {name!r}: {MIN_PACKAGE_NAME_LENGTH} to "
                f"{MAX_PACKAGE_NAME_LENGTH} characters, a lowercase letter then lowercase "
                "letters, digits and hyphens"
            )
        match = re.fullmatch(r"v([1-9][0-9]*)", version)
        if match is None:
            raise ValueError(f"invalid version {version!r}: v1, v2, ...")
        if package_id is not None and not re.fullmatch(r"F[0-9]{1,20}", package_id):
            raise ValueError(f"invalid package id {package_id!r}: F followed by digits")
        plugin = package_type == "ZIP-PLUGIN"
        if plugin != (engine_version is not None):
            raise ValueError("an engine version is required for ZIP-PLUGIN and refused otherwise")
        if engine_version is not None and not _ENGINE.fullmatch(engine_version):
            raise ValueError(f"invalid engine version {engine_version!r}")
        with self._lock:
            self._advance()
            if self._name_taken(name, package_type, engine_version):
                raise ValueError(
                    f"a package named {name} already exists"
                    + (f" for {engine_version}" if engine_version else "")
                )
            if package_id is not None and package_id in self._packages:
                raise ValueError(f"a package with id {package_id} already exists")
            identifier = package_id or self._new_id()
            self._issued.add(identifier)
            now = self._clock.time()
            history = [
                _Version(f"v{number}", now, None, None)
                for number in range(1, int(match.group(1)) + 1)
            ]
            package = _Package(
                package_id=identifier,
                name=name,
                package_type=package_type,
                description=description,
                engine_version=engine_version,
                owner=owner or self.account_id,
                vending=None,
                encryption=None,
                status="AVAILABLE",
                created_at=now,
                last_updated_at=now,
                available=history[-1],
                history=history,
            )
            if package.owner != self.account_id:
                package.vending = {"VendingEnabled": True}
                package.allow_listed = [self.account_id]
            self._packages[identifier] = package
            return self._details(package, owner_view=package.owner == self.account_id)


_AnswerT = TypeVar("_AnswerT", PackageNotFoundCode, NotAssociatedCode)


def _answer(name: str, value: _AnswerT) -> _AnswerT:
    """``value`` if it is one of the two reported codes, else :class:`ValueError`."""
    if value not in ("ResourceNotFoundException", "ValidationException"):
        raise ValueError(f"{name} must be a code, got {value!r}")
    return value


def _valid_package_name(name: str) -> bool:
    """Whether ``name`` follows the service's package-name rules (length, characters)."""
    return MIN_PACKAGE_NAME_LENGTH <= len(name) <= MAX_PACKAGE_NAME_LENGTH and bool(
        PACKAGE_NAME_PATTERN.fullmatch(name)
    )


def _random_state(generator: random.Random) -> list[Any]:
    version, internal, gauss = generator.getstate()
    return [version, list(internal), gauss]


def _as_random_state(raw: list[Any]) -> tuple[Any, ...]:
    return (raw[0], tuple(raw[1]), raw[2])


def _association_failure(
    package: _Package, domain: _Domain, failed_prerequisite: str | None
) -> dict[str, str] | None:
    """The ErrorDetails an association will end with, or ``None`` when it will be ACTIVE."""
    if package.package_type == "ZIP-PLUGIN" and package.engine_version != domain.engine_version:
        return {
            "ErrorType": "IncompatibleEngineVersion",
            "ErrorMessage": (
                f"Plugin {package.package_id} is built for {package.engine_version}; "
                f"domain {domain.name} runs {domain.engine_version}."
            ),
        }
    if failed_prerequisite is not None:
        return {
            "ErrorType": "PrerequisiteFailed",
            "ErrorMessage": (
                f"Prerequisite package {failed_prerequisite} of package {package.package_id} "
                f"failed to associate with domain {domain.name}."
            ),
        }
    return None


def _prerequisites_first(packages: list[_Package], entries: list[dict[str, Any]]) -> list[_Package]:
    """The batch's packages, each after its prerequisites of the same batch."""
    by_id = {package.package_id: package for package in packages}
    needs = {
        str(entry["PackageID"]): [
            p for p in entry.get("PrerequisitePackageIDList") or [] if p in by_id
        ]
        for entry in entries
    }
    ordered: list[_Package] = []

    def visit(package_id: str, path: tuple[str, ...]) -> None:
        if by_id[package_id] in ordered or package_id in path:
            return
        for prerequisite in needs.get(package_id, []):
            visit(prerequisite, (*path, package_id))
        ordered.append(by_id[package_id])

    for package in packages:
        visit(package.package_id, ())
    return ordered


def _configuration_of_update(package: _Package, params: dict[str, Any]) -> dict[str, Any] | None:
    """The PackageConfiguration of the version an UpdatePackage makes: the given one, else the
    available version's."""
    configuration = params.get("PackageConfiguration")
    if configuration is None and package.available is not None:
        configuration = package.available.configuration
    return configuration


def _paginate(items: list[T], params: dict[str, Any], key: str) -> tuple[list[T], str | None]:
    limit = params.get("MaxResults")
    if limit is None:
        limit = _DEFAULT_PAGE
    if limit < 1:
        raise service_error(
            "E-PAGE-INVALID",
            f"Value '{limit}' at 'maxResults' failed to satisfy constraint: Member must have "
            "value greater than or equal to 1",
        )
    offset = 0
    token = params.get("NextToken")
    if token:
        offset = _decode_token(token, key)
    page = items[offset : offset + limit]
    following = offset + limit
    return page, (_encode_token(following, key) if following < len(items) else None)


def _encode_token(offset: int, key: str) -> str:
    raw = json.dumps({"o": offset, "k": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_token(token: str, key: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = data["o"]
        valid = isinstance(offset, int) and offset >= 0 and data["k"] == key
    except (binascii.Error, ValueError, KeyError, TypeError):
        valid = False
    if not valid:
        raise service_error(
            "E-PAGE-INVALID", "Invalid NextToken: it does not belong to this request."
        )
    return int(offset)
