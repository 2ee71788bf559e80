"""The distributions people install: the sdist, the wheel built from it, and that wheel at work.

``python -m build`` runs once for the module: it builds the sdist, then the wheel from the unpacked
sdist, so a file the sdist misses is missing from the wheel too. The wheel is installed into a
clean virtual environment outside the repository (``--no-deps``; the already installed
dependencies are made visible through a ``.pth`` line naming this environment's site-packages,
never the repository's ``constructs/`` or ``lambda/``), and a five-line CDK app using the
documented import is synthesized there.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from email.parser import Parser
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

# One build per run: keep this module's tests on one xdist worker (with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("packaging-dists")

REPO = Path(__file__).resolve().parents[3]
PACKAGE = "cdk_opensearch_packages"
#: Where lambda/ lands in the wheel.
HANDLER = f"{PACKAGE}/_handler"

# Tool state, outputs and caches: never build input.
_NOT_SOURCES = shutil.ignore_patterns(
    ".git",
    ".venv",
    "node_modules",
    "cdk.out",
    "dist",
    "build",
    "*.egg-info",
    "__pycache__",
    "*.pyc",
    ".*_cache",
    ".osp-local",
    ".cdk-opensearch-local",
)
# Variables that would let a subprocess see the repository or another environment.
_LEAKY_VARIABLES = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "VIRTUAL_ENV")

APP = """\
import aws_cdk
from cdk_opensearch_packages import OpenSearchPackage, PackageSource, PackageType
app = aws_cdk.App()
stack = aws_cdk.Stack(app, "InstalledWheel")
OpenSearchPackage(stack, "Synonyms", package_type=PackageType.TXT_DICTIONARY,
                  source=PackageSource.from_asset("synonyms.txt"))
app.synth()
"""


@dataclass(frozen=True)
class Dists:
    """What the build produced, and the source tree it was built from."""

    source: Path
    sdist: Path
    wheel: Path

    def wheel_names(self) -> set[str]:
        with zipfile.ZipFile(self.wheel) as archive:
            return set(archive.namelist())

    def wheel_bytes(self, name: str) -> bytes:
        with zipfile.ZipFile(self.wheel) as archive:
            return archive.read(name)

    def wheel_metadata(self) -> Message:
        (name,) = (n for n in self.wheel_names() if n.endswith(".dist-info/METADATA"))
        return Parser().parsestr(self.wheel_bytes(name).decode("utf-8"))

    def sdist_names(self) -> set[str]:
        """Member names of the sdist without its top directory (``name-version/``)."""
        with tarfile.open(self.sdist) as archive:
            names = [m.name for m in archive.getmembers() if m.isfile()]
        return {name.split("/", 1)[1] for name in names}


@dataclass(frozen=True)
class Installed:
    """The wheel installed into a clean venv, and what a CDK app synthesized there."""

    venv: Path
    work: Path
    cdk_out: Path


def _env(**overrides: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _LEAKY_VARIABLES and not key.startswith("CDK_")
    }
    env["PYTHONNOUSERSITE"] = "1"
    env.update(overrides)
    return env


def _run(command: list[str], *, cwd: Path, env: dict[str, str], timeout: int) -> str:
    """Run ``command``; fail the test with its output when it fails. Returns its stdout."""
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} failed ({result.returncode}):\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result.stdout


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    """The sdist and the wheel, built once from a copy of the work tree (the build writes
    ``*.egg-info`` next to the sources; the work tree stays as it is)."""
    root = tmp_path_factory.mktemp("dists")
    source = root / "source"
    shutil.copytree(REPO, source, ignore=_NOT_SOURCES)
    out = root / "out"
    # Isolated (the default): the build backend comes from the package index, as on a fresh
    # machine, whatever setuptools this environment has.
    _run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(source)],
        cwd=root,
        env=_env(),
        timeout=300,
    )
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return Dists(source=source, sdist=sdist, wheel=wheel)


@pytest.fixture(scope="module")
def installed(dists: Dists, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel in a clean venv outside the repository, and the example app synthesized."""
    root = tmp_path_factory.mktemp("installed")
    venv = root / "venv"
    _run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)],
        cwd=root,
        env=_env(),
        timeout=120,
    )
    python = venv / "bin" / "python"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            str(dists.wheel),
        ],
        cwd=root,
        env=_env(),
        timeout=300,
    )
    site_packages = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            cwd=root,
            env=_env(),
            timeout=60,
        ).strip()
    )
    # The dependencies (aws-cdk-lib, constructs, crhelper, ...) as installed here: only this
    # environment's site-packages, appended after the venv's own.
    (site_packages / "repo-dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8"
    )

    work = root / "app"
    work.mkdir()
    (work / "app.py").write_text(APP, encoding="utf-8")
    (work / "synonyms.txt").write_text("quick, fast\nlarge, big, huge\n", encoding="utf-8")
    staging = root / "tmp"  # the handler bundle is staged afresh, from the installed wheel
    staging.mkdir()
    node = shutil.which("node")
    assert node is not None, "Node.js must be on PATH (jsii runs aws-cdk-lib in node)"
    path = os.pathsep.join([str(venv / "bin"), str(Path(node).parent), os.environ["PATH"]])
    cdk_out = work / "cdk.out"
    _run(
        [str(python), "app.py"],
        cwd=work,
        env=_env(CDK_OUTDIR=str(cdk_out), TMPDIR=str(staging), PATH=path),
        timeout=300,
    )
    return Installed(venv=venv, work=work, cdk_out=cdk_out)


def _files_under(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            yield path


def _expected_wheel_files(source: Path) -> set[str]:
    """The package files the wheel must hold, from the tree it was built from: every module and
    ``py.typed`` of the package, every module of ``lambda/`` and every file of ``lambda/models``."""
    package = source / "constructs" / PACKAGE
    handler = source / "lambda"
    expected = {
        f"{PACKAGE}/{path.relative_to(package).as_posix()}"
        for path in _files_under(package)
        if path.suffix == ".py" or path.name == "py.typed"
    }
    expected |= {
        f"{HANDLER}/{path.relative_to(handler).as_posix()}"
        for path in _files_under(handler)
        if path.suffix == ".py" or path.relative_to(handler).parts[0] == "models"
    }
    return expected


def _package_files(names: set[str]) -> set[str]:
    return {name for name in names if ".dist-info/" not in name}


def test_wheel_holds_exactly_the_package_and_the_handler(dists: Dists) -> None:
    expected = _expected_wheel_files(dists.source)
    actual = _package_files(dists.wheel_names())
    assert actual - expected == set(), "files in the wheel that are not package sources"
    assert expected - actual == set(), (
        "package sources missing from the wheel (a subpackage not listed in pyproject.toml's "
        "[tool.setuptools] packages, or a file the sdist misses?)"
    )


def test_wheel_carries_typing_marker_handler_and_service_model(dists: Dists) -> None:
    names = dists.wheel_names()
    assert f"{PACKAGE}/py.typed" in names
    assert f"{PACKAGE}/__init__.py" in names
    assert f"{HANDLER}/index.py" in names
    assert f"{HANDLER}/osp_handler/__init__.py" in names
    models = [
        n for n in names if re.fullmatch(rf"{HANDLER}/models/opensearch/[^/]+/service-2\.json", n)
    ]
    assert models, "the OpenSearch service model is missing from the wheel"
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


def test_sdist_carries_license_readme_changelog_and_every_source(dists: Dists) -> None:
    names = dists.sdist_names()
    for document in ("LICENSE", "README.md", "CHANGELOG.md", "pyproject.toml", "PKG-INFO"):
        assert document in names, f"{document} missing from the sdist"
    # The sdist holds the sources of every file the wheel has (the wheel was built from it).
    from_sdist = {
        name.replace("constructs/", "", 1)
        if name.startswith("constructs/")
        else name.replace("lambda/", f"{HANDLER}/", 1)
        for name in names
        if name.startswith((f"constructs/{PACKAGE}/", "lambda/"))
    }
    assert from_sdist == _package_files(dists.wheel_names())


def test_metadata_is_true(dists: Dists) -> None:
    meta = dists.wheel_metadata()
    version = meta["Version"]
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(
        rf"^## \[{re.escape(version)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.M
    ), f"CHANGELOG.md has no entry for {version}"
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta["Requires-Python"] == ">=3.10"
    # The Python versions claimed are those from the floor up, all supported by aws-cdk-lib.
    ours = {c for c in meta.get_all("Classifier", []) if re.fullmatch(r".*:: 3\.\d+", c)}
    minors = sorted(int(c.rsplit(".", 1)[1]) for c in ours)
    assert minors == list(range(10, minors[-1] + 1))
    cdk_classifiers = set(metadata.metadata("aws-cdk-lib").get_all("Classifier") or [])
    assert ours <= cdk_classifiers
    # The versions this repository pins satisfy what the wheel requires (runtime and [local]).
    requirements = [Requirement(r) for r in meta.get_all("Requires-Dist", [])]
    runtime = {r.name for r in requirements if r.marker is None}
    assert runtime == {"aws-cdk-lib", "constructs", "crhelper"}
    for requirement in requirements:
        installed = metadata.version(requirement.name)
        assert requirement.specifier.contains(installed, prereleases=True), (
            f"{requirement.name} {installed} (pinned here) is outside {requirement}"
        )


def test_installed_wheel_is_what_the_app_imports(installed: Installed) -> None:
    probe = (
        "import importlib.util as u\n"
        "for name in ('cdk_opensearch_packages', 'constructs', 'aws_cdk'):\n"
        "    print(u.find_spec(name).origin)\n"
    )
    python = installed.venv / "bin" / "python"
    origins = [
        Path(line)
        for line in _run(
            [str(python), "-c", probe], cwd=installed.work, env=_env(), timeout=60
        ).splitlines()
    ]
    ours, constructs_library, cdk = origins
    assert ours.is_relative_to(installed.venv), ours
    assert not constructs_library.is_relative_to(REPO / "constructs"), constructs_library
    assert not cdk.is_relative_to(installed.venv), cdk  # a dependency, from the .pth


def _asset_directories(cdk_out: Path) -> list[Path]:
    """Directory assets of the synthesized stacks (the Lambda code), from their asset manifests."""
    directories = []
    for manifest in cdk_out.glob("*.assets.json"):
        files = json.loads(manifest.read_text(encoding="utf-8")).get("files", {})
        for asset in files.values():
            if asset["source"].get("packaging") == "zip":
                directories.append(cdk_out / asset["source"]["path"])
    return directories


def test_synth_bundles_the_handler_from_the_installed_wheel(
    dists: Dists, installed: Installed
) -> None:
    (bundle,) = _asset_directories(installed.cdk_out)
    assert (bundle / "index.py").is_file()
    assert (bundle / "osp_handler" / "__init__.py").is_file()
    assert (bundle / "crhelper" / "__init__.py").is_file()
    assert list(bundle.glob("models/opensearch/*/service-2.json"))
    # Every handler file of the wheel, byte for byte, and nothing else besides crhelper.
    handler_files = {
        name.removeprefix(f"{HANDLER}/")
        for name in dists.wheel_names()
        if name.startswith(f"{HANDLER}/")
    }
    staged = {path.relative_to(bundle).as_posix() for path in _files_under(bundle)}
    assert {name for name in staged if not name.startswith("crhelper/")} == handler_files
    for name in handler_files:
        assert (bundle / name).read_bytes() == dists.wheel_bytes(f"{HANDLER}/{name}"), name
    template = json.loads((installed.cdk_out / "InstalledWheel.template.json").read_text())
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert [f["Properties"]["Handler"] for f in functions] == ["index.handler"]
