"""The guard that keeps one pretraining work dir to one config: resuming a run under another config
would load its checkpoint into a model of another shape."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import FsfmBenchError

#: keys that may change between an interrupted run and its resumption in the same work_dir
RESUMABLE_CHANGES = ("schedule.epochs", "log_interval", "checkpoint.interval", "checkpoint.max_keep",
                     "data.num_workers", "data.cache_dir", "device", "resume", "work_dir")


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flat(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: data}


def check_work_dir(work_dir: str | os.PathLike, cfg: dict[str, Any]) -> None:
    """Refuse to resume (or overwrite the config of) a run in ``work_dir`` that used another config.

    mmengine would load the old checkpoint non-strictly into a model of another shape and fail deep
    inside the optimizer, after ``config.yaml`` had already been replaced.
    """
    import yaml

    from ..config import dump_config

    old_file = Path(work_dir) / "config.yaml"
    has_checkpoint = (Path(work_dir) / "last_checkpoint").is_file() or any(Path(work_dir).glob("*.pth"))
    if not old_file.is_file() or not has_checkpoint or not cfg.get("resume", True):
        return
    try:
        old = _flat(yaml.safe_load(old_file.read_text(encoding="utf-8")) or {})
    except (OSError, yaml.YAMLError):
        return  # unreadable: mmengine's own resume decides
    new = _flat(yaml.safe_load(dump_config(cfg)) or {})
    differ = sorted(k for k in set(old) | set(new)
                    if old.get(k) != new.get(k) and k not in RESUMABLE_CHANGES)
    if differ:
        shown = ", ".join(f"{k} ({old.get(k)!r} -> {new.get(k)!r})" for k in differ[:4])
        raise FsfmBenchError(
            f"work_dir={work_dir} holds a run with a different config ({shown}{', ...' if len(differ) > 4 else ''}); "
            "resuming would mix them. Rerun with that run's settings, pass a new work_dir=PATH, or resume=false "
            "to start over there")
