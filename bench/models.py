"""Models of how each tool waits for a package, fed the same timelines (pure functions).

Every model replays one tool's polling schedule against a service-side wait ``W`` and answers
when the tool is done and how many DescribePackages calls it made. Time 0 is when the
operation's API call (CreatePackage or DeletePackage) reaches the service; the package is
AVAILABLE (or gone) at ``W``. A probe sees the final state when it reaches the service at or after
``W``. Fixed costs come from :class:`Costs`: API round trips and the response PUT are measured on
the emulation by the caller; Lambda/Step Functions hand-offs are stated assumptions.

The schedules, as their sources have them:

- CDK Provider framework (aws-cdk ``custom-resources/lib/provider-framework``): ``onEvent``
  starts a Step Functions waiter whose single task invokes ``isComplete`` at once, then retries it
  with ``IntervalSeconds = queryInterval`` (default ``Duration.seconds(5)``), ``BackoffRate 1``
  and ``MaxAttempts = totalTimeout / queryInterval`` (default 30 min / 5 s = 360); each attempt is
  two synchronous Lambda invokes (framework -> user ``isComplete``) around one DescribePackages.
- Terraform ``aws_opensearch_package`` (terraform-provider-aws
  ``internal/service/opensearch/package.go``, ``waitPackageValidationCompleted``): a
  ``retry.StateChangeConf`` with ``Delay: 30s``, ``MinTimeout: 15s``, ``Timeout: 20m`` after
  CreatePackage, then one more DescribePackages (the resource read). terraform-plugin-sdk's
  ``WaitForStateContext`` refreshes after ``Delay``, then waits ``wait *= 2`` bounded as
  ``if wait < MinTimeout: wait = MinTimeout elif wait > 10s: wait = 10s`` (``wait`` starts at
  100 ms), i.e. 15 s before the second check and 10 s between the later ones. Delete calls
  DeletePackage and returns without waiting; update does not wait either.
- crhelper 2.0.12 defaults (``CfnResource()``): ``polling_interval=2`` -> a ``rate(2 minutes)``
  EventBridge rule set up after ``@helper.create`` returns (PutRule, AddPermission, PutTargets),
  one DescribePackages per scheduled (cold) invocation, then RemoveTargets, RemovePermission,
  DeleteRule and the response; ``sleep_on_delete=120``: a delete sleeps 120 s before answering
  when the function has more than 135 s left, whatever the package does.
- This provider (``docs/DESIGN.md``, "Handler waiting rules"; the constants and the interval
  are imported from the handler's ``osp_handler.waiting``): probes every
  ``min(5, max(0.5, 0.08 * elapsed))`` s, hands over to a ``rate(1 minute)`` rule when less than
  20 s of the invocation are left, polling invocations wait at most 50 s each; the rule is removed
  (2 calls) before the response.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from osp_handler.waiting import HANDOVER_MARGIN_SECONDS, POLL_WAIT_SECONDS, poll_interval

__all__ = [
    "PROVIDER_QUERY_INTERVAL",
    "PROVIDER_TOTAL_TIMEOUT",
    "TERRAFORM_DELAY",
    "TERRAFORM_MAX_WAIT",
    "TERRAFORM_MIN_TIMEOUT",
    "TERRAFORM_TIMEOUT",
    "Costs",
    "ModelOutcome",
    "crhelper_default",
    "ours",
    "provider_framework",
    "terraform",
    "terraform_check_times",
]

Operation = Literal["create", "delete"]

#: aws-cdk ``provider-framework/util.ts``: ``DEFAULT_INTERVAL = Duration.seconds(5)``.
PROVIDER_QUERY_INTERVAL = 5.0
#: aws-cdk ``provider-framework/util.ts``: ``DEFAULT_TIMEOUT = Duration.minutes(30)``.
PROVIDER_TOTAL_TIMEOUT = 1800.0
#: terraform-provider-aws ``opensearch/package.go``: ``Delay: 30 * time.Second``.
TERRAFORM_DELAY = 30.0
#: terraform-provider-aws ``opensearch/package.go``: ``MinTimeout: 15 * time.Second``.
TERRAFORM_MIN_TIMEOUT = 15.0
#: terraform-provider-aws ``opensearch/package.go``: ``Timeout: 20 * time.Minute``.
TERRAFORM_TIMEOUT = 1200.0
#: terraform-plugin-sdk ``helper/retry/state.go``: backoff capped at 10 s (after MinTimeout).
TERRAFORM_MAX_WAIT = 10.0
_TERRAFORM_FIRST_WAIT = 0.1
#: crhelper 2.0.12 ``CfnResource`` defaults.
CRHELPER_POLLING_MINUTES = 2
CRHELPER_SLEEP_ON_DELETE = 120.0
_CRHELPER_DELETE_MARGIN = 15.0
#: This provider's waiting rules: the handler's own (``lambda/osp_handler/waiting.py``).
OURS_HANDOVER_MARGIN = HANDOVER_MARGIN_SECONDS
OURS_POLL_WAIT = POLL_WAIT_SECONDS
_SAFETY = 100_000


@dataclass(frozen=True)
class Costs:
    """Fixed costs of the steps the models replay, in seconds.

    :param api_call: one API round trip (OpenSearch, EventBridge, Lambda control plane).
    :param respond: sending the response to the ResponseURL.
    :param invoke: one hand-off between functions or from Step Functions to a function (warm,
        synchronous). An assumption: no emulation of Step Functions exists here.
    :param cold_start: from a scheduled invocation's start to its first API call (process start,
        imports, clients).
    """

    api_call: float = 0.01
    respond: float = 0.02
    invoke: float = 0.05
    cold_start: float = 1.0


@dataclass(frozen=True)
class ModelOutcome:
    """When a tool is done with one wait.

    :param tool: the tool modelled.
    :param operation: ``create`` or ``delete``.
    :param wait: the service-side wait ``W`` (s).
    :param done_at: when the tool is done (CloudFormation has the response / Terraform moves on),
        seconds after the operation's API call reached the service.
    :param describe_calls: DescribePackages calls made while waiting (and right after).
    :param waits_for_service: ``False`` when the tool does not wait for the service at all.
    :param failed: ``True`` when the tool gives up before the package is ready (timeout).
    """

    tool: str
    operation: Operation
    wait: float
    done_at: float
    describe_calls: int
    waits_for_service: bool = True
    failed: bool = False

    @property
    def overhead(self) -> float:
        """``done_at - wait``: negative when the tool answers before the package is ready."""
        return self.done_at - self.wait


def _first_probe_at_or_after(
    wait: float, first: float, next_probe: Callable[[float, int], float | None]
) -> tuple[float | None, int]:
    """Walk a probe schedule until a probe reaches the service at or after ``wait``.

    :param wait: when the package is ready.
    :param first: the first probe's arrival time.
    :param next_probe: ``(previous arrival, probes so far) -> next arrival`` (``None``: gives up).
    :return: the arrival of the probe that sees the final state (``None`` if it gave up) and
        the number of probes made.
    """
    probe: float | None = first
    count = 0
    while probe is not None and count < _SAFETY:
        count += 1
        if probe >= wait:
            return probe, count
        probe = next_probe(probe, count)
    return None, count


def provider_framework(
    wait: float,
    costs: Costs,
    *,
    operation: Operation = "create",
    query_interval: float = PROVIDER_QUERY_INTERVAL,
    total_timeout: float = PROVIDER_TOTAL_TIMEOUT,
) -> ModelOutcome:
    """The CDK Provider framework with an ``isComplete`` handler (one DescribePackages each).

    :param wait: the service-side wait (s).
    :param costs: fixed costs.
    :param operation: ``create`` or ``delete`` (the user's ``isComplete`` checks the same way).
    :param query_interval: ``queryInterval`` (Step Functions ``IntervalSeconds``).
    :param total_timeout: ``totalTimeout``; ``MaxAttempts = totalTimeout / queryInterval``.
    """
    retries = round(total_timeout / query_interval)
    # onEvent's user function returns after its API call, the framework starts the execution,
    # the task invokes the framework's isComplete, which invokes the user's.
    first = costs.api_call + 2 * costs.invoke + 2 * costs.invoke
    attempt_tail = costs.api_call + 2 * costs.invoke  # the answer goes back to Step Functions

    def next_probe(previous: float, probes: int) -> float | None:
        if probes > retries:
            return None
        return previous + attempt_tail + query_interval + 2 * costs.invoke

    seen, probes = _first_probe_at_or_after(wait, first, next_probe)
    if seen is None:
        done = first + retries * (attempt_tail + query_interval + 2 * costs.invoke)
        return ModelOutcome("CDK Provider framework", operation, wait, done, probes, failed=True)
    done = seen + costs.api_call + costs.invoke + costs.respond
    return ModelOutcome("CDK Provider framework", operation, wait, done, probes)


def terraform_check_times(
    first: float,
    api_call: float,
    *,
    delay: float = TERRAFORM_DELAY,
    min_timeout: float = TERRAFORM_MIN_TIMEOUT,
    until: float,
) -> list[float]:
    """The arrival times of ``StateChangeConf`` refreshes starting at ``first`` until ``until``.

    :param first: when the waiter starts (CreatePackage answered).
    :param api_call: duration of one refresh.
    :param delay: ``Delay``.
    :param min_timeout: ``MinTimeout``.
    :param until: stop listing past this time.
    """
    times: list[float] = []
    moment = first + delay
    wait = 0.0
    while moment <= until and len(times) < _SAFETY:
        moment += wait
        if wait == 0:
            wait = _TERRAFORM_FIRST_WAIT
        times.append(moment)
        moment += api_call
        wait *= 2
        if wait < min_timeout:
            wait = min_timeout
        elif wait > TERRAFORM_MAX_WAIT:
            wait = TERRAFORM_MAX_WAIT
    return times


def terraform(
    wait: float,
    costs: Costs,
    *,
    operation: Operation = "create",
    delay: float = TERRAFORM_DELAY,
    min_timeout: float = TERRAFORM_MIN_TIMEOUT,
    timeout: float = TERRAFORM_TIMEOUT,
) -> ModelOutcome:
    """Terraform's ``aws_opensearch_package`` (create waits, delete does not).

    :param wait: the service-side wait (s).
    :param costs: fixed costs.
    :param operation: ``create`` or ``delete``.
    :param delay: the waiter's ``Delay``.
    :param min_timeout: the waiter's ``MinTimeout``.
    :param timeout: the waiter's ``Timeout``.
    """
    tool = "Terraform aws_opensearch_package"
    if operation == "delete":
        return ModelOutcome(tool, operation, wait, costs.api_call, 0, waits_for_service=False)
    start = costs.api_call
    checks = terraform_check_times(
        start, costs.api_call, delay=delay, min_timeout=min_timeout, until=start + timeout
    )
    for index, moment in enumerate(checks, start=1):
        if moment >= wait:
            # the refresh answers, then resourcePackageRead describes the package once more
            done = moment + 2 * costs.api_call
            return ModelOutcome(tool, operation, wait, done, index + 1)
    return ModelOutcome(tool, operation, wait, start + timeout, len(checks), failed=True)


def crhelper_default(
    wait: float,
    costs: Costs,
    *,
    operation: Operation = "create",
    polling_minutes: int = CRHELPER_POLLING_MINUTES,
    sleep_on_delete: float = CRHELPER_SLEEP_ON_DELETE,
    function_timeout: float = 300.0,
    minute: float = 60.0,
) -> ModelOutcome:
    """A plain crhelper handler with crhelper's defaults (``@helper.poll_create``).

    :param wait: the service-side wait (s).
    :param costs: fixed costs (``cold_start`` for each scheduled invocation).
    :param operation: ``create`` or ``delete``.
    :param polling_minutes: ``polling_interval`` (minutes between scheduled invocations).
    :param sleep_on_delete: ``sleep_on_delete`` (s).
    :param function_timeout: the function's timeout; crhelper sleeps on delete only when more
        than ``sleep_on_delete + 15`` s are left.
    :param minute: seconds per scheduled minute (60: real EventBridge).
    """
    tool = "crhelper defaults"
    if operation == "delete":
        left = function_timeout - costs.api_call - _CRHELPER_DELETE_MARGIN
        slept = sleep_on_delete if left > sleep_on_delete > 1 else 0.0
        done = costs.api_call + slept + costs.respond
        return ModelOutcome(tool, operation, wait, done, 0, waits_for_service=False)
    rule_created = 4 * costs.api_call  # CreatePackage, PutRule, AddPermission, PutTargets
    period = polling_minutes * minute
    first = rule_created + period + costs.cold_start

    def next_probe(previous: float, probes: int) -> float:
        return previous + period

    seen, probes = _first_probe_at_or_after(wait, first, next_probe)
    assert seen is not None
    # RemoveTargets, RemovePermission, DeleteRule, then the response
    done = seen + costs.api_call + 3 * costs.api_call + costs.respond
    return ModelOutcome(tool, operation, wait, done, probes)


def _ours_interval(elapsed: float) -> float:
    return poll_interval(elapsed)


def ours(
    wait: float,
    costs: Costs,
    *,
    operation: Operation = "create",
    function_timeout: float = 900.0,
    minute: float = 60.0,
    started_before: float = 0.0,
) -> ModelOutcome:
    """This provider's waiting rules (a model, to extrapolate to settings not run for real).

    :param wait: the service-side wait (s).
    :param costs: fixed costs (``cold_start`` for each polling invocation).
    :param operation: ``create`` or ``delete`` (same waiting rules).
    :param function_timeout: the Lambda timeout (the provider's is 900 s).
    :param minute: seconds per scheduled minute (60: real EventBridge).
    :param started_before: how long before the API call the first invocation started.
    """
    tool = "cdk-opensearch-packages (model)"
    started = -started_before
    probes = 0
    # first invocation: probes right after the API call, until less than 20 s are left
    now = costs.api_call
    stop = started + function_timeout - OURS_HANDOVER_MARGIN
    fire: float | None = None
    while probes < _SAFETY:
        probes += 1
        if now >= wait:
            removal = 2 * costs.api_call if fire is not None else 0.0
            done = now + costs.api_call + removal + costs.respond
            return ModelOutcome(tool, operation, wait, done, probes)
        now += costs.api_call
        if now >= stop:
            if fire is None:  # hand over: PutRule + PutTargets; the rule fires a minute later
                fire = now + 2 * costs.api_call + minute
            else:  # the next scheduled invocation
                fire += minute
                while fire <= now:
                    fire += minute
            now = fire + costs.cold_start
            left = function_timeout - costs.cold_start
            stop = now + min(left - OURS_HANDOVER_MARGIN, OURS_POLL_WAIT)
            continue
        now += min(_ours_interval(now - started), max(stop - now, 0.0))
    raise RuntimeError("the model of this provider did not finish")  # pragma: no cover
