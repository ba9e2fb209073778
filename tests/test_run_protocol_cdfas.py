"""cdfas@1 (target M) end to end on miniature copies of MSU-MFSD, CASIA-FASD, Replay-Attack,
OULU-NPU and CelebA-Spoof: balanced per-source sampling, iteration-based training, source hold-out
selection and threshold, video-level AUC, HTER and TPR@FPR=1 %; then the target-oracle variant."""
from __future__ import annotations

from dataset_layouts import build_casia, build_celeba_spoof, build_msu, build_oulu, build_replay
from run_layouts import layout_config, materialize

from fsfm_bench.protocols.run import run
from fsfm_bench.results import read_result


def test_cdfas_target_m_on_miniature_official_layouts(tmp_path, monkeypatch):
    monkeypatch.setenv("FSFM_BENCH_DATASETS", str(tmp_path / "none.yaml"))
    roots = {"msu_mfsd": tmp_path / "MSU-MFSD", "casia_fasd": tmp_path / "CASIA", "replay_attack": tmp_path / "replay",
             "oulu_npu": tmp_path / "OULU", "celeba_spoof": tmp_path / "CelebA_Spoof"}
    build_msu(roots["msu_mfsd"], train=["02"], test=["01"])
    build_casia(roots["casia_fasd"], n_train=1, n_test=1)
    build_replay(roots["replay_attack"], {"train": [1], "devel": [2], "test": [3]})
    build_oulu(roots["oulu_npu"], {"Train_files": range(1, 3), "Dev_files": range(3, 4), "Test_files": range(4, 5)},
               phones=range(1, 2), sessions=range(1, 2))
    build_celeba_spoof(roots["celeba_spoof"], {"train": ["1", "2", "3"], "test": ["4"]}, per_class=2)
    for root in roots.values():
        materialize(root)
    cfg = layout_config(tmp_path, "cdfas@1", roots, target="M", seeds=[0])
    cfg["finetune"].update(max_iters=4, val_interval=2, batch_size=16)
    (outcome,) = run(cfg, log=lambda s: None, progress=False)
    result = read_result(outcome.result_path)
    assert result["protocol"]["id"] == "cdfas" and result["protocol"]["targets"] == ["M"]
    assert result["threshold_source"] == "source_val_eer" and result["selection_policy"] == "source_val"
    video = result["results"]["M"]["video"]
    assert set(video) == {"auc", "hter", "tpr_at_fpr@0.01"}
    assert video["auc"]["n"] == 8 and video["auc"]["n_real"] == 2            # MSU client 01: 2 real + 6 attacks
    assert video["hter"]["threshold_source"] == "source_val_eer"
    assert set(result["data"]) >= {"train/oulu_npu", "train/casia_fasd", "train/replay_attack", "train/celeba_spoof",
                                   "val/holdout", "test/M"}
    assert result["data"]["test/M"]["counts"]["frames"] == 16               # 2 frames per video
    cfg["selection"] = "target_oracle"                                       # the paper's best-of-N, labelled
    (oracle,) = run(cfg, log=lambda s: None, progress=False)
    res = read_result(oracle.result_path)
    assert res["selection_policy"] == "target_oracle" and res["threshold_source"] == "target_eer"
