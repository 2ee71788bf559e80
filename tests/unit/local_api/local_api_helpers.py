"""Helpers shared by the local OpenSearch packages API tests."""

from __future__ import annotations

import io
import itertools
import zipfile
from typing import Any

import pytest

from cdk_opensearch_packages.local.opensearch.api import ManualClock

#: One second per phase, on a clock the tests move: every status change is explicit.
PHASE = 1.0
BUCKET = "packages"

_names = itertools.count(1)


def unique_name(prefix: str = "pkg") -> str:
    return f"{prefix}-{next(_names)}"


#: A descriptor the synth-time checks (and so the emulation) accept for OpenSearch 2.19.
DESCRIPTOR = (
    "name=analysis-demo\ndescription=Demo analysis plugin\nversion=1.2.3\n"
    "java.version=21\nclassname=org.example.DemoPlugin\nopensearch.version=2.19.0\n"
)


def plugin_zip(
    descriptor: str | None = None,
    extra: bytes = b"",
    *,
    folder: str = "",
    class_entry: str = "org/example/DemoPlugin.class",
) -> bytes:
    """A plugin archive: its descriptor, ``license.txt`` and ``demo.jar`` holding the plugin
    class (plus ``extra`` bytes in the jar).

    :param descriptor: the descriptor's text; ``None`` writes :data:`DESCRIPTOR`, ``""`` none.
    :param folder: a folder every entry is put under (``"hello/"``: the wrong layout).
    :param class_entry: the class file the jar holds.
    """
    if descriptor is None:
        descriptor = DESCRIPTOR
    jar = io.BytesIO()
    with zipfile.ZipFile(jar, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        archive.writestr(class_entry, b"\xca\xfe\xba\xbe" + extra)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if descriptor:
            archive.writestr(f"{folder}plugin-descriptor.properties", descriptor)
        archive.writestr(f"{folder}license.txt", "Apache License 2.0\n")
        archive.writestr(f"{folder}demo.jar", jar.getvalue())
    return buffer.getvalue()


def create_available(
    client: Any,
    clock: ManualClock,
    source: dict[str, str],
    *,
    package_type: str = "TXT-DICTIONARY",
    **extra: Any,
) -> str:
    """Create a package and move the clock until it is AVAILABLE; return its id."""
    details = client.create_package(
        PackageName=unique_name(), PackageType=package_type, PackageSource=source, **extra
    )["PackageDetails"]
    clock.advance(2 * PHASE)
    assert describe(client, details["PackageID"])["PackageStatus"] == "AVAILABLE"
    return str(details["PackageID"])


def describe(client: Any, package_id: str) -> dict[str, Any]:
    packages = client.describe_packages(Filters=[{"Name": "PackageID", "Value": [package_id]}])
    [package] = packages["PackageDetailsList"]
    return dict(package)


def error_code(excinfo: pytest.ExceptionInfo[Any]) -> tuple[str, int, str]:
    """(code, HTTP status, message) of a botocore ClientError."""
    response = excinfo.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )
