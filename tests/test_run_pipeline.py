"""The protocol run end to end on synthetic data with a tiny stand-in backbone: result, leaderboard,
cached rerun without a forward pass, selection policies that disagree, and resumable scoring."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from run_testutil import TINY, make_prepared, synth_config, tiny_scorer

from fsfm_bench.finetune.model import FaceClassifier
from fsfm_bench.finetune.scoring import score_paths
from fsfm_bench.io import sha256_file
from fsfm_bench.protocols.run import run
from fsfm_bench.results import read_result


def test_run_writes_result_leaderboard_and_rerun_uses_cached_scores(tmp_path, monkeypatch):
    data = make_prepared(tmp_path / "data")
    cfg = synth_config(tmp_path, data)
    cfg["leaderboard"]["rebuild"] = True
    logs: list[str] = []
    first = run(cfg, log=logs.append, progress=False)
    assert len(first) == 1 and first[0].result_path.is_file()
    result = read_result(first[0].result_path)          # schema-valid, config hash checked
    assert result["protocol"]["id"] == "demo" and result["selection_policy"] == "source_val"
    assert result["data"]["test/unseen"]["counts"] == {"frames": 24, "videos": 8, "real": 12, "fake": 12}
    auc = result["results"]["unseen"]["frame"]["auc"]["value"]
    assert auc > 0.9, f"the red cue should be learnt, got AUC {auc}"
    val_frames = next(v["counts"]["frames"] for k, v in result["data"].items() if k.startswith("val/"))
    assert first[0].forwarded == first[0].total == 24 + val_frames      # targets + source validation, once
    board = Path(cfg["leaderboard"]["dir"]) / "demo_v1" / "leaderboard.md"
    assert board.is_file() and "source_val" in board.read_text()
    run_dirs = list((tmp_path / "runs" / "demo@1").glob("*/*"))
    assert len(run_dirs) == 1 and (run_dirs[0] / "config.sha256").is_file()

    def no_forward(self, inputs):               # a rerun must not run the model at all
        raise AssertionError("forward pass on rerun")

    monkeypatch.setattr(FaceClassifier, "scores", no_forward)
    monkeypatch.setattr(FaceClassifier, "forward", no_forward)
    second = run(cfg, log=logs.append, progress=False)
    assert second[0].forwarded == 0
    assert second[0].results["unseen"]["frame"]["auc"]["value"] == auc
    assert any("already finished" in line for line in logs)

    # provenance: the model really built, the fine-tuned file that scored, and the training time
    # (kept from the first run although the second one reused the training)
    again = read_result(second[0].result_path)
    built = again["backbone"]["architecture"]
    assert built == {k: TINY[k] for k in ("embed_dim", "depth", "num_heads", "patch_size", "img_size")}
    assert again["backbone"]["params"] > 0
    assert again["checkpoint"]["finetuned"]["sha256"] == sha256_file(first[0].checkpoint)
    assert again["timing"]["train_wall_time_s"] == result["timing"]["train_wall_time_s"] > 0
    assert again["timing"]["wall_time_s"] < result["timing"]["wall_time_s"]


def test_source_val_and_target_oracle_choose_different_checkpoints(tmp_path):
    data = make_prepared(tmp_path / "data", flip_test=True)
    cfg = synth_config(tmp_path, data, epochs=4, blr=0.02, warmup_epochs=0,
                       track_policies=["source_val", "last", "target_oracle"])
    cfg["finetune"]["mixup"] = None
    out = run(cfg, log=lambda s: None, progress=False)
    sel = json.loads(next((tmp_path / "runs").rglob("selection.json")).read_text())
    picks = sel["picks"]
    assert picks["source_val"]["epoch"] != picks["target_oracle"]["epoch"], sel["history"]
    losses = [h["metrics"]["source_val/loss"] for h in sel["history"]]
    aucs = [h["metrics"]["target/auc"] for h in sel["history"]]
    assert picks["source_val"]["epoch"] == 1 + int(np.argmin(losses))
    assert picks["target_oracle"]["epoch"] == 1 + int(np.argmax(aucs))
    ckpts = {p: torch.load(next((tmp_path / "runs").rglob(f"{p}.pth")), weights_only=True)["meta"]
             for p in ("source_val", "target_oracle")}
    assert ckpts["source_val"]["epoch"] != ckpts["target_oracle"]["epoch"]
    # the oracle re-run (labelled as such) scores the target better than the honest selection
    cfg["selection"] = "target_oracle"
    oracle = run(cfg, log=lambda s: None, progress=False)
    assert oracle[0].forwarded > 0                       # another checkpoint -> other cache key
    assert len(list((tmp_path / "runs").rglob("seed0"))) == 1   # the training was reused, not repeated
    res = read_result(oracle[0].result_path)
    assert res["selection_policy"] == "target_oracle" and "TARGET-ORACLE" in res["label"]
    honest = out[0].results["unseen"]["frame"]["auc"]["value"]
    assert oracle[0].results["unseen"]["frame"]["auc"]["value"] >= honest


class _Interrupt(Exception):
    pass


def test_interrupted_scoring_resumes_with_the_rest_only(tmp_path):
    model, paths, common = tiny_scorer(tmp_path / "data", videos=5)        # 20 images
    reference = score_paths(model, paths, cache_root=tmp_path / "ref", **common).scores

    real_scores = FaceClassifier.scores
    calls = {"n": 0}

    def flaky(self, inputs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise _Interrupt()
        return real_scores(self, inputs)

    model.scores = flaky.__get__(model)
    with pytest.raises(_Interrupt):
        score_paths(model, paths, cache_root=tmp_path / "cache", **common)
    folder = next((tmp_path / "cache").iterdir())
    assert len(list(folder.glob("chunk-*.idx.npy"))) == 2 and not (folder / "scores.npy").exists()

    seen = []

    def counting(self, inputs):
        seen.append(len(inputs))
        return real_scores(self, inputs)

    model.scores = counting.__get__(model)
    resumed = score_paths(model, paths, cache_root=tmp_path / "cache", **common)
    assert resumed.scored == 12 and sum(seen) == 12       # 2 chunks of 4 were already committed
    np.testing.assert_allclose(resumed.scores, reference, rtol=1e-6)
    again = score_paths(model, paths, cache_root=tmp_path / "cache", **common)
    assert again.scored == 0
    np.testing.assert_allclose(again.scores, reference, rtol=1e-6)


def test_other_initial_weights_never_reuse_a_finished_training(tmp_path):
    """The run folder is keyed on the initial weights too: the demo's config says checkpoint: null
    whichever encoder the cache holds, so a config-only key would reuse a foreign fine-tuning. Here
    the config is identical and only the file behind the checkpoint path changes."""
    from fsfm_bench.finetune.standins import tiny_vit

    data = make_prepared(tmp_path / "data")
    init = tmp_path / "init.pth"
    outcomes, logs, digests = [], [], []
    for seed in (1, 2):
        torch.manual_seed(seed)
        torch.save(tiny_vit(**{k: v for k, v in TINY.items() if k != "type"}).state_dict(), init)
        digests.append(sha256_file(init))
        cfg = synth_config(tmp_path, data, epochs=1, warmup_epochs=0)
        cfg["backbone"]["checkpoint"] = str(init)
        outcomes.append(run(cfg, log=logs.append, progress=False)[0])
    assert not any("already finished" in line for line in logs)
    first, second = (read_result(o.result_path) for o in outcomes)
    assert [first["checkpoint"]["sha256"], second["checkpoint"]["sha256"]] == digests
    assert outcomes[0].checkpoint.parent != outcomes[1].checkpoint.parent
    assert first["checkpoint"]["finetuned"]["sha256"] != second["checkpoint"]["finetuned"]["sha256"]


def test_a_backbone_run_without_its_released_weights_is_labelled_random_init(tmp_path):
    """`backbone=mae` with no checkpoint is a randomly initialised ViT, not MAE: its row must not
    pass for (or line up with the paper's) MAE row. A backbone with no released weights is not relabelled."""
    data = make_prepared(tmp_path / "data")
    variants = {}
    for name in ("mae", "vit_scratch"):
        cfg = synth_config(tmp_path, data, epochs=1, warmup_epochs=0)
        cfg["backbone"] = {"type": name, "arch": "vit_base_patch16_224", "embed_dim": 32, "depth": 1,
                           "num_heads": 2, "global_pool": "avg", "checkpoint": None}
        result = read_result(run(cfg, log=lambda s: None, progress=False)[0].result_path)
        assert result["checkpoint"]["sha256"] is None
        variants[name] = result["backbone"]["variant"]
    assert variants == {"mae": "random-init", "vit_scratch": None}


def test_every_result_can_be_rescored_at_the_source_val_eer_threshold(tmp_path, capsys):
    """demo@1 thresholds at 0.5, but its scores file carries the source validation scores too, so
    the classical dev-set threshold is one `rescore` away (no forward pass)."""
    from fsfm_bench import metrics as M
    from fsfm_bench.cli import main as cli_main
    from fsfm_bench.results import compute_metrics, read_scores, scores_path

    data = make_prepared(tmp_path / "data")
    cfg = synth_config(tmp_path, data, epochs=1, warmup_epochs=0)
    (outcome,) = run(cfg, log=lambda s: None, progress=False)
    result = read_result(outcome.result_path)
    assert result["threshold_source"] == "fixed_0.5"
    scores = read_scores(scores_path(result, outcome.result_path))
    val = scores[scores.split == "val"]
    val_counts = next(v["counts"] for k, v in result["data"].items() if k.startswith("val/"))
    assert len(val) == val_counts["frames"] > 0 and set(val.label) == {0, 1}
    block = compute_metrics(scores, ["hter"], granularities=["frame"], threshold_source="source_val_eer",
                            n_resamples=0)
    assert block["unseen"]["frame"]["hter"]["threshold"] == pytest.approx(M.eer(val.label, val.score).threshold)
    assert cli_main(["rescore", str(outcome.result_path), "threshold_source=source_val_eer", "bootstrap=0"]) == 0
    out = capsys.readouterr().out
    assert "hter=" in out or "balanced_acc=" in out
