"""A stack at the package quota, end to end: 25 packages (the per-Region quota) created, updated
with new content and deleted at once, some of them associated with one domain.

Every wait outlives its (shortened) Lambda invocation, so each pending request holds an
EventBridge polling rule. While the stack runs, a sampler records the polling rules and the
provider function's resource-based policy. The checks:

- every operation succeeds and nothing is left behind;
- at most one polling rule per pending request (never more rules than packages and
  associations; EventBridge's default quota is 300 rules per bus), every one named with the
  provider's prefix and removed at the end;
- the function's resource-based policy keeps its one statement (the stack's
  ``AWS::Lambda::Permission``) and stays far below Lambda's 20 KB limit: the handler never adds
  a permission per wait;
- the domain never runs two package operations at once (the service allows one), and the
  service never had to refuse one (no ConflictException).
"""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import pytest

from cdk_opensearch_packages.local.aws.env import LocalAws
from cdk_opensearch_packages.local.cloudformation.assembly import CloudAssembly
from cdk_opensearch_packages.local.opensearch.api import Timeline

PACKAGES = 25  # the service's packages-per-Region quota (the local API enforces it too)
ASSOCIATED = 3  # chained on one domain: each waits for the previous one
DOMAIN = "load"
#: EventBridge's default quota of rules per event bus.
RULES_PER_BUS = 300
#: Lambda's limit on a function's resource-based policy.
POLICY_LIMIT_BYTES = 20 * 1024
#: With this Lambda timeout the handler waits ~1 s in process (it keeps 20 s), then polls.
HAND_OVER_QUICKLY = 21.0
#: One emulated minute lasts three real seconds: longer than a polling invocation here (1 s of
#: waiting plus the process start), so, as on AWS (50 s of a 60 s period), one resource's
#: polling invocations never overlap, even on a busy machine.
TIME_SCALE = 3 / 60
#: Creates and updates outlive the first invocation's second of waiting; association and
#: deletion phases end within it.
LOAD_TIMELINE = {
    "copying": 0.7,
    "validating": 0.7,
    "associating": 0.4,
    "dissociating": 0.4,
    "deleting": 0.4,
}
BUSY = frozenset({"ASSOCIATING", "DISSOCIATING"})


@pytest.fixture(scope="module")
def local_aws() -> Iterator[LocalAws]:
    """This module's local AWS (overrides conftest's): slower minutes, see :data:`TIME_SCALE`."""
    with LocalAws(
        time_scale=TIME_SCALE, opensearch_timeline=Timeline.from_mapping(LOAD_TIMELINE)
    ) as aws:
        yield aws


def synth(outdir: Path, stack_name: str, files: list[Path]) -> CloudAssembly:
    """A domain and one dictionary package per file, the first ``ASSOCIATED`` associated."""
    import aws_cdk
    from aws_cdk import aws_opensearchservice

    from cdk_opensearch_packages import OpenSearchPackage, PackageSource, PackageType

    app = aws_cdk.App(outdir=str(outdir))
    stack = aws_cdk.Stack(app, stack_name)
    domain = aws_opensearchservice.Domain(
        stack,
        "Domain",
        domain_name=DOMAIN,
        version=aws_opensearchservice.EngineVersion.OPENSEARCH_2_19,
        removal_policy=aws_cdk.RemovalPolicy.DESTROY,
    )
    for index, file in enumerate(files):
        package = OpenSearchPackage(
            stack,
            f"P{index:02d}",
            package_type=PackageType.TXT_DICTIONARY,
            source=PackageSource.from_asset(str(file)),
            domains=[domain] if index < ASSOCIATED else [],
        )
        aws_cdk.CfnOutput(stack, f"P{index:02d}Id", value=package.package_id)
    app.synth()
    return CloudAssembly.load(outdir)


def dictionaries(directory: Path, version: int) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    files = []
    for index in range(PACKAGES):
        path = directory / f"d{index:02d}.txt"
        path.write_text(f"term{index}, word{index}, v{version}\n", encoding="utf-8")
        files.append(path)
    return files


@dataclass
class Samples:
    """What the sampler saw."""

    rules: int = 0
    rule_names: set[str] = field(default_factory=set)
    policy_statements: set[int] = field(default_factory=set)
    policy_bytes: int = 0
    count: int = 0


class Sampler:
    """Samples EventBridge rules and the functions' policies in a thread, every ``interval`` s."""

    def __init__(self, aws: LocalAws, interval: float = 0.5) -> None:
        self._aws = aws
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="load-sampler", daemon=True)
        self.samples = Samples()
        self.error: BaseException | None = None

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        events = self._aws.client("events")
        lambda_client = self._aws.client("lambda")
        try:
            while not self._stop.wait(self._interval):
                names = [r["Name"] for r in events.list_rules()["Rules"]]
                self.samples.rules = max(self.samples.rules, len(names))
                self.samples.rule_names |= set(names)
                for function in self._aws.runner.functions():
                    try:
                        policy = lambda_client.get_policy(FunctionName=function.name)["Policy"]
                    except lambda_client.exceptions.ResourceNotFoundException:
                        continue
                    self.samples.policy_statements.add(len(json.loads(policy)["Statement"]))
                    self.samples.policy_bytes = max(self.samples.policy_bytes, len(policy))
                self.samples.count += 1
        except BaseException as error:  # reported by the test
            self.error = error


def busy_overlap(aws: LocalAws, domain: str) -> tuple[int, int]:
    """How many package operations (ASSOCIATING/DISSOCIATING) the domain ran, and the most it
    ran at one time."""
    assert aws.opensearch is not None
    edges: list[tuple[float, int]] = []
    started: dict[str, float] = {}
    for transition in aws.opensearch.transitions():
        if transition.kind != "association" or transition.domain_name != domain:
            continue
        key = transition.package_id
        if transition.from_status in BUSY and key in started:
            edges.append((transition.t, -1))
            edges.append((started.pop(key), +1))
        if transition.to_status in BUSY:
            started[key] = transition.t
    assert not started, f"operations still running on {domain}: {started}"
    peak = current = 0
    for _, step in sorted(edges):  # at equal times an end (-1) sorts before a start (+1)
        current += step
        peak = max(peak, current)
    return len(edges) // 2, peak


def test_25_packages_created_updated_and_deleted_at_once(aws: LocalAws, tmp_path: Path) -> None:
    assert aws.opensearch is not None
    aws.runner.timeout_override = HAND_OVER_QUICKLY
    aws.opensearch.timeline = Timeline.from_mapping(LOAD_TIMELINE)
    calls_before = len(aws.opensearch.calls())
    t0 = aws.opensearch.clock.monotonic()
    stack = f"Load{uuid.uuid4().hex[:8]}"
    v1, v2 = dictionaries(tmp_path / "v1", 1), dictionaries(tmp_path / "v2", 2)

    with Sampler(aws) as sampler:
        created = aws.cloudformation.deploy(synth(tmp_path / "o1", stack, v1), stack)
        assert created.status == "CREATE_COMPLETE", created.describe()
        (function,) = [
            r for r in created.resources.values() if r.resource_type == "AWS::Lambda::Function"
        ]
        prefix = function.properties["Environment"]["Variables"]["OSP_RULE_PREFIX"]
        ids = {created.outputs[f"P{i:02d}Id"] for i in range(PACKAGES)}
        assert len(ids) == PACKAGES
        assert len([p for p in aws.opensearch.packages() if p["PackageID"] in ids]) == PACKAGES

        # The update and the delete wait in process (the long waits at scale: the create).
        aws.runner.timeout_override = None
        updated = aws.cloudformation.deploy(synth(tmp_path / "o2", stack, v2), stack)
        assert updated.status == "UPDATE_COMPLETE", updated.describe()
        assert {updated.outputs[f"P{i:02d}Id"] for i in range(PACKAGES)} == ids
        versions = {p["PackageID"]: p["AvailablePackageVersion"] for p in aws.opensearch.packages()}
        assert {versions[i] for i in ids} == {"v2"}
        active = {
            a["PackageID"]: a["PackageVersion"]
            for a in aws.opensearch.associations()
            if a["DomainName"] == DOMAIN and a["DomainPackageStatus"] == "ACTIVE"
        }
        assert len(active) == ASSOCIATED and set(active.values()) == {"v2"}

        deleted = aws.cloudformation.delete(stack)
        assert deleted.status == "DELETE_COMPLETE", deleted.describe()
        aws.runner.wait_idle(60)
    assert sampler.error is None, sampler.error
    samples = sampler.samples
    assert samples.count > 10

    # Polling rules: many at once, one per pending request at most (each request names its
    # rule), the provider's prefix, every one removed.
    creates = [
        r
        for r in aws.cloudformation.custom_requests(stack_name=stack)
        if r["RequestType"] == "Create"
    ]
    assert 1 < samples.rules <= len(samples.rule_names) <= len(creates) < RULES_PER_BUS
    assert all(name.startswith(prefix) and len(name) <= 64 for name in samples.rule_names)
    assert aws.scheduler.deliveries() and not aws.scheduler.errors()
    # The function's policy never grew: the one statement of the stack's permission.
    assert samples.policy_statements == {1}
    assert samples.policy_bytes < POLICY_LIMIT_BYTES / 20

    # The domain: one operation per deployment (associate, the new versions, dissociate, each
    # a batch of every associated package), one at a time, never refused.
    operations = [
        op for op in aws.opensearch.domain_operations() if op.domain_name == DOMAIN and op.t >= t0
    ]
    assert [len(op.package_ids) for op in operations] == [ASSOCIATED] * 3
    assert all(first.until <= then.t for first, then in itertools.pairwise(operations))
    assert busy_overlap(aws, DOMAIN) == (3 * ASSOCIATED, ASSOCIATED)
    calls = aws.opensearch.calls()[calls_before:]
    assert not [c for c in calls if c.error_code == "ConflictException"]
    assert not [c for c in calls if c.error_code == "LimitExceededException"]
    assert len([c for c in calls if c.operation == "CreatePackage" and c.status == 200]) == PACKAGES
    assert len([c for c in calls if c.operation == "UpdatePackage" and c.status == 200]) == PACKAGES
    assert aws.inventory().orphans() == {}
