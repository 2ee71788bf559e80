"""The benchmark report: ``RESULTS.md`` (tables), ``overhead.png`` (plot) and ``results.json``.

Nothing written here names a path of the machine that ran the benchmark.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import json
import math
import os
import platform
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import models
from .analysis import (
    EXTRAPOLATION_SAMPLES,
    EXTRAPOLATION_SPREAD,
    ComparisonRow,
    CostEstimate,
    ModelSummary,
    Operation,
    OperationRow,
    Verdict,
    bar,
    comparison_rows,
    estimate_costs,
    extrapolation_rows,
    operation_rows,
    verdicts,
)
from .apps import REPO_ROOT
from .asset import AssetResult
from .overhead import ScenarioResult
from .stats import Summary, summarize
from .synth import SynthResult

__all__ = ["BenchRun", "load_run", "machine_info", "write_report"]

_PACKAGES = ("boto3", "botocore", "aws-cdk-lib", "constructs", "crhelper", "moto", "matplotlib")
_MODEL_COLUMNS = (
    ("crhelper", "crhelper defaults (model)"),
    ("provider", "CDK Provider framework (model)"),
    ("terraform", "Terraform (model)"),
)


@dataclass
class BenchRun:
    """Everything one ``bench/run.py`` invocation measured.

    :param mode: ``full`` or ``quick``.
    :param started: when the run started (UTC).
    :param machine: :func:`machine_info`.
    :param overhead: the scenarios' results (empty when skipped).
    :param synth: the synth benchmark (``None`` when skipped).
    :param assets: the asset benchmark (``None`` when skipped).
    :param phases: phase name -> (seconds, load average at start, load average at end).
    :param argv: the command line options.
    """

    mode: str
    started: datetime.datetime
    machine: dict[str, str]
    overhead: list[ScenarioResult] = field(default_factory=list)
    synth: SynthResult | None = None
    assets: AssetResult | None = None
    phases: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    argv: list[str] = field(default_factory=list)


def load_run(path: Path) -> BenchRun:
    """Read a ``results.json`` written by :func:`write_report` back (to render it again)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return BenchRun(
        mode=str(data["mode"]),
        started=datetime.datetime.fromisoformat(data["started"]),
        machine={str(k): str(v) for k, v in data["machine"].items()},
        overhead=[ScenarioResult.from_dict(item) for item in data["overhead"]],
        synth=None if data["synth"] is None else SynthResult.from_dict(data["synth"]),
        assets=None if data["assets"] is None else AssetResult.from_dict(data["assets"]),
        phases={k: (float(v[0]), float(v[1]), float(v[2])) for k, v in data["phases"].items()},
        argv=[str(item) for item in data["argv"]],
    )


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return ""


def _command_output(command: list[str]) -> str:
    try:
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError:
        return "not found"
    return completed.stdout.strip() or completed.stderr.strip() or "unknown"


def machine_info() -> dict[str, str]:
    """CPU, cores, RAM, OS, Python, Node.js and the versions of the packages that matter."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    memory = next(
        (
            int(line.split()[1]) * 1024
            for line in _read("/proc/meminfo").splitlines()
            if line.startswith("MemTotal:")
        ),
        0,
    )
    os_name = next(
        (
            line.split("=", 1)[1].strip().strip('"')
            for line in _read("/etc/os-release").splitlines()
            if line.startswith("PRETTY_NAME=")
        ),
        platform.system(),
    )
    info = {
        "CPU": cpu,
        "cores": f"{os.cpu_count()} logical ({len(os.sched_getaffinity(0))} usable)",
        "RAM": f"{memory / 2**30:.1f} GiB" if memory else "unknown",
        "OS": f"{os_name}, kernel {platform.release()}",
        "Python": platform.python_version(),
        "Node.js": _command_output([str(Path(sys.executable).parent / "node"), "--version"]),
    }
    for package in _PACKAGES:
        try:
            info[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            info[package] = "not installed"
    cli = _read(str(REPO_ROOT / "node_modules" / "aws-cdk" / "package.json"))
    info["aws-cdk (CLI)"] = json.loads(cli).get("version", "unknown") if cli else "not installed"
    return info


# ----------------------------------------------------------------------------- formatting


def _s(seconds: float, digits: int = 2) -> str:
    return f"{seconds:.{digits}f} s"


def _summary(summary: Summary, digits: int = 2, unit: str = " s", *, flag: bool = True) -> str:
    return summary.format(digits, unit, flag=flag)


def _mark(passed: bool) -> str:
    return "**pass**" if passed else "**FAIL**"


def _calls(summary: Summary) -> str:
    return f"{summary.median:.0f}" if summary.count == 1 else summary.format(0, flag=False)


def _not_waiting(overheads: Summary, sleeps: bool) -> str:
    if sleeps:
        if overheads.minimum > 0:
            return f"fixed sleep, no wait: done {_summary(overheads)} after the package is gone"
        return f"fixed sleep, no wait: {_summary(overheads)} (< 0: before the package is gone)"
    if overheads.maximum < 0:
        return f"does not wait: done {-overheads.median:.2f} s before the package is gone"
    return f"does not wait: {_summary(overheads)}"


def _model_cell(model: ModelSummary) -> str:
    if not model.waits_for_service:
        return _not_waiting(model.overheads, sleeps=model.outcomes[0].tool.startswith("crhelper"))
    text = f"{_summary(model.overheads)}; {_calls(model.describe_calls)} calls"
    if model.failed:
        text += f"; gives up (timeout) in {model.failed} of {len(model.outcomes)} (not counted)"
    return text


def _measured_cell(row: OperationRow | None, check: ModelSummary | None = None) -> str:
    if row is None:
        return "not run"
    if row.scenario.implementation == "crhelper" and row.operation == "delete":
        text = _not_waiting(row.overheads, sleeps=True)
    else:
        text = f"{_summary(row.overheads)}; {_calls(row.describe_calls)} calls"
    if not row.all_succeeded:
        text += f"; statuses {sorted(set(row.statuses))}"
    if row.scenario.scaled:
        text += f" (scaled: {row.scenario.describe_scaling()})"
    if check is not None:
        text += f"; the model at the same settings: {_summary(check.overheads)}"
    return text


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines.extend("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows)
    return lines


def _overhead_section(rows: Sequence[OperationRow]) -> list[str]:
    ours = [row for row in rows if row.scenario.implementation == "ours"]
    lines = [
        "## Completion overhead of this provider (measured on the emulation)",
        "",
        "Overhead = CloudFormation's SUCCESS (the response PUT reaching the stand-in's listener) "
        "minus the moment the package became AVAILABLE (create) or disappeared (delete), both "
        "from the local OpenSearch API's logs. DescribePackages calls are those filtered on the "
        "package id between the operation's API call and the response. Values: median "
        "[min, max] over the runs; ⚠ marks a spread above 20 % of the median. Most of an "
        "overhead's spread is the polling phase, sampled on purpose (the waits differ by up to "
        "±10 %, so each run's package becomes ready at another point between two probes).",
        "",
    ]
    table = []
    for row in ours:
        gap = "-" if row.steady_gap is None else _s(row.steady_gap)
        table.append(
            [
                row.scenario.key,
                row.operation,
                str(row.overheads.count),
                _summary(row.waits, 1, flag=False),
                _summary(row.overheads),
                _s(row.bar),
                _mark(row.passed),
                _calls(row.describe_calls),
                f"{row.describe_rate:.2f}",
                gap,
                _calls(row.invocations),
                row.scenario.describe_scaling(),
            ]
        )
    lines += _table(
        [
            "scenario",
            "operation",
            "runs",
            "service-side wait",
            "overhead",
            "bar",
            "median within bar",
            "DescribePackages",
            "calls per 5 s",
            "gap after 1st minute",
            "invocations",
            "scaled",
        ],
        table,
    )
    worst = [row for row in ours if not row.worst_within_bar]
    if worst:
        lines += [
            "",
            "Slowest run above the bar (the median is what the bar is judged on): "
            + "; ".join(
                f"{row.scenario.key} {row.operation} {_s(row.overheads.maximum)} vs {_s(row.bar)}"
                for row in worst
            )
            + ". The in-process probe interval is 10 % of the time elapsed since the first "
            "invocation started, so a package that becomes ready just after a probe waits for the "
            "next one: up to about 10 % of the wait plus one round trip.",
        ]
    return lines


def _comparison_section(compared: Sequence[ComparisonRow], estimate: CostEstimate) -> list[str]:
    lines = [
        "## Against what users would pick instead",
        "",
        "Each cell: overhead median [min, max]; DescribePackages calls (median [min, max]). "
        "The models are fed the service-side waits this provider's runs actually had. "
        "Measured crhelper runs use their own waits (same nominal value, same jitter).",
        "",
    ]
    table = []
    for item in compared:
        row = item.row
        cells = [
            f"{row.scenario.key} {row.operation}",
            _summary(row.waits, 1, flag=False),
            _measured_cell(row),
            _measured_cell(item.crhelper, item.crhelper_check),
        ]
        cells += [_model_cell(item.modelled[name]) for name, _title in _MODEL_COLUMNS]
        table.append(cells)
    lines += _table(
        [
            "scenario",
            "service-side wait",
            "this provider (measured)",
            "crhelper defaults (measured)",
            *[title for _name, title in _MODEL_COLUMNS],
        ],
        table,
    )
    costs = estimate.costs
    lines += [
        "",
        "Fixed costs fed to the models: "
        + "; ".join(
            f"`{name}` = {getattr(costs, name) * 1000:.1f} ms ({estimate.sources[name]})"
            for name in ("api_call", "respond", "invoke", "cold_start")
        )
        + ".",
        "",
        "What the models replay (read in the tools' sources):",
        "",
        f"- CDK Provider framework: `queryInterval` default {models.PROVIDER_QUERY_INTERVAL:g} s, "
        f"`totalTimeout` default {models.PROVIDER_TOTAL_TIMEOUT / 60:g} min "
        "(aws-cdk `packages/aws-cdk-lib/custom-resources/lib/provider-framework/util.ts`); the "
        "waiter state machine invokes `isComplete` at once, then retries every `queryInterval` "
        "with `BackoffRate` 1 and `MaxAttempts` = totalTimeout / queryInterval "
        "(`waiter-state-machine.ts`); delete is modelled with an `isComplete` that waits for the "
        "package to be gone.",
        f"- Terraform `aws_opensearch_package`: `Delay` {models.TERRAFORM_DELAY:g} s, "
        f"`MinTimeout` {models.TERRAFORM_MIN_TIMEOUT:g} s, `Timeout` "
        f"{models.TERRAFORM_TIMEOUT / 60:g} min (terraform-provider-aws "
        "`internal/service/opensearch/package.go`, `waitPackageValidationCompleted`, create "
        "only), then one more DescribePackages (the read). terraform-plugin-sdk's "
        "`WaitForStateContext` doubles its wait from 100 ms, raises it to `MinTimeout` or else "
        f"caps it at {models.TERRAFORM_MAX_WAIT:g} s, so checks come at 30 s, 45 s, then every "
        "10 s (not every 15 s). Delete calls DeletePackage and returns without waiting for the "
        "package to be gone (shown as a negative overhead: done before the package is).",
        "- crhelper 2.0.12 defaults: `polling_interval=2` (a `rate(2 minutes)` rule, the first "
        "check about 2 minutes after the create, one DescribePackages per scheduled cold "
        "invocation) and `sleep_on_delete=120` (a delete answers 120 s after DeletePackage "
        "whatever the package does, when the function has more than 135 s left).",
    ]
    return lines


def _extrapolation_section(costs: models.Costs, started_before: float) -> list[str]:
    lines = [
        "## Longer waits (models only, real settings)",
        "",
        "The emulation cannot run hour-long waits in a benchmark; the same models (this "
        "provider's with a 900 s Lambda timeout and real EventBridge minutes) at longer creates, "
        "each at 21 waits spread over W ± 10 % (median [min, max]):",
        "",
    ]
    table = []
    for wait, modelled in extrapolation_rows(costs, started_before):
        cells = [f"{wait:g} s", _s(bar(wait), 1)]
        for name in ("ours", "crhelper", "provider", "terraform"):
            model = modelled[name]
            if model.failed == len(model.outcomes):
                cells.append(f"gives up (timeout) after {_calls(model.describe_calls)} calls")
            else:
                cells.append(_model_cell(model))
        table.append(cells)
    lines += _table(
        [
            "wait",
            "bar",
            "this provider (model)",
            "crhelper defaults (model)",
            "CDK Provider framework (model)",
            "Terraform (model)",
        ],
        table,
    )
    return lines


def _glance_section(compared: Sequence[ComparisonRow]) -> list[str]:
    """Medians only: one line per wait and operation."""

    def median(summary: Summary) -> str:
        return f"{summary.median:.2f} s"

    table = []
    for item in compared:
        row = item.row
        crhelper = "not run" if item.crhelper is None else median(item.crhelper.overheads)
        if item.crhelper is not None and row.operation == "delete":
            crhelper += " (fixed sleep)"
        if item.crhelper is not None and item.crhelper.scenario.scaled:
            crhelper += " (scaled)"
        cells = [
            f"{row.scenario.key} {row.operation}",
            f"{row.waits.median:.0f} s",
            median(row.overheads) + (" (scaled)" if row.scenario.scaled else ""),
            crhelper,
        ]
        for name, _title in _MODEL_COLUMNS:
            model = item.modelled[name]
            text = median(model.overheads)
            if not model.waits_for_service:
                sleeps = model.outcomes[0].tool.startswith("crhelper")
                text += " (fixed sleep)" if sleeps else " (no wait)"
            cells.append(text)
        table.append(cells)
    lines = [
        "## At a glance",
        "",
        "Median overhead from the package being ready to the tool being done (details below; "
        "a negative value means the tool was done before the package was ready).",
        "",
    ]
    lines += _table(
        [
            "scenario",
            "wait",
            "this provider",
            "crhelper defaults (measured)",
            "crhelper (model)",
            "Provider framework (model)",
            "Terraform (model)",
        ],
        table,
    )
    return lines


def _asset_section(assets: AssetResult) -> list[str]:
    lines = [
        "## Handler asset: size and cold import",
        "",
        f"Cold `import index` in a fresh interpreter started like the Lambda stand-in starts one, "
        f"{assets.runs} runs per variant, interleaved; the second column adds the first "
        '`boto3.client("opensearch")`. Zip: sorted entries, deflate level 9 (as the CDK CLI '
        "packages a directory asset). Lambda's limits: 50 MB zipped (direct upload), 250 MB "
        "unzipped.",
        "",
    ]
    table = [
        [
            variant.name,
            str(variant.files),
            f"{variant.unpacked_bytes / 1e6:.2f} MB",
            f"{variant.zip_bytes / 1e6:.2f} MB",
            _summary(variant.import_summary, 3),
            _summary(variant.client_summary, 3),
            variant.botocore_version,
        ]
        for variant in assets.variants
    ]
    lines += _table(
        [
            "asset",
            "files",
            "unpacked",
            "zipped",
            "cold import index",
            "+ first opensearch client",
            "botocore imported",
        ],
        table,
    )
    lines += [
        "",
        "The service-model variant imports the runtime's boto3 (here the emulation's runtime "
        "libraries, i.e. this environment's boto3, precompiled); on AWS that is whatever boto3 "
        "the Python runtime ships, with the newest opensearch model laid over it through "
        "`AWS_DATA_PATH`.",
    ]
    return lines


def _synth_section(synth: SynthResult) -> list[str]:
    lines = [
        "## `cdk synth` time and template size",
        "",
        "One stack, n `OpenSearchPackage` constructs each with its own synonyms file (an asset), "
        "no domain; fresh process per synthesis; sizes interleaved run by run.",
        "",
    ]
    table = []
    for size in synth.sizes:
        cli = "not run" if size.cli_summary is None else _summary(size.cli_summary)
        table.append(
            [
                str(size.packages),
                _summary(size.app_summary),
                cli,
                f"{size.template_bytes / 1000:.1f} kB",
                str(size.resources),
                str(size.custom_resources),
                str(size.functions),
                str(size.assets),
                f"{size.assembly_bytes / 1e6:.2f} MB",
            ]
        )
    lines += _table(
        [
            "packages",
            "python app.py",
            "npx cdk synth",
            "template",
            "resources",
            "Custom::OpenSearchPackage",
            "Lambda functions",
            "file assets",
            "cloud assembly",
        ],
        table,
    )
    return lines


def _envelope(
    function: Callable[[float, Operation], models.ModelOutcome],
    operation: Operation,
    grid: Sequence[float],
) -> tuple[list[float], list[float], list[float], list[float]]:
    """Median, min and max overhead of a model over ``W * (1 ± 10 %)`` at each grid point
    (waits it gives up on, or answers before the package is ready, are left out)."""
    xs: list[float] = []
    medians: list[float] = []
    lows: list[float] = []
    highs: list[float] = []
    for wait in grid:
        values = []
        for index in range(EXTRAPOLATION_SAMPLES):
            offset = EXTRAPOLATION_SPREAD * (2 * index / (EXTRAPOLATION_SAMPLES - 1) - 1)
            outcome = function(wait * (1 + offset), operation)
            if not outcome.failed and outcome.overhead > 0:
                values.append(outcome.overhead)
        if len(values) * 2 > EXTRAPOLATION_SAMPLES:
            summary = summarize(values)
            xs.append(wait)
            medians.append(max(summary.median, _PLOT_FLOOR))
            lows.append(max(summary.minimum, _PLOT_FLOOR))
            highs.append(max(summary.maximum, _PLOT_FLOOR))
    return xs, medians, lows, highs


_PLOT_FLOOR = 0.01


def _plot(path: Path, rows: Sequence[OperationRow], costs: models.Costs, started: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = [10 ** (i / 40) for i in range(0, 143)]  # 1 s .. ~1 h
    figure, axes = plt.subplots(1, 2, figsize=(13, 6), sharey=True)
    styles: dict[str, tuple[str, str, Callable[[float, Operation], models.ModelOutcome]]] = {
        "ours": (
            "this provider (model, real settings)",
            "tab:blue",
            lambda w, o: models.ours(w, costs, operation=o, started_before=started),
        ),
        "crhelper": (
            "crhelper defaults (model)",
            "tab:red",
            lambda w, o: models.crhelper_default(w, costs, operation=o),
        ),
        "provider": (
            "CDK Provider framework (model)",
            "tab:green",
            lambda w, o: models.provider_framework(w, costs, operation=o),
        ),
        "terraform": (
            "Terraform (model)",
            "tab:purple",
            lambda w, o: models.terraform(w, costs, operation=o),
        ),
    }
    operations: tuple[Operation, ...] = ("create", "delete")
    for axis, operation in zip(axes, operations, strict=True):
        axis.plot(grid, [bar(w) for w in grid], "k--", linewidth=1, label="bar: max(1 s, 10 %)")
        for label, color, function in styles.values():
            xs, medians, _lows, highs = _envelope(function, operation, grid)
            if xs:
                axis.plot(xs, medians, color=color, linewidth=1.4, label=label)
                axis.plot(xs, highs, color=color, linewidth=0.8, linestyle=":", alpha=0.9)
        for implementation, marker, color in (("ours", "o", "tab:blue"), ("crhelper", "s", "red")):
            for row in rows:
                if row.scenario.implementation != implementation or row.operation != operation:
                    continue
                if row.overheads.median <= 0:
                    continue  # answered before the package was ready: not on a log scale
                y = max(row.overheads.median, _PLOT_FLOOR)
                low = max(row.overheads.minimum, _PLOT_FLOOR)
                high = max(row.overheads.maximum, _PLOT_FLOOR)
                name = "this provider" if implementation == "ours" else "crhelper defaults"
                scaled = row.scenario.scaled
                axis.errorbar(
                    [row.waits.median],
                    [y],
                    yerr=[[y - low], [high - y]],
                    fmt=marker,
                    color=color,
                    markerfacecolor="white" if scaled else color,
                    markersize=7,
                    capsize=3,
                    label=f"{name} (measured{', scaled' if scaled else ''})",
                )
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlim(1, 4000)
        axis.set_ylim(_PLOT_FLOOR, 400)
        axis.set_xlabel("service-side wait W (s)")
        axis.grid(True, which="major", alpha=0.3)
        title = "create: AVAILABLE -> SUCCESS"
        if operation == "delete":
            title = "delete: gone -> SUCCESS (Terraform does not wait: not shown)"
        axis.set_title(title, fontsize=10)
    axes[0].set_ylabel("overhead (s)")
    handles: dict[str, Any] = {}
    for axis in axes:
        for handle, label in zip(*axis.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    figure.legend(
        list(handles.values()), list(handles.keys()), loc="lower center", ncol=4, fontsize=8
    )
    figure.suptitle(
        "Completion overhead vs service-side wait (models: median, dotted: worst, over "
        "W ± 10 %; measured: median [min, max])",
        fontsize=11,
    )
    figure.tight_layout(rect=(0, 0.1, 1, 1))
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _started_before(rows: Sequence[ScenarioResult]) -> float:
    delays = [
        item.create.first_call_delay
        for result in rows
        if result.scenario.implementation == "ours"
        for item in result.packages
        if item.create is not None and item.create.first_call_delay is not None
    ]
    return summarize(delays).median if delays else 0.5


def _verdict_section(found: Sequence[Verdict]) -> list[str]:
    lines = ["## The project's bar", ""]
    lines += _table(
        ["criterion", "measured", "result"],
        [[item.criterion, item.result, _mark(item.passed)] for item in found],
    )
    return lines


def _busy(run: BenchRun, phase: str) -> bool:
    """Whether the machine was loaded beyond its CPUs around a phase."""
    if phase not in run.phases:
        return False
    _seconds, before, after = run.phases[phase]
    return max(before, after) > (os.cpu_count() or 1)


def _busy_note(run: BenchRun, phase: str) -> list[str]:
    if not _busy(run, phase):
        return []
    _seconds, before, after = run.phases[phase]
    return [
        "",
        f"⚠ The machine was loaded during this phase (1-minute load average {before:.1f} "
        f"before, {after:.1f} after, on {os.cpu_count()} CPUs; the benchmark's own processes "
        "count too): these times are likely inflated and noisier than on an idle machine.",
    ]


def _notes_section(run: BenchRun) -> list[str]:
    lines = ["## How this was run", ""]
    scenarios = [result.scenario for result in run.overhead]
    background = [s.key for s in scenarios if s.group == 1]
    sequential = [s.key for s in scenarios if s.group != 1]
    if scenarios:
        lines += [
            "- Each overhead scenario ran in its own process with its own emulation (moto, the "
            "local OpenSearch API, the CloudFormation and Lambda stand-ins): one stack of n "
            "packages created at once, then deleted. Each package got its own service-side wait, "
            "`W * (1 ± 10 %)` spread evenly, so that the runs sample the handler's polling "
            "phase; the waits reported are the ones the transitions log shows (near-simultaneous "
            "CreatePackage calls can share a wait).",
            f"- Concurrency: {', '.join(background) or 'none'} started first, one start-up at a "
            "time, and then only waited; "
            f"{', '.join(sequential) or 'none'} ran afterwards one at a time while those waited.",
            "- Scaled scenarios are marked in the tables. The long case (`ours-long`) runs with "
            "the stand-in's Lambda timeout override and time scale: the provider keeps 20 s of "
            "every invocation in reserve, so a 30 s timeout leaves about 10 s of in-process "
            "waiting per invocation and every longer wait goes through its EventBridge polling "
            "(rule, scheduled invocations); the EventBridge minute is shortened in the same "
            "proportion as the invocations (on AWS: 50 s of waiting per 60 s minute). Nothing "
            "else is scaled: the OpenSearch waits, the probe interval and the response are real "
            "time.",
        ]
        crhelper = [s for s in scenarios if s.implementation == "crhelper"]
        if crhelper:
            lines.append(
                "- The crhelper baseline (`bench/crhelper_default/index.py`) ran for real on the "
                "same emulation: "
                + "; ".join(f"{s.key}: {s.describe_scaling()}" for s in crhelper)
                + "."
            )
    for name, (seconds, before, after) in run.phases.items():
        lines.append(
            f"- Phase `{name}`: {seconds:.0f} s wall; 1-minute load average {before:.2f} before, "
            f"{after:.2f} after (the machine has {os.cpu_count()} logical CPUs and may be shared)"
            + (" ⚠ loaded" if _busy(run, name) else "")
            + "."
        )
    errors = [(r.scenario.key, e) for r in run.overhead for e in r.errors]
    if errors:
        lines.append("- Problems seen: " + "; ".join(f"{k}: {e[:300]}" for k, e in errors))
    lines += [
        f"- Command: `{' '.join(['python bench/run.py', *run.argv])}`",
        "  (`make bench` runs the full benchmark; `python bench/run.py --quick` is a smoke run "
        "of a minute or two that writes to `bench/results/quick/`).",
    ]
    return lines


def write_report(run: BenchRun, out_dir: Path) -> Path:
    """Write ``RESULTS.md``, ``overhead.png`` and ``results.json`` into ``out_dir``.

    :return: the markdown file.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = operation_rows(run.overhead)
    estimate = estimate_costs(run.overhead) if run.overhead else CostEstimate(models.Costs(), {})
    started_before = _started_before(run.overhead)
    compared = comparison_rows(rows, estimate.costs, started_before)
    found = verdicts(run.overhead, run.synth)
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `bench/run.py` ({run.mode} run) on "
        f"{run.started.strftime('%Y-%m-%d %H:%M UTC')}.",
        "",
    ]
    if run.mode != "full":
        lines += [
            "**Quick smoke run: few runs, shortened scenarios. Not the figures to quote.**",
            "",
        ]
    lines += ["## Machine", ""]
    lines += _table(["", ""], [[key, value] for key, value in run.machine.items()])
    lines += [""]
    lines += _verdict_section(found)
    if rows:
        lines += ["", *_glance_section(compared)]
        lines += ["", *_overhead_section(rows), *_busy_note(run, "overhead")]
        lines += ["", *_comparison_section(compared, estimate)]
        lines += ["", *_extrapolation_section(estimate.costs, started_before)]
        _plot(out_dir / "overhead.png", rows, estimate.costs, started_before)
        lines += ["", "![overhead vs wait](overhead.png)", ""]
        lines += [
            "The lines are the models from 1 s to an hour: at each wait W, the median (solid) "
            "and the worst (dotted) overhead over 21 waits spread across W ± 10 % (where a wait "
            "ends between two checks decides its overhead); waits a tool gives up on, or answers "
            "before the package is ready, are left out. The points are the measured medians "
            "with their min and max; hollow points ran scaled. Overheads below 10 ms are drawn "
            "at 10 ms.",
        ]
    if run.assets is not None:
        lines += ["", *_asset_section(run.assets), *_busy_note(run, "asset")]
    if run.synth is not None:
        lines += ["", *_synth_section(run.synth), *_busy_note(run, "synth")]
    lines += ["", *_notes_section(run), ""]
    markdown = out_dir / "RESULTS.md"
    markdown.write_text("\n".join(lines), encoding="utf-8")
    (out_dir / "results.json").write_text(
        json.dumps(_clean(_raw(run, estimate, started_before)), indent=1, allow_nan=False),
        encoding="utf-8",
    )
    return markdown


def _clean(value: Any) -> Any:
    """JSON-safe copy: NaN/inf become ``None``."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(key): _clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    return value


def _raw(run: BenchRun, estimate: CostEstimate, started_before: float) -> dict[str, Any]:
    return {
        "mode": run.mode,
        "started": run.started.isoformat(),
        "argv": run.argv,
        "machine": run.machine,
        "phases": {k: list(v) for k, v in run.phases.items()},
        "model_costs": {
            "values": vars(estimate.costs),
            "sources": estimate.sources,
            "started_before": started_before,
        },
        "overhead": [result.to_dict() for result in run.overhead],
        "synth": None if run.synth is None else run.synth.to_dict(),
        "assets": None if run.assets is None else run.assets.to_dict(),
    }
