"""Clocks and the phase timeline of the local OpenSearch packages API.

Status changes in the emulation are time-driven: an operation schedules the next statuses of a
package or an association at ``now + phase duration`` and every later read applies whatever has
become due (lazily, in due-time order). The clock is injectable: :class:`SystemClock` in normal
use, :class:`ManualClock` in tests, where time only moves when the test says so.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Protocol

__all__ = ["Clock", "ManualClock", "SystemClock", "Timeline"]


class Clock(Protocol):
    """The time source of the emulation."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (the time base of the timeline)."""
        ...

    def time(self) -> float:
        """Wall-clock time in seconds since the epoch (for API timestamps)."""
        ...


class SystemClock:
    """The real clocks: :func:`time.monotonic` and :func:`time.time`."""

    def monotonic(self) -> float:
        """:return: :func:`time.monotonic`."""
        return time.monotonic()

    def time(self) -> float:
        """:return: :func:`time.time`."""
        return time.time()


class ManualClock:
    """A clock that only moves when :meth:`advance` is called (deterministic tests).

    :param start_wall: the wall-clock time (epoch seconds) at monotonic time 0.
    """

    def __init__(self, start_wall: float = 1_700_000_000.0) -> None:
        self._start_wall = start_wall
        self._now = 0.0
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        """:return: the seconds advanced so far."""
        with self._lock:
            return self._now

    def time(self) -> float:
        """:return: ``start_wall`` plus the seconds advanced so far."""
        with self._lock:
            return self._start_wall + self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward.

        :param seconds: how far; must not be negative.
        """
        if seconds < 0:
            raise ValueError(f"a clock cannot go back (advance({seconds!r}))")
        with self._lock:
            self._now += seconds


@dataclass(frozen=True)
class Timeline:
    """How long each phase takes, in seconds.

    :param copying: a package stays COPYING this long (CreatePackage, UpdatePackage).
    :param validating: then VALIDATING this long before AVAILABLE or VALIDATION_FAILED.
    :param deleting: a deleted package stays DELETING this long, then it is gone.
    :param associating: ASSOCIATING of a TXT-DICTIONARY, PACKAGE-LICENSE or PACKAGE-CONFIG.
    :param plugin_associating: ASSOCIATING of a ZIP-PLUGIN (a blue/green deployment: longer).
    :param dissociating: DISSOCIATING of a non-plugin package.
    :param plugin_dissociating: DISSOCIATING of a ZIP-PLUGIN.
    """

    copying: float = 2.0
    validating: float = 3.0
    deleting: float = 2.0
    associating: float = 5.0
    plugin_associating: float = 30.0
    dissociating: float = 3.0
    plugin_dissociating: float = 30.0

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(
                    f"Timeline.{item.name} must be a number of seconds >= 0, got {value!r}"
                )

    @classmethod
    def uniform(cls, seconds: float) -> Timeline:
        """Every phase takes the same time.

        :param seconds: duration of every phase.
        """
        return cls(**{item.name: seconds for item in fields(cls)})

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], base: Timeline | None = None) -> Timeline:
        """Build a timeline from JSON-like data (unknown keys are an error).

        :param data: phase name -> seconds; missing phases come from ``base``.
        :param base: the timeline to start from. Default: - the default timeline.
        """
        names = {item.name for item in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown timeline phase(s) {unknown}; known: {sorted(names)}")
        return replace(base or cls(), **dict(data))

    def scaled(self, factor: float) -> Timeline:
        """Every phase multiplied by ``factor``.

        :param factor: the multiplier (>= 0).
        """
        return Timeline(**{k: v * factor for k, v in asdict(self).items()})

    def association_seconds(self, package_type: str) -> float:
        """:return: how long ASSOCIATING lasts for a package of ``package_type``."""
        return self.plugin_associating if package_type == "ZIP-PLUGIN" else self.associating

    def dissociation_seconds(self, package_type: str) -> float:
        """:return: how long DISSOCIATING lasts for a package of ``package_type``."""
        return self.plugin_dissociating if package_type == "ZIP-PLUGIN" else self.dissociating

    def to_dict(self) -> dict[str, float]:
        """:return: phase name -> seconds."""
        return asdict(self)
