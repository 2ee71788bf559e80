"""A plugin with its license package, end to end on the local emulation.

AWS requires a plugin's prerequisites to be associated with the domain before the plugin
(PrerequisitePackageIDList): ``associate(domain, prerequisites=[...])`` associates the license
first, dissociates it last, and rolls a new license version out to the domain.
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
DOMAIN = "plugins"


def _plugin_zip(directory: Path) -> Path:
    """The ``hello`` fixture plugin: its descriptor, LICENSE.txt and a jar with its class."""
    jar = io.BytesIO()
    with zipfile.ZipFile(jar, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        archive.writestr("org/example/hello/HelloPlugin.class", b"\xca\xfe\xba\xbe")
    path = directory / "hello-1.0.0.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ("plugin-descriptor.properties", "LICENSE.txt"):
            archive.writestr(name, (HELLO / name).read_bytes())
        archive.writestr("hello-1.0.0.jar", jar.getvalue())
    return path


def _synth(outdir: Path, stack_name: str, plugin: Path, license_file: Path) -> CloudAssembly:
    import aws_cdk
    from aws_cdk import aws_opensearchservice

    from cdk_opensearch_packages import (
        OpenSearchPackage,
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
    license_package = OpenSearchPackage(
        stack,
        "License",
        package_type=PackageType.PACKAGE_LICENSE,
        source=PackageSource.from_asset(str(license_file)),
    )
    hello = OpenSearchPackage(
        stack,
        "Hello",
        package_type=PackageType.ZIP_PLUGIN,
        source=PackageSource.from_asset(str(plugin)),
        engine_version=aws_opensearchservice.EngineVersion.OPENSEARCH_2_19,
        configuration=PackageConfiguration(
            license_requirement=RequirementLevel.REQUIRED,
            configuration_requirement=RequirementLevel.NONE,
            license_filepath="LICENSE.txt",
        ),
    )
    association = hello.associate(domain, prerequisites=[license_package])
    aws_cdk.CfnOutput(stack, "HelloId", value=hello.package_id)
    aws_cdk.CfnOutput(stack, "LicenseId", value=license_package.package_id)
    aws_cdk.CfnOutput(stack, "HelloVersion", value=association.package_version)
    license_on_domain = license_package.node.find_child("AssociationDomain")
    aws_cdk.CfnOutput(
        stack,
        "LicenseVersion",
        value=license_on_domain.package_version,  # type: ignore[attr-defined]
    )
    app.synth()
    return CloudAssembly.load(outdir)


def _domain_operations(aws: LocalAws, since: int) -> list[tuple[str, str]]:
    assert aws.opensearch is not None
    return [
        (c.operation, str((c.params or {}).get("PackageID")))
        for c in aws.opensearch.calls()[since:]
        if c.operation in ("AssociatePackage", "DissociatePackage") and c.status == 200
    ]


def test_a_plugin_and_its_license_are_associated_in_order_and_updated(
    aws: LocalAws, tmp_path: Path
) -> None:
    assert aws.opensearch is not None
    stack = f"Plugin{uuid.uuid4().hex[:8]}"
    plugin = _plugin_zip(tmp_path)
    license_v1 = tmp_path / "v1" / "license.txt"
    license_v1.parent.mkdir()
    license_v1.write_text("licensed to: search team\nkey: 1111\n", encoding="utf-8")
    license_v2 = tmp_path / "v2" / "license.txt"
    license_v2.parent.mkdir()
    license_v2.write_text("licensed to: search team\nkey: 2222\n", encoding="utf-8")
    calls_before = len(aws.opensearch.calls())

    created = aws.cloudformation.deploy(_synth(tmp_path / "o1", stack, plugin, license_v1), stack)

    assert created.status == "CREATE_COMPLETE", created.describe()
    hello, license_id = created.outputs["HelloId"], created.outputs["LicenseId"]
    assert _domain_operations(aws, calls_before) == [
        ("AssociatePackage", license_id),
        ("AssociatePackage", hello),
    ]
    associated = {
        a["PackageID"]: a for a in aws.opensearch.associations() if a["DomainName"] == DOMAIN
    }
    assert associated[hello]["DomainPackageStatus"] == "ACTIVE"
    assert associated[hello]["PrerequisitePackageIDList"] == [license_id]
    assert associated[license_id]["DomainPackageStatus"] == "ACTIVE"

    calls_before = len(aws.opensearch.calls())
    updated = aws.cloudformation.deploy(_synth(tmp_path / "o2", stack, plugin, license_v2), stack)

    assert updated.status == "UPDATE_COMPLETE", updated.describe()
    assert (created.outputs["LicenseVersion"], updated.outputs["LicenseVersion"]) == ("v1", "v2")
    assert updated.outputs["HelloVersion"] == created.outputs["HelloVersion"]
    # The new license version reached the domain; the plugin was not touched.
    assert _domain_operations(aws, calls_before) == [("AssociatePackage", license_id)]

    calls_before = len(aws.opensearch.calls())
    deleted = aws.cloudformation.delete(stack)

    assert deleted.status == "DELETE_COMPLETE", deleted.describe()
    assert _domain_operations(aws, calls_before) == [
        ("DissociatePackage", hello),
        ("DissociatePackage", license_id),
    ]
    aws.runner.wait_idle(30)
    assert aws.inventory().orphans() == {}
