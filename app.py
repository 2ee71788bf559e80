#!/usr/bin/env python3
"""Example app: a small OpenSearch domain with a synonyms dictionary package associated.

``cdk synth`` needs no AWS credentials and no Docker. cdk-nag's AWS Solutions checks run as a
validation plugin; every finding is fixed or acknowledged next to the code it concerns.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The library lives in constructs/ (a source root, never a package itself).
sys.path.insert(0, str(HERE / "constructs"))

import aws_cdk  # noqa: E402
from aws_cdk import aws_ec2, aws_iam, aws_logs, aws_opensearchservice  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402
from constructs import Construct  # noqa: E402

from cdk_opensearch_packages import (  # noqa: E402
    DictionaryKind,
    OpenSearchPackage,
    PackageSource,
    PackageType,
)

DOMAIN_NAME = "osp-example"


def example_domain(
    scope: aws_cdk.Stack, domain_name: str = DOMAIN_NAME
) -> aws_opensearchservice.Domain:
    """A small domain that passes cdk-nag's AWS Solutions checks: one t3.small node, encrypted,
    HTTPS only, slow logs in CloudWatch Logs, SigV4-signed access by this account only."""
    # Slow logs go to CloudWatch Logs (cdk-nag AwsSolutions-OS9). The resource policy that lets
    # the service write them is declared here rather than by the Domain construct (which would
    # add a custom resource with its own Lambda function for it).
    slow_logs = {
        kind: aws_logs.LogGroup(
            scope,
            f"{kind}Logs",
            retention=aws_logs.RetentionDays.ONE_MONTH,
            removal_policy=aws_cdk.RemovalPolicy.DESTROY,
        )
        for kind in ("SlowSearch", "SlowIndex")
    }
    logs_policy = aws_logs.ResourcePolicy(
        scope,
        "DomainLogsPolicy",
        policy_statements=[
            aws_iam.PolicyStatement(
                principals=[aws_iam.ServicePrincipal("es.amazonaws.com")],
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[group.log_group_arn for group in slow_logs.values()],
                conditions={"StringEquals": {"aws:SourceAccount": scope.account}},
            )
        ],
    )
    domain = aws_opensearchservice.Domain(
        scope,
        "Domain",
        domain_name=domain_name,
        version=aws_opensearchservice.EngineVersion.OPENSEARCH_2_19,
        capacity=aws_opensearchservice.CapacityConfig(
            data_nodes=1,
            data_node_instance_type="t3.small.search",
            multi_az_with_standby_enabled=False,
        ),
        ebs=aws_opensearchservice.EbsOptions(
            volume_size=10, volume_type=aws_ec2.EbsDeviceVolumeType.GP3
        ),
        enforce_https=True,
        node_to_node_encryption=True,
        encryption_at_rest=aws_opensearchservice.EncryptionAtRestOptions(enabled=True),
        logging=aws_opensearchservice.LoggingOptions(
            slow_search_log_enabled=True,
            slow_search_log_group=slow_logs["SlowSearch"],
            slow_index_log_enabled=True,
            slow_index_log_group=slow_logs["SlowIndex"],
        ),
        suppress_logs_resource_policy=True,
        removal_policy=aws_cdk.RemovalPolicy.DESTROY,
    )
    domain.node.add_dependency(logs_policy)
    cfn_domain = domain.node.default_child
    assert isinstance(cfn_domain, aws_opensearchservice.CfnDomain)
    # Only SigV4-signed requests of this account's IAM principals (cdk-nag AwsSolutions-OS5).
    # Set on the L1 resource: the L2 `access_policies` would add a custom resource.
    cfn_domain.access_policies = aws_iam.PolicyDocument(
        statements=[
            aws_iam.PolicyStatement(
                principals=[aws_iam.AccountRootPrincipal()],
                actions=["es:ESHttp*"],
                resources=[
                    scope.format_arn(
                        service="es",
                        resource="domain",
                        resource_name=f"{domain_name}/*",
                        arn_format=aws_cdk.ArnFormat.SLASH_RESOURCE_NAME,
                    )
                ],
            )
        ]
    ).to_json()
    aws_cdk.Validations.of(cfn_domain).acknowledge(
        aws_cdk.Acknowledgment(
            id="AwsSolutions-OS1",
            reason="Example domain: a public endpoint avoids a VPC and NAT; every request must "
            "be SigV4-signed by an IAM principal of this account (access policy above)",
        ),
        aws_cdk.Acknowledgment(
            id="AwsSolutions-OS3",
            reason="Access is controlled by IAM identity (signed requests of this account's "
            "principals), not by source IP",
        ),
        aws_cdk.Acknowledgment(
            id="AwsSolutions-OS4",
            reason="Single-node example domain (cost): no dedicated master nodes",
        ),
        aws_cdk.Acknowledgment(
            id="AwsSolutions-OS7",
            reason="Single-node example domain (cost): no zone awareness",
        ),
    )

    return domain


class OpenSearchPackagesExample(aws_cdk.Stack):
    """A domain, a synonyms package and their association."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(
            scope, id, description="cdk-opensearch-packages example: synonyms on a small domain"
        )
        domain = example_domain(self)

        # `-c synonyms_file=<path>` swaps the dictionary (make demo uses it to show an update).
        synonyms_file = self.node.try_get_context("synonyms_file") or str(
            HERE / "examples" / "dictionaries" / "synonyms.txt"
        )
        synonyms = OpenSearchPackage(
            self,
            "Synonyms",
            package_type=PackageType.TXT_DICTIONARY,
            source=PackageSource.from_asset(synonyms_file),
            dictionary_kind=DictionaryKind.SYNONYMS,
            description="Product search synonyms",
        )
        association = synonyms.associate(domain)

        aws_cdk.CfnOutput(self, "PackageId", value=synonyms.package_id)
        aws_cdk.CfnOutput(self, "PackageVersion", value=association.package_version)
        aws_cdk.CfnOutput(
            self,
            "ReferencePath",
            value=association.reference_path,
            description="synonyms_path of a synonym_graph filter",
        )


def main() -> None:
    """Synthesize the example app, checked by cdk-nag's AWS Solutions rules."""
    app = aws_cdk.App()
    OpenSearchPackagesExample(app, "OpenSearchPackagesExample")
    aws_cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    app.synth()


if __name__ == "__main__":
    main()
