"""Lock files that a killed process cannot leave behind for good.

A lock is a file created with ``O_EXCL`` holding its owner's pid, host and start time. It is
*stale*, and may be taken over, when its owner on this host no longer runs, or when it is older
than :data:`MAX_AGE_S` (an owner on another host, or a pid reused since). A lock still empty
(its owner was killed between creating and writing it) is stale after :data:`EMPTY_GRACE_S`.
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import FsfmBenchError

MAX_AGE_S = 24 * 3600.0
EMPTY_GRACE_S = 10.0


def _owner() -> dict:
    return {"pid": os.getpid(), "host": socket.gethostname(), "created": time.time()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True                 # another user's live process
    except OSError:
        return False
    return True


def owner(path: str | os.PathLike) -> dict | None:
    """What the lock says about its owner; None when it is unreadable or empty."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8") or "null")
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("pid"), int) else None


def is_stale(path: str | os.PathLike, max_age_s: float = MAX_AGE_S) -> bool:
    """Whether the lock at ``path`` was left by a process that no longer holds it (see the module docstring)."""
    path = Path(path)
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return False
    info = owner(path)
    if info is None:
        return age > EMPTY_GRACE_S
    if age > max_age_s:
        return True
    return info.get("host") == socket.gethostname() and not _alive(int(info["pid"]))


def try_acquire(path: str | os.PathLike) -> bool:
    """Create the lock (with this process as owner); False when another holder has it."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(_owner(), handle)
    return True


def break_if_stale(path: str | os.PathLike) -> bool:
    """Remove the lock when it is stale; True when it was."""
    if not is_stale(path):
        return False
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    return True


@contextlib.contextmanager
def held(path: str | os.PathLike, what: str, timeout_s: float = 3600.0, poll_s: float = 0.2) -> Iterator[None]:
    """Hold the lock at ``path`` for the block, waiting while a live holder has it; a stale one is taken over."""
    path = Path(path)
    deadline = time.monotonic() + timeout_s
    while not try_acquire(path):
        if break_if_stale(path):
            continue
        if time.monotonic() > deadline:
            info = owner(path) or {}
            raise FsfmBenchError(f"{what}: {path} has been held by process {info.get('pid', '?')} on "
                                 f"{info.get('host', '?')} for over {timeout_s:.0f} s; if that process no longer "
                                 f"runs, delete {path} and retry")
        time.sleep(poll_s)
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
