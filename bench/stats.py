"""Small statistics: min/median/max of repeated measurements and a noise flag."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["NOISE_THRESHOLD", "Summary", "summarize"]

#: A figure is flagged noisy when ``max - min`` exceeds this fraction of its median.
NOISE_THRESHOLD = 0.20


@dataclass(frozen=True)
class Summary:
    """Repeated measurements of one quantity.

    :param values: the measurements, in the order they were taken.
    """

    values: tuple[float, ...]

    @property
    def count(self) -> int:
        """How many measurements."""
        return len(self.values)

    @property
    def minimum(self) -> float:
        """The smallest measurement."""
        return min(self.values)

    @property
    def median(self) -> float:
        """The median."""
        return statistics.median(self.values)

    @property
    def maximum(self) -> float:
        """The largest measurement."""
        return max(self.values)

    @property
    def spread(self) -> float:
        """``max - min`` relative to the median (``inf`` for a median of 0 with a spread)."""
        width = self.maximum - self.minimum
        if width == 0:
            return 0.0
        median = abs(self.median)
        return width / median if median else float("inf")

    @property
    def noisy(self) -> bool:
        """Whether the spread exceeds :data:`NOISE_THRESHOLD` (never for a single value)."""
        return self.count > 1 and self.spread > NOISE_THRESHOLD

    def format(self, digits: int = 2, unit: str = "", *, flag: bool = True) -> str:
        """``median [min, max]`` with ``unit``, and ``⚠`` when noisy.

        :param digits: decimals.
        :param unit: appended to each number (e.g. ``" s"``).
        :param flag: mark a noisy figure (off for values spread on purpose, counts).
        """
        median = f"{self.median:.{digits}f}{unit}"
        if self.count == 1:
            return median
        text = f"{median} [{self.minimum:.{digits}f}, {self.maximum:.{digits}f}]"
        return f"{text} ⚠" if flag and self.noisy else text

    def to_dict(self) -> dict[str, object]:
        """JSON form: the values and the summary figures."""
        return {
            "values": list(self.values),
            "min": self.minimum,
            "median": self.median,
            "max": self.maximum,
            "noisy": self.noisy,
        }


def summarize(values: Iterable[float]) -> Summary:
    """Summarize measurements.

    :param values: at least one measurement.
    :raises ValueError: when there is none.
    """
    collected = tuple(float(value) for value in values)
    if not collected:
        raise ValueError("no measurement to summarize")
    return Summary(collected)
