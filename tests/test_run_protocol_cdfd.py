"""cdfd@1 end to end on miniature copies of FF++ c23, Celeb-DF v2, DFDC, DFDCp and WildDeepfake
(official layout files, tiny real videos): prepare, one epoch of a tiny backbone, source-val
selection, frame- and video-level metrics for every required target, optional targets skipped."""
from __future__ import annotations

from run_layouts import CDFD_METHODS as METHODS
from run_layouts import build_cdfd_layouts, layout_config

from fsfm_bench.protocols.run import run
from fsfm_bench.results import read_result


def test_cdfd_on_miniature_official_layouts(tmp_path, monkeypatch):
    monkeypatch.setenv("FSFM_BENCH_DATASETS", str(tmp_path / "none.yaml"))
    roots = build_cdfd_layouts(tmp_path)
    logs: list[str] = []
    (outcome,) = run(layout_config(tmp_path, "cdfd@1", roots), log=logs.append, progress=False)
    result = read_result(outcome.result_path)
    assert result["protocol"]["id"] == "cdfd" and result["selection_policy"] == "source_val"
    assert list(result["results"]) == ["CDFv2", "DFDC", "DFDCp", "WDF"]
    for target, by_gran in result["results"].items():
        assert set(by_gran) == {"frame", "video"}
        assert set(by_gran["video"]) == {"auc", "eer", "ap", "balanced_acc"}
        assert by_gran["video"]["auc"]["n"] == 2, target            # one real and one fake video each
    counts = result["data"]["train/ffpp"]["counts"]
    assert counts["videos"] == 2 + 2 * len(METHODS) and counts["real"] == 2 * 3   # 3-frame videos, all kept
    assert result["data"]["test/CDFv2"]["counts"]["videos"] == 2                 # YouTube-real left out (NYR)
    assert any("optional target dataset 'dfd'" in line for line in logs)
