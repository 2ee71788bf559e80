"""What a lifecycle answers: done, pending, or an error whose message becomes the FAILED reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeAlias

__all__ = ["Done", "Outcome", "Pending", "ResourceFailure"]


@dataclass(frozen=True)
class Done:
    """The operation finished.

    :param physical_id: the resource's PhysicalResourceId.
    :param data: the attributes (``Fn::GetAtt``), all strings.
    """

    physical_id: str
    data: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Pending:
    """The operation goes on in a later invocation.

    :param state: JSON-serialisable state the later invocation resumes from.
    """

    state: dict[str, Any]


Outcome: TypeAlias = Done | Pending


class ResourceFailure(Exception):
    """The resource failed; the message (service message first) becomes the FAILED reason."""
