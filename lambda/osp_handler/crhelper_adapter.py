"""crhelper, adapted to this provider.

:class:`OspResource` is a :class:`crhelper.CfnResource`: the module-level helper, the
``@helper.create`` ... ``@helper.poll_delete`` decorators, ``helper.init_failure(e)`` and the JSON
log formatter are crhelper's. Its request flow (``__call__``) is replaced, because crhelper
2.0.12's defaults are harmful here:

- crhelper sets up polling on every first invocation; here the lifecycle first waits in process
  and the response is sent at once when it finishes; polling (an EventBridge ``rate(1 minute)``
  rule that re-invokes the function with the event) is set up only when it is still pending. The
  pending state travels in the event's ``CrHelperData`` under :data:`STATE_KEY` and never reaches
  the response; the rule's input is refreshed when the state changes.
- crhelper names rules after the LogicalResourceId (PutRule fails past 64 characters) and calls
  ``lambda:AddPermission`` per poll; here rules are ``OSP_RULE_PREFIX`` + a hash of StackId,
  LogicalResourceId and RequestId, and the construct grants ``events.amazonaws.com`` once for
  ``rule/<prefix>*``. The rule and its target are removed on every ending path: done, failed,
  unexpected error and timeout.
- crhelper's ``_timeout`` fires 0.5 s before the Lambda deadline (here 3 s, time for
  PutRule, PutTargets and the answer); waits end
  :data:`HANDOVER_MARGIN_SECONDS` earlier, so it fires only when one call outlives that margin
  (a slow answer, or botocore's backoff in a throttling storm). On a request's first invocation
  it then hands the request over to polling with the progress recorded so far and answers
  nothing: Lambda delivers the timed-out event again, and answering FAILED would let
  CloudFormation roll back (delete the package) before that redelivery creates it again. On a
  polling invocation (whose redelivery only resumes, never creates) it answers FAILED and removes
  the polling, as crhelper does.
- crhelper sleeps 120 s on delete, logs the event and the presigned ResponseURL at DEBUG, keeps the
  tail of long reasons and sends over HTTPS only, without timeout, retrying forever; here there is
  no sleep, logs are JSON at INFO (RequestId, LogicalResourceId, RequestType on every line) without
  the event or the URL, and :mod:`osp_handler.cfn_response` builds and sends the response.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError
from crhelper import FAILED, SUCCESS, CfnResource, log_helper

from .cfn_response import response_body, send_response
from .job import Job, start_job
from .names import placeholder_physical_id, polling_rule_name
from .opensearch_api import error_code, failure_reason, response_reason
from .outcome import Outcome, Pending, ResourceFailure
from .request_time import request_sent_at
from .waiting import HANDOVER_MARGIN_SECONDS, Clock, SystemClock

if TYPE_CHECKING:
    from types_boto3_events.client import EventBridgeClient
    from types_boto3_opensearch.client import OpenSearchServiceClient

__all__ = [
    "LOG_LEVEL",
    "POLL_SCHEDULE",
    "REDELIVERY_AFTER_SECONDS",
    "RULE_PREFIX_VARIABLE",
    "STATE_KEY",
    "LambdaContext",
    "OspResource",
]

logger = logging.getLogger(__name__)

#: Key of the pending state in the event's ``CrHelperData`` (never part of a response).
STATE_KEY = "OspState"
#: Environment variable holding the polling rules' name prefix.
RULE_PREFIX_VARIABLE = "OSP_RULE_PREFIX"
POLL_SCHEDULE = "rate(1 minute)"
LOG_LEVEL = "INFO"
#: EventBridge's limit on a target's constant input.
MAX_TARGET_INPUT_CHARS = 8192
_TARGET_ID = "1"
_TIMEOUT_MARGIN_SECONDS = 3.0
#: A first invocation that starts this long after CloudFormation sent the request is a
#: redelivery (Lambda retries after a minute at the earliest): an earlier delivery may have
#: handed the request over to a polling rule that this one must remove when it ends.
REDELIVERY_AFTER_SECONDS = 30.0
_POLL_KEYS = ("CrHelperPoll", "CrHelperRule", "CrHelperPermission", "CrHelperData")
_MAIN = "request flow"
_TIMER = "timer"


class LambdaContext(Protocol):
    """The parts of the Lambda context object used here."""

    aws_request_id: str
    invoked_function_arn: str

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before Lambda stops the invocation."""
        ...


class Timer(Protocol):
    """A started-later, cancellable timer (:class:`threading.Timer`)."""

    def start(self) -> None:
        """Start counting."""
        ...

    def cancel(self) -> None:
        """Stop; the action will not run."""
        ...


#: ``(seconds, action) -> timer``.
TimerFactory = Callable[[float, Callable[[], None]], Timer]
#: What crhelper's decorators register: ``(event, context) -> physical id or None``.
HandlerFunction = Callable[[Any, Any], bool | str | None]


def _daemon_timer(seconds: float, action: Callable[[], None]) -> Timer:
    timer = threading.Timer(seconds, action)
    timer.daemon = True
    return timer


def _default_opensearch() -> OpenSearchServiceClient:
    from .clients import opensearch_client

    return opensearch_client()


def _default_events() -> EventBridgeClient:
    from .clients import events_client

    return events_client()


class OspResource(CfnResource):
    """crhelper's ``CfnResource`` with this provider's request flow (see the module doc).

    All arguments are for tests; the defaults are what runs in Lambda.

    :param opensearch: returns the OpenSearch Service client (created lazily).
    :param events: returns the EventBridge client (created lazily, only for polling).
    :param clock: the clock and sleep function of the waits.
    :param sender: sends a response body to a ResponseURL; returns whether it was accepted.
    :param timer_factory: makes the timer that answers FAILED just before the Lambda timeout.
    """

    # crhelper internals this class relies on (set by CfnResource.__init__ and its decorators).
    _create_func: HandlerFunction | None
    _update_func: HandlerFunction | None
    _delete_func: HandlerFunction | None
    _poll_create_func: HandlerFunction | None
    _poll_update_func: HandlerFunction | None
    _poll_delete_func: HandlerFunction | None
    _init_failed: BaseException | None
    _timer: Timer | None
    # this request's state (reset by _begin)
    _event: dict[str, Any]
    _context: LambdaContext | None
    _job: Job | None
    _pending: dict[str, Any] | None
    #: who ends this invocation: the request flow or the timeout timer (see ``_claim``)
    _finisher: str | None
    #: whether this first invocation is a redelivery (see ``REDELIVERY_AFTER_SECONDS``)
    _redelivered: bool

    def __init__(
        self,
        *,
        opensearch: Callable[[], OpenSearchServiceClient] = _default_opensearch,
        events: Callable[[], EventBridgeClient] = _default_events,
        clock: Clock | None = None,
        sender: Callable[[str, bytes], bool] = send_response,
        timer_factory: TimerFactory = _daemon_timer,
    ) -> None:
        super().__init__(
            json_logging=True,
            log_level=LOG_LEVEL,
            boto_level="ERROR",
            polling_interval=1,
            sleep_on_delete=0,
        )
        self._opensearch_factory = opensearch
        self._events_factory = events
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._sender = sender
        self._timer_factory = timer_factory
        self._send_lock = threading.Lock()
        self._begin({}, None)

    # the request flow ---------------------------------------------------------------------

    def __call__(self, event: dict[str, Any], context: LambdaContext) -> None:
        """Handle one invocation (CloudFormation's request, or a polling rule's re-invocation)."""
        self._begin(event, context)
        try:
            self._log_setup(event, context)
            logger.info(
                "%s request for %s%s",
                self.RequestType,
                event.get("ResourceType", "?"),
                " (polling)" if self._polling_event() else "",
            )
            if self._init_failed is not None:
                self._remove_polling()
                self._send(
                    FAILED, f"the provider failed to start: {failure_reason(self._init_failed)}"
                )
                return
            self._set_timeout()
            self._wrap_function(self._get_func())
            if not self._claim(_MAIN):  # the timer handed over or answered meanwhile
                return
            if self.Status != FAILED and self._pending is not None:
                self._continue_polling(self._pending)
            else:
                self._remove_polling()
                self._send()
        except Exception as error:
            if not self._claim(_MAIN) and self._finisher != _MAIN:
                return  # the timer is finishing this invocation
            logger.error("unexpected error: %s", failure_reason(error), exc_info=True)
            self._remove_polling()
            self._send(FAILED, failure_reason(error))
        finally:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def run(
        self, event: Mapping[str, Any], context: LambdaContext, step: Callable[[Job], Outcome]
    ) -> str | None:
        """Run one lifecycle step for the decorated functions of ``index.py``.

        :param event: the event (on a polling invocation it carries the pending state).
        :param context: the Lambda context.
        :param step: e.g. ``lifecycle.create``, or ``lifecycle.resume`` when polling.
        :returns: the physical id when done; ``None`` when pending (the state is kept for
            polling).
        :raises Exception: whatever the lifecycle raised; its message becomes the FAILED reason.
        """
        state: Mapping[str, Any] | None = None
        if self._polling_event():
            saved = (event.get("CrHelperData") or {}).get(STATE_KEY)
            if not isinstance(saved, Mapping):
                raise ResourceFailure("a polling invocation without the pending state: giving up")
            state = saved
        job = start_job(
            event,
            opensearch=self._opensearch_factory(),
            clock=self._clock,
            remaining_seconds=context.get_remaining_time_in_millis() / 1000.0,
            state=state,
        )
        self._job = job
        outcome = step(job)
        if isinstance(outcome, Pending):
            self._pending = outcome.state
            return None
        self.Data = dict(outcome.data)
        return outcome.physical_id

    def _begin(self, event: Mapping[str, Any], context: LambdaContext | None) -> None:
        """Reset the per-request state (a container serves many requests)."""
        self._event = event if isinstance(event, dict) else dict(event)
        self._context = context
        self._response_url = str(event.get("ResponseURL", ""))
        self.Status = SUCCESS
        self.Reason = ""
        self.PhysicalResourceId = ""
        self.StackId = str(event.get("StackId", ""))
        self.RequestId = str(event.get("RequestId", ""))
        self.LogicalResourceId = str(event.get("LogicalResourceId", ""))
        self.RequestType = str(event.get("RequestType", ""))
        self.Data: dict[str, Any] = {}
        self.NoEcho = False
        self._job = None
        self._pending = None
        self._sent = False
        self._finisher = None
        self._polling_started = False
        sent = request_sent_at(self._response_url)
        self._redelivered = (
            sent is not None
            and "CrHelperPoll" not in event
            and self._clock.now() - sent > REDELIVERY_AFTER_SECONDS
        )

    def _log_setup(self, event: Mapping[str, Any], context: LambdaContext) -> None:
        """JSON logs (crhelper's formatter) with the request's ids on every line."""
        fields = {
            "RequestType": event.get("RequestType", ""),
            "StackId": event.get("StackId", ""),
            "RequestId": event.get("RequestId", ""),
            "LogicalResourceId": event.get("LogicalResourceId", ""),
            "aws_request_id": getattr(context, "aws_request_id", ""),
        }
        # The formatter %-formats each field with the record: escape '%' in the values.
        escaped = {key: str(value).replace("%", "%%") for key, value in fields.items()}
        log_helper.setup(LOG_LEVEL, boto_level="ERROR", **escaped)

    def _polling_event(self) -> bool:
        return "CrHelperPoll" in self._event

    def _get_func(self) -> HandlerFunction:
        prefix = "_poll_" if self._polling_event() else "_"
        name = f"{prefix}{self.RequestType.lower()}_func"
        func: HandlerFunction | None = getattr(self, name, None)
        if func is None:
            raise ResourceFailure(f"no function is registered for {name[1:-5]}")
        return func

    def _wrap_function(self, func: HandlerFunction) -> None:
        """Run the registered function; an exception makes the response FAILED."""
        try:
            result = func(self._event, self._context)
            self.PhysicalResourceId = result if isinstance(result, str) else ""
        except Exception as error:
            self.Status = FAILED
            self.Reason = response_reason(error)
            self._pending = None
            logger.error(
                "%s failed: %s",
                self.RequestType,
                failure_reason(error),
                exc_info=not isinstance(error, ResourceFailure),
            )

    # timeout ------------------------------------------------------------------------------

    def _set_timeout(self) -> None:
        if self._context is None:
            return
        remaining = self._context.get_remaining_time_in_millis() / 1000.0
        # 3 s, or an eighth of a short invocation (at least crhelper's 0.5 s).
        margin = min(_TIMEOUT_MARGIN_SECONDS, max(0.5, remaining / 8))
        self._timer = self._timer_factory(max(0.0, remaining - margin), self._timeout)
        self._timer.start()

    def _claim(self, finisher: str) -> bool:
        """Make ``finisher`` (the request flow or the timer) the only one that ends this
        invocation (answers, sets up or stops the polling); return whether it is."""
        with self._send_lock:
            if self._finisher is not None:
                return False
            self._finisher = finisher
            return True

    def _timeout(self) -> None:
        """Just before Lambda stops the invocation. A first invocation never answers: it hands
        over to polling when its job started, and Lambda delivers the timed-out event again in
        any case (a FAILED answer would let CloudFormation roll back before that redelivery
        makes the package: an orphan). A polling invocation answers FAILED and stops the
        polling (see the module doc)."""
        if not self._claim(_TIMER):
            return  # the request flow is already ending the invocation
        job = self._job
        if not self._polling_event():
            if job is None:
                logger.warning(
                    "the invocation is about to time out before the request started: Lambda "
                    "delivers this event again"
                )
                return
            try:
                self._setup_polling(dict(job.state))
                logger.warning(
                    "the invocation is about to time out during a call: the request continues "
                    "by polling (Lambda also delivers this event again)"
                )
            except Exception as error:
                logger.error(
                    "could not hand over to polling (%s): Lambda delivers this event again",
                    failure_reason(error),
                )
            return
        logger.error("the invocation is about to time out: answering FAILED")
        self._remove_polling()
        self._send(
            FAILED,
            "the provider function ran out of time before the operation finished "
            f"(Lambda timeout; waits normally hand over {int(HANDOVER_MARGIN_SECONDS)} s earlier)",
        )

    # polling ------------------------------------------------------------------------------

    def _rule_name(self) -> str:
        rule_arn = str(self._event.get("CrHelperRule") or "")
        if "/" in rule_arn:
            return rule_arn.rsplit("/", 1)[1]
        return polling_rule_name(
            os.environ.get(RULE_PREFIX_VARIABLE, ""),
            stack_id=self.StackId,
            logical_id=self.LogicalResourceId,
            request_id=self.RequestId,
        )

    def _continue_polling(self, state: dict[str, Any]) -> None:
        """Keep the request pending: set up polling, or refresh the rule's input if needed."""
        if not self._polling_event():
            self._setup_polling(state)
            return
        saved = (self._event.get("CrHelperData") or {}).get(STATE_KEY)
        if saved != state:
            self._event["CrHelperData"] = {STATE_KEY: state}
            self._put_targets(self._rule_name())
            logger.info(
                "still pending (%s); polling continues with the new state", state.get("phase")
            )
        else:
            logger.info("still pending (%s); polling continues", state.get("phase"))

    def _setup_polling(self, state: dict[str, Any]) -> None:
        name = self._rule_name()
        self._polling_started = True
        self._event["CrHelperData"] = {STATE_KEY: state}
        self._event["CrHelperPoll"] = True
        self._event.pop("CrHelperPermission", None)
        response = self._events_factory().put_rule(
            Name=name,
            ScheduleExpression=POLL_SCHEDULE,
            State="ENABLED",
            Description=(
                "cdk-opensearch-packages: re-invokes the provider until "
                f"{self.LogicalResourceId[:200]} is done (removed automatically)"
            ),
        )
        self._event["CrHelperRule"] = response.get("RuleArn", "")
        self._put_targets(name)
        logger.info("pending (%s): polling every minute with rule %s", state.get("phase"), name)

    def _put_targets(self, name: str) -> None:
        payload = json.dumps(self._event)
        if len(payload) > MAX_TARGET_INPUT_CHARS:
            raise ResourceFailure(
                f"the request is too large to continue by polling ({len(payload)} characters, "
                f"EventBridge allows {MAX_TARGET_INPUT_CHARS}): shorten the resource's properties"
            )
        arn = self._context.invoked_function_arn if self._context is not None else ""
        response = self._events_factory().put_targets(
            Rule=name, Targets=[{"Id": _TARGET_ID, "Arn": arn, "Input": payload}]
        )
        if response.get("FailedEntryCount"):
            failed = response.get("FailedEntries", [{}])[0]
            raise ResourceFailure(
                f"{failed.get('ErrorMessage', 'PutTargets failed')} "
                f"({failed.get('ErrorCode', '?')} from PutTargets for rule {name})"
            )

    def _remove_polling(self) -> None:
        """Remove the polling rule and its target (if any); never raises.

        A redelivered first invocation also removes the rule an earlier delivery of the same
        request may have left (its timer hands over to polling just before Lambda stops it, and
        Lambda then delivers the original event again, which knows nothing of the rule).
        """
        polling = "CrHelperRule" in self._event or self._polling_started
        if not polling and not self._redelivered:
            return
        try:
            name = self._rule_name()
            events = self._events_factory()
            try:
                events.remove_targets(Rule=name, Ids=[_TARGET_ID])
            except ClientError as error:
                if error_code(error) != "ResourceNotFoundException":
                    raise
            try:
                events.delete_rule(Name=name)
            except ClientError as error:
                if error_code(error) != "ResourceNotFoundException":
                    raise
            logger.info("polling rule %s removed", name)
        except Exception as error:
            logger.error("could not remove the polling rule: %s", failure_reason(error))
        for key in _POLL_KEYS:
            self._event.pop(key, None)
        self._polling_started = False

    # the response -------------------------------------------------------------------------

    def generate_physical_id(self, event: Mapping[str, Any]) -> str:
        """Return the deterministic placeholder id of a resource that never existed."""
        return placeholder_physical_id(
            stack_id=str(event.get("StackId", "")),
            logical_id=str(event.get("LogicalResourceId", "")),
            request_id=str(event.get("RequestId", "")),
        )

    def _response_physical_id(self, status: str) -> str:
        """The PhysicalResourceId of the response: never empty.

        A failed Create reports what it made (so the Delete that follows cleans it up), else a
        placeholder; a failed Update or Delete keeps the current id.
        """
        if status == SUCCESS and self.PhysicalResourceId:
            return str(self.PhysicalResourceId)
        if self.RequestType == "Create":
            state = self._job.state if self._job is not None else {}
            made = state.get("physical_id")
            return str(made) if made else self.generate_physical_id(self._event)
        return str(self._event.get("PhysicalResourceId") or self.generate_physical_id(self._event))

    def _send(self, status: str | None = None, reason: str = "") -> None:
        """Send the response once (the timeout timer and the request flow may both try)."""
        with self._send_lock:
            if self._sent:
                logger.info("a response was already sent")
                return
            self._sent = True
        final_status = status or self.Status
        final_reason = reason if status else self.Reason
        data = {
            key: str(value)
            for key, value in self.Data.items()
            if key not in (STATE_KEY, "PhysicalResourceId") and not key.startswith("CrHelper")
        }
        body = response_body(
            status=final_status,
            reason=final_reason,
            physical_id=self._response_physical_id(final_status),
            stack_id=self.StackId,
            request_id=self.RequestId,
            logical_id=self.LogicalResourceId,
            data=data if final_status == SUCCESS else {},
            no_echo=bool(self.NoEcho),
        )
        logger.info("answering %s", json.loads(body).get("Status"))
        if not self._response_url:
            logger.error("the event has no ResponseURL: no response sent")
            return
        self._sender(self._response_url, body)
