"""Deploy time of one domain's packages: domain operations and wall time per phase.

The scenario (issue 14): one domain, two synonym dictionaries, a third-party plugin with its
license and configuration packages. Three phases, each a CloudFormation operation on the local
emulation: **create** the stack, **update** both dictionaries (new files), **delete** the stack.
Per phase: the number of domain operations the emulated service ran (each AssociatePackage or
DissociatePackage is one; an AssociatePackages/DissociatePackages batch is one, or one per
package when the emulation is switched to ``per-package``), how long the domain was busy with
package operations, and the stack operation's wall time.

The emulated service's phases are real-world durations scaled by :data:`SCALE` (see
:data:`REAL_SECONDS` for the values and their sources); Lambda start-up, CloudFormation's
steps and the provider's polling are not scaled, so the scaled-back wall time is an upper bound.

The same module measures today's design and the one before (the app is written with whichever
``associate`` API the installed library has): ``python bench/deploy_time.py --out FILE``.
:func:`terraform_model` gives Terraform's per-resource associations, chained (no model of
prerequisites: ``aws_opensearch_package_association`` has no such argument).
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import as ``bench``
    _HERE = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
    for _path in (_HERE.parent / "constructs", _HERE.parent / "lambda", _HERE.parent):
        if str(_path) not in sys.path:
            sys.path.insert(0, str(_path))

import argparse
import inspect
import io
import json
import subprocess
import tempfile
import time
import uuid
import zipfile
from dataclasses import asdict, dataclass
from typing import Any

from bench.models import terraform_check_times

__all__ = [
    "PHASES",
    "REAL_SECONDS",
    "SCALE",
    "PhaseResult",
    "measure_deploy_time",
    "render_markdown",
    "run_scenario",
    "terraform_model",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
#: The design before issue 14 (one association resource and call per package), measured with
#: this module at the commit it names, before the change.
BEFORE = Path(__file__).resolve().parent / "results" / "deploy_time_before.json"
HELLO = REPO_ROOT / "tests" / "fixtures" / "files" / "plugins" / "hello"
DOMAIN = "bench-packages"
PHASES = ("create", "update", "delete")

#: Real-world phase durations (seconds) the scenario scales, with their sources
#: (the project's service evidence, section 2).
REAL_SECONDS: dict[str, float] = {
    # Dictionary association "~2-3 min to reach Active" in the console (aws/aws-sdk-js#4099).
    "associating": 150.0,
    # Not published: assumed equal to an association (UNVERIFIED).
    "dissociating": 150.0,
    # A plugin's association is a blue/green deployment (custom-packages.html); its duration is
    # not published; AWS's Sudachi sample allows 30 min. 20 min assumed (UNVERIFIED).
    "plugin_associating": 1200.0,
    "plugin_dissociating": 1200.0,
    # A plugin package reached VALIDATION_FAILED about 3 min after CreatedAt in AWS's sample
    # output (custom-plugins.html); COPYING is not published (30 s assumed).
    "copying": 30.0,
    "validating": 180.0,
    "deleting": 30.0,
}
#: Real seconds per real-world second: 20 min last 10 s.
SCALE = 1 / 120
#: EventBridge minute and ServiceTimeout scaling of the local AWS (as the e2e tests).
TIME_SCALE = 1 / 60
#: Terraform's association waiter (terraform-provider-aws
#: ``internal/service/opensearch/package_association.go``): ``Delay: 30 * time.Second``, no
#: ``MinTimeout`` (terraform-plugin-sdk then backs off from 100 ms, doubling, capped at 10 s).
TERRAFORM_ASSOCIATION_DELAY = 30.0


@dataclass(frozen=True)
class PhaseResult:
    """One phase of the scenario.

    :param design: ``batch`` (one resource per domain) or ``per-package`` (one association
        resource per package, the design before issue 14) or ``terraform`` (model).
    :param phase: ``create``, ``update`` or ``delete``.
    :param domain_operations: package operations the domain ran.
    :param busy_seconds: scaled-back seconds the domain spent in package operations.
    :param wall_seconds: real seconds of the stack operation (scaled timelines).
    :param real_world_seconds: ``wall_seconds / SCALE`` (an upper bound, see the module doc).
    :param calls: the domain calls made (operation, package count).
    :param status: the stack's final status.
    :param mode: the emulation's batch mode.
    """

    design: str
    phase: str
    domain_operations: int
    busy_seconds: float
    wall_seconds: float
    real_world_seconds: float
    calls: list[tuple[str, int]]
    status: str
    mode: str = "one-operation"


def _files(directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    for version in (1, 2):
        for name in ("products", "brands"):
            path = directory / f"v{version}" / f"{name}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(
                f"# {name} synonyms, version {version}\nlaptop, notebook{version}\ntv, "
                f"television\n",
                encoding="utf-8",
            )
            files[f"{name}-v{version}"] = path
    jar = io.BytesIO()
    with zipfile.ZipFile(jar, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        archive.writestr("org/example/hello/HelloPlugin.class", b"\xca\xfe\xba\xbe")
    plugin = directory / "hello-1.0.0.zip"
    with zipfile.ZipFile(plugin, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ("plugin-descriptor.properties", "LICENSE.txt"):
            archive.writestr(name, (HELLO / name).read_bytes())
        archive.writestr("hello-1.0.0.jar", jar.getvalue())
    files["plugin"] = plugin
    files["license"] = directory / "license.txt"
    files["license"].write_text("licensed to: bench\nkey: 1234\n", encoding="utf-8")
    files["config"] = directory / "config.json"
    files["config"].write_text('{"greeting": "hello"}\n', encoding="utf-8")
    return files


def synth(outdir: Path, stack_name: str, files: dict[str, Path], version: int) -> Path:
    """Synthesize the scenario's stack (dictionaries at ``version``) with the installed library.

    :return: the assembly directory.
    """
    import aws_cdk
    from aws_cdk import aws_opensearchservice

    from cdk_opensearch_packages import (
        DictionaryKind,
        OpenSearchPackage,
        OpenSearchPackageBase,
        PackageConfiguration,
        PackageSource,
        PackageType,
        RequirementLevel,
    )

    app = aws_cdk.App(outdir=str(outdir))
    stack = aws_cdk.Stack(app, stack_name)
    domain = aws_opensearchservice.Domain(
        stack,
        "Domain",
        domain_name=DOMAIN,
        version=aws_opensearchservice.EngineVersion.OPENSEARCH_2_19,
        removal_policy=aws_cdk.RemovalPolicy.DESTROY,
    )
    for name in ("products", "brands"):
        dictionary = OpenSearchPackage(
            stack,
            name.capitalize(),
            package_type=PackageType.TXT_DICTIONARY,
            source=PackageSource.from_asset(str(files[f"{name}-v{version}"])),
            dictionary_kind=DictionaryKind.SYNONYMS,
        )
        dictionary.associate(domain)
    license_package = OpenSearchPackage(
        stack,
        "License",
        package_type=PackageType.PACKAGE_LICENSE,
        source=PackageSource.from_asset(str(files["license"])),
    )
    config_package = OpenSearchPackage(
        stack,
        "Config",
        package_type=PackageType.PACKAGE_CONFIG,
        source=PackageSource.from_asset(str(files["config"])),
    )
    plugin = OpenSearchPackage(
        stack,
        "Plugin",
        package_type=PackageType.ZIP_PLUGIN,
        source=PackageSource.from_asset(str(files["plugin"])),
        engine_version=aws_opensearchservice.EngineVersion.OPENSEARCH_2_19,
        configuration=PackageConfiguration(
            license_requirement=RequirementLevel.REQUIRED,
            license_filepath="LICENSE.txt",
            configuration_requirement=RequirementLevel.REQUIRED,
        ),
    )
    parameters = inspect.signature(OpenSearchPackageBase.associate).parameters
    associate: Any = plugin.associate
    if "license" in parameters:  # the documented direction (issue 14)
        associate(domain, license=license_package, configuration=config_package)
    else:  # before issue 14: license and configuration as the plugin's prerequisites
        associate(domain, prerequisites=[license_package, config_package])
    app.synth()
    return outdir


def _domain_calls(aws: Any, since: int) -> list[tuple[str, int]]:
    calls = []
    for call in aws.opensearch.calls()[since:]:
        params = call.params or {}
        if call.operation in ("AssociatePackage", "DissociatePackage") and call.applied:
            calls.append((call.operation, 1))
        elif call.operation in ("AssociatePackages", "DissociatePackages") and call.applied:
            calls.append((call.operation, len(params.get("PackageList") or [])))
    return calls


def _domain_operations(aws: Any, since_t: float, calls: list[tuple[str, int]]) -> int:
    counter = getattr(aws.opensearch, "domain_operations", None)
    if counter is None:  # the emulation before issue 14: one operation per call
        return len(calls)
    return len([op for op in counter() if op.t >= since_t and op.domain_name == DOMAIN])


def _busy_seconds(aws: Any, since_t: float) -> float:
    """Seconds (scaled back) during which some package of the domain was (dis)associating."""
    spans: list[tuple[float, float]] = []
    started: dict[str, float] = {}
    for item in aws.opensearch.transitions():
        if item.kind != "association" or item.domain_name != DOMAIN or item.t < since_t:
            continue
        if item.to_status in ("ASSOCIATING", "DISSOCIATING"):
            started.setdefault(item.package_id, item.t)
        elif item.package_id in started:
            spans.append((started.pop(item.package_id), item.t))
    spans.sort()
    total, end = 0.0, float("-inf")
    for begin, finish in spans:
        if finish <= end:
            continue
        total += finish - max(begin, end)
        end = finish
    return total / SCALE


def run_scenario(design: str, mode: str = "one-operation") -> list[PhaseResult]:
    """Run create, update, delete on a fresh local AWS and measure each phase.

    :param design: the label of the installed library's design (``batch`` / ``per-package``).
    :param mode: the emulation's batch mode, when it has one.
    """
    from cdk_opensearch_packages.local.aws.env import LocalAws
    from cdk_opensearch_packages.local.opensearch.api import Timeline

    timeline = Timeline.from_mapping(REAL_SECONDS).scaled(SCALE)
    results: list[PhaseResult] = []
    with (
        tempfile.TemporaryDirectory(prefix="osp-deploy-time-") as tmp,
        LocalAws(time_scale=TIME_SCALE, opensearch_timeline=timeline) as aws,
    ):
        assert aws.opensearch is not None
        if hasattr(aws.opensearch, "batch_mode"):  # the emulation before issue 14 had none
            aws.opensearch.batch_mode = mode
        files = _files(Path(tmp) / "files")
        stack = f"DeployTime{uuid.uuid4().hex[:6]}"
        assemblies = {
            "create": synth(Path(tmp) / "o1", stack, files, 1),
            "update": synth(Path(tmp) / "o2", stack, files, 2),
        }
        for phase in PHASES:
            since = len(aws.opensearch.calls())
            since_t = aws.opensearch.clock.monotonic()
            begin = time.perf_counter()
            if phase == "delete":
                result = aws.cloudformation.delete(stack)
            else:
                result = aws.cloudformation.deploy(assemblies[phase], stack)
            wall = time.perf_counter() - begin
            aws.runner.wait_idle(30)
            calls = _domain_calls(aws, since)
            results.append(
                PhaseResult(
                    design=design,
                    phase=phase,
                    domain_operations=_domain_operations(aws, since_t, calls),
                    busy_seconds=round(_busy_seconds(aws, since_t), 1),
                    wall_seconds=round(wall, 2),
                    real_world_seconds=round(wall / SCALE, 0),
                    calls=calls,
                    status=result.status,
                    mode=mode,
                )
            )
            if not result.succeeded:
                raise RuntimeError(f"{phase} failed: {result.describe()}")
    return results


def _terraform_wait(duration: float, api_call: float = 0.3) -> float:
    """When Terraform's association waiter sees a status that ended after ``duration``."""
    checks = terraform_check_times(
        api_call,
        api_call,
        delay=TERRAFORM_ASSOCIATION_DELAY,
        min_timeout=0.0,
        until=duration + 3600,
    )
    return next(moment for moment in checks if moment >= duration) + api_call


def terraform_model() -> list[PhaseResult]:
    """Terraform: one ``aws_opensearch_package_association`` per package, chained with
    ``depends_on`` (a domain runs one package operation at a time); a new dictionary version
    reaches the domain only by replacing its association (``replace_triggered_by``):
    dissociate, then associate."""
    dictionary, plugin = REAL_SECONDS["associating"], REAL_SECONDS["plugin_associating"]
    leave, plugin_leave = REAL_SECONDS["dissociating"], REAL_SECONDS["plugin_dissociating"]
    phases = {
        "create": [dictionary, dictionary, dictionary, dictionary, plugin],
        "update": [leave, dictionary, leave, dictionary],
        "delete": [leave, leave, leave, leave, plugin_leave],
    }
    return [
        PhaseResult(
            design="terraform (model)",
            phase=phase,
            domain_operations=len(durations),
            busy_seconds=sum(durations),
            wall_seconds=0.0,
            real_world_seconds=round(sum(_terraform_wait(d) for d in durations), 0),
            calls=[],
            status="model",
            mode="-",
        )
        for phase, durations in phases.items()
    ]


def _rows(phases: list[dict[str, Any]]) -> list[list[str]]:
    return [
        [
            str(p["design"]),
            str(p["mode"]),
            str(p["phase"]),
            str(p["domain_operations"]),
            f"{p['busy_seconds']:.0f}",
            f"{p['wall_seconds']:.1f}" if p["wall_seconds"] else "-",
            f"{p['real_world_seconds']:.0f}",
        ]
        for p in phases
    ]


def render_markdown(payload: dict[str, Any]) -> str:
    """The report of :func:`measure_deploy_time`'s payload."""
    header = [
        "design",
        "batch mode",
        "phase",
        "domain operations",
        "domain busy (s, real-world)",
        "wall (s, scaled)",
        "wall scaled back (s)",
    ]
    rows = _rows(payload["phases"])
    lines = [
        "# Deploy time of one domain's packages",
        "",
        "One domain, two synonym dictionaries, a third-party plugin with its license and "
        "configuration: create the stack, update both dictionaries, delete the stack "
        "(`bench/deploy_time.py`).",
        "",
        f"Emulated phases scaled by {payload['scale']:.5f} from these real-world seconds "
        "(sources in `bench/deploy_time.py`, service evidence section 2): "
        + ", ".join(f"{k} {v:.0f}" for k, v in payload["real_seconds"].items())
        + ".",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
        f"Before: measured at commit {payload.get('before_commit', '?')} (one "
        "Custom::OpenSearchPackageAssociation and one AssociatePackage per package). Terraform: "
        "a model (one `aws_opensearch_package_association` per package, chained; its waiter's "
        "30 s delay and backoff), no measurement.",
        "",
    ]
    return "\n".join(lines)


def measure_deploy_time(out_dir: Path) -> dict[str, Any]:
    """Run the scenario under both batch modes, add the earlier design's measurement and the
    Terraform model; write ``DEPLOY_TIME.md`` and ``deploy_time.json`` into ``out_dir``."""
    phases = [asdict(row) for row in run_scenario("batch", "one-operation")]
    phases += [asdict(row) for row in run_scenario("batch", "per-package")]
    before: dict[str, Any] = {}
    if BEFORE.exists():
        before = json.loads(BEFORE.read_text(encoding="utf-8"))
        phases += [{**row, "design": "per-package resources (before)"} for row in before["phases"]]
    phases += [asdict(row) for row in terraform_model()]
    payload = {
        "scale": SCALE,
        "real_seconds": REAL_SECONDS,
        "before_commit": before.get("commit", "?"),
        "phases": phases,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "deploy_time.json").write_text(json.dumps(payload, indent=1) + "\n", "utf-8")
    (out_dir / "DEPLOY_TIME.md").write_text(render_markdown(payload), "utf-8")
    return payload


def main(argv: list[str] | None = None) -> int:
    """Run the scenario and write the results as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--design", default="batch")
    parser.add_argument("--mode", default="one-operation")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
    ).stdout.strip()
    rows = [asdict(row) for row in run_scenario(args.design, args.mode)]
    payload = {"commit": commit, "scale": SCALE, "real_seconds": REAL_SECONDS, "phases": rows}
    text = json.dumps(payload, indent=1)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
