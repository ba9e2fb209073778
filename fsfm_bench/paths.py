"""Where fsfm-bench keeps what it can rebuild: one cache root for every component.

``$FSFM_BENCH_CACHE``, else ``$XDG_CACHE_HOME/fsfm-bench``, else ``~/.cache/fsfm-bench``. Pretrained
demo encoders, per-sample scores, dataset statistics and downloaded checkpoints live in
sub-folders, so deleting this one folder resets every cache and nothing else.
"""
from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "FSFM_BENCH_CACHE"


def cache_root() -> Path:
    given = os.environ.get(CACHE_ENV)
    if given:
        return Path(given).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "fsfm-bench"
