"""The acceptance suite's machinery: the recorder, the replay check, the plugin it builds and
the AWS opt-in.

A recording made against the emulator replays with no difference; a recording edited to
differ (another error code, a missing status, another message, a missing key) is reported.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import time
import zipfile
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from osp_acceptance.plugin import PLUGIN_CLASS, plugin_class_bytes, plugin_zip_bytes
from osp_acceptance.recorder import GONE, REDACTED_ACCOUNT, Recorder, redact
from osp_acceptance.replay import replay
from osp_acceptance.settings import RunSettings, aws_skip_reason

from cdk_opensearch_packages.checks.plugin_zip import check_plugin_zip
from cdk_opensearch_packages.local.opensearch.api import LocalOpenSearchService, Timeline

DOMAIN = "recorded"
SOURCE = {"S3BucketName": "cdk-hnb659fds-assets-123456789012-us-east-1", "S3Key": "syn.txt"}


class _Sources:
    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects

    def read(self, bucket: str, key: str) -> bytes:
        return self.objects[f"{bucket}/{key}"]


def _wait(recorder: Recorder, condition: Any) -> None:
    with recorder.polling():
        for _ in range(200):
            if condition():
                return
            time.sleep(0.05)
    raise AssertionError("the emulator did not get there in 10 s")


@pytest.fixture(scope="module")
def recording() -> Iterator[dict[str, Any]]:
    """A recording of the suite's kind of exchanges, made against the emulator: a package
    created, polled, associated, associated again (a conflict), dissociated and deleted."""
    data = b"couch, sofa\n"
    service = LocalOpenSearchService(
        timeline=Timeline.uniform(0.3),
        source_reader=_Sources({f"{SOURCE['S3BucketName']}/{SOURCE['S3Key']}": data}),
    )
    with service:
        service.register_domain(DOMAIN, "OpenSearch_2.19")
        recorder = Recorder("emulator", {"domains": {DOMAIN: "OpenSearch_2.19"}})
        client = recorder.attach(service.client())
        recorder.add_source(SOURCE["S3BucketName"], SOURCE["S3Key"], data)

        def status(package_id: str) -> str:
            found = client.describe_packages(
                Filters=[{"Name": "PackageID", "Value": [package_id]}]
            )["PackageDetailsList"]
            return str(found[0]["PackageStatus"]) if found else GONE

        def on_domain(package_id: str) -> str:
            listed = client.list_packages_for_domain(DomainName=DOMAIN)["DomainPackageDetailsList"]
            return next(
                (str(a["DomainPackageStatus"]) for a in listed if a["PackageID"] == package_id),
                GONE,
            )

        with recorder.phase("probe"):
            package_id = client.create_package(
                PackageName="recorded-synonyms", PackageType="TXT-DICTIONARY", PackageSource=SOURCE
            )["PackageDetails"]["PackageID"]
            _wait(recorder, lambda: status(package_id) == "AVAILABLE")
            client.associate_package(PackageID=package_id, DomainName=DOMAIN)
            _wait(recorder, lambda: on_domain(package_id) == "ACTIVE")
            with pytest.raises(ClientError):
                client.associate_package(PackageID=package_id, DomainName=DOMAIN)
            with pytest.raises(ClientError):
                client.describe_packages(Filters=[{"Name": "PackageID", "Value": ["F000000001"]}])
            client.dissociate_package(PackageID=package_id, DomainName=DOMAIN)
            _wait(recorder, lambda: on_domain(package_id) == GONE)
            client.delete_package(PackageID=package_id)
            with pytest.raises(ClientError):
                _wait(recorder, lambda: status(package_id) == GONE)
        # The answer round trips through JSON as a file would.
        yield json.loads(json.dumps(recorder.to_dict()))


def _exchange(recording: dict[str, Any], operation: str, error: bool) -> dict[str, Any]:
    return next(
        e
        for e in recording["exchanges"]
        if e["operation"] == operation and (e["error_code"] is not None) == error
    )


def test_the_recorder_keeps_exchanges_sequences_and_labels(recording: dict[str, Any]) -> None:
    assert recording["source"] == "emulator"
    assert "EMULATOR recording" in recording["label"]
    conflict = _exchange(recording, "AssociatePackage", error=True)
    assert conflict["http_status"] == 409
    assert conflict["error_code"] == "ConflictException"
    assert conflict["error_message"] == "Package is already in desired state"
    assert conflict["shape"] == {"object": {"message": "string"}}
    created = _exchange(recording, "CreatePackage", error=False)
    assert created["params"]["PackageSource"]["S3BucketName"] == (
        f"cdk-hnb659fds-assets-{REDACTED_ACCOUNT}-us-east-1"
    )
    assert "PackageStatus" in created["shape"]["object"]["PackageDetails"]["object"]
    (package,) = [v for k, v in recording["sequences"].items() if k.startswith("package:")]
    assert [s["status"] for s in package["statuses"]] == [
        "COPYING",
        "VALIDATING",
        "AVAILABLE",
        "DELETING",
        GONE,
    ]
    (association,) = [v for k, v in recording["sequences"].items() if k.startswith("assoc")]
    assert [s["status"] for s in association["statuses"]] == [
        "ASSOCIATING",
        "ACTIVE",
        "DISSOCIATING",
        GONE,
    ]
    # Identical answers to repeated polls are stored once, counted.
    polls = [e for e in recording["exchanges"] if e["poll"]]
    assert any(e["repeat"] > 1 for e in polls)
    assert len(recording["exchanges"]) < sum(e["repeat"] for e in recording["exchanges"])


def test_an_emulator_recording_replays_with_no_difference(recording: dict[str, Any]) -> None:
    assert [str(d) for d in replay(recording)] == []


def test_another_error_code_is_reported(recording: dict[str, Any]) -> None:
    edited = copy.deepcopy(recording)
    conflict = _exchange(edited, "AssociatePackage", error=True)
    conflict["error_code"] = "ValidationException"
    conflict["http_status"] = 400

    differences = [(d.kind, d.recorded, d.emulator) for d in replay(edited)]

    assert differences == [
        ("http status", 400, 409),
        ("error code", "ValidationException", "ConflictException"),
    ]


def test_another_error_message_is_reported(recording: dict[str, Any]) -> None:
    edited = copy.deepcopy(recording)
    missing = _exchange(edited, "DescribePackages", error=True)
    missing["error_message"] = "Package not found"

    (difference,) = replay(edited)

    assert difference.kind == "error message"
    assert difference.recorded == "Package not found"
    assert difference.emulator == "Package <unknown package> not found."
    assert str(difference).startswith(f"#{missing['i']} probe DescribePackages: error message")


def test_a_missing_status_is_reported(recording: dict[str, Any]) -> None:
    edited = copy.deepcopy(recording)
    key = next(k for k in edited["sequences"] if k.startswith("package:"))
    statuses = edited["sequences"][key]["statuses"]
    edited["sequences"][key]["statuses"] = [s for s in statuses if s["status"] != "VALIDATING"]

    differences = [(d.where, d.kind, d.recorded, d.emulator) for d in replay(edited)]

    assert differences == [
        (
            key,
            "sequence",
            ["COPYING", "AVAILABLE", "DELETING", GONE],
            ["COPYING", "VALIDATING", "AVAILABLE", "DELETING", GONE],
        )
    ]


def test_a_missing_key_and_an_unmodelled_key_are_reported(recording: dict[str, Any]) -> None:
    edited = copy.deepcopy(recording)
    created = _exchange(edited, "CreatePackage", error=False)
    details = created["shape"]["object"]["PackageDetails"]["object"]
    del details["PackageType"]
    details["SurpriseField"] = "string"

    found = {(d.kind, d.recorded, d.emulator) for d in replay(edited)}

    assert found == {
        ("shape", "$.PackageDetails.PackageType: missing", "present"),
        ("shape", "$.PackageDetails.SurpriseField: present", "missing"),
        ("model", "recorded body", "$.PackageDetails.SurpriseField: not in botocore's model"),
    }


def test_accepted_differences_are_left_out(recording: dict[str, Any]) -> None:
    from osp_acceptance.replay import unaccepted

    edited = copy.deepcopy(recording)
    _exchange(edited, "DescribePackages", error=True)["error_message"] = "Package not found"
    differences = replay(edited)
    edited["accepted_differences"] = [str(differences[0])]

    assert unaccepted(edited, differences) == []


def test_redaction_hides_accounts_keys_and_presigned_urls() -> None:
    redacted = redact(
        {
            "arn": "arn:aws:es:us-east-1:123456789012:domain/x",
            "url": "https://b.s3.amazonaws.com/k?X-Amz-Signature=abc&X-Amz-Expires=7200",
            "key": "AKIAABCDEFGHIJKLMNOP",
            "id": "F123456789",
        }
    )

    assert redacted == {
        "arn": f"arn:aws:es:us-east-1:{REDACTED_ACCOUNT}:domain/x",
        "url": "(redacted presigned URL)",
        "key": "(redacted key)",
        "id": "F123456789",
    }


def test_the_plugin_zip_passes_the_synth_time_plugin_checks(tmp_path: Path) -> None:
    data = plugin_zip_bytes("2.19.0")
    path = tmp_path / "plugin.zip"
    path.write_bytes(data)

    findings = check_plugin_zip(
        str(path), engine_version="OpenSearch_2.19", license_filepath="LICENSE.txt"
    )

    assert findings == []
    assert plugin_zip_bytes("2.19.0") == data  # same bytes every time: one CDK asset hash
    with zipfile.ZipFile(BytesIO(data)) as archive:
        assert "LICENSE.txt" in archive.namelist()


@pytest.mark.skipif(shutil.which("javac") is None, reason="no JDK (javac) to load the plugin class")
def test_the_plugin_class_loads_in_a_jvm(tmp_path: Path) -> None:
    """The hand-written class file passes the JVM's verifier and instantiates as a Plugin."""
    stub = tmp_path / "src" / "org" / "opensearch" / "plugins" / "Plugin.java"
    stub.parent.mkdir(parents=True)
    stub.write_text("package org.opensearch.plugins;\npublic abstract class Plugin {}\n")
    loader = tmp_path / "src" / "Load.java"
    loader.write_text(
        "public class Load { public static void main(String[] a) throws Exception {"
        " Object o = Class.forName(a[0]).getDeclaredConstructor().newInstance();"
        " System.out.println(o.getClass().getSuperclass().getName()); } }\n"
    )
    classes = tmp_path / "classes"
    subprocess.run(["javac", "-d", str(classes), str(stub), str(loader)], check=True)
    target = classes / (PLUGIN_CLASS.replace(".", "/") + ".class")
    target.parent.mkdir(parents=True)
    target.write_bytes(plugin_class_bytes())

    result = subprocess.run(
        ["java", "-Xverify:all", "-cp", str(classes), "Load", PLUGIN_CLASS],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "org.opensearch.plugins.Plugin"


def test_the_aws_target_needs_the_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OSP_ACCEPTANCE", raising=False)
    reason = aws_skip_reason()
    assert reason is not None and "OSP_ACCEPTANCE=aws" in reason

    monkeypatch.setenv("OSP_ACCEPTANCE", "aws")
    assert aws_skip_reason() is None


def test_run_names_fit_the_services_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OSP_ACCEPTANCE_RUN_ID", "abcd1234")
    settings = RunSettings.from_environment("aws")

    assert len(settings.domain_name) <= 28
    assert all(3 <= len(name) <= 28 for name in settings.package_names)
    monkeypatch.setenv("OSP_ACCEPTANCE_RUN_ID", "Bad_Id")
    with pytest.raises(ValueError, match="OSP_ACCEPTANCE_RUN_ID"):
        RunSettings.from_environment("aws")


@pytest.fixture
def fake_account(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto in process, as the AWS driver's account (no network, no real credentials)."""
    from moto import mock_aws

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        yield


def test_the_aws_driver_asks_for_a_bootstrapped_account(fake_account: None, tmp_path: Path) -> None:
    from osp_acceptance.drivers import AwsDriver, DeployError

    with pytest.raises(DeployError, match=r"npx cdk bootstrap aws://123456789012/us-east-1"):
        AwsDriver(tmp_path)


def test_the_aws_driver_reads_stacks_from_cloudformation(
    fake_account: None, tmp_path: Path
) -> None:
    import boto3
    from osp_acceptance.drivers import AwsDriver

    boto3.client("ssm").put_parameter(
        Name="/cdk-bootstrap/hnb659fds/version", Value="30", Type="String"
    )
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    boto3.client("cloudformation").create_stack(
        StackName="Present", TemplateBody=json.dumps(template)
    )
    driver = AwsDriver(tmp_path)

    assert driver.stack_exists("Present")
    assert not driver.stack_exists("Absent")
    (topic,) = driver.physical_ids("Present", "AWS::SNS::Topic").values()
    assert topic.startswith("arn:aws:sns:us-east-1:123456789012:")
    assert driver.physical_ids("Absent", "AWS::SNS::Topic") == {}
