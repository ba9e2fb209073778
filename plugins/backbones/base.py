"""Moved to :mod:`fsfm_bench.bases.backbone` (the core owns the contract's base classes); this
module re-exports it so existing imports keep working."""
from fsfm_bench.bases.backbone import BackboneBase, CNNBackbone, ViTBackbone, _relative  # noqa: F401

from .norms import HALF, IMAGENET_MEAN, IMAGENET_STD, OPENAI_CLIP_MEAN, OPENAI_CLIP_STD  # noqa: F401
