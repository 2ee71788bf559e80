"""The endpoint custom resources answer CloudFormation on (the ``ResponseURL``).

On AWS the ``ResponseURL`` is a pre-signed S3 URL; the handler PUTs a JSON document there and
CloudFormation reads it. Here a local HTTPS listener plays both parts: it issues one URL per
request (with a random ``X-Amz-Signature``, so tests can check it never appears in a log),
accepts PUTs signed with it and validates the body as CloudFormation does: at most 4096 bytes,
JSON, ``Status`` ``SUCCESS`` or ``FAILED``, a ``Reason`` on ``FAILED``, a non-empty
``PhysicalResourceId``, and ``StackId``/``RequestId``/``LogicalResourceId`` echoed from the
request. An invalid response counts as ``FAILED`` with the reason it was rejected. The first
response to a request wins; later ones (a duplicate delivery, a response after the timeout) are
recorded for tests to inspect.

S3 fails a PUT now and then; :meth:`ResponseListener.set_faults` makes the listener do so too
(:class:`ResponseFaults`, seeded): answer S3's ``503 SlowDown`` or close the connection without
an answer (the response is not received), or receive the response and then close the connection
(the sender tries again: a duplicate). A cap per request keeps the storm within what the sender
survives (it tries 3 times). The faults injected are listed by
:meth:`ResponseListener.injected_faults`.
"""

from __future__ import annotations

import json
import random
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final, Literal
from urllib.parse import quote, unquote

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from cdk_opensearch_packages.local.aws.constants import FAKE_CREDENTIALS, REGION
from cdk_opensearch_packages.local.cloudformation.tls import LocalCertificates
from cdk_opensearch_packages.local.faults import drop_connection

__all__ = [
    "MAX_RESPONSE_BYTES",
    "RESPONSE_FAULT_KINDS",
    "URL_EXPIRES_SECONDS",
    "CustomResourceResponse",
    "InjectedResponseFault",
    "ResponseFaultKind",
    "ResponseFaults",
    "ResponseListener",
]

#: CloudFormation rejects custom resource responses larger than this.
MAX_RESPONSE_BYTES = 4096
#: How long a ``ResponseURL`` is accepted after it was issued (CloudFormation signs for 2 hours).
URL_EXPIRES_SECONDS = 7200
_BUCKET = f"cloudformation-custom-resource-response-{REGION.replace('-', '')}"

ResponseFaultKind = Literal["drop", "slow_down", "drop_after"]
#: The faults of a response PUT, in the order they are drawn.
RESPONSE_FAULT_KINDS: Final[tuple[ResponseFaultKind, ...]] = ("drop", "slow_down", "drop_after")


@dataclass(frozen=True)
class ResponseFaults:
    """The faults response PUTs meet (each a probability, drawn per PUT in
    :data:`RESPONSE_FAULT_KINDS` order, at most one per PUT).

    :param drop: the connection is closed without an answer; the response is not received.
    :param slow_down: S3's HTTP 503 ``SlowDown`` (XML error); the response is not received.
    :param drop_after: the response is received, then the connection closed without an answer
        (the sender tries again: CloudFormation gets a duplicate, recorded as ``late``).
    :param per_request: at most this many faulted PUTs per request. The handler's sender tries
        3 times: with 2 or fewer, every response still arrives.
    :param count: at most this many faulted PUTs in all. Default: - no limit.
    """

    drop: float = 0.0
    slow_down: float = 0.0
    drop_after: float = 0.0
    per_request: int = 1
    count: int | None = None

    def __post_init__(self) -> None:
        for kind in RESPONSE_FAULT_KINDS:
            value = getattr(self, kind)
            if isinstance(value, bool) or not 0.0 <= value <= 1.0:
                raise ValueError(f"a fault probability must be within 0..1, got {kind}={value!r}")
        if self.per_request < 0:
            raise ValueError(f"per_request must be >= 0, got {self.per_request!r}")
        if self.count is not None and self.count < 0:
            raise ValueError(f"count must be >= 0, got {self.count!r}")


@dataclass(frozen=True)
class InjectedResponseFault:
    """A fault a response PUT met.

    :param request_id: the request the PUT answered.
    :param kind: ``drop``, ``slow_down`` or ``drop_after``.
    :param at: epoch seconds.
    :param attempt: the PUT's rank among the request's PUTs (1 for the first).
    """

    request_id: str
    kind: ResponseFaultKind
    at: float
    attempt: int


@dataclass(frozen=True)
class CustomResourceResponse:
    """A response received for a custom resource request.

    :param request_id: the request it answers.
    :param received: epoch seconds.
    :param status: ``SUCCESS`` or ``FAILED`` as CloudFormation takes it (an invalid response is
        ``FAILED``).
    :param reason: the reason (for an invalid response: why it was rejected).
    :param physical_resource_id: the physical id it carries (may be empty when invalid).
    :param data: the ``Data`` attributes.
    :param no_echo: whether ``NoEcho`` was set.
    :param body: the body as received.
    :param problem: why the response is invalid, or ``None`` when it is valid.
    :param late: whether it came after the request was answered or had timed out.
    """

    request_id: str
    received: float
    status: str
    reason: str
    physical_resource_id: str
    data: dict[str, Any]
    no_echo: bool
    body: str
    problem: str | None = None
    late: bool = False

    @property
    def valid(self) -> bool:
        """Whether CloudFormation would accept the response as it is."""
        return self.problem is None


@dataclass
class _Request:
    stack_id: str
    logical_id: str
    request_id: str
    signature: str
    #: when the URL stops being accepted (epoch seconds), as S3 does with ``X-Amz-Expires``
    expires: float = float("inf")
    responses: list[CustomResourceResponse] = field(default_factory=list)
    answered: threading.Event = field(default_factory=threading.Event)
    closed: bool = False
    #: valid PUTs received (faulted or not), and how many of them met a fault
    puts: int = 0
    faulted: int = 0


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Do not log requests (their URLs carry the signature)."""


def _validate(request: _Request, body: bytes) -> CustomResourceResponse:
    text = body.decode("utf-8", errors="replace")
    received = time.time()

    def invalid(problem: str, physical_id: str = "") -> CustomResourceResponse:
        return CustomResourceResponse(
            request.request_id,
            received,
            "FAILED",
            f"Invalid custom resource response: {problem}",
            physical_id,
            {},
            False,
            text,
            problem,
        )

    if len(body) > MAX_RESPONSE_BYTES:
        return invalid(
            f"Response object is too long ({len(body)} bytes; CloudFormation accepts at most "
            f"{MAX_RESPONSE_BYTES})."
        )
    try:
        document = json.loads(body)
    except ValueError as error:
        return invalid(f"the body is not valid JSON ({error})")
    if not isinstance(document, dict):
        return invalid("the body is not a JSON object")
    physical = document.get("PhysicalResourceId")
    physical_id = physical if isinstance(physical, str) else ""
    status = document.get("Status")
    if status not in ("SUCCESS", "FAILED"):
        return invalid(f"Status must be SUCCESS or FAILED, not {status!r}", physical_id)
    for key, expected in (
        ("StackId", request.stack_id),
        ("RequestId", request.request_id),
        ("LogicalResourceId", request.logical_id),
    ):
        if document.get(key) != expected:
            return invalid(
                f"{key} {document.get(key)!r} does not echo the request's {expected!r}",
                physical_id,
            )
    if not physical_id.strip():
        return invalid("Invalid PhysicalResourceId (it must be a non-empty string)")
    reason = document.get("Reason", "")
    if not isinstance(reason, str):
        return invalid("Reason must be a string", physical_id)
    if status == "FAILED" and not reason.strip():
        return invalid("a FAILED response must carry a Reason", physical_id)
    data = document.get("Data", {})
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return invalid("Data must be a JSON object", physical_id)
    no_echo = document.get("NoEcho", False)
    if isinstance(no_echo, str) and no_echo.lower() in ("true", "false"):
        no_echo = no_echo.lower() == "true"
    if not isinstance(no_echo, bool):
        return invalid("NoEcho must be a boolean", physical_id)
    return CustomResourceResponse(
        request.request_id, received, status, reason, physical_id, data, no_echo, text
    )


class ResponseListener:
    """Local HTTPS endpoint behind every ``ResponseURL`` of the CloudFormation stand-in.

    :param certificates: the TLS certificate it serves (see :mod:`.cfn_tls`).
    :param url_expires_seconds: how long an issued URL is accepted (S3 then answers 403).
        Default: :data:`URL_EXPIRES_SECONDS`.
    """

    def __init__(
        self, certificates: LocalCertificates, *, url_expires_seconds: int = URL_EXPIRES_SECONDS
    ) -> None:
        self._certificates = certificates
        self.url_expires_seconds = url_expires_seconds
        self._requests: dict[str, _Request] = {}
        self._rejected: list[str] = []
        self._lock = threading.Lock()
        self._faults = ResponseFaults()
        self._random = random.Random("response-faults-0")
        self._injected: list[InjectedResponseFault] = []
        self._injected_since_set = 0
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    def start(self) -> None:
        """Start serving on a free port of 127.0.0.1."""
        self._server = make_server(
            "127.0.0.1",
            0,
            self._app,
            threaded=True,
            request_handler=_QuietHandler,
            ssl_context=self._certificates.server_context(),
        )
        self.base_url = f"https://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="cfn-response-listener",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def new_response_url(self, *, stack_id: str, logical_id: str, request_id: str) -> str:
        """Issue the ``ResponseURL`` of one request (pre-signed S3 URL shaped)."""
        signature = secrets.token_hex(32)
        signed = int(time.time())
        with self._lock:
            self._requests[request_id] = _Request(
                stack_id,
                logical_id,
                request_id,
                signature,
                expires=signed + self.url_expires_seconds,
            )
        key = quote(f"{stack_id}|{logical_id}|{request_id}", safe="")
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(signed))
        credential = quote(
            f"{FAKE_CREDENTIALS['AWS_ACCESS_KEY_ID']}/{stamp[:8]}/{REGION}/s3/aws4_request",
            safe="",
        )
        return (
            f"{self.base_url}/{_BUCKET}/{key}?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            f"&X-Amz-Date={stamp}&X-Amz-SignedHeaders=host&X-Amz-Expires={self.url_expires_seconds}"
            f"&X-Amz-Credential={credential}&X-Amz-Signature={signature}"
        )

    def signature(self, request_id: str) -> str:
        """The ``X-Amz-Signature`` issued for a request (tests check logs never show it)."""
        with self._lock:
            return self._requests[request_id].signature

    def signatures(self) -> list[str]:
        """Every signature issued so far."""
        with self._lock:
            return [request.signature for request in self._requests.values()]

    def wait(self, request_id: str, timeout: float) -> CustomResourceResponse | None:
        """Wait for the first response to a request; ``None`` when none came in time.

        Either way the request is closed: any response arriving afterwards is recorded as late.
        """
        with self._lock:
            request = self._requests[request_id]
        request.answered.wait(max(timeout, 0.0))
        with self._lock:
            request.closed = True
            return request.responses[0] if request.responses else None

    def responses(self, request_id: str | None = None) -> list[CustomResourceResponse]:
        """Every response received (first ones, duplicates and late ones), oldest first."""
        with self._lock:
            requests: Iterable[_Request] = (
                [self._requests[request_id]] if request_id is not None else self._requests.values()
            )
            found = [response for request in requests for response in request.responses]
        return sorted(found, key=lambda response: response.received)

    def duplicates(self) -> list[CustomResourceResponse]:
        """Responses that were not the first one of their request."""
        return [response for response in self.responses() if response.late]

    def rejected(self) -> list[str]:
        """Requests refused before validation (bad signature, unknown key, wrong method)."""
        with self._lock:
            return list(self._rejected)

    @property
    def faults(self) -> ResponseFaults:
        """The faults response PUTs meet now."""
        with self._lock:
            return self._faults

    def set_faults(
        self,
        *,
        drop: float = 0.0,
        slow_down: float = 0.0,
        drop_after: float = 0.0,
        per_request: int = 1,
        count: int | None = None,
        seed: int = 0,
    ) -> ResponseFaults:
        """Make response PUTs fail from now on (replaces the faults in force; the counts and
        the draws start again).

        ``listener.set_faults(slow_down=1.0, count=2)``: the next two requests' first PUTs are
        answered 503 SlowDown. ``listener.set_faults(slow_down=0.3, drop=0.1, seed=5)``: about
        four requests in ten see one failed PUT, each answered by the sender's next try.

        :param drop: see :class:`ResponseFaults`.
        :param slow_down: idem.
        :param drop_after: idem.
        :param per_request: idem.
        :param count: idem.
        :param seed: seed of the draws.
        :return: the faults in force.
        """
        faults = ResponseFaults(drop, slow_down, drop_after, per_request, count)
        with self._lock:
            self._faults = faults
            self._random = random.Random(f"response-faults-{seed}")
            self._injected_since_set = 0
            for request in self._requests.values():
                request.faulted = 0
            return faults

    def clear_faults(self) -> None:
        """Response PUTs no longer fail (the faults injected so far stay listed)."""
        self.set_faults()

    def injected_faults(self, request_id: str | None = None) -> list[InjectedResponseFault]:
        """The faults response PUTs met, oldest first.

        :param request_id: only this request's. Default: - all.
        """
        with self._lock:
            return [f for f in self._injected if request_id in (None, f.request_id)]

    def _draw_fault(self, request: _Request) -> ResponseFaultKind | None:
        """Count a valid PUT of ``request``; draw the fault it meets (under the lock)."""
        request.puts += 1
        faults = self._faults
        if request.faulted >= faults.per_request:
            return None
        if faults.count is not None and self._injected_since_set >= faults.count:
            return None
        for kind in RESPONSE_FAULT_KINDS:
            probability: float = getattr(faults, kind)
            if probability > 0 and self._random.random() < probability:
                request.faulted += 1
                self._injected_since_set += 1
                self._injected.append(
                    InjectedResponseFault(request.request_id, kind, time.time(), request.puts)
                )
                return kind
        return None

    def _app(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        response = self._handle(request)
        result: Iterable[bytes] = response(environ, start_response)
        return result

    def _handle(self, http: Request) -> Response:
        path = unquote(environ_raw_path(http))
        prefix = f"/{_BUCKET}/"
        if not path.startswith(prefix):
            return self._reject(http, "unknown bucket", 404, "NoSuchBucket")
        request_id = path[len(prefix) :].rsplit("|", 1)[-1]
        with self._lock:
            pending = self._requests.get(request_id)
        if pending is None or not secrets.compare_digest(
            http.args.get("X-Amz-Signature", ""), pending.signature
        ):
            return self._reject(http, f"bad signature for {request_id}", 403, "AccessDenied")
        if time.time() > pending.expires:
            return self._reject(http, f"expired URL for {request_id}", 403, "AccessDenied")
        if http.method != "PUT":
            return self._reject(http, f"{http.method} {request_id}", 405, "MethodNotAllowed")
        body = http.get_data()
        with self._lock:
            fault = self._draw_fault(pending)
        if fault == "drop":
            drop_connection(http.environ)
        if fault == "slow_down":
            return _s3_error(503, "SlowDown", "Please reduce your request rate.")
        validated = _validate(pending, body)
        with self._lock:
            late = bool(pending.responses) or pending.closed
            if late:
                validated = CustomResourceResponse(**{**validated.__dict__, "late": True})
            pending.responses.append(validated)
            pending.answered.set()
        if fault == "drop_after":
            drop_connection(http.environ)
        return Response(b"", status=200, headers={"ETag": f'"{secrets.token_hex(16)}"'})

    def _reject(self, http: Request, what: str, status: int, code: str) -> Response:
        with self._lock:
            self._rejected.append(f"{http.method} {what}")
        return _s3_error(status, code, code)


def _s3_error(status: int, code: str, message: str) -> Response:
    """An S3 error answer (XML body, request ids in headers and body)."""
    request_id = secrets.token_hex(8).upper()
    host_id = secrets.token_urlsafe(48)
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        f"<RequestId>{request_id}</RequestId><HostId>{host_id}</HostId></Error>"
    )
    return Response(
        body,
        status=status,
        content_type="application/xml",
        headers={"x-amz-request-id": request_id, "x-amz-id-2": host_id},
    )


def environ_raw_path(http: Request) -> str:
    """The request path as sent (before ``%2F`` is decoded), falling back to the decoded one."""
    raw = http.environ.get("RAW_URI") or http.environ.get("REQUEST_URI")
    if isinstance(raw, str) and raw:
        return raw.split("?", 1)[0]
    return http.path
