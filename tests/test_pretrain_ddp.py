"""A 2-process gloo DDP step (through the real DDP wrapper and guarded step) gives the same
update as one process on the same global batch."""
from __future__ import annotations

import os
import sys

import pretrain_synth as ps
import torch
import torch.multiprocessing as mp

GLOBAL_B = 4


def _batch():
    g = torch.Generator().manual_seed(7)
    imgs = torch.randn(GLOBAL_B, 3, 32, 32, generator=g)
    mask, focus = ps.RandomRegionMasking(0.75, 8)(torch.zeros(GLOBAL_B, 32, 32), torch.Generator().manual_seed(2))
    return dict(inputs=imgs, mask=mask, focus=focus)


def _model():
    from fsfm_bench.pretrain.factory import build_pretrainer

    return build_pretrainer(ps.TINY_MODEL, {}, None, seed=0)


def _step(runner_model, module, data):
    """One plain SGD step at lr 1 (delta = -grad) through the guarded step; returns the deltas."""
    from mmengine.optim import OptimWrapper

    from fsfm_bench.pretrain.optim import weight_decay_groups
    from fsfm_bench.pretrain.step import guarded_train_step

    groups, _, _ = weight_decay_groups(module, 0.0)
    wrapper = OptimWrapper(torch.optim.SGD(groups, lr=1.0))
    before = {n: p.detach().clone() for n, p in module.named_parameters() if p.requires_grad}
    guarded_train_step(runner_model, module, data, wrapper)
    return {n: (p.detach() - before[n]) for n, p in module.named_parameters() if p.requires_grad}


def _worker(rank: int, world: int, init_file: str, out_file: str) -> None:
    import torch.distributed as dist

    sys.path.insert(0, os.path.dirname(__file__))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    from fsfm_bench.pretrain.optim import FsfmDistributedDataParallel

    model = _model()
    ddp = FsfmDistributedDataParallel(model, device_ids=None, broadcast_buffers=False)
    full = _batch()
    per = GLOBAL_B // world
    data = {k: v[rank * per:(rank + 1) * per] for k, v in full.items()}
    deltas = _step(ddp, model, data)
    if rank == 0:
        torch.save(deltas, out_file)
    dist.barrier()
    dist.destroy_process_group()


def test_two_process_gloo_matches_single_process(tmp_path):
    out = tmp_path / "ddp.pt"
    mp.spawn(_worker, args=(2, str(tmp_path / "init"), str(out)), nprocs=2, join=True)
    ddp = torch.load(out, weights_only=True)
    model = _model()
    single = _step(model, model, _batch())
    assert set(ddp) == set(single)
    total = 0.0
    for k, v in single.items():
        assert torch.allclose(ddp[k], v, atol=1e-6, rtol=1e-4), k
        total += v.abs().sum().item()
    assert total > 0
