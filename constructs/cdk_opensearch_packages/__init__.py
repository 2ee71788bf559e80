"""AWS CDK v2 constructs for Amazon OpenSearch Service custom packages.

Example::

    from cdk_opensearch_packages import (
        DictionaryKind, OpenSearchPackage, PackageSource, PackageType,
    )

    synonyms = OpenSearchPackage(self, "Synonyms",
        package_type=PackageType.TXT_DICTIONARY,
        source=PackageSource.from_asset("dictionaries/synonyms.txt"),
        dictionary_kind=DictionaryKind.SYNONYMS,
    )
    association = synonyms.associate(domain)
    # association.reference_path -> "analyzers/F123456789", the analyzer's synonyms_path
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cdk_opensearch_packages.association import OpenSearchPackageAssociation
    from cdk_opensearch_packages.domain_packages import OpenSearchDomainPackages
    from cdk_opensearch_packages.package import (
        DictionaryKind,
        IOpenSearchPackage,
        OpenSearchPackage,
        OpenSearchPackageBase,
        PackageConfiguration,
        PackageType,
        RequirementLevel,
        SynonymTokenizer,
    )
    from cdk_opensearch_packages.provider import OpenSearchPackageProvider
    from cdk_opensearch_packages.provider_stack import OpenSearchPackageProviderStack
    from cdk_opensearch_packages.source import PackageSource, PackageSourceConfig

# The constructs import aws_cdk (which starts jsii's Node.js process): they are loaded on first
# use, so `cdk_opensearch_packages.local` (the offline emulation) starts without it.
_MODULE_OF = {
    "OpenSearchPackageAssociation": ".association",
    "OpenSearchDomainPackages": ".domain_packages",
    "DictionaryKind": ".package",
    "IOpenSearchPackage": ".package",
    "OpenSearchPackage": ".package",
    "OpenSearchPackageBase": ".package",
    "PackageConfiguration": ".package",
    "PackageType": ".package",
    "RequirementLevel": ".package",
    "SynonymTokenizer": ".package",
    "OpenSearchPackageProvider": ".provider",
    "OpenSearchPackageProviderStack": ".provider_stack",
    "PackageSource": ".source",
    "PackageSourceConfig": ".source",
}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "DictionaryKind",
    "IOpenSearchPackage",
    "OpenSearchDomainPackages",
    "OpenSearchPackage",
    "OpenSearchPackageAssociation",
    "OpenSearchPackageBase",
    "OpenSearchPackageProvider",
    "OpenSearchPackageProviderStack",
    "PackageConfiguration",
    "PackageSource",
    "PackageSourceConfig",
    "PackageType",
    "RequirementLevel",
    "SynonymTokenizer",
]
