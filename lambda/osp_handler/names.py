"""Names and identifiers: package ids, generated package names, the physical id of a domain's
package set, polling rule names and the placeholder physical id of a resource that never
existed."""

from __future__ import annotations

import hashlib
import re

__all__ = [
    "GENERATED_NAME_MAX_LENGTH",
    "MAX_PACKAGE_NAME_LENGTH",
    "MAX_RULE_NAME_LENGTH",
    "PACKAGE_NAME_PATTERN",
    "domain_packages_physical_id",
    "generated_package_name",
    "is_package_id",
    "parse_domain_packages_physical_id",
    "placeholder_physical_id",
    "polling_rule_name",
]

#: Package ids: ``F123`` (custom), ``G123`` (AWS-provided), ``pkg-<hex>``.
PACKAGE_ID_PATTERN = re.compile(r"^([FG][0-9]+)$|^(pkg-[a-f0-9]+)$")
#: What the service accepts as a package name: the model's 3-256 characters of
#: ``[a-z][a-z0-9-]+`` (no shorter limit is publicly documented).
PACKAGE_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9\-]+$")
MAX_PACKAGE_NAME_LENGTH = 256
MIN_PACKAGE_NAME_LENGTH = 3
#: Generated names stay short (readable in the console; any length up to 256 would do).
GENERATED_NAME_MAX_LENGTH = 28
#: Domain names: 3-28 characters, lowercase letters, digits and hyphens, starting with a letter.
DOMAIN_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9\-]{2,27}$")
#: EventBridge rule names: 1-64 characters of ``[.\-_A-Za-z0-9]``.
RULE_NAME_PATTERN = re.compile(r"^[.\-_A-Za-z0-9]+$")
MAX_RULE_NAME_LENGTH = 64
_HASH_LENGTH = 8
_DOMAIN_PACKAGES_SUFFIX = "|packages"


def _digest(*parts: str) -> str:
    """sha256 (hex) over ``parts``, each length-prefixed so that no two tuples collide."""
    digest = hashlib.sha256()
    for part in parts:
        encoded = part.encode("utf-8")
        digest.update(len(encoded).to_bytes(8, "big"))
        digest.update(encoded)
    return digest.hexdigest()


def is_package_id(value: str | None) -> bool:
    """Whether ``value`` is an OpenSearch Service package id."""
    return value is not None and PACKAGE_ID_PATTERN.fullmatch(value) is not None


def is_valid_package_name(name: str) -> bool:
    """Whether ``name`` is a package name the service accepts (3-256 chars,
    ``[a-z][a-z0-9-]+``)."""
    return (
        MIN_PACKAGE_NAME_LENGTH <= len(name) <= MAX_PACKAGE_NAME_LENGTH
        and PACKAGE_NAME_PATTERN.fullmatch(name) is not None
    )


def generated_package_name(
    *,
    stack_id: str,
    logical_id: str,
    package_type: str,
    engine_version: str,
    vending_enabled: bool,
) -> str:
    """Return the package name used when ``PackageName`` is absent.

    ``<prefix>-<8 hex>``: the prefix comes from the logical id (lowercased, ``[a-z0-9-]`` only,
    starting with a letter), the hash from the stack id, the logical id and the properties whose
    change replaces the package, so a replacement gets a new name. At most
    :data:`GENERATED_NAME_MAX_LENGTH` (28) characters.
    """
    digest = _digest(
        stack_id, logical_id, package_type, engine_version, "true" if vending_enabled else "false"
    )[:_HASH_LENGTH]
    prefix = re.sub(r"[^a-z0-9-]", "", logical_id.lower())
    prefix = re.sub(r"^[^a-z]+", "", prefix)
    prefix = prefix[: GENERATED_NAME_MAX_LENGTH - _HASH_LENGTH - 1].rstrip("-") or "package"
    return f"{prefix}-{digest}"


def domain_packages_physical_id(domain_name: str) -> str:
    """Return the physical id of a domain's package set: ``<DomainName>|packages``."""
    return domain_name + _DOMAIN_PACKAGES_SUFFIX


def parse_domain_packages_physical_id(value: str | None) -> str | None:
    """Return the domain name of a package set's physical id, else ``None``."""
    if not value or not value.endswith(_DOMAIN_PACKAGES_SUFFIX):
        return None
    domain_name = value[: -len(_DOMAIN_PACKAGES_SUFFIX)]
    return domain_name if DOMAIN_NAME_PATTERN.fullmatch(domain_name) else None


def polling_rule_name(prefix: str, *, stack_id: str, logical_id: str, request_id: str) -> str:
    """Return the EventBridge rule name of one request's polling: ``<prefix><hash>``, <= 64 chars.

    The name does not depend on the length of the logical id, and a redelivered request (same
    RequestId) gets the same rule.

    :raises ValueError: when the prefix is invalid or leaves fewer than 8 characters for the hash.
    """
    room = MAX_RULE_NAME_LENGTH - len(prefix)
    if not prefix or RULE_NAME_PATTERN.fullmatch(prefix) is None or room < _HASH_LENGTH:
        raise ValueError(
            f"OSP_RULE_PREFIX {prefix!r} must be 1-{MAX_RULE_NAME_LENGTH - _HASH_LENGTH} "
            "characters of [.-_A-Za-z0-9]"
        )
    return prefix + _digest(stack_id, logical_id, request_id)[: min(room, 32)]


def placeholder_physical_id(*, stack_id: str, logical_id: str, request_id: str) -> str:
    """Return the physical id reported when a Create fails before anything exists.

    Deterministic (a redelivered request reports the same id) and never a package id or an
    association id, so the Delete that follows succeeds without calling the service.
    """
    return f"osp-failed-{logical_id[:64]}-{_digest(stack_id, logical_id, request_id)[:12]}"
