"""Each metric against values computed by hand (ties, unbalanced classes), and the error cases."""
import numpy as np
import pytest
from scipy.interpolate import interp1d
from scipy.optimize import brentq
from sklearn.metrics import roc_curve

from fsfm_bench import metrics as M
from fsfm_bench.errors import FsfmBenchError, UsageError

# case A: 2 real, 2 fake, no ties
YA, SA = [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]
# case T: a tie between a real and a fake at 0.5
YT, ST = [0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9]
# case U: unbalanced, 8 real vs 2 fake
YU = [0] * 8 + [1, 1]
SU = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.65, 0.95]


def test_auc_by_hand():
    assert M.auc(YA, SA) == pytest.approx(3 / 4)          # 3 of 4 (fake, real) pairs ordered
    assert M.auc(YT, ST) == pytest.approx(3.5 / 4)        # the tie counts one half
    assert M.auc(YU, SU) == pytest.approx(14 / 16)        # 0.95 beats 8 reals, 0.65 beats 6


def test_ap_by_hand():
    assert M.ap(YA, SA) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    assert M.ap(YU, SU) == pytest.approx(0.5 * 1 + 0.5 * 2 / 4)


def test_eer_exact_roc_point():
    # ROC (0,0) (0,.5) (.5,.5) (.5,1) (1,1): the line tpr = 1 - fpr meets it at the point (.5,.5)
    rate, threshold = M.eer(YA, SA)
    assert rate == pytest.approx(0.5)
    assert threshold == pytest.approx(0.4)


def test_eer_interpolated_with_ties():
    # ROC (0,0) (0,.5) (.5,1) (1,1): the root of 1 - x - TPR(x) on the segment is x = 0.25
    rate, threshold = M.eer(YT, ST)
    assert rate == pytest.approx(0.25)
    assert threshold == pytest.approx(0.9 + 0.5 * (0.5 - 0.9))   # halfway between 0.9 and 0.5


def test_eer_unbalanced_vertical_segment():
    rate, threshold = M.eer(YU, SU)
    assert rate == pytest.approx(0.25)
    assert threshold == pytest.approx(0.675)


def test_eer_matches_brentq_on_known_roc():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 500)
    s = np.round(rng.normal(y * 0.8, 1.0), 2)        # rounding creates many ties
    fpr, tpr, _ = roc_curve(y, s)
    reference = brentq(lambda x: 1.0 - x - interp1d(fpr, tpr)(x), 0.0, 1.0)
    assert M.eer(y, s).rate == pytest.approx(reference, abs=1e-9)


def test_eer_perfect_and_inverted():
    assert M.eer([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]).rate == pytest.approx(0.0)
    assert M.eer([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]).rate == pytest.approx(1.0)


def test_acc_balanced_acc_by_hand():
    assert M.acc(YA, SA) == pytest.approx(0.75)                 # 0.35 (fake) is missed at 0.5
    assert M.balanced_acc(YA, SA) == pytest.approx((1.0 + 0.5) / 2)
    assert M.acc(YU, SU) == pytest.approx(6 / 10)               # 4 reals >= 0.5 are wrong
    assert M.balanced_acc(YU, SU) == pytest.approx((4 / 8 + 2 / 2) / 2)
    assert M.acc(YU, SU, threshold=0.9) == pytest.approx(9 / 10)
    assert M.acc([1, 1], [0.7, 0.2]) == pytest.approx(0.5)      # one class is fine for acc


def test_hter_by_hand():
    assert M.hter(YA, SA, 0.5) == pytest.approx((1 / 2 + 0) / 2)       # FAR .5 (0.35), FRR 0
    assert M.hter(YA, SA, 0.4) == pytest.approx((1 / 2 + 1 / 2) / 2)   # 0.4 (real) now rejected
    assert M.error_rates(YU, SU, 0.675) == pytest.approx((0.5, 0.25))
    assert M.hter(YU, SU, M.eer(YU, SU).threshold) == pytest.approx(0.375)


def test_tpr_at_fpr_largest_tpr_with_fpr_at_most_target():
    assert M.tpr_at_fpr(YA, SA, 0.0) == pytest.approx(0.5)
    assert M.tpr_at_fpr(YA, SA, 0.49) == pytest.approx(0.5)
    assert M.tpr_at_fpr(YA, SA, 0.5) == pytest.approx(1.0)
    assert M.tpr_at_fpr(YU, SU, 0.1) == pytest.approx(0.5)      # only fpr 0 qualifies
    assert M.tpr_at_fpr(YU, SU, 0.25) == pytest.approx(1.0)
    assert M.tpr_at_fpr(YT, ST, 0.4) == pytest.approx(0.5)      # the tie jumps to fpr .5


@pytest.mark.parametrize("fn", [M.auc, M.ap, M.eer, M.balanced_acc, M.tpr_at_fpr])
def test_one_class_is_a_clear_error(fn):
    with pytest.raises(FsfmBenchError, match="only one class"):
        fn([1, 1, 1], [0.1, 0.2, 0.3])


@pytest.mark.parametrize("labels, scores, message", [
    ([], [], "empty input"),
    ([0, 1, 1], [0.1, 0.2], "3 labels but 2 scores"),
    ([0, 1], [0.1, float("nan")], "NaN or infinite"),
    ([0, 2], [0.1, 0.2], "labels must be 0"),
    ([0, 0.5], [0.1, 0.2], "labels must be 0"),
])
def test_bad_input_is_a_clear_error(labels, scores, message):
    for fn in (M.auc, M.eer, M.acc):
        with pytest.raises(FsfmBenchError, match=message):
            fn(labels, scores)


def test_hter_needs_a_finite_threshold():
    with pytest.raises(FsfmBenchError, match="threshold"):
        M.hter(YA, SA, float("nan"))


def test_metric_names_parse():
    assert M.parse_metric_name("tpr_at_fpr@0.001")[2] == pytest.approx(0.001)
    assert M.parse_metric_name("tpr_at_fpr")[2] == pytest.approx(0.01)
    with pytest.raises(UsageError, match="Did you mean: auc"):
        M.parse_metric_name("acu")
    with pytest.raises(UsageError, match="takes no parameter"):
        M.parse_metric_name("auc@3")


def test_metrics_are_registered_through_the_plugin():
    from fsfm_bench.plugins import get, get_entry

    eer = get("metrics", "eer")
    assert isinstance(eer, M.MetricSpec) and eer.fn is M.eer and not eer.higher_is_better
    assert get("metrics", "tpr_at_fpr_live").fn is get("metrics", "tpr_at_fpr").fn is M.tpr_at_fpr  # written once
    assert get_entry("metrics", "auc").plugin.builtin
    assert M.metric_spec("hter").needs_threshold and M.metric_spec("hter").title == "HTER"
