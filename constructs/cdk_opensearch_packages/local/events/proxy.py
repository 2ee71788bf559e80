"""A fault-injecting proxy in front of moto's EventBridge.

moto answers every call it serves, so the handler's polling calls (PutRule, PutTargets,
RemoveTargets, DeleteRule) would never meet the throttling, 5xx answers and dropped connections
the real service has now and then. :class:`EventBridgeFaultProxy` sits between the Lambda
functions (their ``AWS_ENDPOINT_URL_EVENTBRIDGE``) and moto: it forwards every request to moto
and injects the seeded faults of :mod:`.os_faults` into the EventBridge calls (JSON 1.1, the
operation named by the ``X-Amz-Target: AWSEvents.<Operation>`` header), as EventBridge answers
them:

- ``throttle``: HTTP 400 ``{"__type": "ThrottlingException", "message": "Rate exceeded"}``;
- ``server_error``: HTTP 500 ``InternalException`` (``server_error_statuses`` may add 503);
- ``drop``: the connection closed without an answer, the call not forwarded;
- ``drop_after``, ``error_after``: the call forwarded to moto (applied), then its answer lost
  (connection closed, or HTTP 500 ``InternalException``);
- ``latency``: a delay before anything else.

Every EventBridge call is recorded (:meth:`EventBridgeFaultProxy.calls`). Requests that are not
EventBridge calls pass through untouched and unrecorded, and ``/_local/...`` is the proxy's own
control API (JSON): ``GET|POST|DELETE /_local/faults`` (read, change as
:meth:`.FaultInjector.set_from_mapping`, clear) and ``GET /_local/calls[?operation=X]``.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote, urlsplit

from werkzeug.wrappers import Request, Response

from cdk_opensearch_packages.local.aws.wsgi_server import BackgroundWsgiServer
from cdk_opensearch_packages.local.faults import (
    FaultConfig,
    FaultDecision,
    FaultInjector,
    drop_connection,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = [
    "EVENTBRIDGE_SERVER_ERROR_STATUSES",
    "TARGET_PREFIX",
    "EventBridgeCall",
    "EventBridgeFaultProxy",
    "eventbridge_operations",
]

_LOG = logging.getLogger(__name__)
#: The ``X-Amz-Target`` prefix of EventBridge's operations (its model's ``targetPrefix``).
TARGET_PREFIX: Final = "AWSEvents."
#: EventBridge answers ``InternalException`` with HTTP 500 (its model's default for a fault).
EVENTBRIDGE_SERVER_ERROR_STATUSES: Final = (500,)
#: EventBridge's throttling error: a JSON 1.1 client error, HTTP 400.
_THROTTLE_STATUS: Final = 400
_JSON_11: Final = "application/x-amz-json-1.1"
_LOCAL_PREFIX: Final = "/_local"
#: Headers of one connection, never forwarded (RFC 9110 section 7.6.1), and the ones
#: http.client and werkzeug set themselves.
_HOP_BY_HOP: Final = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)


@cache
def eventbridge_operations() -> frozenset[str]:
    """:return: the operation names of botocore's EventBridge model (faults may name them)."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("events")
    return frozenset(model.operation_names)


@dataclass(frozen=True)
class EventBridgeCall:
    """One EventBridge call the proxy received.

    :param operation: the operation (``PutRule``), from the ``X-Amz-Target`` header.
    :param wall: when it arrived, epoch seconds.
    :param duration: seconds spent answering (injected latency included).
    :param status: the HTTP status answered, ``None`` when the connection was dropped.
    :param error_code: the error code answered (``ThrottlingException``), ``None`` on success.
    :param faults: the faults injected (``latency``, ``drop``, ``throttle``, ``server_error``,
        ``drop_after``, ``error_after``).
    :param request_id: the ``x-amzn-RequestId`` answered (moto's, or the proxy's own for an
        injected error).
    :param params: the JSON request body (``None`` when it is not a JSON object).
    :param lost_status: the HTTP status of moto's answer that a ``drop_after`` or
        ``error_after`` fault lost (the call was applied: 200 when it succeeded), else ``None``.
    :param lost_error_code: the error code of that lost answer (``None`` on success).
    """

    operation: str
    wall: float
    duration: float
    status: int | None
    error_code: str | None
    faults: tuple[str, ...]
    request_id: str
    params: dict[str, Any] | None
    lost_status: int | None = None
    lost_error_code: str | None = None

    @property
    def applied(self) -> bool:
        """Whether moto carried the call out successfully, even if its answer was lost."""
        return self.status == 200 or self.lost_status == 200

    def to_dict(self) -> dict[str, Any]:
        """:return: JSON form (same keys, and ``applied``)."""
        return {**asdict(self), "faults": list(self.faults), "applied": self.applied}


@dataclass(frozen=True)
class _Upstream:
    """moto's answer."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def error_code(self) -> str | None:
        if self.status < 300:
            return None
        for name, value in self.headers:
            if name.lower() == "x-amzn-errortype" and value:
                return value.split(":", 1)[0]
        try:
            document = json.loads(self.body)
        except ValueError:
            return "UnknownError"
        code = document.get("__type") if isinstance(document, dict) else None
        return str(code).rsplit("#", 1)[-1] if code else "UnknownError"

    @property
    def request_id(self) -> str:
        for name, value in self.headers:
            if name.lower() in ("x-amzn-requestid", "x-amz-request-id"):
                return value
        return ""

    def response(self) -> Response:
        headers = [(k, v) for k, v in self.headers if k.lower() not in _HOP_BY_HOP]
        response = Response(self.body, status=self.status, headers=headers)
        if not any(k.lower() == "content-type" for k, _ in headers):
            del response.headers["Content-Type"]
        return response


@dataclass
class _Call:
    """What is known of an EventBridge call while it is answered."""

    operation: str
    decision: FaultDecision
    wall: float = field(default_factory=time.time)
    started: float = field(default_factory=time.perf_counter)
    params: dict[str, Any] | None = None


class EventBridgeFaultProxy(BackgroundWsgiServer):
    """An HTTP proxy to moto that injects faults into EventBridge calls (a WSGI app plus its
    own server thread).

    :param upstream_url: moto's server, e.g. ``http://127.0.0.1:5000``.
    :param faults: the faults in force at start. Default: - none (server errors are HTTP 500).
    :param seed: seeds the fault draws (the same calls meet the same faults).
    :param host: interface to listen on.
    :param port: port to listen on; 0 picks a free one.
    :param upstream_timeout: seconds to wait for moto's answer.
    """

    def __init__(
        self,
        upstream_url: str,
        *,
        faults: FaultConfig | None = None,
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        upstream_timeout: float = 30.0,
    ) -> None:
        upstream = urlsplit(upstream_url)
        if upstream.scheme != "http" or not upstream.hostname:
            raise ValueError(f"the upstream must be an http:// URL, got {upstream_url!r}")
        self._upstream_host = upstream.hostname
        self._upstream_port = upstream.port or 80
        self._upstream_timeout = upstream_timeout
        self.faults = FaultInjector(
            faults or FaultConfig(server_error_statuses=EVENTBRIDGE_SERVER_ERROR_STATUSES),
            seed,
            known_operations=eventbridge_operations(),
            throttle_status=_THROTTLE_STATUS,
        )
        self._calls: list[EventBridgeCall] = []
        self._calls_lock = threading.Lock()
        super().__init__(
            host=host, port=port, description="the EventBridge fault proxy", logger=_LOG
        )

    # --------------------------------------------------------------------------- lifecycle

    def __enter__(self) -> EventBridgeFaultProxy:
        self.start()
        return self

    # -------------------------------------------------------------------------- inspection

    def calls(self, operation: str | None = None) -> list[EventBridgeCall]:
        """The EventBridge calls received, oldest first.

        :param operation: only this operation's. Default: - all.
        """
        with self._calls_lock:
            return [c for c in self._calls if operation is None or c.operation == operation]

    # -------------------------------------------------------------------------------- WSGI

    def wsgi_app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI application: ``/_local`` control, EventBridge calls, and pass-through."""
        request = Request(environ)
        if request.path == _LOCAL_PREFIX or request.path.startswith(_LOCAL_PREFIX + "/"):
            response = self._local(request)
        else:
            target = request.headers.get("X-Amz-Target", "")
            if target.startswith(TARGET_PREFIX):
                response = self._eventbridge(request, target[len(TARGET_PREFIX) :], environ)
            else:
                response = self._forward_or_fail(request, environ).response()
        return response(environ, start_response)

    def _eventbridge(self, request: Request, operation: str, environ: WSGIEnvironment) -> Response:
        call = _Call(operation, self.faults.decide(operation))
        body = request.get_data()
        call.params = _json_object(body)
        decision = call.decision
        if decision.delay:
            time.sleep(decision.delay)
        if decision.action == "drop":
            self._record(call, None, None, "")
            drop_connection(environ)
        if decision.action in ("throttle", "server_error"):
            return self._injected_error(call)
        upstream = self._forward_or_fail(request, environ, body)
        if decision.action == "drop_after":
            self._record(call, None, None, upstream.request_id, lost=upstream)
            drop_connection(environ)
        if decision.action == "error_after":
            return self._injected_error(call, lost=upstream)
        self._record(call, upstream.status, upstream.error_code, upstream.request_id)
        return upstream.response()

    def _record(
        self,
        call: _Call,
        status: int | None,
        error_code: str | None,
        request_id: str,
        *,
        lost: _Upstream | None = None,
    ) -> None:
        record = EventBridgeCall(
            operation=call.operation,
            wall=call.wall,
            duration=time.perf_counter() - call.started,
            status=status,
            error_code=error_code,
            faults=tuple(call.decision.names),
            request_id=request_id,
            params=call.params,
            lost_status=None if lost is None else lost.status,
            lost_error_code=None if lost is None else lost.error_code,
        )
        with self._calls_lock:
            self._calls.append(record)

    def _injected_error(self, call: _Call, *, lost: _Upstream | None = None) -> Response:
        """Answer the error of a ``throttle``, ``server_error`` or ``error_after`` fault."""
        request_id = str(uuid.uuid4())
        if call.decision.action == "throttle":
            code, message = "ThrottlingException", "Rate exceeded"
        elif lost is None:
            code, message = "InternalException", "Injected fault: an internal error occurred."
        else:
            code = "InternalException"
            message = "Injected fault: an internal error occurred after the request was processed."
        self._record(call, call.decision.status, code, request_id, lost=lost)
        response = Response(
            json.dumps({"__type": code, "message": message}),
            status=call.decision.status,
            content_type=_JSON_11,
        )
        response.headers["x-amzn-RequestId"] = request_id
        return response

    def _forward_or_fail(
        self, request: Request, environ: WSGIEnvironment, body: bytes | None = None
    ) -> _Upstream:
        """Forward a request to moto as it came; a 502 when moto cannot be reached."""
        try:
            return self._forward(request, environ, request.get_data() if body is None else body)
        except (OSError, http.client.HTTPException) as error:
            _LOG.warning("moto did not answer through the proxy: %s", error)
            message = json.dumps({"__type": "InternalFailure", "message": f"moto: {error}"})
            return _Upstream(502, [("Content-Type", _JSON_11)], message.encode())

    def _forward(self, request: Request, environ: WSGIEnvironment, body: bytes) -> _Upstream:
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        if isinstance(raw, str) and raw.startswith("/"):
            target = raw
        else:
            query = environ.get("QUERY_STRING", "")
            target = quote(request.path) + (f"?{query}" if query else "")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        connection = http.client.HTTPConnection(
            self._upstream_host, self._upstream_port, timeout=self._upstream_timeout
        )
        try:
            connection.request(request.method, target, body=body, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
            return _Upstream(answer.status, list(answer.getheaders()), data)
        finally:
            connection.close()

    def _local(self, request: Request) -> Response:
        path = request.path[len(_LOCAL_PREFIX) :]
        try:
            if path == "/faults" and request.method in ("GET", "POST", "DELETE"):
                if request.method == "POST":
                    payload = _json_object(request.get_data() or b"{}")
                    if payload is None:
                        raise ValueError("the request body must be a JSON object")
                    self.faults.set_from_mapping(payload)
                elif request.method == "DELETE":
                    self.faults.clear()
                return _json_response(200, self.faults.config.to_dict())
            if path == "/calls" and request.method == "GET":
                operation = request.args.get("operation")
                return _json_response(
                    200, {"calls": [call.to_dict() for call in self.calls(operation)]}
                )
        except (ValueError, KeyError, TypeError) as error:
            return _json_response(400, {"message": f"{type(error).__name__}: {error}"})
        return _json_response(404, {"message": f"no {request.method} {request.path}"})


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        document = json.loads(body) if body.strip() else {}
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _json_response(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")
