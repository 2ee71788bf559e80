"""The acceptance suite's custom plugin: a loadable OpenSearch plugin built without a JDK.

OpenSearch Service validates a ZIP-PLUGIN by loading it (``PluginValidationFailureReason : The
provided plugin could not be loaded``, custom-plugins.html), so a zip with a dummy class would
end in VALIDATION_FAILED on AWS. This module writes a real Java class file, byte by byte:
``public class <name> extends org.opensearch.plugins.Plugin`` with a public no-argument
constructor that calls ``super()``; nothing else. Java 11 class format (OpenSearch 2.x runs on
Java 21 and loads it). ``tests/acceptance/test_machinery.py`` loads the class in a JVM with full
verification, against a stub ``Plugin`` compiled by ``javac``, when a JDK is present.

Whether AWS's validation (which also runs an Amazon Inspector scan) accepts this plugin is
UNVERIFIED until the first run against an account; ``OSP_ACCEPTANCE_PLUGIN_ZIP`` makes the
suite use another plugin zip (built for the domain's engine version) instead.
"""

from __future__ import annotations

import io
import struct
import zipfile

__all__ = ["PLUGIN_CLASS", "PLUGIN_NAME", "plugin_class_bytes", "plugin_zip_bytes"]

#: The plugin's class (binary name with dots).
PLUGIN_CLASS = "org.example.ospacceptance.AcceptancePlugin"
#: The plugin's name in its descriptor.
PLUGIN_NAME = "osp-acceptance"
#: Where the license sits inside the zip (the plugin package's ``license_filepath``).
LICENSE_FILEPATH = "LICENSE.txt"
_SUPER = "org/opensearch/plugins/Plugin"
_JAVA_11 = 55


def _utf8(text: str) -> bytes:
    data = text.encode("utf-8")
    return struct.pack(">BH", 1, len(data)) + data


def plugin_class_bytes(class_name: str = PLUGIN_CLASS) -> bytes:
    """The class file of ``public class <class_name> extends Plugin { public <init>() }``."""
    this = class_name.replace(".", "/")
    pool = [
        _utf8(this),  # 1
        struct.pack(">BH", 7, 1),  # 2 Class #1
        _utf8(_SUPER),  # 3
        struct.pack(">BH", 7, 3),  # 4 Class #3
        _utf8("<init>"),  # 5
        _utf8("()V"),  # 6
        struct.pack(">BHH", 12, 5, 6),  # 7 NameAndType <init>:()V
        struct.pack(">BHH", 10, 4, 7),  # 8 Methodref Plugin.<init>:()V
        _utf8("Code"),  # 9
    ]
    # aload_0; invokespecial #8; return
    code = bytes([0x2A, 0xB7, 0x00, 0x08, 0xB1])
    code_attribute = struct.pack(">HHI", 1, 1, len(code)) + code + struct.pack(">HH", 0, 0)
    constructor = struct.pack(">HHHH", 0x0001, 5, 6, 1) + struct.pack(">HI", 9, len(code_attribute))
    return b"".join(
        [
            struct.pack(">IHH", 0xCAFEBABE, 0, _JAVA_11),
            struct.pack(">H", len(pool) + 1),
            *pool,
            # ACC_PUBLIC | ACC_SUPER, this, super, no interfaces, no fields
            struct.pack(">HHHHH", 0x0021, 2, 4, 0, 0),
            struct.pack(">H", 1),
            constructor,
            code_attribute,
            struct.pack(">H", 0),  # no class attributes
        ]
    )


def _descriptor(opensearch_version: str) -> str:
    return "\n".join(
        [
            "description=cdk-opensearch-packages acceptance test plugin (does nothing)",
            "version=1.0.0",
            f"name={PLUGIN_NAME}",
            f"classname={PLUGIN_CLASS}",
            "java.version=11",
            f"opensearch.version={opensearch_version}",
            "",
        ]
    )


def plugin_zip_bytes(
    opensearch_version: str = "2.19.0",
    license_text: str = "",
    license_filepath: str = LICENSE_FILEPATH,
) -> bytes:
    """The plugin zip: descriptor, license file and a jar holding the class.

    :param opensearch_version: the descriptor's ``opensearch.version`` (``x.y.0``, the engine
        version the package is created for).
    :param license_text: the content of the license file.
    :param license_filepath: where the license file sits in the zip.
    """
    jar = _zip(
        {
            "META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\n",
            PLUGIN_CLASS.replace(".", "/") + ".class": plugin_class_bytes(),
        }
    )
    return _zip(
        {
            "plugin-descriptor.properties": _descriptor(opensearch_version).encode(),
            license_filepath: (license_text or "Acceptance test plugin license.\n").encode(),
            f"{PLUGIN_NAME}-1.0.0.jar": jar,
        }
    )


def _zip(files: dict[str, bytes]) -> bytes:
    """A zip with fixed timestamps: the same files make the same bytes (one CDK asset hash)."""
    result = io.BytesIO()
    with zipfile.ZipFile(result, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return result.getvalue()
