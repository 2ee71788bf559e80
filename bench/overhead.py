"""Completion overhead on the emulation: from AVAILABLE (or gone) to CloudFormation's SUCCESS.

Each :class:`Scenario` runs in its own process (moto keeps its state per process, so one
``LocalAws`` per process) that deploys a synthesized stack of ``runs`` packages on the offline
emulation and deletes it again:

- the AVAILABLE / gone times come from the local OpenSearch API's transitions log (the scheduled
  time of each status change), the SUCCESS times from the CloudFormation stand-in's response
  listener (when the response PUT arrived), the DescribePackages calls from its call log
  (attributed to a package by their ``PackageID`` filter);
- the packages of one stack are created at the same time, so to sample the handler's polling
  phase each package gets its own service-side wait: the wait is ``W * (1 + j)`` with ``j``
  spread evenly over ``±jitter``, assigned as each CreatePackage (DeletePackage) arrives
  (near-simultaneous arrivals can share one). The wait each run actually had is read back from
  the transitions log, never assumed.

Scenarios of one run are started in two groups: the long ones first, concurrently, then (once
their packages exist and they only wait) the short ones one after the other, so that no deploy
overlaps a short wait (the long scenarios' scheduled invocations still start processes now and
then, as the report says).

Run one scenario by hand with ``python -m bench.overhead --scenario '<json>' --assembly DIR
--out FILE`` (from the repository root, ``PYTHONPATH=constructs``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from cdk_opensearch_packages.local.aws.env import LocalAws
    from cdk_opensearch_packages.local.opensearch.api import LocalOpenSearchService

__all__ = [
    "OperationMeasurement",
    "PackageMeasurement",
    "Scenario",
    "ScenarioResult",
    "jittered_waits",
    "run_scenarios",
]

Implementation = Literal["ours", "crhelper"]

#: Calls made at least this long after CreatePackage/DeletePackage count as the steady state.
STEADY_AFTER_SECONDS = 60.0
_PROTOCOL_PREFIX = "BENCH "
#: The stepper looks every millisecond while arrivals are expected, else every 50 ms.
_STEPPER_FAST = 0.001
_STEPPER_SLOW = 0.05
_WORKER_TIMEOUT = 1800.0


@dataclass(frozen=True)
class Scenario:
    """One deployment of ``runs`` packages with a given service-side wait.

    :param key: a unique name, e.g. ``ours-30``.
    :param implementation: ``ours`` (this provider) or ``crhelper`` (the baseline handler).
    :param wait: the nominal service-side wait of a create (COPYING + VALIDATING), seconds.
    :param delete_wait: the nominal DELETING time, seconds. Default: - ``wait``.
    :param runs: packages in the stack (measurements per operation).
    :param jitter: the waits are spread over ``wait * (1 ± jitter)``.
    :param lambda_timeout: the stand-in's function timeout override (s). Default: - the
        template's timeout.
    :param time_scale: real seconds per emulated second for EventBridge schedules, Lambda's
        async retry delays and ServiceTimeout (1.0: real time).
    :param group: 1: started first, concurrently; 2: afterwards, one at a time.
    :param seed: seeds the emulation (package ids).
    """

    key: str
    implementation: Implementation
    wait: float
    runs: int
    delete_wait: float | None = None
    jitter: float = 0.1
    lambda_timeout: float | None = None
    time_scale: float = 1.0
    group: int = 2
    seed: int = 0

    @property
    def nominal_delete_wait(self) -> float:
        """The nominal DELETING time."""
        return self.wait if self.delete_wait is None else self.delete_wait

    @property
    def scaled(self) -> bool:
        """Whether anything differs from real time (timeout override or time scale)."""
        return self.lambda_timeout is not None or self.time_scale != 1.0

    def describe_scaling(self) -> str:
        """What was scaled, in words (``real time`` when nothing)."""
        parts = []
        if self.lambda_timeout is not None:
            parts.append(f"Lambda timeout overridden to {self.lambda_timeout:g} s")
        if self.time_scale != 1.0:
            parts.append(
                f"time scale {self.time_scale:g} (an EventBridge minute lasts "
                f"{60 * self.time_scale:g} s; ServiceTimeout and Lambda's async retry delays "
                "scaled alike)"
            )
        return "; ".join(parts) if parts else "real time"


@dataclass(frozen=True)
class OperationMeasurement:
    """One create or delete of one package.

    :param wait: the service-side wait the run actually had (transitions log), seconds.
    :param overhead: SUCCESS received minus AVAILABLE (gone), seconds; negative when the
        response came before the package was ready.
    :param status: the response status (``SUCCESS``/``FAILED``) or ``NONE``.
    :param describe_calls: DescribePackages calls for the package from the operation's API
        call to the response.
    :param steady_gaps: gaps between consecutive DescribePackages calls made at least
        :data:`STEADY_AFTER_SECONDS` after the API call.
    :param invocations: Lambda invocations for this request (first, polling, retries).
    :param first_call_delay: from the first invocation's start to the operation's API call.
    :param seen_to_response: from the arrival of the probe that saw the final state to the
        response (``None`` when no probe saw it, e.g. crhelper's delete).
    :param poll_cold_starts: for each scheduled (polling) invocation, its start to its first
        DescribePackages call.
    """

    wait: float
    overhead: float
    status: str
    describe_calls: int
    steady_gaps: list[float]
    invocations: int
    first_call_delay: float | None
    seen_to_response: float | None
    poll_cold_starts: list[float]


@dataclass(frozen=True)
class PackageMeasurement:
    """Both operations of one package.

    :param logical_id: the custom resource's logical id.
    :param package_id: the package id.
    :param create: its create (``None`` when it could not be measured).
    :param delete: its delete (``None`` when it could not be measured).
    """

    logical_id: str
    package_id: str
    create: OperationMeasurement | None
    delete: OperationMeasurement | None


@dataclass
class ScenarioResult:
    """What one scenario's worker reports.

    :param scenario: the scenario.
    :param packages: one entry per package.
    :param deploy_status: the stack's status after the create.
    :param delete_status: the stack's status after the delete.
    :param errors: anything that went wrong (deploy reasons, scheduler errors, leftovers).
    :param api_round_trip: median DescribePackages round trip from boto3 (s), measured after
        the run.
    :param wall_seconds: the worker's wall time.
    :param started: epoch seconds when the worker started.
    """

    scenario: Scenario
    packages: list[PackageMeasurement] = field(default_factory=list)
    deploy_status: str = ""
    delete_status: str = ""
    errors: list[str] = field(default_factory=list)
    api_round_trip: float | None = None
    wall_seconds: float = 0.0
    started: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScenarioResult:
        """Read the JSON form back."""

        def operation(item: dict[str, Any] | None) -> OperationMeasurement | None:
            return None if item is None else OperationMeasurement(**item)

        return cls(
            scenario=Scenario(**data["scenario"]),
            packages=[
                PackageMeasurement(
                    logical_id=item["logical_id"],
                    package_id=item["package_id"],
                    create=operation(item["create"]),
                    delete=operation(item["delete"]),
                )
                for item in data["packages"]
            ],
            deploy_status=data["deploy_status"],
            delete_status=data["delete_status"],
            errors=list(data["errors"]),
            api_round_trip=data["api_round_trip"],
            wall_seconds=data["wall_seconds"],
            started=data["started"],
        )


def jittered_waits(wait: float, runs: int, jitter: float) -> list[float]:
    """``runs`` waits spread evenly over ``wait * (1 ± jitter)`` (stratified, in order).

    :param wait: the nominal wait.
    :param runs: how many.
    :param jitter: the relative half-width.
    """
    if runs == 1:
        return [wait]
    return [wait * (1 + jitter * (2 * index / (runs - 1) - 1)) for index in range(runs)]


# --------------------------------------------------------------------------- the worker side


class _TimelineStepper:
    """Gives each arriving CreatePackage/DeletePackage the next wait of its list."""

    def __init__(
        self,
        service: LocalOpenSearchService,
        create_waits: Sequence[float],
        delete_waits: Sequence[float],
        on_all_created: Callable[[], None],
    ) -> None:
        self._service = service
        self._create_waits = list(create_waits)
        self._delete_waits = list(delete_waits)
        self._on_all_created = on_all_created
        self._stop = threading.Event()
        self._deleting = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="timeline-stepper", daemon=True)
        self._apply(0, 0)

    def expect_deletes(self) -> None:
        """Look closely again: the stack's delete is about to start."""
        self._deleting.set()

    def _apply(self, created: int, deleted: int) -> None:
        from cdk_opensearch_packages.local.opensearch.api import Timeline

        wait = self._create_waits[min(created, len(self._create_waits) - 1)]
        copying = min(1.0, wait / 2)
        self._service.timeline = Timeline(
            copying=copying,
            validating=wait - copying,
            deleting=self._delete_waits[min(deleted, len(self._delete_waits) - 1)],
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        seen = (0, 0)
        announced = False
        period = _STEPPER_FAST
        while not self._stop.wait(period):
            # a transition is recorded in the same locked step that schedules the package's
            # statuses: the earliest public sign that a CreatePackage/DeletePackage was served
            changes = [t for t in self._service.transitions() if t.kind == "package"]
            created = sum(1 for t in changes if t.from_status is None)
            deleted = sum(1 for t in changes if t.to_status == "DELETING")
            if (created, deleted) != seen:
                seen = (created, deleted)
                self._apply(created, deleted)
            if not announced and created >= len(self._create_waits):
                announced = True
                self._on_all_created()
            expecting = created < len(self._create_waits) or (
                self._deleting.is_set() and deleted < len(self._delete_waits)
            )
            period = _STEPPER_FAST if expecting else _STEPPER_SLOW


def _await_gone(service: LocalOpenSearchService, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(item.get("PackageStatus") == "DELETING" for item in service.packages()):
            return
        time.sleep(0.1)


def _announce(message: str) -> None:
    print(f"{_PROTOCOL_PREFIX}{message}", flush=True)


def _measure_round_trip(aws: LocalAws, samples: int = 20) -> float:
    client = aws.opensearch_client
    client.describe_packages()
    durations = []
    for _ in range(samples):
        started = time.perf_counter()
        client.describe_packages()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)


def _filtered_id(params: dict[str, Any] | None) -> str | None:
    for item in (params or {}).get("Filters") or []:
        if item.get("Name") == "PackageID" and len(item.get("Value") or []) == 1:
            return str(item["Value"][0])
    return None


def _operation(
    *,
    started_at: float,
    ready_at: float,
    response: tuple[float, str] | None,
    describes: list[float],
    invocations: list[tuple[float, bool]],
) -> OperationMeasurement:
    """Build one measurement from the logs (all times epoch seconds).

    :param started_at: the operation's API call (the first transition).
    :param ready_at: AVAILABLE, or gone.
    :param response: when the response arrived and its status.
    :param describes: arrival times of the package's DescribePackages calls.
    :param invocations: ``(start, is polling)`` of the request's invocations.
    """
    received, status = response if response is not None else (float("nan"), "NONE")
    window = [t for t in describes if started_at <= t <= received]
    steady = [t for t in window if t - started_at >= STEADY_AFTER_SECONDS]
    gaps = [later - earlier for earlier, later in itertools.pairwise(steady)]
    seeing = [t for t in window if t >= ready_at]
    firsts = [start for start, polling in invocations if not polling]
    cold_starts = []
    for start, polling in invocations:
        later = [t for t in describes if t >= start]
        if polling and later:
            cold_starts.append(min(later) - start)
    return OperationMeasurement(
        wait=ready_at - started_at,
        overhead=received - ready_at,
        status=status,
        describe_calls=len(window),
        steady_gaps=gaps,
        invocations=len(invocations),
        first_call_delay=started_at - min(firsts) if firsts else None,
        seen_to_response=received - min(seeing) if seeing else None,
        poll_cold_starts=cold_starts,
    )


def _collect(
    aws: LocalAws, requests: list[dict[str, Any]], errors: list[str]
) -> list[PackageMeasurement]:
    assert aws.opensearch is not None
    transitions = [item for item in aws.opensearch.transitions() if item.kind == "package"]
    describes: dict[str, list[float]] = {}
    for call in aws.opensearch.calls():
        package_id = _filtered_id(call.params)
        if call.operation == "DescribePackages" and package_id is not None:
            describes.setdefault(package_id, []).append(call.wall)
    responses = {
        response.request_id: response for response in aws.listener.responses() if not response.late
    }
    by_request: dict[str, list[tuple[float, bool]]] = {}
    for invocation in aws.runner.invocations():
        event = invocation.event if isinstance(invocation.event, dict) else {}
        request_id = str(event.get("RequestId", ""))
        by_request.setdefault(request_id, []).append((invocation.started, "CrHelperPoll" in event))
    created: dict[str, tuple[str, str]] = {}  # logical id -> (request id, package id)
    deleted: dict[str, str] = {}  # logical id -> request id
    for request in requests:
        answer = responses.get(request["RequestId"])
        if request["RequestType"] == "Create" and answer is not None:
            created[request["LogicalResourceId"]] = (
                request["RequestId"],
                answer.physical_resource_id,
            )
        elif request["RequestType"] == "Delete":
            deleted[request["LogicalResourceId"]] = request["RequestId"]
    measurements = []
    for logical_id, (create_request, package_id) in sorted(created.items()):
        mine = [item for item in transitions if item.package_id == package_id]

        def first(status: str, items: Iterable[Any] = mine) -> float | None:
            return next((item.wall for item in items if item.to_status == status), None)

        copying, available = first("COPYING"), first("AVAILABLE")
        deleting, gone = first("DELETING"), first("DELETED")
        create = None
        if copying is not None and available is not None:
            answer = responses.get(create_request)
            create = _operation(
                started_at=copying,
                ready_at=available,
                response=None if answer is None else (answer.received, answer.status),
                describes=describes.get(package_id, []),
                invocations=by_request.get(create_request, []),
            )
        else:
            errors.append(f"{logical_id}: no COPYING/AVAILABLE transition for {package_id}")
        delete = None
        delete_request = deleted.get(logical_id)
        if delete_request is not None and deleting is not None and gone is not None:
            answer = responses.get(delete_request)
            delete = _operation(
                started_at=deleting,
                ready_at=gone,
                response=None if answer is None else (answer.received, answer.status),
                describes=describes.get(package_id, []),
                invocations=by_request.get(delete_request, []),
            )
        else:
            errors.append(f"{logical_id}: delete of {package_id} not measured")
        measurements.append(PackageMeasurement(logical_id, package_id, create, delete))
    return measurements


def run_worker(scenario: Scenario, assembly: Path) -> ScenarioResult:
    """Deploy and delete the scenario's stack on a fresh emulation and measure (in process).

    :param scenario: the scenario.
    :param assembly: the synthesized cloud assembly (one stack of ``scenario.runs`` packages).
    """
    from cdk_opensearch_packages.local.aws.env import LocalAws

    result = ScenarioResult(scenario=scenario, started=time.time())
    started = time.perf_counter()
    create_waits = jittered_waits(scenario.wait, scenario.runs, scenario.jitter)
    delete_waits = jittered_waits(scenario.nominal_delete_wait, scenario.runs, scenario.jitter)
    requests: list[dict[str, Any]] = []
    lock = threading.Lock()

    def record(event: dict[str, Any]) -> None:
        with lock:
            requests.append(
                {key: event.get(key) for key in ("RequestType", "RequestId", "LogicalResourceId")}
            )

    with LocalAws(
        time_scale=scenario.time_scale,
        lambda_timeout=scenario.lambda_timeout,
        seed=scenario.seed,
    ) as aws:
        assert aws.opensearch is not None
        aws.cloudformation.services.on_custom_request = record
        stepper = _TimelineStepper(
            aws.opensearch, create_waits, delete_waits, lambda: _announce("created")
        )
        stepper.start()
        try:
            deployed = aws.cloudformation.deploy(assembly)
            result.deploy_status = deployed.status
            if not deployed.succeeded:
                result.errors.append(f"deploy: {deployed.reason}")
                _announce("created")  # never block the next scenarios
            stepper.expect_deletes()
            removed = aws.cloudformation.delete(deployed.stack_name)
            result.delete_status = removed.status
            if not removed.succeeded:
                result.errors.append(f"delete: {removed.reason}")
            aws.runner.wait_idle(timeout=30)
            # a tool that answers before the package is gone (crhelper) leaves it DELETING:
            # wait for the transition so that its delete can be measured too
            _await_gone(aws.opensearch, max(delete_waits) + 10)
        finally:
            stepper.stop()
        result.errors.extend(aws.scheduler.errors())
        leftovers = aws.inventory().orphans()
        if leftovers:
            result.errors.append(f"left behind: {leftovers}")
        result.packages = _collect(aws, requests, result.errors)
        result.api_round_trip = _measure_round_trip(aws)
    result.wall_seconds = time.perf_counter() - started
    return result


# --------------------------------------------------------------------------- the parent side


def _worker_environment(repo_root: Path) -> dict[str, str]:
    environment = dict(os.environ)
    paths = [str(repo_root / "constructs"), str(repo_root)]
    if environment.get("PYTHONPATH"):
        paths.append(environment["PYTHONPATH"])
    environment["PYTHONPATH"] = os.pathsep.join(paths)
    bin_dir = str(Path(sys.executable).parent)
    environment["PATH"] = f"{bin_dir}{os.pathsep}{environment.get('PATH', '')}"
    environment.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    return environment


@dataclass
class _Worker:
    scenario: Scenario
    process: subprocess.Popen[str]
    out: Path
    log: Path
    created: threading.Event = field(default_factory=threading.Event)


def _start_worker(scenario: Scenario, assembly: Path, work_dir: Path, repo_root: Path) -> _Worker:
    out = work_dir / f"{scenario.key}.json"
    log = work_dir / f"{scenario.key}.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.overhead",
            "--scenario",
            json.dumps(asdict(scenario)),
            "--assembly",
            str(assembly),
            "--out",
            str(out),
        ],
        cwd=repo_root,
        env=_worker_environment(repo_root),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    worker = _Worker(scenario, process, out, log)
    threading.Thread(
        target=_pump, args=(worker, process.stdout), name=f"pump-{scenario.key}", daemon=True
    ).start()
    return worker


def _pump(worker: _Worker, stream: IO[str] | None) -> None:
    if stream is None:
        return
    with worker.log.open("w", encoding="utf-8") as log:
        for line in stream:
            log.write(line)
            if line.startswith(_PROTOCOL_PREFIX) and line[len(_PROTOCOL_PREFIX) :].strip() == (
                "created"
            ):
                worker.created.set()
    worker.created.set()


def _finish(worker: _Worker, deadline: float) -> ScenarioResult:
    try:
        worker.process.wait(timeout=max(deadline - time.monotonic(), 1.0))
    except subprocess.TimeoutExpired:
        worker.process.kill()
        worker.process.wait()
    if worker.process.returncode == 0 and worker.out.is_file():
        data = json.loads(worker.out.read_text(encoding="utf-8"))
        return ScenarioResult.from_dict(data)
    tail = worker.log.read_text(encoding="utf-8")[-2000:] if worker.log.is_file() else ""
    failed = ScenarioResult(scenario=worker.scenario)
    failed.errors.append(f"worker exited {worker.process.returncode}: {tail}")
    return failed


def run_scenarios(
    scenarios: Sequence[Scenario],
    assemblies: dict[Implementation, dict[int, Path]],
    work_dir: Path,
    repo_root: Path,
    progress: Callable[[str], None] = print,
) -> list[ScenarioResult]:
    """Run scenarios in worker processes: group 1 concurrently, then group 2 one at a time.

    :param scenarios: what to run.
    :param assemblies: ``implementation -> runs -> cloud assembly directory``.
    :param work_dir: where the workers write their results and logs.
    :param repo_root: the repository (the workers run ``python -m bench.overhead`` there).
    :param progress: called with a line of progress.
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + _WORKER_TIMEOUT
    background: list[_Worker] = []
    results: list[ScenarioResult] = []
    for scenario in (s for s in scenarios if s.group == 1):
        progress(f"  start {scenario.key} ({scenario.describe_scaling()})")
        worker = _start_worker(
            scenario, assemblies[scenario.implementation][scenario.runs], work_dir, repo_root
        )
        background.append(worker)
        # one start-up at a time: wait until its packages exist (it only waits afterwards)
        worker.created.wait(timeout=120)
    for scenario in (s for s in scenarios if s.group != 1):
        progress(f"  run {scenario.key} ({scenario.describe_scaling()})")
        worker = _start_worker(
            scenario, assemblies[scenario.implementation][scenario.runs], work_dir, repo_root
        )
        results.append(_finish(worker, deadline))
    for worker in background:
        progress(f"  wait for {worker.scenario.key}")
        results.append(_finish(worker, deadline))
    order = {scenario.key: index for index, scenario in enumerate(scenarios)}
    return sorted(results, key=lambda item: order[item.scenario.key])


def main(argv: Sequence[str] | None = None) -> int:
    """Worker entry point: run one scenario, write its result as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--scenario", required=True, help="the Scenario as JSON")
    parser.add_argument("--assembly", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    scenario = Scenario(**json.loads(args.scenario))
    result = run_worker(scenario, args.assembly)
    args.out.write_text(json.dumps(result.to_dict(), indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
