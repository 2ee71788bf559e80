"""The command-line rehearsal and demo (``python -m cdk_opensearch_packages.local``):
:mod:`.run` drives a deployment, :mod:`.display` prints it.
"""
