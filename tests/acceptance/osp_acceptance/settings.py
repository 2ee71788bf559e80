"""What one acceptance run is called and where it runs: target, names, instance type.

Everything a person may need to clean up by hand after an interrupted run is derived from the
run id here (stack, domain and package names), and printed at the start of every run.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "AWS_OPT_IN",
    "ENGINE_VERSION",
    "INSTANCE_TYPE",
    "REPOSITORY",
    "RunSettings",
    "aws_skip_reason",
]

#: The repository root (tests/acceptance/osp_acceptance/settings.py -> 3 levels up).
REPOSITORY = Path(__file__).resolve().parents[3]
#: The opt-in: ``OSP_ACCEPTANCE=aws`` (plus credentials) runs the suite against a real account.
AWS_OPT_IN = ("OSP_ACCEPTANCE", "aws")
#: Custom plugins need OpenSearch 2.15 or later (service-evidence.md §5); 2.19 is the newest
#: version the example app and aws-cdk-lib 2.275 use.
ENGINE_VERSION = "OpenSearch_2.19"
#: One t3.small.search data node: the smallest current-generation instance type (the example
#: app's own). AWS's custom-plugin guide names no instance-type requirement; that T3 accepts
#: custom plugins is UNVERIFIED until the first run (``OSP_ACCEPTANCE_INSTANCE_TYPE``).
INSTANCE_TYPE = "t3.small.search"
_RUN_ID = re.compile(r"^[a-z0-9]{1,8}$")


def aws_skip_reason() -> str | None:
    """Why the AWS target does not run, or ``None`` when the user opted in."""
    name, value = AWS_OPT_IN
    if os.environ.get(name, "").strip().lower() != value:
        return (
            f"AWS target not selected: set {name}={value} and AWS credentials (a bootstrapped "
            "account, see the README's 'Acceptance tests') to run it"
        )
    return None


@dataclass(frozen=True)
class RunSettings:
    """Names of one run.

    :param target: ``emulator`` or ``aws``.
    :param run_id: 1 to 8 characters ``[a-z0-9]`` in every name (``OSP_ACCEPTANCE_RUN_ID``).
        Default: random.
    :param instance_type: the domain's data node type (``OSP_ACCEPTANCE_INSTANCE_TYPE``).
    :param plugin_zip: a plugin zip to use instead of the built one (``OSP_ACCEPTANCE_PLUGIN_ZIP``).
    """

    target: str
    run_id: str
    instance_type: str = INSTANCE_TYPE
    plugin_zip: Path | None = None

    @classmethod
    def from_environment(cls, target: str) -> RunSettings:
        """The settings of a run from ``OSP_ACCEPTANCE_*`` variables."""
        run_id = os.environ.get("OSP_ACCEPTANCE_RUN_ID") or secrets.token_hex(3)
        if not _RUN_ID.match(run_id):
            raise ValueError(f"OSP_ACCEPTANCE_RUN_ID must match {_RUN_ID.pattern}, got {run_id!r}")
        plugin = os.environ.get("OSP_ACCEPTANCE_PLUGIN_ZIP")
        return cls(
            target=target,
            run_id=run_id,
            instance_type=os.environ.get("OSP_ACCEPTANCE_INSTANCE_TYPE") or INSTANCE_TYPE,
            plugin_zip=Path(plugin).resolve() if plugin else None,
        )

    @property
    def prefix(self) -> str:
        """The stack-name prefix, ``OspAcc<run id>``."""
        return f"OspAcc{self.run_id}"

    @property
    def domain_stack(self) -> str:
        """The stack of the domain."""
        return f"{self.prefix}-Domain"

    @property
    def example_stack(self) -> str:
        """The example app's stack (a dictionary on the domain)."""
        return f"{self.prefix}-Example"

    @property
    def plugin_stack(self) -> str:
        """The plugin stack (plugin, license, configuration)."""
        return f"{self.prefix}-Plugin"

    @property
    def stacks(self) -> tuple[str, str, str]:
        """Every stack, in deployment order."""
        return (self.domain_stack, self.example_stack, self.plugin_stack)

    @property
    def domain_name(self) -> str:
        """The domain (3 to 28 characters)."""
        return f"osp-acc-{self.run_id}"

    def package_name(self, role: str) -> str:
        """The package of a role (``synonyms``, ``plugin``, ``license``, ``config``, ``probe``)."""
        return f"osp-acc-{self.run_id}-{role}"

    @property
    def package_names(self) -> list[str]:
        """Every package name the run may create."""
        return [
            self.package_name(role) for role in ("synonyms", "plugin", "license", "config", "probe")
        ]

    def context(self) -> dict[str, str]:
        """The CDK context of the acceptance app (``-c key=value``)."""
        context = {
            "osp_run_id": self.run_id,
            "osp_instance_type": self.instance_type,
        }
        if self.plugin_zip is not None:
            context["osp_plugin_zip"] = str(self.plugin_zip)
        return context
