"""Run Lambda functions locally the way the Lambda service does.

Every invocation runs in a fresh Python process (:mod:`.lambda_bootstrap`) whose ``sys.path``
holds only the function's code directory and a directory with the runtime's own libraries
(boto3, botocore and their dependencies), so a code asset that forgot to bundle a dependency
fails here as it would on AWS. The process gets the function's environment variables, the
reserved ``AWS_LAMBDA_*`` variables and the local endpoints; it is killed at the function's
timeout.

CloudFormation and EventBridge invoke functions asynchronously: :meth:`LambdaRunner.invoke_async`
queues the event and, like Lambda's asynchronous invocation, delivers it again (up to two
retries, the same request id) after a function error, a timeout or a crash. Tests can kill an
invocation mid-operation (:meth:`LambdaRunner.kill_invocation`) to see the same event delivered
twice. Every line an invocation writes lands in a :class:`LogStore`.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import itertools
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from cdk_opensearch_packages.local.aws.constants import ACCOUNT_ID, PARTITION, REGION

__all__ = [
    "RUNTIME_LIBRARIES",
    "FunctionConfig",
    "Invocation",
    "KillRule",
    "LambdaRunner",
    "LogLine",
    "LogStore",
    "UnknownFunctionError",
    "function_arn",
    "runtime_library_dir",
]

#: Top-level modules of the Lambda Python runtime's own libraries (what ``/var/runtime`` and
#: the runtime's site-packages provide): boto3, botocore and their dependencies.
RUNTIME_LIBRARIES = ("boto3", "botocore", "jmespath", "s3transfer", "dateutil", "urllib3", "six")
#: Lambda's asynchronous invocation retries a failed event twice, about 1 and 2 minutes later.
ASYNC_RETRY_DELAYS = (60.0, 120.0)
TASK_ROOT = "/var/task"
_BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
_RUNTIME_PREFIX = "cdk-osp-local-runtime-"
#: Isolated (no PYTHON* variables, no script directory), no site (no site-packages, no user
#: site), no bytecode written into the read-only code directory, unbuffered, UTF-8.
_INTERPRETER_FLAGS = (sys.executable, "-I", "-S", "-s", "-B", "-u", "-X", "utf8")

Outcome = Literal["success", "error", "timeout", "killed"]


class UnknownFunctionError(LookupError):
    """The function named in an invocation is not registered."""


def function_arn(name: str) -> str:
    """The unqualified ARN of a local function."""
    return f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"


def _module_location(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(
            f"the local Lambda runtime needs {name!r} installed next to the emulation "
            "(pip install 'cdk-opensearch-packages[local]')"
        )
    origin = Path(spec.origin)
    # A package is its directory; a module (six.py, which sets ``__path__`` itself) its file.
    return origin.parent if origin.name == "__init__.py" else origin


def runtime_library_dir(cache_root: Path | None = None) -> Path:
    """Return a directory holding only the Lambda runtime's libraries, creating it once.

    Each of :data:`RUNTIME_LIBRARIES` is linked (or copied where links are not possible) from
    the current environment. The directory is named by a hash of the linked locations and is
    created under a temporary name, then renamed into place, so concurrent callers are safe.

    :param cache_root: where the directory lives. Default: ``tempfile.gettempdir()``.
    """
    sources = {name: _module_location(name) for name in RUNTIME_LIBRARIES}
    digest = hashlib.sha256(
        json.dumps({name: str(path) for name, path in sorted(sources.items())}).encode()
    ).hexdigest()[:16]
    root = cache_root if cache_root is not None else Path(tempfile.gettempdir())
    target = root / f"{_RUNTIME_PREFIX}{digest}"
    if target.is_dir():
        return target
    root.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{_RUNTIME_PREFIX}", dir=root))
    try:
        for source in sources.values():
            destination = partial / source.name
            try:
                destination.symlink_to(source, target_is_directory=source.is_dir())
            except OSError:
                if source.is_dir():
                    shutil.copytree(source, destination)
                else:
                    shutil.copyfile(source, destination)
        try:
            partial.rename(target)
        except OSError:
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target


@dataclass(frozen=True)
class FunctionConfig:
    """A function as the local Lambda service knows it.

    :param name: the function name.
    :param code_dir: the unpacked code (what ``/var/task`` holds on AWS).
    :param handler: ``module.function``.
    :param runtime: the runtime identifier, e.g. ``python3.13`` (only Python runtimes run).
    :param environment: the function's environment variables (values starting with
        ``/var/task`` are rewritten to ``code_dir``).
    :param timeout: seconds before the invocation is killed.
    :param memory_mb: the configured memory (reported in the context only).
    :param role: the execution role ARN (recorded only).
    """

    name: str
    code_dir: Path
    handler: str = "index.handler"
    runtime: str = "python3.13"
    environment: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 3.0
    memory_mb: int = 128
    role: str = ""

    @property
    def arn(self) -> str:
        """The function ARN."""
        return function_arn(self.name)


@dataclass(frozen=True)
class LogLine:
    """One line written by an invocation (or by the runtime around it).

    :param timestamp: epoch seconds.
    :param function: the function name.
    :param request_id: the invocation's request id.
    :param stream: ``stdout``, ``stderr`` or ``runtime`` (START/END/REPORT and runtime errors).
    :param text: the line, without its newline.
    """

    timestamp: float
    function: str
    request_id: str
    stream: str
    text: str


class LogStore:
    """Thread-safe store of everything the local functions printed (their CloudWatch Logs)."""

    def __init__(self) -> None:
        self._lines: list[LogLine] = []
        self._lock = threading.Lock()
        self._listeners: list[Callable[[LogLine], None]] = []

    def append(self, line: LogLine) -> None:
        """Store a line and pass it to the listeners."""
        with self._lock:
            self._lines.append(line)
            listeners = list(self._listeners)
        for listener in listeners:
            listener(line)

    def subscribe(self, listener: Callable[[LogLine], None]) -> None:
        """Call ``listener`` with every line appended from now on (from the writer's thread)."""
        with self._lock:
            self._listeners.append(listener)

    def lines(self, function: str | None = None, request_id: str | None = None) -> list[LogLine]:
        """The stored lines, optionally of one function and/or one request id."""
        with self._lock:
            return [
                line
                for line in self._lines
                if (function is None or line.function == function)
                and (request_id is None or line.request_id == request_id)
            ]

    def text(self, function: str | None = None) -> str:
        """All lines (of one function) joined, each prefixed with its function and request id."""
        return "\n".join(
            f"{line.function} {line.request_id} {line.text}" for line in self.lines(function)
        )

    def grep(self, needle: str) -> list[LogLine]:
        """The lines containing ``needle``."""
        return [line for line in self.lines() if needle in line.text]


@dataclass
class Invocation:
    """One run of a function (one attempt of an asynchronous event).

    :param request_id: the request id (the same for every attempt of an asynchronous event).
    :param function: the function name.
    :param attempt: 1 for the first delivery, 2 and 3 for Lambda's retries.
    :param event: the event passed to the handler.
    :param started: epoch seconds.
    :param ended: epoch seconds.
    :param outcome: ``success``, ``error`` (handler raised or import failed), ``timeout`` or
        ``killed`` (crashed, or killed by a :class:`KillRule`).
    :param error: the error message when the outcome is not a success.
    :param result: the handler's return value on success.
    """

    request_id: str
    function: str
    attempt: int
    event: Any
    started: float
    ended: float = 0.0
    outcome: Outcome = "success"
    error: str | None = None
    result: Any = None


@dataclass
class KillRule:
    """Kill one invocation mid-operation (a crash); the asynchronous event is delivered again.

    :param after_seconds: how long after the process starts it is killed.
    :param until: kill as soon as this returns true (called with the invocation's start time,
        in epoch seconds, every 50 ms while it runs), e.g. once the service has seen the call
        the test means to interrupt; ``after_seconds`` is then a deadline after which the
        invocation runs on untouched. Default: kill at ``after_seconds``.
    :param function: only invocations of this function (name). Default: any function.
    :param nth: only the nth matching invocation (1-based, counted from when the rule is
        added). Default: the first matching one.
    :param when: only invocations whose event satisfies this predicate.
    """

    after_seconds: float
    until: Callable[[float], bool] | None = None
    function: str | None = None
    nth: int | None = None
    when: Callable[[Any], bool] | None = None
    seen: int = 0
    fired: threading.Event = field(default_factory=threading.Event)
    request_id: str | None = None

    def claims(self, function: str, event: Any) -> bool:
        """Whether this rule kills an invocation of ``function`` with ``event`` (counts it)."""
        if self.fired.is_set() or (self.function is not None and self.function != function):
            return False
        if self.when is not None and not self.when(event):
            return False
        self.seen += 1
        return self.nth is None or self.seen == self.nth


class LambdaRunner:
    """The local Lambda service: registered functions and their (asynchronous) invocations.

    :param base_environment: variables every function gets (region, credentials, endpoints).
    :param log_store: where invocation output goes. Default: a new :class:`LogStore`.
    :param timeout_override: when set, every function's timeout in seconds (tests shrink it to
        see a handler hand a long wait over to polling).
    :param time_scale: real seconds per emulated second, applied to the retry delays of
        asynchronous invocations (1.0: Lambda's real delays).
    :param work_dir: where invocation documents are written. Default: a new temporary directory.
    """

    def __init__(
        self,
        *,
        base_environment: Mapping[str, str] | None = None,
        log_store: LogStore | None = None,
        timeout_override: float | None = None,
        time_scale: float = 1.0,
        work_dir: Path | None = None,
    ) -> None:
        self.log_store = log_store if log_store is not None else LogStore()
        self.timeout_override = timeout_override
        self.time_scale = time_scale
        self._base_environment = dict(base_environment or {})
        self._functions: dict[str, FunctionConfig] = {}
        self._invocations: list[Invocation] = []
        self._kill_rules: list[KillRule] = []
        self._processes: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._closed = threading.Event()
        self._owned_work_dir = work_dir is None
        self._work_dir = work_dir or Path(tempfile.mkdtemp(prefix="cdk-osp-local-lambda-"))
        self._counter = itertools.count(1)
        self._runtime_dir = runtime_library_dir()

    # -- functions ---------------------------------------------------------------------------

    def register(self, config: FunctionConfig) -> None:
        """Create or replace a function (later invocations run the new configuration)."""
        with self._lock:
            self._functions[config.name] = config

    def unregister(self, name: str) -> None:
        """Delete a function (events still queued for it are dropped, as on AWS)."""
        with self._lock:
            self._functions.pop(name, None)

    def functions(self) -> list[FunctionConfig]:
        """The registered functions."""
        with self._lock:
            return list(self._functions.values())

    def resolve(self, name_or_arn: str) -> FunctionConfig:
        """Find a function by name, ARN (optionally qualified with ``$LATEST``) or partial ARN.

        :raises UnknownFunctionError: when no such function is registered.
        """
        name = name_or_arn
        if name.startswith("arn:"):
            parts = name.split(":")
            name = parts[6] if len(parts) >= 7 else name
        elif ":function:" in name or name.count(":") >= 2:
            name = name.split(":function:")[-1].split(":")[0]
        name = name.split(":")[0]
        with self._lock:
            config = self._functions.get(name)
        if config is None:
            raise UnknownFunctionError(f"Function not found: {name_or_arn}")
        return config

    # -- fault injection ---------------------------------------------------------------------

    def kill_invocation(
        self,
        *,
        after_seconds: float = 0.0,
        until: Callable[[float], bool] | None = None,
        function: str | None = None,
        nth: int | None = None,
        when: Callable[[Any], bool] | None = None,
    ) -> KillRule:
        """Kill a future invocation ``after_seconds`` into its run, or as soon as ``until``
        holds (see :class:`KillRule`)."""
        rule = KillRule(
            after_seconds=after_seconds, until=until, function=function, nth=nth, when=when
        )
        with self._lock:
            self._kill_rules.append(rule)
        return rule

    # -- invocations -------------------------------------------------------------------------

    def invoke_async(self, name_or_arn: str, event: Any) -> str:
        """Queue an asynchronous invocation (``InvocationType=Event``); return its request id.

        The event is delivered again after an error, a timeout or a crash, at most twice.

        :raises UnknownFunctionError: when the function does not exist (the caller's error,
            as the Invoke API answers ResourceNotFoundException).
        """
        config = self.resolve(name_or_arn)
        request_id = str(uuid.uuid4())
        with self._lock:
            self._pending += 1
        thread = threading.Thread(
            target=self._deliver,
            args=(config.name, json.loads(json.dumps(event)), request_id),
            name=f"lambda-async-{config.name}-{request_id[:8]}",
            daemon=True,
        )
        thread.start()
        return request_id

    def invoke(self, name_or_arn: str, event: Any) -> Invocation:
        """Run one synchronous invocation (``RequestResponse``, no retry) and return it."""
        config = self.resolve(name_or_arn)
        return self._run_once(config, json.loads(json.dumps(event)), str(uuid.uuid4()), 1)

    def invocations(self, function: str | None = None) -> list[Invocation]:
        """The finished invocations, oldest first."""
        with self._lock:
            return [i for i in self._invocations if function is None or i.function == function]

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no asynchronous event is queued or running; return whether it happened."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def close(self) -> None:
        """Stop delivering events and kill every running invocation."""
        self._closed.set()
        with self._lock:
            processes = list(self._processes)
        for process in processes:
            _kill(process)
        if self._owned_work_dir:
            shutil.rmtree(self._work_dir, ignore_errors=True)

    # -- internals ---------------------------------------------------------------------------

    def _deliver(self, name: str, event: Any, request_id: str) -> None:
        try:
            for attempt in range(1, len(ASYNC_RETRY_DELAYS) + 2):
                if self._closed.is_set():
                    return
                try:
                    config = self.resolve(name)
                except UnknownFunctionError:
                    self._runtime_log(name, request_id, "function deleted: event dropped")
                    return
                invocation = self._run_once(config, event, request_id, attempt)
                if invocation.outcome == "success":
                    return
                if attempt > len(ASYNC_RETRY_DELAYS):
                    self._runtime_log(
                        name, request_id, "retries exhausted: event discarded (no destination)"
                    )
                    return
                if self._closed.wait(ASYNC_RETRY_DELAYS[attempt - 1] * self.time_scale):
                    return
        finally:
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()

    def _runtime_log(self, function: str, request_id: str, text: str) -> None:
        self.log_store.append(LogLine(time.time(), function, request_id, "runtime", text))

    def _claim_kill_rule(self, function: str, event: Any) -> KillRule | None:
        with self._lock:
            for rule in self._kill_rules:
                if rule.claims(function, event):
                    return rule
        return None

    def environment(self, config: FunctionConfig, log_stream: str = "") -> dict[str, str]:
        """The environment variables an invocation of ``config`` gets."""
        code_dir = str(config.code_dir)
        environment = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "LAMBDA_TASK_ROOT": code_dir,
            "LAMBDA_RUNTIME_DIR": str(self._runtime_dir),
            "_HANDLER": config.handler,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{config.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": config.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{config.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        }
        for key, value in config.environment.items():
            in_task_root = value == TASK_ROOT or value.startswith(TASK_ROOT + "/")
            environment[key] = code_dir + value[len(TASK_ROOT) :] if in_task_root else value
        # Region, credentials and endpoints are the emulation's (reserved on AWS too).
        environment.update(self._base_environment)
        return environment

    def _run_once(
        self, config: FunctionConfig, event: Any, request_id: str, attempt: int
    ) -> Invocation:
        timeout = self.timeout_override if self.timeout_override is not None else config.timeout
        number = next(self._counter)
        log_stream = f"{time.strftime('%Y/%m/%d', time.gmtime())}/[$LATEST]{uuid.uuid4().hex}"
        invocation_file = self._work_dir / f"invocation-{number}.json"
        result_file = self._work_dir / f"result-{number}.json"
        started = time.time()
        document = {
            "path": [str(config.code_dir), str(self._runtime_dir)],
            "handler": config.handler,
            "event": event,
            "result_path": str(result_file),
            "context": {
                "function_name": config.name,
                "function_version": "$LATEST",
                "invoked_function_arn": config.arn,
                "memory_limit_in_mb": config.memory_mb,
                "aws_request_id": request_id,
                "log_group_name": f"/aws/lambda/{config.name}",
                "log_stream_name": log_stream,
                "deadline_epoch_ms": int((started + timeout) * 1000),
            },
        }
        invocation_file.write_text(json.dumps(document), encoding="utf-8")
        invocation = Invocation(request_id, config.name, attempt, event, started)
        self._runtime_log(
            config.name, request_id, f"START RequestId: {request_id} Version: $LATEST"
        )
        if not config.runtime.startswith("python"):
            invocation.outcome = "error"
            invocation.error = (
                f"Runtime {config.runtime} is not supported by the local emulation "
                "(Python runtimes only)"
            )
            self._finish(config, invocation, timeout)
            return invocation
        kill_rule = self._claim_kill_rule(config.name, event)
        process = subprocess.Popen(
            [*_INTERPRETER_FLAGS, str(_BOOTSTRAP), str(invocation_file)],
            cwd=config.code_dir,
            env=self.environment(config, log_stream),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        with self._lock:
            self._processes.add(process)
        readers = [
            threading.Thread(
                target=self._pump,
                args=(pipe, config.name, request_id, stream),
                daemon=True,
            )
            for pipe, stream in ((process.stdout, "stdout"), (process.stderr, "stderr"))
        ]
        for reader in readers:
            reader.start()
        killed_by = self._supervise(process, started, timeout, kill_rule)
        for reader in readers:
            reader.join(timeout=5)
        with self._lock:
            self._processes.discard(process)
        if killed_by == "timeout":
            invocation.outcome = "timeout"
            invocation.error = f"Task timed out after {timeout:.2f} seconds"
        elif killed_by == "rule":
            assert kill_rule is not None
            kill_rule.request_id = request_id
            kill_rule.fired.set()
            invocation.outcome = "killed"
            invocation.error = "Runtime exited with error: signal: killed"
        elif self._closed.is_set() and process.returncode < 0:
            invocation.outcome = "killed"
            invocation.error = "Runtime exited with error: signal: killed (emulation stopped)"
        else:
            self._read_result(process.returncode, result_file, invocation)
        self._finish(config, invocation, timeout)
        invocation_file.unlink(missing_ok=True)
        result_file.unlink(missing_ok=True)
        return invocation

    @staticmethod
    def _supervise(
        process: subprocess.Popen[bytes],
        started: float,
        timeout: float,
        kill_rule: KillRule | None,
    ) -> str | None:
        """Wait for ``process``; kill it at its timeout or by its kill rule.

        :return: ``"timeout"``, ``"rule"``, or None when it exited by itself.
        """
        until = kill_rule.until if kill_rule is not None else None
        rule_deadline = started + kill_rule.after_seconds if kill_rule is not None else None
        deadline = started + timeout
        if rule_deadline is not None and until is None:
            deadline = min(deadline, rule_deadline)
        while True:
            remaining = deadline - time.time()
            step = remaining if until is None else min(remaining, 0.05)
            try:
                process.wait(timeout=max(step, 0.0))
                return None
            except subprocess.TimeoutExpired:
                pass
            now = time.time()
            in_window = rule_deadline is None or now < rule_deadline
            if until is not None and in_window and until(started):
                _kill(process)
                return "rule"
            if now >= deadline:
                _kill(process)
                if kill_rule is not None and until is None and now < started + timeout:
                    return "rule"
                return "timeout"

    @staticmethod
    def _read_result(returncode: int, result_file: Path, invocation: Invocation) -> None:
        try:
            outcome: dict[str, Any] = json.loads(result_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            outcome = {}
        if returncode == 0 and "result" in outcome:
            invocation.result = outcome["result"]
            return
        invocation.outcome = "error"
        error = outcome.get("error")
        if isinstance(error, dict):
            invocation.error = f"{error.get('errorType')}: {error.get('errorMessage')}"
        else:
            invocation.error = f"Runtime exited with error: exit status {returncode}"

    def _finish(self, config: FunctionConfig, invocation: Invocation, timeout: float) -> None:
        invocation.ended = time.time()
        duration = (invocation.ended - invocation.started) * 1000
        rid = invocation.request_id
        if invocation.outcome == "timeout":
            self._runtime_log(
                config.name,
                rid,
                f"{rid} {invocation.error}",
            )
        elif invocation.outcome != "success":
            self._runtime_log(config.name, rid, f"RequestId: {rid} Error: {invocation.error}")
        self._runtime_log(config.name, rid, f"END RequestId: {rid}")
        self._runtime_log(
            config.name,
            rid,
            f"REPORT RequestId: {rid}\tDuration: {duration:.2f} ms\t"
            f"Memory Size: {config.memory_mb} MB\tTimeout: {timeout:g} s\t"
            f"Attempt: {invocation.attempt}\tOutcome: {invocation.outcome}",
        )
        with self._lock:
            self._invocations.append(invocation)

    def _pump(self, pipe: IO[bytes] | None, function: str, request_id: str, stream: str) -> None:
        if pipe is None:
            return
        for raw in iter(pipe.readline, b""):
            text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            self.log_store.append(LogLine(time.time(), function, request_id, stream, text))
        pipe.close()


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        process.wait()
