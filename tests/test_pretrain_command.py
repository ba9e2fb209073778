"""`fsfm-bench pretrain` end to end on a synthetic manifest, the exported checkpoint loading
through build_backbone("fsfm"), the mean/std pass, and the bad-input errors."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np
import pretrain_synth as ps
import pytest
import torch

from fsfm_bench.errors import FsfmBenchError

TINY = ["model.img_size=32", "model.patch_size=8", "model.embed_dim=32", "model.depth=1",
        "model.num_heads=2", "model.decoder_embed_dim=32", "model.decoder_depth=1",
        "model.rep_decoder_depth=1", "data.batch_size=4", "schedule.epochs=1"]


def _run(options: list[str]) -> int:
    from fsfm_bench.commands import pretrain

    return pretrain.main(argparse.Namespace(options=options, debug=True))


def test_cli_pretrain_exports_a_loadable_fsfm_checkpoint(tmp_path):
    manifest = ps.write_manifest(tmp_path / "data", n=8, size=40, map_size=48)
    work = tmp_path / "work"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-m", "fsfm_bench", "pretrain", "recipe=fsfm_tiny",
                           f"data={manifest.parent}", "masking=crfr_p", f"work_dir={work}", *TINY],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    export = work / "export"
    sd = torch.load(export / "checkpoint-encoder.pth", weights_only=True)["model"]
    assert "blocks.0.attn.qkv.weight" in sd and "cls_token" in sd and "norm.weight" in sd
    assert not [k for k in sd if k.startswith(("decoder", "rep_decoder", "mask_token", "projector"))]
    card = json.loads((export / "card.json").read_text())
    from fsfm_bench.schemas import validate

    validate(card, "checkpoint_card", "card")
    mean_std = json.loads((export / "pretrain_ds_mean_std.txt").read_text())
    assert card["mean"] == mean_std["mean"] and card["meta"]["recipe"] == "fsfm_tiny"
    assert len(card["meta"]["manifest_sha256"]) == 64
    assert card["meta"]["config_sha256"] == (work / "config.sha256").read_text().strip()
    # the images were resized 40 -> 32 (bicubic): mean/std of what the model saw, not of the files
    assert 0.3 < mean_std["mean"][0] < 0.7 and 0.05 < mean_std["std"][0] < 0.4
    import fsfm_bench

    try:
        backbone = fsfm_bench.build_backbone("fsfm", checkpoint=str(export / "checkpoint-encoder.pth"))
    except fsfm_bench.errors.UsageError:
        pytest.skip("fsfm backbone plugin not installed")
    assert tuple(backbone.mean) == pytest.approx(tuple(mean_std["mean"]))
    vsd = backbone.vit.state_dict()
    assert torch.equal(vsd["blocks.0.attn.qkv.weight"], sd["blocks.0.attn.qkv.weight"])
    assert backbone(torch.randn(1, 3, 32, 32)).shape == (1, 32)


def test_mean_std_one_pass_matches_numpy_and_is_cached(tmp_path):
    from PIL import Image

    from fsfm_bench.pretrain.data import compute_mean_std

    manifest = ps.write_manifest(tmp_path / "d", n=5, size=32)
    mean, std = compute_mean_std(manifest, 32, cache_dir=str(tmp_path / "cache"))
    arr = np.stack([np.asarray(Image.open(tmp_path / "d" / "images" / f"{i}.png"), dtype=np.float64) / 255
                    for i in range(5)])
    assert np.allclose(mean, arr.mean(axis=(0, 1, 2)), atol=1e-5)
    assert np.allclose(std, arr.std(axis=(0, 1, 2)), atol=1e-5)
    cached = list((tmp_path / "cache").glob("mean_std-*.json"))
    assert len(cached) == 1
    (tmp_path / "d" / "images" / "0.png").unlink()       # a second call must not read images again
    assert compute_mean_std(manifest, 32, cache_dir=str(tmp_path / "cache")) == (mean, std)


def test_dataset_resizes_maps_nearest_and_rejects_bad_maps(tmp_path):
    from fsfm_bench.pretrain.data import ParsingManifestDataset, load_parsing

    manifest = ps.write_manifest(tmp_path / "a", n=2, size=32, map_size=64)
    item = ParsingManifestDataset(str(manifest), img_size=32)[0]
    assert item["inputs"].shape == (3, 32, 32) and item["parsing"].shape == (32, 32)
    full = torch.from_numpy(np.load(tmp_path / "a" / "parsing" / "0.npy")[0])
    assert torch.equal(item["parsing"], full[::2, ::2])            # nearest: every other pixel
    with pytest.raises(FsfmBenchError, match="expected 32x32"):
        load_parsing(tmp_path / "a" / "parsing" / "0.npy", 32, strict_size=True)
    bad = ps.write_manifest(tmp_path / "b", n=2, size=32, bad_label=True)
    with pytest.raises(FsfmBenchError, match=r"labels \[42\] outside LaPa 0..10"):
        ParsingManifestDataset(str(bad), img_size=32)[0]
    np.save(tmp_path / "b" / "parsing" / "1.npy", np.zeros((2, 3, 32, 32), np.int8))
    with pytest.raises(FsfmBenchError, match="shape"):
        ParsingManifestDataset(str(bad), img_size=32)[1]
    nomaps = ps.write_manifest(tmp_path / "c", n=3, size=32, with_maps=False)
    with pytest.raises(FsfmBenchError, match="3 of 3 manifest rows have no parsing map"):
        ParsingManifestDataset(str(nomaps), img_size=32)


def test_model_rejects_missing_or_misfit_maps():
    from fsfm_bench.pretrain.factory import build_pretrainer

    model = build_pretrainer(ps.TINY_MODEL, {}, {"name": "random"})
    with pytest.raises(FsfmBenchError, match="no parsing maps"):
        model(torch.randn(2, 3, 32, 32), None)
    with pytest.raises(FsfmBenchError, match="must both be 32x32"):
        model(torch.randn(2, 3, 32, 32), torch.zeros(2, 16, 16, dtype=torch.int8))


def test_unknown_data_and_keys_give_clear_errors(tmp_path):
    from fsfm_bench.errors import UsageError

    with pytest.raises(FsfmBenchError, match="fsfm-bench prepare dataset=nosuchset"):
        _run(["recipe=fsfm_tiny", "data=nosuchset", f"work_dir={tmp_path}"])
    with pytest.raises(UsageError, match="unknown config key"):
        _run(["recipe=fsfm_tiny", "optim.blrr=1"])


def test_repeated_nonfinite_losses_stop_with_a_resumable_checkpoint(tmp_path):
    from fsfm_bench.pretrain.step import NonFiniteLossError

    manifest = ps.write_manifest(tmp_path / "data", n=8, size=32)
    work = tmp_path / "work"
    tiny = [o for o in TINY if not o.startswith("data.batch_size")]
    opts = ["recipe=fsfm_tiny", f"data={manifest}", "masking=random", f"work_dir={work}", *tiny,
            "data.batch_size=2", "data.mean=[0.5,0.5,0.5]", "data.std=[0,0,0]", "max_nonfinite=2"]
    with pytest.raises(NonFiniteLossError, match="2 consecutive batches"):
        _run(opts)
    ckpt = work / "nonfinite_stop.pth"
    assert ckpt.is_file()
    assert (work / "last_checkpoint").read_text().strip() == "nonfinite_stop.pth"   # relative: the folder may move
    from fsfm_bench.training.checkpointing import load_run_checkpoint

    state = load_run_checkpoint(ckpt)                      # what a resume loads: no arbitrary unpickling
    assert int(state["state_dict"]["num_micro_batches"]) == 2


def test_out_of_memory_suggests_a_batch_size(tmp_path, monkeypatch):
    import fsfm_bench.pretrain.runner as runner_mod

    class _OOMRunner:
        def train(self):
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(runner_mod, "build_runner", lambda *a, **k: _OOMRunner())
    manifest = ps.write_manifest(tmp_path / "data", n=4, size=32)
    with pytest.raises(FsfmBenchError, match=r"data.batch_size=2 optim.accum_iter=2"):
        _run(["recipe=fsfm_tiny", f"data={manifest}", f"work_dir={tmp_path / 'w'}", *TINY,
              "data.mean=[0.5,0.5,0.5]", "data.std=[0.2,0.2,0.2]"])
