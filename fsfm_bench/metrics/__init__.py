"""Every built-in metric of fsfm-bench, implemented once (see :mod:`.binary` for the conventions).

    >>> from fsfm_bench import metrics
    >>> metrics.auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    >>> metrics.eer([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]).rate
    0.5

Labels: 1 = fake/attack. Scores: P(fake). ``tpr_at_fpr`` counts attacks as positives;
``tpr_at_fpr_live`` is the same function with live as the positive class (the FAS papers' TPR@FPR).
Results call metrics by name through the :class:`MetricSpec` each plugin registers (the built-in
ones in ``plugins/metrics``); :func:`metric_spec` / :func:`parse_metric_name` read that registry.
"""
from __future__ import annotations

from .binary import EER, acc, ap, auc, balanced_acc, check_inputs, eer, eer_grid, error_rates, hter, roc, tpr_at_fpr
from .bootstrap import CI, OWN_EER, OWN_EER_GRID, bootstrap_ci, scalar
from .spec import MetricSpec, check_metric_names, find_metric_spec, metric_spec, metric_specs, parse_metric_name
from .video import VideoScores, aggregate_videos

__all__ = ["EER", "CI", "OWN_EER", "OWN_EER_GRID", "eer_grid", "VideoScores", "MetricSpec", "auc", "ap", "eer", "acc",
           "balanced_acc", "hter", "error_rates", "tpr_at_fpr", "roc", "aggregate_videos", "bootstrap_ci", "scalar",
           "check_inputs", "parse_metric_name", "metric_spec", "find_metric_spec", "metric_specs",
           "check_metric_names"]
