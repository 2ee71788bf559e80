"""Entry point of the provider function (``index.handler``): crhelper wiring only.

The lifecycles live in :mod:`osp_handler`; :class:`osp_handler.crhelper_adapter.OspResource` is
the crhelper helper adapted to them.
"""

from __future__ import annotations

from typing import Any

from osp_handler.crhelper_adapter import LambdaContext, OspResource

helper = OspResource()

try:
    from osp_handler.lifecycle import lifecycle_for
except Exception as error:  # reported as FAILED on every request
    helper.init_failure(error)


@helper.create
def create(event: dict[str, Any], context: LambdaContext) -> str | None:
    """Create a package or an association."""
    return helper.run(event, context, lifecycle_for(event["ResourceType"]).create)


@helper.update
def update(event: dict[str, Any], context: LambdaContext) -> str | None:
    """Update a package or an association."""
    return helper.run(event, context, lifecycle_for(event["ResourceType"]).update)


@helper.delete
def delete(event: dict[str, Any], context: LambdaContext) -> str | None:
    """Delete a package or an association."""
    return helper.run(event, context, lifecycle_for(event["ResourceType"]).delete)


@helper.poll_create
@helper.poll_update
@helper.poll_delete
def poll(event: dict[str, Any], context: LambdaContext) -> str | None:
    """Continue a pending request (re-invoked by the polling rule)."""
    return helper.run(event, context, lifecycle_for(event["ResourceType"]).resume)


def handler(event: dict[str, Any], context: LambdaContext) -> None:
    """The Lambda handler."""
    helper(event, context)
