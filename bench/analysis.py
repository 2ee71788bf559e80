"""From raw measurements to the figures the report shows: rows, model comparisons, verdicts."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from . import models
from .overhead import OperationMeasurement, Scenario, ScenarioResult
from .stats import Summary, summarize
from .synth import SynthResult

__all__ = [
    "EXTRAPOLATION_SAMPLES",
    "EXTRAPOLATION_SPREAD",
    "EXTRAPOLATION_WAITS",
    "ComparisonRow",
    "CostEstimate",
    "ModelSummary",
    "Operation",
    "OperationRow",
    "Verdict",
    "bar",
    "comparison_rows",
    "estimate_costs",
    "extrapolation_rows",
    "operation_rows",
    "verdicts",
]

Operation = Literal["create", "delete"]
#: Waits (s) the models are evaluated at beyond what the emulation runs.
EXTRAPOLATION_WAITS = (300.0, 900.0, 1200.0, 1800.0, 3600.0)
#: Modelled waits are spread over ``W * (1 ± EXTRAPOLATION_SPREAD)``, this many of them.
EXTRAPOLATION_SPREAD = 0.1
EXTRAPOLATION_SAMPLES = 21
#: One DescribePackages call per this many seconds is the bar once a wait is long.
DESCRIBE_PERIOD = 5.0
#: Steady-state gaps shorter than this fraction of :data:`DESCRIBE_PERIOD` fail the bar.
DESCRIBE_TOLERANCE = 0.9
#: Assumed warm Lambda / Step Functions hand-off (no Step Functions emulation exists).
ASSUMED_INVOKE_SECONDS = 0.05
#: Used when no scheduled invocation was measured.
ASSUMED_COLD_START_SECONDS = 1.0


def bar(wait: float) -> float:
    """The project's bar for one wait: ``max(1 s, 10 % of the wait)``."""
    return max(1.0, 0.1 * wait)


def _operation(result: ScenarioResult, operation: Operation) -> list[OperationMeasurement]:
    found = []
    for package in result.packages:
        item = package.create if operation == "create" else package.delete
        if item is not None:
            found.append(item)
    return found


@dataclass
class OperationRow:
    """One scenario's creates (or deletes), summarized.

    :param scenario: the scenario.
    :param operation: ``create`` or ``delete``.
    :param waits: the service-side waits the runs had.
    :param overheads: their overheads.
    :param describe_calls: DescribePackages calls per run.
    :param steady_gaps: every steady-state gap between DescribePackages calls.
    :param invocations: Lambda invocations per run.
    :param statuses: response statuses.
    :param errors: the scenario's errors.
    """

    scenario: Scenario
    operation: Operation
    waits: Summary
    overheads: Summary
    describe_calls: Summary
    steady_gaps: list[float]
    invocations: Summary
    statuses: list[str]
    errors: list[str] = field(default_factory=list)

    @property
    def bar(self) -> float:
        """The bar at this row's median wait."""
        return bar(self.waits.median)

    @property
    def all_succeeded(self) -> bool:
        """Every run answered SUCCESS."""
        return all(status == "SUCCESS" for status in self.statuses)

    @property
    def passed(self) -> bool:
        """Median overhead within the bar, every run answered SUCCESS, never before ready."""
        return (
            self.all_succeeded and self.overheads.median <= self.bar and self.overheads.minimum >= 0
        )

    @property
    def worst_within_bar(self) -> bool:
        """The slowest run is within the bar too."""
        return self.overheads.maximum <= self.bar

    @property
    def steady_gap(self) -> float | None:
        """The median steady-state gap between DescribePackages calls (``None``: none)."""
        return statistics.median(self.steady_gaps) if self.steady_gaps else None

    @property
    def describe_rate(self) -> float:
        """DescribePackages calls per 5 s of wait (median run)."""
        return self.describe_calls.median / max(self.waits.median / DESCRIBE_PERIOD, 1e-9)


def operation_rows(results: Sequence[ScenarioResult]) -> list[OperationRow]:
    """One row per scenario and operation that has measurements."""
    rows = []
    operations: tuple[Operation, ...] = ("create", "delete")
    for result in results:
        for operation in operations:
            items = _operation(result, operation)
            measured = [item for item in items if not math.isnan(item.overhead)]
            if not measured:
                continue
            rows.append(
                OperationRow(
                    scenario=result.scenario,
                    operation=operation,
                    waits=summarize(item.wait for item in measured),
                    overheads=summarize(item.overhead for item in measured),
                    describe_calls=summarize(item.describe_calls for item in measured),
                    steady_gaps=[gap for item in measured for gap in item.steady_gaps],
                    invocations=summarize(item.invocations for item in measured),
                    statuses=[item.status for item in items],
                    errors=list(result.errors),
                )
            )
    return rows


@dataclass(frozen=True)
class CostEstimate:
    """The fixed costs fed to the models and where each came from.

    :param costs: the values.
    :param sources: ``field -> how it was obtained``.
    """

    costs: models.Costs
    sources: dict[str, str]


def estimate_costs(results: Sequence[ScenarioResult]) -> CostEstimate:
    """Derive the models' fixed costs from the measurements (assumed values where none)."""
    round_trips = [r.api_round_trip for r in results if r.api_round_trip is not None]
    api_call = statistics.median(round_trips) if round_trips else models.Costs().api_call
    ours = [
        item
        for r in results
        if r.scenario.implementation == "ours"
        for item in _operation(r, "create") + _operation(r, "delete")
    ]
    seen = [item.seen_to_response for item in ours if item.seen_to_response is not None]
    respond = max(statistics.median(seen) - api_call, 0.0) if seen else models.Costs().respond
    colds = [
        cold
        for r in results
        if r.scenario.implementation == "crhelper"
        for item in _operation(r, "create")
        for cold in item.poll_cold_starts
    ]
    sources = {
        "api_call": (
            f"median DescribePackages round trip from boto3 on this machine ({len(round_trips)} "
            "scenario(s), 20 calls each)"
            if round_trips
            else "default (not measured)"
        ),
        "respond": (
            "median time from the probe that saw the final state to the response, minus "
            f"api_call ({len(seen)} runs of this provider)"
            if seen
            else "default (not measured)"
        ),
        "invoke": "assumed: a warm synchronous Lambda/Step Functions hand-off (not emulated)",
    }
    if colds:
        cold_start = statistics.median(colds)
        sources["cold_start"] = (
            f"median start-to-DescribePackages of the baseline's scheduled invocations "
            f"({len(colds)} measured)"
        )
    else:
        cold_start = ASSUMED_COLD_START_SECONDS
        sources["cold_start"] = "assumed (no scheduled invocation measured in this run)"
    costs = models.Costs(
        api_call=api_call,
        respond=respond,
        invoke=ASSUMED_INVOKE_SECONDS,
        cold_start=cold_start,
    )
    return CostEstimate(costs, sources)


ModelFunction = Callable[[float, models.Costs, Operation], models.ModelOutcome]


def model_functions(started_before: float) -> dict[str, ModelFunction]:
    """The models by column name, each ``(wait, costs, operation) -> outcome`` (real settings).

    :param started_before: this provider's measured start-to-API-call time (for its model).
    """
    return {
        "ours": lambda w, c, o: models.ours(w, c, operation=o, started_before=started_before),
        "crhelper": lambda w, c, o: models.crhelper_default(w, c, operation=o),
        "provider": lambda w, c, o: models.provider_framework(w, c, operation=o),
        "terraform": lambda w, c, o: models.terraform(w, c, operation=o),
    }


@dataclass
class ModelSummary:
    """A model fed a list of waits.

    :param outcomes: one per wait.
    """

    outcomes: list[models.ModelOutcome]

    @property
    def overheads(self) -> Summary:
        """Overheads of the waits the tool finished (all of them when it gave up on all)."""
        finished = [outcome.overhead for outcome in self.outcomes if not outcome.failed]
        return summarize(finished or [outcome.overhead for outcome in self.outcomes])

    @property
    def describe_calls(self) -> Summary:
        """DescribePackages calls summarized."""
        return summarize(outcome.describe_calls for outcome in self.outcomes)

    @property
    def waits_for_service(self) -> bool:
        """Whether the tool waits for the package at all."""
        return all(outcome.waits_for_service for outcome in self.outcomes)

    @property
    def failed(self) -> int:
        """How many waits the tool gave up on."""
        return sum(outcome.failed for outcome in self.outcomes)


@dataclass
class ComparisonRow:
    """One wait length: this provider measured against the others.

    :param row: this provider's measured row.
    :param crhelper: the baseline measured on the emulation at the same nominal wait, if run.
    :param modelled: model column -> the model fed this row's measured waits.
    :param crhelper_check: the crhelper model fed the measured baseline's waits with the
        baseline run's settings (time scale, timeout): how well the model matches the run.
    """

    row: OperationRow
    crhelper: OperationRow | None
    modelled: dict[str, ModelSummary]
    crhelper_check: ModelSummary | None = None


def comparison_rows(
    rows: Sequence[OperationRow], costs: models.Costs, started_before: float
) -> list[ComparisonRow]:
    """Feed each of this provider's rows' actual waits to every model; pair the measured
    baseline of the same nominal wait and operation."""
    functions = model_functions(started_before)
    compared = []
    for row in rows:
        if row.scenario.implementation != "ours":
            continue
        crhelper = next(
            (
                other
                for other in rows
                if other.scenario.implementation == "crhelper"
                and other.operation == row.operation
                and other.scenario.wait == row.scenario.wait
            ),
            None,
        )
        modelled = {
            name: ModelSummary([function(w, costs, row.operation) for w in row.waits.values])
            for name, function in functions.items()
        }
        check = None
        if crhelper is not None:
            settings = crhelper.scenario
            check = ModelSummary(
                [
                    models.crhelper_default(
                        w,
                        costs,
                        operation=row.operation,
                        function_timeout=settings.lambda_timeout or 300.0,
                        minute=60.0 * settings.time_scale,
                    )
                    for w in crhelper.waits.values
                ]
            )
        compared.append(ComparisonRow(row, crhelper, modelled, check))
    return compared


def extrapolation_rows(
    costs: models.Costs, started_before: float, waits: Sequence[float] = EXTRAPOLATION_WAITS
) -> list[tuple[float, dict[str, ModelSummary]]]:
    """Every model (real settings: 900 s Lambda timeout, real EventBridge minutes) at waits the
    emulation does not run, creates only; each at :data:`EXTRAPOLATION_SAMPLES` waits spread
    over ``W * (1 ± 10 %)`` so that a wait that happens to end right at a check does not decide
    the figure."""
    functions = model_functions(started_before)
    found = []
    for wait in waits:
        spread = [
            wait * (1 + EXTRAPOLATION_SPREAD * (2 * i / (EXTRAPOLATION_SAMPLES - 1) - 1))
            for i in range(EXTRAPOLATION_SAMPLES)
        ]
        found.append(
            (
                wait,
                {
                    name: ModelSummary([f(w, costs, "create") for w in spread])
                    for name, f in functions.items()
                },
            )
        )
    return found


@dataclass(frozen=True)
class Verdict:
    """One criterion of the project's bar.

    :param criterion: what is required.
    :param result: what was measured.
    :param passed: whether it holds.
    """

    criterion: str
    result: str
    passed: bool


def _fmt(seconds: float) -> str:
    return f"{seconds:.2f} s"


def verdicts(results: Sequence[ScenarioResult], synth: SynthResult | None) -> list[Verdict]:
    """The project's bar, criterion by criterion (only what was measured), after a check that
    every scenario ran cleanly."""
    found: list[Verdict] = []
    rows = operation_rows(results)
    if results:
        problems = [
            f"{result.scenario.key}: {result.deploy_status or 'no deploy'}/"
            f"{result.delete_status or 'no delete'}, {len(result.errors)} problem(s), "
            f"{len(result.packages)}/{result.scenario.runs} packages measured"
            for result in results
            if result.errors
            or result.deploy_status != "CREATE_COMPLETE"
            or result.delete_status != "DELETE_COMPLETE"
            or len(result.packages) != result.scenario.runs
        ]
        found.append(
            Verdict(
                "every scenario deployed, measured and deleted cleanly (nothing left behind)",
                "; ".join(problems) if problems else f"{len(results)} scenarios",
                not problems,
            )
        )
    ours = [row for row in rows if row.scenario.implementation == "ours"]
    operations: tuple[Operation, ...] = ("create", "delete")
    for operation in operations:
        mine = [row for row in ours if row.operation == operation]
        if not mine:
            continue
        details = "; ".join(
            f"{row.scenario.key}: {_fmt(row.overheads.median)} "
            f"(worst {_fmt(row.overheads.maximum)}) vs {_fmt(row.bar)}"
            f"{'' if row.all_succeeded else ' NOT ALL SUCCESS'}"
            for row in mine
        )
        worst = [row.scenario.key for row in mine if not row.worst_within_bar]
        if worst:
            details += f"; worst run above the bar in {', '.join(worst)}"
        found.append(
            Verdict(
                f"{operation} overhead <= max(1 s, 10 % of the wait) at every wait (median)",
                details,
                all(row.passed for row in mine),
            )
        )
    # a scaled scenario starts a polling invocation every 12 s instead of every minute, each
    # probing at its start: its gaps say nothing about the real rate, so it is shown, not judged
    with_gaps = [row for row in ours if row.steady_gap is not None]
    long_rows = [row for row in with_gaps if not row.scenario.scaled]
    if long_rows:
        details = "; ".join(
            f"{row.scenario.key} {row.operation}: median gap {_fmt(row.steady_gap or 0.0)} after "
            f"the first minute, {row.describe_calls.median:.0f} calls over "
            f"{row.waits.median:.0f} s" + (" (scaled: not judged)" if row.scenario.scaled else "")
            for row in with_gaps
        )
        found.append(
            Verdict(
                "at most about one DescribePackages per 5 s once a wait is long",
                details,
                all(
                    (row.steady_gap or 0.0) >= DESCRIBE_TOLERANCE * DESCRIBE_PERIOD
                    for row in long_rows
                ),
            )
        )
    deletes = [row for row in ours if row.operation == "delete"]
    if deletes:
        shortest = min(deletes, key=lambda row: row.waits.median)
        found.append(
            Verdict(
                "delete adds no fixed sleep",
                f"{shortest.scenario.key}: gone -> SUCCESS median {_fmt(shortest.overheads.median)}"
                f" (max {_fmt(shortest.overheads.maximum)}) after a "
                f"{shortest.waits.median:.1f} s DELETING",
                shortest.overheads.maximum <= 1.0 and shortest.overheads.minimum >= 0,
            )
        )
    if synth is not None and len(synth.sizes) > 1:
        small, large = synth.sizes[0], synth.sizes[-1]
        found.append(
            Verdict(
                f"synth time for {large.packages} packages within twice that of {small.packages}",
                f"{_fmt(large.app_summary.median)} vs {_fmt(small.app_summary.median)} "
                f"(ratio {synth.ratio():.2f})",
                synth.ratio() <= 2.0,
            )
        )
    return found
