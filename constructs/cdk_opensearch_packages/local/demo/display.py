"""Terminal output of the demo and of ``deploy``: stack events, package status changes, a
status line.

On a terminal a spinner line at the bottom shows what is being waited for; everything else is
printed as permanent lines above it. When stdout is not a terminal only the permanent lines are
written (plain text, one event per line), so the output reads well in CI logs and pipes.
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TextIO

from cdk_opensearch_packages.local.cloudformation.model import StackEvent, is_custom_resource

if TYPE_CHECKING:
    from cdk_opensearch_packages.local.awslambda.runner import LogLine
    from cdk_opensearch_packages.local.opensearch.api import LocalOpenSearchService, Transition

__all__ = [
    "Display",
    "TransitionWatcher",
    "construct_paths",
    "describe_event",
    "describe_transition",
]

_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class Display:
    """Permanent lines plus, on a terminal, a live status line.

    :param stream: where to write. Default: ``sys.stdout``.
    :param interactive: whether to draw the status line. Default: ``stream.isatty()``.
    """

    def __init__(self, stream: TextIO | None = None, *, interactive: bool | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdout
        self.interactive = self._stream.isatty() if interactive is None else interactive
        self._lock = threading.Lock()
        self._status = ""
        self._started = time.monotonic()
        self._drawn = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def line(self, text: str = "") -> None:
        """Print a permanent line (above the status line)."""
        with self._lock:
            self._clear()
            self._stream.write(text + "\n")
            self._draw()
            self._stream.flush()

    def status(self, text: str) -> None:
        """Set the status line (ignored when not interactive)."""
        with self._lock:
            self._status = text
            self._started = time.monotonic()

    def start(self) -> None:
        """Start redrawing the status line (a spinner and the seconds elapsed)."""
        if self.interactive and self._thread is None:
            self._thread = threading.Thread(target=self._spin, name="demo-display", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the status line and erase it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        with self._lock:
            self._clear()
            self._stream.flush()

    def _spin(self) -> None:
        for frame in itertools.cycle(_SPINNER):
            if self._stop.wait(0.1):
                return
            with self._lock:
                self._clear()
                self._frame = frame
                self._draw()
                self._stream.flush()

    def _clear(self) -> None:
        if self.interactive and self._drawn:
            self._stream.write("\r\033[2K")
            self._drawn = False

    def _draw(self) -> None:
        if not self.interactive or not self._status or self._thread is None:
            return
        elapsed = time.monotonic() - self._started
        frame = getattr(self, "_frame", _SPINNER[0])
        self._stream.write(f"{frame} {self._status} ({elapsed:4.1f}s)")
        self._drawn = True


def describe_event(event: StackEvent, path: str | None = None) -> str:
    """One line for a stack event.

    :param path: the resource's construct path (``aws:cdk:path``), shown beside its logical id.
    """
    stamp = time.strftime("%H:%M:%S", time.localtime(event.timestamp))
    what = "stack" if event.is_stack_event else event.resource_type
    where = f" ({path})" if path else ""
    reason = f" - {event.reason}" if event.reason else ""
    return f"  {stamp}  {event.status:<44} {what:<38} {event.logical_id}{where}{reason}"


def construct_paths(template: Mapping[str, Any]) -> dict[str, str]:
    """``logical id -> construct path`` of a template's resources (their ``aws:cdk:path``
    metadata), shortened: without the stack's name in front nor the ``/Resource``,
    ``/Default`` and ``/Resource/Default`` every L1 or custom resource ends with."""
    paths: dict[str, str] = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        metadata = resource.get("Metadata") if isinstance(resource, Mapping) else None
        path = metadata.get("aws:cdk:path") if isinstance(metadata, Mapping) else None
        if not isinstance(path, str) or not path:
            continue
        parts = path.split("/")
        if len(parts) > 1:
            parts = parts[1:]
        while len(parts) > 1 and parts[-1] in ("Resource", "Default"):
            parts.pop()
        paths[str(logical_id)] = "/".join(parts)
    return paths


def is_interesting(event: StackEvent) -> bool:
    """Stack events, custom resources and failures (the rest is shown with ``--verbose``)."""
    return (
        event.is_stack_event
        or is_custom_resource(event.resource_type)
        or event.status.endswith("_FAILED")
    )


def describe_transition(transition: Transition, label: str | None = None) -> str:
    """One line for a package or association status change.

    :param label: what made the package or association (a construct path), when known.
    """
    version = f" {transition.package_version}" if transition.package_version else ""
    before = transition.from_status or "(new)"
    if transition.kind == "package":
        subject = f"package {transition.package_id}{version}"
    else:
        subject = f"association {transition.domain_name} <- {transition.package_id}{version}"
    where = f"  ({label})" if label else ""
    return f"    {subject:<44} {before} -> {transition.to_status}{where}"


def describe_log_line(line: LogLine) -> str:
    """One line of Lambda output, prefixed with a short request id."""
    return f"    | {line.request_id[:8]} {line.text}"


class TransitionWatcher:
    """Prints the local OpenSearch API's status changes as they happen (a background thread).

    :param service: the local OpenSearch packages API.
    :param display: where to print.
    :param interval: seconds between two looks.
    :param label: names what made a package or association (``None``: unknown).
    """

    def __init__(
        self,
        service: LocalOpenSearchService,
        display: Display,
        interval: float = 0.2,
        label: Callable[[Transition], str | None] | None = None,
    ) -> None:
        self._service = service
        self._label = label
        self._display = display
        self._interval = interval
        self._seen = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start watching (again, after :meth:`stop`)."""
        if self._thread is not None:
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, args=(self._stop,), name="transition-watcher", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Print what is left and stop watching."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        self.flush()

    def flush(self) -> None:
        """Print the status changes not printed yet."""
        with self._lock:
            transitions = self._service.transitions()
            for transition in transitions[self._seen :]:
                label = self._label(transition) if self._label is not None else None
                self._display.line(describe_transition(transition, label))
            self._seen = len(transitions)

    def _loop(self, stop: threading.Event) -> None:
        while not stop.wait(self._interval):
            self.flush()
