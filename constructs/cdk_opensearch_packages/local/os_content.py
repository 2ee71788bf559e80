"""What the VALIDATING phase decides about a package file.

The rules mirror what the service rejects (ending in VALIDATION_FAILED with ErrorDetails):

- ``TXT-DICTIONARY``: empty, not UTF-8, or starting with a byte order mark;
- ``ZIP-PLUGIN``: not a zip archive, no ``plugin-descriptor.properties`` (at the root or one
  folder down), or a descriptor without ``name`` or ``classname``;
- ``PACKAGE-LICENSE`` and ``PACKAGE-CONFIG``: empty.

An accepted plugin yields its ``AvailablePluginProperties`` (name, description, version,
class name and the uncompressed size of the archive).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any

__all__ = ["ContentVerdict", "inspect_content", "read_properties"]

_BOM = b"\xef\xbb\xbf"
_DESCRIPTOR = "plugin-descriptor.properties"


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


def inspect_content(package_type: str, data: bytes) -> ContentVerdict:
    """Validate a package file as the service would.

    :param package_type: the API's PackageType.
    :param data: the file's bytes.
    """
    if package_type == "TXT-DICTIONARY":
        return _dictionary(data)
    if package_type == "ZIP-PLUGIN":
        return _plugin(data)
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
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return _rejected(
            "InvalidDictionary",
            f"The dictionary file is not UTF-8 encoded (invalid byte at offset {error.start}).",
        )
    return ContentVerdict()


def read_properties(text: str) -> dict[str, str]:
    """Parse a Java ``.properties`` file (``key=value`` / ``key: value``, ``#``/``!`` comments).

    :param text: the file's text.
    :return: key -> value (continuation lines joined).
    """
    result: dict[str, str] = {}
    pending = ""
    for raw in text.splitlines():
        line = pending + raw.strip() if pending else raw.strip()
        pending = ""
        if not line or line[0] in "#!":
            continue
        if line.endswith("\\") and not line.endswith("\\\\"):
            pending = line[:-1]
            continue
        positions = [i for i in (line.find("="), line.find(":")) if i >= 0]
        if positions:
            cut = min(positions)
            result[line[:cut].strip()] = line[cut + 1 :].strip()
        else:
            result[line] = ""
    if pending:
        result.setdefault(pending, "")
    return result


def _plugin(data: bytes) -> ContentVerdict:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        return _rejected("InvalidPluginArchive", "The plugin package is not a zip archive.")
    with archive:
        infos = archive.infolist()
        descriptors = [
            info
            for info in infos
            if info.filename.rsplit("/", 1)[-1] == _DESCRIPTOR
            and info.filename.strip("/").count("/") <= 1
        ]
        if not descriptors:
            return _rejected(
                "InvalidPluginArchive",
                f"The plugin archive has no {_DESCRIPTOR} (at its root or one folder down).",
            )
        descriptor = min(descriptors, key=lambda info: info.filename.count("/"))
        try:
            text = archive.read(descriptor).decode("utf-8")
        except (zipfile.BadZipFile, UnicodeDecodeError, OSError) as error:
            return _rejected("InvalidPluginArchive", f"Cannot read {_DESCRIPTOR}: {error}")
        properties = read_properties(text)
        missing = [key for key in ("name", "classname") if not properties.get(key)]
        if missing:
            return _rejected(
                "InvalidPluginDescriptor",
                f"{_DESCRIPTOR} does not define {' and '.join(missing)}.",
            )
        plugin: dict[str, Any] = {
            "Name": properties["name"],
            "Description": properties.get("description", ""),
            "Version": properties.get("version", ""),
            "ClassName": properties["classname"],
            "UncompressedSizeInBytes": sum(info.file_size for info in infos),
        }
        return ContentVerdict(plugin_properties=plugin)
