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

from .association import OpenSearchPackageAssociation
from .package import (
    DictionaryKind,
    IOpenSearchPackage,
    OpenSearchPackage,
    OpenSearchPackageBase,
    PackageConfiguration,
    PackageType,
    RequirementLevel,
)
from .provider import OpenSearchPackageProvider
from .source import PackageSource, PackageSourceConfig

__all__ = [
    "DictionaryKind",
    "IOpenSearchPackage",
    "OpenSearchPackage",
    "OpenSearchPackageAssociation",
    "OpenSearchPackageBase",
    "OpenSearchPackageProvider",
    "PackageConfiguration",
    "PackageSource",
    "PackageSourceConfig",
    "PackageType",
    "RequirementLevel",
]
