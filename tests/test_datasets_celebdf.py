"""Celeb-DF v2 / v1 adapters: the official test list (1 = real), YouTube-real options, variants."""
from __future__ import annotations

from collections import Counter

import pytest
from dataset_layouts import build_celebdf, celebdf_test_list, touch

from fsfm_bench.errors import FsfmBenchError
from fsfm_bench.plugins import get

TEST = {"Celeb-real": 2, "YouTube-real": 1, "Celeb-synthesis": 3}


def counts(items):
    return Counter((it.split, it.label) for it in items)


def test_list_format_matches_the_shipped_file():
    text = celebdf_test_list([(1, "YouTube-real/00170.mp4"), (0, "Celeb-synthesis/id0_id1_0000.mp4")])
    assert text == "1 YouTube-real/00170.mp4\n0 Celeb-synthesis/id0_id1_0000.mp4"


def test_v2_splits_labels_and_youtube_real_options(tmp_path):
    build_celebdf(tmp_path, n_celeb=5, n_youtube=4, n_fake=7, test=TEST)
    adapter = get("datasets", "celebdf_v2")()
    items = adapter.index(tmp_path)
    assert counts(items) == {("test", 0): 3, ("test", 1): 3, ("train", 0): 6, ("train", 1): 4}
    fake = next(it for it in items if it.path == "Celeb-synthesis/id0_id1_0000.mp4")
    assert (fake.split, fake.label, fake.video_id) == ("test", 1, "Celeb-synthesis/id0_id1_0000")
    assert fake.meta["original"] == "Celeb-real/id0_0000"
    nyr = adapter.index(tmp_path, youtube_real="no_test")          # FSFM's "NYR" test set
    assert counts(nyr) == {("test", 0): 2, ("test", 1): 3, ("train", 0): 6, ("train", 1): 4}
    assert not any(it.split == "test" and it.path.startswith("YouTube-real/") for it in nyr)
    none = adapter.index(tmp_path, youtube_real="none")
    assert not any(it.path.startswith("YouTube-real/") for it in none) and len(none) == 12


def test_v2_list_with_crlf_and_missing_video(tmp_path):
    build_celebdf(tmp_path, n_celeb=5, n_youtube=4, n_fake=7, test=TEST)
    lst = tmp_path / "List_of_testing_videos.txt"
    lst.write_bytes(lst.read_bytes().replace(b"\n", b"\r\n") + b"\r\n")
    (tmp_path / "Celeb-real/id0_0001.mp4").unlink()
    touch(tmp_path / "Celeb-real/notes.txt")
    report = get("datasets", "celebdf_v2")().verify(tmp_path)
    assert report.missing == ["Celeb-real/id0_0001.mp4"]
    assert report.extra == ["Celeb-real/notes.txt"]
    assert report.counts == {"test": {"real": 2, "fake": 3}, "train": {"real": 6, "fake": 4}}
    assert "split test: 2 real items, the card expects 178" in report.problems
    assert not report.ok


def test_v2_rejects_contradicting_labels_and_missing_folders(tmp_path):
    build_celebdf(tmp_path, n_celeb=3, n_youtube=2, n_fake=3, test=TEST)
    lst = tmp_path / "List_of_testing_videos.txt"
    lst.write_text(lst.read_text().replace("0 Celeb-synthesis/id0_id1_0000", "1 Celeb-synthesis/id0_id1_0000"))
    with pytest.raises(FsfmBenchError, match="1 labels contradict their folders"):
        get("datasets", "celebdf_v2")().index(tmp_path)
    build_celebdf(tmp_path / "inv", n_celeb=3, n_youtube=2, n_fake=3, test=TEST, inverted=True)
    with pytest.raises(FsfmBenchError, match="every label is inverted"):
        get("datasets", "celebdf_v2")().index(tmp_path / "inv")
    (tmp_path / "YouTube-real").rename(tmp_path / "yt")
    with pytest.raises(FsfmBenchError) as err:
        get("datasets", "celebdf_v2")().index(tmp_path)
    assert "YouTube-real not found" in str(err.value)
    assert f"fsfm-bench data verify dataset=celebdf_v2 root={tmp_path}" in str(err.value)


def test_v2_full_size_verify_passes(tmp_path):
    build_celebdf(tmp_path, n_celeb=590, n_youtube=300, n_fake=5639,
                  test={"Celeb-real": 108, "YouTube-real": 70, "Celeb-synthesis": 340})
    report = get("datasets", "celebdf_v2")().verify(tmp_path)
    assert report.ok, report.format()
    assert report.counts == {"test": {"real": 178, "fake": 340}, "train": {"real": 712, "fake": 5299}}


def test_v1_accepts_prerelease_names_and_an_inverted_list(tmp_path):
    build_celebdf(tmp_path, n_celeb=3, n_youtube=2, n_fake=4, test={"Celeb-real": 1, "YouTube-real": 1,
                                                                   "Celeb-synthesis": 2},
                  names=("Real_1", "Real_2", "deepfake"), list_name="test.txt", inverted=True)
    adapter = get("datasets", "celebdf_v1")()
    scan = adapter.scan(tmp_path)
    assert counts(scan.items) == {("test", 0): 2, ("test", 1): 2, ("train", 0): 3, ("train", 1): 2}
    assert any("inverted" in n for n in scan.notes)
    assert {it.meta["folder"] for it in scan.items} == {"Celeb-real", "YouTube-real", "Celeb-synthesis"}
    report = adapter.verify(tmp_path)
    assert report.ok, report.format()          # no per-split counts published for v1
    assert any("no per-split counts" in n for n in report.notes)
