"""EventBridge scheduled rules of the local account, delivered to the local Lambda functions.

moto stores rules and targets but never fires them. :class:`EventBridgeScheduler` watches the
rules in moto (``ListRules``, ``ListTargetsByRule``) and, for every ``ENABLED`` rule with a
``rate(N minute[s]|hour[s]|day[s])`` schedule, invokes each Lambda target asynchronously every
N units (scaled for tests) with the target's ``Input`` as the event. Like EventBridge, it
only invokes a function whose resource-based policy allows ``events.amazonaws.com`` for that rule
(``AWS:SourceArn`` equal to the rule ARN or matching it as ``ArnLike`` pattern); otherwise the
delivery fails and an error is recorded, as a missing ``lambda:AddPermission`` shows on AWS.
"""

from __future__ import annotations

import fnmatch
import json
import re
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from cdk_opensearch_packages.local.aws.constants import ACCOUNT_ID, REGION
from cdk_opensearch_packages.local.awslambda.runner import LambdaRunner, UnknownFunctionError

if TYPE_CHECKING:
    from types_boto3_events import EventBridgeClient
    from types_boto3_lambda import LambdaClient

__all__ = ["EventBridgeScheduler", "ScheduledDelivery", "invocation_allowed", "rate_minutes"]

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_UNIT_MINUTES = {"minute": 1, "hour": 60, "day": 1440}
_EVENTS_PRINCIPAL = "events.amazonaws.com"
_INVOKE_ACTIONS = ("lambda:InvokeFunction", "lambda:*", "*")


def rate_minutes(expression: str) -> int | None:
    """Minutes between two runs of a ``rate(...)`` expression; ``None`` for anything else."""
    match = _RATE.match(expression.strip())
    if match is None:
        return None
    return int(match.group(1)) * _UNIT_MINUTES[match.group(2).rstrip("s")]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _principal_allows(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        services = _as_list(principal.get("Service", []))
        accounts = _as_list(principal.get("AWS", []))
        return _EVENTS_PRINCIPAL in services or "*" in accounts
    return bool(principal == _EVENTS_PRINCIPAL)


def _conditions_allow(conditions: dict[str, Any], rule_arn: str) -> bool:
    for operator, tests in conditions.items():
        for key, expected in tests.items():
            if key.lower() == "aws:sourcearn":
                actual = rule_arn
            elif key.lower() == "aws:sourceaccount":
                actual = ACCOUNT_ID
            else:
                return False  # a condition EventBridge's request cannot satisfy here
            patterns = [str(item) for item in _as_list(expected)]
            if operator in ("ArnLike", "StringLike"):
                matched = any(fnmatch.fnmatchcase(actual, pattern) for pattern in patterns)
            elif operator in ("ArnEquals", "StringEquals"):
                matched = actual in patterns
            else:
                return False
            if not matched:
                return False
    return True


def invocation_allowed(policy: dict[str, Any], rule_arn: str) -> bool:
    """Whether a function's resource-based policy lets EventBridge invoke it for ``rule_arn``."""
    for statement in _as_list(policy.get("Statement", [])):
        if statement.get("Effect") != "Allow":
            continue
        actions = _as_list(statement.get("Action", []))
        if not any(action in _INVOKE_ACTIONS for action in actions):
            continue
        if not _principal_allows(statement.get("Principal")):
            continue
        if _conditions_allow(statement.get("Condition", {}), rule_arn):
            return True
    return False


@dataclass(frozen=True)
class ScheduledDelivery:
    """One scheduled delivery attempt.

    :param timestamp: epoch seconds.
    :param rule_arn: the rule that fired.
    :param target_arn: the target's ARN.
    :param request_id: the Lambda request id, or ``None`` when the delivery failed.
    :param error: why the delivery failed, or ``None``.
    """

    timestamp: float
    rule_arn: str
    target_arn: str
    request_id: str | None
    error: str | None = None


@dataclass
class _Tracked:
    expression: str
    interval: float
    next_fire: float


class EventBridgeScheduler:
    """Fires the scheduled rules stored in moto.

    :param events: moto's EventBridge.
    :param lambda_client: moto's Lambda (the functions' resource-based policies).
    :param runner: the local Lambda runner that invokes the targets.
    :param minute: real seconds per scheduled minute (60: real time; 1: a minute per second).
    :param poll_interval: how often the rules are listed. Default: a tenth of a minute, within
        0.2 to 1 second.
    """

    def __init__(
        self,
        *,
        events: EventBridgeClient,
        lambda_client: LambdaClient,
        runner: LambdaRunner,
        minute: float = 60.0,
        poll_interval: float | None = None,
    ) -> None:
        self._events = events
        self._lambda = lambda_client
        self._runner = runner
        self.minute = minute
        default_interval = min(1.0, max(0.2, minute / 10))
        self._poll_interval = poll_interval if poll_interval is not None else default_interval
        self._tracked: dict[str, _Tracked] = {}
        self._deliveries: list[ScheduledDelivery] = []
        self._unsupported: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start watching in a background thread."""
        self._thread = threading.Thread(
            target=self._loop, name="eventbridge-scheduler", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop watching."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def deliveries(self) -> list[ScheduledDelivery]:
        """Every delivery attempt so far (successful and failed)."""
        with self._lock:
            return list(self._deliveries)

    def errors(self) -> list[str]:
        """The failed deliveries and unsupported schedules, as messages."""
        with self._lock:
            failed = [d.error for d in self._deliveries if d.error is not None]
            return failed + sorted(self._unsupported)

    def _loop(self) -> None:
        while not self._stop.wait(self._poll_interval):
            try:
                self.tick()
            except Exception as error:  # moto stopped, a transient error: try again
                if self._stop.is_set():
                    return
                with self._lock:
                    self._unsupported.add(f"scheduler error: {type(error).__name__}: {error}")

    def tick(self, now: float | None = None) -> None:
        """Scan the rules once and fire those that are due."""
        moment = time.monotonic() if now is None else now
        seen: set[str] = set()
        for rule in self._rules():
            arn = rule["Arn"]
            expression = rule.get("ScheduleExpression", "")
            if not expression or rule.get("State") != "ENABLED":
                continue
            minutes = rate_minutes(expression)
            if minutes is None:
                with self._lock:
                    self._unsupported.add(
                        f"{arn}: schedule {expression!r} is not emulated (rate(...) only)"
                    )
                continue
            seen.add(arn)
            tracked = self._tracked.get(arn)
            interval = minutes * self.minute
            if tracked is None or tracked.expression != expression:
                self._tracked[arn] = _Tracked(expression, interval, moment + interval)
                continue
            if moment >= tracked.next_fire:
                tracked.next_fire += interval
                if tracked.next_fire <= moment:  # far behind (a paused process): no burst
                    tracked.next_fire = moment + interval
                self._fire(rule)
        for arn in set(self._tracked) - seen:
            del self._tracked[arn]

    def _rules(self) -> list[dict[str, Any]]:
        rules: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = self._events.list_rules(NextToken=token) if token else self._events.list_rules()
            rules.extend(dict(rule) for rule in page.get("Rules", []))
            token = page.get("NextToken")
            if not token:
                return rules

    def _fire(self, rule: dict[str, Any]) -> None:
        rule_arn = rule["Arn"]
        try:
            targets = self._events.list_targets_by_rule(Rule=rule["Name"]).get("Targets", [])
        except ClientError:
            return  # deleted between the two calls
        for target in targets:
            target_arn = target["Arn"]
            delivery = self._deliver(rule_arn, dict(target))
            with self._lock:
                self._deliveries.append(
                    ScheduledDelivery(time.time(), rule_arn, target_arn, *delivery)
                )

    def _deliver(self, rule_arn: str, target: dict[str, Any]) -> tuple[str | None, str | None]:
        target_arn = str(target["Arn"])
        if ":lambda:" not in target_arn or ":function:" not in target_arn:
            return None, f"{rule_arn}: target {target_arn} is not a Lambda function (not emulated)"
        try:
            function = self._runner.resolve(target_arn)
        except UnknownFunctionError:
            return None, f"{rule_arn}: target function {target_arn} does not exist"
        try:
            document = self._lambda.get_policy(FunctionName=function.name)["Policy"]
            policy = json.loads(document)
        except ClientError:
            policy = {}
        if not invocation_allowed(policy, rule_arn):
            return None, (
                f"EventBridge is not allowed to invoke {function.arn} for rule {rule_arn}: no "
                "statement of the function's resource-based policy allows events.amazonaws.com "
                "with this source ARN"
            )
        if "InputPath" in target or "InputTransformer" in target:
            return None, f"{rule_arn}: InputPath/InputTransformer targets are not emulated"
        if "Input" in target:
            event: Any = json.loads(target["Input"])
        else:
            event = {
                "version": "0",
                "id": f"{time.time_ns():x}",
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "account": ACCOUNT_ID,
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "region": REGION,
                "resources": [rule_arn],
                "detail": {},
            }
        return self._runner.invoke_async(function.arn, event), None
