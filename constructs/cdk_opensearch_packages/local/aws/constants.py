"""The fixed identity of the local AWS: one account, one Region, fake credentials."""

from __future__ import annotations

__all__ = [
    "ACCOUNT_ID",
    "BOOTSTRAP_QUALIFIER",
    "FAKE_CREDENTIALS",
    "PARTITION",
    "REGION",
    "URL_SUFFIX",
    "access_key_id",
    "bootstrap_bucket_name",
    "credentials",
]

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"
URL_SUFFIX = "amazonaws.com"
#: The default qualifier of ``cdk bootstrap`` (names the staging bucket and the SSM parameter).
BOOTSTRAP_QUALIFIER = "hnb659fds"
#: Credentials moto accepts (it checks nothing); never real ones.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AWS_SESSION_TOKEN": "local-emulation-session-token",
}


def access_key_id(account_id: str) -> str:
    """The fake access key id of an emulated account (the default account's is
    :data:`FAKE_CREDENTIALS`'); the local OpenSearch API tells accounts apart by it, moto treats
    every unknown key as its default account."""
    if account_id == ACCOUNT_ID:
        return FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"]
    return f"AKIA{account_id}LOCL"


def credentials(account_id: str) -> dict[str, str]:
    """The fake credentials (environment variables) of an emulated account."""
    return {**FAKE_CREDENTIALS, "AWS_ACCESS_KEY_ID": access_key_id(account_id)}


def bootstrap_bucket_name(account: str = ACCOUNT_ID, region: str = REGION) -> str:
    """The file-asset bucket ``cdk bootstrap`` creates with the default qualifier."""
    return f"cdk-{BOOTSTRAP_QUALIFIER}-assets-{account}-{region}"
