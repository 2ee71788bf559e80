"""The process a local Lambda invocation runs in (started by :mod:`.lambda_runner`).

It is executed as a script, ``python -I -S -s -u lambda_bootstrap.py <invocation.json>``, so the
interpreter starts without ``site``: no site-packages, no user site, no ``PYTHON*`` variables and
not even this file's directory on ``sys.path``. The bootstrap then sets ``sys.path`` explicitly to
what a Lambda function sees: the function's code directory (``/var/task`` on AWS), the directory
holding the runtime's own libraries (boto3, botocore and their dependencies) and the standard
library. A dependency the code asset forgot to bundle fails to import here as it does on AWS.

Like the Lambda Python runtime it installs a handler on the root logger (``[LEVEL] time request-id
message`` on stdout), builds the context object, calls the handler once and reports the outcome:
exit status 0 and the JSON result on success; on an error the Lambda-shaped error document
(``errorMessage``, ``errorType``, ``stackTrace``) and exit status 1. It imports the standard
library only.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

__all__ = ["LambdaContext", "main"]

EXIT_SUCCESS = 0
EXIT_FUNCTION_ERROR = 1
EXIT_BOOTSTRAP_ERROR = 2


class LambdaContext:
    """The ``context`` argument of a Lambda handler (the attributes the Python runtime provides).

    :param spec: the ``context`` part of the invocation document.
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        self.function_name: str = spec["function_name"]
        self.function_version: str = spec["function_version"]
        self.invoked_function_arn: str = spec["invoked_function_arn"]
        self.memory_limit_in_mb: str = str(spec["memory_limit_in_mb"])
        self.aws_request_id: str = spec["aws_request_id"]
        self.log_group_name: str = spec["log_group_name"]
        self.log_stream_name: str = spec["log_stream_name"]
        self.identity: Any = None
        self.client_context: Any = None
        self._deadline_ms: int = int(spec["deadline_epoch_ms"])

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the runtime kills the invocation (never negative)."""
        return max(self._deadline_ms - int(time.time() * 1000), 0)


class _RequestIdFilter(logging.Filter):
    def __init__(self, request_id: str) -> None:
        super().__init__()
        self.request_id = request_id

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


def _configure_logging(request_id: str) -> None:
    """Install the Lambda runtime's root handler: one line per record on stdout."""
    handler = logging.StreamHandler(sys.stdout)
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
        "%Y-%m-%dT%H:%M:%S",
    )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.addFilter(_RequestIdFilter(request_id))
    logging.getLogger().addHandler(handler)


def _error_document(error: BaseException) -> dict[str, Any]:
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "requestId": "",
        "stackTrace": traceback.format_tb(error.__traceback__),
    }


def _load_handler(spec: str) -> Callable[[Any, LambdaContext], Any]:
    module_name, _, function_name = spec.rpartition(".")
    if not module_name or not function_name:
        raise ValueError(f"Bad handler '{spec}': not enough values to unpack (expected 2, got 1)")
    module = importlib.import_module(module_name.replace("/", "."))
    handler = getattr(module, function_name, None)
    if handler is None:
        raise AttributeError(f"Handler '{function_name}' missing on module '{module_name}'")
    if not callable(handler):
        raise TypeError(f"Handler '{function_name}' on module '{module_name}' is not callable")
    result: Callable[[Any, LambdaContext], Any] = handler
    return result


def _report(path: str, document: dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as stream:
        json.dump(document, stream, default=str)


def main(argv: list[str]) -> int:
    """Run one invocation described by the JSON document at ``argv[1]``.

    The document holds ``path`` (the entries to put before the standard library on
    ``sys.path``: the code directory, then the runtime's libraries),
    ``handler`` (``module.function``), ``event``, ``context`` (see :class:`LambdaContext`) and
    ``result_path`` (where the outcome is written).

    :return: the process exit status.
    """
    if len(argv) != 2:
        print("usage: lambda_bootstrap.py <invocation.json>", file=sys.stderr)
        return EXIT_BOOTSTRAP_ERROR
    with open(argv[1], encoding="utf-8") as stream:
        invocation: dict[str, Any] = json.load(stream)
    # ``python -I -S`` leaves the standard library only: the code and runtime directories go first.
    sys.path[:0] = [str(entry) for entry in invocation["path"]]
    context = LambdaContext(invocation["context"])
    _configure_logging(context.aws_request_id)
    result_path: str = invocation["result_path"]
    try:
        handler = _load_handler(invocation["handler"])
    except Exception as error:  # the runtime reports import errors as Runtime.ImportModuleError
        document = _error_document(error)
        document["errorType"] = "Runtime.ImportModuleError"
        document["errorMessage"] = (
            f"Unable to import module '{invocation['handler'].rpartition('.')[0]}': {error}"
        )
        print(f"[ERROR] {document['errorType']}: {document['errorMessage']}", flush=True)
        _report(result_path, {"error": document})
        return EXIT_FUNCTION_ERROR
    try:
        value = handler(invocation["event"], context)
    except Exception as error:
        document = _error_document(error)
        lines = "".join(document["stackTrace"])
        print(
            f"[ERROR] {document['errorType']}: {document['errorMessage']}\n"
            f"Traceback (most recent call last):\n{lines}",
            end="",
            flush=True,
        )
        _report(result_path, {"error": document})
        return EXIT_FUNCTION_ERROR
    _report(result_path, {"result": value})
    return EXIT_SUCCESS


if __name__ == "__main__":
    status = main(sys.argv)
    sys.stdout.flush()
    sys.stderr.flush()
    # The invocation ends when the handler returns, whatever threads it left running (Lambda
    # freezes the execution environment): leave without waiting for them.
    os._exit(status)
