"""The lifecycle of ``Custom::OpenSearchPackage``: create, update (in place or replacement), delete.

Operations and their phases (recorded in ``job.state`` so a polling invocation resumes them):

- ``create``: ``create`` (CreatePackage, or adopt the package of a redelivered request) ->
  ``available`` (wait until AVAILABLE). A package that ends COPY_FAILED/VALIDATION_FAILED, or is
  still not AVAILABLE at the deadline, is deleted (best effort) and the resource fails.
- ``update``: ``update`` (UpdatePackage, unless the package is already COPYING/VALIDATING because
  the request was delivered twice) -> ``new-version`` (wait until AVAILABLE with a new
  AvailablePackageVersion) or ``available``; ``current`` when nothing relevant changed.
- ``delete``: ``delete`` (DeletePackage) -> ``gone``; ``settle`` first while the package is
  still COPYING/VALIDATING.

Once a created or updated package is AVAILABLE, its sharing follows ``AllowListedUserList``
(UpdatePackageScope, see :meth:`PackageProps.scope_kwargs`): only when the property is given, or
was given before this update; the package's own ``AllowListedUserList`` decides whether a call
is needed, so a redelivered or resumed request calls it at most once more, with the same effect.
A package is deleted without being unshared first (no evidence that the service requires it).
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from .job import Job
from .names import generated_package_name, is_package_id
from .opensearch_api import (
    describe_package,
    domains_for_package,
    error_code,
    error_message,
    failure_message,
    find_package_by_name,
    is_transient,
    package_gone,
    pages,
)
from .outcome import Done, Outcome, ResourceFailure
from .phases import run_phases
from .props import ALLOW_LIST_PROPERTY, PackageProps, package_props
from .waiting import NotYet, WaitTimeout

if TYPE_CHECKING:
    from types_boto3_opensearch.type_defs import PackageDetailsTypeDef

__all__ = ["PackageFailed", "PackageLifecycle", "package_data"]

logger = logging.getLogger(__name__)

IN_PROGRESS_STATUSES = frozenset({"COPYING", "VALIDATING"})
FAILED_STATUSES = frozenset({"COPY_FAILED", "VALIDATION_FAILED"})
DELETION_STATUSES = frozenset({"DELETING", "DELETED", "DELETE_FAILED"})
#: How long a package may be missing from DescribePackages right after it was created or
#: updated (eventual consistency) before that means it was deleted.
MISSING_GRACE_SECONDS = 30.0
#: How long DeletePackage may conflict while no domain lists the package but as DISSOCIATING
#: (the dissociation that CloudFormation just finished can take a moment to reach the package).
DISSOCIATION_GRACE_SECONDS = 60.0
#: CreatePackage refusals after which the packages of the requested name decide whether the
#: name is taken (the model's code is ResourceAlreadyExistsException; the message and whether
#: the service uses it for every kind of duplicate are undocumented).
_NAME_TAKEN_CODES = frozenset(
    {"ResourceAlreadyExistsException", "ValidationException", "ConflictException"}
)
#: A package of the requested (explicit) name is adopted as "made by this very request,
#: delivered twice" only when it was created at most ServiceTimeout + this slack ago.
ADOPTION_SLACK_SECONDS = 600


class PackageFailed(ResourceFailure):
    """The package ended in a failed status; the service's message comes first."""

    def __init__(self, details: PackageDetailsTypeDef) -> None:
        package_id = details.get("PackageID", "?")
        status = details.get("PackageStatus", "?")
        message = failure_message(details) or f"the package ended in status {status}"
        super().__init__(f"{message} (package {package_id}, status {status})")


def package_data(details: PackageDetailsTypeDef) -> dict[str, str]:
    """Return the resource's attributes: PackageID, PackageName, PackageType, PackageVersion."""
    return {
        "PackageID": str(details.get("PackageID", "")),
        "PackageName": str(details.get("PackageName", "")),
        "PackageType": str(details.get("PackageType", "")),
        "PackageVersion": str(details.get("AvailablePackageVersion", "")),
    }


def _props(job: Job) -> PackageProps:
    return package_props(job.request.props, job.opensearch.meta.service_model)


def _domains_using(job: Job, package_id: str) -> list[tuple[str, str]] | None:
    """The domains ListDomainsForPackage lists for the package, with their association status;
    ``None`` when it cannot be listed."""
    try:
        return domains_for_package(job.opensearch, package_id)
    except ClientError as error:
        if is_transient(error):
            raise
        logger.warning("ListDomainsForPackage of %s failed: %s", package_id, error_message(error))
        return None


class _Presence:
    """Tells "not visible yet" (eventual consistency) from "deleted" for a package.

    :param gone: the failure once the package has been missing too long. Default: it was
        deleted outside this stack.
    """

    def __init__(self, job: Job, package_id: str, gone: str | None = None) -> None:
        self._job = job
        self._package_id = package_id
        self._gone = gone
        self._missing_since: float | None = None

    def missing(self) -> NotYet:
        """Record that the package is missing; fail once it has been missing too long."""
        now = self._job.waiter.clock.now()
        if self._missing_since is None:
            self._missing_since = now
        if now - self._missing_since < MISSING_GRACE_SECONDS:
            return NotYet("not visible yet")
        raise ResourceFailure(
            self._gone
            or f"package {self._package_id} does not exist any more (was it deleted outside "
            "this stack?)"
        )


def update_commit_message(request_id: str) -> str:
    """The ``CommitMessage`` of the version a request makes: the request's idempotency key."""
    return f"cdk-opensearch-packages: CloudFormation request {request_id}"


def _version_made_by(job: Job, package_id: str, commit_message: str) -> str | None:
    """Return the package version whose ``CommitMessage`` is ``commit_message``, if any."""

    def history_page(**kwargs: Any) -> Any:
        return job.waiter.call(
            functools.partial(job.opensearch.get_package_version_history, **kwargs),
            f"GetPackageVersionHistory of {package_id}",
        )

    for page in pages(history_page, PackageID=package_id):
        for entry in page.get("PackageVersionHistoryList", []):
            if entry.get("CommitMessage") == commit_message:
                return str(entry.get("PackageVersion", ""))
    return None


def _is_as_requested(details: PackageDetailsTypeDef, props: PackageProps) -> bool:
    """Whether the package has the name, type, engine and vending ``props`` ask for."""
    vending = details.get("PackageVendingOptions", {}).get("VendingEnabled", False)
    return (
        details.get("PackageName") == props.explicit_name
        and details.get("PackageType") == props.package_type
        and (not props.engine_version or details.get("EngineVersion") == props.engine_version)
        and vending is props.vending_enabled
    )


def _new_plugin_engine(new: PackageProps, old: PackageProps) -> bool:
    """Whether a replacement makes a ZIP-PLUGIN for another engine version: its name may stay,
    because plugin names are unique per engine version (AWS's upgrade guide has users create
    a plugin package with the same name for each new engine version)."""
    return (
        new.package_type == old.package_type == "ZIP-PLUGIN"
        and bool(new.engine_version)
        and new.engine_version != old.engine_version
    )


class PackageLifecycle:
    """Create, update and delete OpenSearch Service packages (``Custom::OpenSearchPackage``)."""

    def create(self, job: Job) -> Outcome:
        """Create the package (``PackageName`` or a generated name) and wait until AVAILABLE."""
        _props(job)  # fail on bad properties before anything else
        job.state.update(op="create", phase="create")
        return self._run(job)

    def update(self, job: Job) -> Outcome:
        """Replace the package, update it in place, or report it unchanged (see the module doc)."""
        request = job.request
        package_id = request.physical_id
        if package_id is None or not is_package_id(package_id):
            logger.info("the physical id is not a package id: creating the package")
            return self.create(job)
        model = job.opensearch.meta.service_model
        new = package_props(request.props, model)
        old = package_props(request.old_props, model, lenient=True)
        replacing = new.replacing_changes(old)
        if (
            replacing
            and new.explicit_name is not None
            and new.explicit_name == old.explicit_name
            and not _new_plugin_engine(new, old)
        ):
            details = job.waiter.call(
                lambda: describe_package(job.opensearch, package_id),
                f"DescribePackages {package_id}",
            )
            if details is not None and _is_as_requested(details, new):
                # CloudFormation rolls a refused update back with an Update to the old
                # properties: the refused request changed nothing, so nothing is to be done.
                logger.info("package %s already is as requested: rollback, no change", package_id)
                return Done(package_id, package_data(details))
            raise ResourceFailure(
                f"{'; '.join(replacing)} replaces package {package_id}, but PackageName "
                f"{new.explicit_name!r} did not change and package names are unique per "
                "account and Region (the new package is created before the old one is "
                "deleted)",
                remedy="change package_name, or omit it to get a generated one",
            )
        if replacing:
            logger.info("replacing package %s: %s", package_id, "; ".join(replacing))
            job.state.update(op="create", phase="create", replaces=package_id)
            return self._run(job)
        changed = new.updating_changes(old)
        job.state.update(op="update", package_id=package_id)
        if changed:
            logger.info("updating package %s in place: %s changed", package_id, ", ".join(changed))
            job.state["phase"] = "update"
        else:
            logger.info("no change of package %s that the service needs to know", package_id)
            job.state["phase"] = "current"
        return self._run(job)

    def delete(self, job: Job) -> Outcome:
        """Delete the package and wait until it is gone (success when it never existed)."""
        package_id = job.request.physical_id
        if package_id is None or not is_package_id(package_id):
            logger.info("the physical id is not a package id: nothing to delete")
            return Done(package_id or "")
        job.state.update(op="delete", phase="delete", package_id=package_id)
        return self._run(job)

    def resume(self, job: Job) -> Outcome:
        """Continue the operation recorded in ``job.state``."""
        return self._run(job)

    def _run(self, job: Job) -> Outcome:
        return run_phases(
            job,
            {
                "create": self._create,
                "available": self._available,
                "update": self._update,
                "new-version": self._new_version,
                "current": self._current,
                "delete": self._delete,
                "settle": self._settle,
                "gone": self._gone,
            },
        )

    # create -------------------------------------------------------------------------------

    def _create(self, job: Job) -> None:
        props = _props(job)
        request = job.request
        generated = props.explicit_name is None
        name = props.explicit_name or generated_package_name(
            stack_id=request.stack_id,
            logical_id=request.logical_id,
            package_type=props.package_type,
            engine_version=props.engine_version,
            vending_enabled=props.vending_enabled,
        )
        kwargs = props.create_kwargs(name)

        def attempt() -> str:
            try:
                response = job.opensearch.create_package(**kwargs)
            except ClientError as error:
                # The code and message of a taken name are undocumented: whether a package of
                # this name (and engine version, for a plugin) exists decides.
                if is_transient(error) or error_code(error) not in _NAME_TAKEN_CODES:
                    raise
                return self._adopt(job, props, name, generated=generated, error=error)
            return response["PackageDetails"].get("PackageID", "")

        logger.info("creating package %r of type %s", name, props.package_type)
        package_id = job.waiter.call(attempt, f"CreatePackage of {name!r}")
        if not package_id:
            raise ResourceFailure(f"CreatePackage of {name!r} answered without a PackageID")
        logger.info("package %r has id %s", name, package_id)
        job.state.update(phase="available", package_id=package_id, physical_id=package_id)

    def _adopt(
        self,
        job: Job,
        props: PackageProps,
        name: str,
        *,
        generated: bool,
        error: ClientError,
    ) -> str:
        """Return the id of the existing package ``name`` if this request made it, else fail.

        :param error: CreatePackage's refusal; one other than ResourceAlreadyExistsException is
            raised as it is when no package of the name exists.
        """
        expected = error_code(error) == "ResourceAlreadyExistsException"
        plugin = props.package_type == "ZIP-PLUGIN"
        existing = find_package_by_name(
            job.opensearch, name, engine_version=props.engine_version if plugin else None
        )
        if existing is None and not expected:
            raise error
        if existing is None:
            raise ResourceFailure(
                f"PackageName {name!r} is already used in this account and Region, but no "
                "package of that name is visible",
                remedy="choose another package_name, or omit it to get a generated one",
            )
        package_id = existing.get("PackageID", "")
        same_request = (
            existing.get("PackageType") == props.package_type
            and (existing.get("PackageDescription") or "") == props.description
            and self._recent(job, existing)
        )
        if generated or same_request:
            logger.info(
                "package %r exists as %s: the same request was delivered again, adopting it",
                name,
                package_id,
            )
            return package_id
        where = f" for {props.engine_version}" if plugin else ""
        raise ResourceFailure(
            f"PackageName {name!r} is already used{where} by package {package_id} in this "
            "account and Region",
            remedy="choose another package_name, or omit it to get a generated one",
        )

    @staticmethod
    def _recent(job: Job, details: PackageDetailsTypeDef) -> bool:
        created = details.get("CreatedAt")
        if not isinstance(created, datetime):
            return True  # nothing to tell by: type and description decide
        if created.tzinfo is None:
            created = created.replace(tzinfo=timezone.utc)
        now = datetime.fromtimestamp(job.waiter.clock.now(), tz=timezone.utc)
        window = timedelta(seconds=job.waiter.budget.service_timeout + ADOPTION_SLACK_SECONDS)
        return now - created <= window

    def _available(self, job: Job) -> Outcome:
        package_id = str(job.state["package_id"])
        presence = _Presence(job, package_id)

        def probe() -> PackageDetailsTypeDef | NotYet:
            details = describe_package(job.opensearch, package_id)
            if details is None:
                return presence.missing()
            status = details.get("PackageStatus", "")
            if status == "AVAILABLE":
                return details
            if status in FAILED_STATUSES:
                raise PackageFailed(details)
            if status in DELETION_STATUSES:
                raise ResourceFailure(
                    f"package {package_id} is {status} (deleted outside this stack?)"
                )
            return NotYet(f"status {status}")

        try:
            details = job.waiter.until(probe, f"package {package_id} to become AVAILABLE")
        except (PackageFailed, WaitTimeout):
            if job.state.get("op") == "create":
                self._discard(job, package_id)
            raise
        return self._shared(job, details)

    @staticmethod
    def _discard(job: Job, package_id: str) -> None:
        """Delete a package this request created and that will never become AVAILABLE."""
        logger.info("deleting package %s, which this request created", package_id)
        try:
            job.opensearch.delete_package(PackageID=package_id)
        except Exception as error:
            logger.warning("could not delete package %s: %s", package_id, error_message(error))

    # update -------------------------------------------------------------------------------

    def _describe_existing(self, job: Job, package_id: str) -> PackageDetailsTypeDef:
        details = job.waiter.call(
            lambda: describe_package(job.opensearch, package_id), f"DescribePackages {package_id}"
        )
        if details is None:
            raise ResourceFailure(
                f"package {package_id} does not exist any more (was it deleted outside this "
                "stack?)",
                remedy="remove the resource from the stack and add it again to create a new one",
            )
        return details

    def _update(self, job: Job) -> None:
        package_id = str(job.state["package_id"])
        details = self._describe_existing(job, package_id)
        status = details.get("PackageStatus", "")
        if status in IN_PROGRESS_STATUSES:
            logger.info(
                "package %s is already %s (request delivered again): waiting", package_id, status
            )
            job.state["phase"] = "available"
            return
        if status in DELETION_STATUSES:
            raise ResourceFailure(f"package {package_id} is {status} (deleted outside this stack?)")
        version_before = details.get("AvailablePackageVersion", "")
        commit_message = update_commit_message(job.request.request_id)
        if _version_made_by(job, package_id, commit_message) == version_before:
            # This request was delivered again after its UpdatePackage succeeded: its version
            # is the package's available one, so there is nothing more to do.
            logger.info(
                "version %s of %s was made by this request already", version_before, package_id
            )
            job.state["phase"] = "available"
            return
        kwargs = _props(job).update_kwargs(package_id, commit_message=commit_message)

        def update() -> object:
            try:
                return job.opensearch.update_package(**kwargs)
            except ClientError as error:
                # A retry of a call whose first try was accepted (its answer was lost) finds the
                # package busy with that very update: wait for it rather than fail. The error
                # code such a retry meets is not documented, so the package's status decides.
                if is_transient(error):
                    raise
                current = describe_package(job.opensearch, package_id)
                if current is None or current.get("PackageStatus") not in IN_PROGRESS_STATUSES:
                    raise
                logger.info("UpdatePackage of %s: the package is already being updated", package_id)
                return current

        job.waiter.call(update, f"UpdatePackage of {package_id}")
        logger.info("UpdatePackage of %s accepted (version before: %s)", package_id, version_before)
        job.state.update(phase="new-version", version_before=version_before)

    def _new_version(self, job: Job) -> Outcome:
        package_id = str(job.state["package_id"])
        version_before = str(job.state.get("version_before", ""))
        presence = _Presence(job, package_id)

        def probe() -> PackageDetailsTypeDef | NotYet:
            details = describe_package(job.opensearch, package_id)
            if details is None:
                return presence.missing()
            status = details.get("PackageStatus", "")
            version = details.get("AvailablePackageVersion", "")
            if status == "AVAILABLE" and version != version_before:
                return details
            if status in FAILED_STATUSES:
                raise PackageFailed(details)
            if status in DELETION_STATUSES:
                raise ResourceFailure(
                    f"package {package_id} is {status} (deleted outside this stack?)"
                )
            return NotYet(f"status {status}, version {version or '-'}")

        details = job.waiter.until(
            probe,
            f"package {package_id} to become AVAILABLE with a version after {version_before!r}",
        )
        return self._shared(job, details)

    def _current(self, job: Job) -> Outcome:
        package_id = str(job.state["package_id"])
        return self._shared(job, self._describe_existing(job, package_id))

    # scope --------------------------------------------------------------------------------

    def _shared(self, job: Job, details: PackageDetailsTypeDef) -> Outcome:
        """Make the AVAILABLE package's allow-list ``AllowListedUserList``, then answer."""
        package_id = str(details.get("PackageID", ""))
        props = _props(job)
        managed = props.allow_list is not None or (
            job.request.request_type == "Update" and ALLOW_LIST_PROPERTY in job.request.old_props
        )
        if not managed:
            return Done(package_id, package_data(details))
        current = tuple(sorted(set(details.get("AllowListedUserList") or [])))
        kwargs = props.scope_kwargs(package_id, current)
        if kwargs is None:
            logger.info("package %s is shared with %s already", package_id, list(current) or "none")
            return Done(package_id, package_data(details))
        logger.info(
            "UpdatePackageScope of %s: %s %s (allow-listed before: %s)",
            package_id,
            kwargs["Operation"],
            kwargs["PackageUserList"],
            list(current) or "none",
        )
        job.waiter.call(
            lambda: job.opensearch.update_package_scope(**kwargs),
            f"UpdatePackageScope of {package_id}",
        )
        return Done(package_id, package_data(details))

    # delete -------------------------------------------------------------------------------

    def _delete(self, job: Job) -> Outcome | None:
        package_id = str(job.state["package_id"])
        details = job.waiter.call(
            lambda: describe_package(job.opensearch, package_id), f"DescribePackages {package_id}"
        )
        if details is None:
            logger.info("package %s does not exist: nothing to delete", package_id)
            return Done(package_id)
        status = details.get("PackageStatus", "")
        if status in IN_PROGRESS_STATUSES:
            job.state["phase"] = "settle"
            return None
        if status != "DELETING":
            try:
                job.waiter.until(
                    lambda: self._delete_attempt(job, package_id),
                    f"DeletePackage of {package_id}",
                )
            except ClientError as error:
                if package_gone(error):
                    logger.info("package %s does not exist: nothing to delete", package_id)
                    return Done(package_id)
                raise
            logger.info("DeletePackage of %s accepted", package_id)
        job.state["phase"] = "gone"
        return None

    @staticmethod
    def _delete_attempt(job: Job, package_id: str) -> bool | NotYet:
        """DeletePackage once. A conflict while the package is only leaving domains (its
        dissociation just finished, or is finishing) is tried again, for at most
        :data:`DISSOCIATION_GRACE_SECONDS`; a package a domain still uses fails at once."""
        try:
            job.opensearch.delete_package(PackageID=package_id)
            return True
        except ClientError as error:
            # "In use" is a ConflictException in the model; whatever the code, the domains that
            # still list the package decide (gone packages are the caller's).
            if is_transient(error) or package_gone(error):
                raise
            conflict = error_code(error) == "ConflictException"
            message = error_message(error)
            domains = _domains_using(job, package_id)
            if not conflict and not domains:
                raise
            using = [
                f"{name} ({status})" for name, status in domains or () if status != "DISSOCIATING"
            ]
            if using or domains is None:
                where = f"associated with {', '.join(using)}" if using else "associated"
                raise ResourceFailure(
                    f"{message} (DeletePackage of {package_id}: the package is still {where}; "
                    "dissociate it first)"
                ) from error
            first = float(job.state.setdefault("delete_conflict_since", job.waiter.clock.now()))
            if job.waiter.clock.now() - first >= DISSOCIATION_GRACE_SECONDS:
                raise ResourceFailure(
                    f"{message} (DeletePackage of {package_id}, although no domain lists it "
                    f"for {int(DISSOCIATION_GRACE_SECONDS)} s)"
                ) from error
            return NotYet(f"leaving its domains: {message}")

    def _settle(self, job: Job) -> Outcome | None:
        package_id = str(job.state["package_id"])

        def probe() -> PackageDetailsTypeDef | NotYet | None:
            details = describe_package(job.opensearch, package_id)
            if details is not None and details.get("PackageStatus") in IN_PROGRESS_STATUSES:
                return NotYet(f"status {details.get('PackageStatus')}")
            return details

        details = job.waiter.until(
            probe, f"package {package_id} to finish COPYING/VALIDATING before it is deleted"
        )
        if details is None:
            return Done(package_id)
        job.state["phase"] = "delete"
        return None

    def _gone(self, job: Job) -> Outcome:
        package_id = str(job.state["package_id"])

        def probe() -> bool | NotYet:
            details = describe_package(job.opensearch, package_id)
            if details is None:
                return True
            status = details.get("PackageStatus", "")
            if status == "DELETE_FAILED":
                raise PackageFailed(details)
            return NotYet(f"status {status}")

        job.waiter.until(probe, f"package {package_id} to be deleted")
        logger.info("package %s is deleted", package_id)
        return Done(package_id)
