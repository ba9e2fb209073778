"""The official fine-tuning schedule and batch plan (docs/protocol-fidelity.md, issue 15 items 5, 7, 8).

- the lr floor is ``min_lr`` times each group's layer-decay scale, over a whole schedule;
- the warm-up starts at lr 0;
- the global batch (and so the lr) is the same on 1, 2 or 4 processes: gradient accumulation
  makes up for missing processes;
- the @1 recipe keeps its legacy schedule (absolute floor, warm-up from 1e-3 of the peak).
"""
from __future__ import annotations

import copy
import math

import pytest
import torch

from fsfm_bench.config import compose
from fsfm_bench.errors import UsageError
from fsfm_bench.finetune.schedule import WarmupCosineLR, batch_plan
from fsfm_bench.finetune.train import runner_config


def _official(t: float, lr: float, min_lr: float, warmup: float, total: float) -> float:
    """The MAE-lineage rule written out independently: base lr at fractional epoch t (scale 1)."""
    if t < warmup:
        return lr * t / warmup
    return min_lr + (lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * (t - warmup) / (total - warmup)))


def _optimizer(lr: float, scales: list[float]) -> torch.optim.Optimizer:
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in scales]
    return torch.optim.AdamW([{"params": [p], "lr": lr * s, "lr_scale": s}
                              for p, s in zip(params, scales, strict=True)], lr=lr)


def test_per_group_floor_over_a_full_schedule():
    lr, min_lr, epochs, warmup, per_epoch = 6.25e-5, 1e-6, 10, 5, 7
    scales = [0.65 ** k for k in (13, 7, 1, 0)]            # bottom layers .. head
    opt = _optimizer(lr, scales)
    sched = WarmupCosineLR.build_iter_from_epoch(opt, warmup=warmup, total=epochs, min_lr=min_lr, peak_lr=lr,
                                                 floor="per_group", begin=0, end=epochs + 1, epoch_length=per_epoch)
    # end one epoch past the schedule so the value AT t = epochs (the floor itself) is computed too
    seen = []
    for _ in range(epochs * per_epoch):
        seen.append([g["lr"] for g in opt.param_groups])
        opt.step()
        sched.step()
    seen.append([g["lr"] for g in opt.param_groups])
    for it, lrs in enumerate(seen):
        want = _official(it / per_epoch, lr, min_lr, warmup, epochs)
        for got, scale in zip(lrs, scales, strict=True):
            assert got == pytest.approx(want * scale, rel=1e-9, abs=1e-15), (it, scale)
    assert seen[0] == [0.0] * 4                                          # warm-up from 0
    for got, scale in zip(seen[-1], scales, strict=True):                            # the floor is per group
        assert got == pytest.approx(min_lr * scale, rel=1e-9)
    assert seen[-1][0] == pytest.approx(1e-6 * 0.65 ** 13) and seen[-1][0] < 4e-9


def test_absolute_floor_gives_every_group_min_lr():
    opt = _optimizer(1e-3, [0.1, 1.0])
    sched = WarmupCosineLR(opt, warmup=0, total=4, min_lr=1e-5, peak_lr=1e-3, floor="absolute",
                           begin=0, end=5, by_epoch=False)
    for _ in range(4):
        opt.step()
        sched.step()
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([1e-5, 1e-5])


def _cfg(recipe_overrides: dict) -> dict:
    cfg = compose(protocol="cdfd@1", overrides={}).to_dict()
    for key, value in recipe_overrides.items():
        cfg["finetune"][key] = value
    cfg["finetune"]["num_workers"] = 0
    return cfg


def _runner(cfg: dict, tmp_path) -> dict:
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join('{"path": "x", "label": 0, "video_id": "v", "domain": "train"}\n' for _ in range(300)))
    model_cfg = {"type": "FaceClassifier", "backbone": {"type": "x"}, "adapter": {"type": "fsfm_head"},
                 "mean": [0.5] * 3, "std": [0.5] * 3}
    return runner_config(cfg, model_cfg=model_cfg, train_file=str(rows), val_file=str(rows),
                         work_dir=str(tmp_path / "w"), seed=0, policies=["source_val"], oracle_metric="auc",
                         oracle_granularity="video", meta={})


@pytest.mark.parametrize("world", [1, 2, 4])
def test_global_batch_is_held_constant_across_world_sizes(world, monkeypatch, tmp_path):
    monkeypatch.setenv("WORLD_SIZE", str(world))
    cfg = _cfg({"global_batch": 64, "batch_size": 16, "lr_floor": "per_group", "warmup_start": 0.0})
    rc = _runner(cfg, tmp_path)
    per = rc["train_dataloader"]["batch_size"]
    accumulate = rc["optim_wrapper"].get("accumulative_counts", 1)
    assert per * accumulate * world == 64
    assert accumulate == 4 // world
    assert rc["optim_wrapper"]["optimizer"]["lr"] == pytest.approx(2.5e-4 * 64 / 256)   # 6.25e-5 at every launch
    assert rc["auto_scale_lr"]["enable"] is False                                      # no second scaling
    (sched,) = rc["param_scheduler"]
    assert sched["type"] == "WarmupCosineLR" and sched["floor"] == "per_group" and sched["warmup_start"] == 0.0
    assert sched["peak_lr"] == pytest.approx(6.25e-5)


def test_global_batch_that_does_not_divide_is_one_clear_error():
    with pytest.raises(UsageError, match="global_batch=64 is not a multiple of batch_size=24"):
        batch_plan({"batch_size": 24, "blr": 1e-4, "global_batch": 64}, 1)


def test_iteration_recipes_count_optimiser_steps_under_accumulation(monkeypatch, tmp_path):
    monkeypatch.setenv("WORLD_SIZE", "1")
    cfg = _cfg({"by_epoch": False, "max_iters": 40, "val_interval": 10, "epochs": None, "warmup_epochs": 0,
                "global_batch": 64, "batch_size": 32, "min_lr": None, "scale_lr": False, "warmup_start": 0.0})
    rc = _runner(cfg, tmp_path)
    assert rc["train_cfg"]["max_iters"] == 80 and rc["train_cfg"]["val_interval"] == 20
    assert rc["optim_wrapper"]["optimizer"]["lr"] == pytest.approx(2.5e-4)


def test_the_v1_recipe_keeps_its_legacy_schedule(monkeypatch, tmp_path):
    monkeypatch.setenv("WORLD_SIZE", "1")
    rc = _runner(_cfg({}), tmp_path)
    assert [s["type"] for s in rc["param_scheduler"]] == ["LinearLR", "CosineAnnealingLR"]
    assert rc["param_scheduler"][0]["start_factor"] == 1e-3 and rc["auto_scale_lr"]["enable"] is True
    assert "accumulative_counts" not in rc["optim_wrapper"]
    assert copy.deepcopy(rc["optim_wrapper"]["optimizer"]["lr"]) == 2.5e-4
