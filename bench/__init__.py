"""Benchmarks of the cdk-opensearch-packages provider (``make bench``, ``python bench/run.py``).

Measured on the project's offline emulation (the local OpenSearch packages API, the
CloudFormation and Lambda stand-ins, moto) and compared with what users would pick instead: a
plain crhelper handler run for real on the same emulation, and models of the CDK Provider
framework and of Terraform's ``aws_opensearch_package`` waiter.
"""
