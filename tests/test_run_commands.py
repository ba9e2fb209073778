"""``fsfm-bench predict`` (one score per image or video, faces detected as prepare does) and
``fsfm-bench eval`` (a protocol's evaluation of a checkpoint fine-tuned elsewhere) on a
self-describing fine-tuned checkpoint."""
from __future__ import annotations

import copy
import json

import cv2
import numpy as np
import torch
from prepare_helpers import face, face_video
from run_testutil import TINY, make_prepared, synth_config

from fsfm_bench.cli import main
from fsfm_bench.finetune.model import build_classifier, load_finetuned
from fsfm_bench.protocols.evaluate import evaluate
from fsfm_bench.results import read_result


def _checkpoint(path, policy="last"):
    torch.manual_seed(0)
    model_cfg = {"backbone": copy.deepcopy(TINY), "adapter": {"type": "fsfm_head"}, "mean": [0.5] * 3, "std": [0.5] * 3}
    model = build_classifier(model_cfg)
    with torch.no_grad():
        model.adapter.head.weight.normal_(0, 1.0)        # a non-trivial head: scores differ per input
    torch.save({"state_dict": model.state_dict(), "meta": {"model": model_cfg, "img_size": 32, "policy": policy}}, path)
    return model


def test_predict_prints_one_score_per_file(tmp_path, capsys):
    ckpt = tmp_path / "model.pth"
    _checkpoint(ckpt)
    image = tmp_path / "face.png"
    cv2.imwrite(str(image), face("grace_hopper", 200))
    video = face_video(tmp_path / "face.mp4", n=6, size=(320, 240))
    noise = tmp_path / "noise.png"
    cv2.imwrite(str(noise), np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8))
    files = [str(image), str(video), str(noise)]
    code = main(["predict", f"checkpoint={ckpt}", "frames=3", *files])
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 1 and len(lines) == 3                     # the face-less file fails, the others score
    assert lines[0].startswith("P(fake)=0.") and lines[0].endswith(f"  {image}")
    assert lines[2] == f"P(fake)=n/a     {noise}: no face detected in 1 frame(s)"
    assert main(["predict", f"checkpoint={ckpt}", "frames=3", "--json", *files]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert [r["file"] for r in rows] == files and rows[2]["p_fake"] is None and "no face" in rows[2]["error"]
    assert f"P(fake)={rows[0]['p_fake']:.4f}  {image}" == lines[0]
    assert 0.0 <= rows[1]["p_fake"] <= 1.0 and rows[0]["p_fake"] != rows[1]["p_fake"]
    assert main(["predict", f"checkpoint={ckpt}", "frames=3", "--csv", *files]) == 1
    table = capsys.readouterr().out.strip().splitlines()
    assert table[0] == "file,p_fake,error" and table[1] == f"{image},{rows[0]['p_fake']:.6f},"
    model, meta = load_finetuned(str(ckpt))
    assert meta["img_size"] == 32 and model.adapter.__class__.__name__ == "FSFMHead"


def test_eval_scores_a_finetuned_checkpoint_without_training(tmp_path):
    data = make_prepared(tmp_path / "data")
    cfg = synth_config(tmp_path, data)
    ckpt = tmp_path / "external.pth"
    _checkpoint(ckpt, policy="last")
    (outcome,) = evaluate(cfg, str(ckpt), seed=3, log=lambda s: None)
    result = read_result(outcome.result_path)
    assert result["selection_policy"] == "last" and result["seeds"]["seed"] == 3
    assert result["results"]["unseen"]["frame"]["auc"]["n"] == 24 and outcome.forwarded == 24
    assert not list((tmp_path / "runs").rglob("selection.json"))          # nothing was trained
    (again,) = evaluate(cfg, str(ckpt), seed=3, log=lambda s: None)
    assert again.forwarded == 0


def test_eval_of_a_runs_checkpoint_cites_the_weights_it_was_finetuned_from(tmp_path):
    """Evaluating a run's own checkpoint again describes the same initial weights as the run's result
    (checkpoint.sha256), and the fine-tuned file as checkpoint.finetuned: it is that run's row again,
    not a new "init <fine-tuned hash>" row. A checkpoint written before the initial weights were
    recorded in its meta takes them from an earlier result scored with that very file."""
    from fsfm_bench.finetune.standins import tiny_vit
    from fsfm_bench.io import sha256_file
    from fsfm_bench.protocols.run import run

    data = make_prepared(tmp_path / "data")
    init = tmp_path / "init.pth"
    torch.manual_seed(1)
    torch.save(tiny_vit(**{k: v for k, v in TINY.items() if k != "type"}).state_dict(), init)
    cfg = synth_config(tmp_path, data, epochs=1, warmup_epochs=0)
    cfg["backbone"]["checkpoint"] = str(init)
    (trained,) = run(copy.deepcopy(cfg), log=lambda s: None, progress=False)
    ran = read_result(trained.result_path)
    assert ran["checkpoint"]["sha256"] == sha256_file(init)
    ckpt = trained.checkpoint
    (outcome,) = evaluate(copy.deepcopy(cfg), str(ckpt), log=lambda s: None)
    again = read_result(outcome.result_path)
    assert again["checkpoint"]["sha256"] == ran["checkpoint"]["sha256"] == sha256_file(init)
    assert again["checkpoint"]["card"] == ran["checkpoint"]["card"]
    assert again["checkpoint"]["finetuned"]["sha256"] == sha256_file(ckpt) == ran["checkpoint"]["finetuned"]["sha256"]
    assert again["backbone"]["architecture"] == ran["backbone"]["architecture"]
    assert again["backbone"]["normalization"] == ran["backbone"]["normalization"]    # the run's own record
    assert ran["backbone"]["normalization"]["source"] != "finetuned-checkpoint"
    assert outcome.forwarded == 0                                 # the run's scores, from the cache

    legacy = tmp_path / "legacy.pth"                              # written before meta["pretrained"]
    state = torch.load(ckpt, weights_only=True)
    state["meta"].pop("pretrained")
    state["meta"].pop("normalization")                            # ... and before the mean/std's source
    torch.save(state, legacy)
    alone = copy.deepcopy(cfg)
    alone["leaderboard"]["results_dir"] = str(tmp_path / "elsewhere")
    logs = []
    (unknown,) = evaluate(alone, str(legacy), log=logs.append)
    assert read_result(unknown.result_path)["checkpoint"]["sha256"] is None   # no result ever scored this file
    legacy_norm = read_result(unknown.result_path)["backbone"]["normalization"]
    assert legacy_norm == {**ran["backbone"]["normalization"], "source": "finetuned-checkpoint"}
    assert any("does not record the weights" in line for line in logs)
    ran["checkpoint"]["finetuned"]["sha256"] = sha256_file(legacy)          # as the old run's result cites it
    (tmp_path / "results" / "old_run.json").write_text(json.dumps(ran))
    (found,) = evaluate(copy.deepcopy(cfg), str(legacy), log=lambda s: None)
    assert read_result(found.result_path)["checkpoint"]["sha256"] == sha256_file(init)


def test_a_finetuned_checkpoint_rebuilds_the_arch_its_card_chose(tmp_path):
    """A checkpoint card may choose the arch and sizes: here a CLIP-style ViT (a pre-norm the fsfm
    spec's default arch lacks) with mlp_ratio 2. The fine-tuned file records what was built, so
    predict and eval rebuild that model, not the spec's default, from the file alone."""
    import yaml
    from backbones_testutil import CLIP_VIT, encoder_sd, reference, write_mean_std

    from fsfm_bench.io import atomic_torch_save
    from fsfm_bench.protocols.run import run

    sizes = {"embed_dim": 32, "depth": 2, "num_heads": 2, "patch_size": 8, "mlp_ratio": 2.0}
    enc = tmp_path / "encoder"
    enc.mkdir()
    atomic_torch_save({"model": encoder_sd(reference(CLIP_VIT, img_size=32, **sizes))}, enc / "encoder.pth")
    write_mean_std(enc)
    (enc / "card.yaml").write_text(yaml.safe_dump({
        "name": "tiny_clip_mlp2", "backbone": "fsfm", "layout": "fsfm", "arch": CLIP_VIT, "input_size": 32,
        "architecture": sizes, "licence": "Apache-2.0", "created_by": "tests"}))
    cfg = synth_config(tmp_path, make_prepared(tmp_path / "data"), epochs=1, warmup_epochs=0)
    cfg["backbone"] = {"type": "fsfm", "checkpoint": str(enc / "encoder.pth"), "arch": None, "mean": None, "std": None}
    (trained,) = run(copy.deepcopy(cfg), log=lambda s: None, progress=False)

    model, meta = load_finetuned(str(trained.checkpoint))       # no checkpoint, no card: the file alone
    vit = model.backbone.vit
    assert meta["model"]["backbone"]["arch"] == CLIP_VIT and meta["model"]["backbone"]["mlp_ratio"] == 2.0
    assert vit.blocks[0].mlp.fc1.out_features == 64 and not isinstance(vit.norm_pre, torch.nn.Identity)
    (outcome,) = evaluate(copy.deepcopy(cfg), str(trained.checkpoint), log=lambda s: None)
    assert outcome.forwarded == 0                                 # the same model: the run's cached scores
    again, ran = read_result(outcome.result_path), read_result(trained.result_path)
    assert again["results"]["unseen"]["frame"]["auc"]["value"] == ran["results"]["unseen"]["frame"]["auc"]["value"]


def test_a_checkpoint_whose_weights_are_not_of_the_model_it_names_is_one_clear_error(tmp_path):
    import pytest

    from fsfm_bench.errors import FsfmBenchError

    good = tmp_path / "good.pth"
    _checkpoint(good)
    state = torch.load(good, weights_only=True)
    state["meta"]["model"]["backbone"]["embed_dim"] = 48            # the weights are 32 wide
    torch.save(state, tmp_path / "wider.pth")
    with pytest.raises(FsfmBenchError, match=r"wider.pth: weights do not match the model it describes "
                                             r"\(size mismatch for backbone\..*torch.Size\(\[.*32"):
        load_finetuned(str(tmp_path / "wider.pth"))
    state["meta"]["model"]["backbone"]["embed_dim"] = 32
    state["state_dict"]["backbone.extra.weight"] = torch.zeros(1)
    torch.save(state, tmp_path / "extra.pth")
    with pytest.raises(FsfmBenchError, match=r"unexpected \['backbone.extra.weight'\]"):
        load_finetuned(str(tmp_path / "extra.pth"))
