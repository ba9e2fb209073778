"""Config sections (model / loss / masking) -> an :class:`FSFMPretrainer`.

``model.preset`` (vit_small, vit_base, vit_large, vit_tiny) fills the encoder sizes; any size key
given explicitly (not null) wins, which is how the tiny recipe and tests build small models.
"""
from __future__ import annotations

from typing import Any

import torch

from ..errors import UsageError, did_you_mean
from .model import ARCH_PRESETS, FSFMPretrainer

_MODEL_KEYS = ("img_size", "patch_size", "embed_dim", "depth", "num_heads", "mlp_ratio",
               "decoder_embed_dim", "decoder_depth", "decoder_num_heads", "rep_decoder_depth",
               "rep_decoder_num_heads", "projection_size", "projection_hidden_size", "norm_pix_loss",
               "arch", "dedup_rep_mask_tokens")


def model_kwargs(model: dict[str, Any]) -> dict[str, Any]:
    model = dict(model or {})
    preset = model.pop("preset", None)
    out: dict[str, Any] = {}
    if preset:
        if preset not in ARCH_PRESETS:
            raise UsageError(f"unknown model preset {preset!r}." + did_you_mean(preset, ARCH_PRESETS))
        out.update(ARCH_PRESETS[preset])
    model.pop("id_branch", None)
    for key, value in model.items():
        if key not in _MODEL_KEYS:
            raise UsageError(f"unknown model key {key!r}." + did_you_mean(key, _MODEL_KEYS))
        if value is not None:
            out[key] = value
    return out


def build_pretrainer(model: dict | None = None, loss: dict | None = None, masking: Any = None,
                     seed: int = 0, id_branch: bool = True, max_nonfinite: int = 5) -> FSFMPretrainer:
    kw = model_kwargs(model or {})
    loss = dict(loss or {})
    if isinstance(masking, dict):
        masking = dict(masking)
        name = masking.pop("name", "crfr_p")
        ratio = masking.pop("mask_ratio", 0.75)
        mk = masking
    else:
        name, ratio, mk = masking, 0.75, {}
    with torch.random.fork_rng(devices=[]):   # the initialisation is a function of the seed alone
        torch.manual_seed(int(seed))
        net = _build(kw, id_branch, loss, name, ratio, mk, seed)
    net.max_nonfinite = int(max_nonfinite)
    return net


def _build(kw, id_branch, loss, name, ratio, mk, seed) -> FSFMPretrainer:
    return FSFMPretrainer(**kw, id_branch=id_branch, weight_rec=loss.get("weight_rec", 1.0),
                         weight_sfr=loss.get("weight_sfr", 0.007),
                         weight_sim=loss.get("weight_sim", 0.1) if id_branch else 0.0,
                         masking=name, mask_ratio=ratio, masking_kwargs=mk, seed=seed)


def build_fsfm(model: dict | None = None, loss: dict | None = None, masking: Any = None,
               seed: int = 0, id_branch: bool = True, **kw: Any) -> FSFMPretrainer:
    """FSFM 3C: CRFR-P masked image modelling + ID branch with an EMA target (CVPR 2025)."""
    return build_pretrainer(model, loss, masking if masking is not None else {"name": "crfr_p"},
                            seed, id_branch=id_branch, **kw)


def build_mae(model: dict | None = None, loss: dict | None = None, masking: Any = None,
              seed: int = 0, id_branch: bool = False, **kw: Any) -> FSFMPretrainer:
    """MAE baseline: the same framework without the ID branch (random masking by default)."""
    return build_pretrainer(model, loss, masking if masking is not None else {"name": "random"},
                            seed, id_branch=False, **kw)
