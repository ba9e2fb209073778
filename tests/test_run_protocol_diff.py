"""diff@1 end to end on miniature copies of FF++ c23 (originals + DeepFakes) and DiFF (T2I, I2I, FS,
FE and DiFF_real, val and test): one epoch, FF++-DF val-loss selection, image-level AUC/EER per
subset, the shared DiFF_real test images scored once."""
from __future__ import annotations

from dataset_layouts import build_diff, build_ffpp
from run_layouts import layout_config, materialize

from fsfm_bench.protocols.run import run
from fsfm_bench.results import read_result


def test_diff_on_miniature_official_layouts(tmp_path, monkeypatch):
    monkeypatch.setenv("FSFM_BENCH_DATASETS", str(tmp_path / "none.yaml"))
    roots = {"ffpp": tmp_path / "ffpp", "diff": tmp_path / "DiFF"}
    build_ffpp(roots["ffpp"], {"train": [("000", "001")], "val": [("002", "003")], "test": [("004", "005")]},
               methods=("Deepfakes",))
    build_diff(roots["diff"], per_method=1, reals=2)
    for root in roots.values():
        materialize(root)
    (outcome,) = run(layout_config(tmp_path, "diff@1", roots), log=lambda s: None, progress=False)
    result = read_result(outcome.result_path)
    assert list(result["results"]) == ["T2I", "I2I", "FS", "FE"]
    for subset, by_gran in result["results"].items():
        assert list(by_gran) == ["image"]
        fakes = 2 if subset == "T2I" else 1                  # Midjourney + SDXL in T2I
        assert by_gran["image"]["auc"]["n"] == 2 + fakes and by_gran["image"]["auc"]["n_real"] == 2
    assert result["data"]["train/ffpp"]["counts"]["videos"] == 4             # 2 originals + 2 DeepFakes
    # the same real test images appear in every subset; they were forwarded once (score cache);
    # the source validation frames are scored too (for a later rescore at their EER threshold)
    val_frames = next(v["counts"]["frames"] for k, v in result["data"].items() if k.startswith("val/"))
    assert outcome.forwarded == 2 + 2 + 1 + 1 + 1 + val_frames
