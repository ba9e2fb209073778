"""Every official checkpoint layout round-trips: random tiny reference -> release layout on disk ->
plugin -> the same features (max abs difference < 1e-5)."""
from __future__ import annotations

import pytest
import torch
from backbones_testutil import (
    CLIP_VIT,
    TINY,
    VIT,
    avg_pooled,
    pre_norm_tokens,
    reference,
    write_clip_safetensors,
    write_dino,
    write_farl,
    write_fsfm,
    write_mae,
    write_mcf,
    write_mean_std,
    write_timm,
)

import fsfm_bench

ATOL = 1e-5


def _x(seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(2, 3, TINY["img_size"], TINY["img_size"], generator=g)


def _build(name, path, arch=VIT, **kw):
    tiny = {k: v for k, v in TINY.items()}
    return fsfm_bench.build_backbone(name, checkpoint=str(path), arch=arch, **tiny, **kw).eval()


def _check(model, ref, x, global_pool):
    with torch.no_grad():
        tokens = model.forward_features(x)
        pooled = model(x)
        if global_pool == "token":
            want_tokens = ref.forward_features(x)
            want_pooled = want_tokens[:, 0]
        else:
            want_tokens = pre_norm_tokens(ref, x)
            want_pooled = avg_pooled(ref, x)
    assert tokens.shape == (2, 1 + 16, TINY["embed_dim"])
    assert (tokens - want_tokens).abs().max().item() < ATOL
    assert (pooled - want_pooled).abs().max().item() < ATOL


WRITERS = {
    "fsfm_online": ("fsfm", VIT, lambda m, p: write_fsfm(m, p)),
    "fsfm_target": ("fsfm", VIT, lambda m, p: write_fsfm(m, p, target=True)),
    "mae": ("mae", VIT, lambda m, p: write_mae(m, p)),
    "mae_visualize": ("mae", VIT, lambda m, p: write_mae(m, p, with_decoder=True)),
    "dino_bare": ("dino", VIT, lambda m, p: write_dino(m, p)),
    "dino_full_teacher": ("dino", VIT, lambda m, p: write_dino(m, p, full=True)),
    "farl_with_mim": ("farl", CLIP_VIT, lambda m, p: write_farl(m, p)),
    "farl_plain": ("farl", CLIP_VIT, lambda m, p: write_farl(m, p, with_mim=False)),
    "clip_open_clip": ("clip", CLIP_VIT, write_clip_safetensors),
    "mcf": ("mcf", VIT, write_mcf),
    "supervised_timm": ("supervised", VIT, write_timm),
}


@pytest.mark.parametrize("global_pool", ["avg", "token"])
@pytest.mark.parametrize("layout", sorted(WRITERS))
def test_layout_round_trip(layout, global_pool, tmp_path):
    name, arch, writer = WRITERS[layout]
    ref = reference(arch, seed=hash(layout) % 1000, num_classes=10 if layout == "supervised_timm" else 0)
    suffix = ".safetensors" if layout in ("clip_open_clip", "supervised_timm") else ".pth"
    path = writer(ref, tmp_path / f"ckpt{suffix}")
    if name == "fsfm":
        write_mean_std(tmp_path)
    model = _build(name, path, arch=arch, global_pool=global_pool)
    _check(model, ref, _x(), global_pool)
    report = model.load_report
    assert report is not None and report.loaded > 0
    fresh = set(report.fresh)
    assert fresh == ({"fc_norm.weight", "fc_norm.bias"} if global_pool == "avg" else set())
    if global_pool == "avg":
        assert any("final norm" in n for n in report.notes)


def test_fsfm_drops_every_pretraining_part_with_notes(tmp_path):
    ref = reference()
    write_fsfm(ref, tmp_path / "checkpoint-400.pth")
    write_mean_std(tmp_path)
    model = _build("fsfm", tmp_path / "checkpoint-400.pth")
    dropped = model.load_report.dropped
    assert sum(len(v) for k, v in dropped.items() if "decoder" in k) >= 8
    assert any("projector" in k for k in dropped) and any("predictor" in k for k in dropped)
    assert any("mask token" in k for k in dropped)


def test_dino_full_loads_the_teacher_not_the_student(tmp_path):
    ref = reference(seed=5)
    write_dino(ref, tmp_path / "full.pth", full=True)
    model = _build("dino", tmp_path / "full.pth", global_pool="token")
    _check(model, ref, _x(), "token")       # student weights are ref + 1: would fail here
    assert any("DINO projection head" in k for k in model.load_report.dropped)


def test_mcf_loads_the_target_encoder_not_the_online_one(tmp_path):
    ref = reference(seed=6)
    write_mcf(ref, tmp_path / "mcf.pth")
    model = _build("mcf", tmp_path / "mcf.pth", global_pool="token")
    _check(model, ref, _x(), "token")
    assert any("online encoder" in n for n in model.load_report.notes)


def test_clip_and_farl_drop_text_tower_projection_and_mim_head_with_notes(tmp_path):
    ref = reference(CLIP_VIT, seed=7)
    write_farl(ref, tmp_path / "farl.pth")
    model = _build("farl", tmp_path / "farl.pth", arch=CLIP_VIT)
    notes = " | ".join(model.load_report.notes)
    assert "text tower" in notes and "masked-image-modelling" in notes and "head" in notes
    assert model.mean == pytest.approx((0.48145466, 0.4578275, 0.40821073))


def test_supervised_head_of_another_shape_is_dropped_with_a_note(tmp_path):
    ref = reference(seed=8, num_classes=10)
    write_timm(ref, tmp_path / "model.safetensors")
    model = _build("supervised", tmp_path / "model.safetensors")
    assert any("head" in n and "[10, 64]" in n for n in model.load_report.notes)
    assert model.mean == (0.5, 0.5, 0.5) and model.std == (0.5, 0.5, 0.5)


def test_cnn_timm_layout_round_trip(tmp_path):
    import timm

    torch.manual_seed(0)
    ref = timm.create_model("tf_efficientnet_b0", pretrained=False, num_classes=7).eval()
    write_timm(ref, tmp_path / "model.safetensors")
    model = fsfm_bench.build_backbone("efficientnet_b4", arch="tf_efficientnet_b0",
                                      checkpoint=str(tmp_path / "model.safetensors")).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        fmap = ref.forward_features(x)
        tokens = model.forward_features(x)
        pooled = model(x)
    assert tokens.shape == (1, 4, 1280) and model.num_prefix_tokens == 0 and model.patch_size is None
    assert (tokens - fmap.flatten(2).transpose(1, 2)).abs().max().item() < ATOL
    assert (pooled - fmap.mean((2, 3))).abs().max().item() < ATOL
    assert any("head" in n for n in model.load_report.notes)
