"""Scores files, result writing (unique, atomic, concurrent), rescore, and the reported numbers."""
import json
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from results_testutil import make_result, tiny_scores

from fsfm_bench import metrics as M
from fsfm_bench.cli import main as cli_main
from fsfm_bench.errors import FsfmBenchError
from fsfm_bench.results import compute_metrics, read_result, read_scores, scores_path, write_result, write_scores
from fsfm_bench.results.reported import load_reported, reported_cells

TESTS = Path(__file__).resolve().parent


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_scores_round_trip(tmp_path, suffix):
    scores = tiny_scores()
    scores.loc[0, "video_id"] = "007"                 # ids that look like numbers stay strings
    path = write_scores(tmp_path / f"s.{suffix}", scores)
    back = read_scores(path)
    assert list(back.columns[:6]) == ["split", "target", "path", "video_id", "label", "score"]
    assert back["video_id"].iloc[0] == "007"
    np.testing.assert_array_equal(back["score"].to_numpy(), scores["score"].to_numpy())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]      # no temp files left


def test_scores_reject_bad_rows(tmp_path):
    bad = tiny_scores()
    bad.loc[3, "score"] = float("nan")
    with pytest.raises(FsfmBenchError, match="NaN"):
        write_scores(tmp_path / "s.csv", bad)
    with pytest.raises(FsfmBenchError, match="lack column"):
        write_scores(tmp_path / "s.csv", bad.drop(columns=["video_id"]))
    assert not (tmp_path / "s.csv").exists()


def test_compute_metrics_matches_direct_calls():
    scores = tiny_scores()
    res = compute_metrics(scores, ["auc", "eer", "hter", "acc"], threshold_source="target_eer", n_resamples=0)
    cdf = scores[(scores.target == "CDFv2") & (scores.split == "test")]
    agg = M.aggregate_videos(cdf.video_id, cdf.label, cdf.score)
    video = res["CDFv2"]["video"]
    assert video["auc"]["value"] == pytest.approx(M.auc(agg.labels, agg.scores))
    rate, thr = M.eer(agg.labels, agg.scores)
    assert video["eer"]["value"] == pytest.approx(rate) and video["eer"]["threshold"] == pytest.approx(thr)
    assert video["hter"]["threshold"] == pytest.approx(thr)
    assert video["hter"]["value"] == pytest.approx(M.hter(agg.labels, agg.scores, thr))
    assert video["acc"]["threshold_source"] == "target_eer"
    assert res["CDFv2"]["frame"]["auc"]["value"] == pytest.approx(M.auc(cdf.label, cdf.score))
    assert video["auc"]["ci"] is None and video["auc"]["n"] == 12


def test_interval_re_estimates_only_a_threshold_tuned_on_the_target():
    scores = tiny_scores()
    cdf = scores[(scores.target == "CDFv2") & (scores.split == "test")]
    for policy, mode in (("fixed_0.5", "fixed"), ("target_eer", "per_resample")):
        res = compute_metrics(scores, ["hter"], granularities=["frame"], threshold_source=policy,
                              n_resamples=40, seed=5)["CDFv2"]["frame"]["hter"]
        threshold = res["threshold"] if mode == "fixed" else M.OWN_EER
        ci = M.bootstrap_ci(M.hter, cdf.label, cdf.score, cdf.video_id, n_resamples=40, seed=5,
                            threshold=threshold)
        assert res["ci"]["threshold"] == mode
        assert (res["ci"]["low"], res["ci"]["high"]) == pytest.approx((ci.low, ci.high), abs=1e-12)
        assert res["value"] == pytest.approx(ci.estimate, abs=1e-12)


def test_write_result_names_are_unique_and_validated(tmp_path):
    scores = tiny_scores()
    result = make_result(scores, n_resamples=0)
    a = write_result(dict(result), tmp_path, scores=scores)
    b = write_result(dict(result), tmp_path, scores=scores)
    assert a != b and a.name.startswith("result_cdfd-v1_fsfm_s0_")
    back = read_result(b)
    assert scores_path(back, b).is_file() and back["scores_file"].endswith(".scores.csv")
    broken = dict(result)
    broken["selection_policy"] = "whatever"
    with pytest.raises(FsfmBenchError, match="selection_policy"):
        write_result(broken, tmp_path / "other", scores=scores)
    assert not list((tmp_path / "other").iterdir())          # neither result nor scores written


def test_concurrent_writers_all_land(tmp_path):
    scores = tiny_scores(targets=("CDFv2",))
    base = make_result(scores, n_resamples=0)

    def one(i):
        return write_result(json.loads(json.dumps(base)), tmp_path, scores=scores)

    with ThreadPoolExecutor(max_workers=8) as pool:
        paths = list(pool.map(one, range(16)))
    # and two separate processes writing into the same folder at the same time
    (tmp_path / "in").mkdir()
    base_file = tmp_path / "in" / "base.json"
    base_file.write_text(json.dumps(base))
    scores.to_csv(tmp_path / "in" / "scores.csv", index=False)
    code = textwrap.dedent(f"""
        import json, pandas as pd
        from fsfm_bench.results import write_result
        r = json.loads(open({str(base_file)!r}).read())
        s = pd.read_csv({str(tmp_path / "in" / "scores.csv")!r})
        for _ in range(3):
            write_result(json.loads(json.dumps(r)), {str(tmp_path)!r}, scores=s)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    files = sorted(tmp_path.glob("result_*.json"))
    assert len(set(paths)) == 16 and len(files) == 22
    for f in files:
        read_result(f)                                   # every file whole and valid
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]    # no locks or temp files


def test_rescore_cli_recomputes_under_other_conventions(tmp_path, capsys):
    scores = tiny_scores()
    path = write_result(make_result(scores, metrics=("auc", "eer"), n_resamples=0), tmp_path / "r", scores=scores)
    code = cli_main(["rescore", str(path), "granularity=frame", "threshold_source=target_eer",
                     "metrics=auc,hter,tpr_at_fpr@0.1", "bootstrap=30", "seed=3", f"out={tmp_path / 'new'}"])
    assert code == 0
    out = capsys.readouterr().out
    assert "CDFv2" in out and "hter=" in out
    new_path = next((tmp_path / "new").glob("result_*.json"))
    new = read_result(new_path)
    cdf = scores[(scores.target == "CDFv2") & (scores.split == "test")]
    rate, thr = M.eer(cdf.label, cdf.score)
    entry = new["results"]["CDFv2"]["frame"]["hter"]
    assert entry["value"] == pytest.approx(M.hter(cdf.label, cdf.score, thr))
    assert entry["threshold_source"] == "target_eer" and entry["ci"]["n_resamples"] == 30
    assert entry["ci"]["threshold"] == "per_resample"          # tuned on the target: re-estimated
    assert "threshold" not in new["results"]["CDFv2"]["frame"]["auc"]["ci"]
    assert set(new["results"]["CDFv2"]) == {"frame"}
    assert new["results"]["DFDC"]["frame"]["tpr_at_fpr@0.1"]["param"] == pytest.approx(0.1)
    assert new["derived_from"]["file"] == path.name
    assert new["derived_from"]["changes"]["threshold_source"] == "target_eer"
    assert scores_path(new, new_path) == scores_path(read_result(path), path)
    # a rescored result never merges with its original as if it were another seed
    from fsfm_bench.results import leaderboard as lb

    loaded = [lb.Loaded(path, read_result(path)), lb.Loaded(new_path, new)]
    merged = lb.merge_seeds(loaded)
    auc = merged[(merged.metric == "auc") & (merged.target == "CDFv2") & (merged.granularity == "frame")]
    assert sorted(auc.n_seeds) == [1, 1] and auc.label.str.contains("rescored: ").sum() == 1
    # same seed -> same interval
    again = compute_metrics(scores, ["hter"], granularities=["frame"], threshold_source="target_eer",
                            n_resamples=30, seed=3)
    assert again["CDFv2"]["frame"]["hter"]["ci"] == entry["ci"]


def test_rescore_rejects_unknown_key(tmp_path, capsys):
    scores = tiny_scores()
    path = write_result(make_result(scores, n_resamples=0), tmp_path, scores=scores)
    assert cli_main(["rescore", str(path), "granulrity=frame"]) == 2
    assert "Did you mean: granularity" in capsys.readouterr().err
    # out= names a folder (the result gets its unique name there): a .json path is refused up front
    assert cli_main(["rescore", str(path), f"out={tmp_path / 'new.json'}"]) == 2
    assert "must be a folder" in capsys.readouterr().err and not (tmp_path / "new.json").exists()


# --- paper-reported numbers ------------------------------------------------------------------------
def test_reported_numbers_cover_every_table_row():
    # the file each built-in protocol names (`reported:`); a third party's (the example plugin's) its own
    docs = {ref: doc for ref, doc in load_reported().items() if doc["builtin"]}
    # each file belongs to the version that makes its numbers the same way; @1 boards show cdfd/cdfas
    # numbers for comparison only, and diff@1 (neither DiFF recipe) none
    assert set(docs) == {"cdfd@2", "cdfd@1", "cdfas@2", "cdfas@1", "diff@2"}
    assert {ref: d["made_with"] for ref, d in docs.items()} == {"cdfd@2": "cdfd@2", "cdfd@1": "cdfd@2",
                                                                 "cdfas@2": "cdfas@2", "cdfas@1": "cdfas@2",
                                                                 "diff@2": "diff@2"}
    def paper(doc, **kw):
        return [r for r in doc["rows"] if doc["sources"][r["source"]]["kind"] == "from-authors-page"
                and all(r[k] == v for k, v in kw.items())]
    cdfd = docs["cdfd@1"]
    assert len(paper(cdfd, granularity="video")) == 9 and len(paper(cdfd, granularity="frame")) == 9
    assert len(paper(docs["cdfas@1"], metric="hter")) == 7 and len(paper(docs["cdfas@1"], metric="auc")) == 7
    assert len(paper(docs["diff@2"])) == 7
    labels = {c["backbone"] for c in reported_cells(cdfd) if c["source_kind"] == "from-authors-page"}
    assert labels == {"fsfm", "mae", "dino", "mcf", "clip", "supervised", "xception", "efficientnet_b4",
                      "vit_scratch"}
    assert all(r["selection_policy"] == "target_oracle" for r in docs["cdfas@1"]["rows"])


def test_reported_printed_averages_match_cells():
    for doc in load_reported().values():
        for row in doc["rows"]:
            if "printed_avg" not in row:
                continue
            vals = [row["values"][t] for t in doc["targets"]]
            vals = [v["value"] if isinstance(v, dict) else v for v in vals]
            assert np.mean(vals) == pytest.approx(row["printed_avg"], abs=0.011), row["paper_name"]


def test_reported_fsfm_values():
    cells = {(c["protocol"], c["backbone"], c["granularity"], c["metric"], c["target"], c["source"]): c
             for doc in load_reported().values() for c in reported_cells(doc)}
    assert cells[("cdfd@1", "fsfm", "video", "auc", "DFDC", "paper_dfd")]["value"] == 83.47
    assert cells[("cdfd@1", "fsfm", "video", "eer", "CDFv2", "log_dfd")]["value"] == 15.7
    hter = cells[("cdfas@1", "fsfm", "video", "hter", "C", "log_fas")]
    assert hter["value"] == 3.16 and hter["std"] == 1.07 and hter["n_seeds"] == 5
    assert cells[("diff@2", "fsfm/ffpp_o", "image", "auc", "FE", "paper_diff")]["value"] == 78.98


def test_broken_reported_file_is_a_clear_error(tmp_path):
    (tmp_path / "x.yaml").write_text("schema_version: '1.0'\nprotocol: x@1\ntargets: [A]\nunit: percent\n"
                                     "sources: {s: {kind: from-authors-log, citation: c, priority: 1}}\n"
                                     "rows: [{paper_name: P, backbone: fsfm, variant: null, granularity: frame,"
                                     " metric: auc, selection_policy: source_val, source: other, values: {A: 1}}]\n")
    with pytest.raises(FsfmBenchError, match="unknown source 'other'"):
        load_reported(tmp_path)
