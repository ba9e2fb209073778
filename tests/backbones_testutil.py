"""Reference models and official checkpoint layouts for the backbone tests (owned by issue 3).

Every writer takes a tiny timm reference model with random weights and saves its state dict exactly
as the corresponding release does (key names, prefixes and wrapping), so that a test can load it
back through the plugin and compare features with the reference.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import timm
import torch
import torch.nn.functional as F

from fsfm_bench.testing import CLIP_VIT, TINY, VIT  # noqa: F401 - the public helper owns the tiny configs


def reference(arch: str = VIT, seed: int = 0, global_pool: str = "token", num_classes: int = 0, **over) -> torch.nn.Module:
    """A tiny timm ViT whose every parameter is random (LayerNorm weights near 1), in eval mode."""
    torch.manual_seed(seed)
    kw = {**TINY, **over}
    model = timm.create_model(arch, pretrained=False, num_classes=num_classes, global_pool=global_pool, **kw)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim == 1 and ("norm" in name or name.endswith(("ln_1.weight", "ln_2.weight"))) and name.endswith("weight"):
                p.copy_(1 + 0.2 * torch.randn_like(p))
            else:
                p.copy_(0.2 * torch.randn_like(p))
    return model.eval()


def encoder_sd(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The encoder keys as FSFM/MAE/DINO release them (timm names, no head, no fc_norm)."""
    return {k: v.clone() for k, v in model.state_dict().items() if not k.startswith(("head.", "fc_norm."))}


def pre_norm_tokens(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Tokens after the last block, before the final norm (what global_pool=avg pools)."""
    t = model.patch_embed(x)
    t = model._pos_embed(t)
    t = model.norm_pre(t)
    return model.blocks(t)


def avg_pooled(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """FSFM fine-tuning pooling: mean of patch tokens, then a fresh LayerNorm (weight 1, bias 0)."""
    t = pre_norm_tokens(model, x)[:, model.num_prefix_tokens:].mean(1)
    return F.layer_norm(t, (t.shape[-1],), eps=1e-6)


def _namespace(**kw) -> argparse.Namespace:
    return argparse.Namespace(**kw)


def _rand(*shape) -> torch.Tensor:
    return torch.randn(*shape) * 0.02


def write_fsfm(model: torch.nn.Module, path: Path, target: bool = False) -> Path:
    """FSFM/FS-VFM ``checkpoint-N.pth`` (online) or ``checkpoint-te-N.pth`` (target network)."""
    d = model.embed_dim
    sd = encoder_sd(model)
    sd["mask_token"] = _rand(1, 1, d)
    sd["rep_decoder_pos_embed"] = torch.zeros_like(sd["pos_embed"])
    sd["rep_decoder_embed.weight"], sd["rep_decoder_embed.bias"] = _rand(d, d), _rand(d)
    for i in range(2):
        sd[f"rep_decoder_blocks.{i}.norm1.weight"] = _rand(d)
        sd[f"rep_decoder_blocks.{i}.attn.qkv.weight"] = _rand(3 * d, d)
    sd["rep_decoder_norm.weight"], sd["rep_decoder_pred.weight"] = _rand(d), _rand(d, d)
    for net in ("projector",) + (() if target else ("predictor",)):
        sd[f"{net}.projection_head.0.weight"] = _rand(128, d if net == "projector" else 32)
        sd[f"{net}.projection_head.1.weight"] = _rand(128)
        sd[f"{net}.projection_head.3.weight"] = _rand(32, 128)
    if not target:
        sd["decoder_embed.weight"], sd["decoder_pos_embed"] = _rand(32, d), _rand(1, sd["pos_embed"].shape[1], 32)
        sd["decoder_blocks.0.norm1.weight"], sd["decoder_norm.weight"] = _rand(32), _rand(32)
        sd["decoder_pred.weight"] = _rand(16 * 16 * 3, 32)
    ckpt = {"model": sd, "optimizer": {"state": {}, "param_groups": [{"lr": 1e-4, "params": [0, 1]}]},
            "epoch": 399, "scaler": {"scale": 65536.0, "growth_factor": 2.0, "backoff_factor": 0.5,
                                     "growth_interval": 2000, "_growth_tracker": 0},
            "args": _namespace(model="fsfm_vit_base_patch16", mask_ratio=0.75, input_size=224, epochs=400)}
    torch.save(ckpt, path)
    return path


def write_mae(model: torch.nn.Module, path: Path, with_decoder: bool = False) -> Path:
    sd = encoder_sd(model)
    if with_decoder:   # the mae_visualize_* files carry the decoder too
        sd["mask_token"] = _rand(1, 1, 32)
        sd["decoder_embed.weight"], sd["decoder_pred.weight"] = _rand(32, model.embed_dim), _rand(768, 32)
    torch.save({"model": sd}, path)
    return path


def write_dino(model: torch.nn.Module, path: Path, full: bool = False) -> Path:
    sd = encoder_sd(model)
    if not full:
        torch.save(sd, path)              # dino_vitbase16_pretrain.pth: a bare state dict
        return path
    head = {"head.mlp.0.weight": _rand(128, model.embed_dim), "head.mlp.0.bias": _rand(128),
            "head.last_layer.weight_g": torch.ones(256, 1), "head.last_layer.weight_v": _rand(256, 32)}
    teacher = {**{f"backbone.{k}": v for k, v in sd.items()}, **head}
    student = {f"module.{k}": v + 1.0 for k, v in teacher.items()}   # different weights: must not be loaded
    torch.save({"student": student, "teacher": teacher, "optimizer": {"state": {}, "param_groups": []},
                "epoch": 100, "args": _namespace(arch="vit_base", patch_size=16, out_dim=65536),
                "dino_loss": {"center": torch.zeros(1, 256)}}, path)
    return path


def openai_visual_sd(model: torch.nn.Module, prefix: str = "visual.") -> dict[str, torch.Tensor]:
    """The OpenAI-CLIP visual-tower layout of a timm CLIP ViT (the inverse of timm's converter)."""
    out = {}
    for k, v in model.state_dict().items():
        if k.startswith(("head.", "fc_norm.")):
            continue
        if k == "cls_token":
            out["class_embedding"] = v[0, 0]
            continue
        if k == "pos_embed":
            out["positional_embedding"] = v[0]
            continue
        k = k.replace("patch_embed.proj", "conv1").replace("norm_pre", "ln_pre")
        k = k.replace("blocks.", "transformer.resblocks.").replace("attn.qkv.", "attn.in_proj_")
        k = k.replace("attn.proj", "attn.out_proj").replace("mlp.fc1", "mlp.c_fc").replace("mlp.fc2", "mlp.c_proj")
        k = k.replace("norm1", "ln_1").replace("norm2", "ln_2")
        if k.startswith("norm."):
            k = k.replace("norm.", "ln_post.")
        out[k] = v.clone()
    out["proj"] = _rand(model.embed_dim, 32)
    return {prefix + k: v for k, v in out.items()}


def clip_text_tower(width: int = 32) -> dict[str, torch.Tensor]:
    return {"positional_embedding": _rand(77, width), "token_embedding.weight": _rand(100, width),
            "transformer.resblocks.0.attn.in_proj_weight": _rand(3 * width, width),
            "transformer.resblocks.0.ln_1.weight": _rand(width), "ln_final.weight": _rand(width),
            "text_projection": _rand(width, 32), "logit_scale": torch.tensor(4.6)}


def write_farl(model: torch.nn.Module, path: Path, with_mim: bool = True) -> Path:
    """FaRL-Base-Patch16-LAIONFace20M-epNN.pth: {"state_dict": full CLIP model keys}."""
    sd = {**openai_visual_sd(model), **clip_text_tower()}
    if with_mim:
        sd["visual.mask_token"] = _rand(model.embed_dim)
        sd["visual.lm_transformer.resblocks.0.ln_1.weight"] = _rand(model.embed_dim)
        sd["visual.ln_lm.weight"], sd["visual.lm_head.weight"] = _rand(model.embed_dim), _rand(50, model.embed_dim)
    torch.save({"state_dict": sd}, path)
    return path


def write_clip_safetensors(model: torch.nn.Module, path: Path) -> Path:
    """open_clip's OpenAI ViT-B/16 state dict (bare, safetensors)."""
    from safetensors.torch import save_file

    sd = {k: v.contiguous() for k, v in {**openai_visual_sd(model), **clip_text_tower()}.items()}
    save_file(sd, str(path))
    return path


def write_mcf(model: torch.nn.Module, path: Path) -> Path:
    """MCF training checkpoint: {"model": target_encoder.*, online_encoder.*, decoder, predictor ...}."""
    d = model.embed_dim
    enc = encoder_sd(model)
    sd = {f"target_encoder.{k}": v for k, v in enc.items()}
    sd |= {f"online_encoder.{k}": v + 1.0 for k, v in enc.items()}        # must not be the one loaded
    sd |= {"target_encoder.fc.0.weight": _rand(128, d), "target_encoder.fc.1.weight": _rand(128),
           "target_encoder.fc.1.running_mean": torch.zeros(128), "target_encoder.fc.1.num_batches_tracked": torch.tensor(5),
           "online_encoder.fc.0.weight": _rand(128, d), "predictor.0.weight": _rand(128, 32),
           "mask_token": _rand(1, 1, 32), "decoder_embed.weight": _rand(32, d), "decoder_pos_embed": _rand(1, 17, 32)}
    torch.save({"model": sd, "optimizer": {"state": {}, "param_groups": []}, "epoch": 15,
                "args": _namespace(model="mae_vit_base_patch16")}, path)
    return path


def write_timm(model: torch.nn.Module, path: Path) -> Path:
    """timm Hub ``model.safetensors``: the whole model in timm names, classifier included."""
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    return path


def write_mean_std(folder: Path, mean=(0.54, 0.42, 0.36), std=(0.27, 0.24, 0.23)) -> Path:
    import json

    path = folder / "pretrain_ds_mean_std.txt"
    path.write_text(json.dumps({"mean": list(mean), "std": list(std)}) + "\n")
    return path
