"""``fsfm-bench predict`` (one score per image or video, faces detected as prepare does) and
``fsfm-bench eval`` (a protocol's evaluation of a checkpoint fine-tuned elsewhere) on a
self-describing fine-tuned checkpoint."""
from __future__ import annotations

import copy

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
    code = main(["predict", f"checkpoint={ckpt}", "frames=3", str(image), str(video), str(noise)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 1 and len(lines) == 3                     # the face-less file fails, the others score
    scores = [line.split("\t") for line in lines]
    assert scores[0][1] == str(image) and 0.0 <= float(scores[0][0]) <= 1.0
    assert scores[1][1] == str(video) and 0.0 <= float(scores[1][0]) <= 1.0
    assert scores[2][0] == "-" and "no face" in scores[2][2]
    assert float(scores[0][0]) != float(scores[1][0])
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
