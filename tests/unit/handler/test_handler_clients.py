"""The lazily created boto3 clients: Region, retries, endpoint overrides."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
    # max_attempts=10 retries: 11 attempts in all
    assert settings["retries"] == {"mode": "standard", "total_max_attempts": 11}
    assert settings["connect_timeout"] == 5
    assert settings["read_timeout"] == 20
    assert events_client().meta.region_name == "eu-west-1"


def test_endpoint_overrides_come_from_the_standard_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_OPENSEARCH", "http://127.0.0.1:4510")
    monkeypatch.setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", "http://127.0.0.1:4511")

    assert opensearch_client().meta.endpoint_url == "http://127.0.0.1:4510"
    assert events_client().meta.endpoint_url == "http://127.0.0.1:4511"
