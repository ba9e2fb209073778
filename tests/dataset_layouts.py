"""Miniature copies of the official dataset layouts, built in a temporary folder for the adapter tests.

Media files are zero-byte placeholders (adapters never decode), except where a test asks for real
frames; the layout files (split JSONs, test lists, labels.csv, dataset.json, client lists) are
written byte for byte as the datasets ship them (each layout and its source: the cards in registry/datasets/).
"""
from __future__ import annotations

import json
from pathlib import Path

FF_METHODS = ("Deepfakes", "Face2Face", "FaceSwap", "NeuralTextures", "FaceShifter")


def touch(path: Path, data: bytes = b"") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def write_ff_splits(folder: Path, splits: dict[str, list[tuple[str, str]]]) -> None:
    """The official format: a JSON list of [a, b] string pairs, 2-space indent, no final newline."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, pairs in splits.items():
        (folder / f"{name}.json").write_text(json.dumps([list(p) for p in pairs], indent=2), encoding="utf-8")


def official_ff_pairs() -> dict[str, list[tuple[str, str]]]:
    """A split shaped like the official one: 360/70/70 pairs covering 000-999 once each."""
    ids = [f"{i:03d}" for i in range(1000)]
    pairs = [(ids[2 * k], ids[2 * k + 1]) for k in range(500)]
    return {"train": pairs[:360], "val": pairs[360:430], "test": pairs[430:]}


def build_ffpp(root: Path, pairs: dict[str, list[tuple[str, str]]], comp: str = "c23",
               methods=FF_METHODS, split_dir: str | None = "dataset/splits") -> Path:
    for split_pairs in pairs.values():
        for a, b in split_pairs:
            for vid in (a, b):
                touch(root / f"original_sequences/youtube/{comp}/videos/{vid}.mp4")
            for method in methods:
                for name in (f"{a}_{b}", f"{b}_{a}"):
                    touch(root / f"manipulated_sequences/{method}/{comp}/videos/{name}.mp4")
    if split_dir is not None:
        write_ff_splits(root / split_dir, pairs)
    return root


def build_dfd(root: Path, comp: str = "c23", n_real: int = 3, n_fake: int = 4) -> Path:
    scenes = ["exit_phone_room", "walking_outside_cafe_disgusted", "kitchen_pan"]
    for k in range(n_real):
        touch(root / f"original_sequences/actors/{comp}/videos/{k + 1:02d}__{scenes[k % 3]}.mp4")
    for k in range(n_fake):
        touch(root / f"manipulated_sequences/DeepFakeDetection/{comp}/videos/"
                     f"{k + 1:02d}_{k + 2:02d}__{scenes[k % 3]}__{'YVGY8LOK' if k % 2 else 'GBC7ZGDP'}.mp4")
    return root


def celebdf_test_list(entries: list[tuple[int, str]]) -> str:
    """'<label> <folder>/<file>' lines, label 1 = real; LF; no newline after the last line."""
    return "\n".join(f"{label} {path}" for label, path in entries)


def build_celebdf(root: Path, n_celeb: int, n_youtube: int, n_fake: int, test: dict[str, int],
                  names: tuple[str, str, str] = ("Celeb-real", "YouTube-real", "Celeb-synthesis"),
                  list_name: str = "List_of_testing_videos.txt", inverted: bool = False) -> Path:
    celeb = [f"id{i // 10}_{i % 10:04d}.mp4" for i in range(n_celeb)]
    youtube = [f"{i:05d}.mp4" for i in range(n_youtube)]
    fake = [f"id{i // 10}_id{i // 10 + 1}_{i % 10:04d}.mp4" for i in range(n_fake)]
    for folder, files in zip(names, (celeb, youtube, fake), strict=True):
        for f in files:
            touch(root / folder / f)
    real, fake_l = (0, 1) if inverted else (1, 0)
    entries = ([(real, f"{names[1]}/{f}") for f in youtube[:test["YouTube-real"]]]
               + [(real, f"{names[0]}/{f}") for f in celeb[:test["Celeb-real"]]]
               + [(fake_l, f"{names[2]}/{f}") for f in fake[:test["Celeb-synthesis"]]])
    (root / list_name).write_bytes(celebdf_test_list(entries).encode())
    return root


def dfdc_name(i: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    out = ""
    for _ in range(10):
        out += letters[i % 26]
        i //= 26
    return out


def build_dfdc_test(root: Path, n_real: int, n_fake: int, folders: int = 5) -> list[tuple[str, int]]:
    rows = [(f"{dfdc_name(i)}.mp4", int(i >= n_real)) for i in range(n_real + n_fake)]
    for i, (name, _) in enumerate(rows):
        touch(root / f"test/ori_videos/dfdc_test_part_{i % folders}/{name}")
    text = "filename,label\n" + "".join(f"{n},{lab}\n" for n, lab in rows)
    (root / "test/labels.csv").write_text(text, encoding="utf-8")
    (root / "test/metadata.json").write_text(json.dumps({n: {"is_fake": lab} for n, lab in rows}), encoding="utf-8")
    return rows


def build_dfdc_preview(root: Path, entries: list[tuple[str, str, str]]) -> dict:
    """entries: (method, label, set); writes nested keys and dataset.json."""
    data = {}
    for k, (method, label, split) in enumerate(entries):
        target, scene = 1000000 + k, "A" if k % 2 else "B"
        if label == "real":
            key = f"{method}/{target}/{target}_{scene}/{target}_{scene}_{k:03d}.mp4"
            info = {"augmentations": [], "label": "real", "set": split, "swapped_id": str(target),
                    "target_id": str(target)}
        else:
            key = f"{method}/{target}/{target}_{scene}/{2000000 + k}_{target}_{scene}_{k:03d}.mp4"
            info = {"augmentations": ["blur"], "label": "fake", "set": split, "swapped_id": str(2000000 + k),
                    "target_id": str(target), "source_video": f"original_videos/{target}/x.mp4"}
        touch(root / key)
        data[key] = info
    (root / "dataset.json").write_text(json.dumps(data), encoding="utf-8")
    return data


def build_wdf(root: Path, seqs: dict[str, dict[str, int]], frames: int = 2) -> Path:
    """seqs: top folder -> {archive k: number of sequences}; frames named by frame number."""
    for top, archives in seqs.items():
        label = top.split("_")[0]
        for k, n in archives.items():
            for s in range(n):
                for f in range(frames):
                    touch(root / top / str(k) / label / str(s) / f"{f * 10}.png")
    return root


def build_diff(root: Path, per_method: int = 2, reals: int = 3, splits=("val", "test")) -> Path:
    methods = {"T2I": ["Midjourney", "SDXL"], "I2I": ["LoRA"], "FS": ["DiffFace"], "FE": ["Imagic"]}
    for split in splits:
        for subset, ms in methods.items():
            for m in ms:
                for i in range(per_method):
                    touch(root / split / subset / m / f"{i:05d}.{'png' if i % 2 else 'jpg'}")
        for i in range(reals):
            touch(root / "DiFF_real" / split / f"{i:05d}.jpg")
    return root


MSU_TRAIN = "02 03 05 06 07 08 09 11 12 21 22 34 53 54 55".split()
MSU_TEST = "01 13 14 23 24 26 28 29 30 32 33 35 36 37 39 42 48 49 50 51".split()


def build_msu(root: Path, train=MSU_TRAIN, test=MSU_TEST) -> Path:
    # client lists: CRLF line ends, no newline after the last (bob sdist copies)
    (root).mkdir(parents=True, exist_ok=True)
    (root / "train_sub_list.txt").write_bytes("\r\n".join(train).encode())
    (root / "test_sub_list.txt").write_bytes("\r\n".join(test).encode())
    for c in list(train) + list(test):
        n = int(c)
        for device, ext in (("android", "mp4"), ("laptop", "mov")):
            touch(root / f"scene01/real/real_client{n:03d}_{device}_SD_scene01.{ext}")
            for attack in ("ipad_video", "iphone_video", "printed_photo"):
                touch(root / f"scene01/attack/attack_client{n:03d}_{device}_SD_{attack}_scene01.{ext}")
    return root


CASIA_STEMS = ("1", "2", "HR_1", "3", "4", "HR_2", "5", "6", "HR_3", "7", "8", "HR_4")


def build_casia(root: Path, n_train: int = 20, n_test: int = 30) -> Path:
    for release, n in (("train_release", n_train), ("test_release", n_test)):
        for s in range(1, n + 1):
            for stem in CASIA_STEMS:
                touch(root / release / str(s) / f"{stem}.avi")
    return root


def build_replay(root: Path, clients: dict[str, list[int]] | None = None) -> Path:
    clients = clients or {"train": list(range(1, 16)), "devel": list(range(16, 31)), "test": list(range(31, 51))}
    for split, cs in clients.items():
        for c in cs:
            for light in ("adverse", "controlled"):
                for take in (1, 2):
                    touch(root / f"{split}/real/client{c:03d}_session01_webcam_authenticate_{light}_{take}.mov")
            # 20 attacks per client in bob's counts (300 / 15): 5 kinds x 2 lights x fixed/hand support
            kinds = [("print", "highdef", "photo"), ("mobile", "mobile", "photo"), ("mobile", "mobile", "video"),
                     ("highdef", "highdef", "photo"), ("highdef", "highdef", "video")]
            for attack, device, media in kinds:
                for light, support in ((lt, sp) for lt in ("adverse", "controlled") for sp in ("fixed", "hand")):
                    touch(root / f"{split}/attack/{support}/attack_{attack}_client{c:03d}_session01_{device}_{media}_"
                                 f"{light}.mov")
        touch(root / f"enroll/client{cs[0]:03d}_session01_webcam_enroll_controlled.mov")
    return root


def build_oulu(root: Path, users: dict[str, range] | None = None, phones=range(1, 7), sessions=range(1, 4)) -> Path:
    users = users or {"Train_files": range(1, 21), "Dev_files": range(21, 36), "Test_files": range(36, 56)}
    for folder, us in users.items():
        for p in phones:
            for s in sessions:
                for u in us:
                    for f in range(1, 6):
                        name = f"{p}_{s}_{u:02d}_{f}"
                        touch(root / folder / f"{name}.avi")
                        touch(root / folder / f"{name}.txt", b"0,1,2,3,4\n")
    return root


def build_celeba_spoof(root: Path, subjects: dict[str, list[str]], per_class: int = 2, with_labels: bool = True) -> dict:
    labels: dict[str, dict] = {"train": {}, "test": {}}
    n = 0
    for split, ids in subjects.items():
        for sid in ids:
            for cls in ("live", "spoof"):
                for _ in range(per_class):
                    rel = f"Data/{split}/{sid}/{cls}/{n:06d}.jpg"
                    touch(root / rel)
                    (root / rel).with_name(f"{n:06d}_BB.txt").write_text("10 20 100 120 0.99\n")
                    attrs = [0] * 44
                    attrs[40] = 0 if cls == "live" else 1 + n % 10
                    attrs[43] = int(cls == "spoof")
                    labels[split][rel] = attrs
                    n += 1
    if with_labels:
        for split, lab in labels.items():
            path = root / f"metas/intra_test/{split}_label.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(lab), encoding="utf-8")
    return labels


def build_vggface2(root: Path, ids: dict[str, list[str]], per_id: int = 2, lists: bool = True) -> Path:
    for split, idents in ids.items():
        names = []
        for ident in idents:
            for i in range(per_id):
                rel = f"{ident}/{i + 1:04d}_01.jpg"
                touch(root / split / rel)
                names.append(rel)
        if lists:
            (root / f"{split}_list.txt").write_text("\n".join(names) + "\n", encoding="utf-8")
    return root
