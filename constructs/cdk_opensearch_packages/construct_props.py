"""Construct-side property helpers that need aws_cdk's types (Duration, RemovalPolicy, tokens).

The rules themselves are in :mod:`cdk_opensearch_packages.checks.props`, which does not import
aws_cdk.
"""

from __future__ import annotations

import re

import aws_cdk

from cdk_opensearch_packages.checks import props
from cdk_opensearch_packages.checks.props import fail

__all__ = ["is_unresolved", "service_timeout", "validate_pattern", "validate_removal_policy"]


def is_unresolved(value: object) -> bool:
    """Whether ``value`` holds a token that only resolves at deploy time (aws-cdk's own test)."""
    return aws_cdk.Token.is_unresolved(value)


def validate_pattern(
    path: str, prop: str, value: str | None, pattern: re.Pattern[str], *, rule: str, fix: str
) -> None:
    """``prop``: absent, a deploy-time token, or a whole match of ``pattern``; else
    :func:`~cdk_opensearch_packages.checks.props.fail` with ``rule`` and ``fix``."""
    if value is None or is_unresolved(value) or pattern.fullmatch(value):
        return
    raise fail(path, prop, value, rule, fix)


def service_timeout(path: str, timeout: aws_cdk.Duration | None) -> aws_cdk.Duration:
    """``timeout``: 1 to 3600 whole seconds; returns the timeout to render (default: 1 hour)."""
    if timeout is None:
        return aws_cdk.Duration.seconds(props.DEFAULT_TIMEOUT_SECONDS)
    if timeout.is_unresolved():
        return timeout
    props.validate_timeout_seconds(
        path, timeout.to_seconds(integral=False), timeout.to_human_string()
    )
    return timeout


def validate_removal_policy(path: str, policy: aws_cdk.RemovalPolicy | None) -> None:
    """``removal_policy``: DESTROY, RETAIN or RETAIN_ON_UPDATE_OR_DELETE (no SNAPSHOT)."""
    if policy is aws_cdk.RemovalPolicy.SNAPSHOT:
        raise fail(
            path,
            "removal_policy",
            "SNAPSHOT",
            "packages cannot be snapshotted",
            "Use RemovalPolicy.RETAIN to keep the package, or RemovalPolicy.DESTROY",
        )
