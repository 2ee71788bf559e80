"""``cdk synth`` time and template size for 1, 25 and 100 packages in one stack.

Each size gets its own generated app (:func:`bench.apps.write_packages_app`: one stack, ``n``
``OpenSearchPackage`` constructs, each with its own synonyms file as an asset; the provider stays
one function). Every synthesis runs in a fresh process: ``python app.py`` with ``CDK_OUTDIR``
(what the CDK CLI runs as the app), and, fewer times, the CDK CLI itself
(``npx --no-install cdk synth``, Node.js start-up and the CLI's own work included). Sizes are
interleaved run by run, so a slow period of the machine hits every size alike.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .apps import PACKAGES_STACK, synthesize, write_packages_app
from .stats import Summary, summarize

__all__ = ["SynthResult", "SynthSize", "measure_synth"]


@dataclass
class SynthSize:
    """Measurements for one number of packages.

    :param packages: packages in the stack.
    :param app_seconds: wall times of ``python app.py``.
    :param cli_seconds: wall times of ``npx --no-install cdk synth``.
    :param template_bytes: size of the stack's template.
    :param resources: resources in the template.
    :param functions: ``AWS::Lambda::Function`` resources in the template.
    :param custom_resources: ``Custom::OpenSearchPackage`` resources in the template.
    :param assets: file assets of the stack.
    :param assembly_bytes: size of the whole cloud assembly directory.
    """

    packages: int
    app_seconds: list[float] = field(default_factory=list)
    cli_seconds: list[float] = field(default_factory=list)
    template_bytes: int = 0
    resources: int = 0
    functions: int = 0
    custom_resources: int = 0
    assets: int = 0
    assembly_bytes: int = 0

    @property
    def app_summary(self) -> Summary:
        """``python app.py`` times summarized."""
        return summarize(self.app_seconds)

    @property
    def cli_summary(self) -> Summary | None:
        """CLI times summarized (``None`` when the CLI was not run)."""
        return summarize(self.cli_seconds) if self.cli_seconds else None


@dataclass
class SynthResult:
    """The synth benchmark.

    :param sizes: one entry per number of packages.
    """

    sizes: list[SynthSize]

    def ratio(self) -> float:
        """Median ``python app.py`` time of the largest size over that of the smallest."""
        return self.sizes[-1].app_summary.median / self.sizes[0].app_summary.median

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SynthResult:
        """Read :meth:`to_dict`'s form back."""
        sizes = []
        for item in data["sizes"]:
            cli = item.get("cli_seconds")
            sizes.append(
                SynthSize(
                    packages=int(item["packages"]),
                    app_seconds=[float(v) for v in item["app_seconds"]["values"]],
                    cli_seconds=[] if cli is None else [float(v) for v in cli["values"]],
                    template_bytes=int(item["template_bytes"]),
                    resources=int(item["resources"]),
                    functions=int(item["functions"]),
                    custom_resources=int(item["custom_resources"]),
                    assets=int(item["assets"]),
                    assembly_bytes=int(item["assembly_bytes"]),
                )
            )
        return cls(sizes)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "sizes": [
                {
                    "packages": s.packages,
                    "app_seconds": s.app_summary.to_dict(),
                    "cli_seconds": None if s.cli_summary is None else s.cli_summary.to_dict(),
                    "template_bytes": s.template_bytes,
                    "resources": s.resources,
                    "functions": s.functions,
                    "custom_resources": s.custom_resources,
                    "assets": s.assets,
                    "assembly_bytes": s.assembly_bytes,
                }
                for s in self.sizes
            ],
            "ratio_largest_to_smallest": self.ratio(),
        }


def _inspect(size: SynthSize, out_dir: Path) -> None:
    template = json.loads((out_dir / f"{PACKAGES_STACK}.template.json").read_text("utf-8"))
    resources = template.get("Resources", {})
    size.template_bytes = (out_dir / f"{PACKAGES_STACK}.template.json").stat().st_size
    size.resources = len(resources)
    types = [resource.get("Type", "") for resource in resources.values()]
    size.functions = types.count("AWS::Lambda::Function")
    size.custom_resources = types.count("Custom::OpenSearchPackage")
    manifest = json.loads((out_dir / f"{PACKAGES_STACK}.assets.json").read_text("utf-8"))
    size.assets = len(manifest.get("files", {}))
    total = 0
    for directory, _dirs, names in os.walk(out_dir):
        total += sum((Path(directory) / name).stat().st_size for name in names)
    size.assembly_bytes = total


def measure_synth(
    sizes: Sequence[int] = (1, 25, 100),
    *,
    app_runs: int = 3,
    cli_runs: int = 1,
    progress: Callable[[str], None] = print,
) -> SynthResult:
    """Synthesize each size ``app_runs`` times with ``python app.py`` and ``cli_runs`` times
    with the CDK CLI.

    :param sizes: numbers of packages, smallest first.
    :param app_runs: ``python app.py`` runs per size.
    :param cli_runs: ``npx --no-install cdk synth`` runs per size (0: none).
    :param progress: called with a line of progress.
    """
    root = Path(tempfile.mkdtemp(prefix="osp-bench-synth-"))
    try:
        measured = [SynthSize(packages=count) for count in sizes]
        apps = {count: write_packages_app(root / f"app-{count}", count) for count in sizes}
        for run in range(max(app_runs, cli_runs)):
            for size in measured:
                app = apps[size.packages]
                if run < app_runs:
                    done = synthesize(app, root / f"out-{size.packages}")
                    size.app_seconds.append(done.seconds)
                    if run == 0:
                        _inspect(size, done.out_dir)
                if run < cli_runs:
                    size.cli_seconds.append(
                        synthesize(app, root / f"cli-{size.packages}", cli=True).seconds
                    )
                progress(f"  synth {size.packages} packages, run {run + 1}")
        return SynthResult(measured)
    finally:
        shutil.rmtree(root, ignore_errors=True)
