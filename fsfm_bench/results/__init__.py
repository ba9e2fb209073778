"""Result files: provenance, per-sample scores, metrics from scores, the result JSON, leaderboards.

The protocol runner's path through this package::

    from fsfm_bench.results import compute_metrics, build_result, write_result
    res = compute_metrics(scores, ["auc", "eer", "tpr_at_fpr@0.01"], granularities=("frame", "video"))
    result = build_result(protocol="cdfd@1", backbone="fsfm", results=res, config=cfg, data=splits,
                          selection_policy="source_val", threshold_source="fixed_0.5", seeds={"seed": 0},
                          checkpoint_sha256=sha, bootstrap={"n_resamples": 1000, "confidence": 0.95, "seed": 0})
    path = write_result(result, "results/", scores=scores)   # writes result_*.json + .scores.csv

``fsfm-bench leaderboard build`` reads every ``result_*.json`` under a folder.
"""
from .compute import GRANULARITIES, THRESHOLD_SOURCES, compute_metrics
from .provenance import environment, git_info, hardware_info, package_versions
from .result import (
                     RESULT_GLOB,
                     SCHEMA_VERSION,
                     SELECTION_POLICIES,
                     build_result,
                     new_result_from,
                     read_result,
                     result_filename,
                     scores_path,
                     validate_result,
                     write_result,
)
from .scores import COLUMNS as SCORE_COLUMNS
from .scores import read_scores, write_scores

__all__ = ["GRANULARITIES", "THRESHOLD_SOURCES", "compute_metrics", "environment", "git_info",
           "hardware_info", "package_versions", "RESULT_GLOB", "SCHEMA_VERSION", "SELECTION_POLICIES",
           "build_result", "new_result_from", "read_result", "result_filename", "scores_path", "validate_result",
           "write_result", "SCORE_COLUMNS", "read_scores", "write_scores"]
