"""Stand-ins for the protocol-run tests: a synthetic prepared dataset and a tiny-backbone config.

The synthetic faces are noise images; fakes carry a red cue, so a 2-block ViT learns them in a few
epochs. ``flip_test=True`` puts the cue on the REAL test faces instead: the better the model fits
the sources, the worse it does on that target (source-val and target-oracle selection then
disagree by construction).
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from fsfm_bench.data.manifest import write_manifest

TINY = {"type": "fsfm_bench.finetune.standins:tiny_vit", "img_size": 32, "patch_size": 8, "embed_dim": 32,
        "depth": 2, "num_heads": 2}


def make_prepared(out: Path, splits=(("train", 6), ("val", 3), ("test", 4)), frames: int = 3, size: int = 32,
                  seed: int = 0, flip_test: bool = False, cue: int = 70, source: str = "synth") -> Path:
    rng = np.random.default_rng(seed)
    rows = []
    for split, nvid in splits:
        for v in range(nvid):
            for label in (0, 1):
                vid = f"{split}_{label}_{v}"
                for f in range(frames):
                    img = rng.integers(40, 200, (size, size, 3), dtype=np.uint8)
                    cued = (label == 1) != (flip_test and split == "test")
                    if cued:
                        img[..., 2] = np.clip(img[..., 2].astype(int) + cue, 0, 255)   # BGR: red
                    rel = f"images/{vid}/{f}.png"
                    (out / rel).parent.mkdir(parents=True, exist_ok=True)
                    cv2.imwrite(str(out / rel), img)
                    rows.append({"path": rel, "label": label, "video_id": vid, "source": source, "split": split,
                                 "manipulation": "cue" if label else "real", "frame_index": f})
    write_manifest(out / "manifest.jsonl", rows)
    return out


def synth_config(tmp: Path, data: Path, **finetune: Any) -> dict[str, Any]:
    """demo@1's recipe and protocol shape on the synthetic data with the tiny stand-in backbone."""
    from fsfm_bench.config import compose

    cfg = compose(protocol="demo@1").to_dict()
    proto = cfg["protocol"]
    proto["train"] = [{"dataset": "synth", "split": "train"}]
    proto["validation"] = {"dataset": "synth", "split": "val"}
    proto["targets"] = [{"name": "unseen", "dataset": "synth", "split": "test"}]
    proto.pop("pretrain_if_no_checkpoint", None)
    cfg["backbone"] = copy.deepcopy(TINY)
    cfg["data"]["prepared"] = {"synth": str(data)}
    cfg["data"]["cache_dir"] = str(tmp / "cache")
    cfg["work_dir"] = str(tmp / "runs")
    cfg["finetune"].update(img_size=32, epochs=3, warmup_epochs=1, batch_size=8, blr=0.05, num_workers=0,
                           log_interval=100)
    cfg["finetune"].update(finetune)
    cfg["eval"].update(bootstrap=20, batch_size=16, num_workers=0)
    cfg["leaderboard"].update(results_dir=str(tmp / "results"), dir=str(tmp / "leaderboards"),
                              rebuild=False, figures=False)
    return cfg


def tiny_scorer(out: Path, videos: int, frames: int = 2) -> tuple[Any, list[str], dict[str, Any]]:
    """(a tiny seeded classifier, the image paths of a synthetic test split, score_paths' common
    keyword arguments: a fixed cache key, 32 px, batches of 4, a chunk per batch) for scoring tests."""
    import json

    import torch

    from fsfm_bench.finetune.model import build_classifier

    data = make_prepared(out, splits=(("test", videos),), frames=frames)
    rows = [json.loads(line) for line in (data / "manifest.jsonl").read_text().splitlines()]
    torch.manual_seed(0)
    model = build_classifier({"backbone": dict(TINY), "adapter": {"type": "fsfm_head"}})
    key = {"checkpoint": "c" * 64, "manifest": "m" * 64, "preprocessing": "p" * 64}
    return model, [str(data / r["path"]) for r in rows], dict(key=key, size=32, batch_size=4, chunk_batches=1,
                                                             num_workers=0)
