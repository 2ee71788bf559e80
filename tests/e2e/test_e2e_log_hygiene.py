"""What the provider writes to its log, end to end: structured, attributable, and never a secret.

A stack of the real constructs is created (the wait handed over to EventBridge polling, so polling
invocations log too), updated and deleted, and a second stack fails to create and rolls back. Then
every line the provider function wrote (stdout and stderr; the runtime's own START/END/REPORT lines
excluded) is checked:

- it is one JSON object at level INFO or above, with the ``RequestId``, ``LogicalResourceId`` and
  ``RequestType`` of the CloudFormation request it belongs to;
- it holds neither a ``ResponseURL`` nor any ``X-Amz-Signature`` issued by the stand-in, nor the
  event (its ``ResourceProperties``).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from e2e_support import TEST_TIMELINE, PackageStackSpec, synth_package_stack

from cdk_opensearch_packages.local.aws.env import LocalAws
from cdk_opensearch_packages.local.awslambda.runner import LogLine
from cdk_opensearch_packages.local.opensearch.api import Timeline

SYNONYMS_V1 = "couch, sofa, settee\nlaptop, notebook\n"
SYNONYMS_V2 = SYNONYMS_V1 + "fridge, refrigerator\n"
LEVELS = frozenset({"INFO", "WARNING", "ERROR", "CRITICAL"})
#: With this Lambda timeout the handler waits ~1.5 s in process (it keeps 20 s), then polls.
SHORT_LAMBDA_TIMEOUT = 21.5


@dataclass(frozen=True)
class Request:
    """A CloudFormation request as the stand-in sent it."""

    request_id: str
    logical_id: str
    request_type: str
    response_url: str


@dataclass
class Run:
    """The requests of the scenario's stacks and the lines their provider functions wrote."""

    requests: dict[str, Request]
    lines: list[LogLine]
    signatures: list[str]
    polled: int


def _dictionary(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "synonyms.txt"
    path.write_text(text, encoding="utf-8")
    return path


def _provider_functions(aws: LocalAws, stack_name: str) -> set[str]:
    stack = aws.cloudformation.stack(stack_name)
    assert stack is not None
    return {
        state.physical_id
        for state in stack.resources.values()
        if state.resource_type == "AWS::Lambda::Function"
    }


@pytest.fixture
def run(local_aws: LocalAws, tmp_path: Path) -> Run:
    """Create (polling), update and delete one stack; fail another one's create."""
    aws = local_aws
    assert aws.opensearch is not None
    work = tmp_path
    good = f"Hygiene{uuid.uuid4().hex[:8]}"
    bad = f"HygieneFail{uuid.uuid4().hex[:8]}"
    functions: set[str] = set()
    try:
        aws.runner.timeout_override = SHORT_LAMBDA_TIMEOUT
        aws.opensearch.timeline = Timeline.from_mapping(
            {"copying": 1.5, "validating": 1.0, "associating": 0.5, "dissociating": 0.3}
        )
        v1 = PackageStackSpec(dictionary=_dictionary(work / "v1", SYNONYMS_V1))
        created = aws.cloudformation.deploy(synth_package_stack(work / "o1", good, v1), good)
        assert created.status == "CREATE_COMPLETE", created.describe()
        functions |= _provider_functions(aws, good)
        aws.runner.timeout_override = None
        v2 = PackageStackSpec(dictionary=_dictionary(work / "v2", SYNONYMS_V2))
        updated = aws.cloudformation.deploy(synth_package_stack(work / "o2", good, v2), good)
        assert updated.status == "UPDATE_COMPLETE", updated.describe()
        deleted = aws.cloudformation.delete(good)
        assert deleted.status == "DELETE_COMPLETE", deleted.describe()

        aws.s3.create_bucket(Bucket="hygiene-sources")
        missing = PackageStackSpec(bucket_object=("hygiene-sources", "absent.txt"))
        # Keep the failed stack's provider after the rollback to read its function name.
        aws.cloudformation.subscribe(
            lambda event: (
                functions.add(event.physical_id)
                if event.stack_name == bad
                and event.resource_type == "AWS::Lambda::Function"
                and event.physical_id
                else None
            )
        )
        failed = aws.cloudformation.deploy(synth_package_stack(work / "o3", bad, missing), bad)
        assert failed.status == "ROLLBACK_COMPLETE", failed.describe()
        aws.runner.wait_idle(30)
    finally:
        aws.runner.timeout_override = None
        aws.opensearch.timeline = Timeline.from_mapping(TEST_TIMELINE)
    requests = {
        event["RequestId"]: Request(
            request_id=event["RequestId"],
            logical_id=event["LogicalResourceId"],
            request_type=event["RequestType"],
            response_url=event["ResponseURL"],
        )
        for stack in (good, bad)
        for event in aws.cloudformation.custom_requests(stack_name=stack)
    }
    lines = [
        line
        for function in functions
        for line in aws.logs.lines(function=function)
        if line.stream != "runtime"
    ]
    polled = len([d for d in aws.scheduler.deliveries() if d.error is None])
    return Run(requests, lines, aws.listener.signatures(), polled)


def _record(line: LogLine) -> dict[str, Any]:
    try:
        record = json.loads(line.text)
    except ValueError:
        pytest.fail(f"not a JSON line ({line.stream}): {line.text!r}")
    assert isinstance(record, dict), line.text
    return record


def test_the_provider_logs_are_structured_attributable_and_keep_no_secret(run: Run) -> None:
    # One test: the scenario behind it takes seconds, and xdist would run it once per worker
    # that gets one of several tests.
    _check_the_scenario_logged_every_kind_of_request(run)
    _check_every_line_is_json_with_the_request_ids_at_info_or_above(run)
    _check_no_line_holds_a_response_url_a_signature_or_the_event(run)


def _check_the_scenario_logged_every_kind_of_request(run: Run) -> None:
    """The checks below have lines to check: every request type, polling, and a failure."""
    assert run.polled > 0, "the create never handed over to EventBridge polling"
    records = [_record(line) for line in run.lines]
    assert {r["RequestType"] for r in records} == {"Create", "Update", "Delete"}
    assert "ERROR" in {r["level"] for r in records}, "the failed create logged no error"
    logged_requests = {r["RequestId"] for r in records}
    assert logged_requests == set(run.requests), "a request was answered without a log line"


def _check_every_line_is_json_with_the_request_ids_at_info_or_above(run: Run) -> None:
    assert run.lines
    for line in run.lines:
        record = _record(line)
        assert record.get("level") in LEVELS, line.text
        request = run.requests.get(str(record.get("RequestId")))
        assert request is not None, f"no CloudFormation request id: {line.text}"
        assert record.get("LogicalResourceId") == request.logical_id, line.text
        assert record.get("RequestType") == request.request_type, line.text
        assert record.get("message") not in (None, ""), line.text


def _check_no_line_holds_a_response_url_a_signature_or_the_event(run: Run) -> None:
    assert run.signatures
    urls = [request.response_url for request in run.requests.values()]
    for line in run.lines:
        text = line.text
        assert "X-Amz-Signature" not in text, text
        assert "ResponseURL" not in text, text
        assert "ResourceProperties" not in text, text
        assert "OldResourceProperties" not in text, text
        assert not [url for url in urls if url in text or url.split("?")[0] in text], text
        assert not [signature for signature in run.signatures if signature in text], text
