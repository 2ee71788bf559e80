"""The CloudFormation response: a bounded JSON body and a sender that gives up.

CloudFormation reads the response from a presigned URL (``ResponseURL``). The body must be at
most 4096 bytes. The sender PUTs it (``http`` or ``https``) with an empty ``content-type`` (the
URL is signed for that), waits at most :data:`SEND_TIMEOUT_SECONDS` per try, tries at most
:data:`SEND_ATTEMPTS` times with backoff, and never logs the URL (it could be used to forge the
response) nor the body.
"""

from __future__ import annotations

import http.client
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_REASON_CHARS",
    "response_body",
    "send_response",
    "truncate_head",
]

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 4096
MAX_REASON_CHARS = 256
SEND_TIMEOUT_SECONDS = 5.0
SEND_ATTEMPTS = 3
_ELLIPSIS = "..."


def truncate_head(text: str, limit: int) -> str:
    """Return ``text`` cut to at most ``limit`` characters, keeping its head (the service message
    comes first) and marking the cut with ``...``."""
    if len(text) <= limit:
        return text
    if limit <= len(_ELLIPSIS):
        return text[:limit]
    return text[: limit - len(_ELLIPSIS)] + _ELLIPSIS


def _encode(body: Mapping[str, object]) -> bytes:
    return json.dumps(body, default=str).encode("utf-8")


def response_body(
    *,
    status: str,
    reason: str,
    physical_id: str,
    stack_id: str,
    request_id: str,
    logical_id: str,
    data: Mapping[str, str] | None = None,
    no_echo: bool = False,
) -> bytes:
    """Return the JSON body of a response, at most :data:`MAX_BODY_BYTES` bytes.

    The reason is cut to :data:`MAX_REASON_CHARS` characters keeping its head, and further if the
    body is still too large. When the attributes (``Data``) alone make the body too large, the
    response becomes FAILED with a reason that says so (dropping attributes silently would only
    move the failure to a later ``Fn::GetAtt``).
    """
    body: dict[str, object] = {
        "Status": status,
        "Reason": truncate_head(reason, MAX_REASON_CHARS),
        "PhysicalResourceId": physical_id,
        "StackId": stack_id,
        "RequestId": request_id,
        "LogicalResourceId": logical_id,
        "NoEcho": no_echo,
        "Data": dict(data or {}),
    }
    encoded = _encode(body)
    if len(encoded) <= MAX_BODY_BYTES:
        return encoded
    if len(_encode({**body, "Reason": ""})) > MAX_BODY_BYTES:
        keys = ", ".join(sorted(body["Data"])) if isinstance(body["Data"], dict) else ""
        body.update(
            Status="FAILED",
            Data={},
            Reason=(
                f"the response would be {len(encoded)} bytes, more than CloudFormation's "
                f"{MAX_BODY_BYTES}: the attributes ({keys}) are too large"
            ),
        )
        encoded = _encode(body)
    reason = str(body["Reason"])
    while len(encoded) > MAX_BODY_BYTES and reason:
        overflow = len(encoded) - MAX_BODY_BYTES
        reason = truncate_head(reason, max(0, len(reason) - overflow))
        if len(reason) <= len(_ELLIPSIS):
            reason = ""
        body["Reason"] = reason
        encoded = _encode(body)
    return encoded


def send_response(
    url: str,
    body: bytes,
    *,
    timeout: float = SEND_TIMEOUT_SECONDS,
    attempts: int = SEND_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """PUT ``body`` to CloudFormation's ``ResponseURL``; return whether it was accepted.

    Retries connection errors, timeouts, answers that are not HTTP and HTTP 5xx/429 with backoff
    (1, 2 s); an HTTP 4xx (e.g. an expired URL) is final. Never logs the URL or the body. At
    most 3 tries of 5 s plus the pauses: 18 s, within the 20 s the waits keep in hand.

    :param url: the presigned ``ResponseURL`` (``http`` or ``https``).
    :param body: the JSON body (see :func:`response_body`).
    :param timeout: seconds per try.
    :param attempts: tries at most.
    :param sleep: the sleep function (injected by tests).
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        logger.error("the ResponseURL is not http(s) (scheme %r): no response sent", scheme)
        return False
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(  # the scheme is checked above
            url,
            data=body,
            method="PUT",
            headers={"Content-Type": "", "Content-Length": str(len(body))},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                logger.info(
                    "CloudFormation response sent: HTTP %s (%d bytes)", response.status, len(body)
                )
                return True
        except urllib.error.HTTPError as error:
            logger.error(
                "CloudFormation response refused: HTTP %s (try %d of %d)",
                error.code,
                attempt,
                attempts,
            )
            if error.code < 500 and error.code != 429:
                return False
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            # HTTPException: an answer that is not HTTP (BadStatusLine, IncompleteRead...).
            cause = error.reason if isinstance(error, urllib.error.URLError) else error
            logger.error(
                "CloudFormation response not sent: %s: %s (try %d of %d)",
                type(error).__name__,
                cause,
                attempt,
                attempts,
            )
        if attempt < attempts:
            sleep(float(2 ** (attempt - 1)))
    logger.error("CloudFormation response not sent after %d tries: giving up", attempts)
    return False
