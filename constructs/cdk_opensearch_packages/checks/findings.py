"""The finding type of the synth-time file checks and the helpers that word findings alike.

Every message reads ``<file as given>[:<line>]: <what is wrong>. Fix: <what to do>.`` so a user
can jump to the line and knows the remedy without reading the checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["MAX_FINDINGS_PER_RULE", "FileFinding", "FindingCollector", "Severity", "make_finding"]

Severity = Literal["error", "warning"]

#: A file with a systematic problem (say, trailing blanks on every blank line) would otherwise
#: produce thousands of findings; past this many per rule, one summary finding counts the rest.
MAX_FINDINGS_PER_RULE = 5


@dataclass(frozen=True)
class FileFinding:
    """One problem found in a package file before deployment.

    :param severity: ``"error"`` (the service or the engine would reject or misread the file) or
        ``"warning"`` (the file works, but probably not as intended, or costs something).
    :param message: names the file (as given), the line number when relevant, the rule broken
        and the fix.
    """

    severity: Severity
    message: str


def make_finding(
    severity: Severity, path: str, problem: str, fix: str, *, line: int | None = None
) -> FileFinding:
    """Word a finding: ``<path>[:<line>]: <problem>. Fix: <fix>.``

    :param severity: ``"error"`` or ``"warning"``.
    :param path: the file as the user gave it.
    :param problem: what is wrong and which rule it breaks (no trailing period needed).
    :param fix: what to do about it (no trailing period needed).
    :param line: the 1-based line number, when the problem is on one line.
    """
    where = path if line is None else f"{path}:{line}"
    return FileFinding(severity, f"{where}: {_sentence(problem)} Fix: {_sentence(fix)}")


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


class FindingCollector:
    """Collects findings, keeping at most :data:`MAX_FINDINGS_PER_RULE` per rule.

    :param path: the file as the user gave it (used in the summary findings).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._findings: list[FileFinding] = []
        self._counts: dict[str, int] = {}
        self._severities: dict[str, Severity] = {}
        self._descriptions: dict[str, str] = {}

    def add(
        self,
        rule: str,
        severity: Severity,
        problem: str,
        fix: str,
        *,
        line: int | None = None,
        summary: str | None = None,
    ) -> None:
        """Add a finding for ``rule`` unless that rule already has enough findings.

        :param rule: a short id grouping findings of the same kind (not shown to the user).
        :param summary: how to describe the lines left out ("lines with ..."); defaults to the
            rule id.
        """
        count = self._counts.get(rule, 0) + 1
        self._counts[rule] = count
        self._severities[rule] = severity
        self._descriptions.setdefault(rule, summary or rule)
        if count <= MAX_FINDINGS_PER_RULE:
            self._findings.append(make_finding(severity, self.path, problem, fix, line=line))

    def findings(self) -> list[FileFinding]:
        """The findings in the order added, then one summary per rule that had too many."""
        result = list(self._findings)
        for rule, count in self._counts.items():
            left_out = count - MAX_FINDINGS_PER_RULE
            if left_out > 0:
                result.append(
                    make_finding(
                        self._severities[rule],
                        self.path,
                        f"{left_out} more {self._descriptions[rule]} not listed above "
                        f"({count} in all)",
                        "fix the lines listed above, then run the checks again to see the rest",
                    )
                )
        return result
