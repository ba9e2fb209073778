"""fsfm-bench: a plugin-based benchmark platform for face-security foundation models.

The public API is imported lazily so that ``import fsfm_bench`` stays cheap for the CLI.
"""
from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "build_backbone", "build_masking", "load_plugins"]


def load_plugins(reload: bool = False):
    """Load the built-in and third-party plugins (once per process)."""
    from .plugins import load_plugins as _load

    return _load(reload=reload)


def build_backbone(name: str, checkpoint: str | None = None, **kwargs: Any):
    """Build the registered backbone ``name`` (optionally from an official checkpoint).

    The result is checked against :class:`fsfm_bench.contracts.Backbone` here, at build time, so a
    plugin whose backbone lacks e.g. ``layer_id`` is refused with one line naming it."""
    from .contracts import check_backbone
    from .plugins import get_entry

    entry = get_entry("backbones", name)
    return check_backbone(entry.obj(checkpoint=checkpoint, **kwargs), name, entry.plugin.name)


def build_masking(name: str, mask_ratio: float = 0.75, patch_size: int = 16, **kwargs: Any):
    """Build the registered masking strategy ``name``: a callable (parsing_maps, generator) -> (mask, focus)."""
    from .contracts import check_masking
    from .plugins import get_entry

    entry = get_entry("masking", name)
    return check_masking(entry.obj(mask_ratio=mask_ratio, patch_size=patch_size, **kwargs), name, entry.plugin.name)
