"""What a pretraining run publishes: the encoder in the FSFM layout, its mean/std file and a card.

Layout of ``<work_dir>/export/`` (what ``build_backbone("fsfm", checkpoint=...)`` loads):

- ``checkpoint-encoder.pth``: ``{"model": encoder state dict in the official key names}``
  (``cls_token, pos_embed, patch_embed.*, blocks.N.*, norm.*``), like the released checkpoints;
- ``pretrain_ds_mean_std.txt``: one JSON line ``{"mean": [...], "std": [...]}`` as the official file;
- ``card.json``: a checkpoint card (``schemas/checkpoint_card.json``) with mean/std, recipe,
  config hash and manifest hash (under ``meta``). It is written last and names the encoder's
  sha256, so an export counts as finished only when its card exists and matches
  (:func:`finished_export`); a kill during the export leaves an unfinished one, redone on rerun.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from ..io import atomic_torch_save, atomic_write_json, atomic_write_text, sha256_file

ENCODER_FILE = "checkpoint-encoder.pth"
MEAN_STD_FILE = "pretrain_ds_mean_std.txt"
CARD_FILE = "card.json"


def export_encoder(model, out_dir: str | os.PathLike, mean, std, *, ssl: str, recipe: str | None,
                   config_sha256: str, manifest_sha256: str | None, epochs: int,
                   extra: dict[str, Any] | None = None) -> Path:
    """Write the three files atomically; returns the checkpoint path."""
    from .. import __version__
    from ..schemas import validate

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / CARD_FILE).unlink(missing_ok=True)      # the card is the completion marker: written last
    ckpt = out / ENCODER_FILE
    sd = {k: v.detach().cpu().float().contiguous() for k, v in model.encoder_state_dict().items()}
    atomic_torch_save({"model": sd, "epoch": int(epochs)}, ckpt)
    atomic_write_text(out / MEAN_STD_FILE, json.dumps({"mean": list(mean), "std": list(std)}) + "\n")
    a = model.arch_cfg
    timm_arch = a.get("arch") or f"vit_base_patch{a['patch_size']}_224"
    card = {
        "name": f"{(recipe or ssl)}-{config_sha256[:8]}".lower().replace("/", "-"),
        "backbone": "fsfm",
        "layout": "fsfm",
        "description": f"encoder pretrained by fsfm-bench ({ssl}, recipe {recipe})",
        "source": None,
        "download": "written locally by `fsfm-bench pretrain`",
        "file": ENCODER_FILE,
        "sha256": sha256_file(ckpt),
        "licence": "user-trained: the pretraining data's licence applies",
        "arch": timm_arch,
        "architecture": {"embed_dim": int(a["embed_dim"]), "depth": int(a["depth"]),
                         "num_heads": int(a["num_heads"]), "patch_size": int(a["patch_size"]),
                         "mlp_ratio": float(a["mlp_ratio"])},
        "input_size": int(model.img_size),
        "global_pool": "avg",
        "mean": [float(v) for v in mean],
        "std": [float(v) for v in std],
        "mean_std_file": MEAN_STD_FILE,
        "created_by": "fsfm-bench pretrain",
        "meta": {"ssl": ssl, "recipe": recipe, "config_sha256": config_sha256,
                 "manifest_sha256": manifest_sha256, "epochs": int(epochs),
                 "fsfm_bench_version": __version__,
                 "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **(extra or {})},
    }
    validate(card, "checkpoint_card", "pretraining checkpoint card")
    atomic_write_json(out / CARD_FILE, card)
    return ckpt


def finished_export(out_dir: str | os.PathLike) -> Path | None:
    """The encoder of a complete export in ``out_dir``: its card exists, names it and its sha256 matches."""
    out = Path(out_dir)
    try:
        card = json.loads((out / CARD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ckpt = out / str(card.get("file") or ENCODER_FILE) if isinstance(card, dict) else None
    if ckpt is None or not ckpt.is_file() or card.get("sha256") != sha256_file(ckpt):
        return None
    return ckpt
