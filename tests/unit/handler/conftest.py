"""Fixtures of the provider handler's unit tests: isolated AWS settings, fake clock, stubbed
clients, a local HTTP server for CloudFormation responses."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.stub import Stubber

from .handler_fakes import RULE_PREFIX, FakeClock, ResponseServer

if TYPE_CHECKING:
    from types_boto3_events.client import EventBridgeClient
    from types_boto3_opensearch.client import OpenSearchServiceClient


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real AWS settings, credentials or proxies reach the tests."""
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_REGION",
        "AWS_DATA_PATH",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_OPENSEARCH",
        "AWS_ENDPOINT_URL_EVENTBRIDGE",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("OSP_RULE_PREFIX", RULE_PREFIX)


@pytest.fixture(autouse=True)
def restored_logging() -> Iterator[None]:
    """crhelper's ``log_helper.setup`` sets its JSON formatter on every root handler, pytest's
    own report handlers included, and the root and botocore levels: put them back after each
    test, so the handler's request ids do not leak into later tests' captured logs."""
    names = ("", "boto", "boto3", "botocore", "urllib3")
    levels = {name: logging.getLogger(name).level for name in names}
    formatters = {handler: handler.formatter for handler in logging.root.handlers}
    yield
    for handler, formatter in formatters.items():
        handler.setFormatter(formatter)
    for handler in logging.root.handlers:
        if handler not in formatters:
            handler.setFormatter(None)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock (sleeping only advances it)."""
    return FakeClock()


@pytest.fixture
def opensearch(aws_environment: None) -> OpenSearchServiceClient:
    """An OpenSearch Service client (only ever used stubbed)."""
    return boto3.client("opensearch", region_name="eu-west-1")


@pytest.fixture
def stub(opensearch: OpenSearchServiceClient) -> Iterator[Stubber]:
    """The active stubber of :func:`opensearch`; every queued answer must be used."""
    with Stubber(opensearch) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def events(aws_environment: None) -> EventBridgeClient:
    """An EventBridge client (only ever used stubbed)."""
    return boto3.client("events", region_name="eu-west-1")


@pytest.fixture
def events_stub(events: EventBridgeClient) -> Iterator[Stubber]:
    """The active stubber of :func:`events`; every queued answer must be used."""
    with Stubber(events) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def response_server() -> Iterator[ResponseServer]:
    """A local HTTP server on 127.0.0.1 standing in for the presigned ResponseURL."""
    with ResponseServer().running() as server:
        yield server
