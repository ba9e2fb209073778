"""Helpers for the pretraining tests: a synthetic face manifest with parsing maps, a stand-in
random masking (until/unless the masking plugin is installed) and a tiny-model config."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch

TINY_MODEL = dict(preset=None, img_size=32, patch_size=8, embed_dim=32, depth=1, num_heads=2,
                  decoder_embed_dim=32, decoder_depth=1, decoder_num_heads=2, rep_decoder_depth=1,
                  rep_decoder_num_heads=2, projection_size=16, projection_hidden_size=32,
                  norm_pix_loss=True)


class RandomRegionMasking:
    """Batched: exactly K masked per row; the focus = a fixed block of patches forced into the mask."""

    def __init__(self, mask_ratio: float = 0.75, patch_size: int = 8):
        self.ratio, self.p = mask_ratio, patch_size

    def __call__(self, parsing, generator=None):
        b, h, w = parsing.shape
        n = (h // self.p) * (w // self.p)
        k = int(n * self.ratio)
        noise = torch.rand(b, n, generator=generator, device=parsing.device)
        focus = torch.zeros(b, n, dtype=torch.bool, device=parsing.device)
        focus[:, :2] = True
        noise = noise - focus.float()          # focus patches first
        ids = noise.argsort(dim=1)
        mask = torch.zeros(b, n, dtype=torch.bool, device=parsing.device)
        mask.scatter_(1, ids[:, :k], True)
        return mask, focus


def write_manifest(root: Path, n: int = 8, size: int = 32, map_size: int | None = None,
                   bad_label: bool = False, with_maps: bool = True) -> Path:
    from PIL import Image

    from fsfm_bench.data.manifest import write_manifest as wm

    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "parsing").mkdir(parents=True, exist_ok=True)
    rows = []
    ms = map_size or size
    for i in range(n):
        img = (rng.random((size, size, 3)) * 255).astype(np.uint8)
        Image.fromarray(img).save(root / "images" / f"{i}.png")
        pm = rng.integers(0, 11, size=(1, ms, ms)).astype(np.int8)
        if bad_label:
            pm[0, 0, 0] = 42
        np.save(root / "parsing" / f"{i}.npy", pm)
        row = dict(path=f"images/{i}.png", label=0, video_id=f"v{i}", source="synth", split="train")
        if with_maps:
            row["parsing"] = f"parsing/{i}.npy"
        rows.append(row)
    wm(root / "manifest.jsonl", rows)
    return root / "manifest.jsonl"


def tiny_cfg(manifest: Path, work_dir: Path, epochs: int = 2, batch_size: int = 4, accum: int = 1,
             **extra) -> dict:
    from fsfm_bench.config import compose

    cfg = compose(recipe="fsfm").to_dict()
    cfg["model"] = copy.deepcopy(TINY_MODEL)
    cfg["data"].update(source=str(manifest), manifest=str(manifest), batch_size=batch_size,
                       num_workers=0, mean=[0.5, 0.5, 0.5], std=[0.25, 0.25, 0.25], drop_last=True)
    cfg["optim"].update(accum_iter=accum, blr=1e-3)
    cfg["schedule"].update(epochs=epochs, horizon_epochs=epochs, warmup_epochs=1)
    cfg["checkpoint"].update(interval=1)
    cfg.update(amp="fp32", work_dir=str(work_dir), log_interval=1, **extra)
    return cfg


def tiny_model(cfg: dict, id_branch: bool = True):
    from fsfm_bench.pretrain.factory import build_pretrainer

    model = build_pretrainer(cfg["model"], cfg["loss"], None, seed=cfg["seed"], id_branch=id_branch)
    model._masking_fn = RandomRegionMasking(0.75, cfg["model"]["patch_size"])
    return model
