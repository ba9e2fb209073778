"""Leaderboard from fixture results: exact cells, seeds merged, reported rows, skipped files, atomicity."""
import json
import os
from pathlib import Path

import pandas as pd
import pytest
from results_testutil import make_result, metric_entry, tiny_scores

from fsfm_bench.cli import main as cli_main
from fsfm_bench.results import leaderboard as lb
from fsfm_bench.results import write_result


@pytest.fixture(autouse=True)
def _hand_set_numbers(monkeypatch):
    """These fixtures hand-set metric values (beside unrelated scores) to test the tables' layout:
    only their ranges are checked here; verification against the scores is tested in
    tests/test_results_verify.py."""
    from fsfm_bench.results import verify

    monkeypatch.setattr(verify, "scores_problem", lambda result, path: None)


def _results_block(auc_video: dict[str, float], auc_frame: dict[str, float]) -> dict:
    return {t: {"video": {"auc": metric_entry(auc_video[t], 50)}, "frame": {"auc": metric_entry(auc_frame[t], 1600)}}
            for t in auc_video}


@pytest.fixture()
def results_dir(tmp_path):
    """fsfm: two seeds; xception: one seed; one invalid file; one non-result json."""
    out = tmp_path / "results"
    scores = tiny_scores(targets=("CDFv2", "DFDC", "DFDCp", "WDF"))
    for seed, (cdf, dfdc) in enumerate([(0.90, 0.80), (0.92, 0.84)]):
        block = _results_block({"CDFv2": cdf, "DFDC": dfdc, "DFDCp": 0.8875, "WDF": 0.86},
                               {"CDFv2": cdf - 0.05, "DFDC": dfdc - 0.05, "DFDCp": 0.83, "WDF": 0.81})
        write_result(make_result(results=block, seed=seed), out, scores=scores)
    xcp = {"name": "xception", "distribution": "fsfm-bench", "version": "0.1.0"}
    block = _results_block({"CDFv2": 0.70, "DFDC": 0.65, "DFDCp": 0.60, "WDF": 0.75},
                           {"CDFv2": 0.66, "DFDC": 0.62, "DFDCp": 0.58, "WDF": 0.70})
    runner_style = {"size": 224, "resize": "plain", "interpolation": "bicubic", "mean": [0.5, 0.5, 0.5],
                    "std": [0.25, 0.25, 0.25]}
    write_result(make_result(results=block, backbone=xcp, selection_policy="target_oracle",
                             preprocessing=runner_style), out, scores=scores)
    (out / "result_broken.json").write_text('{"schema_version": "1.0", "run_id": 3}')
    (out / "config.json").write_text("{}")           # not a result file: ignored, not reported
    return out


def test_leaderboard_table_cells(results_dir, tmp_path):
    report = lb.build(results_dir, tmp_path / "lb", figures=False)
    assert len(report.used) == 3
    assert [p.name for p, _ in report.skipped] == ["result_broken.json"]
    assert "run_id" in report.skipped[0][1] or "required" in report.skipped[0][1]
    csv = pd.read_csv(tmp_path / "lb" / "cdfd_v1" / "leaderboard.csv")
    row = csv[(csv.kind == "reproduced") & (csv.backbone == "fsfm") & (csv.target == "CDFv2")
              & (csv.granularity == "video")].iloc[0]
    assert row["auc"] == pytest.approx(91.0)          # mean of 90 and 92
    assert row["auc_std"] == pytest.approx(1.0)       # population std
    assert row["n_seeds"] == 2
    assert row["auc_reported"] == pytest.approx(91.44)
    assert row["auc_diff"] == pytest.approx(-0.44)
    assert row["img_size"] == 224 and row["detector"] == "dlib" and row["normalize"] == "vggface2"
    assert row["selection_policy"] == "source_val" and not row["oracle"]
    x = csv[(csv.kind == "reproduced") & (csv.backbone == "xception") & (csv.target == "DFDC")
            & (csv.granularity == "frame")].iloc[0]
    assert x["auc"] == pytest.approx(62.0) and x["auc_reported"] == pytest.approx(68.20)
    assert x["oracle"] and x["n_seeds"] == 1
    assert x["img_size"] == 224 and x["norm_mean"] == "0.5,0.5,0.5" and x["interpolation"] == "bicubic"
    assert x["norm_std"] == "0.25,0.25,0.25"          # normalisation std never overwrites the seed std
    assert pd.isna(x["auc_std"])
    rep = csv[(csv.kind == "reported") & (csv.backbone == "clip") & (csv.granularity == "frame")]
    assert sorted(rep.target) == ["CDFv2", "DFDC", "DFDCp", "WDF"]
    assert rep[rep.target == "WDF"]["auc"].iloc[0] == pytest.approx(72.04)
    assert (rep.source_kind == "from-authors-page").all()

    md = (tmp_path / "lb" / "cdfd_v1" / "leaderboard.md").read_text()
    video = md.split("## video-level AUC")[1].split("##")[0]
    lines = [line for line in video.splitlines() if line.startswith("| fsfm ")]
    assert lines[0] == ("| fsfm | reproduced | source_val | 91.00 ± 1.00 (n=2) | 82.00 ± 2.00 (n=2) "
                        "| 88.75 ± 0.00 (n=2) | 86.00 ± 0.00 (n=2) | 86.94 |")
    assert lines[1].startswith("| fsfm | reported (from-authors-page: FSFM ViT-B (Ours)) | source_val | 91.44 | 83.47 |")
    assert lines[2] == "| fsfm | Δ reproduced − reported |  | -0.44 | -1.47 | -0.96 | -0.96 | -0.96 |"
    assert "| xception | reproduced | target_oracle ⚠ | 70.00 |" in video
    assert "| mae | reported (from-authors-page: MAE ViT-B) | source_val | 79.51 | 75.93 | 87.10 | 80.96 | 80.88 |" in video
    # every format is there; the JSON carries the same numbers
    data = json.loads((tmp_path / "lb" / "cdfd_v1" / "leaderboard.json").read_text())
    fsfm = [r for r in data["rows"] if r["kind"] == "reproduced" and r["backbone"] == "fsfm"
            and r["target"] == "DFDC" and r["granularity"] == "video"][0]
    assert fsfm["value"] == pytest.approx(82.0) and fsfm["n_seeds"] == 2 and fsfm["seeds"] == [0, 1]
    # its file links are relative to the published folder (not the staging one it was built in) and resolve
    board = tmp_path / "lb" / "cdfd_v1"
    assert len(fsfm["results"]) == 2 and all(not Path(f).is_absolute() for f in fsfm["results"])
    assert all((board / f).resolve().is_file() for f in fsfm["results"] + fsfm["scores"])
    tex = (tmp_path / "lb" / "cdfd_v1" / "leaderboard.tex").read_text()
    assert r"91.00 $\pm$ 1.00 (n=2)" in tex and r"\toprule" in tex
    html = (tmp_path / "lb" / "cdfd_v1" / "leaderboard.html").read_text()
    assert "91.00 ± 1.00 (n=2)" in html and "result_broken.json" in html
    index = (tmp_path / "lb" / "index.md").read_text()
    assert "result_broken.json" in index and "cdfas_v1/leaderboard.md" in index


def test_cli_build_reports_skipped_file_and_makes_figures(results_dir, tmp_path, capsys):
    code = cli_main(["leaderboard", "build", f"results={results_dir}", f"out={tmp_path / 'lb'}",
                     "reported=false"])
    assert code == 0
    captured = capsys.readouterr()
    assert "skipped" in captured.err and "result_broken.json" in captured.err
    assert "3 result(s) used, 0 superseded by same-seed reruns, 1 skipped" in captured.out
    figs = sorted(p.name for p in (tmp_path / "lb" / "cdfd_v1" / "figures").glob("*.png"))
    assert figs == ["bars_frame_auc.png", "bars_video_auc.png", "heatmap_frame_auc.png",
                    "heatmap_video_auc.png", "roc_CDFv2.png", "roc_DFDC.png", "roc_DFDCp.png", "roc_WDF.png"]
    assert not (tmp_path / "lb" / "cdfas_v1").exists()          # reported=false: no paper-only pages
    assert "data:image/png;base64," in (tmp_path / "lb" / "cdfd_v1" / "leaderboard.html").read_text()


def test_cli_rejects_unknown_option(tmp_path, capsys):
    assert cli_main(["leaderboard", "build", "reslts=x"]) == 2
    assert "Did you mean: results" in capsys.readouterr().err


def _build_then_add_a_result(results_dir, out):
    """Build the tables, keep their bytes, then let a new result arrive (what a rebuild must add)."""
    lb.build(results_dir, out, figures=False)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    write_result(make_result(results=_results_block({"CDFv2": 0.5, "DFDC": 0.5, "DFDCp": 0.5, "WDF": 0.5},
                                                    {"CDFv2": 0.5, "DFDC": 0.5, "DFDCp": 0.5, "WDF": 0.5}),
                             seed=5), results_dir, scores=tiny_scores())
    return before


def test_killed_build_leaves_previous_tables(results_dir, tmp_path, monkeypatch):
    out = tmp_path / "lb"
    before = _build_then_add_a_result(results_dir, out)     # then the build dies half way
    real = lb.write_protocol
    calls = []

    def dying(ref, *args, **kwargs):
        calls.append(ref)
        if len(calls) == 2:
            raise KeyboardInterrupt("killed")
        return real(ref, *args, **kwargs)

    monkeypatch.setattr(lb, "write_protocol", dying)
    with pytest.raises(KeyboardInterrupt):
        lb.build(results_dir, out, figures=False)
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert not list(out.glob(".build-*"))


def test_stale_build_dirs_of_dead_processes_are_removed(tmp_path, results_dir):
    out = tmp_path / "lb"
    stale = out / ".build-999999999-abc"
    stale.mkdir(parents=True)
    (stale / "half.md").write_text("half")
    lb.build(results_dir, out, figures=False, reported=False)
    assert not stale.exists()
    assert (out / "cdfd_v1" / "leaderboard.md").is_file()


def test_missing_results_folder_is_a_clear_error(tmp_path):
    from fsfm_bench.errors import FsfmBenchError

    with pytest.raises(FsfmBenchError, match="does not exist"):
        lb.build(tmp_path / "nope", tmp_path / "lb")
    assert os.path.exists(tmp_path / "lb") is False or not list((tmp_path / "lb").iterdir())


def test_sigkilled_build_leaves_previous_tables(results_dir, tmp_path):
    """A real SIGKILL half way (no finally blocks run): old tables intact, next build cleans up."""
    import subprocess
    import sys
    import textwrap

    out = tmp_path / "lb"
    before = _build_then_add_a_result(results_dir, out)
    code = textwrap.dedent(f"""
        import os, signal
        from fsfm_bench.results import leaderboard as lb, verify
        verify.scores_problem = lambda result, path: None   # hand-set numbers (see _hand_set_numbers)
        real, calls = lb.write_protocol, []
        def dying(ref, *a, **k):
            calls.append(ref)
            if len(calls) == 3:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(ref, *a, **k)
        lb.write_protocol = dying
        lb.build({str(results_dir)!r}, {str(out)!r}, figures=False)
    """)
    proc = subprocess.run([sys.executable, "-c", code], timeout=120)
    assert proc.returncode == -9
    assert list(out.glob(".build-*"))                        # the killed build's temp folder is left
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and ".build-" not in str(p)
             and p.name != ".build.lock"}                   # the killed build's lock is left too
    assert after == before
    lb.build(results_dir, out, figures=False)                # the next build removes both and updates
    assert not list(out.glob(".build-*")) and not (out / ".build.lock").exists()
    assert (out / "cdfd_v1" / "leaderboard.md").read_bytes() != before[out / "cdfd_v1" / "leaderboard.md"]


def _auc_rows(out_dir):
    table = (out_dir / "cdfd_v1" / "leaderboard.md").read_text().split("## frame-level AUC")[1].split("##")[0]
    return [line for line in table.splitlines() if line.startswith("| fsfm | reproduced")]


def test_rerun_of_a_seed_supersedes_and_other_inits_get_their_own_rows(tmp_path):
    """A same-seed rerun replaces the earlier result (not a second seed); runs from another initial
    checkpoint never share a row, and each row's Avg is computed from its own cells."""
    out = tmp_path / "results"
    scores = tiny_scores(targets=("CDFv2", "DFDC", "DFDCp", "WDF"))

    def block(cdf):
        return _results_block({"CDFv2": cdf, "DFDC": 0.8, "DFDCp": 0.8, "WDF": 0.8},
                              {"CDFv2": cdf, "DFDC": 0.8, "DFDCp": 0.8, "WDF": 0.8})

    old = make_result(results=block(0.60))
    new = make_result(results=block(0.70))
    new["created_at"] = "2099-01-01T00:00:00Z"        # written later than `old`
    other_init = make_result(results=block(0.90))
    other_init["checkpoint"]["sha256"] = "b" * 64
    for result in (old, new, other_init):
        write_result(result, out, scores=scores)
    board = tmp_path / "boards"
    lb.build(str(out), str(board), figures=False)
    rows = _auc_rows(board)
    assert len(rows) == 2, rows
    by_init = {("aaaaaaaa" if "init aaaaaaaa" in r else "bbbbbbbb"): r for r in rows}
    assert "| 70.00 |" in by_init["aaaaaaaa"] and "| 60.00" not in by_init["aaaaaaaa"]
    assert by_init["aaaaaaaa"].rstrip(" |").endswith("77.50")           # (70 + 80 + 80 + 80) / 4
    assert by_init["bbbbbbbb"].rstrip(" |").endswith("82.50")           # (90 + 80 + 80 + 80) / 4
