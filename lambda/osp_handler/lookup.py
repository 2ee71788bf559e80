"""The lifecycle of ``Custom::OpenSearchPackageLookup``: find a package made elsewhere by its name.

The package belongs to someone else (another stack, another tool, or another account that
shared it): this lifecycle only reads it, with DescribePackages, and never changes or deletes it.

- Create and Update: ``find`` (DescribePackages filtered by ``PackageName``, and ``PackageOwner``
  and ``EngineVersion`` when given, following ``NextToken``; exactly one match that is not
  DELETED; ZIP-PLUGIN names repeat once per engine version) -> ``available``
  when the package is still COPYING/VALIDATING (wait until AVAILABLE, as the package lifecycle
  does). The physical id is the package's id, so an Update that finds another package (a new
  name, or the package was re-created) replaces the resource, and the associations that use its
  ``PackageID`` move to the new package.
- Delete: success without any API call.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .job import Job
from .opensearch_api import describe_package, described_packages, failure_message
from .outcome import Done, Outcome, ResourceFailure
from .package import DELETION_STATUSES, FAILED_STATUSES, package_data
from .phases import run_phases
from .props import CONTROL_PREFIX, CONTROL_PROPERTIES, PropertyError, is_control_property
from .waiting import NotYet

if TYPE_CHECKING:
    from types_boto3_opensearch.client import OpenSearchServiceClient
    from types_boto3_opensearch.type_defs import (
        DescribePackagesFilterTypeDef,
        PackageDetailsTypeDef,
    )

__all__ = [
    "LOOKUP_RESOURCE_TYPE",
    "LookupProps",
    "PackageLookupLifecycle",
    "find_packages",
    "lookup_data",
    "lookup_props",
]

logger = logging.getLogger(__name__)

LOOKUP_RESOURCE_TYPE = "Custom::OpenSearchPackageLookup"
#: The properties of a lookup besides the control properties.
LOOKUP_PROPERTIES = ("PackageName", "PackageOwner", "EngineVersion")
#: Any name a package can have (the model's rule: 3-256 characters of ``[a-z][a-z0-9-]+``).
LOOKUP_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9\-]{2,255}$")
#: A ``PackageOwner`` filter value: the model's filter-value characters without the wildcards
#: ``*`` and ``?`` (a lookup names one owner).
OWNER_PATTERN = re.compile(r"^[0-9a-zA-Z._\\/\-]{1,1024}$")
#: An ``EngineVersion`` (the model's pattern).
ENGINE_PATTERN = re.compile(
    r"^Elasticsearch_[0-9]\.[0-9]{1,2}$|^OpenSearch_[0-9]{1,2}\.[0-9]{1,2}$"
)
#: How long a package found by name may be missing by id (eventual consistency) before that
#: means it was deleted.
MISSING_GRACE_SECONDS = 30.0


@dataclass(frozen=True)
class LookupProps:
    """The properties of a ``Custom::OpenSearchPackageLookup``, checked.

    :param package_name: ``PackageName``: the name to look up.
    :param package_owner: ``PackageOwner``: the owner to require (``None``: any owner).
    :param engine_version: ``EngineVersion``: the engine version to require (``None``: any).
    """

    package_name: str
    package_owner: str | None = None
    engine_version: str | None = None

    def describe(self) -> str:
        """``'name'``, ``'name' owned by 'owner'``, ``... for OpenSearch_X.Y``, for messages."""
        owner = f" owned by {self.package_owner!r}" if self.package_owner is not None else ""
        engine = f" for {self.engine_version}" if self.engine_version is not None else ""
        return f"{self.package_name!r}{owner}{engine}"

    def filters(self) -> list[DescribePackagesFilterTypeDef]:
        """The DescribePackages filters of the lookup."""
        filters: list[DescribePackagesFilterTypeDef] = [
            {"Name": "PackageName", "Value": [self.package_name]}
        ]
        if self.package_owner is not None:
            filters.append({"Name": "PackageOwner", "Value": [self.package_owner]})
        if self.engine_version is not None:
            filters.append({"Name": "EngineVersion", "Value": [self.engine_version]})
        return filters

    def matches(self, details: PackageDetailsTypeDef) -> bool:
        """Whether ``details`` is a live package of this name (and owner, when reported)."""
        if details.get("PackageName") != self.package_name:
            return False  # filter values may hold wildcards; a lookup wants the exact name
        if details.get("PackageStatus") == "DELETED":
            return False
        if self.engine_version is not None and details.get("EngineVersion") != self.engine_version:
            return False
        owner = details.get("PackageOwner")
        return self.package_owner is None or owner is None or owner == self.package_owner


def _string(props: Mapping[str, Any], name: str) -> str | None:
    value = props.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # an account id written as a number in a raw template
    raise PropertyError(f"property {name} must be a string, got {value!r}")


def lookup_props(props: Mapping[str, Any]) -> LookupProps:
    """Check and convert a ``Custom::OpenSearchPackageLookup``'s properties.

    :param props: ``ResourceProperties`` as CloudFormation sent them.
    :raises PropertyError: when ``PackageName`` is missing or not a possible package name, when
        ``PackageOwner`` is not a single owner, or when a property is unknown.
    """
    unknown = sorted(
        key for key in props if not is_control_property(key) and key not in LOOKUP_PROPERTIES
    )
    if unknown:
        raise PropertyError(
            f"{LOOKUP_RESOURCE_TYPE} has no properties {unknown}; expected PackageName and "
            "optionally PackageOwner and EngineVersion (and control properties "
            f"{sorted(CONTROL_PROPERTIES)} or {CONTROL_PREFIX}*)"
        )
    name = _string(props, "PackageName")
    if name is None:
        raise PropertyError(f"{LOOKUP_RESOURCE_TYPE} requires the property PackageName")
    if LOOKUP_NAME_PATTERN.match(name) is None:
        raise PropertyError(
            f"PackageName {name!r} cannot be the name of a package: package names are 3-256 "
            "characters, lowercase letters, digits and hyphens, starting with a letter"
        )
    owner = _string(props, "PackageOwner")
    if owner is not None and OWNER_PATTERN.match(owner) is None:
        raise PropertyError(
            f"PackageOwner {owner!r} is invalid: give the owner exactly as DescribePackages "
            "reports it (letters, digits and . _ / \\ -, no wildcards), e.g. an account id"
        )
    engine = _string(props, "EngineVersion")
    if engine is not None and ENGINE_PATTERN.match(engine) is None:
        raise PropertyError(
            f"EngineVersion {engine!r} is invalid: give it as OpenSearch_X.Y or Elasticsearch_X.Y"
        )
    return LookupProps(name, owner, engine)


def find_packages(
    client: OpenSearchServiceClient, props: LookupProps
) -> list[PackageDetailsTypeDef]:
    """Return every package that matches the lookup, following ``NextToken`` through all pages.

    An empty result, ResourceNotFoundException or a ValidationException "not found" all mean no
    package matches; packages whose status is DELETED never match.
    """
    return [d for d in described_packages(client, props.filters()) if props.matches(d)]


def lookup_data(details: PackageDetailsTypeDef) -> dict[str, str]:
    """Return the resource's attributes.

    ``PackageID``, ``PackageName``, ``PackageType``, ``PackageVersion`` (AvailablePackageVersion),
    and ``EngineVersion`` and ``PackageOwner`` ("" when the service reports none, so that
    ``Fn::GetAtt`` always resolves).
    """
    data = package_data(details)
    data["EngineVersion"] = str(details.get("EngineVersion") or "")
    data["PackageOwner"] = str(details.get("PackageOwner") or "")
    return data


def _not_found(props: LookupProps) -> ResourceFailure:
    return ResourceFailure(
        f"no package named {props.describe()} in this account and Region (packages shared with "
        "you appear once their owner has added this account to the package's scope with "
        "UpdatePackageScope)",
        remedy="check the name, the account and the Region, or import the package by id with "
        "OpenSearchPackage.from_package_id",
    )


def _ambiguous(props: LookupProps, found: list[PackageDetailsTypeDef]) -> ResourceFailure:
    listed = ", ".join(
        f"{d.get('PackageID', '?')} (owner {d.get('PackageOwner') or '?'}, "
        + (f"engine {d['EngineVersion']}, " if d.get("EngineVersion") else "")
        + f"status {d.get('PackageStatus', '?')})"
        for d in found
    )
    return ResourceFailure(
        f"{len(found)} packages named {props.describe()} are visible in this account and "
        f"Region: {listed}",
        remedy="pass package_owner (PackageOwner) or, for plugins (one package of a name per "
        "engine version), engine_version (EngineVersion) to choose one, or import the package "
        "by id with OpenSearchPackage.from_package_id",
    )


def _judge(details: PackageDetailsTypeDef, props: LookupProps) -> PackageDetailsTypeDef | NotYet:
    """Return ``details`` when the package can be used, :class:`NotYet` while it is being
    copied/validated; fail when it failed or is being deleted."""
    package_id = details.get("PackageID", "?")
    status = details.get("PackageStatus", "")
    if status == "AVAILABLE":
        return details
    if status in FAILED_STATUSES:
        message = failure_message(details) or f"the package ended in status {status}"
        raise ResourceFailure(
            f"{message} (package {package_id} named {props.describe()}, status {status}: it "
            "cannot be associated; fix the package where it is managed)"
        )
    if status in DELETION_STATUSES:
        raise ResourceFailure(
            f"package {package_id} named {props.describe()} is {status}: it is being deleted "
            "by its owner"
        )
    # COPYING/VALIDATING (IN_PROGRESS_STATUSES), or a status this handler does not know yet
    return NotYet(f"status {status or 'unknown'}")


class PackageLookupLifecycle:
    """Look packages up by name (``Custom::OpenSearchPackageLookup``); never change them."""

    def create(self, job: Job) -> Outcome:
        """Find the package and wait until it is AVAILABLE."""
        lookup_props(job.request.props)  # fail on bad properties before anything else
        job.state.update(op="lookup", phase="find")
        return self._run(job)

    def update(self, job: Job) -> Outcome:
        """Find the package again (a new package id replaces the resource)."""
        return self.create(job)

    def delete(self, job: Job) -> Outcome:
        """Succeed without any API call: the package is not this stack's to delete."""
        physical_id = job.request.physical_id or ""
        logger.info("lookup of %s removed; the package itself is left alone", physical_id)
        return Done(physical_id)

    def resume(self, job: Job) -> Outcome:
        """Continue the wait recorded in ``job.state``."""
        return self._run(job)

    def _run(self, job: Job) -> Outcome:
        return run_phases(job, {"find": self._find, "available": self._available})

    def _find(self, job: Job) -> Outcome | None:
        props = lookup_props(job.request.props)
        found = job.waiter.call(
            lambda: find_packages(job.opensearch, props),
            f"DescribePackages of the package named {props.describe()}",
        )
        if not found:
            raise _not_found(props)
        if len(found) > 1:
            raise _ambiguous(props, found)
        details = found[0]
        package_id = details.get("PackageID", "")
        if not package_id:
            raise ResourceFailure(
                f"DescribePackages answered the package named {props.describe()} without a "
                "PackageID"
            )
        logger.info(
            "package %s is %s (status %s)",
            props.describe(),
            package_id,
            details.get("PackageStatus", "?"),
        )
        ready = _judge(details, props)
        if not isinstance(ready, NotYet):
            return Done(package_id, lookup_data(ready))
        job.state.update(phase="available", package_id=package_id)
        return None

    def _available(self, job: Job) -> Outcome:
        props = lookup_props(job.request.props)
        package_id = str(job.state["package_id"])
        missing_since: list[float] = []

        def probe() -> PackageDetailsTypeDef | NotYet:
            details = describe_package(job.opensearch, package_id)
            if details is None:
                now = job.waiter.clock.now()
                missing_since.append(now)
                if now - missing_since[0] < MISSING_GRACE_SECONDS:
                    return NotYet("not visible by id yet")
                raise ResourceFailure(
                    f"package {package_id} named {props.describe()} does not exist any more "
                    "(it was deleted by its owner while this stack waited for it)"
                )
            return _judge(details, props)

        details = job.waiter.until(
            probe, f"package {package_id} named {props.describe()} to become AVAILABLE"
        )
        return Done(package_id, lookup_data(details))
