"""DFDC (test set with labels.csv, training parts) and DFDC preview (dataset.json) adapters."""
from __future__ import annotations

import json
from collections import Counter

import pytest
from dataset_layouts import build_dfdc_preview, build_dfdc_test, touch

from fsfm_bench.errors import FsfmBenchError
from fsfm_bench.plugins import get


def test_dfdc_test_set_labels_csv(tmp_path):
    rows = build_dfdc_test(tmp_path, n_real=3, n_fake=4)
    assert (tmp_path / "test/labels.csv").read_text().splitlines()[:2] == ["filename,label", f"{rows[0][0]},0"]
    items = get("datasets", "dfdc")().index(tmp_path)
    assert Counter((it.split, it.label) for it in items) == {("test", 0): 3, ("test", 1): 4}
    fake = next(it for it in items if it.label)
    assert fake.video_id == f"test/{fake.path.rsplit('/', 1)[1][:-4]}" and len(fake.video_id) == 15
    assert fake.path.startswith("test/ori_videos/dfdc_test_part_")
    # root= pointing at test/ itself, and flattened videos, both work
    assert len(get("datasets", "dfdc")().index(tmp_path / "test")) == 7


def test_dfdc_missing_extra_duplicates(tmp_path):
    rows = build_dfdc_test(tmp_path, n_real=3, n_fake=4)
    gone = next(p for p in (tmp_path / "test/ori_videos").rglob(rows[5][0]))
    gone.unlink()
    touch(tmp_path / "test/ori_videos/extra/zzzzzzzzzz.mp4")
    touch(tmp_path / f"test/flat/{rows[0][0]}")
    report = get("datasets", "dfdc")().verify(tmp_path)
    assert report.missing == [f"test/{rows[5][0]}"]
    assert report.extra == ["test/ori_videos/extra/zzzzzzzzzz.mp4"]
    assert any(f"{rows[0][0]} exists twice" in p for p in report.problems)
    assert "split test: 3 real items, the card expects 2500" in report.problems


def test_dfdc_full_test_set_verifies(tmp_path):
    build_dfdc_test(tmp_path, n_real=2500, n_fake=2500)
    report = get("datasets", "dfdc")().verify(tmp_path)
    assert report.ok, report.format()


def test_dfdc_bad_labels_and_wrong_root(tmp_path):
    build_dfdc_test(tmp_path, n_real=1, n_fake=1)
    (tmp_path / "test/labels.csv").write_text("name,is_fake\na.mp4,1\n")
    with pytest.raises(FsfmBenchError, match="header 'filename,label'"):
        get("datasets", "dfdc")().index(tmp_path)
    (tmp_path / "test/labels.csv").write_text("filename,label\na.mp4,FAKE\n")
    with pytest.raises(FsfmBenchError, match="label must be 0 \\(real\\) or 1 \\(fake\\)"):
        get("datasets", "dfdc")().index(tmp_path)
    with pytest.raises(FsfmBenchError) as err:
        get("datasets", "dfdc")().index(tmp_path / "test" / "ori_videos")
    assert "test/labels.csv not found" in str(err.value) and "dataset=dfdc" in str(err.value)


def test_dfdc_training_parts(tmp_path):
    part = tmp_path / "train/dfdc_train_part_0"
    meta = {"aaaa.mp4": {"label": "REAL", "split": "train", "original": None},
            "bbbb.mp4": {"label": "FAKE", "split": "train", "original": "aaaa.mp4"},
            "cccc.mp4": {"label": "FAKE", "split": "train", "original": "aaaa.mp4"}}
    touch(part / "aaaa.mp4"), touch(part / "bbbb.mp4"), touch(part / "dddd.mp4")
    (part / "metadata.json").write_text(json.dumps(meta))
    scan = get("datasets", "dfdc")().scan(tmp_path, subsets="train")
    assert [(it.path, it.label, it.split) for it in scan.items] == [
        ("train/dfdc_train_part_0/aaaa.mp4", 0, "train"), ("train/dfdc_train_part_0/bbbb.mp4", 1, "train")]
    assert scan.items[1].meta == {"part": "dfdc_train_part_0", "original": "aaaa.mp4"}
    assert scan.missing == ["train/dfdc_train_part_0/cccc.mp4"]
    assert scan.extra == ["train/dfdc_train_part_0/dddd.mp4"]


def test_dfdc_preview(tmp_path):
    entries = [("original_videos", "real", "train"), ("original_videos", "real", "test"),
               ("method_A", "fake", "train"), ("method_A", "fake", "test"), ("method_B", "fake", "test")]
    data = build_dfdc_preview(tmp_path / "dfdc_preview_set", entries)
    adapter = get("datasets", "dfdc_preview")()
    items = adapter.index(tmp_path / "dfdc_preview_set")
    assert Counter((it.split, it.label) for it in items) == {("train", 0): 1, ("test", 0): 1, ("train", 1): 1,
                                                             ("test", 1): 2}
    key = next(k for k in data if k.startswith("method_B"))
    fake = next(it for it in items if it.path == key)
    assert (fake.manipulation, fake.video_id) == ("method_B", key[:-4])
    assert fake.meta["target_id"] == data[key]["target_id"] and fake.meta["augmentations"] == ["blur"]
    # the parent folder works too; paths then keep the prefix
    parent = adapter.index(tmp_path)
    assert all(it.path.startswith("dfdc_preview_set/") for it in parent) and len(parent) == 5
    # keys are the truth: missing and unlisted files are reported
    (tmp_path / "dfdc_preview_set" / key).unlink()
    touch(tmp_path / "dfdc_preview_set/method_A/stray.mp4")
    report = adapter.verify(tmp_path / "dfdc_preview_set")
    assert report.missing == [key] and report.extra == ["method_A/stray.mp4"]
    assert "split test: 1 fake items, the card expects 501" in report.problems


def test_dfdc_preview_bad_entries(tmp_path):
    build_dfdc_preview(tmp_path, [("original_videos", "real", "train")])
    data = json.loads((tmp_path / "dataset.json").read_text())
    key = next(iter(data))
    data[key]["set"] = "val"
    (tmp_path / "dataset.json").write_text(json.dumps(data))
    with pytest.raises(FsfmBenchError, match="set train\\|test"):
        get("datasets", "dfdc_preview")().index(tmp_path)
    (tmp_path / "dataset.json").unlink()
    with pytest.raises(FsfmBenchError) as err:
        get("datasets", "dfdc_preview")().index(tmp_path)
    assert "dataset.json" in str(err.value) and "dataset=dfdc_preview" in str(err.value)
