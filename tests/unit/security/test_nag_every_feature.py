"""Least privilege of a stack that uses every feature, checked by the tools users trust.

- cdk-nag 3.0.2 runs as a CDK validation plugin (``Validations.of(app).add_plugins(...)``): a
  finding nobody acknowledged makes ``app.synth()`` raise ``ValidationFailed`` (whatever the
  rule's level) and the plugin's violations are written to ``validation-report.json`` in the
  output directory. The every-feature stack synthesizes, and its report holds no violation.
- Every acknowledgment is needed (without them cdk-nag reports exactly the acknowledged findings),
  sits on the construct whose resource it covers (never on the app or the stack), and gives its
  reason.
- cfn-lint (as ``cfn-lint <template>`` runs it, in every Region it knows) reports nothing.
- The provider role may do exactly what the handler needs, on exactly the resources it works on.
- The template has no dependency cycle; no policy names the provider function (a function's own
  ARN in its role's policy is the usual cause of a cycle); EventBridge may invoke the function
  only from rules named with the provider's prefix, through one permission.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk
import pytest
from cfnlint.api import REGIONS, ManualArgs, lint_file  # type: ignore[import-untyped]
from security_stacks import (
    NAMED_DOMAIN,
    SOURCE_BUCKET,
    SOURCE_KEY,
    STACK_NAME,
    EveryFeature,
    synth_every_feature,
)

from cdk_opensearch_packages.provider import (
    DOMAIN_ACTIONS,
    KMS_ACTIONS,
    PACKAGE_ACTIONS,
    RULE_ACTIONS,
)

ACKNOWLEDGED = aws_cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
PARTITION = "${AWS::Partition}"
REGION = "${AWS::Region}"
ACCOUNT = "${AWS::AccountId}"
INTRINSIC_DEPENDENCIES = ("Ref", "Fn::GetAtt", "Fn::Sub")


# -- rendering the template's intrinsic functions as text ---------------------------------------


def render(value: Any) -> str:
    """Render a template value as text: ``Ref X`` -> ``${X}``, ``GetAtt [X, A]`` -> ``${X.A}``,
    ``Join ["", parts]`` -> the parts joined, ``Sub "s"`` -> ``s`` (same ``${...}`` notation)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Ref":
            return f"${{{argument}}}"
        if function == "Fn::GetAtt":
            return "${" + ".".join(argument) + "}"
        if function == "Fn::Join":
            delimiter, parts = argument
            return str(delimiter).join(render(part) for part in parts)
        if function == "Fn::Sub" and isinstance(argument, str):
            return argument
    raise AssertionError(f"unexpected template value {value!r}")


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def provider_statements(every_feature: EveryFeature) -> list[dict[str, Any]]:
    """Every statement of every policy the provider role holds (inline, attached or managed)."""
    role_id = every_feature.logical_id(every_feature.provider.role)
    statements: list[dict[str, Any]] = []
    role = every_feature.template["Resources"][role_id]["Properties"]
    for inline in role.get("Policies", []):
        statements += inline["PolicyDocument"]["Statement"]
    for resource_type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for policy in every_feature.resources(resource_type).values():
            properties = policy["Properties"]
            if {"Ref": role_id} in properties.get("Roles", []):
                statements += properties["PolicyDocument"]["Statement"]
    return statements


def resources_of(statements: list[dict[str, Any]], actions: tuple[str, ...]) -> set[str]:
    """The rendered resources of the statements whose actions are all in ``actions``."""
    found: set[str] = set()
    for statement in statements:
        if set(as_list(statement["Action"])) <= set(actions):
            found |= {render(resource) for resource in as_list(statement["Resource"])}
    return found


def child_id(every_feature: EveryFeature, construct_id: str) -> str:
    """The logical id of the resource of a construct at the stack's top level."""
    return every_feature.logical_id(every_feature.stack.node.find_child(construct_id))


def custom_properties(every_feature: EveryFeature, resource_type: str) -> list[dict[str, Any]]:
    return [r["Properties"] for r in every_feature.resources(resource_type).values()]


# -- cdk-nag -------------------------------------------------------------------------------------


def test_cdk_nag_reports_no_finding(every_feature: EveryFeature) -> None:
    # The fixture's app.synth() raises ValidationFailed on any unacknowledged finding; the report
    # it writes says the same.
    report = json.loads((every_feature.outdir / "validation-report.json").read_text())
    violations = [
        violation
        for plugin in report["pluginReports"]
        for violation in plugin.get("violations", [])
    ]
    assert violations == []
    assert all(plugin["conclusion"] == "success" for plugin in report["pluginReports"])


def test_an_unacknowledged_finding_fails_the_synth(tmp_path: Path) -> None:
    """The check above can fail: a finding cdk-nag reports stops the synth and is reported."""
    from aws_cdk import aws_iam
    from cdk_nag import AwsSolutionsChecks

    app = aws_cdk.App(outdir=str(tmp_path / "cdk.out"))
    stack = aws_cdk.Stack(app, "Leaky")
    role = aws_iam.Role(stack, "Role", assumed_by=aws_iam.ServicePrincipal("lambda.amazonaws.com"))
    role.add_to_policy(aws_iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"]))
    aws_cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))

    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()

    report = json.loads((tmp_path / "cdk.out" / "validation-report.json").read_text())
    rules = {v["ruleName"] for p in report["pluginReports"] for v in p["violations"]}
    assert "AwsSolutions-IAM5[Resource::*]" in rules


def test_cdk_nag_env_specific_stack_reports_no_finding(tmp_path: Path) -> None:
    """Concrete account and Region change how ARNs (and so finding ids) read."""
    env = aws_cdk.Environment(account="123456789012", region="eu-west-1")
    synthesized = synth_every_feature(tmp_path / "cdk.out", tmp_path, env=env)  # raises if not
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    assert report["pluginReports"] == []
    assert lint_file(synthesized.template_file) == []


def _acknowledgments(root: Any) -> list[tuple[str, str, str]]:
    """``(construct path, rule id, reason)`` of every acknowledgment in the construct tree."""
    found = []
    for construct in root.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == ACKNOWLEDGED:
                for key, reason in dict(entry.data).items():
                    rule = key.split("::", 1)[1] if key.lower().startswith("annotation::") else key
                    found.append((construct.node.path, rule, str(reason)))
    return found


def test_every_acknowledgment_sits_on_its_resource_with_a_reason(
    every_feature: EveryFeature,
) -> None:
    acknowledgments = _acknowledgments(every_feature.stack.node.root)
    assert acknowledgments
    for path, rule, reason in acknowledgments:
        assert path not in ("", STACK_NAME), f"{rule} acknowledged for the whole app/stack"
        assert len(reason) >= 30, f"{path}: {rule} has no real reason: {reason!r}"
    library = [a for a in acknowledgments if a[0].startswith(f"{STACK_NAME}/OpenSearchPackage")]
    # The library acknowledges only the provider's two unavoidable wildcards, on its policy.
    assert {(path, rule.split("[")[0]) for path, rule, _ in library} == {
        (f"{STACK_NAME}/OpenSearchPackageProvider/Role/DefaultPolicy", "AwsSolutions-IAM5")
    }
    assert len(library) == 2


def test_every_acknowledgment_is_needed(
    every_feature: EveryFeature, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the acknowledgments cdk-nag reports exactly the acknowledged findings, each on
    a resource under the construct that acknowledges it (no stale or too broad acknowledgment)."""
    acknowledged = {
        (path, rule) for path, rule, _ in _acknowledgments(every_feature.stack.node.root)
    }
    monkeypatch.setattr(aws_cdk.Validations, "acknowledge", lambda self, *rules: None)

    with pytest.raises(RuntimeError, match="ValidationFailed"):
        synth_every_feature(tmp_path / "cdk.out", tmp_path)

    report = json.loads((tmp_path / "cdk.out" / "validation-report.json").read_text())
    findings = {
        (construct["constructPath"], violation["ruleName"])
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    }
    covered = {
        (path, rule)
        for path, rule in findings
        for ack_path, ack_rule in acknowledged
        if rule == ack_rule and (path == ack_path or path.startswith(ack_path + "/"))
    }
    assert covered == findings, f"findings nothing acknowledges: {findings - covered}"
    used = {
        (ack_path, ack_rule)
        for ack_path, ack_rule in acknowledged
        for path, rule in findings
        if rule == ack_rule and (path == ack_path or path.startswith(ack_path + "/"))
    }
    assert used == acknowledged, f"acknowledgments no finding needs: {acknowledged - used}"


# -- cfn-lint ------------------------------------------------------------------------------------


def test_cfn_lint_reports_nothing_in_any_region(every_feature: EveryFeature) -> None:
    matches = lint_file(every_feature.template_file, config=ManualArgs(regions=REGIONS))
    assert [str(match) for match in matches] == []


def test_cfn_lint_would_report_a_problem(every_feature: EveryFeature, tmp_path: Path) -> None:
    """The check above can fail: the same template with a redundant DependsOn is reported."""
    template = json.loads(json.dumps(every_feature.template))
    function_id = every_feature.logical_id(every_feature.provider.function)
    role_id = every_feature.logical_id(every_feature.provider.role)
    template["Resources"][function_id]["DependsOn"] = [role_id]
    broken = tmp_path / "broken.template.json"
    broken.write_text(json.dumps(template, indent=1))
    assert [m.rule.id for m in lint_file(broken)] == ["W3005"]


# -- the provider's permissions ------------------------------------------------------------------


def test_provider_actions_are_exactly_what_the_handler_needs(every_feature: EveryFeature) -> None:
    statements = provider_statements(every_feature)
    actions = {action for s in statements for action in as_list(s["Action"])}
    assert actions == {
        *PACKAGE_ACTIONS,
        *DOMAIN_ACTIONS,
        *RULE_ACTIONS,
        *KMS_ACTIONS,
        *LOG_ACTIONS,
        "s3:GetObject",
        "iam:PassRole",
    }
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert set(statement) <= {"Action", "Effect", "Resource", "Condition"}  # no Not*
        assert not [a for a in as_list(statement["Action"]) if "*" in a]
    # Nothing lets the handler change a function's permissions (it never calls AddPermission).
    assert not [a for a in actions if a.startswith("lambda:")]


def test_every_statement_grants_one_kind_of_permission(every_feature: EveryFeature) -> None:
    """So the per-kind checks below see every resource: no statement mixes kinds."""
    kinds = (
        PACKAGE_ACTIONS,
        DOMAIN_ACTIONS,
        RULE_ACTIONS,
        KMS_ACTIONS,
        LOG_ACTIONS,
        ("s3:GetObject",),
        ("iam:PassRole",),
    )
    for statement in provider_statements(every_feature):
        actions = set(as_list(statement["Action"]))
        assert [kind for kind in kinds if actions <= set(kind)], statement


def test_only_package_actions_are_on_star(every_feature: EveryFeature) -> None:
    statements = provider_statements(every_feature)
    on_star = [s for s in statements if "*" in as_list(s["Resource"])]
    assert len(on_star) == 1
    assert as_list(on_star[0]["Resource"]) == ["*"]
    assert sorted(as_list(on_star[0]["Action"])) == sorted(PACKAGE_ACTIONS)
    assert "Condition" not in on_star[0]
    # Every other resource is an ARN without wildcards, except the rule-name prefix.
    for statement in statements:
        for resource in map(render, as_list(statement["Resource"])):
            if resource != "*" and not resource.endswith(
                f":rule/{every_feature.provider.rule_prefix}*"
            ):
                assert "*" not in resource, resource


def test_get_object_on_exactly_the_source_objects(every_feature: EveryFeature) -> None:
    sources = {
        f"arn:{PARTITION}:s3:::{render(p['PackageSource']['S3BucketName'])}/"
        f"{render(p['PackageSource']['S3Key'])}"
        for p in custom_properties(every_feature, "Custom::OpenSearchPackage")
    }
    assert len(sources) == 5  # synonyms, stopwords (bucket), license, config, plugin
    assert f"arn:{PARTITION}:s3:::{SOURCE_BUCKET}/{SOURCE_KEY}" in sources
    statements = provider_statements(every_feature)
    assert resources_of(statements, ("s3:GetObject",)) == sources


def test_domain_actions_on_exactly_the_associated_domains(every_feature: EveryFeature) -> None:
    domains = every_feature.resources("AWS::OpenSearchService::Domain")
    expected = set()
    for properties in custom_properties(every_feature, "Custom::OpenSearchDomainPackages"):
        name = properties["DomainName"]
        if isinstance(name, dict):
            assert name["Ref"] in domains
            expected.add(f"${{{name['Ref']}.Arn}}")
        else:
            expected.add(f"arn:{PARTITION}:es:{REGION}:{ACCOUNT}:domain/{name}")
    assert len(expected) == 2
    assert f"arn:{PARTITION}:es:{REGION}:{ACCOUNT}:domain/{NAMED_DOMAIN}" in expected
    assert resources_of(provider_statements(every_feature), DOMAIN_ACTIONS) == expected


def test_kms_only_on_the_given_keys(every_feature: EveryFeature) -> None:
    statements = provider_statements(every_feature)
    package_keys = {
        render(p["PackageEncryptionOptions"]["KmsKeyIdentifier"])
        for p in custom_properties(every_feature, "Custom::OpenSearchPackage")
        if "PackageEncryptionOptions" in p
    }
    package_key = f"${{{child_id(every_feature, 'PackageKey')}.Arn}}"
    bucket_key = f"${{{child_id(every_feature, 'BucketKey')}.Arn}}"
    assert package_keys == {package_key}
    assert resources_of(statements, KMS_ACTIONS) == {package_key, bucket_key}
    # The source bucket's key may only decrypt (reading the object).
    on_bucket_key = [
        s for s in statements if bucket_key in {render(r) for r in as_list(s["Resource"])}
    ]
    assert [s["Action"] for s in on_bucket_key] == ["kms:Decrypt"]


def test_pass_role_only_for_the_key_store_role_to_opensearch(every_feature: EveryFeature) -> None:
    roles = {
        render(entry["AssociationConfiguration"]["KeyStoreAccessOption"]["KeyAccessRoleArn"])
        for p in custom_properties(every_feature, "Custom::OpenSearchDomainPackages")
        for entry in p["PackageList"]
        if "AssociationConfiguration" in entry
    }
    assert roles == {f"${{{child_id(every_feature, 'KeyStoreRole')}.Arn}}"}
    (statement,) = [
        s for s in provider_statements(every_feature) if "iam:PassRole" in as_list(s["Action"])
    ]
    assert as_list(statement["Action"]) == ["iam:PassRole"]
    assert {render(r) for r in as_list(statement["Resource"])} == roles
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "es.amazonaws.com"}}


def test_logs_only_to_the_provider_log_group(every_feature: EveryFeature) -> None:
    function = every_feature.template["Resources"][
        every_feature.logical_id(every_feature.provider.function)
    ]
    log_group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    assert every_feature.template["Resources"][log_group]["Type"] == "AWS::Logs::LogGroup"
    statements = provider_statements(every_feature)
    assert resources_of(statements, LOG_ACTIONS) == {f"${{{log_group}.Arn}}"}
    role = every_feature.template["Resources"][
        every_feature.logical_id(every_feature.provider.role)
    ]
    assert "ManagedPolicyArns" not in role["Properties"]


def test_rule_actions_and_invoke_permission_only_for_the_prefix(
    every_feature: EveryFeature,
) -> None:
    resources = every_feature.template["Resources"]
    function_id = every_feature.logical_id(every_feature.provider.function)
    prefix = resources[function_id]["Properties"]["Environment"]["Variables"]["OSP_RULE_PREFIX"]
    assert prefix == every_feature.provider.rule_prefix
    assert prefix.startswith("osp-")
    rule_pattern = f"arn:{PARTITION}:events:{REGION}:{ACCOUNT}:rule/{prefix}*"

    assert resources_of(provider_statements(every_feature), RULE_ACTIONS) == {rule_pattern}

    permissions = every_feature.resources("AWS::Lambda::Permission")
    assert len(permissions) == 1, "one permission, whatever the number of packages"
    (permission,) = (p["Properties"] for p in permissions.values())
    assert permission["Principal"] == "events.amazonaws.com"
    assert permission["Action"] == "lambda:InvokeFunction"
    assert permission["FunctionName"] == {"Fn::GetAtt": [function_id, "Arn"]}
    assert render(permission["SourceArn"]) == rule_pattern
    assert permission["SourceAccount"] == {"Ref": "AWS::AccountId"}


# -- dependencies --------------------------------------------------------------------------------


def _references(value: Any) -> set[str]:
    """Logical ids (and pseudo parameters) a template value refers to."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, argument in value.items():
            if key == "Ref":
                found.add(str(argument))
            elif key == "Fn::GetAtt":
                found.add(str(argument[0]))
            elif key == "Fn::Sub":
                text = argument if isinstance(argument, str) else argument[0]
                found |= {v.split(".")[0] for v in _sub_variables(text)}
                if not isinstance(argument, str):
                    found |= _references(argument[1])
            else:
                found |= _references(argument)
    elif isinstance(value, list):
        for item in value:
            found |= _references(item)
    return found


def _sub_variables(text: str) -> list[str]:
    variables = []
    for chunk in text.split("${")[1:]:
        name = chunk.split("}", 1)[0]
        if not name.startswith("!"):
            variables.append(name)
    return variables


def test_no_policy_names_the_provider_function(every_feature: EveryFeature) -> None:
    function_id = every_feature.logical_id(every_feature.provider.function)
    for policy in every_feature.resources("AWS::IAM::Policy").values():
        assert function_id not in _references(policy["Properties"])
    role = every_feature.template["Resources"][
        every_feature.logical_id(every_feature.provider.role)
    ]
    assert function_id not in _references(role["Properties"])


def test_the_template_has_no_dependency_cycle(every_feature: EveryFeature) -> None:
    resources = every_feature.template["Resources"]
    edges = {
        logical_id: (
            (
                _references(resource.get("Properties", {}))
                | set(as_list(resource.get("DependsOn", [])))
            )
            & set(resources)
        )
        for logical_id, resource in resources.items()
    }
    done: set[str] = set()
    while len(done) < len(edges):
        ready = {node for node, needs in edges.items() if node not in done and needs <= done}
        assert ready, f"cycle among {sorted(set(edges) - done)}"
        done |= ready
    # The function comes after its role's policy; custom resources after the invoke permission.
    function_id = every_feature.logical_id(every_feature.provider.function)
    policy_id = every_feature.logical_id(every_feature.provider.policy)
    assert policy_id in edges[function_id]
    permission_id = next(iter(every_feature.resources("AWS::Lambda::Permission")))
    for logical_id, resource in resources.items():
        if resource["Type"].startswith("Custom::"):
            assert function_id in edges[logical_id]
            assert permission_id in edges[logical_id]
