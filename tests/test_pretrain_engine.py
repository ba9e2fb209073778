"""Correctness of the pretraining model and engine on tiny models: the loss against a hand
computation, the EMA step, the schedules, exact resume, and the non-finite-loss rule."""
from __future__ import annotations

import math

import numpy as np
import pretrain_synth as ps
import pytest
import torch

from fsfm_bench.pretrain.hooks import EMATargetHook, ema_momentum, warmup_cosine


def _tiny(id_branch=True, seed=0):
    torch.manual_seed(seed)
    from fsfm_bench.pretrain.factory import build_pretrainer

    m = build_pretrainer(ps.TINY_MODEL, {}, None, id_branch=id_branch)
    m._masking_fn = ps.RandomRegionMasking(0.75, 8)
    return m


def test_loss_equals_hand_computation():
    model = _tiny()
    # make the target differ from the online network so that the cosine is not trivially 1
    with torch.no_grad():
        for t, _ in model.ema_pairs():
            t.add_(0.05 * torch.randn_like(t))
    g = torch.Generator().manual_seed(3)
    imgs = torch.randn(3, 3, 32, 32, generator=g)
    mask, focus = ps.RandomRegionMasking(0.75, 8)(torch.zeros(3, 32, 32), torch.Generator().manual_seed(1))
    with torch.no_grad():
        out = model.forward_train(imgs, mask, focus)
    x = imgs.double().numpy()
    pred = out["pred"].double().numpy()
    per_patch = np.zeros((3, 16))
    for b in range(3):
        for r in range(4):
            for c in range(4):
                patch = x[b, :, r * 8:(r + 1) * 8, c * 8:(c + 1) * 8].transpose(1, 2, 0).reshape(-1)
                t = (patch - patch.mean()) / math.sqrt(patch.var(ddof=1) + 1e-6)
                per_patch[b, r * 4 + c] = ((pred[b, r * 4 + c] - t) ** 2).mean()
    m, f = mask.numpy().astype(float), focus.numpy().astype(float)
    rec_all = (per_patch * m).sum() / m.sum()
    rec_sfr = (per_patch * f).sum() / f.sum()
    # target features by an independent path: timm's own forward_features on the full image
    t = model.target
    tok = t.encoder.forward_features(imgs)
    z = t.projector(t.rep_decoder(t.rep_decoder.embed(tok)).mean(1))
    z = (z / z.norm(dim=-1, keepdim=True)).double().numpy()
    q = out["feat_online"].double().numpy()
    sim = -0.5 * np.mean(np.sum(q * z, axis=1))
    assert abs(out["rec_all"].item() - rec_all) < 1e-5
    assert abs(out["rec_sfr"].item() - rec_sfr) < 1e-5
    assert abs(out["sim"].item() - sim) < 1e-5
    assert abs(out["total"].item() - (rec_all + 0.007 * rec_sfr + 0.1 * sim)) < 1e-5
    assert abs(rec_all - rec_sfr) > 1e-4 and abs(sim) > 1e-3     # the three terms are distinct


def test_mae_has_no_id_branch_and_ignores_sim():
    model = _tiny(id_branch=False)
    assert not hasattr(model, "target") and not hasattr(model, "predictor")
    imgs = torch.randn(2, 3, 32, 32)
    mask, focus = ps.RandomRegionMasking()(torch.zeros(2, 32, 32), torch.Generator().manual_seed(0))
    out = model.forward_train(imgs, mask, focus)
    assert "sim" not in out
    assert torch.allclose(out["total"], out["rec_all"] + 0.007 * out["rec_sfr"])


def test_one_ema_step_moves_target_by_one_minus_m():
    model = _tiny()
    with torch.no_grad():
        for _t, o in model.ema_pairs():
            o.add_(torch.randn_like(o))
    before = [(t.clone(), o.clone()) for t, o in model.ema_pairs()]
    m = ema_momentum(0, 100, 0.996)
    assert m == pytest.approx(0.996)
    EMATargetHook.update(model, m)
    n = 0
    for (t0, o0), (t1, _) in zip(before, model.ema_pairs(), strict=True):
        expected = t0 + (1 - m) * (o0 - t0)
        assert torch.allclose(t1, expected, rtol=0, atol=1e-7)
        n += t1.numel()
    assert n > 1000 and len(before) == len(list(model.target.parameters()))
    assert ema_momentum(100, 100) == pytest.approx(1.0)
    assert ema_momentum(50, 100) == pytest.approx(0.998)


def test_lr_schedule_warmup_cosine_and_horizon():
    assert warmup_cosine(0, 1.0, 40, 800) == 0.0
    assert warmup_cosine(20, 1.0, 40, 800) == pytest.approx(0.5)
    assert warmup_cosine(40, 1.0, 40, 800) == pytest.approx(1.0)
    # the authors' log: lr 1.30e-3 at epoch 400 of an 800-epoch cosine with peak 2.4e-3
    assert warmup_cosine(400, 2.4e-3, 40, 800) == pytest.approx(1.30e-3, abs=0.01e-3)
    assert warmup_cosine(800, 1.0, 40, 800) == pytest.approx(0.0, abs=1e-12)


def test_param_groups_follow_timm_rule():
    from fsfm_bench.pretrain.optim import weight_decay_groups

    model = _tiny()
    _, decay, no_decay = weight_decay_groups(model, 0.05)
    assert "encoder.cls_token" in decay and "mask_token" in decay
    assert "encoder.pos_embed" not in decay + no_decay
    assert not [n for n in decay + no_decay if n.startswith("target.")]
    assert all(n.endswith(".bias") or "norm" in n or n.startswith("projector.1")
               or n.startswith("predictor.1") for n in no_decay)


def _train(tmp_path, epochs, work, resume=True, accum=1):
    from fsfm_bench.pretrain.runner import build_runner

    manifest = tmp_path / "data" / "manifest.jsonl"
    if not manifest.exists():
        ps.write_manifest(tmp_path / "data", n=8)
    cfg = ps.tiny_cfg(manifest, work, epochs=epochs, batch_size=2, accum=accum, resume=resume)
    model = ps.tiny_model(cfg)
    runner = build_runner(cfg, model, str(work), cfg["data"]["mean"], cfg["data"]["std"])
    runner.train()
    return model


def test_resume_gives_same_parameters_as_uninterrupted(tmp_path):
    full = _train(tmp_path, 2, tmp_path / "full", accum=2)
    _train(tmp_path, 1, tmp_path / "split", accum=2)
    resumed = _train(tmp_path, 2, tmp_path / "split", accum=2)
    a, b = full.state_dict(), resumed.state_dict()
    assert int(a["num_micro_batches"]) == int(b["num_micro_batches"]) == 8
    for k in a:
        assert torch.allclose(a[k].float(), b[k].float(), atol=1e-6, rtol=0), k
    fresh = ps.tiny_model(ps.tiny_cfg(tmp_path / "data" / "manifest.jsonl", tmp_path / "x"))
    moved = (a["encoder.blocks.0.attn.qkv.weight"] - fresh.state_dict()["encoder.blocks.0.attn.qkv.weight"])
    assert moved.abs().max() > 0   # training changed the weights


def test_nonfinite_loss_is_skipped_then_stops():
    from mmengine.optim import OptimWrapper

    from fsfm_bench.pretrain.step import NonFiniteLossError, guarded_train_step

    model = _tiny()
    model.max_nonfinite = 3
    opt = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-3))
    good = dict(inputs=torch.randn(2, 3, 32, 32), parsing=torch.zeros(2, 32, 32, dtype=torch.int8))
    bad = dict(inputs=torch.full((2, 3, 32, 32), float("nan")), parsing=good["parsing"])
    before = {k: v.clone() for k, v in model.state_dict().items() if "encoder" in k}
    for _ in range(2):
        logs = guarded_train_step(model, model, bad, opt)
        assert math.isnan(float(logs["loss"]))
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)     # skipped: nothing moved
    logs = guarded_train_step(model, model, good, opt)                 # a finite batch resets the streak
    assert math.isfinite(float(logs["loss"])) and model._nan_streak == 0
    for _ in range(2):
        guarded_train_step(model, model, bad, opt)
    with pytest.raises(NonFiniteLossError, match="resum"):
        guarded_train_step(model, model, bad, opt)


def test_official_checkpoint_files_round_trip(tmp_path):
    """Export to checkpoint-N.pth / checkpoint-te-N.pth (official layout, with an argparse
    Namespace in `args` as the released files have) and resume a fresh model from them."""
    import argparse

    from fsfm_bench.pretrain.convert import export_official, load_official_checkpoint

    src = _tiny(seed=1)
    with torch.no_grad():
        for t, _ in src.ema_pairs():
            t.add_(1.0)                       # target differs from online: both files matter
    p_on, p_te = export_official(src, tmp_path, tag="7")
    blob = torch.load(p_on, weights_only=True)
    torch.save({**blob, "args": argparse.Namespace(epochs=800), "epoch": 7}, p_on)
    assert "decoder_blocks.0.attn.qkv.weight" in blob["model"] and "projector.projection_head.0.weight" in blob["model"]
    dst = _tiny(seed=2)
    load_official_checkpoint(dst, p_on, p_te)
    a, b = src.state_dict(), dst.state_dict()
    for k in a:
        if k != "num_micro_batches":
            assert torch.equal(a[k], b[k]), k
    # without the target file, the target starts as a copy of the online weights (official init)
    dst2 = _tiny(seed=3)
    load_official_checkpoint(dst2, p_on)
    assert torch.equal(dst2.target.encoder.blocks[0].attn.qkv.weight, src.encoder.blocks[0].attn.qkv.weight)


def test_cpu_bf16_wrapper_autocasts_the_step():
    from fsfm_bench.pretrain.optim import CpuAmpOptimWrapper
    from fsfm_bench.pretrain.step import guarded_train_step

    model = _tiny()
    wrapper = CpuAmpOptimWrapper(optimizer=torch.optim.AdamW(model.parameters(), lr=1e-3))
    seen = []
    hook = model.pixel_decoder.pred.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    data = dict(inputs=torch.randn(2, 3, 32, 32), parsing=torch.zeros(2, 32, 32, dtype=torch.int8))
    before = model.encoder.blocks[0].attn.qkv.weight.detach().clone()
    logs = guarded_train_step(model, model, data, wrapper)
    hook.remove()
    assert seen == [torch.bfloat16]
    assert math.isfinite(float(logs["loss"]))
    assert model.encoder.blocks[0].attn.qkv.weight.dtype == torch.float32        # master weights fp32
    assert not torch.equal(before, model.encoder.blocks[0].attn.qkv.weight)


def test_amp_choice():
    from fsfm_bench.errors import FsfmBenchError
    from fsfm_bench.pretrain.runner import amp_wrapper

    assert amp_wrapper("auto", "cpu")["type"] == "OptimWrapper"
    assert amp_wrapper("bf16", "cpu") == dict(type="CpuAmpOptimWrapper", dtype="bfloat16")
    assert amp_wrapper("fp16", "cuda") == dict(type="AmpOptimWrapper", dtype="float16", loss_scale="dynamic")
    with pytest.raises(FsfmBenchError, match="fp16 needs a GPU"):
        amp_wrapper("fp16", "cpu")
