"""What the VALIDATING phase decides about a package file.

The rules mirror what the service rejects (ending in VALIDATION_FAILED with ErrorDetails):

- ``TXT-DICTIONARY``: empty, or starting with a UTF-8 byte order mark (both assumptions: no
  public source shows either rule). Content that is not UTF-8 is accepted: binary Sudachi
  dictionaries are uploaded as TXT-DICTIONARY packages, so the type does not imply text;
- ``ZIP-PLUGIN``: the synth-time rules of :mod:`cdk_opensearch_packages.checks.plugin_zip`
  (what OpenSearch's plugin installer and loader reject), every error of which fails the
  package: a zip with ``plugin-descriptor.properties`` at its root (not one folder down),
  declaring ``name``, ``description``, ``version``, ``java.version``, ``classname`` and an
  ``opensearch.version`` (or ``dependencies``) that accepts the package's ``EngineVersion``, a
  jar at the root holding the plugin class, and the ``LicenseFilepath`` of the package's
  configuration inside the zip. As the service reports plugin validation failures, the
  ErrorType is empty and the ErrorMessage starts with ``PluginValidationFailureReason : ``,
  followed by the problems (without the synth-time checks' advice);
- ``PACKAGE-LICENSE`` and ``PACKAGE-CONFIG``: empty.

An accepted plugin yields its ``AvailablePluginProperties`` (name, description, version,
class name and the uncompressed size of the archive).

The plugin rules import nothing from ``aws_cdk``, so the emulation still starts without it.
"""

from __future__ import annotations

import io
import lzma
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdk_opensearch_packages.checks.java_properties import parse_java_properties
from cdk_opensearch_packages.checks.plugin_zip import DESCRIPTOR, check_plugin_zip

__all__ = ["PLUGIN_FAILURE_PREFIX", "ContentVerdict", "inspect_content"]

_BOM = b"\xef\xbb\xbf"
#: How the service prefixes a plugin validation failure's ErrorMessage (its ErrorType is "").
PLUGIN_FAILURE_PREFIX = "PluginValidationFailureReason : "
_FIX = " Fix: "
# What reading a missing, damaged or unusual zip entry raises (as the synth-time checks catch).
_ZIP_ERRORS = (
    KeyError,
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    OSError,
    EOFError,
    NotImplementedError,
    RuntimeError,
    ValueError,
)


@dataclass(frozen=True)
class ContentVerdict:
    """The outcome of validating one package file.

    :param error_type: ``ErrorDetails.ErrorType`` when rejected, else ``None``.
    :param error_message: ``ErrorDetails.ErrorMessage`` when rejected.
    :param plugin_properties: ``PluginProperties`` of an accepted ZIP-PLUGIN.
    """

    error_type: str | None = None
    error_message: str | None = None
    plugin_properties: dict[str, Any] | None = None

    @property
    def error_details(self) -> dict[str, str] | None:
        """:return: the API's ``ErrorDetails`` or ``None`` when accepted."""
        if self.error_type is None:
            return None
        return {"ErrorType": self.error_type, "ErrorMessage": self.error_message or ""}


def _rejected(error_type: str, message: str) -> ContentVerdict:
    return ContentVerdict(error_type=error_type, error_message=message)


def inspect_content(
    package_type: str,
    data: bytes,
    *,
    engine_version: str | None = None,
    license_filepath: str | None = None,
) -> ContentVerdict:
    """Validate a package file as the service would.

    :param package_type: the API's PackageType.
    :param data: the file's bytes.
    :param engine_version: the package's ``EngineVersion`` (a plugin must be built for it).
    :param license_filepath: ``PackageConfiguration.LicenseFilepath`` of the version (a plugin
        must hold that file).
    """
    if package_type == "TXT-DICTIONARY":
        return _dictionary(data)
    if package_type == "ZIP-PLUGIN":
        return _plugin(data, engine_version, license_filepath)
    if not data:
        return _rejected("EmptyFile", f"The {package_type} file is empty.")
    return ContentVerdict()


def _dictionary(data: bytes) -> ContentVerdict:
    if not data:
        return _rejected("InvalidDictionary", "The dictionary file is empty.")
    if data.startswith(_BOM):
        return _rejected(
            "InvalidDictionary",
            "The dictionary file starts with a UTF-8 byte order mark; save it without a BOM.",
        )
    return ContentVerdict()


def _plugin(
    data: bytes, engine_version: str | None, license_filepath: str | None
) -> ContentVerdict:
    with tempfile.TemporaryDirectory(prefix="osp-plugin-") as directory:
        path = str(Path(directory) / "plugin.zip")
        Path(path).write_bytes(data)
        findings = check_plugin_zip(
            path, engine_version=engine_version, license_filepath=license_filepath
        )
    problems = [
        _problem(finding.message, path) for finding in findings if finding.severity == "error"
    ]
    root = _root_descriptor(data)
    if problems or root is None:
        text = " ".join(problems) or f"There is no readable {DESCRIPTOR} at the root of the zip."
        return _rejected("", PLUGIN_FAILURE_PREFIX + text)
    descriptor, uncompressed_size = root
    properties = parse_java_properties(descriptor).values
    plugin: dict[str, Any] = {
        "Name": properties["name"],
        "Description": properties.get("description", ""),
        "Version": properties.get("version", ""),
        "ClassName": properties["classname"],
        "UncompressedSizeInBytes": uncompressed_size,
    }
    return ContentVerdict(plugin_properties=plugin)


def _problem(message: str, path: str) -> str:
    """A synth-time finding worded as the service would: no file path, no advice."""
    if message.startswith(f"{path}: "):
        message = message[len(path) + 2 :]
    return message.split(_FIX, 1)[0].strip()


def _root_descriptor(data: bytes) -> tuple[bytes, int] | None:
    """The bytes of ``plugin-descriptor.properties`` at the root of the zip and the archive's
    uncompressed size (one opening of the zip), if readable."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.read(DESCRIPTOR), sum(info.file_size for info in archive.infolist())
    except _ZIP_ERRORS:
        return None
