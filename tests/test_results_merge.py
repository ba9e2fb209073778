"""The leaderboard's merge step alone (fsfm_bench/results/merge.py): seeds of one recipe become one
row with mean, population std, n and the mean bootstrap bounds; reported cells pair by backbone,
target, granularity and metric, thresholded metrics only at the same threshold source."""
from pathlib import Path

import pytest
from results_testutil import make_result, metric_entry

from fsfm_bench.results.merge import Loaded, join_reported, merge_seeds, thresholded

FSFM = {"name": "fsfm", "distribution": "fsfm-bench", "version": "0.1.0", "plugin": "backbones"}
DINO = {**FSFM, "name": "dinov2"}


def _entry(value: float, low: float, high: float) -> dict:
    return {**metric_entry(value, 40), "ci": {"low": low, "high": high, "confidence": 0.95,
                                        "n_resamples": 20, "unit": "video"}}


def _loaded(seed: int, auc: float, hter: float, low: float, high: float, backbone=FSFM) -> Loaded:
    results = {"CDFv2": {"video": {"auc": _entry(auc, low, high),
                                   "hter": {**metric_entry(hter, 40), "higher_is_better": False}}}}
    res = make_result(results=results, seed=seed, backbone=backbone)
    return Loaded(Path(f"result_{backbone['name']}_s{seed}.json"), res)


@pytest.fixture()
def merged():
    return merge_seeds([_loaded(0, 0.80, 0.25, 0.70, 0.90), _loaded(1, 0.90, 0.15, 0.80, 1.00),
                        _loaded(0, 0.60, 0.40, 0.50, 0.70, backbone=DINO)])


def test_two_seeds_of_one_recipe_are_one_row_with_mean_std_and_n(merged):
    auc = merged[(merged["metric"] == "auc")].set_index("backbone")
    assert len(auc) == 2                                            # fsfm's two seeds merged, dinov2 apart
    fsfm = auc.loc["fsfm"]
    assert fsfm["value"] == pytest.approx(85.0)
    assert fsfm["std"] == pytest.approx(5.0)                        # population std (ddof=0) of 80 and 90
    assert fsfm["n_seeds"] == 2 and fsfm["seeds"] == [0, 1]
    assert fsfm["ci_low"] == pytest.approx(75.0) and fsfm["ci_high"] == pytest.approx(95.0)
    assert fsfm["results"] == ["result_fsfm_s0.json", "result_fsfm_s1.json"]
    dino = auc.loc["dinov2"]
    assert dino["value"] == pytest.approx(60.0) and pd_isna(dino["std"]) and dino["n_seeds"] == 1
    assert dino["group_id"] != fsfm["group_id"]
    hter = merged[(merged["metric"] == "hter") & (merged["backbone"] == "fsfm")].iloc[0]
    assert hter["value"] == pytest.approx(20.0) and hter["std"] == pytest.approx(5.0)
    assert not hter["higher_is_better"]


def test_reported_cells_pair_with_reproduced_rows(merged):
    cells = [_reported("auc", 88.0, None, priority=1), _reported("auc", 99.0, None, priority=2),
             _reported("hter", 18.0, "source_val_eer", priority=1)]
    rows = join_reported(merged, cells)
    repro = rows[(rows["kind"] == "reproduced") & (rows["backbone"] == "fsfm")].set_index("metric")
    assert repro.loc["auc", "reported"] == pytest.approx(88.0)      # the best-priority source wins
    assert repro.loc["auc", "diff"] == pytest.approx(85.0 - 88.0)
    # HTER needs a threshold: a number made at another threshold source is not its counterpart
    assert thresholded("hter") and not thresholded("auc")
    assert pd_isna(repro.loc["hter", "reported"]) and pd_isna(repro.loc["hter", "diff"])
    assert rows[rows["backbone"] == "dinov2"]["reported"].isna().all()
    reported = rows[rows["kind"] == "reported"]
    assert sorted(reported["value"]) == [18.0, 88.0]                # one reported row per cell, not mixed in


def _reported(metric: str, value: float, threshold_source, priority: int) -> dict:
    return {"protocol": "cdfd@1", "kind": "reported", "backbone": "fsfm", "paper_name": "FSFM ViT-B",
            "granularity": "video", "metric": metric, "target": "CDFv2", "value": value,
            "selection_policy": "source_val", "threshold_source": threshold_source, "source": f"s{priority}",
            "source_kind": "paper", "priority": priority}


def pd_isna(value) -> bool:
    import pandas as pd

    return bool(pd.isna(value))
