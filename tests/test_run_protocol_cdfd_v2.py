"""cdfd@2 end to end on miniature official layouts: the paper-faithful settings run together --
a fixed global batch made up by gradient accumulation, the official schedule, the Resize 256 +
CenterCrop 224 selection pass, PIL resizing at evaluation, and WildDeepfake scored on every
provided face frame without re-detection; the result records the protocol version and options."""
from __future__ import annotations

from run_layouts import build_cdfd_layouts, layout_config

from fsfm_bench.protocols.run import run
from fsfm_bench.results import read_result


def test_cdfd_v2_on_miniature_official_layouts(tmp_path, monkeypatch):
    monkeypatch.setenv("FSFM_BENCH_DATASETS", str(tmp_path / "none.yaml"))
    roots = build_cdfd_layouts(tmp_path, wdf_frames=3)
    cfg = layout_config(tmp_path, "cdfd@2", roots)
    cfg["finetune"]["global_batch"] = 16                   # 8 per process x 2 accumulation steps
    cfg["data"]["prepare"]["detector"] = "whole_image"     # no face detection: keeps the test quick
    (outcome,) = run(cfg, log=lambda s: None, progress=False)
    result = read_result(outcome.result_path)
    assert (result["protocol"]["id"], result["protocol"]["version"]) == ("cdfd", 2)
    assert result["label"].startswith("cdfd@2 ")
    ft = result["config"]["finetune"]
    assert (ft["global_batch"], ft["lr_floor"], ft["warmup_start"]) == (16, "per_group", 0.0)
    assert result["config"]["eval"]["val_resize"] == "resize_crop"
    assert result["preprocessing"]["interpolation"] == "pil_bicubic"
    wdf = result["data"]["test/WDF"]["counts"]
    assert wdf["videos"] == 2 and wdf["frames"] == 2 * 3            # every provided frame of both sequences
    assert list(result["results"]) == ["CDFv2", "DFDC", "DFDCp", "WDF"]
