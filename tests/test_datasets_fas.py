"""Anti-spoofing adapters: MSU-MFSD, CASIA-FASD, Replay-Attack, OULU-NPU (folders and protocols), CelebA-Spoof."""
from __future__ import annotations

import shutil
from collections import Counter

import pytest
from dataset_layouts import (
    MSU_TEST,
    MSU_TRAIN,
    build_casia,
    build_celeba_spoof,
    build_msu,
    build_oulu,
    build_replay,
    touch,
)

from fsfm_bench.errors import FsfmBenchError
from fsfm_bench.plugins import get


def counts(items):
    return Counter((it.split, it.label) for it in items)


def test_msu_full_copy_verifies_and_names(tmp_path):
    build_msu(tmp_path)
    assert (tmp_path / "train_sub_list.txt").read_bytes().startswith(b"02\r\n03\r\n")
    adapter = get("datasets", "msu_mfsd")()
    report = adapter.verify(tmp_path)
    assert report.ok, report.format()
    assert report.counts == {"test": {"real": 40, "fake": 120}, "train": {"real": 30, "fake": 90}}
    items = adapter.index(tmp_path)
    it = next(i for i in items if i.path == "scene01/attack/attack_client002_laptop_SD_printed_photo_scene01.mov")
    assert (it.split, it.label, it.manipulation, it.meta["client"], it.meta["device"]) == (
        "train", 1, "print", "002", "laptop")
    replay = next(i for i in items if "ipad_video" in i.path)
    assert replay.manipulation == "replay"


def test_msu_missing_extra_and_lists(tmp_path):
    build_msu(tmp_path, train=MSU_TRAIN[:2], test=MSU_TEST[:1])
    (tmp_path / "scene01/real/real_client002_android_SD_scene01.mp4").unlink()
    touch(tmp_path / "scene01/real/real_client099_android_SD_scene01.mp4")      # client in no list
    touch(tmp_path / "scene01/real/Thumbs.mp4")
    report = get("datasets", "msu_mfsd")().verify(tmp_path)
    assert report.missing == ["scene01/real/real_client002_android_SD_scene01.mp4"]
    assert report.extra == ["scene01/real/Thumbs.mp4"]
    assert any("client 099 is in neither client list" in p for p in report.problems)
    (tmp_path / "test_sub_list.txt").unlink()
    with pytest.raises(FsfmBenchError) as err:
        get("datasets", "msu_mfsd")().index(tmp_path)
    assert "test_sub_list.txt" in str(err.value) and "dataset=msu_mfsd" in str(err.value)


def test_casia(tmp_path):
    build_casia(tmp_path)
    adapter = get("datasets", "casia_fasd")()
    report = adapter.verify(tmp_path)
    assert report.ok, report.format()
    items = adapter.index(tmp_path)
    assert counts(items) == {("train", 0): 60, ("train", 1): 180, ("test", 0): 90, ("test", 1): 270}
    hr = next(i for i in items if i.path == "test_release/3/HR_4.avi")
    assert (hr.label, hr.manipulation, hr.meta) == (1, "video_replay", {"subject": "test_release/3", "quality": "high"})
    assert next(i for i in items if i.path == "train_release/3/HR_1.avi").label == 0
    # test subjects restart at 1: ids keep the release folder
    assert len({i.video_id for i in items}) == 600
    (tmp_path / "test_release/30/7.avi").unlink()
    touch(tmp_path / "test_release/30/9.avi")
    report = adapter.verify(tmp_path)
    assert report.missing == ["test_release/30/7.avi"] and report.extra == ["test_release/30/9.avi"]
    assert "split test: 269 fake items, the card expects 270" in report.problems


def test_replay_attack(tmp_path):
    build_replay(tmp_path)
    adapter = get("datasets", "replay_attack")()
    report = adapter.verify(tmp_path)
    assert report.ok, report.format()
    assert report.counts == {"test": {"real": 80, "fake": 400}, "train": {"real": 60, "fake": 300},
                             "val": {"real": 60, "fake": 300}}
    items = adapter.index(tmp_path)
    assert not any(i.path.startswith("enroll/") for i in items)
    same = [i for i in items if i.path.endswith("attack_print_client001_session01_highdef_photo_controlled.mov")]
    assert {i.meta["support"] for i in same} == {"fixed", "hand"} and len({i.video_id for i in same}) == 2
    assert {i.manipulation for i in items if i.label} == {"print", "replay"}
    touch(tmp_path / "devel/attack/fixed/attack_print_client001_typo.mov")
    assert adapter.verify(tmp_path).extra == ["devel/attack/fixed/attack_print_client001_typo.mov"]
    shutil.rmtree(tmp_path / "devel")
    with pytest.raises(FsfmBenchError, match="devel not found"):
        adapter.index(tmp_path)


def test_oulu_folders(tmp_path):
    build_oulu(tmp_path, users={"Train_files": range(1, 3), "Dev_files": range(21, 22), "Test_files": range(36, 38)},
               phones=range(1, 3), sessions=range(1, 3))
    items = get("datasets", "oulu_npu")().index(tmp_path)
    # per user: 2 phones x 2 sessions x (1 live + 4 attacks)
    assert counts(items) == {("train", 0): 8, ("train", 1): 32, ("val", 0): 4, ("val", 1): 16,
                             ("test", 0): 8, ("test", 1): 32}
    it = next(i for i in items if i.path == "Dev_files/2_1_21_4.avi")
    assert (it.label, it.manipulation, it.meta["eyes"], it.meta["phone"]) == (1, "replay", "Dev_files/2_1_21_4.txt", 2)


def test_oulu_full_copy_and_protocols(tmp_path):
    build_oulu(tmp_path)
    adapter = get("datasets", "oulu_npu")()
    report = adapter.verify(tmp_path)
    assert report.ok, report.format()
    pdir = tmp_path / "Protocols/Protocol_3"
    pdir.mkdir(parents=True)
    # Protocol 3 fold 2: leave phone 2 out; tokens +1 live, -1 print, -2 replay; CRLF
    def lines(folder_users, phones, sessions):
        out = []
        for p in phones:
            for s in sessions:
                for u in folder_users:
                    for f in range(1, 6):
                        out.append(f"{'+1' if f == 1 else '-1' if f < 4 else '-2'},{p}_{s}_{u:02d}_{f}")
        return "\r\n".join(out)
    others = [1, 3, 4, 5, 6]
    (pdir / "Train_2.txt").write_text(lines(range(1, 21), others, range(1, 4)))
    (pdir / "Dev_2.txt").write_text(lines(range(21, 36), others, range(1, 4)))
    (pdir / "Test_2.txt").write_text(lines(range(36, 56), [2], range(1, 4)))
    items = adapter.index(tmp_path, protocol=3, fold=2)
    assert counts(items) == {("train", 0): 300, ("train", 1): 1200, ("val", 0): 225, ("val", 1): 900,
                             ("test", 0): 60, ("test", 1): 240}
    with pytest.raises(FsfmBenchError, match="fold=1..6"):
        adapter.index(tmp_path, protocol=3)
    (pdir / "Dev_2.txt").write_text("+1,1_1_21_2")
    report = adapter.verify(tmp_path, protocol=3, fold=2)
    assert any("label +1 contradicts file number of 1_1_21_2" in p for p in report.problems)
    assert any("non-default options" in n for n in report.notes)
    (pdir / "Dev_2.txt").write_text("live,1_1_21_1")
    with pytest.raises(FsfmBenchError, match="Dev_2.txt:1: expected '<\\+1\\|-1\\|-2>,"):
        adapter.index(tmp_path, protocol=3, fold=2)


def test_celeba_spoof_with_and_without_label_json(tmp_path):
    labels = build_celeba_spoof(tmp_path / "CelebA_Spoof", {"train": ["10", "11"], "test": ["4930"]})
    adapter = get("datasets", "celeba_spoof")()
    items = adapter.index(tmp_path)          # the parent folder works
    assert counts(items) == {("train", 0): 4, ("train", 1): 4, ("test", 0): 2, ("test", 1): 2}
    spoof = next(i for i in items if i.label == 1)
    key = spoof.path.removeprefix("CelebA_Spoof/")
    assert spoof.manipulation == ["live", "photo", "poster", "A4", "face_mask", "upper_body_mask", "region_mask",
                                  "PC", "pad", "phone", "3D_mask"][labels[spoof.split][key][40]]
    assert spoof.meta["bb"] == spoof.path[:-4] + "_BB.txt" and spoof.meta["subject"] in ("10", "11", "4930")
    root = tmp_path / "CelebA_Spoof"
    (root / key).unlink()
    touch(root / "Data/test/4930/live/999999.jpg")
    report = adapter.verify(root)
    assert report.missing == [key] and report.extra == ["Data/test/4930/live/999999.jpg"]
    assert report.ok is False
    (root / "metas/intra_test/train_label.json").unlink()
    scan = adapter.scan(root)
    assert any("train_label.json absent" in n for n in scan.notes)
    # train now comes from the folders; test still from its label JSON (999999.jpg stays extra)
    assert counts(scan.items) == {("train", 0): 4, ("train", 1): 4, ("test", 0): 2, ("test", 1): 1}
