"""The example metric: FPR at the first ROC point where TPR >= 95 % (fake/attack positive).

Written from the core's ROC (:func:`fsfm_bench.metrics.roc`, every point kept), so it follows the
core's conventions: label 1 = fake/attack, score = P(fake), predicted fake when score >= threshold.
Lower is better.
"""
from __future__ import annotations

import numpy as np


def fpr_at_tpr95(labels, scores) -> float:
    """FPR at the threshold where TPR first reaches 0.95 (attack positive); lower is better."""
    from fsfm_bench.metrics import roc

    fpr, tpr, _ = roc(labels, scores)
    return float(fpr[np.flatnonzero(tpr >= 0.95)[0]])
