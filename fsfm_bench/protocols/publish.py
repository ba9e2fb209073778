"""Step 4 of a run: publish what a seed's evaluation computed.

:func:`write_seed_result` builds the result file (schema-validated, with its per-sample scores
beside it), :func:`report_outcome` prints the lines a user reads after each seed, and
:func:`rebuild_leaderboard` rebuilds the tables from every result file under ``results_dir``.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..paths import under
from .settings import LeaderboardSettings
from .spec import POLICY_LABELS

Log = Callable[[str], None]


def write_seed_result(job, scored) -> Path:
    """Write the result of one :class:`~fsfm_bench.protocols.seed_eval.SeedEval` whose evaluation
    gave ``scored`` (a :class:`~fsfm_bench.protocols.seed_eval.Scored`) into ``job.results_dir``."""
    from ..finetune.datasets import preprocessing_spec
    from ..results import build_result, write_result

    protocol, splits, pretrained, robust = job.protocol, job.splits, job.pretrained, scored.robustness
    prep = preprocessing_spec(scored.img_size, job.eval.resize, job.eval.interpolation, *scored.mean_std)
    proto_block = {"id": protocol.id, "version": protocol.version, "task": protocol.task,
                   "sources": [s.dataset for s in protocol.train], "targets": list(splits.targets),
                   "granularities": list(protocol.granularity), "metrics": list(protocol.metrics)}
    result = build_result(
        protocol=proto_block, backbone=job.backbone_block, results=scored.results, config=job.config,
        config_hash=job.config_digest, data=dict(splits.data_block),
        selection_policy=protocol.policy, threshold_source=protocol.threshold, seeds={"seed": int(job.seed)},
        checkpoint_sha256=pretrained.get("sha256"), checkpoint_path=pretrained.get("path"),
        checkpoint_card=pretrained.get("card"), preprocessing=prep, bootstrap=scored.bootstrap,
        wall_time_s=time.time() - job.started, train_wall_time_s=job.train_wall_time_s,
        started_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(job.started)),
        finetuned={"path": str(job.checkpoint), "sha256": scored.checkpoint_sha256},
        label=f"{protocol.id}@{protocol.version} {POLICY_LABELS[protocol.policy]}",
        metrics=list(protocol.metrics), robustness=robust[0] if robust else None)
    if pretrained.get("made_by"):            # demo-pretrained weights: rows key on what made them
        result["checkpoint"]["made_by"] = pretrained["made_by"]
    return write_result(result, job.results_dir, scores=scored.table,
                        robustness_scores=robust[1] if robust else None)


def report_outcome(outcome, log: Log) -> None:
    """The result file, how much was scored now, and one line of metrics per target and granularity."""
    log(f"result: {outcome.result_path}  ({_scored_note(outcome.forwarded, outcome.total)})")
    for line in _fmt_results(outcome.results):
        log(line)


def _scored_note(forwarded: int, total: int) -> str:
    """How much of the evaluation ran now: all, part (resumed or partly cached), or none (cached)."""
    if forwarded >= total:
        return f"{forwarded} images scored now"
    if forwarded == 0:
        return f"all {total} image scores from the score cache"
    return f"{forwarded} of {total} images scored now, the rest from the score cache"


def _fmt_results(results: dict[str, Any]) -> list[str]:
    lines = []
    for target, grans in results.items():
        for gran, block in grans.items():
            cells = [f"{name} {entry['value'] * 100:.2f}" for name, entry in block.items()]
            lines.append(f"  {target:<10} {gran:<6} " + "  ".join(cells))
    return lines




def rebuild_leaderboard(settings: LeaderboardSettings, log: Log, root: Path = Path()) -> None:
    """Rebuild the leaderboard tables (and figures) from every result file under the results folder."""
    from ..results.leaderboard import build

    report = build(str(under(root, settings.results_dir, "results")), str(under(root, settings.dir, "leaderboards")),
                   figures=settings.figures)
    for ref, path in report.protocols.items():
        log(f"leaderboard {ref}: {path}/leaderboard.md")
