"""Moved to :mod:`fsfm_bench.bases.dataset` (the core owns the contract's base classes); this
module re-exports it so existing imports keep working."""
from fsfm_bench.bases.dataset import (  # noqa: F401
    IMAGE_EXTS,
    VIDEO_EXTS,
    DatasetAdapter,
    Scan,
    as_list,
    list_files,
    read_text_lines,
    rel_posix,
    strip_ext,
    walk_files,
)
