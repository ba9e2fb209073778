"""``perturb=``: score a fine-tuned checkpoint again under each robustness condition (no retraining).

For every requested (family, level), every target row is scored with the same checkpoint after
the perturbation (image families on the scoring device, video compression per video through the
codec), through the score cache keyed by (checkpoint, rows, preprocessing, condition): rerunning
resumes where it stopped and a finished condition is never forwarded again. Each condition's
metrics use the protocol's own metrics, granularities and threshold policy; a threshold from the
source validation set comes from the clean validation scores (the detector as deployed, meeting
degraded test data). The result records every condition in its ``robustness`` block and keeps
the perturbed per-sample scores in a second scores file, so ``rescore`` recomputes them too.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pandas as pd

from ..perturb import conditions as parse_conditions
from ..perturb import families
from .settings import EvalSettings


def requested(cfg: dict[str, Any]) -> list:
    """The conditions of ``perturb=`` (a usage error names a wrong family or level)."""
    return parse_conditions(cfg.get("perturb"))


def evaluate_robustness(model, meta: dict[str, Any], checkpoint_sha256: str, splits, rows: list[dict[str, Any]],
                        val_frame: pd.DataFrame | None, cfg: dict[str, Any], ev: EvalSettings, *, protocol,
                        seed: int, log: Callable[[str], None]
                        ) -> tuple[dict[str, Any], pd.DataFrame, int] | None:
    """(robustness block, perturbed scores table, images forwarded now), or None without ``perturb=``.

    ``rows`` are the unique target rows in scoring order; ``splits.targets`` maps each target to
    its rows (a row shared by targets is scored once per condition)."""
    from ..perturb.scoring import ScorePerturbation
    from ..plugins import get_entry
    from ..results.robustness import condition_metrics
    from .data import published_path
    from .seed_eval import _scores_frame, score_rows

    wanted = requested(cfg)
    if not wanted:
        return None
    n_resamples = ev.robustness_bootstrap
    registered = families()
    ids = [published_path(r) for r in rows]
    videos = [f"{r.get('source', '')}/{r['video_id']}" for r in rows]
    order = [r.get("frame_index") for r in rows]
    parts, entries, forwarded = [], [], 0
    started = time.time()
    for family in dict.fromkeys(c.perturbation for c in wanted):
        fam = registered[family]
        plugin = get_entry("perturbations", family).plugin
        line = []
        for cond in [c for c in wanted if c.perturbation == family]:
            sp = ScorePerturbation(fam, cond.level, ids, int(seed), videos, order)
            scores, n = score_rows(model, meta, checkpoint_sha256, rows, cfg, ev, perturb=sp)
            forwarded += n
            by_path = dict(zip((r["path"] for r in rows), scores, strict=True))
            test = pd.concat([_scores_frame("test", name, trows, [by_path[r["path"]] for r in trows])
                              for name, trows in splits.targets.items()], ignore_index=True)
            test["perturbation"], test["level"] = family, int(cond.level)
            parts.append(test)
            results = condition_metrics(test, val_frame, list(protocol.metrics), list(protocol.granularity),
                                        protocol.threshold, list(splits.targets), n_resamples, 0.95, int(seed))
            entries.append({**fam.identity(cond.level), "title": fam.title, "unit": fam.unit,
                            "plugin": {"name": plugin.name, "distribution": plugin.distribution,
                                       "version": plugin.version},
                            "results": results})
            first = next(iter(results.values()))
            gran = next(iter(first.values()))
            metric = "auc" if "auc" in gran else next(iter(gran))
            line.append(f"{cond.level}:{100 * gran[metric]['value']:.1f}")
        log(f"  robustness {family:<5} {metric} by level  " + "  ".join(line))
    log(f"  robustness: {len(entries)} conditions in {time.time() - started:.1f} s "
        f"({forwarded} perturbed images scored now)")
    block = {"suite": "perturbations", "seed": int(seed), "bootstrap": {"n_resamples": int(n_resamples)},
             "conditions": entries}
    return block, pd.concat(parts, ignore_index=True), forwarded
