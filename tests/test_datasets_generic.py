"""VGGFace2 and the generic `folder` / `list` adapters."""
from __future__ import annotations

from collections import Counter

import pytest
from dataset_layouts import build_vggface2, touch

from fsfm_bench.errors import FsfmBenchError
from fsfm_bench.plugins import get


def test_vggface2_lists_are_the_truth(tmp_path):
    build_vggface2(tmp_path, {"train": ["n000002", "n000003"], "test": ["n000001"]}, per_id=3)
    adapter = get("datasets", "vggface2")()
    items = adapter.index(tmp_path)
    assert Counter((i.split, i.label) for i in items) == {("train", 0): 6, ("test", 0): 3}
    it = next(i for i in items if i.path == "train/n000003/0002_01.jpg")
    assert (it.kind, it.meta, it.video_id, it.manipulation) == ("image", {"identity": "n000003"},
                                                                "train/n000003/0002_01", "real")
    (tmp_path / "test/n000001/0001_01.jpg").unlink()
    touch(tmp_path / "train/n000002/9999_01.jpg")
    touch(tmp_path / "train/stray.jpg")
    report = adapter.verify(tmp_path)
    assert report.missing == ["test/n000001/0001_01.jpg"]
    assert report.extra == ["train/n000002/9999_01.jpg", "train/stray.jpg"]
    assert "split train: 6 real items, the card expects 3141890" in report.problems
    (tmp_path / "train_list.txt").unlink()
    scan = adapter.scan(tmp_path)
    assert len([i for i in scan.items if i.split == "train"]) == 7
    assert any("train_list.txt absent" in n for n in scan.notes)


def test_folder_with_and_without_split_folders(tmp_path):
    for rel in ("train/real/a.jpg", "train/fake/b.png", "train/fake/c.mp4", "val/live/d.jpg", "test/attack/e.avi",
                "test/real/f.mp4", "test/other/g.jpg", "test/fake/readme.txt", "notes.txt"):
        touch(tmp_path / "ds" / rel)
    scan = get("datasets", "folder")().scan(tmp_path / "ds")
    got = {(i.path, i.kind, i.label, i.split) for i in scan.items}
    assert got == {("train/real/a.jpg", "image", 0, "train"), ("train/fake/b.png", "image", 1, "train"),
                   ("train/fake/c.mp4", "video", 1, "train"), ("val/live/d.jpg", "image", 0, "val"),
                   ("test/attack/e.avi", "video", 1, "test"), ("test/real/f.mp4", "video", 0, "test")}
    assert scan.extra == ["notes.txt", "test/fake/readme.txt", "test/other/"]
    for rel in ("real/v1/0.png", "real/v1/1.png", "fake/v2/0.png"):
        touch(tmp_path / "flat" / rel)
    frames = get("datasets", "folder")().index(tmp_path / "flat", frames=True, split="train")
    assert [(i.path, i.kind, i.label, i.split, i.video_id) for i in frames] == [
        ("fake/v2", "frames", 1, "train", "fake/v2"), ("real/v1", "frames", 0, "train", "real/v1")]
    touch(tmp_path / "empty" / "x" / "y.jpg")
    with pytest.raises(FsfmBenchError, match="no class folders real/ or fake/"):
        get("datasets", "folder")().index(tmp_path / "empty")


def test_list_csv(tmp_path):
    for rel in ("a.mp4", "b/c.jpg", "frames/v3/0.png"):
        touch(tmp_path / rel)
    (tmp_path / "list.csv").write_text("path,label,video_id,split\n"
                                       "a.mp4,fake,,train\n"
                                       "b/c.jpg,0,person7,val\n"
                                       "frames/v3,attack,,\n"
                                       "gone.mp4,real,,test\n")
    scan = get("datasets", "list")().scan(tmp_path)
    assert [(i.path, i.kind, i.label, i.split, i.video_id) for i in scan.items] == [
        ("frames/v3", "frames", 1, "test", "frames/v3"), ("a.mp4", "video", 1, "train", "a"),
        ("b/c.jpg", "image", 0, "val", "person7")]
    assert scan.missing == ["gone.mp4"]
    (tmp_path / "mine.csv").write_text("path,label\na.mp4,maybe\n")
    with pytest.raises(FsfmBenchError, match="mine.csv:2: label 'maybe'"):
        get("datasets", "list")().index(tmp_path, file="mine.csv")
    (tmp_path / "mine.csv").write_text("file,y\na.mp4,1\n")
    with pytest.raises(FsfmBenchError, match="columns path and label"):
        get("datasets", "list")().index(tmp_path, file=str(tmp_path / "mine.csv"))
    with pytest.raises(FsfmBenchError, match="does not exist"):
        get("datasets", "list")().index(tmp_path, file="nope.csv")
