"""cdfd@1 end to end on miniature copies of FF++ c23, Celeb-DF v2, DFDC, DFDCp and WildDeepfake
(official layout files, tiny real videos): prepare, one epoch of a tiny backbone, source-val
selection, frame- and video-level metrics for every required target, optional targets skipped."""
from __future__ import annotations

from dataset_layouts import build_celebdf, build_dfdc_preview, build_dfdc_test, build_ffpp, build_wdf
from run_layouts import layout_config, materialize

from fsfm_bench.protocols.run import run
from fsfm_bench.results import read_result

METHODS = ("Deepfakes", "Face2Face", "FaceSwap", "NeuralTextures")


def test_cdfd_on_miniature_official_layouts(tmp_path, monkeypatch):
    monkeypatch.setenv("FSFM_BENCH_DATASETS", str(tmp_path / "none.yaml"))
    roots = {k: tmp_path / k for k in ("ffpp", "celebdf_v2", "dfdc", "dfdc_preview", "wilddeepfake")}
    build_ffpp(roots["ffpp"], {"train": [("000", "001")], "val": [("002", "003")], "test": [("004", "005")]},
               methods=METHODS)
    build_celebdf(roots["celebdf_v2"], n_celeb=2, n_youtube=1, n_fake=2,
                  test={"YouTube-real": 1, "Celeb-real": 1, "Celeb-synthesis": 1})
    build_dfdc_test(roots["dfdc"], 1, 1, folders=1)
    build_dfdc_preview(roots["dfdc_preview"], [("original_videos", "real", "test"), ("method_A", "fake", "test"),
                                               ("original_videos", "real", "train")])
    build_wdf(roots["wilddeepfake"], {"real_test": {0: 1}, "fake_test": {0: 1}, "real_train": {0: 1},
                                      "fake_train": {0: 1}}, frames=2)
    for root in roots.values():
        materialize(root)
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
