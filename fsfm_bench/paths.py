"""Where fsfm-bench keeps what it can rebuild: one cache root for every component.

``$FSFM_BENCH_CACHE``, else ``$XDG_CACHE_HOME/fsfm-bench``, else ``~/.cache/fsfm-bench``. Pretrained
demo encoders, per-sample scores, dataset statistics and downloaded checkpoints live in
sub-folders, so deleting this one folder resets every cache and nothing else.

What a user run produces (run folders, results, leaderboards) goes under :func:`output_root`: the
working directory, or a user folder when the working directory is fsfm-bench's own checkout.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

CACHE_ENV = "FSFM_BENCH_CACHE"


def cache_root() -> Path:
    given = os.environ.get(CACHE_ENV)
    if given:
        return Path(given).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "fsfm-bench"


def cache_dir(cfg: dict[str, Any]) -> Path:
    """A run's cache: its ``data.cache_dir`` when set, else :func:`cache_root`."""
    given = (cfg.get("data") or {}).get("cache_dir")
    return Path(given).expanduser() if given else cache_root()


def prepared_cache(cfg: dict[str, Any]) -> Path:
    """Where runs keep their prepared datasets: ``<cache>/prepared/<name>-<12 hex of how>`` (written by
    ``fsfm_bench.protocols.data``, read by pretraining's ``data=NAME`` too)."""
    return cache_dir(cfg) / "prepared"


# --- where user runs write their run folders, results and leaderboards ----------------------------
HOME_ENV = "FSFM_BENCH_HOME"


def source_tree() -> Path | None:
    """The fsfm-bench checkout this package runs from (an editable install), or None (a wheel)."""
    root = Path(__file__).resolve().parents[1]
    if (root / "pyproject.toml").is_file() and (root / "leaderboards").is_dir() and (root / "fsfm_bench").is_dir():
        return root
    return None


def user_home() -> Path:
    """``$FSFM_BENCH_HOME``, else ``$XDG_DATA_HOME/fsfm-bench``, else ``~/.local/share/fsfm-bench``."""
    given = os.environ.get(HOME_ENV)
    if given:
        return Path(given).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base).expanduser() / "fsfm-bench"


def inside_source_tree(folder: str | os.PathLike | None = None) -> bool:
    """Whether ``folder`` (default: the working directory) lies in the package's own checkout."""
    tree = source_tree()
    if tree is None:
        return False
    here = Path(folder or Path.cwd()).resolve()
    return here == tree or tree in here.parents


def output_root(out: str | os.PathLike | None = None) -> Path:
    """Where a run's relative ``runs/`` and ``leaderboards/`` go: ``out`` when given; else the working
    directory, except inside the fsfm-bench checkout, whose committed ``leaderboards/`` a user run
    must not rewrite: then :func:`user_home`. The working directory is returned as ``Path()``
    so that paths written into results stay as relative as the config gave them."""
    if out not in (None, ""):
        return Path(out).expanduser()
    return user_home() if inside_source_tree() else Path()


def under(root: Path, value: str | os.PathLike | None, default: str) -> Path:
    """A configured output path (``value``, else ``default``) placed under ``root`` unless absolute."""
    path = Path(value or default).expanduser()
    return path if path.is_absolute() else root / path
