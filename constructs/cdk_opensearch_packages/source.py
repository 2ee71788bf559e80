"""Where a package file comes from: a local file uploaded as an asset, or an object in a bucket."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import aws_iam, aws_s3, aws_s3_assets
from constructs import Construct

__all__ = ["PackageSource", "PackageSourceConfig"]


@dataclass(frozen=True)
class PackageSourceConfig:
    """What a bound :class:`PackageSource` gives the package.

    :param bucket_name: the S3 bucket holding the package file (``S3BucketName``).
    :param object_key: the key of the package file (``S3Key``).
    :param source_version: a marker that changes when the file content changes
        (``OspSourceVersion``); ``None`` when nothing is known about the content.
    :param local_path: the local file (as the user gave it) for synth-time file checks;
        ``None`` for bucket sources.
    """

    bucket_name: str
    object_key: str
    source_version: str | None = None
    local_path: str | None = None


class PackageSource(abc.ABC):
    """The file a package is created from.

    Use :meth:`from_asset` for a file next to your CDK app, or :meth:`from_bucket` for an object
    you manage yourself. The provider is granted ``s3:GetObject`` on that exact object only.
    """

    @staticmethod
    def from_asset(path: str) -> PackageSource:
        """A local file, uploaded to the CDK assets bucket at deploy time.

        A change of the file's content updates the package (a new package version), even though
        the asset is uploaded under a new key anyway.

        :param path: path of the file (relative paths are relative to the working directory of
            the CDK app, like every asset path). Directories are rejected: a package is one file
            (zip a plugin yourself).
        """
        return _AssetSource(path)

    @staticmethod
    def from_bucket(
        bucket: aws_s3.IBucket, key: str, object_version: str | None = None
    ) -> PackageSource:
        """An object in an existing bucket.

        The service copies the object's current content when the package is created or updated;
        changing the object alone does not update the package. Pass ``object_version`` (the
        object's version id, or any marker you change with the content) to have a content change
        update the package.

        :param bucket: the bucket (when it has an ``encryption_key``, the provider may decrypt
            with that key).
        :param key: the object key.
        :param object_version: a marker of the object content. Default: - no marker; only a change
            of ``bucket`` or ``key`` updates the package.
        """
        return _BucketSource(bucket, key, object_version)

    @abc.abstractmethod
    def bind(self, scope: Construct, *, grantee: aws_iam.IGrantable) -> PackageSourceConfig:
        """Create what the source needs in ``scope`` and grant ``grantee`` read access to it.

        :param scope: the package construct.
        :param grantee: the provider function's role.
        """


def _grant_get_object(grantee: aws_iam.IGrantable, object_arn: str) -> None:
    # Not bucket.grant_read: that adds s3:GetObject*/s3:List* on bucket/* (wildcards cdk-nag
    # flags). The service needs exactly one object.
    aws_iam.Grant.add_to_principal(
        grantee=grantee, actions=["s3:GetObject"], resource_arns=[object_arn]
    )


class _AssetSource(PackageSource):
    def __init__(self, path: str) -> None:
        self.path = path

    def bind(self, scope: Construct, *, grantee: aws_iam.IGrantable) -> PackageSourceConfig:
        file = Path(self.path)
        if file.is_dir():
            raise ValueError(
                f"{scope.node.path}: source: {self.path!r} is a directory, but a package is a "
                "single file. Point to the file (zip a plugin into one .zip file first)"
            )
        if not file.is_file():
            raise ValueError(
                f"{scope.node.path}: source: {self.path!r} does not exist (looked for "
                f"{file.resolve()}). Relative paths are resolved from the CDK app's working "
                "directory; build the path from your app file, e.g. "
                "str(Path(__file__).parent / 'synonyms.txt')"
            )
        asset = aws_s3_assets.Asset(scope, "Source", path=str(file.resolve()))
        _grant_get_object(grantee, asset.bucket.arn_for_objects(asset.s3_object_key))
        return PackageSourceConfig(
            bucket_name=asset.s3_bucket_name,
            object_key=asset.s3_object_key,
            source_version=asset.asset_hash,
            local_path=self.path,
        )


class _BucketSource(PackageSource):
    def __init__(self, bucket: aws_s3.IBucket, key: str, object_version: str | None) -> None:
        self.bucket = bucket
        self.key = key
        self.object_version = object_version

    def bind(self, scope: Construct, *, grantee: aws_iam.IGrantable) -> PackageSourceConfig:
        _grant_get_object(grantee, self.bucket.arn_for_objects(self.key))
        if self.bucket.encryption_key is not None:
            aws_iam.Grant.add_to_principal(
                grantee=grantee,
                actions=["kms:Decrypt"],
                resource_arns=[self.bucket.encryption_key.key_arn],
            )
        return PackageSourceConfig(
            bucket_name=self.bucket.bucket_name,
            object_key=self.key,
            source_version=self.object_version,
        )
