"""Fakes and helpers for the provider handler's unit tests (clock, context, events, stubs)."""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.stub import Stubber

from osp_handler.job import Job, start_job

if TYPE_CHECKING:
    from types_boto3_opensearch.client import OpenSearchServiceClient

EVENTS_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "events"
REPOSITORY = Path(__file__).resolve().parents[3]
START = 1_750_000_000.0
FUNCTION_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:osp-provider"
RULE_PREFIX = "osp-0123456789ab-"


def load_event(name: str) -> dict[str, Any]:
    """Return a fresh copy of ``tests/fixtures/events/<name>.json``."""
    with (EVENTS_DIR / f"{name}.json").open(encoding="utf-8") as handle:
        event: dict[str, Any] = json.load(handle)
    return copy.deepcopy(event)


class FakeClock:
    """A clock whose ``sleep`` only advances time (and can run a hook)."""

    def __init__(self, start: float = START) -> None:
        self.current = start
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[], None] | None = None

    def now(self) -> float:
        """The fake time."""
        return self.current

    def sleep(self, seconds: float) -> None:
        """Advance the fake time."""
        assert seconds >= 0, seconds
        self.sleeps.append(seconds)
        self.current += seconds
        if self.on_sleep is not None:
            self.on_sleep()


class FakeContext:
    """A Lambda context whose remaining time follows the fake clock."""

    def __init__(self, clock: FakeClock, seconds: float = 900.0) -> None:
        self.clock = clock
        self.deadline = clock.now() + seconds
        self.aws_request_id = "6bc28136-8e6b-4a43-b3c4-d6a1e0c2f3a4"
        self.invoked_function_arn = FUNCTION_ARN
        self.function_name = "osp-provider"

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds to the fake deadline."""
        return int((self.deadline - self.clock.now()) * 1000)


@dataclass
class FakeTimer:
    """A timer that only fires when the test says so."""

    seconds: float
    action: Callable[[], None]
    started: bool = False
    cancelled: bool = False

    def start(self) -> None:
        """Record the start."""
        self.started = True

    def cancel(self) -> None:
        """Record the cancellation."""
        self.cancelled = True

    def fire(self) -> None:
        """Run the action as the real timer would at its time."""
        self.action()


@dataclass
class FakeTimers:
    """Factory of :class:`FakeTimer` that keeps them."""

    made: list[FakeTimer] = field(default_factory=list)

    def __call__(self, seconds: float, action: Callable[[], None]) -> FakeTimer:
        """Make a timer."""
        timer = FakeTimer(seconds, action)
        self.made.append(timer)
        return timer


def make_job(
    event: dict[str, Any],
    client: OpenSearchServiceClient,
    clock: FakeClock,
    *,
    remaining: float = 900.0,
    state: dict[str, Any] | None = None,
) -> Job:
    """Build the job of one invocation, as the adapter does."""
    return start_job(
        event, opensearch=client, clock=clock, remaining_seconds=remaining, state=state
    )


def at(seconds: float) -> datetime:
    """A timezone-aware datetime for the fake epoch time ``seconds``."""
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def package(
    package_id: str,
    status: str,
    *,
    name: str = "synonyms",
    package_type: str = "TXT-DICTIONARY",
    version: str | None = None,
    description: str | None = None,
    error: str | None = None,
    created: float | None = None,
) -> dict[str, Any]:
    """A ``PackageDetails`` structure."""
    details: dict[str, Any] = {
        "PackageID": package_id,
        "PackageName": name,
        "PackageType": package_type,
        "PackageStatus": status,
    }
    if version is not None:
        details["AvailablePackageVersion"] = version
    if description is not None:
        details["PackageDescription"] = description
    if error is not None:
        details["ErrorDetails"] = {"ErrorType": "ValidationFailure", "ErrorMessage": error}
    if created is not None:
        details["CreatedAt"] = at(created)
    return details


def expect_describe(stub: Stubber, package_id: str, *answers: dict[str, Any] | None) -> None:
    """Queue DescribePackages(PackageID) answers; ``None`` answers an empty list."""
    for answer in answers:
        stub.add_response(
            "describe_packages",
            {"PackageDetailsList": [] if answer is None else [answer]},
            {"Filters": [{"Name": "PackageID", "Value": [package_id]}]},
        )


def expect_history(stub: Stubber, package_id: str, *entries: dict[str, Any]) -> None:
    """Queue a GetPackageVersionHistory answer (``entries``: PackageVersionHistory items)."""
    stub.add_response(
        "get_package_version_history",
        {"PackageID": package_id, "PackageVersionHistoryList": list(entries)},
        {"PackageID": package_id},
    )


def expect_describe_error(
    stub: Stubber, package_id: str, code: str, message: str, status: int
) -> None:
    """Queue a DescribePackages(PackageID) error."""
    stub.add_client_error(
        "describe_packages",
        service_error_code=code,
        service_message=message,
        http_status_code=status,
        expected_params={"Filters": [{"Name": "PackageID", "Value": [package_id]}]},
    )


def domain_package(
    package_id: str,
    status: str,
    *,
    version: str = "v1",
    domain: str = "search-domain",
    error: str | None = None,
) -> dict[str, Any]:
    """A ``DomainPackageDetails`` structure."""
    details: dict[str, Any] = {
        "PackageID": package_id,
        "PackageName": "synonyms",
        "PackageType": "TXT-DICTIONARY",
        "DomainName": domain,
        "DomainPackageStatus": status,
        "PackageVersion": version,
        "ReferencePath": f"analyzers/{package_id}",
    }
    if error is not None:
        details["ErrorDetails"] = {"ErrorType": "AssociationFailure", "ErrorMessage": error}
    return details


def expect_list(stub: Stubber, *pages: list[dict[str, Any]], domain: str = "search-domain") -> None:
    """Queue ListPackagesForDomain pages of one listing (NextToken chains them)."""
    for index, page in enumerate(pages):
        response: dict[str, Any] = {"DomainPackageDetailsList": page}
        params: dict[str, Any] = {"DomainName": domain}
        if index + 1 < len(pages):
            response["NextToken"] = f"token-{index + 1}"
        if index > 0:
            params["NextToken"] = f"token-{index}"
        stub.add_response("list_packages_for_domain", response, params)


@dataclass
class Recorded:
    """One request received by :class:`ResponseServer`."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        """The body as JSON."""
        loaded: dict[str, Any] = json.loads(self.body)
        return loaded


class ResponseServer:
    """A local HTTP server standing in for CloudFormation's presigned ResponseURL."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.statuses: list[int] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                recorder.requests.append(
                    Recorded(
                        "PUT", self.path, {k.lower(): v for k, v in self.headers.items()}, body
                    )
                )
                status = recorder.statuses.pop(0) if recorder.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        """A presigned-looking URL on this server (with a secret signature), signed at START."""
        return self.url_signed_at(START)

    def url_signed_at(self, seconds: float) -> str:
        """The URL as CloudFormation would have signed it at the fake epoch time ``seconds``."""
        host, port = self._server.server_address[:2]
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(seconds))
        return (
            f"http://{host!s}:{port}/cfn-response/arn%3Aaws%3Acloudformation%7Cstack"
            f"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={stamp}&X-Amz-Expires=7200"
            "&X-Amz-Signature=5ec2e7deadbeef0123456789"
        )

    def bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies received so far."""
        return [request.json() for request in self.requests]

    @contextmanager
    def running(self) -> Iterator[ResponseServer]:
        """Serve until the block ends."""
        self._thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
