"""TPR@FPR with live as the positive class (issue 15 item 2): the FAS papers' definition.

Hand-computed example: 4 live faces (label 0) and 5 attacks (label 1), scores = P(attack).

    live   P(attack): 0.10 0.20 0.30 0.60      -> P(real): 0.90 0.80 0.70 0.40
    attack P(attack): 0.35 0.50 0.70 0.80 0.90 -> P(real): 0.65 0.50 0.30 0.20 0.10

Live positive, thresholds on P(real) from the top: accepting P(real) >= 0.70 takes 3 live and no
attack (TPR 3/4, FPR 0); the next point, >= 0.65, accepts one attack (FPR 1/5 = 20 %). So at
FPR <= 1 %: TPR = 0.75; at FPR <= 20 %: TPR = 0.75 still (3 live, then the attack at 0.65) and at
FPR <= 40 %: 4/4 = 1.0 (0.40 live comes after the attack at 0.50).

Attack positive, thresholds on P(attack) from the top: 0.90, 0.80, 0.70 catch 3 attacks with no live
rejected; the next (0.60) is a live face: FPR 1/4. So at FPR <= 1 %: TPR = 3/5 = 0.6.
"""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_curve

from fsfm_bench import metrics as M
from fsfm_bench.errors import FsfmBenchError
from fsfm_bench.results import compute_metrics

LABELS = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1])
P_ATTACK = np.array([0.10, 0.20, 0.30, 0.60, 0.35, 0.50, 0.70, 0.80, 0.90])


def test_live_positive_tpr_on_the_hand_computed_example():
    assert M.tpr_at_fpr(LABELS, P_ATTACK, 0.01, positive="real") == pytest.approx(0.75)
    assert M.tpr_at_fpr(LABELS, P_ATTACK, 0.20, positive="real") == pytest.approx(0.75)
    assert M.tpr_at_fpr(LABELS, P_ATTACK, 0.40, positive="real") == pytest.approx(1.0)
    assert M.tpr_at_fpr(LABELS, P_ATTACK, 0.01) == pytest.approx(0.6)            # attack positive: another number
    assert M.tpr_at_fpr(LABELS, P_ATTACK, 0.01, positive="fake") == pytest.approx(0.6)


def test_live_positive_tpr_is_sklearns_roc_on_p_real_as_the_fas_code_reads_it():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 400)
    s = np.round(np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0, 1), 2)              # many ties
    for fpr in (0.0, 0.01, 0.05, 0.3):
        f, t, _ = roc_curve(1 - y, 1.0 - s)                                     # live = 1, score P(real)
        want = t[f <= fpr][-1]
        assert M.tpr_at_fpr(y, s, fpr, positive="real") == pytest.approx(want)


def test_metric_names_say_which_class_is_positive_and_bootstrap_agrees():
    import pandas as pd

    frame = pd.DataFrame({"split": "test", "target": "M", "video_id": [f"v{i}" for i in range(9)],
                          "path": [f"f{i}.png" for i in range(9)],
                          "label": LABELS, "score": P_ATTACK})
    out = compute_metrics(frame, ["tpr_at_fpr_live@0.01", "tpr_at_fpr@0.01"], granularities=["frame"],
                          n_resamples=50, seed=0)["M"]["frame"]
    assert out["tpr_at_fpr_live@0.01"]["value"] == pytest.approx(0.75)
    assert out["tpr_at_fpr@0.01"]["value"] == pytest.approx(0.6)
    # the vectorised bootstrap path and the plain loop draw the same resamples: same interval
    fast = M.bootstrap_ci(M.tpr_at_fpr, LABELS, P_ATTACK, n_resamples=50, seed=1, fpr=0.01, positive="real")
    slow = M.bootstrap_ci(lambda y, s, **kw: M.tpr_at_fpr(y, s, **kw), LABELS, P_ATTACK, n_resamples=50,
                          seed=1, fpr=0.01, positive="real")
    assert (fast.low, fast.high) == pytest.approx((slow.low, slow.high))


def test_unknown_positive_class_is_one_clear_error():
    with pytest.raises(FsfmBenchError, match="positive must be 'fake' or 'real'"):
        M.tpr_at_fpr(LABELS, P_ATTACK, 0.01, positive="live")
