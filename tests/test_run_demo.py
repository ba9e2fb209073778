"""The embedded demo end to end through the command line, at a reduced size: prepare the bundled
faces, pretrain a tiny FSFM (cached), fine-tune the fsfm backbone, evaluate, write the result and
the leaderboard; then the same command again reuses everything."""
from __future__ import annotations

import json

from fsfm_bench.cli import main
from fsfm_bench.results import read_result


def test_demo_command_end_to_end_reduced(tmp_path, capsys):
    args = ["run", "protocol=demo", "backbone=fsfm", f"data.cache_dir={tmp_path / 'cache'}",
            f"work_dir={tmp_path / 'runs'}", f"leaderboard.results_dir={tmp_path / 'results'}",
            f"leaderboard.dir={tmp_path / 'leaderboards'}", "leaderboard.figures=false",
            "finetune.epochs=2", "eval.bootstrap=20",
            "protocol.pretrain_if_no_checkpoint.overrides.schedule.epochs=1",
            "protocol.pretrain_if_no_checkpoint.overrides.schedule.horizon_epochs=1",
            "protocol.pretrain_if_no_checkpoint.overrides.schedule.warmup_epochs=0", "--quiet"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "pretraining a tiny FSFM" in out
    (result_path,) = (tmp_path / "results").glob("result_demo-v1_fsfm_*.json")
    result = read_result(result_path)
    pretrained = list((tmp_path / "cache" / "pretrain").glob("*/export/*.pth"))
    assert len(pretrained) == 1 and result["checkpoint"]["sha256"] is not None
    # the tiny encoder is not a ViT-B: the result cites its real sizes, not the timm name it was built from
    assert result["backbone"].get("arch") is None
    assert result["backbone"]["architecture"]["embed_dim"] == 64 and result["backbone"]["architecture"]["depth"] == 2
    test = result["data"]["test/unseen"]["counts"]
    train = result["data"]["train/demo"]["counts"]
    assert test["real"] > 0 and test["fake"] > 0 and train["fake"] > 0
    auc = result["results"]["unseen"]["frame"]["auc"]
    assert 0.0 <= auc["value"] <= 1.0 and auc["n"] == test["frames"]
    # train and test forgery families differ (unseen manipulations)
    rows = [json.loads(line) for line in (tmp_path / "runs").rglob("train.jsonl").__next__().read_text().splitlines()]
    train_fakes = {r["manipulation"] for r in rows if r["label"] == 1}
    scores = (tmp_path / "results" / result["scores_file"]).read_text().splitlines()
    val = result["data"]["val/demo"]["counts"]
    assert len(scores) == 1 + test["frames"] + val["frames"]       # the targets and the source validation
    assert (tmp_path / "leaderboards" / "demo_v1" / "leaderboard.md").is_file()
    assert train_fakes and not train_fakes & {"face_swap", "print_attack", "replay_attack"}

    assert main(args) == 0                           # again: cached pretraining, training and scores
    out = capsys.readouterr().out
    assert "pretrained encoder (cached)" in out and "already finished" in out
    assert f"(all {test['frames'] + val['frames']} image scores from the score cache)" in out
