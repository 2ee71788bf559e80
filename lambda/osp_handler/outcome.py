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
    """The resource failed; the message (service message first) becomes the FAILED reason.

    :param message: what went wrong.
    :param remedy: what the user should do, when known. The full text reads
        ``"<message>: <remedy>"``; when that is longer than CloudFormation shows, the reason
        sent starts with the remedy (:func:`.opensearch_api.response_reason`).
    """

    def __init__(self, message: str, *, remedy: str | None = None) -> None:
        super().__init__(f"{message}: {remedy}" if remedy else message)
        self.problem = message
        self.remedy = remedy
