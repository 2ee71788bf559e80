#!/usr/bin/env python3
"""The supported-versions matrix: the lowest and the newest dependencies, every supported Python.

``make matrix`` runs every row, ``make matrix-ci`` the cheap subset that CI runs (``--quick``).

Rows:

- ``constructs`` rows: a venv with the project's runtime dependencies (``[project]
  dependencies`` of pyproject.toml) plus pytest, cdk-nag and botocore (the requirement files'
  pins; the example app and some tests use cdk-nag, one test reads botocore's models), where
  the construct unit tests (tests/unit/constructs) run and the aws-cdk CLI synthesizes the
  example app (app.py, cdk-nag included).

  - ``floor``: each direct dependency at the lowest version pyproject.toml declares (its ``>=``
    or ``==`` bound, passed to pip as ``==`` constraints; pip resolves the rest). Raising a floor
    in pyproject.toml changes what is tested; a floor pip cannot install fails the row.
  - ``latest``: the newest versions the package index serves within the declared ranges.

- ``handler`` rows: a venv with only boto3, botocore (requirements.txt's pins) and pytest, as on
  Lambda, where the handler unit tests (tests/unit/handler) run with ``PYTHONPATH`` = the staged
  handler bundle (index.py, osp_handler, the models and the crhelper copy: exactly the Lambda
  asset) and pytest's own ``pythonpath`` cleared.

Pythons: the ``Programming Language :: Python :: 3.X`` classifiers of pyproject.toml (whose
lowest must be requires-python's floor); the handler rows add the provider's Lambda runtime
(``Runtime.PYTHON_3_X`` in provider.py). An interpreter is looked for as ``~/.pyenv/versions/3.X*``
(or ``$PYENV_ROOT``) and ``python3.X`` on PATH; a missing one is a visible SKIPPED row.
``--quick``: the floor on the oldest available Python and the handler on the oldest and newest.

The venvs live in ``.matrix/`` (git-ignored) and are reused while their stamp matches: a hash of
the interpreter, the requirement and constraint lines and this script's ``SCHEMA``; ``latest``
venvs also include the day (UTC), so they are rebuilt once a day. ``--fresh`` rebuilds them all.
Logs: ``.matrix/logs/``. Exit status 1 when a row failed, 0 otherwise (skipped rows included).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - pytest and mypy bring tomli into a Python 3.10 venv
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
MATRIX = REPO / ".matrix"
LOGS = MATRIX / "logs"
#: Change to rebuild every venv (what goes into a venv changed in a way the inputs do not show).
SCHEMA = "1"
#: The direct dependencies whose installed versions the summary shows.
SHOWN = ("aws-cdk-lib", "constructs", "crhelper", "jsii", "cdk-nag", "boto3", "botocore")
#: Requirements of the test venvs, taken (pinned) from requirements-dev.txt / requirements.txt.
#: botocore: a construct test reads its service models (the library itself needs no boto3/botocore).
CONSTRUCT_TEST_DEPS = ("pytest", "cdk-nag", "botocore")
HANDLER_DEPS = ("boto3", "botocore", "pytest")
PIP = ("-m", "pip", "--disable-pip-version-check", "--no-input")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_CLASSIFIER = re.compile(r"^Programming Language :: Python :: (3\.\d+)$")


class MatrixError(Exception):
    """A configuration error: the matrix cannot be built as declared."""


@dataclass(frozen=True)
class Project:
    """What pyproject.toml and the requirement files declare."""

    dependencies: tuple[str, ...]
    pythons: tuple[str, ...]
    lambda_python: str | None
    pins: dict[str, str]

    @staticmethod
    def load(repo: Path = REPO) -> Project:
        """Read pyproject.toml, provider.py and the requirement files.

        :param repo: the repository root. Default: the one holding this script.
        :raises MatrixError: when requires-python is not ``>=`` the lowest Python classifier.
        """
        pyproject = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))
        project = pyproject["project"]
        pythons = sorted(
            (m.group(1) for c in project["classifiers"] if (m := _CLASSIFIER.match(c))),
            key=_version_key,
        )
        if not pythons:
            raise MatrixError("pyproject.toml lists no 'Programming Language :: Python :: 3.X'")
        floor = re.fullmatch(r">=\s*(3\.\d+)", project["requires-python"].strip())
        if floor is None or floor.group(1) != pythons[0]:
            raise MatrixError(
                f"requires-python {project['requires-python']!r} must be '>={pythons[0]}', "
                "the lowest Python classifier"
            )
        provider = (repo / "constructs" / "cdk_opensearch_packages" / "provider.py").read_text(
            encoding="utf-8"
        )
        runtime = re.search(r"Runtime\.PYTHON_3_(\d+)", provider)
        pins: dict[str, str] = {}
        for name in ("requirements.txt", "requirements-dev.txt"):
            for line in (repo / name).read_text(encoding="utf-8").splitlines():
                pinned = re.fullmatch(r"\s*([A-Za-z0-9._-]+)(?:\[[^]]*\])?==([^\s;#]+)\s*", line)
                if pinned:
                    pins[_canonical(pinned.group(1))] = pinned.group(2)
        return Project(
            dependencies=tuple(project["dependencies"]),
            pythons=tuple(pythons),
            lambda_python=f"3.{runtime.group(1)}" if runtime else None,
            pins=pins,
        )

    def floor_constraints(self) -> list[str]:
        """``name==floor`` for each runtime dependency (its ``>=`` or ``==`` bound)."""
        constraints = []
        for requirement in self.dependencies:
            name = _requirement_name(requirement)
            bound = re.search(r"(?:>=|==)\s*([0-9][^,;\s]*)", requirement)
            if bound is None:
                raise MatrixError(f"{requirement!r} declares no floor (>= or ==)")
            constraints.append(f"{name}=={bound.group(1)}")
        return constraints

    def pinned(self, names: Sequence[str]) -> list[str]:
        """``name==version`` of the requirement files' pins of ``names``."""
        missing = [n for n in names if _canonical(n) not in self.pins]
        if missing:
            raise MatrixError(f"requirements*.txt pin none of {missing}")
        return [f"{name}=={self.pins[_canonical(name)]}" for name in names]


@dataclass(frozen=True)
class Interpreter:
    """A Python interpreter found on this machine."""

    minor: str
    executable: Path
    version: str


@dataclass(frozen=True)
class Row:
    """One venv and what runs in it."""

    kind: str  # "constructs" | "handler"
    deps: str  # "floor" | "latest" | "lambda"
    python: str
    note: str = ""

    @property
    def name(self) -> str:
        return f"{self.kind}-{self.deps}-py{self.python}"


@dataclass
class Result:
    """The outcome of one row."""

    row: Row
    status: str = "PASS"  # PASS | FAIL | SKIPPED
    detail: str = ""
    python_version: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    steps: list[tuple[str, str, float]] = field(default_factory=list)  # (step, outcome, seconds)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    match = _NAME.match(requirement)
    if match is None:
        raise MatrixError(f"cannot read the name of {requirement!r}")
    return match.group(1)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def find_interpreter(minor: str) -> Interpreter | None:
    """The newest ``minor`` interpreter of pyenv, else ``python<minor>`` on PATH."""
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    candidates = [
        path / "bin" / f"python{minor}"
        for path in sorted(
            (root / "versions").glob(f"{minor}.*"),
            key=lambda p: [int(x) if x.isdigit() else -1 for x in re.split(r"[.-]", p.name)],
            reverse=True,
        )
    ]
    on_path = shutil.which(f"python{minor}")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if not candidate.is_file():
            continue
        probe = subprocess.run(
            [str(candidate), "-c", "import sys, venv; print('%d.%d.%d' % sys.version_info[:3])"],
            capture_output=True,
            text=True,
            check=False,
        )
        version = probe.stdout.strip()
        if probe.returncode == 0 and version.rsplit(".", 1)[0] == minor:
            return Interpreter(minor=minor, executable=candidate, version=version)
    return None


def plan(project: Project, found: dict[str, Interpreter | None], *, quick: bool) -> list[Row]:
    """The rows to run, available interpreter or not (a missing one makes a SKIPPED row)."""
    available = [p for p in project.pythons if found.get(p)]
    oldest = available[0] if available else project.pythons[0]
    newest = available[-1] if available else project.pythons[-1]
    handler_pythons = list(project.pythons)
    if project.lambda_python and project.lambda_python not in handler_pythons:
        handler_pythons.append(project.lambda_python)
    rows: list[Row] = []
    if quick:
        rows.append(Row("constructs", "floor", oldest))
        rows.extend(Row("handler", "lambda", p) for p in dict.fromkeys((oldest, newest)))
        return rows
    floor_pythons = dict.fromkeys((project.pythons[0], oldest, newest, project.pythons[-1]))
    rows.extend(Row("constructs", "floor", p) for p in floor_pythons)
    rows.extend(Row("constructs", "latest", p) for p in project.pythons)
    for python in handler_pythons:
        note = "the provider's Lambda runtime" if python == project.lambda_python else ""
        rows.append(Row("handler", "lambda", python, note))
    return rows


def _log_path(row: Row, step: str) -> Path:
    return LOGS / f"{row.name}-{step}.log"


def _run(row: Row, step: str, command: Sequence[str], env: dict[str, str]) -> tuple[bool, str]:
    """Run one step, its output in a log file; return (ok, last meaningful output line)."""
    LOGS.mkdir(parents=True, exist_ok=True)
    log = _log_path(row, step)
    with log.open("w", encoding="utf-8") as out:
        out.write("$ " + shlex.join(command) + "\n")
        out.flush()
        completed = subprocess.run(
            list(command), cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, check=False
        )
    lines = [line.strip() for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    if completed.returncode != 0:
        tail = "\n".join("    " + line for line in lines[-25:])
        print(f"  {row.name}: {step} FAILED (exit {completed.returncode}); {log}:\n{tail}")
    return completed.returncode == 0, last


def _base_env() -> dict[str, str]:
    """The environment of the steps: no PYTHONPATH, venv or user site of the caller's."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONUSERBASE", "PIP_USER")
    }
    env.update(
        PYTHONNOUSERSITE="1",
        JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION="1",
        CDK_DISABLE_VERSION_CHECK="1",
        CDK_CLI_TELEMETRY_DISABLED="1",
    )
    return env


def requirements_of(row: Row, project: Project) -> tuple[list[str], list[str]]:
    """(requirements, constraints) of a row's venv."""
    if row.kind == "handler":
        return project.pinned(HANDLER_DEPS), []
    requirements = [*project.dependencies, *project.pinned(CONSTRUCT_TEST_DEPS)]
    constraints = project.floor_constraints() if row.deps == "floor" else []
    return requirements, constraints


def ensure_venv(
    row: Row, interpreter: Interpreter, project: Project, *, fresh: bool, result: Result
) -> Path | None:
    """Build (or reuse) the row's venv; return its python, None when the install failed."""
    venv = MATRIX / row.name
    python = venv / "bin" / "python"
    requirements, constraints = requirements_of(row, project)
    key = {
        "schema": SCHEMA,
        "interpreter": str(interpreter.executable.resolve()),
        "version": interpreter.version,
        "requirements": requirements,
        "constraints": constraints,
    }
    if row.deps == "latest":
        key["day"] = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    stamp_value = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
    stamp = venv / ".matrix-stamp"
    reusable = not fresh and python.is_file() and stamp.is_file()
    if reusable and stamp.read_text(encoding="utf-8").strip() == stamp_value:
        result.steps.append(("venv", "reused", 0.0))
        return python
    shutil.rmtree(venv, ignore_errors=True)
    env = _base_env()
    started = time.monotonic()
    ok, _ = _run(row, "venv", [str(interpreter.executable), "-m", "venv", str(venv)], env)
    if ok:
        MATRIX.mkdir(parents=True, exist_ok=True)
        requirements_file = venv / "matrix-requirements.txt"
        requirements_file.write_text("\n".join(requirements) + "\n", encoding="utf-8")
        command = [str(python), *PIP, "install", "--no-compile", "-r", str(requirements_file)]
        if constraints:
            constraints_file = venv / "matrix-constraints.txt"
            constraints_file.write_text("\n".join(constraints) + "\n", encoding="utf-8")
            command += ["-c", str(constraints_file)]
        ok, _ = _run(row, "install", command, env)
    if ok:
        ok, _ = _run(row, "pip-check", [str(python), *PIP, "check"], env)
    result.steps.append(("venv", "built" if ok else "FAILED", time.monotonic() - started))
    if not ok:
        return None
    stamp.write_text(stamp_value + "\n", encoding="utf-8")
    return python


def installed_versions(python: Path) -> dict[str, str]:
    """The installed versions of :data:`SHOWN` in a venv (those installed)."""
    probe = (
        "import importlib.metadata as m, json, sys\n"
        "found = {}\n"
        "for name in sys.argv[1:]:\n"
        "    try:\n"
        "        found[name] = m.version(name)\n"
        "    except m.PackageNotFoundError:\n"
        "        pass\n"
        "print(json.dumps(found))\n"
    )
    completed = subprocess.run(
        [str(python), "-c", probe, *SHOWN],
        capture_output=True,
        text=True,
        check=True,
        env=_base_env(),
    )
    versions: dict[str, str] = json.loads(completed.stdout)
    return versions


def _pytest_summary(line: str) -> str:
    match = re.search(r"(\d+ passed.*?|\d+ failed.*?|no tests ran.*?)(?: in [\d.]+s.*)?$", line)
    return match.group(1).strip(" =,") if match else line[-60:]


def stage_bundle() -> Path:
    """Stage the provider's Lambda asset (what handler_code() uploads) under .matrix/."""
    sys.path.insert(0, str(REPO / "constructs"))
    from cdk_opensearch_packages.handler_asset import stage_handler_bundle

    return stage_handler_bundle(staging_root=MATRIX / "bundle").directory


def run_row(
    row: Row, interpreter: Interpreter, project: Project, *, fresh: bool, bundle: Path | None
) -> Result:
    """Build the row's venv and run its suites."""
    result = Result(row=row, python_version=interpreter.version)
    python = ensure_venv(row, interpreter, project, fresh=fresh, result=result)
    if python is None:
        result.status, result.detail = "FAIL", str(_log_path(row, "install"))
        return result
    result.versions = installed_versions(python)
    env = _base_env()
    pytest = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    steps: list[tuple[str, list[str], dict[str, str]]] = []
    if row.kind == "handler":
        assert bundle is not None
        handler_env = {**env, "PYTHONPATH": str(bundle)}
        # pytest's pythonpath (constructs, lambda) cleared: the bundle alone, as on Lambda.
        steps.append(("tests", [*pytest, "-o", "pythonpath=", "tests/unit/handler"], handler_env))
    else:
        steps.append(("tests", [*pytest, "tests/unit/constructs"], env))
        out = MATRIX / "cdk.out" / row.name
        shutil.rmtree(out, ignore_errors=True)
        cdk = shutil.which("npx", path=env.get("PATH")) or "npx"
        steps.append(
            (
                "synth",
                [
                    cdk,
                    "--no-install",
                    "cdk",
                    "synth",
                    "--quiet",
                    "--no-notices",
                    "--app",
                    f"{shlex.quote(str(python))} app.py",
                    "--output",
                    str(out),
                ],
                env,
            )
        )
    for step, command, step_env in steps:
        started = time.monotonic()
        ok, last = _run(row, step, command, step_env)
        elapsed = time.monotonic() - started
        outcome = _pytest_summary(last) if step == "tests" else ("ok" if ok else "FAILED")
        templates = (MATRIX / "cdk.out" / row.name).glob("*.template.json")
        if step == "synth" and ok and not any(templates):
            ok, outcome = False, "no template written"
        result.steps.append((step, outcome if ok else f"FAILED: {outcome}", elapsed))
        if not ok:
            result.status = "FAIL"
            result.detail = str(_log_path(row, step))
    return result


def print_summary(results: list[Result], total: float) -> None:
    """The table of rows: versions tested, outcome of each step, times."""
    headers = ("row", "python", "aws-cdk-lib", "constructs", "crhelper", "boto3", "steps", "result")
    table: list[tuple[str, ...]] = []
    for r in results:
        v = r.versions
        steps = "; ".join(
            f"{step} {outcome}" + (f" ({seconds:.0f}s)" if outcome != "reused" else "")
            for step, outcome, seconds in r.steps
        )
        if r.status == "SKIPPED":
            steps = r.detail
        table.append(
            (
                r.row.name,
                r.python_version or "-",
                v.get("aws-cdk-lib", "-"),
                v.get("constructs", "-"),
                v.get("crhelper", "-") if r.row.kind == "constructs" else "bundle",
                v.get("boto3", "-"),
                steps,
                r.status,
            )
        )
    widths = [max(len(row[i]) for row in (headers, *table)) for i in range(len(headers))]
    line = "+".join("-" * (w + 2) for w in widths)
    print("\nSupported-versions matrix")
    print(line)
    print(" | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print(line)
    for row in table:
        print(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    print(line)
    for r in results:
        if r.status == "SKIPPED":
            print(f"SKIPPED {r.row.name}: {r.detail}")
        elif r.status == "FAIL":
            print(f"FAILED  {r.row.name}: see {r.detail}")
    print(f"{len(results)} rows in {total:.0f}s; logs in {LOGS.relative_to(REPO)}/")
    counts = {s: sum(r.status == s for r in results) for s in ("PASS", "FAIL", "SKIPPED")}
    # Rows, in the plain "N passed, N failed, N skipped" form test reports close with.
    print(f"matrix: {counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIPPED']} skipped")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the matrix; return the exit status (1: a row failed, 2: a configuration error).

    :param argv: the command-line arguments. Default: ``sys.argv[1:]``.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="the CI subset (see the docstring)")
    parser.add_argument("--fresh", action="store_true", help="rebuild every venv")
    parser.add_argument("--list", action="store_true", help="print the rows and stop")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        project = Project.load()
        print("floor constraints: " + ", ".join(project.floor_constraints()))
        wanted = dict.fromkeys([*project.pythons, project.lambda_python or project.pythons[-1]])
        found = {python: find_interpreter(python) for python in wanted}
        for python, interpreter in found.items():
            if interpreter is None:
                print(f"python {python}: NOT FOUND")
            else:
                print(f"python {python}: {interpreter.executable} ({interpreter.version})")
        rows = plan(project, found, quick=args.quick)
    except MatrixError as error:
        print(f"matrix: {error}", file=sys.stderr)
        return 2
    if args.list:
        for row in rows:
            print(row.name + (f" ({row.note})" if row.note else ""))
        return 0
    bundle = stage_bundle() if any(r.kind == "handler" for r in rows) else None
    results: list[Result] = []
    for row in rows:
        interpreter = found.get(row.python)
        if interpreter is None:
            why = f"no python{row.python} interpreter on this machine (pyenv or PATH)"
            if row.note:
                why += f"; {row.note}"
            print(f"SKIPPED {row.name}: {why}")
            results.append(Result(row=row, status="SKIPPED", detail=why))
            continue
        print(f"== {row.name} ({interpreter.executable}, {interpreter.version})", flush=True)
        results.append(run_row(row, interpreter, project, fresh=args.fresh, bundle=bundle))
    print_summary(results, time.monotonic() - started)
    return 1 if any(r.status == "FAIL" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
