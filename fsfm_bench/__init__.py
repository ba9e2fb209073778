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
    """Build the registered backbone ``name`` (optionally from an official checkpoint)."""
    from .plugins import get

    factory = get("backbones", name)
    return factory(checkpoint=checkpoint, **kwargs)


def build_masking(name: str, mask_ratio: float = 0.75, patch_size: int = 16, **kwargs: Any):
    """Build the registered masking strategy ``name``: a callable (parsing_maps, generator) -> (mask, focus)."""
    from .plugins import get

    factory = get("masking", name)
    return factory(mask_ratio=mask_ratio, patch_size=patch_size, **kwargs)
