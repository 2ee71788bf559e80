"""``make demo``: the emulation for people.

The demo synthesizes the example app twice (the second time with another dictionary, through
the ``synonyms_file`` context value), starts the local AWS, deploys the stack, updates it, deletes
it and checks that nothing is left behind, printing the stack events and every package and
association status change as they happen. The output wiring (:class:`Session`) and the
synthesis helpers are shared with ``deploy``, ``destroy`` and the other commands of
:mod:`.rehearse`, which keep the account between commands.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cdk_opensearch_packages.local.aws.env import LocalAws
from cdk_opensearch_packages.local.awslambda.runner import LogLine
from cdk_opensearch_packages.local.cloudformation.assembly import CloudAssembly
from cdk_opensearch_packages.local.cloudformation.intrinsics import TemplateError
from cdk_opensearch_packages.local.cloudformation.model import (
    StackEvent,
    StackResult,
    is_custom_resource,
)
from cdk_opensearch_packages.local.demo.display import (
    Display,
    TransitionWatcher,
    construct_paths,
    describe_event,
    describe_log_line,
    is_interesting,
)

if TYPE_CHECKING:
    from cdk_opensearch_packages.local.opensearch.api import Transition

__all__ = [
    "DEMO_TIMELINE",
    "DemoOptions",
    "Session",
    "run_demo",
    "synth_problems",
    "synthesize",
    "synthesize_command",
    "wait_synth",
]

#: Phase durations of the local OpenSearch API in the demo (seconds): short, but long enough to
#: watch the statuses change.
DEMO_TIMELINE = {
    "copying": 1.5,
    "validating": 1.5,
    "deleting": 1.0,
    "associating": 2.5,
    "plugin_associating": 5.0,
    "dissociating": 1.5,
    "plugin_dissociating": 5.0,
}
_SYNTH_TIMEOUT = 300


@dataclass(frozen=True)
class DemoOptions:
    """What the demo and ``deploy`` show and how fast the emulation runs.

    :param show_logs: print the Lambda functions' output as it comes.
    :param verbose: print every stack event (default: stack, custom resources, failures).
    :param time_scale: real seconds per emulated second (EventBridge minutes, retries).
    :param lambda_timeout: override of every function's timeout, seconds.
    :param timeline: phase durations of the local OpenSearch API (seconds by phase name).
        Default: :data:`DEMO_TIMELINE` for the demo, the API's own defaults for ``deploy``.
    """

    show_logs: bool = False
    verbose: bool = False
    time_scale: float = 1 / 30
    lambda_timeout: float | None = None
    timeline: Mapping[str, float] | None = None


def _generated_prefix(logical_id: str) -> str:
    """The first part of the name the provider generates for a package without PackageName
    (``<prefix>-<8 hex>``, the handler's ``generated_package_name``)."""
    prefix = re.sub(r"[^a-z0-9-]", "", logical_id.lower())
    prefix = re.sub(r"^[^a-z]+", "", prefix)
    return prefix[:19].rstrip("-") or "package"


def _repository_root() -> Path:
    return Path(__file__).resolve().parents[4]


def default_app() -> Path:
    """``app.py`` of the current directory, else the example app of the repository."""
    here = Path.cwd() / "app.py"
    return here if here.is_file() else _repository_root() / "app.py"


def synthesize(
    app: Path, outdir: Path, context: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``python app.py`` writing its cloud assembly to ``outdir`` (what ``cdk synth`` runs).

    The context is the ``context`` of the app's ``cdk.json`` plus ``context``, passed the way
    the CDK CLI passes it (``CDK_CONTEXT_JSON``).
    """
    return _start_synth([sys.executable, str(app)], app.parent, outdir, context)


def synthesize_command(
    command: str, directory: Path, outdir: Path, context: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start a CDK app command (``cdk.json``'s ``app``, e.g. ``python app.py``) in ``directory``
    through the shell, as the CDK CLI does, writing its cloud assembly to ``outdir``."""
    return _start_synth(command, directory, outdir, context)


def _start_synth(
    command: str | list[str],
    directory: Path,
    outdir: Path,
    context: Mapping[str, str] | None,
) -> subprocess.Popen[bytes]:
    """Start ``command`` (a string: through the shell) in ``directory``, output captured."""
    return subprocess.Popen(
        command,
        shell=isinstance(command, str),
        cwd=directory,
        env=_synth_environment(directory, outdir, context),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _synth_environment(
    directory: Path, outdir: Path, context: Mapping[str, str] | None
) -> dict[str, str]:
    # As the CDK CLI does: the construct paths in the template (the event lines show them).
    merged: dict[str, object] = {"aws:cdk:enable-path-metadata": True}
    cdk_json = directory / "cdk.json"
    if cdk_json.is_file():
        merged.update(json.loads(cdk_json.read_text(encoding="utf-8")).get("context", {}))
    merged.update(context or {})
    source_root = Path(__file__).resolve().parents[3]
    environment = dict(os.environ)
    environment.update(
        {
            "CDK_OUTDIR": str(outdir),
            "CDK_CONTEXT_JSON": json.dumps(merged),
            "CDK_DISABLE_VERSION_CHECK": "1",
            "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
            # The venv's bin holds the Node.js the CDK's jsii runtime needs.
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
            "PYTHONPATH": os.pathsep.join(
                [str(source_root), *filter(None, [os.environ.get("PYTHONPATH")])]
            ),
        }
    )
    return environment


def wait_synth(
    process: subprocess.Popen[bytes],
    subject: str,
    *,
    timeout: float = _SYNTH_TIMEOUT,
    separator: str = ":\n",
) -> None:
    """Wait for a synthesis started by :func:`synthesize` or :func:`synthesize_command`.

    :raises RuntimeError: ``"<subject> took more than <timeout> s"`` (the process is killed), or
        ``"<subject> failed<separator><its problems>"`` (see :func:`synth_problems`).
    """
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        raise RuntimeError(f"{subject} took more than {timeout} s") from None
    if process.returncode != 0:
        text = output.decode("utf-8", errors="replace")
        raise RuntimeError(f"{subject} failed{separator}{synth_problems(text)}")


_VALIDATION_HEADER = "Validation failed with the following errors:"
_EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?(\w*(?:Error|Exception)): (.*)$")


def synth_problems(output: str) -> str:
    """What a failed synthesis says, without the traceback: every error of CDK's validation
    phase (``[path] message`` lines), else the exception's message (its last lines), else the
    whole output."""
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if _VALIDATION_HEADER in line:
            problems = []
            for following in lines[index + 1 :]:
                stripped = following.strip()
                if stripped.startswith("["):
                    problems.append(f"  {stripped}")
                elif problems and stripped and not stripped.startswith(("at ", "File ")):
                    if following.startswith((" ", "\t")) and not _EXCEPTION_LINE.match(stripped):
                        problems[-1] += f" {stripped}"
                        continue
                    break
                elif problems:
                    break
            if problems:
                count = len(problems)
                return f"{count} problem{'s' if count > 1 else ''}:\n" + "\n".join(problems)
    for index in range(len(lines) - 1, -1, -1):
        match = _EXCEPTION_LINE.match(lines[index].strip())
        if match is not None and not lines[index].startswith(" "):
            message = [match.group(2), *[line for line in lines[index + 1 :] if line.strip()]]
            return "\n".join(f"  {line}" for line in message)
    return output.strip()


def _updated_dictionary(app: Path, work: Path) -> Path:
    """The dictionary of the update: the example's v2 file, or the v1 file with a new line."""
    dictionaries = app.parent / "examples" / "dictionaries"
    v2 = dictionaries / "synonyms-v2.txt"
    if v2.is_file():
        return v2
    original = (dictionaries / "synonyms.txt").read_text(encoding="utf-8")
    updated = work / "synonyms-updated.txt"
    updated.write_text(original.rstrip("\n") + "\nlaptop, notebook\n", encoding="utf-8")
    return updated


class Session:
    """Output wiring shared by the demo and ``deploy``."""

    def __init__(self, aws: LocalAws, display: Display, options: DemoOptions) -> None:
        self.aws = aws
        self.display = display
        self.options = options
        self._paths: dict[tuple[str, str], str] = {}
        for stack in aws.cloudformation.stacks():
            self.remember(stack.name, stack.template)
        aws.cloudformation.subscribe(self._on_event)
        if options.show_logs:
            aws.logs.subscribe(self._on_log)
        self.watcher = (
            TransitionWatcher(aws.opensearch, display, label=self._label)
            if aws.opensearch
            else None
        )

    def remember(self, stack_name: str, template: Mapping[str, Any]) -> None:
        """Learn the construct paths of a template's resources (for the event lines)."""
        for logical_id, path in construct_paths(template).items():
            self._paths[(stack_name, logical_id)] = path

    def path(self, stack_name: str, logical_id: str) -> str | None:
        """The construct path of a resource, when its template said."""
        return self._paths.get((stack_name, logical_id))

    def _label(self, transition: Transition) -> str | None:
        """The construct that made a package or association (a status change's subject)."""
        wanted = (
            transition.package_id
            if transition.kind == "package"
            else f"{transition.domain_name}|packages"  # the domain's package set
        )
        for stack in self.aws.cloudformation.stacks():
            for state in stack.resources.values():
                if state.physical_id == wanted and is_custom_resource(state.resource_type):
                    return self.path(stack.name, state.logical_id) or state.logical_id
        name = ""
        if transition.kind == "package" and self.aws.opensearch is not None:
            for package in self.aws.opensearch.packages():
                if package.get("PackageID") == transition.package_id:
                    name = str(package.get("PackageName", ""))
        for request in reversed(self.aws.cloudformation.custom_requests()):
            properties = request.get("ResourceProperties") or {}
            logical_id = str(request["LogicalResourceId"])
            stack_name = str(request["StackId"]).split("/")[1]
            if transition.kind == "association":
                listed = properties.get("PackageList") or []
                matches = properties.get("DomainName") == transition.domain_name and any(
                    isinstance(entry, dict) and entry.get("PackageID") == transition.package_id
                    for entry in listed
                )
            else:
                matches = bool(name) and (
                    properties.get("PackageName") == name
                    or (
                        "PackageName" not in properties
                        and "PackageType" in properties
                        and name.rsplit("-", 1)[0] == _generated_prefix(logical_id)
                    )
                )
            if matches:
                return self.path(stack_name, logical_id) or logical_id
        return None

    def _on_event(self, event: StackEvent) -> None:
        if self.watcher is not None:
            self.watcher.flush()  # the status changes that led to this event come first
        if self.options.verbose or is_interesting(event):
            path = None if event.is_stack_event else self.path(event.stack_name, event.logical_id)
            self.display.line(describe_event(event, path))

    def _on_log(self, line: LogLine) -> None:
        self.display.line(describe_log_line(line))

    def run(self, what: str, operation: Callable[[], StackResult]) -> StackResult:
        """Run a stack operation with the status line and the status changes shown."""
        self.display.status(what)
        if self.watcher is not None:
            self.watcher.start()
        try:
            result = operation()
        finally:
            if self.watcher is not None:
                self.watcher.stop()
            self.display.status("")
        self.report(result)
        return result

    def report(self, result: StackResult) -> None:
        """Print the outcome of an operation: status, reason, outputs."""
        if not result.changed:
            self.display.line(f"  {result.stack_name}: no changes")
            return
        self.display.line(f"  => {result.stack_name}: {result.status}")
        if result.reason:
            self.display.line(f"     reason: {result.reason}")
        if result.outputs and result.succeeded and result.operation != "DELETE":
            self.display.line("  Outputs:")
            width = max(len(name) for name in result.outputs)
            for name, value in result.outputs.items():
                self.display.line(f"    {name:<{width}}  {value}")

    def checks(self, stack_names: Sequence[str], existing: Sequence[str] = ()) -> bool:
        """Print and evaluate the "nothing left" checks.

        :param existing: ids of packages made elsewhere (they stay).
        """
        self.aws.runner.wait_idle(30)
        inventory = self.aws.inventory()
        for package_id in existing:
            inventory.packages.pop(package_id, None)
        signatures = self.aws.listener.signatures()
        leaked = [s for s in signatures if self.aws.logs.grep(s)]
        results = [
            ("no packages left", not inventory.packages, inventory.packages),
            ("no associations left", not inventory.associations, inventory.associations),
            (
                "no EventBridge rules or targets left",
                not inventory.rules and not inventory.targets,
                inventory.rules,
            ),
            (
                "no Lambda permission statements added by the handler",
                not inventory.handler_permissions,
                inventory.handler_permissions,
            ),
            ("no Lambda function left", not inventory.functions, inventory.functions),
            (
                "no stack left",
                all(self.aws.cloudformation.stack(name) is None for name in stack_names),
                list(stack_names),
            ),
            (
                f"no ResponseURL signature in the Lambda logs ({len(signatures)} issued)",
                not leaked,
                len(leaked),
            ),
        ]
        self.display.line("Checks")
        for label, ok, detail in results:
            self.display.line(
                f"  {'ok  ' if ok else 'FAIL'} {label}" + ("" if ok else f": {detail}")
            )
        return all(ok for _, ok, _ in results)


def run_demo(
    *,
    app: Path | None = None,
    assemblies: tuple[CloudAssembly, CloudAssembly] | None = None,
    options: DemoOptions | None = None,
    display: Display | None = None,
) -> int:
    """Synthesize, deploy, update and delete the example app locally; return the exit status.

    :param app: the CDK app (default: :func:`default_app`); it is synthesized twice, the second
        time with the ``synonyms_file`` context value naming the updated dictionary.
    :param assemblies: the two cloud assemblies to deploy instead (nothing is synthesized).
    """
    opts = options or DemoOptions()
    out = display or Display()
    app_path = (app or default_app()).resolve()
    started = time.monotonic()
    out.line("cdk-opensearch-packages local demo: CloudFormation, Lambda, EventBridge, S3 and the")
    out.line("OpenSearch packages API, all emulated on this machine (no AWS account needed)")
    out.start()
    try:
        with tempfile.TemporaryDirectory(prefix="cdk-osp-demo-") as work_name:
            work = Path(work_name)
            if assemblies is None:
                v1, v2 = _synthesize_versions(app_path, work, out)
            else:
                out.line("[1/5] Using the given cloud assemblies")
                v1, v2 = assemblies
            out.line(f"  stacks: {', '.join(s.stack_name for s in v1.stacks)}")
            out.line("[2/5] Starting the local AWS")
            out.status("starting moto and the local OpenSearch API")
            from cdk_opensearch_packages.local.opensearch.api import Timeline

            with LocalAws(
                time_scale=opts.time_scale,
                lambda_timeout=opts.lambda_timeout,
                opensearch_timeline=Timeline.from_mapping(opts.timeline or DEMO_TIMELINE),
            ) as aws:
                out.line(f"  moto (S3, EventBridge, Lambda, IAM, STS): {aws.moto_url}")
                out.line(
                    f"  EventBridge of the functions (fault proxy): {aws.events_proxy.endpoint_url}"
                )
                if aws.opensearch is not None:
                    out.line(f"  OpenSearch packages API: {aws.opensearch.endpoint_url}")
                session = Session(aws, out, opts)
                ok = _demo_steps(session, v1, v2)
                ok = session.checks([s.stack_name for s in v1.stacks]) and ok
                lines = len(aws.logs.lines())
    except (RuntimeError, TemplateError) as error:
        out.stop()
        out.line(f"demo failed: {error}")
        return 1
    out.stop()
    hint = "" if opts.show_logs else " (run with --logs to see them)"
    out.line(
        f"{'Done' if ok else 'FAILED'} in {time.monotonic() - started:.1f} s; "
        f"the Lambda functions wrote {lines} log lines{hint}."
    )
    return 0 if ok else 1


def _synthesize_versions(
    app: Path, work: Path, out: Display
) -> tuple[CloudAssembly, CloudAssembly]:
    updated_file = _updated_dictionary(app, work)
    out.line(f"[1/5] Synthesizing {app.name} (v1, and v2 with {updated_file.name})")
    out.status("cdk synth")
    first = synthesize(app, work / "v1")
    second = synthesize(app, work / "v2", {"synonyms_file": str(updated_file)})
    wait_synth(first, f"synthesis of {app.name} (v1)")
    wait_synth(second, f"synthesis of {app.name} (v2)")
    return CloudAssembly.load(work / "v1"), CloudAssembly.load(work / "v2")


def _demo_steps(session: Session, v1: CloudAssembly, v2: CloudAssembly) -> bool:
    cloudformation = session.aws.cloudformation
    ok = True
    names = [s.stack_name for s in v1.stacks]
    session.display.line(f"[3/5] Deploying {', '.join(names)}")
    for artifact in [*v1.stacks, *v2.stacks]:
        session.remember(artifact.stack_name, artifact.template)
    for artifact in v1.stacks:
        result = session.run(
            f"deploying {artifact.stack_name}", partial(cloudformation.deploy_artifact, artifact)
        )
        ok = ok and result.succeeded
    if ok:
        session.display.line("[4/5] Updating: a new version of the dictionary")
        for artifact in v2.stacks:
            result = session.run(
                f"updating {artifact.stack_name}",
                partial(cloudformation.deploy_artifact, artifact),
            )
            ok = ok and result.succeeded
    session.display.line(f"[5/5] Deleting {', '.join(names)}")
    for artifact in reversed(v1.stacks):
        result = session.run(
            f"deleting {artifact.stack_name}",
            partial(cloudformation.delete, artifact.stack_name),
        )
        ok = ok and result.succeeded
    return ok
