"""Checkpoint sources and safety: code-executing pickles refused (and not executed), truncated files
and other architectures reported by key, offline hf:// fails fast, https needs a sha256, mean/std
precedence, and the checkpoint fsfm-bench's pretraining writes."""
from __future__ import annotations

import json
import os
import time

import pytest
import torch
import yaml
from backbones_testutil import TINY, VIT, pre_norm_tokens, reference, write_fsfm, write_mean_std

import fsfm_bench
from fsfm_bench.checkpoints import load_file, read_mean_std_file
from fsfm_bench.errors import FsfmBenchError, UsageError


class _Evil:
    """Unpickling this calls os.mkdir(marker): proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def _tiny(**kw):
    return {**TINY, "arch": VIT, **kw}


def test_pickle_that_runs_code_is_refused_and_not_executed(tmp_path):
    marker = tmp_path / "pwned"
    ref = reference()
    path = tmp_path / "evil.pth"
    torch.save({"model": ref.state_dict(), "payload": _Evil(marker)}, path)
    write_mean_std(tmp_path)
    with pytest.raises(FsfmBenchError) as err:
        fsfm_bench.build_backbone("fsfm", checkpoint=str(path), **_tiny())
    assert not marker.exists(), "unpickling executed code"
    msg = str(err.value)
    assert "trust_checkpoint=True" in msg and "arbitrary code" in msg and "mkdir" in msg


def test_trust_flag_allows_a_full_unpickle(tmp_path):
    from fractions import Fraction  # not on the weights-only allowlist, harmless

    ref = reference()
    path = tmp_path / "odd.pth"
    torch.save({"model": ref.state_dict(), "extra": Fraction(1, 3)}, path)
    write_mean_std(tmp_path)
    with pytest.raises(FsfmBenchError, match="full unpickling"):
        load_file(path)
    model = fsfm_bench.build_backbone("fsfm", checkpoint=str(path), trust_checkpoint=True, **_tiny())
    assert model.load_report.loaded > 0


def test_official_training_checkpoint_with_args_namespace_loads_weights_only(tmp_path):
    path = write_fsfm(reference(), tmp_path / "checkpoint-400.pth")
    obj = load_file(path)                     # argparse.Namespace in "args" is allowlisted
    assert obj["epoch"] == 399 and obj["args"].mask_ratio == 0.75


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_truncated_file_is_reported_as_such(tmp_path, suffix):
    ref = reference()
    path = tmp_path / f"ckpt{suffix}"
    if suffix == ".pth":
        write_fsfm(ref, path)
    else:
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in ref.state_dict().items()}, str(path))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    write_mean_std(tmp_path)
    with pytest.raises(FsfmBenchError, match="truncated"):
        fsfm_bench.build_backbone("fsfm", checkpoint=str(path), **_tiny())


def test_checkpoint_of_another_architecture_lists_the_keys(tmp_path):
    write_mean_std(tmp_path)
    wide = write_fsfm(reference(embed_dim=96, num_heads=2), tmp_path / "wide.pth")
    with pytest.raises(FsfmBenchError) as err:
        fsfm_bench.build_backbone("fsfm", checkpoint=str(wide), **_tiny())
    assert "another shape" in str(err.value) and "blocks.0.attn.qkv.weight" in str(err.value)
    (tmp_path / "deep").mkdir()
    write_mean_std(tmp_path / "deep")
    deep = write_fsfm(reference(depth=3), tmp_path / "deep" / "deep.pth")
    with pytest.raises(FsfmBenchError) as err:
        fsfm_bench.build_backbone("fsfm", checkpoint=str(deep), **_tiny())
    assert "unexpected keys" in str(err.value) and "blocks.2." in str(err.value)
    shallow = write_fsfm(reference(depth=1), tmp_path / "deep" / "shallow.pth")
    with pytest.raises(FsfmBenchError, match=r"missing keys: blocks\.1\."):
        fsfm_bench.build_backbone("fsfm", checkpoint=str(shallow), **_tiny())


def test_not_a_checkpoint_of_this_layout(tmp_path):
    path = write_fsfm(reference(), tmp_path / "fsfm.pth")
    with pytest.raises(FsfmBenchError, match="not an MCF checkpoint"):
        fsfm_bench.build_backbone("mcf", checkpoint=str(path), **_tiny())
    with pytest.raises(FsfmBenchError, match="does not fit clip .*unexpected keys: decoder_"):
        fsfm_bench.build_backbone("clip", checkpoint=str(path), **_tiny())
    torch.save({"state_dict": {"text.weight": torch.zeros(2)}}, tmp_path / "other.pth")
    with pytest.raises(FsfmBenchError, match="not in the OpenAI-CLIP layout"):
        fsfm_bench.build_backbone("farl", checkpoint=str(tmp_path / "other.pth"), **_tiny())
    torch.save([1, 2, 3], tmp_path / "list.pth")
    with pytest.raises(FsfmBenchError, match="not a state dict"):
        fsfm_bench.build_backbone("mae", checkpoint=str(tmp_path / "list.pth"), **_tiny())


def test_hf_offline_fails_within_seconds_and_says_how_to_get_the_file(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for checkpoint in ("hf://Wolowolo/fsfm-3c/pretrained_models/VF2_ViT-B/checkpoint-400.pth",
                       "fsfm_vit_b16_vf2_400e", "default"):
        start = time.monotonic()
        with pytest.raises(FsfmBenchError) as err:
            fsfm_bench.build_backbone("fsfm", checkpoint=checkpoint)
        assert time.monotonic() - start < 5.0
        msg = str(err.value)
        assert "HF_HUB_OFFLINE" in msg and "huggingface-cli download Wolowolo/fsfm-3c" in msg


def test_https_sources_need_a_sha256(monkeypatch, tmp_path):
    monkeypatch.setenv("FSFM_BENCH_CACHE", str(tmp_path))
    with pytest.raises(UsageError, match="sha256"):
        fsfm_bench.build_backbone("mae", checkpoint="https://example.org/mae.pth")
    with pytest.raises(FsfmBenchError, match="no sha256 is recorded"):
        fsfm_bench.build_backbone("mae", checkpoint="mae_vit_b16_in1k")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.monotonic()
    with pytest.raises(FsfmBenchError, match="offline"):
        fsfm_bench.build_backbone("clip", checkpoint="clip_vit_b16_openai_jit")
    assert time.monotonic() - start < 5.0


def test_card_of_another_backbone_and_unknown_names(tmp_path):
    with pytest.raises(UsageError, match="use backbone=dino"):
        fsfm_bench.build_backbone("fsfm", checkpoint="dino_vit_b16_in1k")
    with pytest.raises(FsfmBenchError, match="file not found"):
        fsfm_bench.build_backbone("fsfm", checkpoint=str(tmp_path / "nope.pth"))
    with pytest.raises(FsfmBenchError, match="Google Drive"):
        fsfm_bench.build_backbone("mcf", checkpoint="default")
    with pytest.raises(UsageError, match="takes no checkpoint"):
        fsfm_bench.build_backbone("vit_scratch", checkpoint="x.pth")


def test_fsfm_mean_std_comes_from_the_file_beside_it_or_is_required(tmp_path):
    path = write_fsfm(reference(), tmp_path / "checkpoint-400.pth")
    with pytest.raises(FsfmBenchError, match="pretrain_ds_mean_std.txt"):
        fsfm_bench.build_backbone("fsfm", checkpoint=str(path), **_tiny())
    model = fsfm_bench.build_backbone("fsfm", checkpoint=str(path), mean=[0.1, 0.2, 0.3], std=[0.4, 0.5, 0.6], **_tiny())
    assert model.mean == (0.1, 0.2, 0.3) and model.std == (0.4, 0.5, 0.6)
    write_mean_std(tmp_path, mean=(0.5482, 0.4234, 0.3655), std=(0.2789, 0.2439, 0.2349))
    model = fsfm_bench.build_backbone("fsfm", checkpoint=str(path), **_tiny())
    assert model.mean == (0.5482, 0.4234, 0.3655) and model.std == (0.2789, 0.2439, 0.2349)
    assert read_mean_std_file(tmp_path / "pretrain_ds_mean_std.txt")[1][2] == 0.2349
    (tmp_path / "pretrain_ds_mean_std.txt").write_text("mean 0.5 std 0.2\n")
    with pytest.raises(FsfmBenchError, match="not a mean/std file"):
        fsfm_bench.build_backbone("fsfm", checkpoint=str(path), **_tiny())


def test_fsfm_bench_pretraining_output_loads_with_explicit_arch_or_its_card(tmp_path):
    """What issue 5's pretraining helper writes: {"model": encoder in FSFM names} + mean/std + card."""
    ref = reference(seed=11)
    enc = {k: v for k, v in ref.state_dict().items() if not k.startswith(("head.", "fc_norm."))}
    from fsfm_bench.io import atomic_torch_save

    atomic_torch_save({"model": enc}, tmp_path / "encoder.pth")
    write_mean_std(tmp_path)
    x = torch.randn(1, 3, 64, 64)
    model = fsfm_bench.build_backbone("fsfm", checkpoint=str(tmp_path / "encoder.pth"), arch=VIT,
                                      embed_dim=64, depth=2, num_heads=2, img_size=64).eval()
    with torch.no_grad():
        assert (model.forward_features(x) - pre_norm_tokens(ref, x)).abs().max().item() < 1e-5
    card = {"name": "demo_fsfm_tiny", "backbone": "fsfm", "layout": "fsfm", "arch": VIT, "input_size": 64,
            "architecture": {"embed_dim": 64, "depth": 2, "num_heads": 2, "patch_size": 16},
            "licence": "Apache-2.0", "created_by": "fsfm-bench pretrain recipe=fsfm"}
    (tmp_path / "card.yaml").write_text(yaml.safe_dump(card))
    model = fsfm_bench.build_backbone("fsfm", checkpoint=str(tmp_path / "encoder.pth")).eval()   # arch from the card
    assert model.embed_dim == 64 and model.num_layers == 2 and model.input_size == 64
    from fsfm_bench.io import sha256_file

    assert model.checkpoint_info["card"] == "demo_fsfm_tiny"
    assert model.checkpoint_info["sha256"] == sha256_file(tmp_path / "encoder.pth")
    with torch.no_grad():
        assert (model.forward_features(x) - pre_norm_tokens(ref, x)).abs().max().item() < 1e-5
    (tmp_path / "card.yaml").unlink()
    (tmp_path / "pretrain_ds_mean_std.txt").unlink()
    (tmp_path / "encoder.card.json").write_text(json.dumps({**card, "mean": [0.1, 0.1, 0.1], "std": [0.2, 0.2, 0.2]}))
    model = fsfm_bench.build_backbone("fsfm", checkpoint=str(tmp_path / "encoder.pth"))
    assert model.mean == (0.1, 0.1, 0.1) and model.embed_dim == 64
    (tmp_path / "encoder.card.json").write_text(json.dumps({**card, "sha256": "0" * 64}))
    with pytest.raises(FsfmBenchError, match="not the one the card describes"):
        fsfm_bench.build_backbone("fsfm", checkpoint=str(tmp_path / "encoder.pth"))
    (tmp_path / "encoder.card.json").write_text(json.dumps({**card, "mean": [0.1, 0.1]}))
    with pytest.raises(FsfmBenchError, match="card .* is invalid at mean"):
        fsfm_bench.build_backbone("fsfm", checkpoint=str(tmp_path / "encoder.pth"))


def test_loads_what_fsfm_bench_pretrain_exports(tmp_path):
    """Integration with fsfm_bench.pretrain.export (issue 5): its three files load with no arch given."""
    export = pytest.importorskip("fsfm_bench.pretrain.export")
    ref = reference(seed=12)

    class _Pretrained:   # the attributes export_encoder reads from the SSL model
        arch_cfg = {"arch": VIT, "embed_dim": 64, "depth": 2, "num_heads": 2, "patch_size": 16, "mlp_ratio": 4.0}
        img_size = 64

        def encoder_state_dict(self):
            return {k: v for k, v in ref.state_dict().items() if not k.startswith(("head.", "fc_norm."))}

    ckpt = export.export_encoder(_Pretrained(), tmp_path / "export", (0.5, 0.4, 0.3), (0.2, 0.2, 0.2), ssl="fsfm",
                                 recipe="fsfm", config_sha256="ab" * 32, manifest_sha256=None, epochs=1)
    model = fsfm_bench.build_backbone("fsfm", checkpoint=str(ckpt)).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert (model.forward_features(x) - pre_norm_tokens(ref, x)).abs().max().item() < 1e-5
    assert model.mean == (0.5, 0.4, 0.3) and model.checkpoint_info["card"] == "fsfm-abababab"
