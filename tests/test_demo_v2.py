"""demo@2: versioned protocol names, which weights a demo comparison may start from, and rows keyed
on what made demo-pretrained weights. (Whether the demo's numbers separate a working detector from a
broken one: tests/test_demo_broken_pipeline.py, two full demo runs; benchmarks/demo.py measures the
rest, see benchmarks/README.md.)"""
from __future__ import annotations

from pathlib import Path

import pytest
from results_testutil import make_result, tiny_scores

from fsfm_bench.config import compose
from fsfm_bench.errors import UsageError
from fsfm_bench.plugins import get
from fsfm_bench.protocols import Protocol
from fsfm_bench.protocols.demo_backbones import (
    DEMO_PRETRAINED,
    RANDOM_INIT,
    pretraining_identity,
    resolve_demo_backbone,
)
from fsfm_bench.results import leaderboard as lb


def test_bare_name_is_the_newest_version_and_the_old_one_stays_loadable():
    assert get("protocols", "demo").ref == "demo@2"
    assert get("protocols", "demo@2").ref == "demo@2"
    assert get("protocols", "demo@1").ref == "demo@1"
    assert compose("demo", "fsfm").to_dict()["protocol"]["version"] == 2
    v1 = compose("demo@1", "fsfm").to_dict()
    assert v1["protocol"]["version"] == 1 and v1["recipe_name"] == "finetune_demo"
    assert get("protocols", "diff_fsvfm").ref == "diff_fsvfm@1"   # single-version protocols: unchanged


def _v2() -> Protocol:
    return get("protocols", "demo").resolve()[0]


def test_demo_compares_weights_never_random_inits():
    notes: list[str] = []
    bb, row, pretrain = resolve_demo_backbone({"type": "fsfm", "arch": "vit_base_patch16_224"}, None, _v2(), notes.append)
    assert pretrain and row == {"variant": DEMO_PRETRAINED}
    bb, row, pretrain = resolve_demo_backbone({"type": "vit_scratch", "arch": "vit_base_patch16_224"}, None, _v2(),
                                              notes.append)
    # the scratch baseline is the demo encoder's architecture (fsfm_demo's model section), not a ViT-B
    assert not pretrain and row == {"variant": RANDOM_INIT}
    assert (bb["embed_dim"], bb["depth"], bb["num_heads"], bb["patch_size"]) == (64, 3, 2, 8)
    with pytest.raises(UsageError, match="compares pretrained weights.*backbone=fsfm.*vit_scratch"):
        resolve_demo_backbone({"type": "dino"}, None, _v2(), notes.append)
    bb, row, pretrain = resolve_demo_backbone({"type": "dino"}, "default", _v2(), notes.append)
    assert not pretrain and row == {} and "tens of minutes" in notes[-1]


def test_pretraining_identity_ignores_where_it_ran():
    cfg = {"model": {"embed_dim": 64}, "data": {"source": "/home/a/cache/prepared/demo2-1", "split": "train"},
           "work_dir": "/home/a/cache/pretrain/x"}
    moved = {**cfg, "data": {**cfg["data"], "source": "/tmp/b/demo2-1"}, "work_dir": "/tmp/b/p"}
    assert pretraining_identity(cfg, "m" * 64) == pretraining_identity(moved, "m" * 64)
    assert pretraining_identity(cfg, "m" * 64) != pretraining_identity(cfg, "n" * 64)
    trained_longer = {**cfg, "model": {"embed_dim": 96}}
    assert pretraining_identity(cfg, "m" * 64) != pretraining_identity(trained_longer, "m" * 64)


def test_same_pretraining_on_another_machine_is_the_same_row(tmp_path: Path):
    """Two results whose demo-pretrained encoders differ in their last bits (another CPU) but were
    made by the same pretraining are one row; without ``made_by`` they were two."""
    scores = tiny_scores(0, targets=("unseen",))
    here = make_result(scores, protocol="demo@2")
    there = make_result(scores, protocol="demo@2")
    there["checkpoint"]["sha256"] = "b" * 64
    for res in (here, there):
        res["checkpoint"]["made_by"] = "pretrain:0123456789abcdef"
    loaded = [lb.Loaded(tmp_path / "a.json", here), lb.Loaded(tmp_path / "b.json", there)]
    assert lb.merge_seeds(loaded)["group_id"].nunique() == 1
    for res in (here, there):
        del res["checkpoint"]["made_by"]
    assert lb.merge_seeds(loaded)["group_id"].nunique() == 2
