"""Bootstrap benchmark: the vectorised weighted-ROC bootstrap against the committed per-resample loop.

    python benchmarks/bootstrap.py                                   # 144k frames, 4.5k videos, 1000
    python benchmarks/bootstrap.py --metrics auc,eer --old-resamples 200   # shorter baseline

Synthetic scores shaped like a frame-level cross-dataset run (Celeb-DF-like: 4.5k videos of 32
frames, ~1/3 real, float32 probabilities). For each metric, the old path (benchmarks/
bootstrap_baseline.py: sklearn on one materialised resample per iteration) and the new path
(fsfm_bench.metrics.bootstrap_ci) run in the same process on the same data with the same seed; the
script checks the intervals agree to 1e-12 and prints a markdown table with the speed ratio. With
``--old-resamples`` smaller than ``--resamples`` the old path's time is scaled per resample, and the
equality check runs at ``--old-resamples`` on both paths.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bootstrap_baseline as old  # noqa: E402

from fsfm_bench import metrics as M  # noqa: E402
from fsfm_bench.io import atomic_write_json  # noqa: E402

METRICS = {  # name -> (new fn, old fn, kwargs)
    "auc": (M.auc, old.auc, {}),
    "ap": (M.ap, old.ap, {}),
    "eer": (M.eer, old.eer, {}),
    "tpr_at_fpr@0.01": (M.tpr_at_fpr, old.tpr_at_fpr, {"fpr": 0.01}),
    "acc": (M.acc, old.acc, {"threshold": 0.5}),
    "balanced_acc": (M.balanced_acc, old.balanced_acc, {"threshold": 0.5}),
    "hter": (M.hter, old.hter, {"threshold": 0.5}),
}


def synthetic(frames: int, videos: int, seed: int = 0):
    """Labels, float32-valued P(fake) and video ids; frames of a video are correlated."""
    rng = np.random.default_rng(seed)
    per = np.full(videos, frames // videos)
    per[: frames - per.sum()] += 1
    vlab = (rng.random(videos) < 2 / 3).astype(int)
    vlogit = rng.normal(1.2 * vlab - 0.4, 1.0)
    y = np.repeat(vlab, per)
    logit = np.repeat(vlogit, per) + rng.normal(0.0, 0.8, y.size)
    s = (1.0 / (1.0 + np.exp(-logit))).astype(np.float32).astype(float)
    ids = np.repeat(np.array([f"vid{i:05d}" for i in range(videos)]), per)
    return y, s, ids


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=144_000)
    p.add_argument("--videos", type=int, default=4_500)
    p.add_argument("--resamples", type=int, default=1000)
    p.add_argument("--old-resamples", type=int, default=None,
                   help="resamples for the old path (default: --resamples); time scaled per resample")
    p.add_argument("--metrics", default=",".join(METRICS))
    p.add_argument("--unit", choices=["video", "frame"], default="video",
                   help="resample videos (cluster bootstrap, the frame-level default) or frames")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, default=None)
    a = p.parse_args(argv)
    n_old = a.old_resamples or a.resamples
    y, s, ids = synthetic(a.frames, a.videos)
    clusters = ids if a.unit == "video" else None
    print(f"# {a.frames} frames, {a.videos} videos ({int(y.sum())} fake frames, "
          f"{np.unique(s).size} unique scores), resampling {a.unit}s, {a.resamples} resamples; "
          f"old path {n_old} resamples")
    print(f"# {platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, "
          f"Python {platform.python_version()}, numpy {np.__version__}")
    rows, total_old, total_new = [], 0.0, 0.0
    for name in a.metrics.split(","):
        new_fn, old_fn, kw = METRICS[name]
        t_old, ci_old = _timed(partial(old.bootstrap_ci, old_fn, y, s, clusters, n_resamples=n_old,
                                       seed=a.seed, **kw))
        t_check, ci_check = _timed(partial(M.bootstrap_ci, new_fn, y, s, clusters, n_resamples=n_old,
                                           seed=a.seed, **kw))
        diff = max(abs(ci_old.low - ci_check.low), abs(ci_old.high - ci_check.high),
                   abs(ci_old.estimate - ci_check.estimate))
        if n_old == a.resamples:
            t_new, ci_new = t_check, ci_check
        else:
            t_new, ci_new = _timed(partial(M.bootstrap_ci, new_fn, y, s, clusters,
                                           n_resamples=a.resamples, seed=a.seed, **kw))
        old_full = t_old * a.resamples / n_old
        total_old += old_full
        total_new += t_new
        rows.append({"metric": name, "old_s": old_full, "new_s": t_new, "ratio": old_full / t_new,
                     "old_ms_per_resample": 1e3 * t_old / n_old,
                     "new_ms_per_resample": 1e3 * t_new / a.resamples, "max_abs_diff": diff,
                     "ci": [ci_new.low, ci_new.high], "estimate": ci_new.estimate})
        print(f"  {name}: old {old_full:.1f} s, new {t_new:.2f} s, x{old_full / t_new:.0f}, "
              f"max |diff| {diff:.1e}", flush=True)
        if diff > 1e-12:
            print(f"MISMATCH in {name}: old {ci_old} new {ci_check}", file=sys.stderr)
            return 1
    print("\n| metric | old s | new s | old ms/resample | new ms/resample | speed-up | max abs diff |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['metric']} | {r['old_s']:.1f} | {r['new_s']:.2f} | {r['old_ms_per_resample']:.1f} "
              f"| {r['new_ms_per_resample']:.2f} | {r['ratio']:.0f}x | {r['max_abs_diff']:.1e} |")
    print(f"| **all** | {total_old:.1f} | {total_new:.2f} | | | **{total_old / total_new:.0f}x** | |")
    if a.json:
        atomic_write_json(a.json, {"args": {k: str(v) for k, v in vars(a).items()}, "rows": rows,
                                   "total_old_s": total_old, "total_new_s": total_new})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
