"""Lifecycle logic of the ``Custom::OpenSearchPackage``, ``Custom::OpenSearchDomainPackages`` and
``Custom::OpenSearchPackageLookup`` custom resources.

``index.py`` (next to this package) is the Lambda entry point and only wires crhelper to this
package. The modules here are small and typed; the boto3 clients, the clock and the sleep function
are injected so that every path can be unit tested with botocore's ``Stubber``:

- :mod:`osp_handler.crhelper_adapter`: the :class:`~crhelper.CfnResource` subclass (polling,
  timeouts, responses, logging).
- :mod:`osp_handler.cfn_response`: the bounded CloudFormation response body and its sender.
- :mod:`osp_handler.job`: the parsed request, the pending state and the :class:`Job` handed to a
  lifecycle.
- :mod:`osp_handler.waiting`: the clock, the time budget and the wait loop.
- :mod:`osp_handler.props`: CloudFormation's stringified properties to API parameters.
- :mod:`osp_handler.names`: package names, physical ids and polling rule names.
- :mod:`osp_handler.opensearch_api`: small typed helpers over the OpenSearch Service client.
- :mod:`osp_handler.package`, :mod:`osp_handler.domain_packages` and :mod:`osp_handler.lookup`:
  the lifecycles.
- :mod:`osp_handler.phases`: the lifecycle protocol and the resumable phase runner.
- :mod:`osp_handler.lifecycle`: the dispatch on ``ResourceType``.
- :mod:`osp_handler.outcome`: done, pending, or :class:`~osp_handler.outcome.ResourceFailure`.
- :mod:`osp_handler.clients`: the lazily created boto3 clients.
"""
