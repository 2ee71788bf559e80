"""Synth-time checks of construct properties (pure: no aws_cdk import).

Every check is skipped for values that are unresolved tokens (known only at deploy time). A
failure raises :class:`ValueError` whose message names the construct path, the property, the bad
value, the rule it breaks and how to fix it.
"""

from __future__ import annotations

import math
import re
import struct

__all__ = [
    "ENGINE_VERSION_PATTERN",
    "MAX_DESCRIPTION_LENGTH",
    "PACKAGE_ID_PATTERN",
    "PACKAGE_NAME_PATTERN",
    "fail",
    "is_unresolved",
    "validate_bucket_location",
    "validate_description",
    "validate_engine_compatibility",
    "validate_engine_version",
    "validate_engine_version_format",
    "validate_package_id",
    "validate_package_name",
    "validate_timeout_seconds",
    "validate_type_specific",
]

PACKAGE_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]+$")
PACKAGE_NAME_MIN = 3
PACKAGE_NAME_MAX = 256
ENGINE_VERSION_PATTERN = re.compile(
    r"^Elasticsearch_[0-9]{1}\.[0-9]{1,2}$|^OpenSearch_[0-9]{1,2}\.[0-9]{1,2}$"
)
PACKAGE_ID_PATTERN = re.compile(r"^([FG][0-9]+)$|^(pkg-[a-f0-9]+)$")
MAX_DESCRIPTION_LENGTH = 1024
BUCKET_NAME_MIN = 3
BUCKET_NAME_MAX = 63
KEY_MIN = 1
KEY_MAX = 1024
TIMEOUT_MIN_SECONDS = 1
TIMEOUT_MAX_SECONDS = 3600
DEFAULT_TIMEOUT_SECONDS = 3600
ZIP_PLUGIN = "ZIP-PLUGIN"
TXT_DICTIONARY = "TXT-DICTIONARY"


#: aws-cdk-lib's token encodings (``core/lib/private/encoding.ts``): a string token is embedded as
#: ``${Token[...]}``, a list token as an element ``#{Token[...]}``, a number token as a double
#: whose top 16 bits are ``0xFBFF``; anything else unresolved is an object with ``resolve``.
_STRING_TOKEN_MARKERS = ("${Token[", "#{Token[")
_DOUBLE_TOKEN_MARKER_BITS = 0xFBFF


def is_unresolved(value: object) -> bool:
    """Whether ``value`` holds a token that only resolves at deploy time.

    Agrees with ``aws_cdk.Token.is_unresolved`` (a unit test compares them) without importing
    aws_cdk, so these checks run without jsii.
    """
    if isinstance(value, str):
        return any(marker in value for marker in _STRING_TOKEN_MARKERS)
    if isinstance(value, list):
        return any(isinstance(item, str) and item.startswith("#{Token[") for item in value)
    if isinstance(value, float | int) and not isinstance(value, bool):
        number = float(value)
        if math.isnan(number) or math.isinf(number):
            return False
        bits = struct.unpack(">Q", struct.pack(">d", number))[0]
        return bool(bits >> 48 == _DOUBLE_TOKEN_MARKER_BITS)
    return callable(getattr(value, "resolve", None))


def fail(path: str, prop: str, value: object, rule: str, fix: str) -> ValueError:
    """Build the error for a property that breaks a rule.

    :param path: the construct path (``node.path``).
    :param prop: the property name as the user writes it.
    :param value: the offending value (shown with ``repr``).
    :param rule: what the property must satisfy.
    :param fix: how to fix it.
    """
    return ValueError(f"{path}: {prop}: {value!r} is invalid: {rule}. {fix}")


def validate_package_name(path: str, name: str | None) -> None:
    """``package_name``: 3 to 256 characters matching ``[a-z][a-z0-9-]+`` (the model's rule)."""
    if name is None or is_unresolved(name):
        return
    if not PACKAGE_NAME_MIN <= len(name) <= PACKAGE_NAME_MAX or not PACKAGE_NAME_PATTERN.fullmatch(
        name
    ):
        raise fail(
            path,
            "package_name",
            name,
            f"it must be {PACKAGE_NAME_MIN} to {PACKAGE_NAME_MAX} characters, start with a "
            "lowercase letter and contain only lowercase letters, digits and hyphens "
            "([a-z][a-z0-9-]+)",
            "Use a name like 'product-synonyms', or omit package_name to have a unique name "
            "generated",
        )


def validate_description(path: str, description: str | None) -> None:
    """``description``: at most 1024 characters."""
    if description is None or is_unresolved(description):
        return
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise fail(
            path,
            "description",
            description[:40] + "...",
            f"it is {len(description)} characters long, the maximum is {MAX_DESCRIPTION_LENGTH}",
            "Shorten the description",
        )


#: ``LicenseFilepath`` in the service model: relative segments of ``[a-zA-Z0-9_.-]``, no ``..``.
LICENSE_FILEPATH_PATTERN = re.compile(r"(?!.*\.\.)[a-zA-Z0-9_.-]+(?:/[a-zA-Z0-9_.-]+)*")
LICENSE_FILEPATH_MAX = 256


def validate_license_filepath(path: str, license_filepath: str | None) -> None:
    """``configuration.license_filepath``: the model's ``LicenseFilepath`` (a relative path of
    ``[a-zA-Z0-9_.-]`` segments without ``..``, at most 256 characters)."""
    if license_filepath is None or is_unresolved(license_filepath):
        return
    if len(license_filepath) > LICENSE_FILEPATH_MAX or not LICENSE_FILEPATH_PATTERN.fullmatch(
        license_filepath
    ):
        raise fail(
            path,
            "configuration.license_filepath",
            license_filepath,
            f"it must be a relative path of at most {LICENSE_FILEPATH_MAX} characters whose "
            "segments use only letters, digits, '_', '.' and '-', without '..'",
            "Give the path of the license file inside the plugin zip, e.g. 'LICENSE.txt' or "
            "'config/license.txt'",
        )


def validate_engine_version(path: str, package_type: str, engine_version: str | None) -> None:
    """``engine_version``: required for ZIP-PLUGIN, rejected otherwise, ``OpenSearch_X.Y`` form."""
    if package_type != ZIP_PLUGIN:
        if engine_version is not None:
            raise fail(
                path,
                "engine_version",
                engine_version,
                f"it can only be given for ZIP-PLUGIN packages, not {package_type}",
                "Remove engine_version",
            )
        return
    if engine_version is None:
        raise fail(
            path,
            "engine_version",
            None,
            "it is required for ZIP-PLUGIN packages",
            "Set engine_version to the engine the plugin was built for, e.g. 'OpenSearch_2.19'",
        )
    validate_engine_version_format(path, engine_version)


def validate_engine_version_format(path: str, engine_version: str | None) -> None:
    """``engine_version``, when given: the ``OpenSearch_X.Y`` / ``Elasticsearch_X.Y`` form."""
    if engine_version is None or is_unresolved(engine_version):
        return
    if not ENGINE_VERSION_PATTERN.fullmatch(engine_version):
        raise fail(
            path,
            "engine_version",
            engine_version,
            "it must look like 'OpenSearch_X.Y' or 'Elasticsearch_X.Y'",
            "Use e.g. 'OpenSearch_2.19' or aws_opensearchservice.EngineVersion.OPENSEARCH_2_19",
        )


def validate_type_specific(
    path: str, prop: str, value: object, package_type: str, allowed_type: str
) -> None:
    """Reject ``prop`` (given as ``value``) unless the package is of ``allowed_type``."""
    if value is not None and package_type != allowed_type:
        raise fail(
            path,
            prop,
            value,
            f"it can only be given for {allowed_type} packages, not {package_type}",
            f"Remove {prop}, or use a {allowed_type} package",
        )


def validate_bucket_location(path: str, bucket_name: str, key: str) -> None:
    """Source bucket name (3..63 characters) and object key (1..1024 characters), when known."""
    if (
        not is_unresolved(bucket_name)
        and not BUCKET_NAME_MIN <= len(bucket_name) <= BUCKET_NAME_MAX
    ):
        raise fail(
            path,
            "source bucket name",
            bucket_name,
            f"it must be {BUCKET_NAME_MIN} to {BUCKET_NAME_MAX} characters long",
            "Pass the bucket that holds the package file",
        )
    if not is_unresolved(key) and not KEY_MIN <= len(key) <= KEY_MAX:
        raise fail(
            path,
            "source key",
            key if len(key) <= 40 else key[:40] + "...",
            f"it must be {KEY_MIN} to {KEY_MAX} characters long",
            "Pass the key of the package file in the bucket",
        )


def validate_timeout_seconds(path: str, seconds: float, shown: str) -> None:
    """``timeout``: 1 to 3600 whole seconds (``shown`` is how the user wrote it)."""
    if seconds != int(seconds) or not TIMEOUT_MIN_SECONDS <= seconds <= TIMEOUT_MAX_SECONDS:
        raise fail(
            path,
            "timeout",
            shown,
            f"it must be a whole number of seconds from {TIMEOUT_MIN_SECONDS} to "
            f"{TIMEOUT_MAX_SECONDS} (CloudFormation's ServiceTimeout limits)",
            "Use e.g. Duration.minutes(30), or omit timeout for the 1 hour maximum",
        )


def validate_package_id(path: str, package_id: str) -> None:
    """An imported package id: ``F123``/``G123`` (older packages) or ``pkg-<hex>``."""
    if is_unresolved(package_id):
        return
    if not PACKAGE_ID_PATTERN.fullmatch(package_id):
        raise fail(
            path,
            "package_id",
            package_id,
            "it must match ^([FG][0-9]+)$|^(pkg-[a-f0-9]+)$",
            "Pass the PackageID shown by DescribePackages (e.g. 'F123456789' or 'pkg-0a1b2c')",
        )


def validate_engine_compatibility(
    path: str, package_engine: str | None, domain_engine: str | None, domain_path: str
) -> None:
    """A plugin's EngineVersion must equal the domain's engine version when both are known."""
    if package_engine is None or domain_engine is None:
        return
    if is_unresolved(package_engine) or is_unresolved(domain_engine):
        return
    if package_engine != domain_engine:
        raise fail(
            path,
            "domain",
            domain_path,
            f"the plugin is built for {package_engine} but the domain runs {domain_engine}; a "
            "plugin can only be associated with a domain of the same engine version",
            "Create a plugin package for the domain's engine version, or associate it with a "
            f"domain running {package_engine}",
        )
