"""The lifecycle of ``Custom::OpenSearchPackageAssociation``: associate, re-associate, dissociate.

Operations and their phases (recorded in ``job.state`` so a polling invocation resumes them):

- ``associate`` (Create and Update): ``package`` (wait until the package is AVAILABLE: a package
  still COPYING/VALIDATING cannot be associated) -> ``associate`` (AssociatePackage; "already in
  desired state" is success; a refusal is retried while the domain runs another package
  operation, and fails at once otherwise) -> ``active`` (wait until ListPackagesForDomain shows
  the package ACTIVE, with ``OspPackageVersion`` when given). An Update whose PackageID or
  DomainName changed gets a new physical id (CloudFormation then dissociates the old pair);
  otherwise re-associating rolls out the package's new version.
- ``reassociate`` (an Update of the same pair whose ``PrerequisitePackageIDList`` or
  ``AssociationConfiguration`` changed: AssociatePackage would answer "already in desired state"
  and keep the old settings): ``dissociate`` -> ``gone`` -> the ``associate`` phases.
- ``dissociate`` (Delete): ``dissociate`` (DissociatePackage) -> ``gone`` (wait until the package
  is no longer listed for the domain).

The codes of the service's refusals are mostly undocumented (see docs/SERVICE-BEHAVIOUR.md), so
after a refusal the domain's state decides: the package already ACTIVE with the wanted version
is success, another association ASSOCIATING/DISSOCIATING means "busy, retry", a package the
domain does not list has nothing to dissociate (the service answers ValidationException
"Package is not associated to this domain" or ResourceNotFoundException).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from .job import Job
from .names import association_physical_id, parse_association_physical_id
from .opensearch_api import (
    BUSY_DOMAIN_STATUSES,
    DomainNotFound,
    describe_package,
    domain_packages,
    error_code,
    error_message,
    failure_message,
    find_domain_package,
    is_transient,
    package_gone,
)
from .outcome import Done, Outcome, ResourceFailure
from .phases import run_phases
from .props import AssociationProps, association_props
from .waiting import NotYet

if TYPE_CHECKING:
    from types_boto3_opensearch.type_defs import DomainPackageDetailsTypeDef

__all__ = ["AssociationLifecycle", "association_data"]

logger = logging.getLogger(__name__)

_IN_PROGRESS_STATUSES = frozenset({"COPYING", "VALIDATING"})
_UNUSABLE_STATUSES = frozenset(
    {"COPY_FAILED", "VALIDATION_FAILED", "DELETING", "DELETED", "DELETE_FAILED"}
)
#: How long a package may be missing from DescribePackages (eventual consistency).
MISSING_GRACE_SECONDS = 30.0
_ALREADY_DONE = "already in desired state"
#: What the service says when the domain does not have the package (a ValidationException).
_NOT_ASSOCIATED = "is not associated to this domain"
_IN_PROGRESS = "in progress"
#: Properties AssociatePackage cannot change on an existing association.
_SETTINGS = ("PrerequisitePackageIDList", "AssociationConfiguration")


def association_data(details: DomainPackageDetailsTypeDef, domain_name: str) -> dict[str, str]:
    """Return the resource's attributes: ReferencePath, PackageVersion, DomainName, PackageID."""
    return {
        "ReferencePath": str(details.get("ReferencePath", "")),
        "PackageVersion": str(details.get("PackageVersion", "")),
        "DomainName": domain_name,
        "PackageID": str(details.get("PackageID", "")),
    }


def _props(job: Job) -> AssociationProps:
    return association_props(job.request.props, job.opensearch.meta.service_model)


def _association_failed(details: DomainPackageDetailsTypeDef, domain_name: str) -> ResourceFailure:
    status = details.get("DomainPackageStatus", "?")
    message = failure_message(details) or f"the association ended in status {status}"
    return ResourceFailure(
        f"{message} (package {details.get('PackageID', '?')} on domain {domain_name}, "
        f"status {status})"
    )


def _settings(props: Mapping[str, Any]) -> dict[str, Any]:
    """The association's settings, comparable (prerequisites as a sorted list)."""
    prerequisites = props.get("PrerequisitePackageIDList") or []
    return {
        "PrerequisitePackageIDList": sorted(str(p) for p in prerequisites),
        "AssociationConfiguration": props.get("AssociationConfiguration") or {},
    }


#: Refusals whose meaning the domain's state decides (the service's codes for "busy" and the
#: like are undocumented; the domain-config analogue of "busy" is a ValidationException).
_STATE_DECIDES = frozenset({"ConflictException", "ValidationException"})


def _listing(job: Job, domain_name: str) -> list[DomainPackageDetailsTypeDef]:
    """The domain's associations (none when the domain does not exist)."""
    try:
        return list(domain_packages(job.opensearch, domain_name))
    except DomainNotFound:
        return []


def _entry(
    listing: list[DomainPackageDetailsTypeDef], package_id: str
) -> DomainPackageDetailsTypeDef | None:
    return next((d for d in listing if d.get("PackageID") == package_id), None)


def _domain_busy(listing: list[DomainPackageDetailsTypeDef], message: str) -> bool:
    """Whether a refusal means "another package operation is running on the domain" (retry)
    rather than one that will not go away (fail)."""
    if _IN_PROGRESS in message.lower():
        return True
    return any(d.get("DomainPackageStatus") in BUSY_DOMAIN_STATUSES for d in listing)


def _already_active(details: DomainPackageDetailsTypeDef | None, wanted: str | None) -> bool:
    """Whether the domain already runs the package ACTIVE (with the wanted version)."""
    if details is None or details.get("DomainPackageStatus") != "ACTIVE":
        return False
    return wanted is None or details.get("PackageVersion") == wanted


class AssociationLifecycle:
    """Associate packages with domains (``Custom::OpenSearchPackageAssociation``)."""

    def create(self, job: Job) -> Outcome:
        """Wait for the package, associate it and wait until ACTIVE."""
        props = _props(job)
        logger.info("associating package %s with domain %s", props.package_id, props.domain_name)
        job.state.update(op="associate", phase="package")
        return self._run(job)

    def update(self, job: Job) -> Outcome:
        """Associate again: a new pair gets a new physical id, the same pair a new version."""
        props = _props(job)
        current = parse_association_physical_id(job.request.physical_id)
        same_pair = current == (props.domain_name, props.package_id)
        if same_pair and _settings(job.request.props) != _settings(job.request.old_props):
            logger.info(
                "the prerequisites or the association configuration of package %s on domain %s "
                "changed: dissociating it, then associating it with the new settings",
                props.package_id,
                props.domain_name,
            )
            job.state.update(
                op="reassociate",
                phase="dissociate",
                domain_name=props.domain_name,
                package_id=props.package_id,
            )
            return self._run(job)
        if same_pair:
            logger.info(
                "re-associating package %s with domain %s (version %s)",
                props.package_id,
                props.domain_name,
                props.package_version or "latest",
            )
        else:
            logger.info(
                "associating package %s with domain %s (a new association replaces %r)",
                props.package_id,
                props.domain_name,
                job.request.physical_id,
            )
        job.state.update(op="associate", phase="package")
        return self._run(job)

    def delete(self, job: Job) -> Outcome:
        """Dissociate and wait until the package is no longer listed for the domain."""
        physical_id = job.request.physical_id
        pair = parse_association_physical_id(physical_id)
        if physical_id is None or pair is None:
            logger.info("the physical id is not an association: nothing to dissociate")
            return Done(physical_id or "")
        domain_name, package_id = pair
        job.state.update(
            op="dissociate", phase="dissociate", domain_name=domain_name, package_id=package_id
        )
        return self._run(job)

    def resume(self, job: Job) -> Outcome:
        """Continue the operation recorded in ``job.state``."""
        return self._run(job)

    def _run(self, job: Job) -> Outcome:
        return run_phases(
            job,
            {
                "package": self._package,
                "associate": self._associate,
                "active": self._active,
                "dissociate": self._dissociate,
                "gone": self._gone,
            },
        )

    # associate ----------------------------------------------------------------------------

    def _package(self, job: Job) -> None:
        package_id = _props(job).package_id
        missing_since: list[float] = []

        def probe() -> bool | NotYet:
            details = describe_package(job.opensearch, package_id)
            if details is None:
                if package_id.startswith("G"):
                    return True  # AWS-provided packages need not be listed
                now = job.waiter.clock.now()
                missing_since.append(now)
                if now - missing_since[0] < MISSING_GRACE_SECONDS:
                    return NotYet("package not visible yet")
                raise ResourceFailure(
                    f"package {package_id} does not exist: it cannot be associated"
                )
            status = details.get("PackageStatus", "")
            if status == "AVAILABLE":
                return True
            if status in _UNUSABLE_STATUSES:
                message = failure_message(details)
                raise ResourceFailure(
                    f"{message + ' ' if message else ''}(package {package_id}, status {status}: "
                    "it cannot be associated)"
                )
            return NotYet(f"package status {status}")

        job.waiter.until(probe, f"package {package_id} to become AVAILABLE before associating it")
        job.state["phase"] = "associate"

    def _associate(self, job: Job) -> None:
        props = _props(job)
        kwargs = props.associate_kwargs()

        def attempt() -> bool | NotYet:
            try:
                job.opensearch.associate_package(**kwargs)
            except ClientError as error:
                code = error_code(error)
                if is_transient(error) or code not in _STATE_DECIDES:
                    raise
                message = error_message(error)
                if _ALREADY_DONE in message.lower():
                    logger.info("AssociatePackage: %s", message)
                    return True
                listing = _listing(job, props.domain_name)
                if _already_active(_entry(listing, props.package_id), props.package_version):
                    logger.info("AssociatePackage: %s (already ACTIVE on the domain)", message)
                    return True
                if _domain_busy(listing, message):
                    return NotYet(f"the domain is busy: {message}")
                raise ResourceFailure(
                    f"{message} ({code} from AssociatePackage of {props.package_id} with domain "
                    f"{props.domain_name})"
                ) from error
            return True

        job.waiter.until(
            attempt, f"AssociatePackage of {props.package_id} with domain {props.domain_name}"
        )
        job.state.update(
            phase="active",
            physical_id=association_physical_id(props.domain_name, props.package_id),
        )

    def _active(self, job: Job) -> Outcome:
        props = _props(job)
        domain_name, package_id, wanted = props.domain_name, props.package_id, props.package_version

        def probe() -> DomainPackageDetailsTypeDef | NotYet:
            try:
                details = find_domain_package(job.opensearch, domain_name, package_id)
            except DomainNotFound as error:
                raise ResourceFailure(f"{error} (domain {domain_name})") from error
            if details is None:
                return NotYet("not listed for the domain yet")
            status = details.get("DomainPackageStatus", "")
            version = details.get("PackageVersion", "")
            if status == "ASSOCIATION_FAILED":
                raise _association_failed(details, domain_name)
            if status == "ACTIVE" and (wanted is None or version == wanted):
                return details
            return NotYet(f"status {status}, version {version or '-'}")

        what = f"package {package_id} to be ACTIVE on domain {domain_name}"
        details = job.waiter.until(probe, what + (f" with version {wanted}" if wanted else ""))
        logger.info("package %s is ACTIVE on domain %s", package_id, domain_name)
        return Done(
            association_physical_id(domain_name, package_id),
            association_data(details, domain_name),
        )

    # dissociate ---------------------------------------------------------------------------

    def _dissociate(self, job: Job) -> Outcome | None:
        domain_name = str(job.state["domain_name"])
        package_id = str(job.state["package_id"])

        def attempt() -> bool | NotYet:
            try:
                job.opensearch.dissociate_package(PackageID=package_id, DomainName=domain_name)
            except ClientError as error:
                if is_transient(error):
                    raise
                message = error_message(error)
                code = error_code(error)
                if package_gone(error) or _NOT_ASSOCIATED in message.lower():
                    logger.info("DissociatePackage: %s (nothing to dissociate)", message)
                    return False
                if code not in _STATE_DECIDES:
                    raise
                listing = _listing(job, domain_name)
                details = _entry(listing, package_id)
                if details is None:
                    logger.info(
                        "DissociatePackage: %s (not listed: nothing to dissociate)", message
                    )
                    return False
                if details.get("DomainPackageStatus") == "DISSOCIATING":
                    return True  # an earlier try was applied (its answer was lost)
                if _domain_busy(listing, message):
                    return NotYet(f"the domain is busy: {message}")
                raise ResourceFailure(
                    f"{message} ({code} from DissociatePackage of {package_id} from domain "
                    f"{domain_name})"
                ) from error
            return True

        if not job.waiter.until(
            attempt, f"DissociatePackage of {package_id} from domain {domain_name}"
        ):
            return self._dissociated(job, domain_name, package_id)
        job.state["phase"] = "gone"
        return None

    @staticmethod
    def _dissociated(job: Job, domain_name: str, package_id: str) -> Outcome | None:
        """End a dissociation: a Delete is done; a re-association goes on to associate."""
        if job.state.get("op") == "reassociate":
            job.state["phase"] = "package"
            return None
        return Done(association_physical_id(domain_name, package_id))

    def _gone(self, job: Job) -> Outcome | None:
        domain_name = str(job.state["domain_name"])
        package_id = str(job.state["package_id"])

        def probe() -> bool | NotYet:
            try:
                details = find_domain_package(job.opensearch, domain_name, package_id)
            except DomainNotFound:
                return True
            if details is None:
                return True
            status = details.get("DomainPackageStatus", "")
            if status == "DISSOCIATION_FAILED":
                raise _association_failed(details, domain_name)
            if status == "DISSOCIATING" and details.get("PackageType") == "ZIP-PLUGIN":
                # AWS: uninstalling a plugin an index still uses leaves the blue/green
                # deployment in Processing (no failed status): say so if the wait times out.
                return NotYet(
                    "status DISSOCIATING; a plugin that an index still uses keeps the domain's "
                    "blue/green deployment in Processing: remove it from the index settings"
                )
            return NotYet(f"status {status}")

        job.waiter.until(probe, f"package {package_id} to leave domain {domain_name}")
        logger.info("package %s is dissociated from domain %s", package_id, domain_name)
        return self._dissociated(job, domain_name, package_id)
