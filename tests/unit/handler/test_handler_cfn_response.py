"""The response body (4096 bytes, head-kept reason) and the sender, against a local server."""

from __future__ import annotations

import json
import logging
import socket

import pytest

from osp_handler.cfn_response import (
    MAX_BODY_BYTES,
    response_body,
    send_response,
    truncate_head,
)
from osp_handler.opensearch_api import response_reason
from osp_handler.outcome import ResourceFailure

from .handler_fakes import ResponseServer

STACK_ID = "arn:aws:cloudformation:eu-west-1:123456789012:stack/s/1"


def _body(
    status: str,
    reason: str = "",
    *,
    data: dict[str, str] | None = None,
    stack_id: str = STACK_ID,
) -> bytes:
    return response_body(
        status=status,
        reason=reason,
        physical_id="F111",
        stack_id=stack_id,
        request_id="r-1",
        logical_id="Package",
        data=data,
    )


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"slept {seconds} s")


def test_body_shape() -> None:
    body = json.loads(_body("SUCCESS", data={"PackageID": "F111"}))

    assert body == {
        "Status": "SUCCESS",
        "Reason": "",
        "PhysicalResourceId": "F111",
        "StackId": STACK_ID,
        "RequestId": "r-1",
        "LogicalResourceId": "Package",
        "NoEcho": False,
        "Data": {"PackageID": "F111"},
    }


def test_truncate_head_keeps_the_head() -> None:
    assert truncate_head("abcdef", 10) == "abcdef"
    assert truncate_head("abcdefghij" * 3, 10) == "abcdefg..."
    assert len(truncate_head("x" * 1000, 256)) == 256


def test_a_long_reason_keeps_its_head_within_256_characters() -> None:
    reason = "Synonym file is invalid at line 3. " + "detail " * 200

    body = json.loads(_body("FAILED", reason))

    assert len(body["Reason"]) == 256
    assert body["Reason"].startswith("Synonym file is invalid at line 3.")
    assert body["Reason"].endswith("...")


def test_a_body_over_4096_bytes_shortens_the_reason_first() -> None:
    encoded = _body("FAILED", "Head of the reason " + "x" * 300, stack_id="s" * 3900)

    assert len(encoded) <= MAX_BODY_BYTES
    assert json.loads(encoded)["Reason"].startswith("Head of")


def test_attributes_too_large_for_4096_bytes_fail_the_response_clearly() -> None:
    encoded = _body("SUCCESS", data={"Big": "x" * 5000})

    body = json.loads(encoded)
    assert len(encoded) <= MAX_BODY_BYTES
    assert body["Status"] == "FAILED"
    assert body["Data"] == {}
    assert body["Reason"].startswith("the response would be")
    assert "(Big)" in body["Reason"]


def test_sends_a_put_with_an_empty_content_type(
    response_server: ResponseServer, caplog: pytest.LogCaptureFixture
) -> None:
    body = _body("SUCCESS")
    caplog.set_level(logging.DEBUG)

    assert send_response(response_server.url, body, sleep=_no_sleep)

    (request,) = response_server.requests
    assert request.method == "PUT"
    assert request.headers["content-type"] == ""
    assert request.headers["content-length"] == str(len(body))
    assert request.body == body
    assert request.path.startswith("/cfn-response/")
    assert "X-Amz-Signature" not in caplog.text
    assert "cfn-response" not in caplog.text
    assert '"Status"' not in caplog.text


def test_retries_server_errors_with_backoff(response_server: ResponseServer) -> None:
    response_server.statuses = [500, 503]
    sleeps: list[float] = []

    assert send_response(response_server.url, b"{}", sleep=sleeps.append)

    assert len(response_server.requests) == 3
    assert sleeps == [1.0, 2.0]


def test_a_client_error_is_final(response_server: ResponseServer) -> None:
    response_server.statuses = [403]
    sleeps: list[float] = []

    assert not send_response(response_server.url, b"{}", sleep=sleeps.append)

    assert len(response_server.requests) == 1
    assert sleeps == []


def test_gives_up_after_three_tries_when_nothing_listens(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/cfn?X-Amz-Signature=5ec2e7deadbeef"
    sleeps: list[float] = []
    caplog.set_level(logging.INFO)

    assert not send_response(url, b"{}", sleep=sleeps.append, timeout=2)

    assert sleeps == [1.0, 2.0]
    assert "5ec2e7deadbeef" not in caplog.text
    assert str(port) not in caplog.text


def test_refuses_other_schemes(caplog: pytest.LogCaptureFixture) -> None:
    assert not send_response("file:///etc/passwd", b"{}", sleep=_no_sleep)
    assert "/etc/passwd" not in caplog.text


def test_a_reason_that_fits_is_sent_whole_and_one_that_does_not_starts_with_its_remedy() -> None:
    short = ResourceFailure("package F1 is gone", remedy="add it again")
    long = ResourceFailure("x" * 300, remedy="rename the package")
    no_remedy = ResourceFailure("y" * 300)

    assert response_reason(short) == "package F1 is gone: add it again"
    assert response_reason(long) == ("Rename the package. Why: " + "x" * 300)[:253] + "..."
    assert response_reason(no_remedy) == "y" * 300  # cut by response_body, head first
