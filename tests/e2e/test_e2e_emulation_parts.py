"""The parts of the emulation on their own: intrinsic functions, asset packaging, the response
endpoint's validation and its faults (met by the handler's own sender), the Lambda runtime's
isolation, EventBridge permission matching."""

from __future__ import annotations

import io
import json
import ssl
import stat
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cdk_opensearch_packages.local.awslambda.runner import (
    RUNTIME_LIBRARIES,
    FunctionConfig,
    LambdaRunner,
)
from cdk_opensearch_packages.local.cloudformation.assembly import zip_directory
from cdk_opensearch_packages.local.cloudformation.intrinsics import (
    Intrinsics,
    TemplateError,
    pseudo_parameters,
    references,
    stringify,
)
from cdk_opensearch_packages.local.cloudformation.responses import ResponseFaults, ResponseListener
from cdk_opensearch_packages.local.cloudformation.tls import LocalCertificates, create_certificates
from cdk_opensearch_packages.local.events.scheduler import invocation_allowed, rate_minutes
from osp_handler.cfn_response import send_response

STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/Parts/0000"
RULE = "arn:aws:events:us-east-1:123456789012:rule/osp-abc123-0001"


class _Resources:
    def ref(self, logical_id: str) -> Any:
        return f"{logical_id}-physical"

    def get_att(self, logical_id: str, attribute: str) -> Any:
        return f"{logical_id}.{attribute}"

    def import_value(self, name: str) -> Any:
        if name == "Shared":
            return "imported"
        raise TemplateError(f"No export named {name} found.")


def _intrinsics(**parameters: Any) -> Intrinsics:
    return Intrinsics(
        parameters=parameters,
        pseudo=pseudo_parameters("Parts", STACK_ID),
        resources=_Resources(),
        resource_names=frozenset({"Bucket", "Fn"}),
        conditions={
            "InUsEast1": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]},
            "Both": {"Fn::And": [{"Condition": "InUsEast1"}, {"Fn::Not": [{"Condition": "No"}]}]},
            "No": {"Fn::Equals": ["a", "b"]},
        },
        mappings={"Sizes": {"us-east-1": {"Small": "t3.small.search"}}},
    )


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ({"Ref": "Bucket"}, "Bucket-physical"),
        ({"Ref": "AWS::AccountId"}, "123456789012"),
        ({"Fn::GetAtt": ["Fn", "Arn"]}, "Fn.Arn"),
        ({"Fn::GetAtt": "Fn.Arn"}, "Fn.Arn"),
        ({"Fn::Join": ["-", ["a", {"Ref": "AWS::Region"}, 3]]}, "a-us-east-1-3"),
        (
            {"Fn::Sub": "${AWS::Partition}:${Bucket}:${Fn.Arn}:${!Literal}"},
            "aws:Bucket-physical:Fn.Arn:${Literal}",
        ),
        ({"Fn::Sub": ["${X}-${Bucket}", {"X": {"Ref": "Name"}}]}, "given-Bucket-physical"),
        ({"Fn::Select": ["1", {"Fn::Split": [",", "a,b,c"]}]}, "b"),
        ({"Fn::If": ["Both", "yes", "no"]}, "yes"),
        ({"Fn::FindInMap": ["Sizes", {"Ref": "AWS::Region"}, "Small"]}, "t3.small.search"),
        ({"Fn::ImportValue": "Shared"}, "imported"),
        ({"Fn::Select": [0, {"Fn::GetAZs": ""}]}, "us-east-1a"),
        ({"Fn::Base64": "hi"}, "aGk="),
        ({"Fn::Cidr": ["10.0.0.0/16", 2, 8]}, ["10.0.0.0/24", "10.0.1.0/24"]),
        ({"Fn::Length": [1, 2, 3]}, 3),
        ({"Fn::ToJsonString": {"a": [1, True]}}, '{"a":[1,true]}'),
        (
            {
                "K": {"Fn::If": ["No", "x", {"Ref": "AWS::NoValue"}]},
                "L": ["a", {"Ref": "AWS::NoValue"}],
            },
            {"L": ["a"]},
        ),
    ],
)
def test_intrinsic_functions(fragment: Any, expected: Any) -> None:
    assert _intrinsics(Name="given").resolve(fragment) == expected


def test_intrinsic_errors_name_the_problem() -> None:
    intrinsics = _intrinsics()
    with pytest.raises(TemplateError, match="Unresolved resource dependencies \\[Nope\\]"):
        intrinsics.resolve({"Ref": "Nope"})
    with pytest.raises(TemplateError, match="undefined resource Nope"):
        intrinsics.resolve({"Fn::GetAtt": ["Nope", "Arn"]})
    with pytest.raises(TemplateError, match="out of bounds"):
        intrinsics.resolve({"Fn::Select": [5, ["a"]]})
    with pytest.raises(TemplateError, match="No export named Other"):
        intrinsics.resolve({"Fn::ImportValue": "Other"})
    with pytest.raises(TemplateError, match="CDK bootstrap stack version 6 required"):
        _intrinsics(BootstrapVersion="5").check_rules(
            {
                "CheckBootstrapVersion": {
                    "Assertions": [
                        {
                            "Assert": {
                                "Fn::Not": [
                                    {
                                        "Fn::Contains": [
                                            ["1", "2", "3", "4", "5"],
                                            {"Ref": "BootstrapVersion"},
                                        ]
                                    }
                                ]
                            },
                            "AssertDescription": "CDK bootstrap stack version 6 required.",
                        }
                    ]
                }
            }
        )


def test_references_and_stringify() -> None:
    fragment = {
        "A": {"Ref": "Bucket"},
        "B": {"Fn::Sub": ["${Fn.Arn}/${Var}/${!Skip}", {"Var": {"Ref": "Param"}}]},
        "C": [{"Fn::GetAtt": "Other.Attr"}],
    }
    assert references(fragment) == {"Bucket", "Fn", "Param", "Other"}
    assert stringify({"a": True, "b": 3, "c": [1.0, 2.5, None], "d": "x"}) == {
        "a": "true",
        "b": "3",
        "c": ["1", "2.5", ""],
        "d": "x",
    }


def test_zip_directory_is_deterministic_and_keeps_modes(tmp_path: Path) -> None:
    source = tmp_path / "asset"
    (source / "pkg").mkdir(parents=True)
    (source / "index.py").write_text("print('hi')\n")
    (source / "pkg" / "tool.sh").write_text("#!/bin/sh\n")
    (source / "pkg" / "tool.sh").chmod(0o755)
    (source / "link.py").symlink_to(source / "index.py")

    first = zip_directory(source)
    second = zip_directory(source)

    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        assert sorted(infos) == ["index.py", "link.py", "pkg/tool.sh"]
        assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in infos.values())
        assert stat.S_IMODE(infos["pkg/tool.sh"].external_attr >> 16) == 0o755
        assert archive.read("link.py") == b"print('hi')\n"


def _put(url: str, body: bytes, context: ssl.SSLContext) -> int:
    request = urllib.request.Request(url, data=body, method="PUT", headers={"content-type": ""})
    try:
        with urllib.request.urlopen(request, timeout=5, context=context) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_response_listener_validates_like_cloudformation(tmp_path: Path) -> None:
    certificates = create_certificates(tmp_path)
    context = ssl.create_default_context(cafile=str(certificates.ca_file))
    listener = ResponseListener(certificates)
    listener.start()
    try:
        url = listener.new_response_url(stack_id=STACK_ID, logical_id="Res", request_id="r-1")
        valid = {
            "Status": "FAILED",
            "Reason": "",
            "PhysicalResourceId": "p-1",
            "StackId": STACK_ID,
            "RequestId": "r-1",
            "LogicalResourceId": "Res",
        }
        forged = url.replace(listener.signature("r-1"), "0" * 64)

        assert _put(forged, json.dumps(valid).encode(), context) == 403
        assert _put(url, json.dumps(valid).encode(), context) == 200
        assert _put(url, json.dumps({**valid, "Status": "SUCCESS"}).encode(), context) == 200
        first = listener.wait("r-1", 1)

        assert first is not None
        assert first.status == "FAILED"
        assert first.problem == "a FAILED response must carry a Reason"
        assert [r.late for r in listener.responses("r-1")] == [False, True]
        assert listener.responses("r-1")[1].valid
        assert listener.rejected() == ["PUT bad signature for r-1"]

        other = listener.new_response_url(stack_id=STACK_ID, logical_id="Res", request_id="r-2")
        _put(other, json.dumps({**valid, "RequestId": "r-1", "Reason": "x"}).encode(), context)
        echoed = listener.wait("r-2", 1)
        assert echoed is not None and "does not echo" in echoed.reason
        listener.new_response_url(stack_id=STACK_ID, logical_id="R", request_id="r-3")
        assert listener.wait("r-3", 0.1) is None

        listener.url_expires_seconds = -1  # signed already expired
        expired = listener.new_response_url(stack_id=STACK_ID, logical_id="R", request_id="r-4")
        assert "X-Amz-Expires=-1" in expired
        assert _put(expired, json.dumps({**valid, "RequestId": "r-4"}).encode(), context) == 403
        assert listener.rejected()[-1] == "PUT expired URL for r-4"
    finally:
        listener.stop()


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> LocalCertificates:
    return create_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def listener(
    certificates: LocalCertificates, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ResponseListener]:
    """A response listener the handler's sender trusts (``SSL_CERT_FILE``, as in the Lambda)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.ca_file))
    running = ResponseListener(certificates)
    running.start()
    yield running
    running.stop()


def _response(request_id: str) -> bytes:
    return json.dumps(
        {
            "Status": "SUCCESS",
            "Reason": "",
            "PhysicalResourceId": f"p-{request_id}",
            "StackId": STACK_ID,
            "RequestId": request_id,
            "LogicalResourceId": "Res",
        }
    ).encode()


def _send(listener: ResponseListener, request_id: str) -> tuple[bool, list[float]]:
    """Send a response with the handler's sender (its pauses recorded, not slept)."""
    url = listener.new_response_url(stack_id=STACK_ID, logical_id="Res", request_id=request_id)
    pauses: list[float] = []
    sent = send_response(url, _response(request_id), timeout=5.0, sleep=pauses.append)
    return sent, pauses


def test_response_puts_answered_slow_down_are_sent_again(listener: ResponseListener) -> None:
    listener.set_faults(slow_down=1.0, count=2)
    url = listener.new_response_url(stack_id=STACK_ID, logical_id="Res", request_id="raw")
    context = ssl.create_default_context()
    request = urllib.request.Request(url, data=_response("raw"), method="PUT")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5, context=context)
    assert refused.value.code == 503
    assert refused.value.headers["Content-Type"] == "application/xml"
    assert "<Code>SlowDown</Code>" in refused.value.read().decode()
    assert listener.responses("raw") == []

    assert _send(listener, "r-1") == (True, [1.0])  # the second (and last) fault of the count
    assert _send(listener, "r-2") == (True, [])
    assert [(f.request_id, f.kind, f.attempt) for f in listener.injected_faults()] == [
        ("raw", "slow_down", 1),
        ("r-1", "slow_down", 1),
    ]
    (received,) = listener.responses("r-1")
    assert received.valid and not received.late
    assert listener.rejected() == []


def test_dropped_response_puts_are_sent_again(listener: ResponseListener) -> None:
    listener.set_faults(drop=1.0, per_request=2)
    assert _send(listener, "r-1") == (True, [1.0, 2.0])
    assert [f.kind for f in listener.injected_faults("r-1")] == ["drop", "drop"]
    assert [r.late for r in listener.responses("r-1")] == [False]

    listener.set_faults(drop_after=1.0)
    assert _send(listener, "r-2") == (True, [1.0])
    # Received, then the answer lost: the sender's next try is a duplicate CloudFormation ignores.
    first, duplicate = listener.responses("r-2")
    assert (first.late, duplicate.late, duplicate.body) == (False, True, first.body)
    assert listener.wait("r-2", 0) == first


def test_more_failed_puts_than_tries_lose_the_response(listener: ResponseListener) -> None:
    listener.set_faults(slow_down=1.0, per_request=3)
    assert _send(listener, "r-1") == (False, [1.0, 2.0])
    assert listener.responses("r-1") == []
    assert len(listener.injected_faults("r-1")) == 3
    listener.clear_faults()
    assert listener.faults == ResponseFaults()
    assert _send(listener, "r-2") == (True, [])


def test_response_faults_are_seeded_and_capped_per_request(listener: ResponseListener) -> None:
    def storm(seed: int) -> list[tuple[str, str, int]]:
        listener.set_faults(slow_down=0.4, drop=0.2, seed=seed)
        start = len(listener.injected_faults())
        for index in range(12):
            assert _send(listener, f"s{seed}-{index}")[0]
        return [
            (f.request_id.split("-")[1], f.kind, f.attempt)
            for f in listener.injected_faults()[start:]
        ]

    first = storm(4)
    assert first == [(i, k, a) for i, k, a in storm(4)]
    assert first != storm(5)
    assert {kind for _, kind, _ in first} == {"slow_down", "drop"}
    assert {attempt for _, _, attempt in first} == {1}  # at most one per request
    with pytest.raises(ValueError, match="probability"):
        listener.set_faults(drop=1.5)


def test_lambda_processes_see_only_the_code_and_the_runtime_libraries(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "index.py").write_text(
        "import os, sys, time\n"
        "def handler(event, context):\n"
        "    if event.get('sleep'):\n"
        "        time.sleep(event['sleep'])\n"
        "    return {'path': sys.path, 'left': context.get_remaining_time_in_millis(),\n"
        "            'arn': context.invoked_function_arn, 'data': os.environ['DATA'],\n"
        "            'pythonpath': os.environ.get('PYTHONPATH'), 'cwd': os.getcwd()}\n"
    )
    runner = LambdaRunner(base_environment={"AWS_REGION": "us-east-1"}, work_dir=tmp_path / "w")
    (tmp_path / "w").mkdir()
    runner.register(
        FunctionConfig("probe", code, environment={"DATA": "/var/task/data"}, timeout=2.0)
    )
    try:
        ok = runner.invoke("probe", {})
        slow = runner.invoke("probe", {"sleep": 5})
    finally:
        runner.close()

    assert ok.outcome == "success", ok.error
    path = ok.result["path"]
    assert path[0] == str(code)
    assert sorted(p.name for p in Path(path[1]).iterdir()) == sorted(
        name if name != "six" else "six.py" for name in RUNTIME_LIBRARIES
    )
    assert not [p for p in path[2:] if "site-packages" in p]
    assert ok.result["data"] == f"{code}/data"
    assert ok.result["pythonpath"] is None
    assert ok.result["cwd"] == str(code)
    assert ok.result["arn"] == "arn:aws:lambda:us-east-1:123456789012:function:probe"
    assert 0 < ok.result["left"] <= 2000
    assert slow.outcome == "timeout"
    assert slow.error == "Task timed out after 2.00 seconds"


def test_eventbridge_permission_matching() -> None:
    statement = {
        "Effect": "Allow",
        "Action": "lambda:InvokeFunction",
        "Principal": {"Service": "events.amazonaws.com"},
        "Condition": {
            "ArnLike": {"AWS:SourceArn": "arn:aws:events:us-east-1:123456789012:rule/osp-abc123*"},
            "StringEquals": {"AWS:SourceAccount": "123456789012"},
        },
    }
    assert invocation_allowed({"Statement": [statement]}, RULE)
    other_rule = RULE.replace("osp-abc123", "other")
    assert not invocation_allowed({"Statement": [statement]}, other_rule)
    wrong_principal = {**statement, "Principal": {"Service": "s3.amazonaws.com"}}
    assert not invocation_allowed({"Statement": [wrong_principal]}, RULE)
    exact = {**statement, "Condition": {"ArnEquals": {"AWS:SourceArn": RULE}}}
    assert invocation_allowed({"Statement": [exact]}, RULE)
    assert not invocation_allowed({}, RULE)
    assert rate_minutes("rate(1 minute)") == 1
    assert rate_minutes("rate(2 hours)") == 120
    assert rate_minutes("cron(0 12 * * ? *)") is None
