"""``synth_fails``: a property problem is reported either at construction (a ``ValueError``)
or, for the rules the constructs collect, by CDK's validation phase when the app synthesizes
(every problem of the app at once)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import aws_cdk
import pytest

_LINE = re.compile(r"^\s*\[(?P<path>[^\]]+)\] (?P<message>.*)$")


def validation_problems(stack: aws_cdk.Stack) -> list[str]:
    """Synthesize the stack's app; return its validation problems as ``"<path>: <message>"``."""
    app = stack.node.root
    assert isinstance(app, aws_cdk.App)
    with pytest.raises(Exception, match="Validation failed") as raised:
        app.synth()
    return [
        f"{match['path']}: {match['message']}"
        for line in str(raised.value).splitlines()
        if (match := _LINE.match(line)) is not None
    ]


@contextlib.contextmanager
def synth_fails(stack: aws_cdk.Stack, pattern: str) -> Iterator[None]:
    """The block, or the synthesis after it, reports a problem matching ``pattern``."""
    try:
        yield
    except ValueError as error:  # a rule checked at construction
        assert re.search(pattern, str(error)), f"{pattern!r} does not match {error}"
        return
    problems = validation_problems(stack)
    assert any(re.search(pattern, problem) for problem in problems), (pattern, problems)
