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
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from .aws_constants import FAKE_CREDENTIALS, REGION
from .cfn_tls import LocalCertificates

__all__ = [
    "MAX_RESPONSE_BYTES",
    "URL_EXPIRES_SECONDS",
    "CustomResourceResponse",
    "ResponseListener",
]

#: CloudFormation rejects custom resource responses larger than this.
MAX_RESPONSE_BYTES = 4096
#: How long a ``ResponseURL`` is accepted after it was issued (CloudFormation signs for 2 hours).
URL_EXPIRES_SECONDS = 7200
_BUCKET = f"cloudformation-custom-resource-response-{REGION.replace('-', '')}"


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
            target=self._server.serve_forever, name="cfn-response-listener", daemon=True
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
        validated = _validate(pending, http.get_data())
        with self._lock:
            late = bool(pending.responses) or pending.closed
            if late:
                validated = CustomResourceResponse(**{**validated.__dict__, "late": True})
            pending.responses.append(validated)
            pending.answered.set()
        return Response(b"", status=200, headers={"ETag": f'"{secrets.token_hex(16)}"'})

    def _reject(self, http: Request, what: str, status: int, code: str) -> Response:
        with self._lock:
            self._rejected.append(f"{http.method} {what}")
        body = f"<Error><Code>{code}</Code><Message>{code}</Message></Error>"
        return Response(body, status=status, content_type="application/xml")


def environ_raw_path(http: Request) -> str:
    """The request path as sent (before ``%2F`` is decoded), falling back to the decoded one."""
    raw = http.environ.get("RAW_URI") or http.environ.get("REQUEST_URI")
    if isinstance(raw, str) and raw:
        return raw.split("?", 1)[0]
    return http.path
