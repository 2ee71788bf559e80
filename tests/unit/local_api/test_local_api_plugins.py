"""ZIP-PLUGIN validation: the emulation decides VALIDATION_FAILED with the synth-time rules."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from local_api_helpers import DESCRIPTOR, PHASE, create_available, describe, plugin_zip

from cdk_opensearch_packages.checks.plugin_zip import check_plugin_zip
from cdk_opensearch_packages.local.opensearch.api import ManualClock
from cdk_opensearch_packages.local.opensearch.content import inspect_content

Put = Callable[..., dict[str, str]]
ENGINE = "OpenSearch_2.19"


def _zip(entries: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


CASES: dict[str, tuple[bytes, str | None, str | None]] = {
    # name: (file, package EngineVersion, LicenseFilepath)
    "valid": (plugin_zip(), ENGINE, "license.txt"),
    "valid-range": (
        plugin_zip(
            DESCRIPTOR.replace("opensearch.version=2.19.0", 'dependencies={opensearch: "~2.19.0"}')
        ),
        ENGINE,
        None,
    ),
    "one-folder-down": (plugin_zip(folder="analysis-demo/"), ENGINE, None),
    "legacy-layout": (
        _zip({"plugin-descriptor.properties": DESCRIPTOR, "opensearch/demo.jar": b"x"}),
        ENGINE,
        None,
    ),
    "no-descriptor": (plugin_zip(""), ENGINE, None),
    "not-a-zip": (b"PK but not really", ENGINE, None),
    "no-java-version": (plugin_zip(DESCRIPTOR.replace("java.version=21\n", "")), ENGINE, None),
    "no-description": (
        plugin_zip(DESCRIPTOR.replace("description=Demo analysis plugin\n", "")),
        ENGINE,
        None,
    ),
    "built-for-another-engine": (plugin_zip(), "OpenSearch_2.17", None),
    "built-for-elasticsearch": (
        plugin_zip(DESCRIPTOR.replace("opensearch.version", "elasticsearch.version")),
        ENGINE,
        None,
    ),
    "unknown-property": (plugin_zip(DESCRIPTOR + "colour=blue\n"), ENGINE, None),
    "class-not-in-jar": (plugin_zip(class_entry="org/example/Other.class"), ENGINE, None),
    "license-missing": (plugin_zip(), ENGINE, "LICENSE.md"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_emulation_rejects_exactly_what_the_synth_time_checks_reject(
    case: str, tmp_path: Path
) -> None:
    data, engine_version, license_filepath = CASES[case]
    path = tmp_path / "plugin.zip"
    path.write_bytes(data)
    errors = [
        finding.message
        for finding in check_plugin_zip(
            str(path), engine_version=engine_version, license_filepath=license_filepath
        )
        if finding.severity == "error"
    ]

    verdict = inspect_content(
        "ZIP-PLUGIN", data, engine_version=engine_version, license_filepath=license_filepath
    )

    assert (verdict.error_details is None) == (not errors), (case, errors, verdict)
    assert case.startswith("valid") == (not errors), case
    if verdict.error_details is None:
        assert verdict.plugin_properties is not None
        assert verdict.plugin_properties["Name"] == "analysis-demo"
        assert verdict.plugin_properties["ClassName"] == "org.example.DemoPlugin"
        return
    message = verdict.error_details["ErrorMessage"]
    # As the service reports plugin validation failures: ErrorType "", a fixed prefix.
    assert message.startswith("PluginValidationFailureReason : ")
    assert verdict.error_type == ""
    # Each problem the checks found, worded for the service: no local path, no advice.
    for error in errors:
        problem = error.removeprefix(f"{path}: ").split(" Fix: ")[0]
        assert problem in message, (case, problem, message)
    assert "Fix:" not in message and str(tmp_path) not in message and "plugin.zip" not in message


def test_service_like_messages() -> None:
    nested = inspect_content("ZIP-PLUGIN", plugin_zip(folder="demo/"), engine_version=ENGINE)
    assert nested.error_details == {
        "ErrorType": "",
        "ErrorMessage": "PluginValidationFailureReason : plugin-descriptor.properties is at "
        "'demo/plugin-descriptor.properties', not at the root of the zip; the installer reads "
        "it only from the root.",
    }
    mismatch = inspect_content("ZIP-PLUGIN", plugin_zip(), engine_version="OpenSearch_2.17")
    assert mismatch.error_type == ""
    assert "built for OpenSearch 2.19.0 (opensearch.version)" in (mismatch.error_message or "")
    assert "the package's engine version is OpenSearch_2.17" in (mismatch.error_message or "")


def test_an_update_is_checked_against_the_engine_and_the_inherited_license_path(
    client: Any, clock: ManualClock, put: Put
) -> None:
    configuration = {
        "LicenseRequirement": "REQUIRED",
        "LicenseFilepath": "license.txt",
        "ConfigurationRequirement": "NONE",
    }
    package_id = create_available(
        client,
        clock,
        put(plugin_zip()),
        package_type="ZIP-PLUGIN",
        EngineVersion=ENGINE,
        PackageConfiguration=configuration,
    )
    without_license = _zip(
        {
            name: data
            for name, data in _entries(plugin_zip(DESCRIPTOR.replace("1.2.3", "1.2.4"))).items()
            if name != "license.txt"
        }
    )
    client.update_package(PackageID=package_id, PackageSource=put(without_license))
    clock.advance(2 * PHASE)
    failed = describe(client, package_id)
    assert failed["PackageStatus"] == "VALIDATION_FAILED"
    message = failed["ErrorDetails"]["ErrorMessage"]
    assert "(LicenseFilepath) 'license.txt' is not a file in the zip" in message
    assert failed["AvailablePackageVersion"] == "v1"

    older = plugin_zip(DESCRIPTOR.replace("2.19.0", "2.18.0"))
    client.update_package(PackageID=package_id, PackageSource=put(older))
    clock.advance(2 * PHASE)
    failed = describe(client, package_id)
    assert failed["PackageStatus"] == "VALIDATION_FAILED"
    assert f"the package's engine version is {ENGINE}" in failed["ErrorDetails"]["ErrorMessage"]

    newer = plugin_zip(DESCRIPTOR.replace("1.2.3", "1.3.0"))
    client.update_package(PackageID=package_id, PackageSource=put(newer))
    clock.advance(2 * PHASE)
    details = describe(client, package_id)
    assert (details["PackageStatus"], details["AvailablePackageVersion"]) == ("AVAILABLE", "v2")
    assert details["AvailablePluginProperties"]["Version"] == "1.3.0"


def _entries(data: bytes) -> dict[str, bytes | str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_emulation_imports_without_aws_cdk() -> None:
    code = (
        "import sys\n"
        "import cdk_opensearch_packages.local.opensearch.api\n"
        "import cdk_opensearch_packages.local.opensearch.content\n"
        "assert 'cdk_opensearch_packages.checks.plugin_zip' in sys.modules\n"
        "loaded = sorted(m for m in sys.modules if m == 'aws_cdk' or m.startswith('aws_cdk.'))\n"
        "assert not loaded, loaded\n"
    )
    constructs = Path(__file__).resolve().parents[3] / "constructs"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(constructs), "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
