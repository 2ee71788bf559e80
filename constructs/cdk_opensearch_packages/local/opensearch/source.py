"""Reading a package's source object from (local) S3, as the COPYING phase does.

A failure is a :class:`SourceError` whose ``error_type``/``message`` become the package's
``ErrorDetails`` when it ends in COPY_FAILED.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

__all__ = ["S3SourceReader", "SourceError", "SourceReader"]


class SourceError(Exception):
    """The source object cannot be copied.

    :param error_type: the ``ErrorDetails.ErrorType`` of the failed package.
    :param message: the ``ErrorDetails.ErrorMessage``.
    """

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message


class SourceReader(Protocol):
    """Reads a package's source object."""

    def read(self, bucket: str, key: str) -> bytes:
        """:return: the object's bytes.

        :raises SourceError: when it cannot be read.
        """
        ...


_CLIENT_ERRORS = {
    "NoSuchBucket": ("S3BucketNotFound", "The S3 bucket {bucket} does not exist."),
    "NoSuchKey": ("S3ObjectNotFound", "The S3 object s3://{bucket}/{key} does not exist."),
    "404": ("S3ObjectNotFound", "The S3 object s3://{bucket}/{key} does not exist."),
    "AccessDenied": ("S3AccessDenied", "Access denied to s3://{bucket}/{key}."),
    "403": ("S3AccessDenied", "Access denied to s3://{bucket}/{key}."),
}

_CLIENTS: dict[tuple[str | None, str], S3Client] = {}
_CLIENTS_LOCK = threading.Lock()


def _s3_client(endpoint_url: str | None, region: str) -> S3Client:
    """One S3 client per endpoint and Region for the process (clients are thread-safe, and
    creating one loads the large S3 model)."""
    with _CLIENTS_LOCK:
        client = _CLIENTS.get((endpoint_url, region))
        if client is None:
            config = Config(
                retries={"mode": "standard", "max_attempts": 2},
                connect_timeout=2,
                read_timeout=10,
                s3={"addressing_style": "path"},
            )
            session = boto3.session.Session()
            if endpoint_url is None:
                client = session.client("s3", region_name=region, config=config)
            else:
                client = session.client(
                    "s3",
                    region_name=region,
                    endpoint_url=endpoint_url,
                    aws_access_key_id="local",
                    aws_secret_access_key="local",
                    config=config,
                )
            _CLIENTS[(endpoint_url, region)] = client
        return client


class S3SourceReader:
    """Reads objects with boto3 from an S3 endpoint (moto's server in the local emulation).

    :param endpoint_url: the S3 endpoint; with one, static dummy credentials are used.
        ``None``: boto3's usual endpoint and credential resolution.
    :param region: the signing region.
    """

    def __init__(self, endpoint_url: str | None, region: str = "us-east-1") -> None:
        self.endpoint_url = endpoint_url
        self._region = region
        self._client: S3Client | None = None
        self._lock = threading.Lock()

    def _s3(self) -> S3Client:
        with self._lock:
            if self._client is None:
                self._client = _s3_client(self.endpoint_url, self._region)
            return self._client

    def read(self, bucket: str, key: str) -> bytes:
        """:return: the bytes of ``s3://bucket/key``.

        :raises SourceError: S3BucketNotFound, S3ObjectNotFound, S3AccessDenied, S3Error or
            S3Unreachable.
        """
        try:
            response = self._s3().get_object(Bucket=bucket, Key=key)
            return response["Body"].read()
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            error_type, template = _CLIENT_ERRORS.get(
                code, ("S3Error", "Cannot read s3://{bucket}/{key}: " + code)
            )
            raise SourceError(error_type, template.format(bucket=bucket, key=key)) from None
        except BotoCoreError as error:
            raise SourceError(
                "S3Unreachable", f"Cannot read s3://{bucket}/{key}: {error}"
            ) from None
