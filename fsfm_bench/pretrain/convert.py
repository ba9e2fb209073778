"""Key conversion between the official FSFM pretraining layout and :class:`FSFMPretrainer`.

Official layout (docs/method.md, "Checkpoint layout"; tests/test_pretrain_parity.py checks it on real weights): the online checkpoint's
``model`` holds the encoder (timm names), ``mask_token``, ``decoder_*`` (pixel decoder),
``rep_decoder_*``, ``projector.projection_head.{0,1,3}`` and ``predictor.projection_head.{0,1,3}``;
the target checkpoint (``checkpoint-te-*.pth``) holds encoder, ``mask_token``, ``rep_decoder_*``
and ``projector.*``. Both directions are pure renames, so ``export(import(sd)) == sd``.
"""
from __future__ import annotations

import argparse
import os
from collections.abc import Mapping

import torch

from ..errors import FsfmBenchError

# (official prefix, our prefix) for non-encoder parts; the longest official prefix wins
_PARTS = [
    ("decoder_pos_embed", "pixel_decoder.pos_embed"),
    ("decoder_embed.", "pixel_decoder.embed."),
    ("decoder_blocks.", "pixel_decoder.blocks."),
    ("decoder_norm.", "pixel_decoder.norm."),
    ("decoder_pred.", "pixel_decoder.pred."),
    ("rep_decoder_pos_embed", "rep_decoder.pos_embed"),
    ("rep_decoder_embed.", "rep_decoder.embed."),
    ("rep_decoder_blocks.", "rep_decoder.blocks."),
    ("rep_decoder_norm.", "rep_decoder.norm."),
    ("rep_decoder_pred.", "rep_decoder.pred."),
    ("projector.projection_head.", "projector."),
    ("predictor.projection_head.", "predictor."),
    ("mask_token", "mask_token"),
]
ENCODER_PREFIXES = ("cls_token", "pos_embed", "patch_embed.", "blocks.", "norm.")


def _official_to_ours(key: str) -> str:
    for off, ours in sorted(_PARTS, key=lambda p: -len(p[0])):
        if key == off or (off.endswith(".") and key.startswith(off)):
            return ours + key[len(off):]
    if key.startswith(ENCODER_PREFIXES):
        return "encoder." + key
    raise FsfmBenchError(f"unknown key {key!r} in an official FSFM pretraining state dict; "
                         "expected encoder, mask_token, decoder_*, rep_decoder_*, projector.*, predictor.*")


def _ours_to_official(key: str) -> str | None:
    if key.startswith("encoder."):
        return key[len("encoder."):]
    for off, ours in sorted(_PARTS, key=lambda p: -len(p[1])):
        if key == ours or (ours.endswith(".") and key.startswith(ours)):
            return off + key[len(ours):]
    return None  # e.g. num_micro_batches: not part of the official layout


def official_to_model(online: Mapping[str, torch.Tensor],
                      target: Mapping[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
    """Official online (+ target) state dicts -> an FSFMPretrainer state dict (partial if no target)."""
    out = {_official_to_ours(k): v for k, v in online.items()}
    if target is not None:
        for k, v in target.items():
            ours = _official_to_ours(k)
            out["target.extra.mask_token" if ours == "mask_token" else "target." + ours] = v
    return out


def model_to_official(model_sd: Mapping[str, torch.Tensor]
                      ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """An FSFMPretrainer state dict -> (official online, official target) state dicts."""
    online, target = {}, {}
    for k, v in model_sd.items():
        if k.startswith("target."):
            rest = k[len("target."):]
            rest = "mask_token" if rest == "extra.mask_token" else rest
            off = _ours_to_official(rest)
            if off is not None:
                target[off] = v
        else:
            off = _ours_to_official(k)
            if off is not None:
                online[off] = v
    return online, target


def load_official(model: torch.nn.Module, online: Mapping[str, torch.Tensor],
                  target: Mapping[str, torch.Tensor] | None = None) -> None:
    """Load official weights into ``model``; without ``target`` the target starts as a copy of the
    online weights (what the official code does at initialisation). Any mismatch is an error."""
    if target is None and getattr(model, "id_branch", False):
        target = {k: v for k, v in online.items() if not k.startswith(("decoder", "predictor."))}
    sd = official_to_model(online, target)
    if not getattr(model, "id_branch", True):
        sd = {k: v for k, v in sd.items()
              if not k.startswith(("rep_decoder.", "projector.", "predictor.", "target."))}
    result = model.load_state_dict(sd, strict=False)
    missing = [k for k in result.missing_keys if k != "num_micro_batches"]
    if missing or result.unexpected_keys:
        raise FsfmBenchError(f"official checkpoint does not fit the model: missing {missing[:6]}, "
                             f"unexpected {result.unexpected_keys[:6]} (check the arch preset/sizes)")


def read_official_checkpoint(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The ``model`` state dict of an official checkpoint, loaded with weights_only=True
    (``argparse.Namespace`` in ``args`` is the one extra global the official files need)."""
    if not os.path.isfile(path):
        raise FsfmBenchError(f"checkpoint {path} does not exist")
    with torch.serialization.safe_globals([argparse.Namespace]):
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(ckpt, dict) or "model" not in ckpt:
        raise FsfmBenchError(f"{path} is not an FSFM checkpoint (no 'model' entry)")
    return ckpt["model"]


def load_official_checkpoint(model: torch.nn.Module, online_path: str | os.PathLike,
                             target_path: str | os.PathLike | None = None) -> None:
    """Resume from released files: ``checkpoint-N.pth`` (+ ``checkpoint-te-N.pth``)."""
    online = read_official_checkpoint(online_path)
    target = read_official_checkpoint(target_path) if target_path else None
    load_official(model, online, target)


def export_official(model: torch.nn.Module, out_dir: str | os.PathLike, tag: str = "last") -> tuple[str, str]:
    """Write ``checkpoint-{tag}.pth`` and ``checkpoint-te-{tag}.pth`` in the official layout."""
    from ..io import atomic_torch_save

    online, target = model_to_official({k: v.detach().cpu() for k, v in model.state_dict().items()})
    p1 = os.path.join(out_dir, f"checkpoint-{tag}.pth")
    p2 = os.path.join(out_dir, f"checkpoint-te-{tag}.pth")
    atomic_torch_save({"model": online}, p1)
    atomic_torch_save({"model": target}, p2)
    return p1, p2
