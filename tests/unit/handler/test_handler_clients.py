"""The lazily created boto3 clients: Region, retries, endpoint overrides."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from osp_handler.clients import events_client, opensearch_client


@pytest.fixture(autouse=True)
def fresh_clients() -> Iterator[None]:
    """Forget the clients cached by other tests (and by this one)."""
    opensearch_client.cache_clear()
    events_client.cache_clear()
    yield
    opensearch_client.cache_clear()
    events_client.cache_clear()


def test_clients_are_created_once_per_container_in_the_lambda_region() -> None:
    client = opensearch_client()

    assert opensearch_client() is client
    assert client.meta.region_name == "eu-west-1"
    settings = vars(client.meta.config)  # botocore's Config keeps its options as attributes
    # max_attempts=2 retries: 3 attempts in all (the waits retry transient errors themselves)
    assert settings["retries"] == {"mode": "standard", "total_max_attempts": 3}
    assert settings["connect_timeout"] == 5
    assert settings["read_timeout"] == 20
    assert settings["user_agent_extra"] == "cdk-opensearch-packages"
    events = events_client()
    assert events.meta.region_name == "eu-west-1"
    assert vars(events.meta.config)["retries"] == {"mode": "standard", "total_max_attempts": 11}


class _EmptyBody:
    """The raw body of an :class:`AWSResponse` (already parsed here)."""

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        yield b""


def test_the_package_quota_fails_after_three_attempts_not_eleven(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """botocore's standard mode takes LimitExceededException for throttling: the quota error
    must not cost a minute of backoff."""
    client = opensearch_client()
    attempts: list[int] = []

    def over_quota(*args: Any, **kwargs: Any) -> tuple[tuple[Any, dict[str, Any]], None]:
        attempts.append(1)
        parsed = {
            "Error": {"Code": "LimitExceededException", "Message": "Maximum packages reached"},
            "ResponseMetadata": {"HTTPStatusCode": 409, "HTTPHeaders": {}},
        }
        return (AWSResponse("https://es", 409, {}, _EmptyBody()), parsed), None

    monkeypatch.setattr(client._endpoint, "_do_get_response", over_quota)
    monkeypatch.setattr("time.sleep", lambda seconds: None)

    with pytest.raises(client.exceptions.LimitExceededException):
        client.create_package(
            PackageName="synonyms",
            PackageType="TXT-DICTIONARY",
            PackageSource={"S3BucketName": "bucket", "S3Key": "k"},
        )

    assert len(attempts) == 3


def test_endpoint_overrides_come_from_the_standard_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_OPENSEARCH", "http://127.0.0.1:4510")
    monkeypatch.setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", "http://127.0.0.1:4511")

    assert opensearch_client().meta.endpoint_url == "http://127.0.0.1:4510"
    assert events_client().meta.endpoint_url == "http://127.0.0.1:4511"
