"""WildDeepfake (frame folders, video id = folder path) and DiFF (T2I/I2I/FS/FE + real) adapters."""
from __future__ import annotations

import shutil
from collections import Counter

import pytest
from dataset_layouts import build_diff, build_wdf, touch

from fsfm_bench.errors import FsfmBenchError, UsageError
from fsfm_bench.plugins import get

WDF = {"real_train": {1: 2, 2: 1}, "real_test": {1: 1}, "fake_train": {1: 2}, "fake_test": {3: 2, 4: 1}}


def test_wdf_sequences_labels_splits_ids(tmp_path):
    build_wdf(tmp_path, WDF, frames=3)
    items = get("datasets", "wilddeepfake")().index(tmp_path)
    assert Counter((it.split, it.label) for it in items) == {("train", 0): 3, ("test", 0): 1, ("train", 1): 2,
                                                             ("test", 1): 3}
    assert all(it.kind == "frames" for it in items)
    seq = next(it for it in items if it.path == "fake_test/3/fake/0")
    assert (seq.video_id, seq.label, seq.split, seq.meta) == ("fake_test/3/fake/0", 1, "test",
                                                               {"archive": "3", "frames": 3})
    # sequence "0" repeats across archives, ids do not
    assert len({it.video_id for it in items}) == len(items) == 9
    only_test = get("datasets", "wilddeepfake")().index(tmp_path, splits="test")
    assert {it.split for it in only_test} == {"test"}


def test_wdf_parent_folder_variants_and_problems(tmp_path):
    build_wdf(tmp_path / "deepfake_in_the_wild", WDF)
    items = get("datasets", "wilddeepfake")().index(tmp_path)
    assert all(it.path.startswith("deepfake_in_the_wild/") for it in items) and len(items) == 9
    base = tmp_path / "deepfake_in_the_wild"
    touch(base / "real_test/9/7/0.jpg")                 # no <real|fake> level: still a sequence
    touch(base / "real_test/1/fake/5/0.png")            # a fake sequence inside real_test: a problem
    touch(base / "fake_test/stray.png")                  # a frame outside any sequence: extra
    report = get("datasets", "wilddeepfake")().verify(tmp_path)
    assert report.counts["test"] == {"real": 2, "fake": 3}
    assert report.problems == ["deepfake_in_the_wild/real_test/1/fake/5: a fake sequence inside real_test/"]
    assert report.extra == ["deepfake_in_the_wild/fake_test/stray.png"]
    assert not report.ok


def test_wdf_unextracted_archives_and_missing_folder(tmp_path):
    build_wdf(tmp_path, {"real_train": {1: 1}, "fake_train": {1: 1}, "fake_test": {1: 1}})
    (tmp_path / "real_test").mkdir()
    touch(tmp_path / "real_test/1.tar.gz", b"\x1f\x8b")
    with pytest.raises(FsfmBenchError) as err:
        get("datasets", "wilddeepfake")().index(tmp_path)
    assert "real_test/ holds 1 archives" in str(err.value) and "tar -xf" in str(err.value)
    (tmp_path / "real_test/1.tar.gz").unlink()
    (tmp_path / "real_test").rmdir()
    with pytest.raises(FsfmBenchError, match="folder\\(s\\) real_test not found"):
        get("datasets", "wilddeepfake")().index(tmp_path)


def test_diff_subsets_labels_methods(tmp_path):
    build_diff(tmp_path / "DiFF")
    adapter = get("datasets", "diff")()
    items = adapter.index(tmp_path / "DiFF")
    # per split: fakes T2I 4, I2I 2, FS 2, FE 2 ; reals 3
    assert Counter((it.split, it.manipulation) for it in items) == {
        (s, m): n for s in ("val", "test") for m, n in (("T2I", 4), ("I2I", 2), ("FS", 2), ("FE", 2), ("real", 3))}
    assert {it.label for it in items if it.manipulation == "real"} == {0}
    assert {it.label for it in items if it.manipulation != "real"} == {1}
    t2i = next(it for it in items if it.path == "test/T2I/SDXL/00001.png")
    assert (t2i.kind, t2i.meta, t2i.video_id) == ("image", {"method": "SDXL"}, "test/T2I/SDXL/00001")
    fs_only = adapter.index(tmp_path, subsets="FS", splits="test")       # parent folder works too
    assert Counter(it.manipulation for it in fs_only) == {"FS": 2, "real": 3}
    assert all(it.path.startswith("DiFF/") for it in fs_only)
    with pytest.raises(UsageError, match="T2I"):
        adapter.index(tmp_path, subsets="T2X")


def test_diff_case_insensitive_missing_and_extra(tmp_path):
    build_diff(tmp_path)
    (tmp_path / "val/FE").rename(tmp_path / "val/fe")
    touch(tmp_path / "test/Unknown/x.png")
    shutil.rmtree(tmp_path / "test/I2I")
    report = get("datasets", "diff")().verify(tmp_path)
    assert report.counts == {"test": {"real": 3, "fake": 8}, "val": {"real": 3, "fake": 10}}
    assert "test/I2I/" in report.missing and "test/Unknown/" in report.extra
    assert not report.ok
    shutil.rmtree(tmp_path / "DiFF_real")
    with pytest.raises(FsfmBenchError, match="include_real=false"):
        get("datasets", "diff")().index(tmp_path)
    with pytest.warns(RuntimeWarning, match="1 entries the layout expects are missing .*first: test/I2I/"):
        assert len(get("datasets", "diff")().index(tmp_path, include_real=False)) == 18
