"""The vectorised bootstrap equals the per-resample computation with sklearn, resample by resample."""
import numpy as np
import pytest
from sklearn import metrics as skm

from fsfm_bench import metrics as M
from fsfm_bench.errors import FsfmBenchError
from fsfm_bench.metrics import bootstrap as boot
from fsfm_bench.metrics import curve as C


# --- sklearn reference metrics (the definitions fsfm-bench documents) --------------------------
def _roc(y, s):
    fpr, tpr, thr = skm.roc_curve(y, s, drop_intermediate=False)
    thr = thr.copy()
    thr[0] = np.nextafter(s.max(), np.inf)
    return fpr, tpr, thr


def _eer(y, s):
    fpr, tpr, thr = _roc(y, s)
    g = 1.0 - fpr - tpr
    k = int(np.argmax(g <= 0.0))
    if g[k] == 0.0 or k == 0:
        return fpr[k], thr[k]
    w = g[k - 1] / (g[k - 1] - g[k])
    return fpr[k - 1] + w * (fpr[k] - fpr[k - 1]), thr[k - 1] + w * (thr[k] - thr[k - 1])


def _hter(y, s, t):
    pred = s >= t
    return 0.5 * (np.mean(~pred[y == 1]) + np.mean(pred[y == 0]))


REF = {
    "auc": (M.auc, {}, lambda y, s: skm.roc_auc_score(y, s)),
    "ap": (M.ap, {}, lambda y, s: skm.average_precision_score(y, s)),
    "eer": (M.eer, {}, lambda y, s: _eer(y, s)[0]),
    "tpr_at_fpr": (M.tpr_at_fpr, {"fpr": 0.05},
                   lambda y, s: _roc(y, s)[1][_roc(y, s)[0] <= 0.05].max()),
    "acc": (M.acc, {"threshold": 0.3}, lambda y, s: np.mean((s >= 0.3) == y)),
    "balanced_acc": (M.balanced_acc, {"threshold": 0.3},
                     lambda y, s: skm.balanced_accuracy_score(y, (s >= 0.3).astype(int))),
    "hter": (M.hter, {"threshold": 0.3}, lambda y, s: _hter(y, s, 0.3)),
}


def _reference_values(ref, y, s, ids, n, seed):
    """The original bootstrap loop: materialise every resample and call sklearn on it."""
    rng = np.random.default_rng(seed)
    if ids is not None:
        uniq, inv = np.unique(ids.astype(str), return_inverse=True)
        vlab = np.zeros(len(uniq), dtype=int)
        vlab[inv] = y
        strata = [np.flatnonzero(vlab == c) for c in (0, 1)]
        frames = [np.flatnonzero(inv == v) for v in range(len(uniq))]
    else:
        strata = [np.flatnonzero(y == c) for c in (0, 1)]
    out = []
    for _ in range(n):
        picked = np.concatenate([rng.choice(st, size=st.size, replace=True) for st in strata])
        idx = np.concatenate([frames[v] for v in picked]) if ids is not None else picked
        out.append(ref(y[idx], s[idx]))
    return np.array(out, dtype=float)


def _data(seed, n_videos=40, max_frames=6, fake_share=0.2, decimals=1):
    """Unbalanced classes, videos of varying length, scores rounded to create many ties."""
    rng = np.random.default_rng(seed)
    vlab = (rng.random(n_videos) < fake_share).astype(int)
    vlab[:2] = [0, 1]
    sizes = rng.integers(1, max_frames + 1, n_videos)
    y = np.repeat(vlab, sizes)
    s = np.clip(np.round(rng.normal(0.35 * y + 0.3, 0.2), decimals), 0.0, 1.0)
    ids = np.repeat(np.array([f"v{i:03d}" for i in range(n_videos)]), sizes)
    perm = rng.permutation(y.size)                  # frames of a video need not be adjacent
    return y[perm], s[perm], ids[perm]


@pytest.mark.parametrize("name", sorted(REF))
@pytest.mark.parametrize("videos", [False, True])
def test_fast_values_equal_sklearn_per_resample(name, videos):
    fn, kwargs, ref = REF[name]
    for seed in (0, 1):
        y, s, ids = _data(seed)
        ids = ids if videos else None
        n = 60
        expected = _reference_values(ref, y, s, ids, n, seed=seed + 10)
        # the same draws through the vectorised path (small batches exercise the batching)
        fast = boot._fast_metric(fn, kwargs)
        assert fast is not None
        rng = np.random.default_rng(seed + 10)
        if videos:
            _, unit_of = np.unique(ids.astype(str), return_inverse=True)
            vlab = np.zeros(unit_of.max() + 1, dtype=int)
            vlab[unit_of] = y
            strata = [np.flatnonzero(vlab == c) for c in (0, 1)]
        else:
            unit_of, strata = np.arange(y.size), [np.flatnonzero(y == c) for c in (0, 1)]
        got = boot._fast_values(fast, y, s, unit_of, strata, rng, n, max_cells=7 * 40)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
        assert np.unique(expected).size > 3                 # the resamples really differ
        # and the public interval equals the percentile interval of the reference values
        ci = M.bootstrap_ci(fn, y, s, ids, n_resamples=n, seed=seed + 10, **kwargs)
        low, high = np.quantile(expected, [0.025, 0.975])
        assert ci.low == pytest.approx(low, abs=1e-12) and ci.high == pytest.approx(high, abs=1e-12)
        assert ci.estimate == pytest.approx(ref(y, s), abs=1e-12)


def test_plain_metrics_equal_sklearn_with_ties_and_imbalance():
    for seed in range(5):
        y, s, _ = _data(seed, n_videos=80, decimals=seed % 3 + 1)
        for name, (fn, kwargs, ref) in REF.items():
            assert M.scalar(fn(y, s, **kwargs)) == pytest.approx(ref(y, s), abs=1e-12), name
        assert M.eer(y, s).threshold == pytest.approx(_eer(y, s)[1], abs=1e-12)
        for a, b in zip(M.roc(y, s), _roc(y, s), strict=True):
            np.testing.assert_array_equal(a, b)


def test_weighted_counts_equal_repeating_the_samples():
    """Integer weights (zeros included) give exactly the ROC of the repeated samples."""
    y, s, _ = _data(3, n_videos=50, decimals=1)
    rng = np.random.default_rng(5)
    w = rng.integers(0, 3, y.size)
    w[np.flatnonzero(y == 1)[0]] = w[np.flatnonzero(y == 0)[0]] = 1
    r = C.rank(s)
    tp, fp = C.cumulative_counts(r, y, w)
    yy, ss = np.repeat(y, w), np.repeat(s, w)
    rate, thr = C.eer_from_counts(tp, fp, C.point_thresholds(r, tp, fp))
    assert (rate, thr) == pytest.approx(_eer(yy, ss), abs=1e-12)
    assert C.auc_from_counts(tp, fp) == pytest.approx(skm.roc_auc_score(yy, ss), abs=1e-12)
    assert C.ap_from_counts(tp, fp) == pytest.approx(skm.average_precision_score(yy, ss), abs=1e-12)
    # zero-weight groups leave only duplicate points: the distinct points are sklearn's ROC
    fpr, tpr = C.roc_from_counts(tp, fp)
    thr_pts = C.point_thresholds(r, tp, fp)
    keep = np.r_[True, (np.diff(fpr) != 0) | (np.diff(tpr) != 0)]
    ref = _roc(yy, ss)
    np.testing.assert_array_equal(fpr[keep], ref[0])
    np.testing.assert_array_equal(tpr[keep], ref[1])
    np.testing.assert_array_equal(thr_pts[keep], ref[2])


def test_other_metrics_and_mixed_label_videos_use_the_loop():
    y, s, ids = _data(4)
    calls = []

    def custom(labels, scores):
        calls.append(len(labels))
        return M.auc(labels, scores)

    a = M.bootstrap_ci(custom, y, s, ids, n_resamples=20, seed=3)
    b = M.bootstrap_ci(M.auc, y, s, ids, n_resamples=20, seed=3)
    assert len(calls) == 21                               # estimate + one call per resample
    assert (a.low, a.high) == pytest.approx((b.low, b.high), abs=1e-12)
    assert boot._fast_metric(M.acc, {"bogus": 1}) is None  # unknown keyword: the loop raises it
    mixed = ids.copy()
    mixed[np.flatnonzero(y == 1)[0]] = ids[np.flatnonzero(y == 0)[0]]
    c = M.bootstrap_ci(M.auc, y, s, mixed, n_resamples=20, seed=3)
    d = M.bootstrap_ci(custom, y, s, mixed, n_resamples=20, seed=3)
    assert (c.low, c.high) == (d.low, d.high)


def test_builtin_metrics_take_the_fast_path(monkeypatch):
    calls = []
    real = boot._fast_values
    monkeypatch.setattr(boot, "_fast_values", lambda *a, **k: calls.append(1) or real(*a, **k))
    y, s, ids = _data(2)
    for fn, kwargs, _ in REF.values():
        M.bootstrap_ci(fn, y, s, ids, n_resamples=5, **kwargs)
        M.bootstrap_ci(fn, y, s, None, n_resamples=5, **kwargs)
    assert len(calls) == 2 * len(REF)
    M.bootstrap_ci(lambda a, b: M.auc(a, b), y, s, ids, n_resamples=5)   # unknown metric: the loop
    assert len(calls) == 2 * len(REF)


OWN_EER_REF = {
    "hter": (M.hter, lambda y, s: _hter(y, s, _eer(y, s)[1])),
    "acc": (M.acc, lambda y, s: np.mean((s >= _eer(y, s)[1]) == y)),
    "balanced_acc": (M.balanced_acc,
                     lambda y, s: skm.balanced_accuracy_score(y, (s >= _eer(y, s)[1]).astype(int))),
}


@pytest.mark.parametrize("name", sorted(OWN_EER_REF))
@pytest.mark.parametrize("videos", [False, True])
def test_own_eer_threshold_is_re_estimated_in_every_resample(name, videos):
    """threshold=OWN_EER: each resample is thresholded at its own EER threshold (sklearn reference),
    through the vectorised path; a threshold held at the full data's value gives other resamples."""
    fn, ref = OWN_EER_REF[name]
    y, s, ids = _data(7, n_videos=60, decimals=2)
    ids = ids if videos else None
    n = 80
    expected = _reference_values(ref, y, s, ids, n, seed=11)
    ci = M.bootstrap_ci(fn, y, s, ids, n_resamples=n, seed=11, threshold=M.OWN_EER)
    low, high = np.quantile(expected, [0.025, 0.975])
    assert ci.low == pytest.approx(low, abs=1e-12) and ci.high == pytest.approx(high, abs=1e-12)
    assert ci.estimate == pytest.approx(ref(y, s), abs=1e-12)
    t_full = _eer(y, s)[1]
    fixed_ref = {"hter": lambda a, b: _hter(a, b, t_full),
                 "acc": lambda a, b: np.mean((b >= t_full) == a),
                 "balanced_acc": lambda a, b: skm.balanced_accuracy_score(a, (b >= t_full).astype(int))}[name]
    fixed = _reference_values(fixed_ref, y, s, ids, n, seed=11)
    assert np.abs(fixed - expected).max() > 1e-3           # re-estimating really changes the resamples


def test_own_eer_takes_the_fast_path_and_equals_the_loop(monkeypatch):
    calls = []
    real = boot._fast_values
    monkeypatch.setattr(boot, "_fast_values", lambda *a, **k: calls.append(1) or real(*a, **k))
    y, s, ids = _data(8, n_videos=50, decimals=2)
    fast = M.bootstrap_ci(M.hter, y, s, ids, n_resamples=40, seed=2, threshold=M.OWN_EER)
    loop = M.bootstrap_ci(lambda a, b, threshold: M.hter(a, b, threshold), y, s, ids, n_resamples=40,
                          seed=2, threshold=M.OWN_EER)
    assert len(calls) == 1
    assert (fast.low, fast.high, fast.estimate) == pytest.approx((loop.low, loop.high, loop.estimate), abs=1e-12)
    with pytest.raises(FsfmBenchError, match="takes no threshold"):
        M.bootstrap_ci(M.auc, y, s, ids, n_resamples=5, threshold=M.OWN_EER)
