"""DFDC (the full challenge set: its public test set and training parts) and the DFDC preview.

DFDC test (FSFM README "DfD Folder Structure"): ``test/labels.csv`` (header ``filename,label``,
1 = FAKE) and the videos somewhere under ``test/`` (FSFM: ``test/ori_videos/<5 folders>/``; the
sub-folder names are unconfirmed, so every .mp4 under ``test/`` is matched to labels.csv by file name).
Training parts ``train/dfdc_train_part_<k>/metadata.json`` map ``<name>.mp4`` to
``{"label": "REAL"|"FAKE", ...}`` and are indexed with ``subsets=train`` (or ``all``).

DFDC preview: ``dataset.json`` maps a relative video path to
``{"label": "real"|"fake", "set": "train"|"test", ...}``; the keys are the truth (never a glob).
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from .base import VIDEO_EXTS, DatasetAdapter, Scan, as_list, rel_posix, walk_files


class DFDC(DatasetAdapter):
    """DFDC: the 5000-video public test set (labels.csv) and, optionally, the 50 training parts."""

    name = "dfdc"
    defaults = {"subsets": ["test"]}

    def _scan(self, root: Path, opts: dict[str, Any]) -> Scan:
        scan = Scan()
        subsets = as_list(opts["subsets"])
        if "all" in subsets:
            subsets = ["test", "train"]
        if "test" in subsets:
            self._scan_test(root, scan)
        if "train" in subsets:
            self._scan_train(root, scan)
        return scan

    def _test_dir(self, root: Path) -> Path:
        if (root / "test" / "labels.csv").is_file():
            return root / "test"
        if (root / "labels.csv").is_file():      # root= pointed at the test folder itself
            return root
        raise self.layout_error(root, "test/labels.csv not found (root= is the folder holding test/)")

    def _scan_test(self, root: Path, scan: Scan) -> None:
        test = self._test_dir(root)
        labels_path = test / "labels.csv"
        with open(labels_path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            fields = [f.strip().lower() for f in (reader.fieldnames or [])]
            if "filename" not in fields or "label" not in fields:
                raise self.layout_error(root, f"{labels_path} must have the header 'filename,label' "
                                              f"(found {','.join(reader.fieldnames or [])!r})")
            labels: dict[str, int] = {}
            for lineno, row in enumerate(reader, 2):
                row = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
                name, label = row["filename"], row["label"]
                if label not in ("0", "1"):
                    raise self.layout_error(root, f"{labels_path}:{lineno}: label must be 0 (real) or 1 (fake), "
                                                  f"got {label!r}")
                name = name.replace("\\", "/").rsplit("/", 1)[-1]     # a path in filename: match by base name
                if not name.lower().endswith(".mp4"):
                    name += ".mp4"
                labels[name] = int(label)
        found: dict[str, Path] = {}
        for path in walk_files(test, VIDEO_EXTS):
            if path.name in found:
                scan.problems.append(f"{path.name} exists twice under {rel_posix(test, root)}/: "
                                     f"{rel_posix(found[path.name], root)} and {rel_posix(path, root)}")
                continue
            found[path.name] = path
        for name, path in found.items():
            if name not in labels:
                scan.extra.append(rel_posix(path, root))
                continue
            label = labels[name]
            scan.items.append(self.item(root, path, kind="video", label=label, split="test",
                                        video_id=f"test/{Path(name).stem}",
                                        manipulation="DFDC" if label else "real"))
        scan.missing.extend(f"{rel_posix(test, root)}/{name}" for name in sorted(set(labels) - set(found)))

    def _scan_train(self, root: Path, scan: Scan) -> None:
        parts = sorted((root / "train").glob("dfdc_train_part_*")) if (root / "train").is_dir() else []
        if not parts:
            raise self.layout_error(root, "train/dfdc_train_part_<k>/ folders not found (subsets=train)")
        for part in parts:
            meta_path = part / "metadata.json"
            if not meta_path.is_file():
                scan.missing.append(rel_posix(meta_path, root))
                continue
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            present = {p.name: p for p in walk_files(part, VIDEO_EXTS)}
            for name, info in sorted(meta.items()):
                label = str(info.get("label", "")).upper()
                if label not in ("REAL", "FAKE"):
                    raise self.layout_error(root, f"{meta_path}: {name} has label {info.get('label')!r}, "
                                                  f"expected REAL or FAKE")
                path = present.pop(name, None)
                if path is None:
                    scan.missing.append(f"{rel_posix(part, root)}/{name}")
                    continue
                extra = {"part": part.name}
                if info.get("original"):
                    extra["original"] = info["original"]
                scan.items.append(self.item(root, path, kind="video", label=int(label == "FAKE"), split="train",
                                            video_id=f"train/{Path(name).stem}",
                                            manipulation="DFDC" if label == "FAKE" else "real", meta=extra))
            scan.extra.extend(rel_posix(p, root) for p in present.values())


class DFDCPreview(DatasetAdapter):
    """DFDC preview (DFDCp): 5250 videos, split by the "set" field of dataset.json."""

    name = "dfdc_preview"
    defaults: dict[str, Any] = {}

    def _scan(self, root: Path, opts: dict[str, Any]) -> Scan:
        scan = Scan()
        if not (root / "dataset.json").is_file() and (root / "dfdc_preview_set" / "dataset.json").is_file():
            root_used = root / "dfdc_preview_set"
            prefix = "dfdc_preview_set/"
        else:
            root_used = root
            prefix = ""
        path = self.require(root_used, "dataset.json", what="dataset.json (the preview's index)")
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except json.JSONDecodeError as exc:
            raise self.layout_error(root, f"{path} is not valid JSON ({exc})") from exc
        if not isinstance(data, dict):
            raise self.layout_error(root, f"{path} must map video paths to objects")
        listed = set()
        for key, info in sorted(data.items()):
            label = str(info.get("label", "")).lower() if isinstance(info, dict) else ""
            split = str(info.get("set", "")).lower() if isinstance(info, dict) else ""
            if label not in ("real", "fake") or split not in ("train", "test"):
                raise self.layout_error(root, f"{path}: entry {key!r} needs label real|fake and set train|test, "
                                              f"got {info!r}")
            rel = key[2:] if key.startswith("./") else key
            listed.add(rel)
            if not (root_used / rel).is_file():
                scan.missing.append(prefix + rel)
                continue
            parts = rel.split("/")
            meta = {k: info[k] for k in ("target_id", "swapped_id", "source_video") if k in info}
            if info.get("augmentations"):
                meta["augmentations"] = info["augmentations"]
            meta["method"] = parts[0]
            scan.items.append(self.item(root, prefix + rel, kind="video", label=int(label == "fake"), split=split,
                                        manipulation=parts[0] if label == "fake" else "real", meta=meta))
        for file in walk_files(root_used, VIDEO_EXTS):
            rel = rel_posix(file, root_used)
            if rel not in listed:
                scan.extra.append(prefix + rel)
        return scan
