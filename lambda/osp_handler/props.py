"""CloudFormation's properties to API parameters.

CloudFormation sends every scalar of a custom resource's properties as a string. The conversion
follows the service model: where the API wants a boolean, ``"true"``/``"false"`` (any case) become
``True``/``False``; where it wants an integer, the digits become an ``int``. Control properties
(``ServiceToken``, ``ServiceTimeout`` and anything starting with ``Osp``) never reach an API call.
The parameter names of the built requests are exactly the API's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from botocore.model import ListShape, MapShape, Shape, StructureShape

from .names import MAX_PACKAGE_NAME_LENGTH, is_valid_package_name
from .outcome import ResourceFailure
from .waiting import DEFAULT_SERVICE_TIMEOUT_SECONDS

if TYPE_CHECKING:
    from botocore.model import ServiceModel
    from types_boto3_opensearch.type_defs import (
        CreatePackageRequestTypeDef,
        UpdatePackageRequestTypeDef,
    )

__all__ = [
    "DOMAIN_PACKAGES_RESOURCE_TYPE",
    "PACKAGE_RESOURCE_TYPE",
    "DomainPackageEntry",
    "DomainPackagesProps",
    "PackageProps",
    "PropertyError",
    "coerce",
    "domain_packages_props",
    "is_control_property",
    "package_props",
    "parse_bool",
    "service_timeout",
]

PACKAGE_RESOURCE_TYPE = "Custom::OpenSearchPackage"
DOMAIN_PACKAGES_RESOURCE_TYPE = "Custom::OpenSearchDomainPackages"
#: Control keys of a ``PackageList`` entry: the attribute key, the version to wait for.
ENTRY_KEY_PROPERTY = "OspKey"
CONTROL_PROPERTIES = frozenset({"ServiceToken", "ServiceTimeout"})
CONTROL_PREFIX = "Osp"
#: Properties whose change replaces a package (PackageName only when given explicitly).
REPLACING_PROPERTIES = ("PackageName", "PackageType", "EngineVersion", "PackageVendingOptions")
#: Properties (and control properties) changed in place with UpdatePackage.
UPDATABLE_PROPERTIES = (
    "PackageSource",
    "PackageDescription",
    "PackageConfiguration",
    "PackageEncryptionOptions",
)
SOURCE_VERSION_PROPERTY = "OspSourceVersion"
PACKAGE_VERSION_PROPERTY = "OspPackageVersion"
_INTEGER = re.compile(r"^[+-]?[0-9]+$")


class PropertyError(ResourceFailure):
    """A property is missing, unknown or has a value of the wrong kind."""


def is_control_property(name: str) -> bool:
    """Whether ``name`` is a control property (never sent to the API)."""
    return name in CONTROL_PROPERTIES or name.startswith(CONTROL_PREFIX)


def parse_bool(value: object, path: str) -> bool:
    """Return ``value`` as a boolean: a bool, or ``"true"``/``"false"`` in any case.

    :raises PropertyError: for anything else.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise PropertyError(f"property {path} must be 'true' or 'false', got {value!r}")


def _parse_int(value: object, path: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER.match(value.strip()):
        return int(value.strip())
    raise PropertyError(f"property {path} must be an integer, got {value!r}")


def coerce(value: Any, shape: Shape, path: str) -> Any:
    """Convert a CloudFormation property value to what the API's ``shape`` wants.

    :param value: the value as CloudFormation sent it (strings, lists, objects).
    :param shape: the botocore shape of the parameter.
    :param path: the property's path, for messages (``"PackageSource.S3Key"``).
    :raises PropertyError: when the value cannot be converted or an object has unknown keys.
    """
    type_name = shape.type_name
    if isinstance(shape, StructureShape):
        if not isinstance(value, Mapping):
            raise PropertyError(f"property {path} must be an object, got {value!r}")
        members = shape.members
        unknown = sorted(key for key in value if key not in members)
        if unknown:
            raise PropertyError(
                f"property {path} has unknown keys {unknown}; expected some of {sorted(members)}"
            )
        return {key: coerce(item, members[key], f"{path}.{key}") for key, item in value.items()}
    if isinstance(shape, ListShape):
        if not isinstance(value, list | tuple):
            raise PropertyError(f"property {path} must be a list, got {value!r}")
        return [coerce(item, shape.member, f"{path}[{index}]") for index, item in enumerate(value)]
    if isinstance(shape, MapShape):
        if not isinstance(value, Mapping):
            raise PropertyError(f"property {path} must be an object, got {value!r}")
        return {str(key): coerce(item, shape.value, f"{path}.{key}") for key, item in value.items()}
    if type_name == "boolean":
        return parse_bool(value, path)
    if type_name in ("integer", "long"):
        return _parse_int(value, path)
    if type_name in ("float", "double"):
        try:
            return float(value)
        except (TypeError, ValueError):
            raise PropertyError(f"property {path} must be a number, got {value!r}") from None
    if type_name == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise PropertyError(f"property {path} must be a string, got {value!r}")
    return value


def _api_params(
    props: Mapping[str, Any],
    service_model: ServiceModel,
    operation: str,
    *,
    resource_type: str,
    lenient: bool,
) -> dict[str, Any]:
    """Coerce the non-control properties against ``operation``'s input shape.

    :param lenient: keep values that do not convert and skip unknown properties (for the old
        properties of an update: they were accepted once and must never block a rollback).
    """
    input_shape = service_model.operation_model(operation).input_shape
    members = input_shape.members if input_shape is not None else {}
    params: dict[str, Any] = {}
    for name, value in props.items():
        if is_control_property(name):
            continue
        if name not in members:
            if lenient:
                continue
            raise PropertyError(
                f"{resource_type} has no property {name!r}; expected some of {sorted(members)} "
                f"(and control properties {sorted(CONTROL_PROPERTIES)} or {CONTROL_PREFIX}*)"
            )
        try:
            params[name] = coerce(value, members[name], name)
        except PropertyError:
            if not lenient:
                raise
            params[name] = value
    return params


def _require(params: Mapping[str, Any], names: tuple[str, ...], resource_type: str) -> None:
    missing = [name for name in names if params.get(name) in (None, "")]
    if missing:
        raise PropertyError(f"{resource_type} requires the properties {missing}")


def service_timeout(props: Mapping[str, Any]) -> int:
    """Return the resource's ``ServiceTimeout`` in seconds (1-3600, default 3600).

    Never fails: an unreadable value means the default (CloudFormation validates it anyway).
    """
    raw = props.get("ServiceTimeout")
    try:
        seconds = int(float(str(raw))) if raw not in (None, "") else DEFAULT_SERVICE_TIMEOUT_SECONDS
    except ValueError:
        seconds = DEFAULT_SERVICE_TIMEOUT_SECONDS
    return max(1, min(DEFAULT_SERVICE_TIMEOUT_SECONDS, seconds))


def _optional_str(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


@dataclass(frozen=True)
class PackageProps:
    """The properties of a ``Custom::OpenSearchPackage``, converted.

    :param params: CreatePackage parameters given (API names, converted values).
    :param source_version: the control property ``OspSourceVersion``.
    """

    params: dict[str, Any]
    source_version: str | None = None

    @property
    def explicit_name(self) -> str | None:
        """``PackageName`` when given, else ``None`` (a name is generated)."""
        return _optional_str(self.params.get("PackageName"))

    @property
    def package_type(self) -> str:
        """``PackageType``."""
        return str(self.params.get("PackageType") or "")

    @property
    def description(self) -> str:
        """``PackageDescription`` ("" when absent)."""
        return str(self.params.get("PackageDescription") or "")

    @property
    def engine_version(self) -> str:
        """``EngineVersion`` ("" when absent)."""
        return str(self.params.get("EngineVersion") or "")

    @property
    def vending_enabled(self) -> bool:
        """``PackageVendingOptions.VendingEnabled`` (``False`` when absent)."""
        options = self.params.get("PackageVendingOptions")
        return isinstance(options, Mapping) and options.get("VendingEnabled") is True

    def create_kwargs(self, name: str) -> CreatePackageRequestTypeDef:
        """Return the CreatePackage parameters, with ``name`` as ``PackageName``."""
        kwargs = {key: value for key, value in self.params.items() if key != "PackageName"}
        return cast("CreatePackageRequestTypeDef", {"PackageName": name, **kwargs})

    def update_kwargs(
        self, package_id: str, *, commit_message: str | None = None
    ) -> UpdatePackageRequestTypeDef:
        """Return the UpdatePackage parameters (source, description, configuration, encryption).

        :param commit_message: the new version's ``CommitMessage`` (at most 160 characters).
        """
        kwargs: dict[str, Any] = {"PackageID": package_id}
        kwargs.update((k, self.params[k]) for k in UPDATABLE_PROPERTIES if k in self.params)
        if commit_message is not None:
            kwargs["CommitMessage"] = commit_message
        return cast("UpdatePackageRequestTypeDef", kwargs)

    def replacing_changes(self, old: PackageProps) -> list[str]:
        """Return what changed from ``old`` that replaces the package (empty: nothing)."""
        changes: list[str] = []
        if self.explicit_name != old.explicit_name:
            changes.append(f"PackageName {old.explicit_name!r} -> {self.explicit_name!r}")
        if self.package_type != old.package_type:
            changes.append(f"PackageType {old.package_type!r} -> {self.package_type!r}")
        if self.engine_version != old.engine_version:
            changes.append(f"EngineVersion {old.engine_version!r} -> {self.engine_version!r}")
        if self.vending_enabled != old.vending_enabled:
            changes.append(
                f"PackageVendingOptions.VendingEnabled {old.vending_enabled} -> "
                f"{self.vending_enabled}"
            )
        return changes

    def updating_changes(self, old: PackageProps) -> list[str]:
        """Return the names of what changed from ``old`` that UpdatePackage applies."""
        changed = [
            name
            for name in UPDATABLE_PROPERTIES
            if _normalised(self.params.get(name)) != _normalised(old.params.get(name))
        ]
        if self.source_version != old.source_version:
            changed.append(SOURCE_VERSION_PROPERTY)
        return changed


def _normalised(value: Any) -> Any:
    return None if value in (None, "", {}) else value


def package_props(
    props: Mapping[str, Any], service_model: ServiceModel, *, lenient: bool = False
) -> PackageProps:
    """Convert a ``Custom::OpenSearchPackage``'s properties.

    :param props: ``ResourceProperties`` (or ``OldResourceProperties``) as CloudFormation sent them.
    :param service_model: the OpenSearch Service model (``client.meta.service_model``).
    :param lenient: never fail (for old properties).
    :raises PropertyError: when a property is missing, unknown or of the wrong kind.
    """
    params = _api_params(
        props, service_model, "CreatePackage", resource_type=PACKAGE_RESOURCE_TYPE, lenient=lenient
    )
    result = PackageProps(params, _optional_str(props.get(SOURCE_VERSION_PROPERTY)))
    if not lenient:
        _require(params, ("PackageType", "PackageSource"), PACKAGE_RESOURCE_TYPE)
        name = result.explicit_name
        if name is not None and not is_valid_package_name(name):
            raise PropertyError(
                f"PackageName {name!r} is invalid: use 3-{MAX_PACKAGE_NAME_LENGTH} characters, "
                "lowercase letters, digits and hyphens, starting with a letter (or omit it to get "
                "a generated name)"
            )
    return result


@dataclass(frozen=True)
class DomainPackageEntry:
    """One entry of a ``Custom::OpenSearchDomainPackages``'s ``PackageList``, converted.

    :param package_id: ``PackageID``.
    :param prerequisites: ``PrerequisitePackageIDList`` (packages associated before or with it).
    :param configuration: ``AssociationConfiguration``.
    :param package_version: ``OspPackageVersion``: the version to wait for.
    :param key: ``OspKey``: the prefix of the entry's attributes. Default: the PackageID.
    """

    package_id: str
    prerequisites: tuple[str, ...] = ()
    configuration: dict[str, Any] | None = None
    package_version: str | None = None
    key: str = ""

    def settings(self) -> tuple[tuple[str, ...], Any]:
        """What AssociatePackages cannot change on an existing association (comparable)."""
        return tuple(sorted(self.prerequisites)), self.configuration or {}

    def api_entry(self) -> dict[str, Any]:
        """The ``PackageDetailsForAssociation`` of the entry."""
        entry: dict[str, Any] = {"PackageID": self.package_id}
        if self.prerequisites:
            entry["PrerequisitePackageIDList"] = list(self.prerequisites)
        if self.configuration:
            entry["AssociationConfiguration"] = self.configuration
        return entry


@dataclass(frozen=True)
class DomainPackagesProps:
    """The properties of a ``Custom::OpenSearchDomainPackages``, converted.

    :param domain_name: ``DomainName``.
    :param entries: ``PackageList``, in the given order.
    """

    domain_name: str
    entries: tuple[DomainPackageEntry, ...] = ()


def _entry(raw: Any, index: int, shape: Shape, *, lenient: bool) -> DomainPackageEntry | None:
    path = f"PackageList[{index}]"
    if not isinstance(raw, Mapping):
        if lenient:
            return None
        raise PropertyError(f"property {path} must be an object, got {raw!r}")
    api = {key: value for key, value in raw.items() if not is_control_property(str(key))}
    unknown = sorted(
        str(key)
        for key in raw
        if is_control_property(str(key))
        and key not in (ENTRY_KEY_PROPERTY, PACKAGE_VERSION_PROPERTY)
    )
    try:
        if unknown:
            raise PropertyError(
                f"property {path} has unknown control keys {unknown}; expected "
                f"{ENTRY_KEY_PROPERTY} or {PACKAGE_VERSION_PROPERTY}"
            )
        params = coerce(api, shape, path)
    except PropertyError:
        if not lenient:
            raise
        params = dict(api)
    package_id = str(params.get("PackageID") or "")
    if not package_id:
        if lenient:
            return None
        raise PropertyError(f"property {path} requires PackageID")
    configuration = params.get("AssociationConfiguration")
    return DomainPackageEntry(
        package_id=package_id,
        prerequisites=tuple(str(p) for p in params.get("PrerequisitePackageIDList") or []),
        configuration=dict(configuration) if isinstance(configuration, Mapping) else None,
        package_version=_optional_str(raw.get(PACKAGE_VERSION_PROPERTY)),
        key=str(raw.get(ENTRY_KEY_PROPERTY) or package_id),
    )


def domain_packages_props(
    props: Mapping[str, Any], service_model: ServiceModel, *, lenient: bool = False
) -> DomainPackagesProps:
    """Convert a ``Custom::OpenSearchDomainPackages``'s properties (``DomainName``,
    ``PackageList`` of ``PackageDetailsForAssociation`` plus the control keys ``OspKey`` and
    ``OspPackageVersion``).

    :param lenient: never fail (for old properties and deletes): skip what does not convert.
    :raises PropertyError: when a property is missing, unknown, of the wrong kind, or when a
        package or a key is listed twice.
    """
    resource_type = DOMAIN_PACKAGES_RESOURCE_TYPE
    known = {"DomainName", "PackageList"}
    unknown = sorted(k for k in props if not is_control_property(k) and k not in known)
    if unknown and not lenient:
        raise PropertyError(
            f"{resource_type} has no property {unknown[0]!r}; expected {sorted(known)} (and "
            f"control properties {sorted(CONTROL_PROPERTIES)} or {CONTROL_PREFIX}*)"
        )
    domain_name = str(props.get("DomainName") or "")
    raw_list = props.get("PackageList")
    if not lenient:
        _require({"DomainName": domain_name}, ("DomainName",), resource_type)
        if not isinstance(raw_list, list | tuple):
            raise PropertyError(f"{resource_type} requires the property PackageList (a list)")
    shape = service_model.shape_for("PackageDetailsForAssociation")
    entries: list[DomainPackageEntry] = []
    for index, raw in enumerate(raw_list if isinstance(raw_list, list | tuple) else []):
        entry = _entry(raw, index, shape, lenient=lenient)
        if entry is not None:
            entries.append(entry)
    if not lenient:
        for what, values in (
            ("package", [e.package_id for e in entries]),
            (ENTRY_KEY_PROPERTY, [e.key for e in entries]),
        ):
            twice = sorted({v for v in values if values.count(v) > 1})
            if twice:
                raise PropertyError(
                    f"{resource_type}: PackageList lists the {what} {', '.join(twice)} twice"
                )
    return DomainPackagesProps(domain_name, tuple(entries))
