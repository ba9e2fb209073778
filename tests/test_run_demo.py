"""The embedded demo (demo@2) end to end through the command line, at a reduced size: prepare the
bundled faces, pretrain a tiny FSFM (cached), fine-tune the fsfm backbone, evaluate, write the result
and the leaderboard; the same command again reuses everything; vit_scratch lands on the same board
in the same architecture from random initialisation; a backbone without weights is refused.
(The full-size demo's numbers are measured by benchmarks/demo.py.)"""
from __future__ import annotations

import json

from fsfm_bench.cli import main
from fsfm_bench.io import sha256_file
from fsfm_bench.results import read_result


def test_demo_command_end_to_end_reduced(tmp_path, capsys):
    common = [f"data.cache_dir={tmp_path / 'cache'}", f"work_dir={tmp_path / 'runs'}",
              f"leaderboard.results_dir={tmp_path / 'results'}", f"leaderboard.dir={tmp_path / 'leaderboards'}",
              "leaderboard.figures=false", "finetune.epochs=1", "finetune.warmup_epochs=0", "eval.bootstrap=20",
              "data.prepare.frames=2", "data.prepare.augment=1", "--quiet"]
    args = ["run", "protocol=demo", "backbone=fsfm", *common,
            "protocol.pretrain_if_no_checkpoint.overrides.schedule.epochs=1",
            "protocol.pretrain_if_no_checkpoint.overrides.schedule.horizon_epochs=1",
            "protocol.pretrain_if_no_checkpoint.overrides.schedule.warmup_epochs=0"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "pretraining a tiny FSFM" in out
    (result_path,) = (tmp_path / "results").glob("result_demo-v2_fsfm-demo-pretrained_*.json")
    result = read_result(result_path)
    pretrained = list((tmp_path / "cache" / "pretrain").glob("*/export/*.pth"))
    assert len(pretrained) == 1 and result["checkpoint"]["sha256"] is not None
    # the row says where its weights came from, and is keyed on what made them
    assert result["backbone"]["variant"] == "demo-pretrained"
    # its mean/std came from the file the demo pretraining wrote beside the encoder, and say so
    norm = result["backbone"]["normalization"]
    assert norm["source"] == "checkpoint-file"
    assert result["preprocessing"]["normalize"] == ("mean=" + ",".join(f"{v:.4f}" for v in norm["mean"])
                                                   + " std=" + ",".join(f"{v:.4f}" for v in norm["std"]))
    assert result["checkpoint"]["made_by"].startswith("pretrain:")
    # the tiny encoder is not a ViT-B: the result cites its real sizes, not the timm name it was built from
    assert result["backbone"].get("arch") is None
    arch = result["backbone"]["architecture"]
    assert (arch["embed_dim"], arch["depth"], arch["patch_size"], arch["img_size"]) == (64, 3, 8, 64)
    test = result["data"]["test/unseen"]["counts"]
    train = result["data"]["train/demo2"]["counts"]
    assert test["real"] > 0 and test["fake"] > 0 and train["fake"] > 0
    auc = result["results"]["unseen"]["frame"]["auc"]
    assert 0.0 <= auc["value"] <= 1.0 and auc["n"] == test["frames"]
    # train and test forgery families differ (unseen manipulations); test identities are unseen
    rows = [json.loads(line) for line in (tmp_path / "runs").rglob("train.jsonl").__next__().read_text().splitlines()]
    assert {r["manipulation"] for r in rows if r["label"] == 1} == {"sbi"}
    assert not {r["meta"].get("identity") for r in rows} & {"obama", "biden"}
    scores = (tmp_path / "results" / result["scores_file"]).read_text().splitlines()
    val = result["data"]["val/demo2"]["counts"]
    assert len(scores) == 1 + test["frames"] + val["frames"]       # the targets and the source validation
    # bootstrap units are sources: a photo's augmented copies are one video id
    assert test["videos"] == 8                                     # 4 photos, and their 4 face-swap groups
    assert (tmp_path / "leaderboards" / "demo_v2" / "leaderboard.md").is_file()

    assert main(args) == 0                           # again: cached pretraining, training and scores
    out = capsys.readouterr().out
    assert "pretrained encoder (cached)" in out and "already finished" in out
    assert f"(all {test['frames'] + val['frames']} image scores from the score cache)" in out

    # a fresh cache (as on a fresh clone) pretrains and fine-tunes again: bit-identical weights and
    # scores on the same stack, and the leaderboard keeps one fsfm row
    assert main([a.replace(str(tmp_path / "cache"), str(tmp_path / "cache2")) for a in args]) == 0
    capsys.readouterr()
    (again,) = (tmp_path / "cache2" / "pretrain").glob("*/export/*.pth")
    assert sha256_file(again) == result["checkpoint"]["sha256"]
    latest = max((tmp_path / "results").glob("result_demo-v2_fsfm-demo-pretrained_*.json"), key=lambda p: p.stat().st_mtime)
    assert latest != result_path and read_result(latest)["results"] == result["results"]

    assert main(["run", "protocol=demo", "backbone=vit_scratch", *common]) == 0
    (scratch_path,) = (tmp_path / "results").glob("result_demo-v2_vit_scratch-random-init_*.json")
    scratch = read_result(scratch_path)
    assert scratch["backbone"]["variant"] == "random-init" and scratch["checkpoint"]["sha256"] is None
    assert scratch["backbone"]["architecture"] == result["backbone"]["architecture"]   # same encoder shape
    board = (tmp_path / "leaderboards" / "demo_v2" / "leaderboard.md").read_text()
    auc_table = board.split("## frame-level AUC")[1].split("##")[0]
    assert auc_table.count("| fsfm/demo-pretrained |") == 1 and auc_table.count("| vit_scratch/random-init |") == 1
    capsys.readouterr()

    assert main(["run", "protocol=demo", "backbone=dino", *common]) == 2     # no weights: refused, nothing trained
    err = capsys.readouterr().err
    assert "compares pretrained weights" in err and "checkpoint=default" in err
