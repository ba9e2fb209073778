"""Step 3 of a run (and all of ``fsfm-bench eval``): score one fine-tuned checkpoint and compute its metrics.

What to evaluate is one frozen :class:`SeedEval` (the protocol, its rows, the checkpoint, the seed,
and what the result must cite) instead of a long parameter list; :func:`evaluate_checkpoint` scores
every target frame once (cached by checkpoint, manifest and preprocessing hashes, so it resumes),
computes the protocol's metrics and hands the result to :mod:`fsfm_bench.protocols.publish`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import FsfmBenchError
from ..io import sha256_file
from ..paths import cache_dir
from .settings import EvalSettings
from .spec import Protocol
from .splits import Splits

Log = Callable[[str], None]


def score_rows(model, meta: dict[str, Any], checkpoint_sha256: str, rows: list[dict[str, Any]],
               cfg: dict[str, Any], ev: EvalSettings, perturb=None) -> tuple[Any, int]:
    """(scores array, rows forwarded now) for rows; cached by checkpoint/manifest/preprocessing
    (and the robustness condition ``perturb``, when given). ``ev`` is what the result records."""
    from ..data.manifest import manifest_hash
    from ..finetune.datasets import preprocessing_spec
    from ..finetune.scoring import cache_key, score_paths
    from .evaluate import resolve_device

    size = int(meta.get("img_size") or cfg["finetune"]["img_size"])
    mean, std = model.mean_std
    prep = preprocessing_spec(size, ev.resize, ev.interpolation, mean, std)
    ident = [{"path": r["path"], "label": int(r["label"]), "video_id": str(r["video_id"])} for r in rows]
    key = cache_key(checkpoint_sha256, manifest_hash(ident), prep)
    root = Path(ev.cache_dir or cache_dir(cfg) / "scores")
    report = score_paths(model, [r["path"] for r in rows], key=key, cache_root=root, size=size,
                         resize=prep["crop"], interpolation=prep["interpolation"],
                         batch_size=ev.batch_size, num_workers=ev.num_workers,
                         device=resolve_device(ev.device), chunk_batches=ev.chunk_batches,
                         amp=bool((cfg.get("finetune") or {}).get("amp")), progress=ev.progress, perturb=perturb)
    return report.scores, report.scored


def _scores_frame(split: str, target: str, rows: list[dict[str, Any]], scores) -> pd.DataFrame:
    from .data import published_path

    return pd.DataFrame({"split": split, "target": target, "path": [published_path(r) for r in rows],
                         "video_id": [f"{r.get('source', '')}/{r['video_id']}" for r in rows],
                         "label": [int(r["label"]) for r in rows], "score": scores})

@dataclass
class SeedOutcome:
    result_path: Path | None
    results: dict[str, Any]
    forwarded: int
    checkpoint: Path
    total: int = 0          # images the evaluation needed (forwarded now or read from the score cache)


@dataclass(frozen=True)
class SeedEval:
    """One evaluation: score ``checkpoint`` on ``splits`` under ``protocol`` and cite the rest in the result.
    ``config`` is the raw composed config the result records (and the score cache reads)."""
    protocol: Protocol
    splits: Splits
    checkpoint: Path
    config: dict[str, Any]
    eval: EvalSettings
    seed: int
    backbone_block: dict[str, Any]
    pretrained: dict[str, Any]             # the initial weights {sha256, path, card[, made_by]}
    config_digest: str | None              # None for ``fsfm-bench eval`` (nothing trained here)
    results_dir: Path | None               # None: compute the metrics, write no result
    started: float                         # time.time() when the seed began (the result's wall time)
    train_wall_time_s: float | None = None
    checkpoint_sha256: str | None = None   # given when the caller already hashed the file


@dataclass(frozen=True)
class Scored:
    """What :func:`evaluate_checkpoint` computed, for :func:`fsfm_bench.protocols.publish.write_seed_result`."""
    table: pd.DataFrame                    # per-sample scores (test targets and source_val)
    results: dict[str, Any]                # compute_metrics' output
    robustness: tuple[dict[str, Any], pd.DataFrame, int] | None
    checkpoint_sha256: str
    img_size: int
    mean_std: tuple[list[float], list[float]]
    bootstrap: dict[str, Any]


def evaluate_checkpoint(job: SeedEval, log: Log = print) -> SeedOutcome:
    """Score the targets (and the source validation rows, which any threshold policy may use later) with one
    fine-tuned checkpoint, compute the metrics and write the result with its scores (when ``results_dir``)."""
    from ..finetune.model import load_finetuned
    from ..results import compute_metrics
    from .publish import write_seed_result
    from .robustness import evaluate_robustness

    protocol, splits, cfg, seed = job.protocol, job.splits, job.config, int(job.seed)
    if not splits.targets:
        raise FsfmBenchError(f"protocol {protocol.ref}: no target has data; nothing to evaluate")
    model, meta = load_finetuned(str(job.checkpoint))
    # once (the caller may have it): the score cache key and the result cite it
    checkpoint_sha256 = job.checkpoint_sha256 or sha256_file(job.checkpoint)
    # every target frame is scored once, even when targets share images (DiFF's real test images)
    unique: dict[str, dict[str, Any]] = {}
    for rows in splits.targets.values():
        for r in rows:
            unique.setdefault(r["path"], r)
    scored, forwarded = score_rows(model, meta, checkpoint_sha256, list(unique.values()), cfg, job.eval)
    total = len(unique)
    by_path = dict(zip(unique, scored, strict=True))
    frames = [_scores_frame("test", name, rows, [by_path[r["path"]] for r in rows])
              for name, rows in splits.targets.items()]
    # the source validation rows are scored whenever the run has them (not only for a
    # source_val_eer protocol), so `rescore threshold_source=source_val_eer` works on every result
    if splits.val_rows:
        scores, n = score_rows(model, meta, checkpoint_sha256, splits.val_rows, cfg, job.eval)
        forwarded += n
        total += len(splits.val_rows)
        frames.append(_scores_frame("val", "source_val", splits.val_rows, scores))
    table = pd.concat(frames, ignore_index=True)
    boot = {"n_resamples": job.eval.bootstrap, "confidence": 0.95, "seed": seed}
    results = compute_metrics(table, list(protocol.metrics), granularities=list(protocol.granularity),
                              threshold_source=protocol.threshold, targets=list(splits.targets),
                              n_resamples=boot["n_resamples"], confidence=0.95, seed=seed)
    robust = evaluate_robustness(model, meta, checkpoint_sha256, splits, list(unique.values()),
                                 table[table["split"] == "val"], cfg, job.eval, protocol=protocol, seed=seed,
                                 log=log)
    if robust:
        forwarded += robust[2]
        total += len(unique) * len(robust[0]["conditions"])
    path = None
    if job.results_dir is not None:
        size = int(meta.get("img_size") or cfg["finetune"]["img_size"])
        path = write_seed_result(job, Scored(table=table, results=results, robustness=robust,
                                             checkpoint_sha256=checkpoint_sha256, img_size=size,
                                             mean_std=model.mean_std, bootstrap=boot))
    return SeedOutcome(path, results, forwarded, job.checkpoint, total)
