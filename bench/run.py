"""Run the benchmarks and write ``bench/results/RESULTS.md`` (``make bench``).

Phases, in this order (each can be left out with ``--only``):

1. ``overhead``: completion overhead of this provider and of a plain crhelper handler on the
   offline emulation (:mod:`bench.overhead`), compared with models of the CDK Provider framework
   and Terraform (:mod:`bench.models`);
2. ``asset``: the handler asset's size and cold import time, against bundling boto3
   (:mod:`bench.asset`);
3. ``synth``: ``cdk synth`` time and template size for 1, 25 and 100 packages
   (:mod:`bench.synth`);
4. ``deploy``: deploy time of one domain's packages (two dictionaries, a plugin, its license
   and configuration): domain operations and wall time of create, update and delete
   (:mod:`bench.deploy_time`, written to ``DEPLOY_TIME.md``).

``--quick`` is a smoke run of a minute or two (few runs, short scenarios, results in
``bench/results/quick/``); the default full run takes about ten minutes on two cores.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script (python bench/run.py): import as ``bench``
    _HERE = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
    for _path in (_HERE.parent / "constructs", _HERE.parent / "lambda", _HERE.parent):
        if str(_path) not in sys.path:
            sys.path.insert(0, str(_path))

import argparse
import datetime
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from bench.analysis import verdicts
from bench.apps import (
    BENCH_DIR,
    REPO_ROOT,
    synthesize,
    write_crhelper_app,
    write_packages_app,
)
from bench.asset import measure_assets
from bench.deploy_time import measure_deploy_time
from bench.overhead import Implementation, Scenario, run_scenarios
from bench.report import BenchRun, load_run, machine_info, write_report
from bench.synth import measure_synth

T = TypeVar("T")
PHASES = ("overhead", "asset", "synth", "deploy")


@dataclass(frozen=True)
class Plan:
    """What a run measures and how many times.

    :param mode: ``full`` or ``quick``.
    :param scenarios: the overhead scenarios.
    :param synth_sizes: numbers of packages for the synth benchmark.
    :param synth_runs: ``python app.py`` runs per size.
    :param cli_runs: CDK CLI runs per size.
    :param import_runs: cold imports per asset variant.
    """

    mode: str
    scenarios: tuple[Scenario, ...]
    synth_sizes: tuple[int, ...]
    synth_runs: int
    cli_runs: int
    import_runs: int


def full_plan(runs: int = 5, crhelper_runs: int = 3) -> Plan:
    """The default run (about ten minutes on two cores).

    :param runs: packages (runs) per wait for this provider.
    :param crhelper_runs: packages (runs) per wait for the crhelper baseline.
    """
    scenarios = [
        Scenario("ours-2", "ours", 2.0, runs, seed=1),
        Scenario("ours-10", "ours", 10.0, runs, seed=2),
        Scenario("ours-30", "ours", 30.0, runs, seed=3),
        Scenario("ours-120", "ours", 120.0, runs, group=1, seed=4),
        # longer than one (overridden, 30 s) Lambda invocation: about 10 s of in-process
        # waiting per invocation, an EventBridge minute of 12 s (9 s of waiting per 12 s,
        # as 50 s per 60 s on AWS)
        Scenario(
            "ours-long",
            "ours",
            90.0,
            max(3, runs - 2),
            lambda_timeout=30.0,
            time_scale=0.2,
            group=1,
            seed=5,
        ),
        Scenario("crhelper-2", "crhelper", 2.0, crhelper_runs, group=1, seed=6),
        Scenario("crhelper-10", "crhelper", 10.0, crhelper_runs, group=1, seed=7),
        Scenario("crhelper-30", "crhelper", 30.0, crhelper_runs, group=1, seed=8),
    ]
    return Plan("full", tuple(scenarios), (1, 25, 100), 3, 3, 7)


def quick_plan() -> Plan:
    """A smoke run of a minute or two: every code path, few runs, scaled baseline."""
    scenarios = [
        Scenario("ours-2", "ours", 2.0, 2, seed=1),
        Scenario("ours-10", "ours", 10.0, 2, seed=2),
        Scenario(
            "ours-long", "ours", 20.0, 2, lambda_timeout=25.0, time_scale=0.1, group=1, seed=5
        ),
        # rate(2 minutes) every 10 s; the 30 s timeout override also skips sleep_on_delete
        Scenario(
            "crhelper-2",
            "crhelper",
            2.0,
            2,
            lambda_timeout=30.0,
            time_scale=1 / 12,
            group=1,
            seed=6,
        ),
    ]
    return Plan("quick", tuple(scenarios), (1, 25), 1, 0, 2)


def _load() -> float:
    return os.getloadavg()[0]


def _timed(run: BenchRun, name: str, action: Callable[[], T]) -> T:
    print(f"[{name}] started (load average {_load():.2f})", flush=True)
    before, started = _load(), time.perf_counter()
    result = action()
    seconds = time.perf_counter() - started
    run.phases[name] = (seconds, before, _load())
    print(f"[{name}] done in {seconds:.0f} s", flush=True)
    return result


def _assemblies(scenarios: Sequence[Scenario], work: Path) -> dict[Implementation, dict[int, Path]]:
    """Synthesize one stack per (implementation, runs) the scenarios need, in parallel."""
    needed = sorted({(s.implementation, s.runs) for s in scenarios})

    def build(item: tuple[Implementation, int]) -> tuple[Implementation, int, Path]:
        implementation, count = item
        directory = work / f"app-{implementation}-{count}"
        writer = write_packages_app if implementation == "ours" else write_crhelper_app
        app = writer(directory, count)
        return implementation, count, synthesize(app, directory / "cdk.out").out_dir

    found: dict[Implementation, dict[int, Path]] = {"ours": {}, "crhelper": {}}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for implementation, count, out_dir in pool.map(build, needed):
            found[implementation][count] = out_dir
    return found


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="bench/run.py", description=(__doc__ or "").split("\n", 1)[0]
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run of a minute or two")
    parser.add_argument(
        "--only",
        action="append",
        choices=PHASES,
        help="run only this phase (repeatable); default: all",
    )
    parser.add_argument("--runs", type=int, default=5, help="runs per wait (this provider)")
    parser.add_argument("--crhelper-runs", type=int, default=3, help="runs per wait (crhelper)")
    parser.add_argument("--synth-runs", type=int, help="python app.py runs per size")
    parser.add_argument("--cli-runs", type=int, help="npx cdk synth runs per size")
    parser.add_argument("--import-runs", type=int, help="cold imports per asset variant")
    parser.add_argument("--out", type=Path, help="output directory (default: bench/results)")
    parser.add_argument("--keep-work", action="store_true", help="keep the temporary files")
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a criterion of the bar fails"
    )
    parser.add_argument(
        "--render",
        type=Path,
        metavar="RESULTS_JSON",
        help="measure nothing: write the report again from a results.json",
    )
    return parser.parse_args(argv)


def _conclude(run: BenchRun, out_dir: Path, strict: bool) -> int:
    markdown = write_report(run, out_dir)
    found = verdicts(run.overhead, run.synth)
    print()
    for verdict in found:
        print(f"{'PASS' if verdict.passed else 'FAIL'}  {verdict.criterion}: {verdict.result}")
    try:
        shown = markdown.relative_to(Path.cwd())
    except ValueError:
        shown = markdown
    print(f"\nreport: {shown}")
    return 1 if strict and not all(v.passed for v in found) else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the verdicts; return the exit status."""
    args = parse_args(argv)
    if args.render is not None:
        return _conclude(load_run(args.render), args.out or args.render.parent, args.strict)
    # Node.js of the venv for jsii (aws_cdk is imported here and in the apps), as make does
    bin_dir = str(Path(sys.executable).parent)
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    plan = quick_plan() if args.quick else full_plan(args.runs, args.crhelper_runs)
    phases = set(args.only or PHASES)
    out_dir = args.out or (BENCH_DIR / "results" / ("quick" if args.quick else ""))
    run = BenchRun(
        mode=plan.mode,
        started=datetime.datetime.now(datetime.timezone.utc),
        machine=machine_info(),
        argv=list(sys.argv[1:] if argv is None else argv),
    )
    work = Path(tempfile.mkdtemp(prefix="osp-bench-"))
    try:
        if "overhead" in phases:
            assemblies = _timed(run, "prepare", lambda: _assemblies(plan.scenarios, work))
            run.overhead = _timed(
                run,
                "overhead",
                lambda: run_scenarios(plan.scenarios, assemblies, work / "workers", REPO_ROOT),
            )
        if "asset" in phases:
            runs = args.import_runs or plan.import_runs
            run.assets = _timed(run, "asset", lambda: measure_assets(runs, work / "asset"))
        if "synth" in phases:
            run.synth = _timed(
                run,
                "synth",
                lambda: measure_synth(
                    plan.synth_sizes,
                    app_runs=args.synth_runs or plan.synth_runs,
                    cli_runs=plan.cli_runs if args.cli_runs is None else args.cli_runs,
                ),
            )
        if "deploy" in phases:
            _timed(run, "deploy", lambda: measure_deploy_time(out_dir))
    finally:
        if args.keep_work:
            print(f"temporary files kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if phases == {"deploy"}:  # RESULTS.md keeps the figures of the last run of the others
        print(f"report: {out_dir / 'DEPLOY_TIME.md'}")
        return 0
    return _conclude(run, out_dir, args.strict)


if __name__ == "__main__":
    sys.exit(main())
