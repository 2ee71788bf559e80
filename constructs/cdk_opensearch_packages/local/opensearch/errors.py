"""AWS errors of the local OpenSearch packages API and which operation may answer which.

An :class:`ApiError` becomes a REST-JSON error response: the HTTP status from the error shape's
metadata in the service model, the ``x-amzn-ErrorType`` header and a ``{"message": ...}`` body,
so that botocore raises the modelled exception class (``client.exceptions.ConflictException``).

:data:`ERRORS_BY_OPERATION` is the complete list of codes each operation can answer with; the
server refuses to answer anything else (it would be an emulator bug, reported as an
InternalException). Two codes are deliberately not in the model's error list for their operation
(:data:`UNMODELLED_ERRORS`); both are error shapes the service declares, so botocore still raises
the modelled class. :data:`UNVERIFIED_ERRORS` lists the answers whose code is a guess (the
documentation names the rule, not the error), to check against AWS when an account is at hand.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

__all__ = [
    "ERRORS_BY_OPERATION",
    "FAULT_ERROR_CODES",
    "UNMODELLED_ERRORS",
    "UNVERIFIED_ERRORS",
    "ApiError",
    "conflict",
    "not_found",
    "validation_error",
]


class ApiError(Exception):
    """An error answer of the API.

    :param code: the AWS error code (an error shape name, e.g. ``ConflictException``).
    :param message: the human-readable message.
    :param status: the HTTP status. Default: - the status of the error shape in the model.
    """

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


def validation_error(message: str) -> ApiError:
    """:return: a ValidationException (400)."""
    return ApiError("ValidationException", message)


def not_found(message: str) -> ApiError:
    """:return: a ResourceNotFoundException (409)."""
    return ApiError("ResourceNotFoundException", message)


def conflict(message: str) -> ApiError:
    """:return: a ConflictException (409)."""
    return ApiError("ConflictException", message)


#: Codes the fault injection answers with, whatever the operation: ``ThrottlingException``
#: (HTTP 429, a code botocore retries as throttling) and ``InternalException`` (HTTP 500 or 503).
FAULT_ERROR_CODES: Final = frozenset({"ThrottlingException", "InternalException"})

_COMMON: Final = frozenset({"ValidationException", "InternalException"}) | FAULT_ERROR_CODES

#: Every error code each served operation can answer with (faults included).
ERRORS_BY_OPERATION: Final = MappingProxyType(
    {
        "CreatePackage": _COMMON | {"ResourceAlreadyExistsException", "LimitExceededException"},
        "DescribePackages": _COMMON | {"ResourceNotFoundException"},
        "UpdatePackage": _COMMON | {"ResourceNotFoundException", "ConflictException"},
        "DeletePackage": _COMMON | {"ResourceNotFoundException", "ConflictException"},
        "GetPackageVersionHistory": _COMMON | {"ResourceNotFoundException"},
        "AssociatePackage": _COMMON
        | {"ResourceNotFoundException", "ConflictException", "LimitExceededException"},
        "DissociatePackage": _COMMON | {"ResourceNotFoundException", "ConflictException"},
        "AssociatePackages": _COMMON
        | {"ResourceNotFoundException", "ConflictException", "LimitExceededException"},
        "DissociatePackages": _COMMON | {"ResourceNotFoundException", "ConflictException"},
        "ListDomainsForPackage": _COMMON | {"ResourceNotFoundException"},
        "ListPackagesForDomain": _COMMON | {"ResourceNotFoundException"},
    }
)

#: (operation, code) pairs the model does not list for the operation, with the reason.
UNMODELLED_ERRORS: Final = MappingProxyType(
    {
        ("UpdatePackage", "ConflictException"): (
            "updating a package that is COPYING, VALIDATING or DELETING: the model lists no "
            "conflict error for UpdatePackage, the service still refuses a second pipeline"
        ),
        ("AssociatePackage", "LimitExceededException"): (
            "the per-domain limit of 20 packages: the service's quota error; botocore's "
            "standard retry mode treats this code as throttling and retries it"
        ),
        ("AssociatePackages", "LimitExceededException"): (
            "the per-domain limit of 20 packages, as for AssociatePackage"
        ),
    }
)

#: (operation, code) pairs answered in a situation whose error code has not been checked
#: against AWS, with the situation. The rules themselves come from the documentation.
UNVERIFIED_ERRORS: Final = MappingProxyType(
    {
        ("AssociatePackage", "ValidationException"): (
            "a PrerequisitePackageIDList entry that is not ACTIVE on the domain (the API "
            "reference: prerequisites 'must be associated with the domain before the package "
            "can be associated'; the code AWS answers with is not documented)"
        ),
        ("AssociatePackages", "ValidationException"): (
            "a PrerequisitePackageIDList entry neither ACTIVE on the domain nor in the same "
            "batch (the API reference: 'before or simultaneously'; the code is a guess)"
        ),
        ("AssociatePackages", "ConflictException"): (
            "another package operation in progress on the domain, or every entry already in "
            "desired state (as AssociatePackage; the batch's answer is undocumented)"
        ),
        ("DissociatePackages", "ResourceNotFoundException"): (
            "a listed package that is not associated with the domain (the whole batch is "
            "refused; AWS may answer ValidationException 'Package is not associated to this "
            "domain', as it does for DissociatePackage)"
        ),
        ("DescribePackages", "ResourceNotFoundException"): (
            "a PackageID filter none of whose ids exists (undocumented: tools handle an empty "
            "list, ResourceNotFoundException and ValidationException alike)"
        ),
    }
)
