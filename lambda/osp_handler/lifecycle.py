"""The dispatch on ``ResourceType``: which lifecycle handles a request."""

from __future__ import annotations

import logging

from .domain_packages import DomainPackagesLifecycle
from .job import Job
from .lookup import LOOKUP_RESOURCE_TYPE, PackageLookupLifecycle
from .outcome import Done, Outcome, ResourceFailure
from .package import PackageLifecycle
from .phases import Lifecycle
from .props import DOMAIN_PACKAGES_RESOURCE_TYPE, PACKAGE_RESOURCE_TYPE

__all__ = ["LIFECYCLES", "UnsupportedLifecycle", "lifecycle_for"]

logger = logging.getLogger(__name__)


class UnsupportedLifecycle:
    """A resource type this provider does not handle: Create and Update fail, Delete succeeds
    (nothing was ever made, and a failed Create is always followed by a Delete).

    :param resource_type: the unsupported type.
    """

    def __init__(self, resource_type: str) -> None:
        self.resource_type = resource_type

    def _refuse(self) -> ResourceFailure:
        return ResourceFailure(
            f"this provider does not handle resource type {self.resource_type!r}; use "
            f"{PACKAGE_RESOURCE_TYPE}, {DOMAIN_PACKAGES_RESOURCE_TYPE} or {LOOKUP_RESOURCE_TYPE}"
        )

    def create(self, job: Job) -> Outcome:
        """Fail."""
        raise self._refuse()

    def update(self, job: Job) -> Outcome:
        """Fail."""
        raise self._refuse()

    def delete(self, job: Job) -> Outcome:
        """Succeed: nothing to delete."""
        logger.info("nothing to delete for unsupported resource type %r", self.resource_type)
        return Done(job.request.physical_id or "")

    def resume(self, job: Job) -> Outcome:
        """Fail."""
        raise self._refuse()


#: The lifecycle of each supported resource type.
LIFECYCLES: dict[str, Lifecycle] = {
    PACKAGE_RESOURCE_TYPE: PackageLifecycle(),
    DOMAIN_PACKAGES_RESOURCE_TYPE: DomainPackagesLifecycle(),
    LOOKUP_RESOURCE_TYPE: PackageLookupLifecycle(),
}


def lifecycle_for(resource_type: str) -> Lifecycle:
    """Return the lifecycle of ``resource_type`` (an :class:`UnsupportedLifecycle` if unknown)."""
    return LIFECYCLES.get(resource_type) or UnsupportedLifecycle(resource_type)
