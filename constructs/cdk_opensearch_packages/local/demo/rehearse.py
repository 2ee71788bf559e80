"""Rehearsing a user's own stacks as separate commands, like ``cdk deploy`` and ``cdk destroy``.

``deploy`` creates or updates stacks in the local account kept in the state folder
(:mod:`.workspace`), ``destroy`` deletes them, ``status`` shows stacks, packages, versions and
associations, ``reset`` wipes the folder, ``packages add`` makes packages exist as if made
elsewhere (for stacks that import them with ``OpenSearchPackage.from_package_id``,
``from_package_name`` or ``from_package_attributes``).

Each command starts a local AWS, restores the saved account into it, runs its stack operations
and saves the account after each one (:mod:`..aws.snapshot`).
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from cdk_opensearch_packages.local.aws.env import LocalAws
from cdk_opensearch_packages.local.aws.snapshot import read_state, restore, save
from cdk_opensearch_packages.local.cloudformation.assembly import CloudAssembly, StackArtifact
from cdk_opensearch_packages.local.cloudformation.intrinsics import TemplateError
from cdk_opensearch_packages.local.demo.display import Display, construct_paths
from cdk_opensearch_packages.local.demo.run import (
    DemoOptions,
    Session,
    synthesize_command,
    wait_synth,
)
from cdk_opensearch_packages.local.demo.workspace import (
    StateLocked,
    Workspace,
    empty_state,
    state_dir,
)

__all__ = [
    "load_seed",
    "run_deploy",
    "run_destroy",
    "run_packages_add",
    "run_reset",
    "run_status",
]

_SYNTH_TIMEOUT = 600
_EXISTING = "existing_packages"
_PACKAGE_KEYS = {
    "name": "name",
    "type": "package_type",
    "version": "version",
    "id": "package_id",
    "description": "description",
    "engine_version": "engine_version",
    "owner": "owner",
}


class _NoSources:
    """The source reader of an offline package store (``status``, ``packages add``)."""

    def read(self, bucket: str, key: str) -> bytes:
        from cdk_opensearch_packages.local.opensearch.api import SourceError

        raise SourceError("ClientError", "no S3 in an offline look at the state")


def _offline_store(state: Mapping[str, Any]) -> Any:
    """A local OpenSearch API (not serving) holding the saved packages."""
    from cdk_opensearch_packages.local.aws.constants import ACCOUNT_ID, REGION
    from cdk_opensearch_packages.local.opensearch.api import LocalOpenSearchService

    service = LocalOpenSearchService(
        region=REGION, account_id=ACCOUNT_ID, source_reader=_NoSources()
    )
    if state.get("opensearch"):
        service.import_state(dict(state["opensearch"]))
    return service


def _local_aws(options: DemoOptions) -> LocalAws:
    from cdk_opensearch_packages.local.opensearch.api import Timeline

    timeline = Timeline.from_mapping(options.timeline) if options.timeline is not None else None
    return LocalAws(
        time_scale=options.time_scale,
        lambda_timeout=options.lambda_timeout,
        opensearch_timeline=timeline,
    )


def _save(aws: LocalAws, workspace: Workspace, state: Mapping[str, Any]) -> None:
    extra = {
        _EXISTING: list(state.get(_EXISTING, [])),
        "saved": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    save(aws, workspace.folder, extra)


@contextlib.contextmanager
def _account(
    workspace: Workspace, options: DemoOptions, out: Display
) -> Iterator[tuple[LocalAws, dict[str, Any]]]:
    """The local AWS with the saved account restored."""
    notice = workspace.interruption_notice()
    if notice:
        out.line(notice)
    state = workspace.state() or empty_state()
    out.status("starting the local AWS")
    with _local_aws(options) as aws:
        restore(aws, workspace.folder, state)
        yield aws, state


def _synth(app: str, directory: Path, outdir: Path, out: Display) -> CloudAssembly:
    out.line(f"Synthesizing `{app}`")
    out.status("cdk synth")
    process = synthesize_command(app, directory, outdir)
    wait_synth(process, "synthesis", timeout=_SYNTH_TIMEOUT, separator=", ")
    return CloudAssembly.load(outdir)


def _app_command(app: str | None) -> tuple[str, Path]:
    """The app command and its folder: ``--app``, else ``cdk.json``'s ``app``."""
    directory = Path.cwd()
    if app:
        return app, directory
    cdk_json = directory / "cdk.json"
    if not cdk_json.is_file():
        raise RuntimeError(
            "nothing to deploy: give cloud assembly folders (`cdk synth -o DIR`), --app "
            "'python app.py', or run in a folder whose cdk.json names the app"
        )
    command = json.loads(cdk_json.read_text(encoding="utf-8")).get("app")
    if not command:
        raise RuntimeError(f'{cdk_json} has no "app"')
    return str(command), directory


def _select(assembly: CloudAssembly, stacks: Sequence[str]) -> list[StackArtifact]:
    if not stacks:
        return list(assembly.stacks)
    return [assembly.stack(name) for name in stacks]


def load_seed(path: Path) -> list[dict[str, Any]]:
    """The packages of a seed file: a JSON list (or ``{"packages": [...]}``) of objects with
    ``name``, ``type``, and optionally ``version`` (``v1``), ``id``, ``description``,
    ``engine_version``, ``owner``.

    :raises ValueError: the file is not such a list.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    items = data.get("packages") if isinstance(data, dict) else data
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ValueError(f"{path}: expected a list of packages (objects with name and type)")
    packages = []
    for item in items:
        unknown = sorted(set(item) - set(_PACKAGE_KEYS))
        if unknown or "name" not in item or "type" not in item:
            raise ValueError(
                f"{path}: each package needs name and type, and may have "
                f"{', '.join(sorted(set(_PACKAGE_KEYS) - {'name', 'type'}))}"
                + (f" (unknown: {', '.join(unknown)})" if unknown else "")
            )
        packages.append({_PACKAGE_KEYS[key]: str(value) for key, value in item.items()})
    return packages


def _add_packages(
    service: Any, state: dict[str, Any], packages: Sequence[Mapping[str, Any]], out: Display
) -> int:
    """Add packages made elsewhere; the same package again (same name, type and id or no id)
    is skipped. Return how many were added."""
    existing = {package["PackageName"]: package for package in service.packages()}
    added = 0
    for package in packages:
        name = str(package["name"])
        found = existing.get(name)
        if found is not None:
            same = found["PackageType"] == package["package_type"] and package.get(
                "package_id"
            ) in (None, found["PackageID"])
            if same and found["PackageID"] in state.get(_EXISTING, []):
                out.line(f"  package {found['PackageID']} {name}: already there")
                continue
        details = service.add_existing_package(**package)
        state.setdefault(_EXISTING, []).append(details["PackageID"])
        out.line(
            f"  added package {details['PackageID']} {name} ({details['PackageType']}, "
            f"{details['AvailablePackageVersion']}, AVAILABLE)"
        )
        added += 1
    return added


def run_deploy(
    assemblies: Sequence[Path] = (),
    *,
    app: str | None = None,
    stacks: Sequence[str] = (),
    destroy: bool = False,
    seed: Path | None = None,
    state: str | Path | None = None,
    options: DemoOptions | None = None,
    display: Display | None = None,
) -> int:
    """Create or update stacks in the saved local account; return the exit status.

    :param assemblies: ``cdk.out`` folders, deployed in turn. Default: synthesize ``app``.
    :param app: the app command (default: ``cdk.json``'s ``app`` in the working directory).
    :param stacks: only these stacks. Default: every stack of each assembly.
    :param destroy: delete the stacks at the end and check that nothing is left.
    :param seed: a file of packages made elsewhere to add first (:func:`load_seed`).
    :param state: the state folder (:func:`.state_dir`).
    """
    opts = options or DemoOptions()
    out = display or Display()
    out.start()
    ok = True
    try:
        with contextlib.ExitStack() as resources:
            if assemblies:
                loaded = [(str(path), CloudAssembly.load(path)) for path in assemblies]
            else:
                command, directory = _app_command(app)
                work = Path(resources.enter_context(tempfile.TemporaryDirectory(prefix="cdk-")))
                loaded = [(command, _synth(command, directory, work / "cdk.out", out))]
            seeded = load_seed(seed) if seed is not None else []
            workspace = resources.enter_context(Workspace(state_dir(state), "deploy"))
            aws, saved = resources.enter_context(_account(workspace, opts, out))
            if seeded and aws.opensearch is not None:
                out.line(f"Packages made elsewhere ({seed})")
                if _add_packages(aws.opensearch, saved, seeded, out):
                    _save(aws, workspace, saved)
            session = Session(aws, out, opts)
            names: list[str] = []
            for label, assembly in loaded:
                out.line(f"Deploying {label}")
                for artifact in _select(assembly, stacks):
                    name = artifact.stack_name
                    if name not in names:
                        names.append(name)
                    session.remember(name, artifact.template)
                    existing = aws.cloudformation.stack(name)
                    workspace.mark("UPDATE" if existing else "CREATE", name)
                    result = session.run(
                        f"deploying {name}",
                        partial(aws.cloudformation.deploy_artifact, artifact),
                    )
                    if result.changed:
                        _save(aws, workspace, saved)
                    workspace.mark(None)
                    ok = ok and result.succeeded
                    if not ok:
                        break
                if not ok:
                    break
            if destroy:
                out.line("Destroying")
                ok = _delete(aws, workspace, session, saved, names[::-1]) and ok
                ok = session.checks(names, existing=saved.get(_EXISTING, [])) and ok
            out.stop()
    except (RuntimeError, TemplateError, ValueError, StateLocked) as error:
        out.stop()
        out.line(f"deploy failed: {error}")
        if "can not be updated" in str(error):
            out.line(
                "  `destroy --stack NAME` deletes that stack (then deploy again), `reset` "
                "forgets the whole local account"
            )
        return 1
    except KeyboardInterrupt:
        out.stop()
        out.line("interrupted: the state is the one after the last completed operation")
        return 130
    return 0 if ok else 1


def _delete(
    aws: LocalAws,
    workspace: Workspace,
    session: Session,
    saved: Mapping[str, Any],
    names: Sequence[str],
) -> bool:
    """Delete the stacks in this order, saving the account after each; whether all succeeded."""
    ok = True
    for name in names:
        workspace.mark("DELETE", name)
        result = session.run(f"deleting {name}", partial(aws.cloudformation.delete, name))
        _save(aws, workspace, saved)
        workspace.mark(None)
        ok = ok and result.succeeded
    return ok


def run_destroy(
    stacks: Sequence[str] = (),
    *,
    state: str | Path | None = None,
    options: DemoOptions | None = None,
    display: Display | None = None,
) -> int:
    """Delete stacks of the saved local account (default: all, the last created first)."""
    opts = options or DemoOptions()
    out = display or Display()
    out.start()
    ok = True
    try:
        with contextlib.ExitStack() as resources:
            workspace = resources.enter_context(Workspace(state_dir(state), "destroy"))
            aws, saved = resources.enter_context(_account(workspace, opts, out))
            known = [stack.name for stack in aws.cloudformation.stacks()]
            unknown = [name for name in stacks if name not in known]
            if unknown:
                raise RuntimeError(
                    f"no stack named {', '.join(unknown)} in {workspace.folder} "
                    f"(stacks: {', '.join(known) or 'none'})"
                )
            chosen = [name for name in reversed(known) if not stacks or name in stacks]
            if not chosen:
                out.line(f"No stacks in {workspace.folder}: nothing to destroy")
            session = Session(aws, out, opts)
            ok = _delete(aws, workspace, session, saved, chosen)
            if chosen and not stacks:
                ok = session.checks(chosen, existing=saved.get(_EXISTING, [])) and ok
            out.stop()
    except (RuntimeError, TemplateError, ValueError, StateLocked) as error:
        out.stop()
        out.line(f"destroy failed: {error}")
        return 1
    except KeyboardInterrupt:
        out.stop()
        out.line("interrupted: the state is the one after the last completed operation")
        return 130
    return 0 if ok else 1


_LOOKUP_TYPE = "Custom::OpenSearchPackageLookup"


def _owners(state: Mapping[str, Any], resource_types: frozenset[str]) -> dict[str, list[str]]:
    """``physical id -> ["Stack/construct path", ...]`` of the stacks' resources of these
    types."""
    owners: dict[str, list[str]] = {}
    for stack in state.get("cloudformation", {}).get("stacks", []):
        paths = construct_paths(stack.get("template", {}))
        for resource in stack.get("resources", []):
            if resource.get("resource_type") in resource_types:
                logical_id = resource["logical_id"]
                where = f"{stack['name']}/{paths.get(logical_id, logical_id)}"
                owners.setdefault(str(resource["physical_id"]), []).append(where)
    return owners


def run_status(*, state: str | Path | None = None, display: Display | None = None) -> int:
    """Print the stacks, packages, versions, associations and domains of the saved account."""
    out = display or Display(interactive=False)
    folder = state_dir(state)
    try:
        try:
            with Workspace(folder, "status") as workspace:
                notice = workspace.interruption_notice()
                saved = workspace.state()
        except StateLocked as busy:  # a command runs: show what it saved so far
            notice = f"note: {busy}; shown: the state after its last completed operation"
            saved = read_state(folder)
    except ValueError as error:
        out.line(f"status failed: {error}")
        return 1
    if notice:
        out.line(notice)
    if saved is None:
        out.line(f"No local state in {folder}: nothing deployed yet")
        return 0
    out.line(f"Local state: {folder} (saved {saved.get('saved', '?')})")
    stacks = saved.get("cloudformation", {}).get("stacks", [])
    out.line(f"Stacks ({len(stacks)})")
    for stack in stacks:
        out.line(f"  {stack['name']}  {stack['status']}  ({len(stack['resources'])} resources)")
        status = str(stack["status"])
        if status.endswith(("_FAILED", "_IN_PROGRESS")):
            out.line(
                "    the stack cannot be updated in this state: `destroy --stack "
                f"{stack['name']}` deletes it, `reset` starts over"
            )
        for name, value in stack.get("outputs", {}).items():
            out.line(f"    {name} = {value}")
    service = _offline_store(saved)
    owners = _owners(
        saved, frozenset({"Custom::OpenSearchPackage", "Custom::OpenSearchDomainPackages"})
    )
    lookups = _owners(saved, frozenset({_LOOKUP_TYPE}))
    existing = set(saved.get(_EXISTING, []))
    packages = service.packages()
    out.line(f"Packages ({len(packages)})")
    for package in packages:
        package_id = str(package["PackageID"])
        versions = ", ".join(v["PackageVersion"] for v in service.versions(package_id))
        made = owners.get(package_id)
        owner = made[0] if made else "made elsewhere" if package_id in existing else "no stack"
        if package_id in lookups:
            owner += f", looked up by {', '.join(lookups[package_id])}"
        out.line(
            f"  {package_id}  {package['PackageName']}  {package['PackageType']}  "
            f"{package['PackageStatus']}  available {package.get('AvailablePackageVersion', '-')}"
            f" (versions: {versions or '-'})  {owner}"
        )
    associations = service.associations()
    out.line(f"Associations ({len(associations)})")
    for association in associations:
        key = f"{association['DomainName']}|{association['PackageID']}"
        domain_set = f"{association['DomainName']}|packages"  # Custom::OpenSearchDomainPackages
        out.line(
            f"  {association['DomainName']} <- {association['PackageID']} "
            f"{association.get('PackageVersion', '-')}  {association['DomainPackageStatus']}  "
            f"{(owners.get(key) or owners.get(domain_set) or ['no stack'])[0]}"
        )
    domains = service.domains()
    out.line(f"Domains ({len(domains)})")
    for domain in domains:
        out.line(f"  {domain['DomainName']}  {domain['EngineVersion']}")
    return 0


def run_reset(*, state: str | Path | None = None, display: Display | None = None) -> int:
    """Delete the saved account (stacks, packages, objects)."""
    out = display or Display(interactive=False)
    folder = state_dir(state)
    if not folder.exists():
        out.line(f"No local state in {folder}: nothing to reset")
        return 0
    try:
        with Workspace(folder, "reset") as workspace:
            workspace.wipe()
    except StateLocked as error:
        out.line(f"reset failed: {error}")
        return 1
    out.line(f"Deleted the local state in {folder}")
    return 0


def run_packages_add(
    packages: Sequence[Mapping[str, Any]],
    *,
    state: str | Path | None = None,
    display: Display | None = None,
) -> int:
    """Make packages exist in the saved account as if made elsewhere (AVAILABLE)."""
    out = display or Display(interactive=False)
    try:
        with Workspace(state_dir(state), "packages add") as workspace:
            saved = workspace.state() or empty_state()
            service = _offline_store(saved)
            _add_packages(service, saved, packages, out)
            saved["opensearch"] = service.export_state()
            saved["saved"] = time.strftime("%Y-%m-%d %H:%M:%S")
            workspace.write(saved)
    except (StateLocked, ValueError) as error:
        out.line(f"packages add failed: {error}")
        return 1
    return 0
