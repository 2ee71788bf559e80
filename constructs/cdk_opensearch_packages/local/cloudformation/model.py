"""What the CloudFormation stand-in records: stack events, resources, stacks and results."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CUSTOM_RESOURCE_TYPES",
    "STACK_RESOURCE_TYPE",
    "ResourceFailed",
    "ResourceState",
    "Stack",
    "StackEvent",
    "StackResult",
    "is_custom_resource",
]

STACK_RESOURCE_TYPE = "AWS::CloudFormation::Stack"
CUSTOM_RESOURCE_TYPES = ("AWS::CloudFormation::CustomResource",)
SUCCESS_STATUSES = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE"})


def is_custom_resource(resource_type: str) -> bool:
    """Whether a resource type is a custom resource (``Custom::*`` or the generic type)."""
    return resource_type.startswith("Custom::") or resource_type in CUSTOM_RESOURCE_TYPES


class ResourceFailed(Exception):
    """A resource operation failed; CloudFormation shows ``reason``.

    :param reason: the status reason.
    :param physical_id: the physical id the failure carries (a custom resource's FAILED
        response): the rollback of a failed create deletes it.
    :param invoked: whether the resource's provider was asked to act (a custom resource's
        request was sent); a custom resource whose create failed before that gets no Delete.
    """

    def __init__(
        self, reason: str, physical_id: str | None = None, *, invoked: bool = True
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.physical_id = physical_id
        self.invoked = invoked


@dataclass(frozen=True)
class StackEvent:
    """One line of a stack's event log (``describe-stack-events``).

    :param timestamp: epoch seconds.
    :param stack_name: the stack.
    :param logical_id: the resource's logical id (the stack name for stack events).
    :param resource_type: the resource type (``AWS::CloudFormation::Stack`` for stack events).
    :param physical_id: the physical id, when known.
    :param status: e.g. ``CREATE_IN_PROGRESS``, ``UPDATE_ROLLBACK_COMPLETE``, ``DELETE_SKIPPED``.
    :param reason: the status reason.
    """

    timestamp: float
    stack_name: str
    logical_id: str
    resource_type: str
    physical_id: str
    status: str
    reason: str = ""

    @property
    def is_stack_event(self) -> bool:
        """Whether the event is about the stack itself."""
        return self.resource_type == STACK_RESOURCE_TYPE

    def __str__(self) -> str:
        reason = f"  {self.reason}" if self.reason else ""
        return f"{self.status:<45} {self.resource_type:<40} {self.logical_id}{reason}"


@dataclass
class ResourceState:
    """A provisioned resource of a stack.

    :param logical_id: the logical id.
    :param resource_type: the type.
    :param physical_id: the physical id (``Ref`` of most types).
    :param properties: the resolved properties it was last created or updated with.
    :param attributes: its ``Fn::GetAtt`` attributes (a custom resource's ``Data``).
    :param deletion_policy: ``Delete``, ``Retain``, ``RetainExceptOnCreate`` or ``Snapshot``.
    :param update_replace_policy: what happens to the old physical resource on replacement.
    :param status: the last resource status.
    """

    logical_id: str
    resource_type: str
    physical_id: str
    properties: dict[str, Any]
    attributes: dict[str, Any] = field(default_factory=dict)
    deletion_policy: str = "Delete"
    update_replace_policy: str = "Delete"
    status: str = ""

    def copy(self) -> ResourceState:
        """A deep copy (stack operations work on copies until they succeed)."""
        return copy.deepcopy(self)


@dataclass
class Stack:
    """A stack known to the stand-in.

    :param name: the stack name.
    :param stack_id: the stack ARN.
    :param template: the template of the last successful operation.
    :param parameters: the resolved parameter values.
    :param resources: the provisioned resources by logical id.
    :param status: the stack status.
    :param outputs: resolved outputs by output name.
    :param exports: export names to values.
    :param imports: export names this stack imports.
    :param events: every event of the stack, oldest first.
    """

    name: str
    stack_id: str
    template: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    resources: dict[str, ResourceState] = field(default_factory=dict)
    status: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)
    exports: dict[str, Any] = field(default_factory=dict)
    imports: set[str] = field(default_factory=set)
    events: list[StackEvent] = field(default_factory=list)


@dataclass
class StackResult:
    """The outcome of one stack operation.

    :param stack_name: the stack.
    :param stack_id: the stack ARN.
    :param operation: ``CREATE``, ``UPDATE`` or ``DELETE``.
    :param status: the final stack status.
    :param outputs: the stack's outputs after the operation.
    :param events: the events of this operation, oldest first.
    :param resources: the stack's resources after the operation.
    :param reason: why the operation failed (the first resource failure), or ``""``.
    :param changed: ``False`` when an update found nothing to change.
    """

    stack_name: str
    stack_id: str
    operation: str
    status: str
    outputs: dict[str, Any] = field(default_factory=dict)
    events: list[StackEvent] = field(default_factory=list)
    resources: dict[str, ResourceState] = field(default_factory=dict)
    reason: str = ""
    changed: bool = True

    @property
    def succeeded(self) -> bool:
        """Whether the operation completed without rolling back."""
        return self.status in SUCCESS_STATUSES

    def failures(self) -> list[StackEvent]:
        """The resource events of this operation whose status ends in ``_FAILED``."""
        return [
            event
            for event in self.events
            if event.status.endswith("_FAILED") and not event.is_stack_event
        ]

    def statuses(self, logical_id: str) -> list[str]:
        """The statuses one resource went through in this operation, in order."""
        return [event.status for event in self.events if event.logical_id == logical_id]

    def describe(self) -> str:
        """The event log of this operation as text (one event per line)."""
        return "\n".join(str(event) for event in self.events)
