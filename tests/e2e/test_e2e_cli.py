"""The command line: ``deploy`` rehearses a user's cloud assembly, ``demo`` deploys, updates
and deletes a package stack (``make demo`` synthesizes the example app for it).

Each command starts its own local AWS (one per process at a time), so these tests use no shared
fixture.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from e2e_support import (
    FAKE_ASSEMBLY,
    FIXTURES,
    TEST_TIMELINE,
    PackageStackSpec,
    synth_package_stack,
)

from cdk_opensearch_packages.local.__main__ import main
from cdk_opensearch_packages.local.cloudformation.assembly import CloudAssembly
from cdk_opensearch_packages.local.demo.run import DemoOptions, run_demo, synthesize

CONTEXT_APP = FIXTURES / "context_app"


def test_deploy_then_destroy_a_cloud_assembly(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["deploy", str(FAKE_ASSEMBLY), "--destroy", "--time-scale", str(1 / 60)])

    output = capsys.readouterr().out
    assert status == 0, output
    assert "=> FakeStack: CREATE_COMPLETE" in output
    assert re.search(r"ThingName +one", output)
    assert "=> FakeStack: DELETE_COMPLETE" in output
    assert "FAIL" not in output
    assert "ok   no EventBridge rules or targets left" in output


def test_deploy_reports_a_missing_assembly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["deploy", str(tmp_path)])

    assert status == 1
    assert "is not a cloud assembly (no manifest.json)" in capsys.readouterr().out


def test_synthesize_passes_the_context_like_the_cdk_cli(tmp_path: Path) -> None:
    process = synthesize(CONTEXT_APP / "app.py", tmp_path / "out", {"synonyms_file": "v2.txt"})

    assert process.wait(timeout=60) == 0
    (stack,) = CloudAssembly.load(tmp_path / "out").stacks
    context = json.loads(stack.template["Outputs"]["Context"]["Value"])
    # cdk.json's context, overridden by -c values.
    assert context == {"@aws-cdk/core:checkSecretUsage": True, "synonyms_file": "v2.txt"}


def test_demo_deploys_updates_and_deletes_a_package_stack(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "OpenSearchPackagesExample"
    files = tmp_path / "files"
    files.mkdir()
    (files / "v1.txt").write_text("couch, sofa\n", encoding="utf-8")
    (files / "v2.txt").write_text("couch, sofa\nfridge, refrigerator\n", encoding="utf-8")
    v1 = synth_package_stack(tmp_path / "v1", name, PackageStackSpec(dictionary=files / "v1.txt"))
    v2 = synth_package_stack(tmp_path / "v2", name, PackageStackSpec(dictionary=files / "v2.txt"))

    status = run_demo(assemblies=(v1, v2), options=DemoOptions(timeline=TEST_TIMELINE))

    output = capsys.readouterr().out
    assert status == 0, output
    for expected in (
        "=> OpenSearchPackagesExample: CREATE_COMPLETE",
        "AssociatedVersion  v1",
        "=> OpenSearchPackagesExample: UPDATE_COMPLETE",
        "AssociatedVersion  v2",
        "=> OpenSearchPackagesExample: DELETE_COMPLETE",
        "COPYING -> VALIDATING",
        "ok   no packages left",
        "ok   no ResponseURL signature in the Lambda logs",
    ):
        assert expected in output
