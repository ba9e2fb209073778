"""Lock files record their owner, and one a dead or long-gone owner left is detected as stale
(by pid on this host, by age otherwise), so a kill never blocks later runs for good."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

from fsfm_bench import locks


def _dead_pid() -> int:
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True).stdout)


def test_own_lock_is_live_and_released(tmp_path):
    path = tmp_path / "x.lock"
    with locks.held(path, "test"):
        assert locks.owner(path)["pid"] == os.getpid() and not locks.is_stale(path)
        assert not locks.try_acquire(path)
    assert not path.exists()


def test_dead_owner_empty_lock_and_old_lock_are_stale(tmp_path):
    dead = tmp_path / "dead.lock"
    dead.write_text(json.dumps({"pid": _dead_pid(), "host": socket.gethostname(), "created": time.time()}))
    assert locks.is_stale(dead)
    empty = tmp_path / "empty.lock"                 # killed between creating and writing it
    empty.write_text("")
    assert not locks.is_stale(empty)
    old = time.time() - locks.EMPTY_GRACE_S - 1
    os.utime(empty, (old, old))
    assert locks.is_stale(empty)
    remote = tmp_path / "remote.lock"               # another host's live-looking owner: by age only
    remote.write_text(json.dumps({"pid": os.getpid(), "host": "elsewhere", "created": time.time()}))
    assert not locks.is_stale(remote)
    ancient = time.time() - locks.MAX_AGE_S - 1
    os.utime(remote, (ancient, ancient))
    assert locks.is_stale(remote)
    with locks.held(dead, "test", timeout_s=5):     # taken over at once
        assert locks.owner(dead)["pid"] == os.getpid()


def test_a_live_holder_past_the_timeout_is_one_line_naming_the_lock(tmp_path):
    import pytest

    from fsfm_bench.errors import FsfmBenchError

    path = tmp_path / "busy.lock"
    assert locks.try_acquire(path)
    with pytest.raises(FsfmBenchError) as info:
        with locks.held(path, "leaderboard build", timeout_s=0.3, poll_s=0.05):
            pass
    assert str(path) in str(info.value) and "\n" not in str(info.value)
