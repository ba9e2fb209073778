"""Moved to :mod:`fsfm_bench.bases.backbone` (the core owns the contract's base classes); this
module re-exports it so existing imports keep working."""
from fsfm_bench.bases.backbone import BackboneBase, CNNBackbone, ViTBackbone, _relative  # noqa: F401
