#!/usr/bin/env python3
"""The acceptance suite's CDK app (run by the CDK CLI: ``cdk --app "python <this file>" ...``).

Context: ``osp_run_id`` (names), ``osp_dictionary`` (``v1`` or ``v2``), ``osp_instance_type``,
``osp_plugin_zip``. See ``osp_acceptance/stacks.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parents[1] / "constructs")]

import aws_cdk  # noqa: E402
from osp_acceptance.stacks import build_app  # noqa: E402

if __name__ == "__main__":
    app = aws_cdk.App()
    build_app(app)
    app.synth()
