"""The fixed identity of the local AWS: one account, one Region, fake credentials."""

from __future__ import annotations

__all__ = [
    "ACCOUNT_ID",
    "BOOTSTRAP_QUALIFIER",
    "FAKE_CREDENTIALS",
    "PARTITION",
    "REGION",
    "URL_SUFFIX",
    "bootstrap_bucket_name",
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


def bootstrap_bucket_name(account: str = ACCOUNT_ID, region: str = REGION) -> str:
    """The file-asset bucket ``cdk bootstrap`` creates with the default qualifier."""
    return f"cdk-{BOOTSTRAP_QUALIFIER}-assets-{account}-{region}"
