"""Scoring every target frame once: cached, chunked, resumable.

The cache key is (checkpoint sha256, manifest hash of the scored rows, preprocessing hash). Scores
are committed in chunks (``chunk-<start>-<end>.npy``, each written atomically) every
``chunk_batches`` batches, so an interrupted evaluation resumes with the rows that have no chunk
yet; when every row is covered the chunks are merged into ``scores.npy`` and a rerun does no
forward pass at all.

With ``perturb`` (a :class:`fsfm_bench.perturb.scoring.ScorePerturbation`) the images are scored
under that robustness condition; the condition joins the key, so its scores are cached (and
resumed) beside the clean ones and never mixed with them.

Every chunk and the merged file carry their sha256 in a record written after them
(``chunk-*.sha256.json``, ``complete.json``) and are used only when it verifies: a chunk or
``scores.npy`` that is truncated, replaced or half-written is scored again, never trusted.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from ..io import atomic_save_npy, atomic_write_json, sha256_file, sha256_json
from ..progress import Progress
from .datasets import ScoreBatchDataset, ScoreDataset

log = logging.getLogger(__name__)
CHUNK = re.compile(r"^chunk-(\d{10})-(\d{10})\.npy$")


@dataclass
class ScoreReport:
    scores: np.ndarray
    scored: int            # rows forwarded in this call (0 = everything came from the cache)
    cache_dir: Path


def cache_key(checkpoint_sha256: str, manifest_hash: str, preprocessing: dict[str, Any]) -> dict[str, str]:
    return {"checkpoint": checkpoint_sha256, "manifest": manifest_hash, "preprocessing": sha256_json(preprocessing)}



def _digest(*paths: Path) -> dict[str, str]:
    return {p.name: sha256_file(p) for p in paths}


def _load_verified(data: Path, marker: Path, n: int | None = None) -> np.ndarray | None:
    """The array in ``data`` when ``marker`` (written after it) records its exact sha256 (and ``n``
    rows); None when either is missing, damaged or disagrees: the rows are scored again."""
    try:
        record = json.loads(marker.read_text(encoding="utf-8"))
        if record.get("sha256", {}).get(data.name) != sha256_file(data):
            raise ValueError("sha256 differs")
        values = np.load(data, allow_pickle=False)
        if n is not None and (record.get("n") != n or values.shape != (n,)):
            raise ValueError("row count differs")
        return values
    except (OSError, ValueError, AttributeError, TypeError, EOFError) as exc:
        if data.exists():
            log.warning("score cache %s is incomplete or damaged (%s): scoring those rows again", data, exc)
        return None


def _covered(folder: Path, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Scores of the chunks whose hash record verifies (written last, so a chunk counts only when whole)."""
    scores = np.full(n, np.nan, dtype=np.float64)
    done = np.zeros(n, dtype=bool)
    for path in sorted(folder.glob("chunk-*.npy")):
        if not CHUNK.match(path.name):
            continue
        marker = path.with_suffix(".sha256.json")
        idx_file = path.with_suffix(".idx.npy")
        values = _load_verified(path, marker)
        idx = _load_verified(idx_file, marker) if values is not None else None
        if idx is None or len(idx) != len(values) or (len(idx) and (idx.min() < 0 or idx.max() >= n)):
            continue                      # an unverified chunk is ignored (its rows are scored again)
        scores[idx] = values
        done[idx] = True
    return scores, done


def _loader(dataset, batch_size: int | None, num_workers: int, pin_memory: bool) -> DataLoader:
    """The scorer's DataLoader settings, in one place: in order, no persistent workers, 4 batches
    prefetched per worker. ``batch_size=None`` for datasets whose items are already batches."""
    return DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers,
                      pin_memory=pin_memory, persistent_workers=False,
                      prefetch_factor=4 if num_workers > 0 else None)


def score_loader(paths: list[str], indices: list[int], *, size: int, resize: str = "plain",
                 interpolation: str = "bicubic", batch_size: int = 64, num_workers: int = 0,
                 pin_memory: bool = False, batched_reads: bool = False) -> DataLoader:
    """The loader the scorer reads with: (uint8 [B, 3, S, S], indices) batches of ``indices``, in
    order (benchmarks/evaluate.py times it alone with the same settings). ``batched_reads``: each
    worker item is a whole batch (:class:`ScoreBatchDataset`) rather than one image + collate."""
    if batched_reads:
        return _loader(ScoreBatchDataset(paths, indices, size, resize, interpolation, batch_size),
                       None, num_workers, pin_memory)
    return _loader(ScoreDataset(paths, indices, size, resize, interpolation), batch_size, num_workers,
                   pin_memory)


def score_paths(model: torch.nn.Module, paths: list[str], *, key: dict[str, str], cache_root: str | Path,
                size: int, resize: str = "plain", interpolation: str = "bicubic", batch_size: int = 64,
                num_workers: int = 0, device: str | torch.device = "cpu", chunk_batches: int = 20,
                amp: bool = False, progress: bool = False, batched_reads: bool = False,
                perturb=None) -> ScoreReport:
    """P(fake/attack) for every path, in order; reuses and extends the cache under ``cache_root``."""
    if perturb is not None:
        key = {**key, "perturbation": sha256_json(perturb.key)}
    folder = Path(cache_root) / sha256_json(key)[:32]
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / "scores.npy"
    n = len(paths)
    if final.is_file():
        scores = _load_verified(final, folder / "complete.json", n)
        if scores is not None:
            return ScoreReport(scores, 0, folder)
    atomic_write_json(folder / "key.json", {**key, "n": n})
    scores, done = _covered(folder, n)
    todo = np.flatnonzero(~done).tolist()
    scored = 0
    if todo:
        device = torch.device(device)
        model = model.to(device).eval()
        by_video = perturb is not None and perturb.kind == "video"      # items are whole videos, already batched
        if by_video:
            loader = _loader(perturb.dataset(paths, todo, size, resize, interpolation, batch_size), None,
                             num_workers, device.type == "cuda")
        else:
            loader = score_loader(paths, todo, size=size, resize=resize, interpolation=interpolation,
                                  batch_size=batch_size, num_workers=num_workers,
                                  pin_memory=device.type == "cuda", batched_reads=batched_reads)
        pending_idx: list[np.ndarray] = []
        pending_val: list[np.ndarray] = []
        bar = Progress(len(loader), "scoring", "batch", mode=None if progress else "off")

        def commit() -> None:
            if not pending_idx:
                return
            idx, val = np.concatenate(pending_idx), np.concatenate(pending_val)
            name = f"chunk-{int(idx.min()):010d}-{int(idx.max()):010d}"
            atomic_save_npy(folder / f"{name}.idx.npy", idx)
            atomic_save_npy(folder / f"{name}.npy", val)
            # the hash record last: it marks the chunk done, and a chunk changed since fails it
            atomic_write_json(folder / f"{name}.sha256.json",
                              {"sha256": _digest(folder / f"{name}.idx.npy", folder / f"{name}.npy")})
            scores[idx] = val
            pending_idx.clear()
            pending_val.clear()

        with torch.inference_mode(), bar:
            for b, (images, idx) in enumerate(loader, 1):
                images = images.to(device, non_blocking=True)
                if perturb is not None and not by_video:
                    images = perturb.batch(images, idx)
                with torch.autocast(device.type, enabled=amp and device.type == "cuda"):
                    probs = model.scores(images)
                pending_idx.append(idx.numpy())
                pending_val.append(probs.float().cpu().numpy().astype(np.float64))
                scored += len(idx)
                if b % max(1, int(chunk_batches)) == 0:
                    commit()
                bar.update(1)
            commit()
    atomic_save_npy(final, scores)
    atomic_write_json(folder / "complete.json", {"n": n, "sha256": _digest(final)})
    for path in folder.glob("chunk-*"):
        path.unlink(missing_ok=True)
    return ScoreReport(scores, scored, folder)
