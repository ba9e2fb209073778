"""Per-class frames per video: prepare samples exactly N real / M fake frames (linspace), the protocol
data layer asks for exactly the protocol's counts (cdfd: 128 real / 32 fake, no prepare-then-subsample),
the resume guard covers the counts, and equal settings reuse one prepared folder."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from dataset_layouts import build_ffpp
from prepare_helpers import write_video
from run_layouts import _frame

from fsfm_bench.config import compose
from fsfm_bench.data import prepare as prep
from fsfm_bench.data.items import MediaItem
from fsfm_bench.data.manifest import read_manifest
from fsfm_bench.errors import FsfmBenchError, UsageError
from fsfm_bench.protocols.data import DataResolver, _frames_needed
from fsfm_bench.protocols.plan import resolve_protocols

T = 13                                                 # frames in every miniature video


def _linspace(n: int) -> list[int]:
    return np.linspace(0, T - 1, n, dtype=int).tolist()


def _video(path: Path, fake: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    write_video(path, [_frame("grace_hopper", i % 8, 40 if fake else 0) for i in range(T)])


def _opts(**kw):
    base = dict(size=32, parser="geometric", detect_max_side=200, progress=False)
    base.update(kw)
    return prep.PrepareOptions(**base)


def _by_media(rows):
    out: dict[str, list[int]] = {}
    for r in rows:
        out.setdefault(r["media"], []).append(r["frame_index"])
    return {k: sorted(v) for k, v in out.items()}


def test_identity_is_canonical_and_backward_compatible():
    assert prep.PrepareOptions(frames=32).identity()["frames"] == 32
    assert "frames_real" not in prep.PrepareOptions(frames=32).identity()           # old folders still resume
    assert prep.PrepareOptions(frames=32, frames_fake=32).identity() == prep.PrepareOptions(frames=32).identity()
    a = prep.PrepareOptions(frames=32, frames_real=128).identity()
    assert a == prep.PrepareOptions(frames=128, frames_fake=32).identity()
    assert "frames" not in a and (a["frames_real"], a["frames_fake"]) == (128, 32)
    assert a != prep.PrepareOptions(frames=32, frames_real=64).identity()
    assert prep.frames_per_video({"frames": 8}) == {"real": 8, "fake": 8}
    assert prep.frames_per_video(a) == {"real": 128, "fake": 32}


def test_cli_keys():
    from fsfm_bench.commands.prepare import split_options

    opts, _ = split_options({"frames": 32, "frames_real": 128})
    assert (opts.frames_for(0), opts.frames_for(1)) == (128, 32)
    opts, _ = split_options({"frames_fake": 4}, {"frames": 6})                     # dataset default + class
    assert (opts.frames_for(0), opts.frames_for(1)) == (6, 4)
    with pytest.raises(UsageError, match="frames_fake must be an integer"):
        split_options({"frames_fake": "many"})
    with pytest.raises(UsageError, match="Did you mean: frames_real"):
        split_options({"frames_reel": 3})


def test_counts_per_class_indices_and_resume_guard(tmp_path, monkeypatch):
    root = tmp_path / "root"
    _video(root / "real.mp4", fake=False)
    _video(root / "fake.mp4", fake=True)
    clip = root / "frames_real"                        # a frame folder (WildDeepfake style), label 0
    clip.mkdir()
    for i in range(7):
        cv2.imwrite(str(clip / f"{i}.png"), _frame("grace_hopper", i, 0))
    items = [MediaItem(path=p, kind=k, label=lab, video_id=Path(p).stem, split="train", source="mini",
                       manipulation="real" if lab == 0 else "Deepfakes")
             for p, k, lab in (("real.mp4", "video", 0), ("fake.mp4", "video", 1), ("frames_real", "frames", 0))]
    out = tmp_path / "out"
    summary = prep.prepare(items, root, out, _opts(frames=2, frames_real=6), dataset="mini")
    got = _by_media(read_manifest(out / "manifest.jsonl"))
    assert got["real.mp4"] == _linspace(6) == [0, 2, 4, 7, 9, 12]
    assert got["fake.mp4"] == _linspace(2) == [0, 12]
    assert got["frames_real"] == np.linspace(0, 6, 6, dtype=int).tolist() == [0, 1, 2, 3, 4, 6]
    assert summary["frames_per_video"] == {"real": 6, "fake": 2} and summary["frames"]["rows"] == 14
    stored = json.loads((out / prep.STATE_DIR / "options.json").read_text())["options"]
    assert (stored["frames_real"], stored["frames_fake"]) == (6, 2) and "frames" not in stored

    # the same settings spelled the other way resume: nothing is redone
    monkeypatch.setattr(prep, "process_item", lambda *a: pytest.fail("a finished item was redone"))
    again = prep.prepare(items, root, out, _opts(frames=6, frames_fake=2), dataset="mini")
    assert again["items"]["skipped_already_done"] == 3 and again["manifest_sha256"] == summary["manifest_sha256"]
    # different counts are refused, naming old and new counts; nothing is written
    with pytest.raises(FsfmBenchError, match=r"different settings \(frames per video real/fake 6/2 -> 6/3\)"):
        prep.prepare(items, root, out, _opts(frames=3, frames_real=6), dataset="mini")
    with pytest.raises(FsfmBenchError, match=r"real/fake 6/2 -> 2/2.*new out=PATH"):
        prep.prepare(items, root, out, _opts(frames=2), dataset="mini")
    with pytest.raises(FsfmBenchError, match=r"different settings \(size\)"):
        prep.prepare(items, root, out, _opts(frames=2, frames_real=6, size=48), dataset="mini")
    assert json.loads((out / prep.STATE_DIR / "options.json").read_text())["options"] == stored


def test_cdfd_needs_its_per_class_counts():
    (proto,) = resolve_protocols(compose(protocol="cdfd@1").to_dict())
    need = _frames_needed(proto)
    ffpp = [v for (name, _), v in need.items() if name == "ffpp"]
    assert ffpp == [{"real": 128, "fake": 32}]                          # train and val: one folder
    assert all(v == {"real": 32, "fake": 32} for (name, _), v in need.items() if name != "ffpp")


def test_ffpp_miniature_prepared_at_exact_counts_and_reused(tmp_path, monkeypatch):
    """FF++ c23 layout (cdfd's sources), 13-frame videos, counts scaled from 128/32 to 6/2."""
    monkeypatch.setenv("FSFM_BENCH_DATASETS", str(tmp_path / "none.yaml"))
    for name in ("FFPP", "CELEBDF_V2", "DFDC", "DFDC_PREVIEW", "WILDDEEPFAKE", "DFD", "CELEBDF_V1"):
        monkeypatch.delenv(f"FSFM_BENCH_ROOT_{name}", raising=False)
    root = build_ffpp(tmp_path / "ffpp", {"train": [("000", "001")], "val": [("002", "003")],
                                          "test": [("004", "005")]})
    for path in sorted(root.rglob("*.mp4")):
        _video(path, fake="manipulated" in path.as_posix())
    cfg = compose(protocol="cdfd@1", overrides={"data.roots.ffpp": str(root)}).to_dict()
    cfg["data"]["cache_dir"] = str(tmp_path / "cache")
    cfg["data"]["prepare"] = {"size": 32, "parser": "geometric", "detect_max_side": 200, "progress": False}
    for src in (*cfg["protocol"]["train"], cfg["protocol"]["validation"]):
        src["frames_per_video"] = {"real": 6, "fake": 2}
    (proto,) = resolve_protocols(cfg)
    DataResolver(cfg, progress=False).prepare(proto)

    (folder,) = sorted((tmp_path / "cache" / "prepared").iterdir())   # one folder: train and val share it
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["frames_per_video"] == {"real": 6, "fake": 2}
    rows = read_manifest(folder / "manifest.jsonl")
    n_real, n_fake = 6, 6 * 4                        # 3 pairs: 6 originals, 2 x 3 x 4 methods fakes
    detections = summary["frames"]["rows"] + summary["frames"]["no_face"]
    assert detections == n_real * 6 + n_fake * 2 == 84                # prepare-then-subsample: 6 + 24 x 6 = 180
    for r in rows:
        assert _by_media([x for x in rows if x["media"] == r["media"]])[r["media"]] == \
            _linspace(2 if r["label"] == 1 else 6)

    # a later run (another resolver, as another protocol would) with the same settings reuses the folder
    monkeypatch.setattr(prep, "process_item", lambda *a: pytest.fail("prepared twice"))
    resolver = DataResolver(cfg, progress=False)
    train, prepared = resolver.rows_for(proto.train[0])
    assert prepared.folder == folder
    per_video: dict[tuple[str, int], int] = {}
    for r in train:
        per_video[(r["video_id"], r["label"])] = per_video.get((r["video_id"], r["label"]), 0) + 1
    assert sorted(set(per_video.values())) == [2, 6]
    assert all(n == (2 if label else 6) for (_, label), n in per_video.items())
    assert {r["frame_index"] for r in train if r["label"] == 1} == {0, 12}     # kept as prepared
