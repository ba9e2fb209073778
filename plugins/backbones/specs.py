"""The built-in backbones, one :class:`~fsfm_bench.backbone_spec.BackboneSpec` per name: layout,
default timm arch, input size and normalisation live here and nowhere else (configs keep the
fine-tuning knobs; checkpoint cards in ``registry/checkpoints`` describe released weights).

Factories are named as ``"module:attr"`` strings: listing plugins imports neither torch nor timm.
"""
from __future__ import annotations

from fsfm_bench.backbone_spec import HALF, IMAGENET, OPENAI_CLIP, BackboneSpec

_F = "fsfm_bench_plugins.backbones.factories:"

SPECS: tuple[BackboneSpec, ...] = (
    BackboneSpec("fsfm", _F + "build_fsfm", layout="fsfm", default_arch="vit_base_patch16_224", input_size=224,
                 mean_std=IMAGENET, checkpoint_stats_required=True,   # released FSFM brings its own stats
                 description="FSFM / FS-VFM ViT-S/B/L/16 (FSFM releases and fsfm-bench's own pretraining output)."),
    BackboneSpec("mae", _F + "build_vit_family", layout="mae", default_arch="vit_base_patch16_224", input_size=224,
                 mean_std=IMAGENET, description="MAE ViT-B/L/16 (official {\"model\": ...} checkpoints), ImageNet mean/std."),
    BackboneSpec("dino", _F + "build_vit_family", layout="dino", default_arch="vit_base_patch16_224", input_size=224,
                 mean_std=IMAGENET,
                 description="DINO ViT-S/16, ViT-B/16 (bare state dict or full training checkpoint's teacher), ImageNet mean/std."),
    BackboneSpec("farl", _F + "build_vit_family", layout="openai_clip",
                 default_arch="vit_base_patch16_clip_quickgelu_224", input_size=224, mean_std=OPENAI_CLIP,
                 description="FaRL ViT-B/16 (ep16/ep64; OpenAI-CLIP layout visual tower) as a timm CLIP ViT (QuickGELU)."),
    BackboneSpec("clip", _F + "build_vit_family", layout="openai_clip",
                 default_arch="vit_base_patch16_clip_quickgelu_224", input_size=224, mean_std=OPENAI_CLIP,
                 description="OpenAI CLIP ViT-B/16 visual tower (the paper's \"CLIP ViT-B, VLP(WIT)\" row), timm CLIP ViT."),
    BackboneSpec("mcf", _F + "build_vit_family", layout="mcf", default_arch="vit_base_patch16_224", input_size=224,
                 mean_std=IMAGENET,
                 description="MCF ViT-B/16 (face MIM+contrastive on LAION-Face-cropped; target_encoder.* keys), ImageNet mean/std."),
    # supervised timm models: in21k->in1k ViTs use 0.5/0.5, the CNNs ImageNet's statistics (Xception 0.5)
    BackboneSpec("supervised", _F + "build_supervised", layout="timm", default_arch="vit_base_patch16_224",
                 input_size=224, mean_std=IMAGENET,
                 arch_mean_std=(("legacy_xception", HALF), ("xception", HALF), ("vit_*", HALF), ("deit*", HALF),
                                ("eva*", HALF)),
                 description="Supervised ImageNet timm models: ViT-B/16 in21k->in1k (mean=std=0.5) by default, "
                             "or a timm CNN (ImageNet mean/std)."),
    BackboneSpec("vit_scratch", _F + "build_vit_scratch", layout="timm", default_arch="vit_base_patch16_224",
                 input_size=224, mean_std=IMAGENET,
                 description="ViT-B/16 from random initialisation (the paper's \"Scratch\" row), ImageNet mean/std."),
    BackboneSpec("xception", _F + "build_cnn_family", layout="timm", default_arch="legacy_xception", input_size=299,
                 mean_std=HALF, description="Xception (timm legacy_xception, ImageNet; mean=std=0.5, 299 px) "
                                            "as in FF++/DeepfakeBench."),
    BackboneSpec("efficientnet_b4", _F + "build_cnn_family", layout="timm", default_arch="tf_efficientnet_b4",
                 input_size=380, mean_std=IMAGENET,
                 description="EfficientNet-B4 (timm tf_efficientnet_b4, ImageNet mean/std, 380 px) as in deepfake "
                             "benchmarks."),
)
