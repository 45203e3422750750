"""One instance at a time: an advisory lock file with holder details.

The lock is an exclusive, non-blocking ``fcntl.flock`` on a file under ``reports/runs/``. The
kernel drops it when the holder exits, however it exits (even ``SIGKILL``), so a crashed runner
never blocks the next one. The file also holds the holder's pid, host, start time and run id
(JSON) for ``alphalab runner status``; it is emptied on a clean release. A non-empty file whose
lock is free was left by a holder that died: that is a *stale* lock, which the next holder
reports and takes over. The descriptor is close-on-exec, so the pipeline's child processes never
inherit the lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from alphalab.logs import get_logger
from alphalab.runner.records import iso, utcnow

log = get_logger(__name__)


class LockHeld(RuntimeError):
    """Another process holds the lock; ``holder`` has its details (may be empty)."""

    def __init__(self, path: Path, holder: dict[str, Any]) -> None:
        self.path = path
        self.holder = holder
        who = ", ".join(f"{k} {v}" for k, v in holder.items() if k in ("pid", "host", "since"))
        super().__init__(f"{path}: held by another process ({who or 'details unknown'})")


def _read_holder(fd: int) -> dict[str, Any]:
    os.lseek(fd, 0, os.SEEK_SET)
    raw = b""
    while chunk := os.read(fd, 65536):
        raw += chunk
    if not raw.strip():
        return {}
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError:
        return {"unreadable": raw[:200].decode("utf-8", "replace")}
    return doc if isinstance(doc, dict) else {}


class RunLock:
    """Exclusive lock on ``path`` for the lifetime of a ``with`` block.

    Parameters
    ----------
    path : Path
        The lock file (created if missing).
    info : dict, optional
        Extra holder details written into the file (for example the run id).

    Raises
    ------
    LockHeld
        On entering, when another process holds the lock.
    """

    def __init__(self, path: Path, *, info: dict[str, Any] | None = None) -> None:
        self.path = Path(path)
        self.info = dict(info or {})
        self.stale: dict[str, Any] | None = None
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        """Take the lock or raise :class:`LockHeld`; returns ``self``."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        for attempt in range(3):  # a status probe holds a shared lock for microseconds
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _read_holder(fd)
                if attempt == 2 or holder:
                    os.close(fd)
                    raise LockHeld(self.path, holder) from None
                time.sleep(0.05)
        previous = _read_holder(fd)
        if previous:
            self.stale = previous
            log.warning(
                "stale lock %s left by pid %s on %s (since %s) taken over",
                self.path.name,
                previous.get("pid"),
                previous.get("host"),
                previous.get("since"),
            )
        holder = {"pid": os.getpid(), "host": os.uname().nodename, "since": iso(utcnow())}
        payload = json.dumps({**holder, **self.info}).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, payload, 0)
        os.fsync(fd)
        self._fd = fd
        return self

    def update(self, **info: Any) -> None:
        """Rewrite the holder details (e.g. the current stage) while holding the lock."""
        if self._fd is None:
            raise RuntimeError(f"{self.path}: update() without holding the lock")
        current = _read_holder(self._fd)
        payload = json.dumps({**current, **info}).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, payload, 0)

    def release(self) -> None:
        """Empty the file and drop the lock (idempotent)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def lock_status(path: Path) -> dict[str, Any]:
    """Whether ``path`` is held right now, and by whom (probes without keeping the lock).

    Returns
    -------
    dict
        ``{"held": bool, "holder": {...}}``; ``holder`` is the file's details (for a free lock
        with a non-empty file, those of a holder that died: ``"stale": True``).
    """
    if not path.is_file():
        return {"held": False, "holder": {}}
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        holder = _read_holder(fd)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return {"held": True, "holder": holder}
        fcntl.flock(fd, fcntl.LOCK_UN)
        return {"held": False, "holder": holder, "stale": bool(holder)}
    finally:
        os.close(fd)
