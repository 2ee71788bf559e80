"""A domain engine upgrade with a custom plugin, end to end on the local emulation.

AWS's upgrade guide for domains with custom plugins: create a ZIP-PLUGIN package with the SAME
name for the new engine version BEFORE upgrading the domain (a plugin package of another name
makes the upgrade's blue/green deployment fail); the upgrade then runs the new package. With
this library that is two deployments:

1. prepare: add an ``OpenSearchPackage`` for the new engine version with the same
   ``package_name`` (plugin names are unique per engine version), not associated;
2. upgrade: raise the domain's engine version, associate the new package instead of the old
   one and drop the old package. CloudFormation upgrades the domain first (the new association
   depends on it), then associates the new package (already ACTIVE: the upgrade moved the
   domain to it), and in its clean-up dissociates (nothing left to dissociate) and deletes the
   old package.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from pathlib import Path

from e2e_support import FIXTURES

from cdk_opensearch_packages.local.aws.env import LocalAws
from cdk_opensearch_packages.local.cloudformation.assembly import CloudAssembly

HELLO = FIXTURES.parent.parent / "fixtures" / "files" / "plugins" / "hello"
DOMAIN = "upgrades"
NAME = "hello-plugin"


def _plugin_zip(directory: Path, engine: str) -> Path:
    """The ``hello`` fixture plugin built for ``engine`` (e.g. ``2.17``)."""
    jar = io.BytesIO()
    with zipfile.ZipFile(jar, "w") as archive:
        archive.writestr("org/example/hello/HelloPlugin.class", b"\xca\xfe\xba\xbe")
    descriptor = (HELLO / "plugin-descriptor.properties").read_text(encoding="utf-8")
    path = directory / f"hello-{engine}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "plugin-descriptor.properties",
            descriptor.replace("opensearch.version=2.19.0", f"opensearch.version={engine}.0"),
        )
        archive.writestr("hello-1.0.0.jar", jar.getvalue())
    return path


def _synth(
    outdir: Path, stack_name: str, directory: Path, *, domain_engine: str, plugins: dict[str, bool]
) -> CloudAssembly:
    """A domain on ``domain_engine`` and one plugin package per engine version in ``plugins``
    (all named NAME), associated with the domain when the value is true."""
    import aws_cdk
    from aws_cdk import aws_opensearchservice

    from cdk_opensearch_packages import OpenSearchPackage, PackageSource, PackageType

    app = aws_cdk.App(outdir=str(outdir))
    stack = aws_cdk.Stack(app, stack_name)
    domain = aws_opensearchservice.Domain(
        stack,
        "Domain",
        domain_name=DOMAIN,
        version=aws_opensearchservice.EngineVersion.open_search(domain_engine),
        removal_policy=aws_cdk.RemovalPolicy.DESTROY,
    )
    for engine, associated in plugins.items():
        package = OpenSearchPackage(
            stack,
            f"Hello{engine.replace('.', '')}",
            package_type=PackageType.ZIP_PLUGIN,
            package_name=NAME,
            engine_version=f"OpenSearch_{engine}",
            source=PackageSource.from_asset(str(_plugin_zip(directory, engine))),
        )
        aws_cdk.CfnOutput(stack, f"Id{engine.replace('.', '')}", value=package.package_id)
        if associated:
            package.associate(domain)
    app.synth()
    return CloudAssembly.load(outdir)


def test_an_engine_upgrade_moves_the_domain_to_the_plugin_package_of_the_new_version(
    aws: LocalAws, tmp_path: Path
) -> None:
    assert aws.opensearch is not None
    stack = f"Upgrade{uuid.uuid4().hex[:8]}"

    prepared = aws.cloudformation.deploy(
        _synth(
            tmp_path / "o1",
            stack,
            tmp_path,
            domain_engine="2.17",
            plugins={"2.17": True, "2.19": False},
        ),
        stack,
    )

    assert prepared.status == "CREATE_COMPLETE", prepared.describe()
    old, new = prepared.outputs["Id217"], prepared.outputs["Id219"]
    named = {p["PackageID"]: p for p in aws.opensearch.packages() if p["PackageName"] == NAME}
    assert {i: p["EngineVersion"] for i, p in named.items()} == {
        old: "OpenSearch_2.17",
        new: "OpenSearch_2.19",
    }

    upgraded = aws.cloudformation.deploy(
        _synth(tmp_path / "o2", stack, tmp_path, domain_engine="2.19", plugins={"2.19": True}),
        stack,
    )

    assert upgraded.status == "UPDATE_COMPLETE", upgraded.describe()
    assert aws.opensearch.domains()[0]["EngineVersion"] == "OpenSearch_2.19"
    on_domain = {
        a["PackageID"]: a["DomainPackageStatus"]
        for a in aws.opensearch.associations()
        if a["DomainName"] == DOMAIN
    }
    assert on_domain == {new: "ACTIVE"}
    assert old not in {p["PackageID"] for p in aws.opensearch.packages()}

    deleted = aws.cloudformation.delete(stack)
    assert deleted.status == "DELETE_COMPLETE", deleted.describe()
    aws.runner.wait_idle(30)
    assert aws.inventory().orphans() == {}
