"""The folder that keeps the local account between commands, and its lock.

``python -m cdk_opensearch_packages.local deploy|destroy|status|reset|packages`` read and write
``.cdk-opensearch-local/`` in the working directory (``--state DIR`` or the
``CDK_OPENSEARCH_LOCAL_STATE`` environment variable choose another folder):

- ``state.json`` and ``blobs/``: the snapshot of the local account (:mod:`..aws.snapshot`),
  written after each stack operation;
- ``lock``: which command uses the folder (pid, command, and the stack operation under way).
  A second command waits for nothing: it stops and says which command holds the folder. A lock
  whose process is gone is an interrupted command: its unfinished operation left no trace (the
  snapshot is the one after the last completed operation), and the next command says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from cdk_opensearch_packages.local.aws.snapshot import (
    SNAPSHOT_FORMAT,
    STATE_FILE,
    read_state,
    write_json,
)

__all__ = [
    "DEFAULT_STATE_DIR",
    "STATE_ENV",
    "StateLocked",
    "Workspace",
    "empty_state",
    "state_dir",
]

#: The folder of the local account, relative to the working directory.
DEFAULT_STATE_DIR = ".cdk-opensearch-local"
#: The environment variable that names another folder.
STATE_ENV = "CDK_OPENSEARCH_LOCAL_STATE"
_LOCK = "lock"
_README = "README.txt"
_README_TEXT = """\
State of `python -m cdk_opensearch_packages.local` (stacks, packages, S3 objects of the
emulated account). `python -m cdk_opensearch_packages.local status` shows it, `reset` deletes
it. Not meant for version control: add this folder to .gitignore.
"""


class StateLocked(RuntimeError):
    """Another command is using the state folder."""


def state_dir(option: str | Path | None = None) -> Path:
    """The state folder: ``option``, else ``$CDK_OPENSEARCH_LOCAL_STATE``, else
    ``./.cdk-opensearch-local``."""
    chosen = option or os.environ.get(STATE_ENV) or DEFAULT_STATE_DIR
    return Path(chosen).expanduser().resolve()


def empty_state() -> dict[str, Any]:
    """The state of an account nothing was deployed to."""
    return {
        "format": SNAPSHOT_FORMAT,
        "cloudformation": {"format": 1, "stacks": []},
        "opensearch": None,
        "s3": [],
        "iam": [],
        "events": [],
    }


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Workspace:
    """The state folder, locked for one command (a context manager).

    :param folder: the state folder (created when missing).
    :param command: what runs (shown to a second command).
    """

    def __init__(self, folder: Path, command: str) -> None:
        self.folder = folder
        self.command = command
        self.interrupted: dict[str, Any] | None = None
        self._locked = False

    @property
    def lock_file(self) -> Path:
        """The lock file."""
        return self.folder / _LOCK

    def __enter__(self) -> Workspace:
        self.folder.mkdir(parents=True, exist_ok=True)
        readme = self.folder / _README
        if not readme.exists():
            readme.write_text(_README_TEXT, encoding="utf-8")
        self._acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()

    def _lock_record(self, **more: Any) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": self.command,
            "started": time.strftime("%Y-%m-%d %H:%M:%S"),
            **more,
        }

    def _acquire(self) -> None:
        for _ in range(2):
            try:
                handle = os.open(self.lock_file, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                same_host = holder.get("host") == socket.gethostname()
                pid = int(holder.get("pid") or 0)
                if pid and (not same_host or _alive(pid)) and pid != os.getpid():
                    raise StateLocked(
                        f"{self.folder} is in use by `{holder.get('command')}` (pid {pid} on "
                        f"{holder.get('host')}, since {holder.get('started')}): wait for it to "
                        f"finish; if that process is gone, delete {self.lock_file}"
                    ) from None
                self.interrupted = holder
                with contextlib.suppress(FileNotFoundError):
                    self.lock_file.unlink()
                continue
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(self._lock_record(), stream)
            self._locked = True
            return
        raise StateLocked(f"could not lock {self.folder}: another command took it meanwhile")

    def _holder(self) -> dict[str, Any]:
        try:
            data = json.loads(self.lock_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def interruption_notice(self) -> str | None:
        """What to tell the user about a command that was interrupted, if one was."""
        holder = self.interrupted
        if holder is None:
            return None
        operation = holder.get("operation")
        where = (
            f" while {operation} of stack {holder.get('stack')} was in progress"
            if operation
            else ""
        )
        return (
            f"note: `{holder.get('command')}` (pid {holder.get('pid')}, started "
            f"{holder.get('started')}) was interrupted{where}. Its unfinished operation left "
            "no trace: the state is the one after the last completed operation. Run the "
            "command again to retry it (`status` shows where things stand)."
        )

    def mark(self, operation: str | None, stack: str | None = None) -> None:
        """Record the stack operation under way in the lock (``None``: none)."""
        if not self._locked:
            return
        more = {"operation": operation, "stack": stack} if operation else {}
        write_json(self.lock_file, self._lock_record(**more))

    def release(self) -> None:
        """Unlock (idempotent)."""
        if self._locked:
            with contextlib.suppress(FileNotFoundError):
                self.lock_file.unlink()
            self._locked = False

    def state(self) -> dict[str, Any] | None:
        """The saved state (``None``: nothing saved yet)."""
        return read_state(self.folder)

    def write(self, state: dict[str, Any]) -> None:
        """Write ``state.json`` atomically."""
        write_json(self.folder / STATE_FILE, state)

    def wipe(self) -> None:
        """Delete everything but the lock (``reset``)."""
        for entry in self.folder.iterdir():
            if entry.name == _LOCK:
                continue
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
