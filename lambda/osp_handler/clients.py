"""The boto3 clients, created lazily once per container.

The Region comes from ``AWS_REGION`` (set by Lambda). Endpoint overrides come from the standard
variables that botocore reads itself (``AWS_ENDPOINT_URL_OPENSEARCH``,
``AWS_ENDPOINT_URL_EVENTBRIDGE``, ``AWS_ENDPOINT_URL``). ``AWS_DATA_PATH`` (set by the
provider) points botocore at the service model shipped in ``models/``.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from types_boto3_events.client import EventBridgeClient
    from types_boto3_opensearch.client import OpenSearchServiceClient

__all__ = ["CLIENT_CONFIG", "OPENSEARCH_CLIENT_CONFIG", "events_client", "opensearch_client"]

#: Standard retry mode (throttling and 5xx retried with backoff; ``max_attempts`` counts the
#: retries, so 11 attempts in all), moderate timeouts.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 10},
    connect_timeout=5,
    read_timeout=20,
    user_agent_extra="cdk-opensearch-packages",
)


#: The OpenSearch Service client retries less (3 attempts in all): every call it makes runs
#: inside a wait that retries throttling and 5xx answers itself until the resource's deadline,
#: and botocore's standard mode counts the service's LimitExceededException (the per-Region
#: package quota, which no retry cures) as throttling: 11 attempts would delay that failure by
#: a minute or two of backoff.
OPENSEARCH_CLIENT_CONFIG = CLIENT_CONFIG.merge(
    Config(retries={"mode": "standard", "max_attempts": 2})
)


@functools.cache
def opensearch_client() -> OpenSearchServiceClient:
    """Return the OpenSearch Service client of this container."""
    return boto3.client(
        "opensearch", region_name=os.environ.get("AWS_REGION"), config=OPENSEARCH_CLIENT_CONFIG
    )


@functools.cache
def events_client() -> EventBridgeClient:
    """Return the EventBridge client of this container (polling rules)."""
    return boto3.client("events", region_name=os.environ.get("AWS_REGION"), config=CLIENT_CONFIG)
