"""The factories behind the built-in specs (.specs). Each receives its spec (layout, default arch,
normalisation) and defers to :mod:`.loading` for everything else; ``checkpoint`` is a local path,
``hf://``/https source, a card name from ``fsfm-bench weights list``, ``"default"`` (the backbone's
default card) or None.
"""
from __future__ import annotations

from typing import Any

from fsfm_bench.backbone_spec import BackboneSpec
from fsfm_bench.errors import UsageError


def build_vit(*args: Any, **kw: Any):
    """Deferred import: torch and timm load when a backbone is built, not when plugins are listed."""
    from .loading import build_vit as _build_vit

    return _build_vit(*args, **kw)


def build_cnn(*args: Any, **kw: Any):
    from .loading import build_cnn as _build_cnn

    return _build_cnn(*args, **kw)


#: FSFM's own model names -> the timm arch with the same encoder
FSFM_ARCHS = {
    "fsfm_vit_small_patch16": "vit_small_patch16_224",
    "fsfm_vit_base_patch16": "vit_base_patch16_224",
    "fsfm_vit_large_patch16": "vit_large_patch16_224",
    "vit_small_patch16": "vit_small_patch16_224",
    "vit_base_patch16": "vit_base_patch16_224",
    "vit_large_patch16": "vit_large_patch16_224",
}
FSFM_SMALL_NAMES = ("fsfm_vit_small_patch16", "vit_small_patch16")
#: supervised archs that are ViTs (the rest are timm CNNs)
VIT_PREFIXES = ("vit_", "deit", "eva")


def build_fsfm(checkpoint: Any = None, arch: str | None = None, *, spec: BackboneSpec, **kw: Any):
    """FSFM / FS-VFM ViT-S/B/L/16: FSFM's own model names map to timm's, ViT-S with 12 heads."""
    if arch in FSFM_SMALL_NAMES:
        # FSFM's ViT-S has 12 heads of 32 dims (docs/method.md, "Architecture"); timm's vit_small has 6. Weight
        # shapes are identical, so a wrong head count would load silently and compute differently.
        kw.setdefault("num_heads", 12)
    arch = FSFM_ARCHS.get(arch, arch) if arch else None
    return build_vit(spec, checkpoint=checkpoint, arch=arch, **kw)


def build_vit_family(checkpoint: Any = None, *, spec: BackboneSpec, **kw: Any):
    """A timm ViT in the spec's layout (MAE, DINO, FaRL, CLIP, MCF)."""
    return build_vit(spec, checkpoint=checkpoint, **kw)


def build_cnn_family(checkpoint: Any = None, *, spec: BackboneSpec, **kw: Any):
    """A timm CNN with timm-layout weights (Xception, EfficientNet-B4)."""
    return build_cnn(spec, checkpoint=checkpoint, **kw)


def build_supervised(checkpoint: Any = None, arch: str | None = None, *, spec: BackboneSpec, **kw: Any):
    """Supervised ImageNet timm models: a ViT (timm layout) or, for any other arch, a timm CNN."""
    arch = arch or spec.default_arch
    if not arch.startswith(VIT_PREFIXES):
        return build_cnn(spec, checkpoint=checkpoint, arch=arch, **kw)
    return build_vit(spec, checkpoint=checkpoint, arch=arch, **kw)


def build_vit_scratch(checkpoint: Any = None, *, spec: BackboneSpec, **kw: Any):
    """ViT-B/16 from random initialisation (no checkpoint accepted)."""
    if checkpoint not in (None, "", "none"):
        raise UsageError("vit_scratch is randomly initialised and takes no checkpoint; use backbone=supervised "
                         "or another backbone to load weights")
    return build_vit(spec, checkpoint=None, **kw)
