"""`prepare`: manifests, failure records, bad media, resume after a kill, the demo dataset."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from prepare_helpers import face, face_video, noise_video

from fsfm_bench.data import prepare as prep
from fsfm_bench.data.items import MediaItem
from fsfm_bench.data.manifest import read_manifest
from fsfm_bench.errors import FsfmBenchError, UsageError


def _opts(**kw):
    base = dict(frames=4, size=48, parser="geometric", detect_max_side=1920, progress=False)
    base.update(kw)
    return prep.PrepareOptions(**base)


@pytest.fixture()
def messy(tmp_path):
    """A dataset root with good and bad media, and its items (what an adapter would return)."""
    root = tmp_path / "root"
    (root / "v").mkdir(parents=True)
    face_video(root / "v" / "real1.mp4", n=12)
    face_video(root / "v" / "fake1.mp4", n=12, name="obama")
    noise_video(root / "v" / "noface.mp4")
    (root / "v" / "empty.mp4").write_bytes(b"")
    (root / "v" / "text.mp4").write_text("definitely not a video\n" * 20)
    (root / "i").mkdir()
    bgr = face("obama", 360)
    cv2.imwrite(str(root / "i" / "gray.png"), cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))
    cv2.imwrite(str(root / "i" / "rgba.png"), np.dstack([bgr, np.full(bgr.shape[:2], 255, np.uint8)]))
    cv2.imwrite(str(root / "i" / "deep.png"), bgr.astype(np.uint16) * 257)
    wide = np.full((900, 10000, 3), 100, np.uint8)
    f = face("grace_hopper", 800)
    wide[50:850, 6000:6000 + f.shape[1]] = f
    cv2.imwrite(str(root / "i" / "wide.jpg"), wide)

    def item(path, kind, label, split="test", vid=None):
        return MediaItem(path=path, kind=kind, label=label, video_id=vid or Path(path).stem, split=split,
                         source="mini", manipulation="real" if label == 0 else "Deepfakes")
    items = [item("v/real1.mp4", "video", 0, "train"), item("v/fake1.mp4", "video", 1, "train"),
             item("v/noface.mp4", "video", 0), item("v/empty.mp4", "video", 1), item("v/text.mp4", "video", 1),
             item("i/gray.png", "image", 0), item("i/rgba.png", "image", 0), item("i/deep.png", "image", 0),
             item("i/wide.jpg", "image", 0)]
    return root, items


def test_manifest_failures_and_summary(messy, tmp_path):
    root, items = messy
    out = tmp_path / "out"
    summary = prep.prepare(items, root, out, _opts(), dataset="mini")
    rows = read_manifest(out / "manifest.jsonl")               # schema-validated
    by_media = {}
    for r in rows:
        by_media.setdefault(r["media"], []).append(r)
    assert len(by_media["v/real1.mp4"]) == 4 and len(by_media["v/fake1.mp4"]) == 4
    assert [r["frame_index"] for r in by_media["v/real1.mp4"]] == [0, 3, 7, 11]     # linspace(0, 11, 4)
    assert {r["label"] for r in by_media["v/fake1.mp4"]} == {1}
    for media in ("i/gray.png", "i/rgba.png", "i/deep.png", "i/wide.jpg"):
        assert len(by_media[media]) == 1, media
    for r in rows:
        img = cv2.imread(str(out / r["path"]))
        par = np.load(out / r["parsing"])
        assert img.shape == (48, 48, 3) and par.shape == (48, 48) and par.dtype == np.int8
        assert par.min() >= 0 and par.max() <= 10 and (par > 0).mean() > 0.3
        assert r["meta"]["parser"] == "geometric" and len(r["box"]) == 4
    assert all(r["meta"]["reader"] == summary["video_reader"] for r in by_media["v/real1.mp4"])
    wide_box = by_media["i/wide.jpg"][0]["box"]
    assert 6000 < (wide_box[0] + wide_box[2]) / 2 < 6000 + 700          # full-resolution coordinates

    failures = [json.loads(line) for line in (out / "failures.jsonl").read_text().splitlines()]
    why = {(f["media"], f["stage"]) for f in failures}
    assert ("v/empty.mp4", "decode") in why and ("v/text.mp4", "decode") in why
    assert sum(f["media"] == "v/noface.mp4" and f["stage"] == "detect" for f in failures) == 4
    assert any("zero-byte" in f["reason"] for f in failures if f["media"] == "v/empty.mp4")
    assert summary["items"]["failed_to_decode"] == 2
    assert summary["frames"]["no_face"] == 4 and summary["frames"]["rows"] == len(rows) == 12
    assert summary["failures"] == len(failures) == 6
    assert json.loads((out / "summary.json").read_text())["manifest_sha256"] == summary["manifest_sha256"]


def test_resume_after_crash_skips_finished_items(messy, tmp_path, monkeypatch):
    root, items = messy
    out = tmp_path / "out"
    calls = []
    real = prep.process_item

    def crashing(item_dict, r, o):
        if len(calls) == 3:
            raise KeyboardInterrupt("simulated kill")
        calls.append(item_dict["path"])
        return real(item_dict, r, o)

    monkeypatch.setattr(prep, "process_item", crashing)
    with pytest.raises(KeyboardInterrupt):
        prep.prepare(items, root, out, _opts(), dataset="mini")
    assert not (out / "manifest.jsonl").exists()
    assert len(list((out / prep.STATE_DIR / "real").glob("*.json"))) == 3
    assert not list(out.rglob("*.tmp"))                     # nothing half-written left behind

    monkeypatch.setattr(prep, "process_item", real)
    resumed = []
    monkeypatch.setattr(prep, "process_item", lambda d, r, o: resumed.append(d["path"]) or real(d, r, o))
    summary = prep.prepare(items, root, out, _opts(), dataset="mini")
    assert summary["items"]["skipped_already_done"] == 3
    assert sorted(resumed) == sorted(i.path for i in items[3:])
    fresh = prep.prepare(items, root, tmp_path / "fresh", _opts(), dataset="mini")
    assert fresh["manifest_sha256"] == summary["manifest_sha256"]     # resumed == uninterrupted
    with pytest.raises(FsfmBenchError, match="different settings"):
        prep.prepare(items, root, out, _opts(size=64), dataset="mini")


def test_cli_usage_errors(tmp_path):
    from fsfm_bench.cli import main

    assert main(["prepare", "dataset=demo", f"out={tmp_path}", "frame=3"]) == 2      # typo: did-you-mean
    assert main(["prepare", "dataset=demo", f"out={tmp_path}", "detector=dlibhog"]) == 2
    assert main(["prepare", "dataset=demo"]) == 2
    with pytest.raises(UsageError, match="Did you mean: frames"):
        from fsfm_bench.commands.prepare import split_options
        split_options({"frame": 3})


def test_frame_folder_items_and_native_size(tmp_path):
    """A folder of frames (WildDeepfake style): linspace over the sorted files; size=None keeps native."""
    root = tmp_path / "root"
    clip = root / "fake_test" / "12"
    clip.mkdir(parents=True)
    src = face("grace_hopper", 200)
    for i in range(7):
        canvas = np.full((240, 320, 3), 80, np.uint8)
        canvas[20:220, 40 + i * 4:40 + i * 4 + src.shape[1]] = src[:, : min(src.shape[1], 280 - i * 4)]
        cv2.imwrite(str(clip / f"{i}.png"), canvas)
    items = [MediaItem(path="fake_test/12", kind="frames", label=1, video_id="fake_test/12", split="test",
                       source="wdf_mini", manipulation="unknown")]
    summary = prep.prepare(items, root, tmp_path / "out", _opts(frames=3, size=None), dataset="wdf_mini")
    rows = read_manifest(tmp_path / "out" / "manifest.jsonl")
    assert [r["frame_index"] for r in rows] == [0, 3, 6] and summary["failures"] == 0
    for r in rows:
        side = r["box"][2] - r["box"][0]
        img = cv2.imread(str(tmp_path / "out" / r["path"]))
        assert img.shape[:2] == (side, side) and np.load(tmp_path / "out" / r["parsing"]).shape == (side, side)
