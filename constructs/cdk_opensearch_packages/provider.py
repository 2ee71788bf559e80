"""The stack-wide provider of packages and associations: one Lambda function and its role."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import aws_cdk
from aws_cdk import aws_iam, aws_lambda, aws_logs
from constructs import Construct

from cdk_opensearch_packages.checks import props
from cdk_opensearch_packages.handler_asset import handler_code

if TYPE_CHECKING:
    from cdk_opensearch_packages.domain_packages import OpenSearchDomainPackages

__all__ = ["OpenSearchPackageProvider"]

PROVIDER_ID = "OpenSearchPackageProvider"
PACKAGE_ACTIONS = (
    "es:CreatePackage",
    "es:DeletePackage",
    "es:DescribePackages",
    "es:GetPackageVersionHistory",
    "es:ListDomainsForPackage",
    "es:UpdatePackage",
)
#: Sharing a package with other accounts (no resource-level permissions either); granted only
#: to a provider whose stack has a vended package.
SCOPE_ACTIONS = ("es:UpdatePackageScope",)
DOMAIN_ACTIONS = ("es:AssociatePackages", "es:DissociatePackages", "es:ListPackagesForDomain")
RULE_ACTIONS = (
    "events:DeleteRule",
    "events:PutRule",
    "events:PutTargets",
    "events:RemoveTargets",
)
#: Using a package encryption key (and reading a source object encrypted with it).
KMS_KEY_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey")
#: OpenSearch Service creates a grant on the key on the caller's behalf; the handler never
#: calls CreateGrant itself, so it is allowed only for AWS resources
#: (``kms:GrantIsForAWSResource``).
KMS_GRANT_ACTIONS = ("kms:CreateGrant",)
KMS_ACTIONS = (*KMS_GRANT_ACTIONS, *KMS_KEY_ACTIONS)


def kms_statements(resources: list[str]) -> list[aws_iam.PolicyStatement]:
    """The statements that let the provider encrypt packages with the keys ``resources``."""
    return [
        aws_iam.PolicyStatement(actions=list(KMS_KEY_ACTIONS), resources=resources),
        aws_iam.PolicyStatement(
            actions=list(KMS_GRANT_ACTIONS),
            resources=resources,
            conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
        ),
    ]


_MINIMIZE_POLICIES = "@aws-cdk/aws-iam:minimizePolicies"


class OpenSearchPackageProvider(Construct):
    """The Lambda-backed provider of ``Custom::OpenSearchPackage``,
    ``Custom::OpenSearchDomainPackages`` and ``Custom::OpenSearchPackageLookup`` (one per stack;
    use :meth:`get_or_create`).

    It holds the handler function (Python 3.14, arm64, 15 minutes, 256 MB), its log group
    (retention one month), and a role with exactly the permissions the handler needs. The
    constructs that use it add per-resource permissions (source objects, domains, keys) to the
    same role; statements with the same actions are merged.
    """

    @staticmethod
    def get_or_create(scope: Construct) -> OpenSearchPackageProvider:
        """Return the provider of the stack that contains ``scope``, creating it on first use."""
        stack = aws_cdk.Stack.of(scope)
        existing = stack.node.try_find_child(PROVIDER_ID)
        if existing is None:
            return OpenSearchPackageProvider(stack, PROVIDER_ID)
        if not isinstance(existing, OpenSearchPackageProvider):
            raise ValueError(
                f"{stack.node.path}: the construct id {PROVIDER_ID!r} is reserved for the "
                "cdk-opensearch-packages provider; rename your construct"
            )
        return existing

    def __init__(self, scope: Construct, id: str, *, code: aws_lambda.Code | None = None) -> None:
        """
        :param code: the handler code. Default: - the staged handler bundle as a code asset
            (:func:`handler_code`); the shared provider stack passes the location of the
            published zip instead (``Code.from_cfn_parameters``).
        """
        super().__init__(scope, id)
        # Merge statements of the provider's policy whatever the app's feature flags say: the
        # constructs add one statement per object/domain/key and they share actions.
        self.node.set_context(_MINIMIZE_POLICIES, True)
        stack = aws_cdk.Stack.of(self)

        #: EventBridge rule-name prefix of the handler's polling rules (unique per stack).
        self.rule_prefix = "osp-" + _short_hash(_stack_identity(stack))
        self.rule_arn_pattern = stack.format_arn(
            service="events",
            resource="rule",
            resource_name=f"{self.rule_prefix}*",
            arn_format=aws_cdk.ArnFormat.SLASH_RESOURCE_NAME,
        )
        self._domain_arns: set[str] = set()
        self._scope_granted = False
        self._domain_sets: dict[str, OpenSearchDomainPackages] = {}
        self._package_names: dict[str, list[tuple[str, str, str | None]]] = {}

        self.log_group = aws_logs.LogGroup(
            self, "LogGroup", retention=aws_logs.RetentionDays.ONE_MONTH
        )
        self.role = aws_iam.Role(
            self,
            "Role",
            assumed_by=aws_iam.ServicePrincipal("lambda.amazonaws.com"),
            description="cdk-opensearch-packages provider: manages OpenSearch Service packages",
        )
        self.log_group.grant_write(self.role)
        #: The role's policy; per-resource permissions are added to it as constructs are added.
        self.policy = self.role.node.find_child("DefaultPolicy")
        self.role.add_to_principal_policy(
            aws_iam.PolicyStatement(actions=list(PACKAGE_ACTIONS), resources=["*"])
        )
        self.role.add_to_principal_policy(
            aws_iam.PolicyStatement(actions=list(RULE_ACTIONS), resources=[self.rule_arn_pattern])
        )

        self.function = aws_lambda.Function(
            self,
            "Function",
            description="cdk-opensearch-packages: OpenSearch Service custom packages provider",
            code=code if code is not None else handler_code(),
            handler="index.handler",
            runtime=aws_lambda.Runtime.PYTHON_3_14,
            architecture=aws_lambda.Architecture.ARM_64,
            timeout=aws_cdk.Duration.minutes(15),
            memory_size=256,
            # An immutable reference: CDK's Function would otherwise add a DependsOn on the role
            # that only repeats the role's GetAtt (cfn-lint W3005). The dependency that matters,
            # on the policy, is explicit below. Grant through ``provider.role``, not
            # ``function.role``.
            role=aws_iam.Role.from_role_arn(
                self, "FunctionRole", self.role.role_arn, mutable=False
            ),
            log_group=self.log_group,
            environment={
                "AWS_DATA_PATH": "/var/task/models",
                "OSP_RULE_PREFIX": self.rule_prefix,
            },
        )
        self.function.node.add_dependency(self.policy)
        # The handler's polling rules invoke the function; granted once here so the handler
        # never calls lambda:AddPermission.
        self.invoke_permission = aws_lambda.CfnPermission(
            self,
            "InvokeFromPollingRules",
            function_name=self.function.function_arn,
            principal="events.amazonaws.com",
            action="lambda:InvokeFunction",
            source_arn=self.rule_arn_pattern,
            source_account=stack.account,
        )
        self._acknowledge_findings(stack)

    @property
    def service_token(self) -> str:
        """The ``ServiceToken`` of the custom resources (the function ARN)."""
        return self.function.function_arn

    def grant_domain(self, domain_arn: str) -> None:
        """Allow the handler to associate/dissociate packages with one domain (the batch calls)
        and list them."""
        if domain_arn in self._domain_arns:
            return
        self._domain_arns.add(domain_arn)
        self.role.add_to_principal_policy(
            aws_iam.PolicyStatement(actions=list(DOMAIN_ACTIONS), resources=[domain_arn])
        )

    def grant_package_scope(self) -> None:
        """Allow the handler to share packages with other accounts (``es:UpdatePackageScope``,
        on ``*``: the action has no resource-level permissions). Idempotent."""
        if self._scope_granted:
            return
        self._scope_granted = True
        self.role.add_to_principal_policy(
            aws_iam.PolicyStatement(actions=list(SCOPE_ACTIONS), resources=["*"])
        )

    def grant_key(self, key_arn: str) -> None:
        """Allow the handler (and the service on its behalf) to encrypt packages with a key."""
        for statement in kms_statements([key_arn]):
            self.role.add_to_principal_policy(statement)

    def grant_pass_role(self, role_arn: str) -> None:
        """Allow the handler to pass a role to OpenSearch Service (key-store access)."""
        self.role.add_to_principal_policy(
            aws_iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "es.amazonaws.com"}},
            )
        )

    def add_dependent(self, resource: aws_cdk.CustomResource) -> None:
        """Make a custom resource wait for the provider to be complete.

        The ``ServiceToken`` already orders it after the function, which depends on the role's
        policy (all per-resource statements included); only the polling rules' invoke
        permission is not reachable that way.
        """
        resource.node.add_dependency(self.invoke_permission)

    def register_domain_set(self, domain_key: str, packages: OpenSearchDomainPackages) -> None:
        """Record the stack's package set of a domain."""
        self._domain_sets[domain_key] = packages

    def claim_package_name(
        self, path: str, name: str, package_type: str, engine_version: str | None
    ) -> None:
        """Record an explicit package name of this stack; refuse one the service would refuse.

        ZIP-PLUGIN names are unique per engine version (AWS's upgrade guide has users create a
        plugin package with the same name for the new engine version before upgrading a
        domain), so two plugin packages may share a name when their engine versions differ;
        any other name may be used once. Names or engine versions known only at deploy time
        are not compared.

        :raises ValueError: naming both constructs, the rule and the fix.
        """
        if aws_cdk.Token.is_unresolved(name):
            return
        claims = self._package_names.setdefault(name, [])
        for other_path, other_type, other_engine in claims:
            plugins = package_type == other_type == props.ZIP_PLUGIN
            if plugins and (
                engine_version is None
                or other_engine is None
                or aws_cdk.Token.is_unresolved(engine_version)
                or aws_cdk.Token.is_unresolved(other_engine)
                or engine_version != other_engine
            ):
                continue
            rule = (
                f"{other_path} is a ZIP-PLUGIN package of the same name for the same engine "
                f"version {engine_version}: plugin names are unique per engine version"
                if plugins
                else f"{other_path} already uses this name: package names are unique in the "
                "account and Region (only ZIP-PLUGIN packages for different engine versions "
                "may share one)"
            )
            raise props.fail(
                path,
                "package_name",
                name,
                rule,
                "Use another package_name, or omit it to have a unique name generated",
            )
        claims.append((path, package_type, engine_version))

    def domain_set(self, domain_key: str) -> OpenSearchDomainPackages | None:
        """The stack's package set of a domain, if any."""
        return self._domain_sets.get(domain_key)

    def _acknowledge_findings(self, stack: aws_cdk.Stack) -> None:
        """Acknowledge the cdk-nag findings the provider cannot avoid, with their reasons."""
        aws_cdk.Validations.of(self.policy).acknowledge(
            aws_cdk.Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason=(
                    "es:CreatePackage, DeletePackage, DescribePackages, UpdatePackage, "
                    "GetPackageVersionHistory, ListDomainsForPackage (and UpdatePackageScope, "
                    "granted only with a vended package) support no resource-level permissions "
                    "(there is no package ARN); they require Resource '*'"
                ),
            ),
            aws_cdk.Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::{_nag_arn(stack, self.rule_arn_pattern)}]",
                reason=(
                    "The handler creates and deletes its own polling rules; their names are "
                    f"'{self.rule_prefix}' plus a hash, so the permission is limited to that prefix"
                ),
            ),
        )


def _stack_identity(stack: aws_cdk.Stack) -> str:
    name = stack.stack_name
    return aws_cdk.Names.unique_id(stack) if aws_cdk.Token.is_unresolved(name) else name


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def _nag_arn(stack: aws_cdk.Stack, arn: str) -> str:
    """Render an ARN the way cdk-nag names it in finding ids (``Ref`` becomes ``<Name>``)."""
    resolved = stack.resolve(arn)
    if isinstance(resolved, str):
        return resolved
    parts = resolved["Fn::Join"][1]
    return "".join(part if isinstance(part, str) else f"<{part['Ref']}>" for part in parts)
