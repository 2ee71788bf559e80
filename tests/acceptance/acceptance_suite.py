"""The acceptance suite (``make acceptance``): the emulator by default, AWS when opted in.

Not collected by ``make test`` (its file name is not ``test_*.py``): it synthesizes with the
real CDK CLI and, on AWS, creates a domain. ``OSP_ACCEPTANCE=aws`` (plus credentials of a
bootstrapped account) selects the AWS target, like Terraform's TF_ACC; without it the AWS
target is skipped with its reason shown (``-ra``), never passed silently.
"""

from __future__ import annotations

import os
import sys

import pytest
from osp_acceptance.phases import run_suite
from osp_acceptance.replay import replay_file
from osp_acceptance.settings import AWS_OPT_IN, RunSettings, aws_skip_reason


@pytest.mark.parametrize("target", ["emulator", "aws"])
def test_acceptance(target: str) -> None:
    aws_reason = aws_skip_reason()
    if target == "aws" and aws_reason is not None:
        pytest.skip(aws_reason)
    if target == "emulator" and aws_reason is None:
        pytest.skip(f"{AWS_OPT_IN[0]}={os.environ[AWS_OPT_IN[0]]}: the AWS target runs instead")

    failures, recording = run_suite(RunSettings.from_environment(target))

    assert not failures, "\n".join([*failures, f"recording: {recording}"])
    # The run's own recording, replayed at once: on the emulator it must match exactly; on
    # AWS the differences are the findings (printed; `make test` judges committed ones).
    differences = replay_file(recording)
    if target == "aws":
        lines = [f"{len(differences)} difference(s) between AWS and the emulator ({recording}):"]
        lines += [f"  {difference}" for difference in differences]
        print("\n".join(lines), file=sys.__stderr__)
    else:
        assert [str(d) for d in differences] == [], recording
