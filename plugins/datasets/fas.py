"""Face anti-spoofing datasets of the MCIO protocol: MSU-MFSD, CASIA-FASD, Idiap Replay-Attack,
OULU-NPU, and CelebA-Spoof. Label 1 = attack, 0 = live. Layout sources are cited in each card
(``bob.db.*`` protocol packages, the authors' READMEs, FSVFM/SSDG loaders).
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from fsfm_bench.errors import FsfmBenchError

from .base import (
    IMAGE_EXTS,
    VIDEO_EXTS,
    DatasetAdapter,
    Scan,
    as_list,
    list_files,
    read_text_lines,
    rel_posix,
    walk_files,
)

# --- MSU-MFSD -------------------------------------------------------------------------------------
MSU_REAL = re.compile(r"^real_client(\d{3})_(android|laptop)_SD_(scene\d+)\.(mp4|mov)$", re.I)
MSU_ATTACK = re.compile(r"^attack_client(\d{3})_(android|laptop)_SD_(ipad_video|iphone_video|printed_photo)_"
                        r"(scene\d+)\.(mp4|mov)$", re.I)


def msu_names(client: int) -> list[str]:
    """The 8 file names of one client (android captures .mp4, laptop captures .mov; bob lists)."""
    names = []
    for device, ext in (("android", "mp4"), ("laptop", "mov")):
        names.append(f"real_client{client:03d}_{device}_SD_scene01.{ext}")
        for attack in ("ipad_video", "iphone_video", "printed_photo"):
            names.append(f"attack_client{client:03d}_{device}_SD_{attack}_scene01.{ext}")
    return names


class MSUMFSD(DatasetAdapter):
    """MSU-MFSD: 35 clients x (2 live + 6 attack) videos; train/test by the client lists."""

    name = "msu_mfsd"
    defaults: dict[str, Any] = {}

    def _clients(self, root: Path, name: str) -> set[int]:
        path = self.require(root, name, what=f"the client list {name}")
        clients = set()
        for token in " ".join(read_text_lines(path)).split():
            if not token.isdigit():
                raise self.layout_error(root, f"{name}: expected client numbers, got {token!r}")
            clients.add(int(token))
        return clients

    def _scan(self, root: Path, opts: dict[str, Any]) -> Scan:
        scan = Scan()
        train, test = self._clients(root, "train_sub_list.txt"), self._clients(root, "test_sub_list.txt")
        if train & test:
            scan.problems.append(f"clients {sorted(train & test)} are in both train_sub_list.txt and test_sub_list.txt")
        for path in walk_files(root, VIDEO_EXTS):
            parent = path.parent.name.lower()
            real, attack = MSU_REAL.match(path.name), MSU_ATTACK.match(path.name)
            match = real if parent == "real" else attack if parent == "attack" else None
            if match is None:
                scan.extra.append(rel_posix(path, root))
                continue
            client = int(match.group(1))
            split = "train" if client in train else "test" if client in test else None
            if split is None:
                scan.problems.append(f"{rel_posix(path, root)}: client {client:03d} is in neither client list")
                continue
            label = int(parent == "attack")
            kind = match.group(3).lower() if label else "real"
            scan.items.append(self.item(root, path, kind="video", label=label, split=split,
                                        manipulation={"printed_photo": "print"}.get(kind, "replay" if label else "real"),
                                        meta={"client": f"{client:03d}", "device": match.group(2).lower(),
                                              "attack": kind if label else None}))
        found_names = {Path(it.path).name for it in scan.items}
        for client in sorted(train | test):
            for name in msu_names(client):
                if name not in found_names:
                    scan.missing.append(f"scene01/{name.split('_')[0]}/{name}")
        return scan


# --- CASIA-FASD -----------------------------------------------------------------------------------
CASIA_NAMES = {"1": ("real", "low"), "2": ("real", "normal"), "HR_1": ("real", "high"),
               "3": ("warped_photo", "low"), "4": ("warped_photo", "normal"), "HR_2": ("warped_photo", "high"),
               "5": ("cut_photo", "low"), "6": ("cut_photo", "normal"), "HR_3": ("cut_photo", "high"),
               "7": ("video_replay", "low"), "8": ("video_replay", "normal"), "HR_4": ("video_replay", "high")}
CASIA_SUBJECTS = {"train_release": 20, "test_release": 30}


class CASIAFASD(DatasetAdapter):
    """CASIA-FASD: 50 subjects x 12 videos (live, warped photo, cut photo, video replay)."""

    name = "casia_fasd"
    defaults: dict[str, Any] = {}

    def _scan(self, root: Path, opts: dict[str, Any]) -> Scan:
        scan = Scan()
        for release in CASIA_SUBJECTS:
            self.require(root, release)
        for release, n_subjects in CASIA_SUBJECTS.items():
            split = "train" if release.startswith("train") else "test"
            for path in walk_files(root / release, VIDEO_EXTS):
                rel = rel_posix(path, root)
                parts = rel.split("/")
                if len(parts) != 3 or not parts[1].isdigit() or path.suffix.lower() != ".avi" or path.stem not in CASIA_NAMES:
                    scan.extra.append(rel)
                    continue
                attack, quality = CASIA_NAMES[path.stem]
                scan.items.append(self.item(root, path, kind="video", label=int(attack != "real"), split=split,
                                            manipulation=attack, meta={"subject": f"{release}/{parts[1]}",
                                                                        "quality": quality}))
            for subject in range(1, n_subjects + 1):
                for stem in CASIA_NAMES:
                    if not (root / release / str(subject) / f"{stem}.avi").is_file():
                        scan.missing.append(f"{release}/{subject}/{stem}.avi")
        return scan


# --- Idiap Replay-Attack --------------------------------------------------------------------------
REPLAY_SPLITS = {"train": "train", "devel": "val", "test": "test"}
REPLAY_REAL = re.compile(r"^client(\d{3})_session01_webcam_authenticate_(adverse|controlled)_[12]\.mov$")
REPLAY_ATTACK = re.compile(r"^attack_(print|mobile|highdef)_client(\d{3})_session01_(highdef|mobile)_(photo|video)_"
                           r"(adverse|controlled)\.mov$")


class ReplayAttack(DatasetAdapter):
    """Idiap Replay-Attack: 50 clients; train/devel/test real and attack videos (enrolment skipped)."""

    name = "replay_attack"
    defaults: dict[str, Any] = {}

    def _scan(self, root: Path, opts: dict[str, Any]) -> Scan:
        scan = Scan()
        for folder in REPLAY_SPLITS:
            self.require(root, folder)
        for folder, split in REPLAY_SPLITS.items():
            for path in walk_files(root / folder, VIDEO_EXTS):
                rel = rel_posix(path, root)
                parts = rel.split("/")
                if len(parts) == 3 and parts[1] == "real" and (m := REPLAY_REAL.match(path.name)):
                    scan.items.append(self.item(root, path, kind="video", label=0, split=split, manipulation="real",
                                                meta={"client": m.group(1), "light": m.group(2)}))
                elif (len(parts) == 4 and parts[1] == "attack" and parts[2] in ("fixed", "hand")
                      and (m := REPLAY_ATTACK.match(path.name))):
                    scan.items.append(self.item(root, path, kind="video", label=1, split=split,
                                                manipulation="print" if m.group(1) == "print" else "replay",
                                                meta={"client": m.group(2), "attack": m.group(1),
                                                      "support": parts[2], "light": m.group(5)}))
                else:
                    scan.extra.append(rel)
        if not (root / "enroll").is_dir():
            scan.notes.append("enroll/ (100 enrolment videos, not PAD samples) is absent; it is not needed")
        return scan


# --- OULU-NPU -------------------------------------------------------------------------------------
OULU_DIRS = {"Train_files": "train", "Dev_files": "val", "Test_files": "test"}
OULU_NAME = re.compile(r"^([1-6])_([1-3])_(\d{2})_([1-5])\.avi$")
OULU_ATTACK = {1: "real", 2: "print", 3: "print", 4: "replay", 5: "replay"}


class OULUNPU(DatasetAdapter):
    """OULU-NPU: 4950 videos (6 phones, 3 sessions, 55 users, 1 live + 4 attacks); folders or Protocols 1-4."""

    name = "oulu_npu"
    defaults = {"protocol": "folders", "fold": None}

    def _item(self, root: Path, path: Path, split: str):
        m = OULU_NAME.match(path.name)
        attack = int(m.group(4))
        return self.item(root, path, kind="video", label=int(attack != 1), split=split, manipulation=OULU_ATTACK[attack],
                         meta={"phone": int(m.group(1)), "session": int(m.group(2)), "user": m.group(3),
                               "file": attack, "eyes": rel_posix(path.with_suffix(".txt"), root)
                               if path.with_suffix(".txt").is_file() else None})

    def _scan(self, root: Path, opts: dict[str, Any]) -> Scan:
        scan = Scan()
        for folder in OULU_DIRS:
            self.require(root, folder)
        videos: dict[str, Path] = {}
        split_of: dict[str, str] = {}
        for folder, split in OULU_DIRS.items():
            for path in list_files(root / folder):
                if path.suffix.lower() == ".txt" and OULU_NAME.match(path.stem + ".avi"):
                    continue
                if not OULU_NAME.match(path.name):
                    scan.extra.append(rel_posix(path, root))
                    continue
                videos[path.stem] = path
                split_of[path.stem] = split
        protocol = str(opts["protocol"])
        if protocol == "folders":
            for stem, path in sorted(videos.items()):
                scan.items.append(self._item(root, path, split_of[stem]))
            return scan
        if protocol not in ("1", "2", "3", "4"):
            raise self.layout_error(root, f"protocol={protocol!r}: use folders, 1, 2, 3 or 4")
        fold = opts["fold"]
        if protocol in ("3", "4") and fold not in (1, 2, 3, 4, 5, 6):
            raise self.layout_error(root, f"protocol {protocol} has six folds: pass fold=1..6")
        pdir = self.require(root, f"Protocols/Protocol_{protocol}", what=f"Protocols/Protocol_{protocol}/")
        for name, split in (("Train", "train"), ("Dev", "val"), ("Test", "test")):
            fname = f"{name}_{fold}.txt" if protocol in ("3", "4") else f"{name}.txt"
            plist = self.require(pdir, fname, what=f"Protocols/Protocol_{protocol}/{fname}")
            for lineno, line in enumerate(read_text_lines(plist), 1):
                token, _, stem = line.partition(",")
                token, stem = token.strip(), stem.strip()
                if not re.fullmatch(r"\+?1|-[1-9]", token) or not OULU_NAME.match(stem + ".avi"):
                    raise self.layout_error(root, f"{plist.name}:{lineno}: expected '<+1|-1|-2>,<phone>_<session>_"
                                                  f"<user>_<file>', got {line!r}")
                path = videos.get(stem)
                if path is None:
                    scan.missing.append(f"{[d for d, s in OULU_DIRS.items() if s == split][0]}/{stem}.avi")
                    continue
                item = self._item(root, path, split)
                if (token in ("+1", "1")) != (item.label == 0):
                    scan.problems.append(f"{plist.name}:{lineno}: label {token} contradicts file number of {stem}")
                scan.items.append(item)
        return scan


# --- CelebA-Spoof ---------------------------------------------------------------------------------
SPOOF_TYPES = ["live", "photo", "poster", "A4", "face_mask", "upper_body_mask", "region_mask", "PC", "pad", "phone",
               "3D_mask"]


class CelebASpoof(DatasetAdapter):
    """CelebA-Spoof: 625,537 images of 10,177 subjects; Data/<train|test>/<id>/<live|spoof>/."""

    name = "celeba_spoof"
    defaults = {"splits": ["train", "test"], "use_labels": True, "subset_lists": None}

    @staticmethod
    def subset(root: Path, lists: Any) -> set[str] | None:
        """The images named by the subset list files (paths relative to the root, or absolute), or None.

        The MCIO code trains on a published CelebA-Spoof subset (``celeb_real_train.txt`` and
        ``celeb_fake_train.txt`` of the few_shot_fas/FLIP lineage), one image per line named by its
        flattened path (``Data_train_4980_live_494405.png`` for ``Data/train/4980/live/494405.png``;
        any leading folders are ignored); see docs/protocol-fidelity.md.
        """
        if not lists:
            return None
        keep: set[str] = set()
        for name in as_list(lists):
            path = Path(name) if Path(name).is_absolute() else root / name
            if not path.is_file():
                raise FsfmBenchError(f"celeba_spoof: the subset list {path} does not exist; put the published "
                                     "list files (celeb_real_train.txt, celeb_fake_train.txt) in the dataset root, "
                                     "or drop options.subset_lists to use every image")
            for line in read_text_lines(path):
                line = line.strip()
                if line:
                    keep.add(line.split()[0].split("/")[-1].replace("_", "/"))
        return keep

    def _scan(self, root: Path, opts: dict[str, Any]) -> Scan:
        scan = Scan()
        if not (root / "Data").is_dir() and (root / "CelebA_Spoof" / "Data").is_dir():
            root_used, prefix = root / "CelebA_Spoof", "CelebA_Spoof/"
        else:
            root_used, prefix = root, ""
        subset = self.subset(root, opts.get("subset_lists"))
        for split in as_list(opts["splits"]):
            data = self.require(root_used, f"Data/{split}")
            labels = None
            label_path = root_used / "metas" / "intra_test" / f"{split}_label.json"
            if opts["use_labels"] and label_path.is_file():
                labels = json.loads(label_path.read_text(encoding="utf-8"))
            elif opts["use_labels"]:
                scan.notes.append(f"metas/intra_test/{split}_label.json absent: labels from the live/spoof folders")
            found: set[str] = set()
            for path in walk_files(data, IMAGE_EXTS):
                rel = rel_posix(path, root_used)
                parts = rel.split("/")
                if len(parts) != 5 or parts[3] not in ("live", "spoof"):
                    scan.extra.append(prefix + rel)
                    continue
                found.add(rel)
                if subset is not None and rel not in subset:
                    continue                                     # outside the published training subset
                label = int(parts[3] == "spoof")
                meta: dict[str, Any] = {"subject": parts[2]}
                manipulation = "spoof" if label else "real"
                bb = path.with_name(path.stem + "_BB.txt")
                if bb.is_file():
                    meta["bb"] = prefix + rel_posix(bb, root_used)
                if labels is not None:
                    attrs = labels.get(rel)
                    if attrs is None:
                        scan.extra.append(prefix + rel)
                        continue
                    if int(attrs[43]) != label:
                        scan.problems.append(f"{rel}: label JSON says {'spoof' if attrs[43] else 'live'} but it is "
                                             f"in {parts[3]}/")
                        continue
                    spoof = int(attrs[40])
                    manipulation = SPOOF_TYPES[spoof] if label and 0 <= spoof < len(SPOOF_TYPES) else manipulation
                    meta.update(spoof_type=spoof, illumination=int(attrs[41]), environment=int(attrs[42]))
                scan.items.append(self.item(root, prefix + rel, kind="image", label=label, split=split,
                                            manipulation=manipulation, meta=meta))
            if labels is not None:
                scan.missing.extend(prefix + k for k in sorted(set(labels) - found))
        return scan
