"""One factory per backbone name. Each picks its default timm arch, key layout and normalisation and
defers to :mod:`.loading` for everything else; ``checkpoint`` is a local path, ``hf://``/https source,
a card name from ``fsfm-bench weights list``, ``"default"`` (the backbone's default card) or None.
"""
from __future__ import annotations

from typing import Any

from fsfm_bench.errors import UsageError

from .norms import HALF, IMAGENET_MEAN, IMAGENET_STD, OPENAI_CLIP_MEAN, OPENAI_CLIP_STD


def build_vit(*args: Any, **kw: Any):
    """Deferred import: torch and timm load when a backbone is built, not when plugins are listed."""
    from .loading import build_vit as _build_vit

    return _build_vit(*args, **kw)


def build_cnn(*args: Any, **kw: Any):
    from .loading import build_cnn as _build_cnn

    return _build_cnn(*args, **kw)

IMAGENET = (IMAGENET_MEAN, IMAGENET_STD)
OPENAI_CLIP = (OPENAI_CLIP_MEAN, OPENAI_CLIP_STD)
HALF_HALF = (HALF, HALF)

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
CNN_ARCHS = {"legacy_xception": HALF_HALF, "xception": HALF_HALF, "tf_efficientnet_b4": IMAGENET,
             "efficientnet_b4": IMAGENET}


def build_fsfm(checkpoint: Any = None, arch: str | None = None, **kw: Any):
    """FSFM / FS-VFM ViT-S/B/L/16 (FSFM releases and fsfm-bench's own pretraining output)."""
    if arch in FSFM_SMALL_NAMES:
        # FSFM's ViT-S has 12 heads of 32 dims (docs/method.md, "Architecture"); timm's vit_small has 6. Weight
        # shapes are identical, so a wrong head count would load silently and compute differently.
        kw.setdefault("num_heads", 12)
    arch = FSFM_ARCHS.get(arch, arch) if arch else None
    default = None if checkpoint not in (None, "", "none") else IMAGENET  # released FSFM needs its own stats
    return build_vit("fsfm", checkpoint=checkpoint, layout="fsfm", default_arch="vit_base_patch16_224",
                     default_mean_std=default, arch=arch, **kw)


def build_mae(checkpoint: Any = None, **kw: Any):
    """MAE ViT-B/L/16 (official {"model": ...} checkpoints), ImageNet mean/std."""
    return build_vit("mae", checkpoint=checkpoint, layout="mae", default_arch="vit_base_patch16_224",
                     default_mean_std=IMAGENET, **kw)


def build_dino(checkpoint: Any = None, **kw: Any):
    """DINO ViT-S/16, ViT-B/16 (bare state dict or full training checkpoint's teacher), ImageNet mean/std."""
    return build_vit("dino", checkpoint=checkpoint, layout="dino", default_arch="vit_base_patch16_224",
                     default_mean_std=IMAGENET, **kw)


def build_farl(checkpoint: Any = None, **kw: Any):
    """FaRL ViT-B/16 (ep16/ep64; OpenAI-CLIP layout visual tower) as a timm CLIP ViT (QuickGELU)."""
    return build_vit("farl", checkpoint=checkpoint, layout="openai_clip",
                     default_arch="vit_base_patch16_clip_quickgelu_224", default_mean_std=OPENAI_CLIP, **kw)


def build_clip(checkpoint: Any = None, **kw: Any):
    """OpenAI CLIP ViT-B/16 visual tower (the paper's "CLIP ViT-B, VLP(WIT)" row), timm CLIP ViT."""
    return build_vit("clip", checkpoint=checkpoint, layout="openai_clip",
                     default_arch="vit_base_patch16_clip_quickgelu_224", default_mean_std=OPENAI_CLIP, **kw)


def build_mcf(checkpoint: Any = None, **kw: Any):
    """MCF ViT-B/16 (face MIM+contrastive on LAION-Face-cropped; target_encoder.* keys), ImageNet mean/std."""
    return build_vit("mcf", checkpoint=checkpoint, layout="mcf", default_arch="vit_base_patch16_224",
                     default_mean_std=IMAGENET, **kw)


def build_supervised(checkpoint: Any = None, arch: str | None = None, **kw: Any):
    """Supervised ImageNet timm models: ViT-B/16 in21k->in1k (mean=std=0.5) by default, or a timm CNN."""
    arch = arch or "vit_base_patch16_224"
    if arch in CNN_ARCHS or not arch.startswith(("vit_", "deit", "eva")):
        return build_cnn("supervised", checkpoint=checkpoint, arch=arch,
                         default_mean_std=CNN_ARCHS.get(arch, IMAGENET), **kw)
    return build_vit("supervised", checkpoint=checkpoint, layout="timm", default_arch=arch,
                     default_mean_std=HALF_HALF, arch=arch, **kw)


def build_vit_scratch(checkpoint: Any = None, **kw: Any):
    """ViT-B/16 from random initialisation (the paper's "Scratch" row), ImageNet mean/std."""
    if checkpoint not in (None, "", "none"):
        raise UsageError("vit_scratch is randomly initialised and takes no checkpoint; use backbone=supervised "
                         "or another backbone to load weights")
    return build_vit("vit_scratch", checkpoint=None, layout="timm", default_arch="vit_base_patch16_224",
                     default_mean_std=IMAGENET, **kw)


def build_xception(checkpoint: Any = None, arch: str = "legacy_xception", **kw: Any):
    """Xception (timm legacy_xception, ImageNet; mean=std=0.5, 299 px) as in FF++/DeepfakeBench."""
    return build_cnn("xception", checkpoint=checkpoint, arch=arch, default_mean_std=HALF_HALF, **kw)


def build_efficientnet_b4(checkpoint: Any = None, arch: str = "tf_efficientnet_b4", **kw: Any):
    """EfficientNet-B4 (timm tf_efficientnet_b4, ImageNet mean/std, 380 px) as in deepfake benchmarks."""
    return build_cnn("efficientnet_b4", checkpoint=checkpoint, arch=arch, default_mean_std=IMAGENET, **kw)


FACTORIES = {
    "fsfm": build_fsfm,
    "mae": build_mae,
    "dino": build_dino,
    "farl": build_farl,
    "clip": build_clip,
    "mcf": build_mcf,
    "supervised": build_supervised,
    "vit_scratch": build_vit_scratch,
    "xception": build_xception,
    "efficientnet_b4": build_efficientnet_b4,
}
