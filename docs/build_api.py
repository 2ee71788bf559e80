"""Build the API reference (``make docs``) from the docstrings with pdoc.

pdoc 16 reads a reST field ``:param name: text`` with a greedy pattern, so a colon later on the
line (our docstrings say ``Default: - ...`` as aws-cdk's do) is taken for the end of the name. The
field pattern is narrowed to names without a colon before pdoc runs.

Usage: ``python docs/build_api.py <output dir>``
"""

from __future__ import annotations

import inspect
import os
import pkgutil
import sys
from pathlib import Path

os.environ.setdefault("PDOC_ALLOW_EXEC", "1")  # importing aws_cdk starts jsii's node process

import pdoc
import pdoc.docstrings
import pdoc.render

GREEDY_NAME = "(?P<name>.+))?:"
NARROW_NAME = "(?P<name>[^:\\n]+))?:"


def _narrow_rst_field_names() -> None:
    source = inspect.getsource(pdoc.docstrings._rst_fields)
    if GREEDY_NAME not in source:  # a pdoc release that reads fields differently: leave it be
        return
    exec(source.replace(GREEDY_NAME, NARROW_NAME), pdoc.docstrings.__dict__)


def main(output: str) -> None:
    """Write the HTML reference of the library and its local emulator into ``output``."""
    _narrow_rst_field_names()
    pdoc.render.configure(docformat="restructuredtext")
    import cdk_opensearch_packages
    from cdk_opensearch_packages import checks, local

    # pdoc shows only the submodules a package's __all__ names: list the checks' and the
    # emulator's modules, with the subpackages of each service the emulator stands in for.
    modules = [
        info.name
        for package in (checks, local)
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}.")
        if not info.name.rpartition(".")[2].startswith("_")
    ]
    pdoc.pdoc(
        cdk_opensearch_packages.__name__,
        checks.__name__,
        local.__name__,
        *modules,
        output_directory=Path(output),
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/api")
