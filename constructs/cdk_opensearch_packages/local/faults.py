"""Seeded fault injection for the local services: the OpenSearch packages API
(:mod:`.opensearch_api`) and the proxy in front of moto's EventBridge (:mod:`.aws_events_proxy`).

Six kinds of fault, each with a probability, optionally limited to named operations and to a
number of injections. Three refuse the request before it is applied (it changes nothing):

- ``drop``: close the connection without any HTTP response (botocore retries it);
- ``throttle``: ``ThrottlingException`` (HTTP 429 from OpenSearch Service, 400 from
  EventBridge; botocore retries it);
- ``server_error``: HTTP 500 or 503 ``InternalException`` (botocore retries it).

Two apply the request, then lose its answer, as AWS does when a connection is reset or a front
end fails after the work is done. botocore retries the same call, which then meets the state the
first one made (a CreatePackage retried after its lost answer gets
``ResourceAlreadyExistsException``):

- ``drop_after``: apply the call, then close the connection without any HTTP response;
- ``error_after``: apply the call, then answer HTTP 500 ``InternalException``.

And one combines with any of them:

- ``latency``: sleep ``latency_seconds`` before answering.

A request draws from one :class:`random.Random` seeded at construction, so the same sequence of
calls meets the same faults. Every fault is decided when the request arrives (before it is
read): at most one of the five refusing or answer-losing kinds per request, drawn in
:data:`FAULT_KINDS` order, and a kind whose probability is 0 draws nothing (adding a kind leaves
the draws of the others unchanged).
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal, NoReturn, TypeAlias

__all__ = [
    "AFTER_KINDS",
    "BEFORE_KINDS",
    "FAULT_KINDS",
    "ConnectionDropped",
    "Fault",
    "FaultConfig",
    "FaultDecision",
    "FaultInjector",
    "FaultKind",
    "FaultValue",
    "drop_connection",
]

FaultKind = Literal["drop", "throttle", "server_error", "drop_after", "error_after"]

#: The fault names, in the order they are drawn for a request.
FAULT_KINDS: Final = ("latency", "drop", "throttle", "server_error", "drop_after", "error_after")
#: The faults that refuse a request before it is applied.
BEFORE_KINDS: Final[tuple[FaultKind, ...]] = ("drop", "throttle", "server_error")
#: The faults that apply a request, then lose its answer.
AFTER_KINDS: Final[tuple[FaultKind, ...]] = ("drop_after", "error_after")


@dataclass(frozen=True)
class Fault:
    """One kind of fault.

    :param probability: chance (0..1) that a matching request meets it.
    :param operations: operation names it applies to. Default: - every AWS operation.
    :param count: at most this many injections, then it stops. Default: - no limit.
    """

    probability: float = 0.0
    operations: frozenset[str] | None = None
    count: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.probability, bool) or not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"a fault probability must be within 0..1, got {self.probability!r}")
        if self.count is not None and self.count < 0:
            raise ValueError(f"a fault count must be >= 0, got {self.count!r}")

    def applies_to(self, operation: str) -> bool:
        """:return: whether the fault can hit ``operation``."""
        return self.probability > 0 and (self.operations is None or operation in self.operations)

    def to_dict(self) -> dict[str, Any]:
        """:return: JSON form (``operations`` sorted, ``None`` for every operation)."""
        return {
            "probability": self.probability,
            "operations": None if self.operations is None else sorted(self.operations),
            "count": self.count,
        }

    @classmethod
    def parse(cls, value: float | Mapping[str, Any] | Fault) -> Fault:
        """A fault from a probability, a JSON object or a :class:`Fault`.

        :param value: ``0.3`` or ``{"probability": 0.3, "operations": [...], "count": 2}``.
        """
        if isinstance(value, Fault):
            return value
        if isinstance(value, Mapping):
            unknown = sorted(set(value) - {"probability", "operations", "count"})
            if unknown:
                raise ValueError(f"unknown fault field(s) {unknown}")
            operations = value.get("operations")
            return cls(
                probability=float(value.get("probability", 0.0)),
                operations=None if operations is None else frozenset(operations),
                count=None if value.get("count") is None else int(value["count"]),
            )
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"a fault is a probability or an object, got {value!r}")
        return cls(probability=float(value))


#: What a fault can be given as: a probability, a JSON object or a :class:`Fault`.
FaultValue: TypeAlias = float | Mapping[str, Any] | Fault


@dataclass(frozen=True)
class FaultConfig:
    """The faults in force.

    :param latency: requests that sleep ``latency_seconds`` before answering.
    :param drop: requests whose connection is closed without a response (not applied).
    :param throttle: requests answered 429 ThrottlingException (not applied).
    :param server_error: requests answered 500/503 InternalException (not applied).
    :param drop_after: requests applied, then their connection closed without a response.
    :param error_after: requests applied, then answered 500 InternalException.
    :param latency_seconds: the injected delay.
    :param server_error_statuses: the statuses a server error picks from (seeded).
    """

    latency: Fault = field(default_factory=Fault)
    drop: Fault = field(default_factory=Fault)
    throttle: Fault = field(default_factory=Fault)
    server_error: Fault = field(default_factory=Fault)
    drop_after: Fault = field(default_factory=Fault)
    error_after: Fault = field(default_factory=Fault)
    latency_seconds: float = 0.5
    server_error_statuses: tuple[int, ...] = (500, 503)

    def __post_init__(self) -> None:
        if self.latency_seconds < 0:
            raise ValueError(f"latency_seconds must be >= 0, got {self.latency_seconds!r}")
        if not self.server_error_statuses or any(
            not 500 <= status <= 599 for status in self.server_error_statuses
        ):
            raise ValueError(
                f"server_error_statuses must be 5xx codes, got {self.server_error_statuses!r}"
            )

    def fault(self, kind: str) -> Fault:
        """:return: the :class:`Fault` named ``kind`` (one of :data:`FAULT_KINDS`)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {list(FAULT_KINDS)}")
        value: Fault = getattr(self, kind)
        return value

    def to_dict(self) -> dict[str, Any]:
        """:return: JSON form."""
        data: dict[str, Any] = {kind: self.fault(kind).to_dict() for kind in FAULT_KINDS}
        data["latency_seconds"] = self.latency_seconds
        data["server_error_statuses"] = list(self.server_error_statuses)
        return data

    def updated(
        self,
        *,
        latency: FaultValue | None = None,
        drop: FaultValue | None = None,
        throttle: FaultValue | None = None,
        server_error: FaultValue | None = None,
        drop_after: FaultValue | None = None,
        error_after: FaultValue | None = None,
        latency_seconds: float | None = None,
        server_error_statuses: Iterable[int] | None = None,
        operations: Iterable[str] | None = None,
        count: int | None = None,
    ) -> FaultConfig:
        """A copy with some faults replaced.

        :param latency: see :class:`FaultConfig`; ``None`` keeps the current one.
        :param drop: idem.
        :param throttle: idem.
        :param server_error: idem.
        :param drop_after: idem.
        :param error_after: idem.
        :param latency_seconds: the injected delay; ``None`` keeps it.
        :param server_error_statuses: idem.
        :param operations: applies to the faults given here as bare probabilities.
        :param count: idem.
        """
        given = {
            "latency": latency,
            "drop": drop,
            "throttle": throttle,
            "server_error": server_error,
            "drop_after": drop_after,
            "error_after": error_after,
        }
        limited = None if operations is None else frozenset(operations)
        changes: dict[str, Any] = {}
        for kind, value in given.items():
            if value is None:
                continue
            parsed = Fault.parse(value)
            if not isinstance(value, Fault | Mapping):
                parsed = replace(parsed, operations=limited, count=count)
            changes[kind] = parsed
        if latency_seconds is not None:
            changes["latency_seconds"] = float(latency_seconds)
        if server_error_statuses is not None:
            changes["server_error_statuses"] = tuple(int(s) for s in server_error_statuses)
        return replace(self, **changes)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], base: FaultConfig | None = None) -> FaultConfig:
        """Parse the JSON form (as ``POST /_local/faults`` takes it).

        :param data: any of the fault names (probability or object), ``latency_seconds``,
            ``server_error_statuses``, ``operations`` and ``count`` (for bare probabilities).
        :param base: the configuration to update. Default: - no faults.
        """
        known = {*FAULT_KINDS, *_SETTINGS}
        unknown = sorted(set(data) - known - {"seed"})
        if unknown:
            raise ValueError(f"unknown fault setting(s) {unknown}; known: {sorted(known)}")
        return (base or cls()).updated(**_keywords(data))


_SETTINGS: Final = ("latency_seconds", "server_error_statuses", "operations", "count")


def _keywords(data: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of :meth:`FaultConfig.updated` found in a JSON mapping."""
    return {name: data.get(name) for name in (*FAULT_KINDS, *_SETTINGS)}


@dataclass(frozen=True)
class FaultDecision:
    """What happens to one request.

    :param delay: seconds to sleep before answering (0: none).
    :param action: ``drop``, ``throttle``, ``server_error`` (the request is not applied),
        ``drop_after``, ``error_after`` (it is applied, then its answer is lost) or ``None``
        (answer normally).
    :param status: the HTTP status of a ``throttle``, ``server_error`` or ``error_after``.
    """

    delay: float = 0.0
    action: FaultKind | None = None
    status: int = 0

    @property
    def names(self) -> list[str]:
        """:return: the faults applied, e.g. ``["latency", "throttle"]``."""
        applied = ["latency"] if self.delay > 0 else []
        return [*applied, self.action] if self.action else applied

    @property
    def refuses(self) -> bool:
        """:return: whether the request is refused before it is applied."""
        return self.action in BEFORE_KINDS

    @property
    def loses_answer(self) -> bool:
        """:return: whether the request is applied and its answer then lost."""
        return self.action in AFTER_KINDS


class FaultInjector:
    """The run-time fault switchboard (``LocalOpenSearchService.faults``,
    ``EventBridgeFaultProxy.faults``); thread-safe.

    :param config: the faults in force at the start.
    :param seed: seed of the random draws.
    :param known_operations: operation names a fault may be limited to (checked when set).
        Default: - any name.
    :param throttle_status: the HTTP status of a ``throttle`` (the service's own: 429 for
        OpenSearch Service, 400 for the JSON 1.1 services such as EventBridge).
    """

    def __init__(
        self,
        config: FaultConfig | None = None,
        seed: int = 0,
        known_operations: Collection[str] | None = None,
        *,
        throttle_status: int = 429,
    ) -> None:
        self._lock = threading.Lock()
        self.throttle_status = throttle_status
        self._known = None if known_operations is None else frozenset(known_operations)
        if config is not None:
            self._check_operations(config)
        self._initial = config or FaultConfig()
        self._seed = seed
        self._config = self._initial
        self._random = random.Random(f"faults-{seed}")
        self._used: dict[str, int] = {}

    @property
    def config(self) -> FaultConfig:
        """The faults in force now."""
        with self._lock:
            return self._config

    def used(self) -> dict[str, int]:
        """:return: how many times each fault was injected since it was last set (or reset)."""
        with self._lock:
            return dict(self._used)

    def set(
        self,
        *,
        latency: FaultValue | None = None,
        drop: FaultValue | None = None,
        throttle: FaultValue | None = None,
        server_error: FaultValue | None = None,
        drop_after: FaultValue | None = None,
        error_after: FaultValue | None = None,
        latency_seconds: float | None = None,
        server_error_statuses: Iterable[int] | None = None,
        operations: Iterable[str] | None = None,
        count: int | None = None,
        seed: int | None = None,
    ) -> FaultConfig:
        """Change some faults now (the others stay); a changed fault's count starts again.

        ``emulator.faults.set(throttle=0.3, operations=["DescribePackages"])``;
        ``emulator.faults.set(drop_after=1.0, operations=["CreatePackage"], count=1)`` (the
        next CreatePackage creates the package, and its caller never hears of it).

        :param latency: a probability, ``{"probability", "operations", "count"}`` or a Fault.
        :param drop: idem.
        :param throttle: idem.
        :param server_error: idem.
        :param drop_after: idem.
        :param error_after: idem.
        :param latency_seconds: the injected delay.
        :param server_error_statuses: 5xx statuses a server error picks from.
        :param operations: limits the faults given here as bare probabilities.
        :param count: limits the faults given here as bare probabilities to this many hits.
        :param seed: re-seed the random draws.
        :return: the new configuration.
        """
        given = {
            "latency": latency,
            "drop": drop,
            "throttle": throttle,
            "server_error": server_error,
            "drop_after": drop_after,
            "error_after": error_after,
        }
        with self._lock:
            updated = self._config.updated(
                **given,
                latency_seconds=latency_seconds,
                server_error_statuses=server_error_statuses,
                operations=operations,
                count=count,
            )
            self._check_operations(updated)
            self._config = updated
            for kind, value in given.items():
                if value is not None:
                    self._used.pop(kind, None)
            if seed is not None:
                self._seed = seed
                self._random = random.Random(f"faults-{seed}")
            return self._config

    def _check_operations(self, config: FaultConfig) -> None:
        if self._known is None:
            return
        for kind in FAULT_KINDS:
            unknown = sorted((config.fault(kind).operations or frozenset()) - self._known)
            if unknown:
                raise ValueError(f"fault {kind!r} names unknown operation(s) {unknown}")

    def set_from_mapping(self, data: Mapping[str, Any]) -> FaultConfig:
        """:meth:`set` from the JSON form (see :meth:`FaultConfig.from_mapping`), e.g.
        ``{"error_after": {"probability": 1, "operations": ["UpdatePackage"], "count": 1}}``."""
        FaultConfig.from_mapping(data, self.config)  # validates before anything changes
        seed = data.get("seed")
        return self.set(**_keywords(data), seed=None if seed is None else int(seed))

    def clear(self) -> None:
        """No faults from now on (``latency_seconds`` and ``server_error_statuses`` go back to
        their construction-time values)."""
        with self._lock:
            self._config = FaultConfig(
                latency_seconds=self._initial.latency_seconds,
                server_error_statuses=self._initial.server_error_statuses,
            )
            self._used.clear()

    def reset(self) -> None:
        """Back to the construction-time configuration and seed."""
        with self._lock:
            self._config = self._initial
            self._used.clear()
            self._random = random.Random(f"faults-{self._seed}")

    def decide(self, operation: str) -> FaultDecision:
        """Draw the faults for one request of ``operation``.

        :param operation: the AWS operation name.
        """
        with self._lock:
            config = self._config
            delay = config.latency_seconds if self._hits("latency", config, operation) else 0.0
            for kind in (*BEFORE_KINDS, *AFTER_KINDS):
                if self._hits(kind, config, operation):
                    status = 0
                    if kind == "server_error":
                        status = self._random.choice(config.server_error_statuses)
                    elif kind == "throttle":
                        status = self.throttle_status
                    elif kind == "error_after":
                        status = 500
                    return FaultDecision(delay=delay, action=kind, status=status)
            return FaultDecision(delay=delay)

    def _hits(self, kind: str, config: FaultConfig, operation: str) -> bool:
        fault = config.fault(kind)
        if not fault.applies_to(operation):
            return False
        used = self._used.get(kind, 0)
        if fault.count is not None and used >= fault.count:
            return False
        if self._random.random() >= fault.probability:
            return False
        self._used[kind] = used + 1
        return True


class ConnectionDropped(ConnectionAbortedError):
    """Raised by :func:`drop_connection`: werkzeug's server treats it as a dropped connection
    and writes nothing more."""


def drop_connection(environ: Mapping[str, Any]) -> NoReturn:
    """Close a werkzeug request's connection without answering (HTTP or HTTPS).

    :param environ: the WSGI environment (werkzeug puts the socket in ``werkzeug.socket``).
    :raises ConnectionDropped: always (let it propagate out of the WSGI application).
    """
    connection = environ.get("werkzeug.socket")
    if isinstance(connection, socket.socket):
        with contextlib.suppress(OSError):
            connection.shutdown(socket.SHUT_RDWR)
    raise ConnectionDropped("connection dropped by fault injection")
