"""Each step of a protocol run alone: the plan (nothing trains), one seed's training (idempotent),
the evaluation of a checkpoint from a frozen SeedEval, and publishing (log lines, leaderboard)."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from run_testutil import make_prepared, synth_config

from fsfm_bench.config import compose, config_hash
from fsfm_bench.errors import FsfmBenchError, UsageError
from fsfm_bench.finetune import train as ft_train
from fsfm_bench.io import sha256_file
from fsfm_bench.protocols.data import DataResolver
from fsfm_bench.protocols.plan import (
    Ranks,
    check_single_process_demo,
    make_plan,
    plan_variant,
    resolve_protocols,
    tracked_policies,
    training_key,
)
from fsfm_bench.protocols.publish import rebuild_leaderboard, report_outcome
from fsfm_bench.protocols.seed_eval import SeedEval, SeedOutcome, evaluate_checkpoint
from fsfm_bench.protocols.settings import LeaderboardSettings, RunSettings, eval_settings
from fsfm_bench.protocols.train_seed import finished, select_checkpoint, train_seed
from fsfm_bench.results import read_result

TINY_NAME = "fsfm_bench.finetune.standins_tiny_vit"      # the stand-in's type with ':' made path-safe


def _plan(tmp: Path, cfg: dict):
    protocols = resolve_protocols(cfg)
    resolver = DataResolver(cfg, progress=False)
    resolver.check(protocols)
    return make_plan(cfg, protocols, resolver, log=lambda s: None, out=str(tmp)), resolver


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    """A planned (not trained) tiny run: 2 epochs, source_val + last tracked."""
    tmp = tmp_path_factory.mktemp("steps")
    cfg = synth_config(tmp, make_prepared(tmp / "data"), epochs=2, track_policies=["source_val", "last"])
    cfg["finetune"]["mixup"] = None
    plan, resolver = _plan(tmp, cfg)
    variant = plan_variant(plan, plan.protocols[0], resolver, log=lambda s: None)
    return tmp, cfg, plan, variant


def test_plan_keys_the_run_folder_without_training(planned):
    tmp, cfg, plan, variant = planned
    assert plan.policies == ("source_val", "last")
    assert plan.key == training_key(cfg, ["source_val", "last"], None)     # the tiny stand-in: no weights
    assert plan.run_dir == tmp / "runs" / "demo@1" / TINY_NAME / plan.key[:12]
    assert plan.digest == config_hash(cfg) and plan.results_dir == tmp / "results"
    assert (plan.run_dir / "config.yaml").is_file()
    assert plan.backbone_block["name"] == "fsfm_bench.finetune.standins:tiny_vit"
    assert plan.backbone_block["architecture"]["depth"] == 2 and plan.backbone_block["params"] > 0
    # the variant: split files written, 6 train and 3 val videos x 2 labels x 3 frames, no seed trained
    assert variant.dir == plan.run_dir and variant.splits.train_file.is_file()
    assert (len(variant.splits.train_rows), len(variant.splits.val_rows)) == (36, 18)
    assert variant.meta["config_sha256"] == plan.digest and variant.meta["img_size"] == 32
    assert not list(plan.run_dir.rglob("seed*"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.key = "x"


def test_plan_key_ignores_evaluation_only_settings_but_not_training(planned):
    tmp, cfg, plan, _ = planned
    same = json.loads(json.dumps(cfg))
    same["selection"], same["threshold"], same["eval"]["bootstrap"] = "last", "target_eer", 7
    other = json.loads(json.dumps(cfg))
    other["finetune"]["epochs"] = 3
    assert _plan(tmp, same)[0].run_dir == plan.run_dir
    assert _plan(tmp, other)[0].run_dir != plan.run_dir


def test_demo_rule_and_policies_without_validation():
    cfg = compose(protocol="demo", backbone="fsfm").to_dict()
    protocol = resolve_protocols(cfg)[0]
    settings = RunSettings.from_config(cfg)
    assert protocol.pretrain_if_no_checkpoint and settings.checkpoint is None
    check_single_process_demo(protocol, settings, Ranks(0, 1))             # one process: allowed
    with pytest.raises(FsfmBenchError, match="single process"):
        check_single_process_demo(protocol, settings, Ranks(1, 2))
    given = RunSettings.from_config({**cfg, "checkpoint": "/weights.pth"})
    check_single_process_demo(protocol, given, Ranks(0, 2))                # weights given: nothing to pretrain
    no_val = dataclasses.replace(protocol, validation=None)
    assert tracked_policies(no_val, dataclasses.replace(
        settings, finetune=dataclasses.replace(settings.finetune, track_policies=("source_val", "last")))) == ["last"]


def test_settings_validate_once_with_one_clear_error():
    cfg = compose(protocol="demo", backbone="fsfm").to_dict()
    cfg["finetune"]["epochs"] = 0
    with pytest.raises(UsageError, match=r"finetune.epochs=0"):
        RunSettings.from_config(cfg)
    cfg["finetune"]["epochs"] = 1
    settings = RunSettings.from_config(cfg)
    assert settings.leaderboard.rebuild is True and settings.eval.bootstrap == cfg["eval"]["bootstrap"]
    assert settings.eval.batch_size == cfg["eval"]["batch_size"] and settings.eval.resize == cfg["eval"]["resize"]
    bare = eval_settings({"eval": {"batch_size": 8, "resize": None, "progress": 0}})     # null = the default
    assert (bare.batch_size, bare.resize, bare.interpolation, bare.progress, bare.chunk_batches) == \
        (8, "plain", "bicubic", False, 20)


@pytest.fixture(scope="module")
def trained(planned):
    tmp, cfg, plan, variant = planned
    ckpt_dir = train_seed(plan, variant, 0, log=lambda s: None)
    return ckpt_dir


def test_train_seed_is_idempotent_and_retrains_an_incomplete_seed(planned, trained, monkeypatch):
    _, _, plan, variant = planned
    assert finished(trained, list(plan.policies))
    before = {p: sha256_file(trained / f"{p}.pth") for p in plan.policies}
    calls = []
    monkeypatch.setattr(ft_train, "train", lambda rcfg: calls.append(rcfg))
    logs: list[str] = []
    assert train_seed(plan, variant, 0, log=logs.append) == trained
    assert calls == [] and any("already finished" in line for line in logs)
    assert {p: sha256_file(trained / f"{p}.pth") for p in plan.policies} == before
    # a policy file lost: the seed is not finished, so training runs (resumes) again
    moved = trained / "last.pth"
    moved.rename(trained / "last.bak")
    try:
        train_seed(plan, variant, 0, log=lambda s: None)
        assert len(calls) == 1 and calls[0]["work_dir"] == str(variant.dir / "seed0" / "train")
    finally:
        (trained / "last.bak").rename(moved)


def test_evaluate_from_a_plan_object_then_publish(planned, trained, tmp_path):
    _, cfg, plan, variant = planned
    checkpoint = select_checkpoint(variant.protocol, trained, log=lambda s: None)
    assert checkpoint == trained / "source_val.pth"
    job = SeedEval(protocol=variant.protocol, splits=variant.splits, checkpoint=checkpoint, config=cfg,
                   eval=eval_settings(cfg), seed=0, backbone_block=plan.backbone_block,
                   pretrained=plan.probe["checkpoint"], config_digest=plan.digest, results_dir=None, started=0.0)
    first = evaluate_checkpoint(job, log=lambda s: None)
    assert first.result_path is None and first.forwarded == first.total == 24 + 18   # test + source val frames
    auc = first.results["unseen"]["frame"]["auc"]["value"]
    assert 0.0 <= auc <= 1.0
    published = evaluate_checkpoint(dataclasses.replace(job, results_dir=tmp_path / "results"), log=lambda s: None)
    assert published.forwarded == 0                                        # every score from the cache
    assert published.results == first.results
    result = read_result(published.result_path)
    assert result["checkpoint"]["finetuned"]["sha256"] == sha256_file(checkpoint)
    assert result["config_hash"] == plan.digest and result["seeds"] == {"seed": 0}
    assert result["results"]["unseen"]["frame"]["auc"]["value"] == auc
    # the settings the result records are the ones scoring used: another interpolation is another cache key
    other = dataclasses.replace(job, eval=dataclasses.replace(job.eval, interpolation="bilinear"),
                                results_dir=tmp_path / "bilinear")
    rescored = evaluate_checkpoint(other, log=lambda s: None)
    assert rescored.forwarded == 42 and read_result(rescored.result_path)["preprocessing"]["interpolation"] == "bilinear"
    assert result["preprocessing"]["interpolation"] == "bicubic"

    logs: list[str] = []
    report_outcome(published, logs.append)
    assert logs[0] == f"result: {published.result_path}  (all 42 image scores from the score cache)"
    assert logs[1].split()[:3] == ["unseen", "frame", "auc"] and f"{auc * 100:.2f}" in logs[1]
    boards = tmp_path / "boards"
    rebuild_leaderboard(LeaderboardSettings(results_dir=str(tmp_path / "results"), dir=str(boards), figures=False),
                        logs.append)
    assert (boards / "demo_v1" / "leaderboard.md").is_file()
    assert logs[-1] == f"leaderboard demo@1: {boards / 'demo_v1'}/leaderboard.md"


def test_report_outcome_says_how_much_was_scored_now():
    logs: list[str] = []
    report_outcome(SeedOutcome(Path("r.json"), {"t": {"video": {"auc": {"value": 0.875}}}}, 3, Path("c.pth"), 10),
                   logs.append)
    assert logs == ["result: r.json  (3 of 10 images scored now, the rest from the score cache)",
                    "  t          video  auc 87.50"]
