"""FaceForensics++ and DFD adapters on miniature (and one full-size, zero-byte) copies of the download."""
from __future__ import annotations

from collections import Counter

import pytest
from dataset_layouts import build_dfd, build_ffpp, official_ff_pairs, touch, write_ff_splits

from fsfm_bench.errors import FsfmBenchError, UsageError
from fsfm_bench.plugins import get

MINI = {"train": [("000", "003"), ("001", "002")], "val": [("004", "005")], "test": [("006", "007")]}


def ffpp():
    return get("datasets", "ffpp")()


def by_split(items):
    return Counter((it.split, it.label) for it in items)


def test_split_json_is_written_like_the_official_files(tmp_path):
    write_ff_splits(tmp_path, {"train": [("953", "974")]})
    assert (tmp_path / "train.json").read_bytes() == b'[\n  [\n    "953",\n    "974"\n  ]\n]'


def test_mini_index_counts_labels_splits_and_ids(tmp_path):
    build_ffpp(tmp_path, MINI)
    items = ffpp().index(tmp_path)
    # 8 reals, 4 pairs x 2 directions x 5 methods = 40 fakes
    assert by_split(items) == {("train", 0): 4, ("train", 1): 20, ("val", 0): 2, ("val", 1): 10,
                               ("test", 0): 2, ("test", 1): 10}
    fake = next(it for it in items if it.path.endswith("Deepfakes/c23/videos/003_000.mp4"))
    assert (fake.split, fake.label, fake.manipulation) == ("train", 1, "Deepfakes")
    assert fake.video_id == "manipulated_sequences/Deepfakes/c23/videos/003_000"
    assert fake.meta == {"compression": "c23", "target": "003", "source": "000"}
    real = next(it for it in items if it.path.endswith("youtube/c23/videos/005.mp4"))
    assert (real.split, real.label, real.manipulation, real.kind) == ("val", 0, "real", "video")
    assert len({it.video_id for it in items}) == len(items)


def test_method_subset_and_c0_alias_and_split_locations(tmp_path):
    build_ffpp(tmp_path, MINI, comp="c0", split_dir=None)
    write_ff_splits(tmp_path, MINI)                       # DeepfakeBench / SBI: JSONs at the root
    items = ffpp().index(tmp_path, compression="raw", methods=["Deepfakes", "Face2Face", "FaceSwap",
                                                                "NeuralTextures"])
    assert Counter(it.manipulation for it in items) == {"real": 8, "Deepfakes": 8, "Face2Face": 8,
                                                        "FaceSwap": 8, "NeuralTextures": 8}
    assert all("/c0/videos/" in it.path for it in items)
    only_df = ffpp().index(tmp_path, compression="raw", methods="Deepfakes", include_original=False)
    assert {it.manipulation for it in only_df} == {"Deepfakes"} and len(only_df) == 8
    other = tmp_path.parent / "my_splits"
    write_ff_splits(other, {"train": MINI["test"], "val": MINI["val"], "test": MINI["train"]})
    swapped = ffpp().index(tmp_path, compression="raw", splits=str(other), methods="Deepfakes")
    assert Counter(it.split for it in swapped if it.label == 0) == {"train": 2, "val": 2, "test": 4}


def test_missing_splits_names_where_to_get_them(tmp_path):
    build_ffpp(tmp_path, MINI, split_dir=None)
    with pytest.raises(FsfmBenchError) as err:
        ffpp().index(tmp_path)
    msg = str(err.value)
    assert "train.json" in msg and "github.com/ondyari/FaceForensics" in msg
    assert f"fsfm-bench data verify dataset=ffpp root={tmp_path}" in msg


def test_bad_split_file_and_conflicting_pairs(tmp_path):
    build_ffpp(tmp_path, MINI)
    (tmp_path / "dataset/splits/val.json").write_text('{"a": 1}')
    with pytest.raises(FsfmBenchError, match="JSON list of"):
        ffpp().index(tmp_path)
    write_ff_splits(tmp_path / "dataset/splits", {**MINI, "val": [("000", "004")]})
    with pytest.raises(FsfmBenchError, match="video 000 is in both train.json and val.json"):
        ffpp().index(tmp_path)


def test_wrong_root_and_wrong_compression(tmp_path):
    with pytest.raises(FsfmBenchError) as err:
        ffpp().index(tmp_path / "nope")
    msg = str(err.value)
    assert "'ffpp'" in msg and "does not exist" in msg and "original_sequences/youtube/c23/videos" in msg
    assert "fsfm-bench data verify dataset=ffpp" in msg
    build_ffpp(tmp_path, MINI)
    with pytest.raises(FsfmBenchError, match=r"original_sequences/youtube/c40/videos not found \(found c23\)"):
        ffpp().index(tmp_path, compression="c40")
    with pytest.raises(UsageError, match="compresion"):
        ffpp().index(tmp_path, compresion="c23")
    with pytest.raises(UsageError, match="DeepFakes"):
        ffpp().index(tmp_path, methods=["DeepFakes"])


def test_verify_reports_missing_extra_and_split_sizes(tmp_path):
    build_ffpp(tmp_path, MINI)
    (tmp_path / "manipulated_sequences/FaceSwap/c23/videos/002_001.mp4").unlink()
    touch(tmp_path / "original_sequences/youtube/c23/videos/999.mp4")          # not in any split
    touch(tmp_path / "manipulated_sequences/Deepfakes/c23/videos/notes.txt")
    with pytest.warns(RuntimeWarning, match="1 entries the layout expects are missing"):
        items = ffpp().index(tmp_path)
    assert len(items) == 47
    report = ffpp().verify(tmp_path)
    assert not report.ok
    assert report.missing == ["manipulated_sequences/FaceSwap/c23/videos/002_001.mp4"]
    assert report.extra == ["manipulated_sequences/Deepfakes/c23/videos/notes.txt",
                            "original_sequences/youtube/c23/videos/999.mp4"]
    assert any("2/1/1 pairs" in p and "360/70/70" in p for p in report.problems)
    assert "split train: 4 real items, the card expects 720" in report.problems
    text = report.format()
    assert "FAILED" in text and "missing (1):" in text and "002_001.mp4" in text


def test_verify_passes_on_a_full_size_copy(tmp_path):
    build_ffpp(tmp_path, official_ff_pairs())
    report = ffpp().verify(tmp_path)
    assert report.ok, report.format()
    assert report.counts == {"test": {"real": 140, "fake": 700}, "train": {"real": 720, "fake": 3600},
                             "val": {"real": 140, "fake": 700}}
    (tmp_path / "manipulated_sequences/FaceShifter/c23/videos/999_998.mp4").unlink()
    report = ffpp().verify(tmp_path)
    assert not report.ok
    assert report.missing == ["manipulated_sequences/FaceShifter/c23/videos/999_998.mp4"]
    assert report.problems == ["split test: 699 fake items, the card expects 700"]
    # strict: extra files fail too
    touch(tmp_path / "manipulated_sequences/FaceShifter/c23/videos/999_998.mp4")
    touch(tmp_path / "original_sequences/youtube/c23/videos/1000.mp4")
    assert ffpp().verify(tmp_path).ok
    assert not ffpp().verify(tmp_path, strict=True).ok


def test_dfd(tmp_path):
    build_dfd(tmp_path)
    build_ffpp(tmp_path, MINI)      # the FF++ part of the same root is not DFD's business
    touch(tmp_path / "original_sequences/actors/c23/videos/README.mp4")
    items = get("datasets", "dfd")().index(tmp_path)
    assert Counter((it.split, it.label) for it in items) == {("test", 0): 3, ("test", 1): 4}
    fake = next(it for it in items if it.label)
    assert fake.path == "manipulated_sequences/DeepFakeDetection/c23/videos/01_02__exit_phone_room__GBC7ZGDP.mp4"
    assert fake.meta == {"compression": "c23", "target": "01", "source": "02", "scene": "exit_phone_room",
                         "experiment": "GBC7ZGDP"}
    assert fake.manipulation == "DeepFakeDetection"
    assert Counter(it.split for it in get("datasets", "dfd")().index(tmp_path, split="train")) == {"train": 7}
    report = get("datasets", "dfd")().verify(tmp_path)
    assert report.extra == ["original_sequences/actors/c23/videos/README.mp4"]
    assert "split test: 3 real items, the card expects 363" in report.problems
    with pytest.raises(FsfmBenchError, match="original_sequences/actors/raw/videos not found"):
        get("datasets", "dfd")().index(tmp_path, compression="raw")
