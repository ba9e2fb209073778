"""The data side of the paper-faithful protocols (issue 15 items 3, 4, 6, 8; docs/protocol-fidelity.md).

- cdfd@2 keeps fine-tuning crops at their native size (cdfd@1: 224 px) and resizes at load with PIL;
- WildDeepfake test frames are every provided face frame, kept whole (no re-detection);
- the FAS frames are 6 and 6 + T/2; the MTCNN chip puts the eyes where the official chip does;
- CelebA-Spoof can be restricted to the published subset lists;
- cdfas@2 trains on every source video and selects like the MCIO code; diff@2 normalises with ImageNet.
"""
from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pytest
from dataset_layouts import build_celeba_spoof, build_ffpp, build_wdf
from prepare_helpers import write_video
from run_layouts import _frame, materialize

from fsfm_bench.config import compose
from fsfm_bench.data.faces import MTCNN_CHIP_MEAN, mtcnn_chip_matrix
from fsfm_bench.data.manifest import read_manifest
from fsfm_bench.data.video import sample_indices
from fsfm_bench.errors import UsageError
from fsfm_bench.finetune.datasets import eval_preprocess
from fsfm_bench.plugins import get
from fsfm_bench.protocols.data import DataResolver
from fsfm_bench.protocols.plan import model_config, resolve_protocols


def _isolate(monkeypatch, tmp_path, names=("FFPP", "WILDDEEPFAKE", "CELEBA_SPOOF")):
    monkeypatch.setenv("FSFM_BENCH_DATASETS", str(tmp_path / "none.yaml"))
    for name in names:
        monkeypatch.delenv(f"FSFM_BENCH_ROOT_{name}", raising=False)


def _ffpp(tmp_path):
    root = build_ffpp(tmp_path / "ffpp", {"train": [("000", "001")], "val": [("002", "003")], "test": [("004", "005")]})
    for path in sorted(root.rglob("*.mp4")):
        path.unlink()
        write_video(path, [_frame("grace_hopper", i % 8, 40 if "manipulated" in path.as_posix() else 0)
                           for i in range(5)])
    return root


def _prepared_sides(protocol: str, tmp_path, root) -> set[tuple[int, int]]:
    cfg = compose(protocol=protocol, overrides={"data.roots.ffpp": str(root)}).to_dict()
    cfg["data"]["cache_dir"] = str(tmp_path / f"cache-{protocol}")
    cfg["data"]["prepare"].update(parser="geometric", detect_max_side=200, progress=False)
    for src in (*cfg["protocol"]["train"], cfg["protocol"]["validation"]):
        src["frames_per_video"] = {"real": 2, "fake": 1}
    (proto,) = resolve_protocols(cfg)
    DataResolver(cfg, progress=False).prepare(proto, only={"ffpp"})
    (folder,) = sorted((tmp_path / f"cache-{protocol}" / "prepared").iterdir())
    rows = read_manifest(folder / "manifest.jsonl")
    assert rows
    return {cv2.imread(str(folder / r["path"])).shape[:2] for r in rows}


def test_fine_tuning_crops_are_kept_at_native_size(tmp_path, monkeypatch):
    _isolate(monkeypatch, tmp_path)
    root = _ffpp(tmp_path)
    assert _prepared_sides("cdfd@1", tmp_path, root) == {(224, 224)}          # @1: resized at prepare time
    native = _prepared_sides("cdfd@2", tmp_path, root)
    # @2: the 1.3x dlib box as cut from the 104 x 112 frames (square, clipped to the frame), never upsampled
    assert native and all(h == w and 40 <= h <= 104 for h, w in native)


def test_wilddeepfake_frames_are_every_provided_face_kept_whole(tmp_path, monkeypatch):
    _isolate(monkeypatch, tmp_path)
    root = build_wdf(tmp_path / "wdf", {"real_train": {1: 1}, "fake_train": {1: 1},
                                        "real_test": {1: 2}, "fake_test": {1: 2}}, frames=3)
    materialize(root)
    cfg = compose(protocol="cdfd@2", overrides={"data.roots.wilddeepfake": str(root)}).to_dict()
    cfg["data"]["cache_dir"] = str(tmp_path / "cache")
    cfg["data"]["prepare"].update(parser="geometric", progress=False)
    (proto,) = resolve_protocols(cfg)
    (wdf,) = [t for t in proto.targets if t.name == "WDF"]
    rows, prepared = DataResolver(cfg, progress=False).rows_for(wdf)
    assert len(rows) == 4 * 3                                  # every frame of every sequence
    assert {r["meta"]["detector"] for r in rows} == {"whole_image"}
    for r in rows:
        assert cv2.imread(r["path"]).shape[:2] == (104, 112)   # the provided face frame as it is


def test_eval_resize_with_pil_matches_torchvision_on_pil_images():
    from PIL import Image
    from torchvision import transforms as T

    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (300, 260, 3), dtype=np.uint8)
    pil = Image.fromarray(img)
    crop = T.Compose([T.Resize(256, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(224)])(pil)
    plain = T.Resize((224, 224), interpolation=T.InterpolationMode.BICUBIC)(pil)
    assert np.array_equal(eval_preprocess(img, 224, "resize_crop", "pil_bicubic"), np.asarray(crop))
    assert np.array_equal(eval_preprocess(img, 224, "plain", "pil_bicubic"), np.asarray(plain))
    # OpenCV's cubic does not antialias a downscale: another image
    assert not np.array_equal(eval_preprocess(img, 224, "plain", "bicubic"), np.asarray(plain))


def test_fas_frames_are_6_and_6_plus_half_the_length():
    assert sample_indices(100, 2, sampling="mcio") == [6, 56]
    assert sample_indices(121, 2, sampling="mcio") == [6, 66]
    assert sample_indices(5, 2, sampling="mcio") == [4]                          # clipped to the last frame
    assert sample_indices(100, 2) == [0, 99]                                     # @1: first and last
    with pytest.raises(UsageError, match="frame_sampling must be one of uniform, mcio"):
        sample_indices(100, 2, sampling="middle")


def test_mtcnn_chip_puts_the_eyes_where_the_official_chip_does():
    size, padding = 224, 0.37
    target = (padding + MTCNN_CHIP_MEAN) / (2 * padding + 1) * size
    angle, scale = math.radians(12.0), 0.6
    rot = scale * np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    points = (target - 100.0) @ rot.T + [310.0, 205.0]                        # a tilted, smaller face
    m = mtcnn_chip_matrix(points, size, padding)
    mapped = points @ m[:, :2].T + m[:, 2]
    eyes = (mapped[0] + mapped[1]) / 2
    assert eyes == pytest.approx([0.5 * size, 0.4 * size], abs=1e-4)          # eye midpoint at (0.5, 0.4)
    assert mapped[0, 1] == pytest.approx(mapped[1, 1], abs=1e-4)              # the tilt is undone
    assert np.linalg.norm(mapped[1] - mapped[0]) == pytest.approx(np.linalg.norm(target[1] - target[0]), rel=1e-6)


def test_celeba_spoof_subset_lists_keep_only_the_listed_images(tmp_path):
    labels = build_celeba_spoof(tmp_path / "celeba", {"train": ["1", "2"], "test": ["3"]})
    train = sorted(labels["train"])
    (tmp_path / "celeba" / "celeb_real_train.txt").write_text("frame/" + train[0].replace("/", "_") + "\n")
    (tmp_path / "celeba" / "celeb_fake_train.txt").write_text(train[-1].replace("/", "_") + " 0\n")
    adapter = get("datasets", "celeba_spoof")()
    items = adapter.index(tmp_path / "celeba", splits=["train"],
                          subset_lists=["celeb_real_train.txt", "celeb_fake_train.txt"])
    assert sorted(it.path for it in items) == [train[0], train[-1]]
    assert len(adapter.index(tmp_path / "celeba", splits=["train"])) == len(train)


def test_cdfas_v2_trains_on_every_source_video_and_selects_like_the_mcio_code():
    (m,) = get("protocols", "cdfas@2").resolve("M")
    assert m.validation is None and m.policy == "target_oracle" and m.threshold == "target_eer_grid"
    assert m.selection["oracle_ties"] == "later" and m.selection["oracle_threshold"] == "target_eer_grid"
    assert m.metrics[2] == "tpr_at_fpr_live@0.01"
    assert {s.prepare.get("frame_sampling") for s in m.train if s.dataset != "celeba_spoof"} == {"mcio"}
    cfg = compose(protocol="cdfas@2", overrides={"target": "M", "selection": "source_val"}).to_dict()
    with pytest.raises(UsageError, match="has no source validation"):
        resolve_protocols(cfg)


def test_diff_v2_normalises_with_imagenet_and_selects_per_subset():
    cfg = compose(protocol="diff@2", backbone="fsfm").to_dict()
    protos = resolve_protocols(cfg)
    assert [(p.variant, p.validation.manipulations, p.targets[0].name) for p in protos] == [
        ("T2I", ("real", "T2I"), "T2I"), ("I2I", ("real", "I2I"), "I2I"), ("FS", ("real", "FS"), "FS"),
        ("FE", ("real", "FE"), "FE")]
    mcfg = model_config(cfg, protos[0], {"type": "fsfm"}, {"mean": [0.5] * 3, "std": [0.5] * 3})
    assert mcfg["mean"] == [0.485, 0.456, 0.406] and mcfg["std"] == [0.229, 0.224, 0.225]
    fsvfm = compose(protocol="diff_fsvfm", backbone="fsfm").to_dict()
    assert model_config(fsvfm, resolve_protocols(fsvfm)[0], {"type": "fsfm"},
                        {"mean": [0.5] * 3, "std": [0.5] * 3})["mean"] == [0.5] * 3
    assert (fsvfm["finetune"]["layer_decay"], fsvfm["finetune"]["weight_decay"], fsvfm["finetune"]["blr"]) == \
        (0.90, 0.03, 1e-4)
    assert json.dumps(cfg["eval"]["resize"]) == '"resize_crop"'
