"""Fixtures: moto's S3 server, the local OpenSearch packages API on a manual clock, clients."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from local_api_helpers import BUCKET, PHASE
from moto.server import ThreadedMotoServer

from cdk_opensearch_packages.local.opensearch.api import (
    LocalOpenSearchService,
    ManualClock,
    Timeline,
)

_keys = itertools.count(1)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on a free port."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def s3_client(s3_endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@pytest.fixture
def s3(s3_client: Any) -> Any:
    """The S3 client, with the test bucket made (again) for each test: moto's backends are
    global to the process, so an end-to-end test's LocalAws on the same xdist worker resets
    them (``/moto-api/reset``) between two tests of this folder."""
    with contextlib.suppress(s3_client.exceptions.BucketAlreadyOwnedByYou):
        s3_client.create_bucket(Bucket=BUCKET)
    return s3_client


@pytest.fixture
def put(s3: Any) -> Callable[[bytes], dict[str, str]]:
    """Upload bytes under a fresh key; return the ``PackageSource``."""

    def upload(body: bytes, key: str | None = None) -> dict[str, str]:
        key = key or f"objects/{next(_keys)}"
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        return {"S3BucketName": BUCKET, "S3Key": key}

    return upload


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def service(s3_endpoint: str, clock: ManualClock) -> Iterator[LocalOpenSearchService]:
    timeline = Timeline(
        copying=PHASE,
        validating=PHASE,
        deleting=PHASE,
        associating=PHASE,
        plugin_associating=5 * PHASE,
        dissociating=PHASE,
        plugin_dissociating=5 * PHASE,
    )
    with LocalOpenSearchService(s3_endpoint, timeline=timeline, clock=clock, seed=7) as running:
        yield running


@pytest.fixture
def client(service: LocalOpenSearchService) -> Any:
    """A client that does not retry: every answer is seen as the server gave it."""
    return service.client(Config(retries={"mode": "standard", "total_max_attempts": 1}))


@pytest.fixture
def raw_client(service: LocalOpenSearchService) -> Any:
    """A client that neither retries nor validates: the server's validation answers."""
    return service.client(
        Config(retries={"mode": "standard", "total_max_attempts": 1}, parameter_validation=False)
    )
