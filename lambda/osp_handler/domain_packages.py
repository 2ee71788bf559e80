"""The lifecycle of ``Custom::OpenSearchDomainPackages``: a domain's package set, applied in as
few domain operations as the service allows.

A domain runs one package operation at a time, and a plugin's is a blue/green deployment of the
whole domain. The resource holds every package a stack associates with one domain
(``PackageList``) and applies a change with at most one DissociatePackages (what left the set,
or must be associated again with new settings) followed by one AssociatePackages (what is new,
has a new version, or lost its association), prerequisites in the same batch (the API
reference: "before or simultaneously").

Every step works from what ``ListPackagesForDomain`` shows, not from what an earlier invocation
believes it did, so a lost answer, a redelivered request or a killed invocation converges on the
intended set: a probe lists the domain; when the work is done it ends; while the domain runs any
package operation it waits; otherwise it sends the batch of what is still missing (or still
there). Phases (``job.state``):

- ``packages``: wait until every package is AVAILABLE; record the version to wait for: the
  package's ``AvailablePackageVersion`` (``OspPackageVersion`` makes CloudFormation send the
  update; on a rollback it names a version the package's own rollback has superseded);
- ``leave``: DissociatePackages of the listed ids in ``state["leave"]`` until none is listed
  (dissociating a plugin also removes its license and configuration packages: they simply
  disappear; "not associated" answers are the same news);
- ``join``: AssociatePackages of the entries not yet ACTIVE with their version (plugin before
  the packages listing it); an entry this request sent that ends ASSOCIATION_FAILED fails the
  resource with its name and the service's message.

Create and Update run ``packages`` -> ``leave`` -> ``join``; Delete runs ``leave`` with every
id of the set.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from .job import Job
from .names import domain_packages_physical_id, parse_domain_packages_physical_id
from .opensearch_api import (
    BUSY_DOMAIN_STATUSES,
    DomainNotFound,
    describe_package,
    domain_packages,
    error_code,
    error_message,
    failure_message,
    is_transient,
    not_associated,
)
from .outcome import Done, Outcome, ResourceFailure
from .package import DELETION_STATUSES, FAILED_STATUSES, _Presence
from .phases import run_phases
from .props import DomainPackageEntry, DomainPackagesProps, domain_packages_props
from .waiting import NotYet

if TYPE_CHECKING:
    from types_boto3_opensearch.type_defs import DomainPackageDetailsTypeDef

__all__ = ["DomainPackagesLifecycle", "prerequisites_first"]

logger = logging.getLogger(__name__)

_IN_PROGRESS = "in progress"
_ALREADY_DONE = "already in desired state"
#: Refusals whose meaning the domain's listing decides: the service's codes for "busy" and the
#: like are undocumented (the domain-config analogue of "busy" is a ValidationException).
_STATE_DECIDES = frozenset({"ConflictException", "ValidationException"})
#: Package statuses that can never become AVAILABLE (the package lifecycle's).
_UNUSABLE_STATUSES = FAILED_STATUSES | DELETION_STATUSES


def _props(job: Job) -> DomainPackagesProps:
    return domain_packages_props(job.request.props, job.opensearch.meta.service_model)


def _old_props(job: Job) -> DomainPackagesProps:
    return domain_packages_props(
        job.request.old_props, job.opensearch.meta.service_model, lenient=True
    )


def _listed(job: Job, domain_name: str) -> dict[str, DomainPackageDetailsTypeDef]:
    return {
        str(details.get("PackageID", "")): details
        for details in domain_packages(job.opensearch, domain_name)
    }


def _busy(listed: Mapping[str, DomainPackageDetailsTypeDef]) -> str | None:
    """A package operation the domain is running (``"<id> <status>"``), else ``None``."""
    for package_id, details in listed.items():
        status = details.get("DomainPackageStatus", "")
        if status in BUSY_DOMAIN_STATUSES:
            return f"{package_id} {status}"
    return None


def _describe(details: DomainPackageDetailsTypeDef) -> str:
    name = details.get("PackageName")
    package_id = details.get("PackageID", "?")
    return f"{name} ({package_id})" if name else str(package_id)


def _failed(
    details: DomainPackageDetailsTypeDef, domain_name: str, default: str
) -> ResourceFailure:
    """The failure of an association that ended ``*_FAILED`` (the service's message first)."""
    return ResourceFailure(
        f"{failure_message(details) or default} (package {_describe(details)} on domain "
        f"{domain_name}, status {details.get('DomainPackageStatus', '')})"
    )


def _settings_match(
    entry: DomainPackageEntry, details: DomainPackageDetailsTypeDef, *, strict: bool = False
) -> bool:
    """Whether the association carries the entry's prerequisites and configuration (when not
    ``strict``, a configuration the service does not report is taken as matching)."""
    listed = sorted(str(p) for p in details.get("PrerequisitePackageIDList") or [])
    if listed != sorted(entry.prerequisites):
        return False
    reported = details.get("AssociationConfiguration")
    if reported is None:
        return not strict or not entry.configuration
    return dict(reported) == (entry.configuration or {})


def prerequisites_first(entries: Sequence[DomainPackageEntry]) -> list[DomainPackageEntry]:
    """The entries, each after the entries it lists as prerequisites (AWS's recipe: the plugin
    first, then its license and configuration); otherwise in the given order."""
    by_id = {entry.package_id: entry for entry in entries}
    ordered: list[DomainPackageEntry] = []
    placed: set[str] = set()

    def place(entry: DomainPackageEntry, path: frozenset[str]) -> None:
        if entry.package_id in placed or entry.package_id in path:
            return
        for prerequisite in entry.prerequisites:
            if prerequisite in by_id:
                place(by_id[prerequisite], path | {entry.package_id})
        placed.add(entry.package_id)
        ordered.append(entry)

    for entry in entries:
        place(entry, frozenset())
    return ordered


class DomainPackagesLifecycle:
    """Keep a domain's package set (``Custom::OpenSearchDomainPackages``)."""

    def create(self, job: Job) -> Outcome:
        """Associate every package of the set in one AssociatePackages."""
        props = _props(job)
        logger.info(
            "associating %d package(s) with domain %s", len(props.entries), props.domain_name
        )
        job.state.update(op="apply", phase="packages", leave=[], sent=[])
        return self._run(job)

    def update(self, job: Job) -> Outcome:
        """Dissociate what left the set (or changed settings), then associate what changed."""
        props = _props(job)
        old = _old_props(job)
        previous_domain = parse_domain_packages_physical_id(job.request.physical_id)
        leave: list[str] = []
        if previous_domain == props.domain_name:
            wanted = {entry.package_id: entry for entry in props.entries}
            leave = [e.package_id for e in old.entries if e.package_id not in wanted]
            resettle = [
                entry.package_id
                for entry in old.entries
                if entry.package_id in wanted
                and entry.settings() != wanted[entry.package_id].settings()
            ]
            if resettle:
                listed = _listed_or_none(job, props.domain_name) or {}
                resettle = [
                    package_id
                    for package_id in resettle
                    if package_id in listed
                    and not _settings_match(wanted[package_id], listed[package_id], strict=True)
                ]
            leave += resettle
            logger.info(
                "domain %s: %d package(s) leave the set%s",
                props.domain_name,
                len(leave),
                f" ({len(resettle)} to associate again with new settings)" if resettle else "",
            )
        else:
            logger.info(
                "the set moves to domain %s (CloudFormation dissociates the old domain's set)",
                props.domain_name,
            )
        job.state.update(op="apply", phase="packages", leave=leave, sent=[])
        return self._run(job)

    def delete(self, job: Job) -> Outcome:
        """Dissociate every package of the set in one DissociatePackages."""
        physical_id = job.request.physical_id
        domain_name = parse_domain_packages_physical_id(physical_id)
        if physical_id is None or domain_name is None:
            logger.info("the physical id is not a package set: nothing to dissociate")
            return Done(physical_id or "")
        props = domain_packages_props(
            job.request.props, job.opensearch.meta.service_model, lenient=True
        )
        job.state.update(
            op="delete",
            phase="leave",
            domain_name=domain_name,
            leave=[entry.package_id for entry in props.entries],
        )
        return self._run(job)

    def resume(self, job: Job) -> Outcome:
        """Continue the operation recorded in ``job.state``."""
        return self._run(job)

    def _run(self, job: Job) -> Outcome:
        return run_phases(
            job, {"packages": self._packages, "leave": self._leave, "join": self._join}
        )

    # packages ------------------------------------------------------------------------------

    def _packages(self, job: Job) -> None:
        props = _props(job)
        versions: dict[str, str] = dict(job.state.get("versions") or {})
        presence: dict[str, _Presence] = {}

        def probe() -> bool | NotYet:
            for entry in props.entries:
                if entry.package_id in versions:
                    continue
                status = self._package_status(job, entry, presence, versions)
                if status is not None:
                    job.state["versions"] = versions
                    return NotYet(status)
            return True

        job.waiter.until(probe, f"the {len(props.entries)} package(s) to become AVAILABLE")
        job.state.update(versions=versions, phase="leave", domain_name=props.domain_name)

    @staticmethod
    def _package_status(
        job: Job,
        entry: DomainPackageEntry,
        presence: dict[str, _Presence],
        versions: dict[str, str],
    ) -> str | None:
        """Record the version to wait for once the package is AVAILABLE (``None``), else say
        what it is doing."""
        package_id = entry.package_id
        details = describe_package(job.opensearch, package_id)
        if details is None:
            if package_id.startswith("G"):  # AWS-provided packages need not be listed
                versions[package_id] = entry.package_version or ""
                return None
            gone = f"package {package_id} does not exist: it cannot be associated"
            waiting = presence.setdefault(package_id, _Presence(job, package_id, gone)).missing()
            return f"package {package_id} {waiting.status}"
        status = details.get("PackageStatus", "")
        if status == "AVAILABLE":
            # The package's version now, not OspPackageVersion: a rollback sends the version
            # the package had before, which its own rollback has replaced with a new one.
            available = str(details.get("AvailablePackageVersion") or "")
            if entry.package_version and available and entry.package_version != available:
                logger.info(
                    "package %s is at %s (the properties say %s): rolling out %s",
                    package_id,
                    available,
                    entry.package_version,
                    available,
                )
            versions[package_id] = available or entry.package_version or ""
            return None
        if status in _UNUSABLE_STATUSES:
            message = failure_message(details)
            raise ResourceFailure(
                f"{message + ' ' if message else ''}(package {details.get('PackageName', '')} "
                f"{package_id}, status {status}: it cannot be associated)"
            )
        return f"package {package_id} is {status}"

    # leave ---------------------------------------------------------------------------------

    def _leave(self, job: Job) -> Outcome | None:
        domain_name = str(job.state["domain_name"])
        leave = [str(p) for p in job.state.get("leave") or []]
        sent: set[str] = set()

        def probe() -> bool | NotYet:
            try:
                listed = _listed(job, domain_name)
            except DomainNotFound:
                return True
            remaining = [p for p in leave if p in listed]
            if not remaining:
                return True
            for package_id in remaining:
                details = listed[package_id]
                if details.get("DomainPackageStatus") == "DISSOCIATION_FAILED" and (
                    package_id in sent
                ):
                    raise _failed(details, domain_name, "the dissociation failed")
            busy = _busy(listed)
            if busy is not None:
                return NotYet(_busy_status(busy, listed, remaining))
            self._dissociate(job, domain_name, remaining)
            sent.update(remaining)
            return NotYet(f"dissociating {', '.join(remaining)}")

        if leave:
            job.waiter.until(probe, f"{len(leave)} package(s) to leave domain {domain_name}")
            logger.info("domain %s: %s dissociated", domain_name, ", ".join(leave))
        if job.state.get("op") == "delete":
            return Done(domain_packages_physical_id(domain_name))
        job.state["phase"] = "join"
        return None

    @staticmethod
    def _dissociate(job: Job, domain_name: str, package_ids: list[str]) -> None:
        """One DissociatePackages. A refusal is decided by the domain's listing (the next probe
        lists it again): nothing of the batch listed, or an operation running, means "list
        again"; anything else fails."""
        logger.info("DissociatePackages %s from domain %s", ", ".join(package_ids), domain_name)
        try:
            job.opensearch.dissociate_packages(DomainName=domain_name, PackageList=package_ids)
        except ClientError as error:
            if is_transient(error):
                raise
            message = error_message(error)
            if not_associated(error):
                # Already gone (a plugin's license and configuration leave with it): list again.
                logger.info("DissociatePackages: %s (not associated: list again)", message)
                return
            code = error_code(error)
            if code in _STATE_DECIDES:
                listed = _listed_or_none(job, domain_name)
                if listed is None or _busy(listed) is not None:
                    logger.info("DissociatePackages: %s (the domain is busy)", message)
                    return
                if not any(package_id in listed for package_id in package_ids):
                    logger.info("DissociatePackages: %s (none is listed any more)", message)
                    return
            raise ResourceFailure(
                f"{message} ({code} from DissociatePackages of {', '.join(package_ids)} from "
                f"domain {domain_name})"
            ) from error

    # join ----------------------------------------------------------------------------------

    def _join(self, job: Job) -> Outcome:
        props = _props(job)
        domain_name = props.domain_name
        versions = {str(k): str(v) for k, v in (job.state.get("versions") or {}).items()}
        sent = {str(p) for p in job.state.get("sent") or []}
        physical_id = domain_packages_physical_id(domain_name)

        def probe() -> dict[str, DomainPackageDetailsTypeDef] | NotYet:
            try:
                listed = _listed(job, domain_name)
            except DomainNotFound as error:
                raise ResourceFailure(f"{error} (domain {domain_name})") from error
            missing: list[DomainPackageEntry] = []
            waiting = False
            for entry in props.entries:
                details = listed.get(entry.package_id)
                state = self._entry_state(entry, details, versions.get(entry.package_id), sent)
                if state == "missing":
                    missing.append(entry)
                elif state == "waiting":
                    waiting = True
                elif state == "failed":
                    assert details is not None
                    raise _failed(details, domain_name, "the association failed")
            if not missing and not waiting:
                return listed
            busy = _busy(listed)
            if busy is not None:
                return NotYet(f"the domain is running a package operation ({busy})")
            self._associate(job, domain_name, missing)
            sent.update(entry.package_id for entry in missing)
            job.state.update(sent=sorted(sent), physical_id=physical_id)
            return NotYet(f"associating {', '.join(e.package_id for e in missing)}")

        listed = job.waiter.until(
            probe, f"the {len(props.entries)} package(s) to be ACTIVE on domain {domain_name}"
        )
        logger.info("domain %s runs its %d package(s)", domain_name, len(props.entries))
        return Done(physical_id, _data(props, listed))

    @staticmethod
    def _entry_state(
        entry: DomainPackageEntry,
        details: DomainPackageDetailsTypeDef | None,
        version: str | None,
        sent: set[str],
    ) -> str:
        """``done``, ``waiting`` (an operation runs on it), ``failed`` or ``missing``."""
        if details is None:
            return "missing"
        status = details.get("DomainPackageStatus", "")
        if status in BUSY_DOMAIN_STATUSES:
            return "waiting"
        if status == "ASSOCIATION_FAILED":
            return "failed" if entry.package_id in sent else "missing"
        if status != "ACTIVE":
            return "missing"
        if version and details.get("PackageVersion") != version:
            return "missing"
        if entry.package_id not in sent and not _settings_match(entry, details):
            return "missing"
        return "done"

    @staticmethod
    def _associate(job: Job, domain_name: str, entries: list[DomainPackageEntry]) -> None:
        """One AssociatePackages of ``entries`` (each after its prerequisites). A refusal is
        decided by the domain's listing: "already in desired state", or an operation running,
        means "list again" (the next probe decides); anything else fails."""
        batch = prerequisites_first(entries)
        logger.info(
            "AssociatePackages %s with domain %s",
            ", ".join(entry.package_id for entry in batch),
            domain_name,
        )
        try:
            job.opensearch.associate_packages(
                DomainName=domain_name,
                PackageList=cast("Any", [entry.api_entry() for entry in batch]),
            )
        except ClientError as error:
            if is_transient(error):
                raise
            message = error_message(error)
            code = error_code(error)
            if code in _STATE_DECIDES:
                if _ALREADY_DONE in message.lower() or _IN_PROGRESS in message.lower():
                    logger.info("AssociatePackages: %s", message)
                    return
                listed = _listed_or_none(job, domain_name)
                if listed is not None and _busy(listed) is not None:
                    logger.info("AssociatePackages: %s (the domain is busy)", message)
                    return
            raise ResourceFailure(
                f"{message} ({code} from AssociatePackages of "
                f"{', '.join(e.package_id for e in batch)} with domain {domain_name})"
            ) from error


def _listed_or_none(job: Job, domain_name: str) -> dict[str, DomainPackageDetailsTypeDef] | None:
    """The domain's listing, ``None`` when the domain does not exist."""
    try:
        return _listed(job, domain_name)
    except DomainNotFound:
        return None


def _busy_status(
    busy: str, listed: Mapping[str, DomainPackageDetailsTypeDef], leaving: list[str]
) -> str:
    """What a wait for a busy domain reports; a plugin of the set still DISSOCIATING gets the
    hint AWS documents (an index that still uses it keeps the blue/green deployment in
    Processing), so a timeout says why."""
    for package_id in leaving:
        details = listed.get(package_id) or {}
        if (
            details.get("DomainPackageStatus") == "DISSOCIATING"
            and details.get("PackageType") == "ZIP-PLUGIN"
        ):
            return (
                f"plugin {package_id} is DISSOCIATING; a plugin that an index still uses keeps "
                "the domain's blue/green deployment in Processing: remove it from the index "
                "settings"
            )
    return f"the domain is running a package operation ({busy})"


def _data(
    props: DomainPackagesProps, listed: Mapping[str, DomainPackageDetailsTypeDef]
) -> dict[str, str]:
    """The attributes: ``DomainName``, ``PackageIDs`` and ``<key>.ReferencePath``,
    ``<key>.PackageVersion``, ``<key>.PackageID`` of each entry."""
    data = {
        "DomainName": props.domain_name,
        "PackageIDs": ",".join(entry.package_id for entry in props.entries),
    }
    for entry in props.entries:
        details = listed.get(entry.package_id) or {}
        data.update(
            {
                f"{entry.key}.ReferencePath": str(details.get("ReferencePath", "")),
                f"{entry.key}.PackageVersion": str(details.get("PackageVersion", "")),
                f"{entry.key}.PackageID": entry.package_id,
            }
        )
    return data
