"""Generic adapters for custom data: ``folder`` (class sub-folders) and ``list`` (a CSV file).

``folder``: ``<root>/[<train|val|test>/]<class>/...`` where ``<class>`` is real (aliases: live,
genuine, pristine, bona_fide, 0) or fake (fake, attack, spoof, manipulated, 1). Videos become video
items; images become image items; with ``frames=true`` each folder of images below a class folder
is one ``frames`` item. Labels are set from the class name, never from folder order.

``list``: a CSV with header ``path,label`` and optional ``video_id``, ``split``, ``manipulation``
columns; paths relative to ``root``; labels 0/1 or real/fake/live/attack/spoof.
"""
from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

from .base import IMAGE_EXTS, VIDEO_EXTS, DatasetAdapter, Scan, list_files, rel_posix, strip_ext, walk_files

REAL_NAMES = {"real", "live", "genuine", "pristine", "bona_fide", "bonafide", "0"}
FAKE_NAMES = {"fake", "attack", "spoof", "manipulated", "fakes", "1"}
SPLIT_NAMES = {"train": "train", "val": "val", "valid": "val", "validation": "val", "dev": "val", "devel": "val",
               "test": "test"}


def parse_label(text: str) -> int | None:
    low = str(text).strip().lower()
    if low in REAL_NAMES:
        return 0
    if low in FAKE_NAMES:
        return 1
    return None


class FolderDataset(DatasetAdapter):
    """Custom data as class sub-folders real/ and fake/ (optionally under train/val/test/)."""

    name = "folder"
    defaults = {"split": "test", "frames": False}

    def _scan(self, root: Path, opts: dict[str, Any]) -> Scan:
        scan = Scan()
        split_dirs = {SPLIT_NAMES[p.name.lower()]: p for p in sorted(root.iterdir())
                      if p.is_dir() and p.name.lower() in SPLIT_NAMES}
        if not split_dirs:
            split_dirs = {opts["split"]: root}
        else:
            scan.extra.extend(rel_posix(p, root) + ("/" if p.is_dir() else "") for p in sorted(root.iterdir())
                              if p.name.lower() not in SPLIT_NAMES and not p.name.startswith("."))
        for split, base in split_dirs.items():
            classes = [(p, parse_label(p.name)) for p in sorted(base.iterdir()) if p.is_dir()]
            known = [(p, lab) for p, lab in classes if lab is not None]
            if not known:
                raise self.layout_error(root, f"no class folders real/ or fake/ under {base}")
            scan.extra.extend(rel_posix(p, root) + "/" for p, lab in classes if lab is None)
            scan.extra.extend(rel_posix(f, root) for f in list_files(base))
            for folder, label in known:
                self._collect(root, folder, label, split, bool(opts["frames"]), scan)
        return scan

    def _collect(self, root: Path, folder: Path, label: int, split: str, frames: bool, scan: Scan) -> None:
        manip = "fake" if label else "real"
        if frames:
            for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
                dirnames.sort()
                images = [f for f in filenames if f.lower().endswith(IMAGE_EXTS)]
                if images and Path(dirpath) != folder:
                    rel = rel_posix(Path(dirpath), root)
                    scan.items.append(self.item(root, rel, kind="frames", label=label, split=split, video_id=rel,
                                                manipulation=manip, meta={"frames": len(images)}))
                elif images:
                    scan.extra.extend(rel_posix(Path(dirpath) / f, root) for f in sorted(images))
            return
        for path in walk_files(folder):
            low = path.name.lower()
            kind = "video" if low.endswith(VIDEO_EXTS) else "image" if low.endswith(IMAGE_EXTS) else None
            if kind is None:
                scan.extra.append(rel_posix(path, root))
                continue
            scan.items.append(self.item(root, path, kind=kind, label=label, split=split, manipulation=manip))


class ListDataset(DatasetAdapter):
    """Custom data listed in a CSV: path,label[,video_id][,split][,manipulation]."""

    name = "list"
    defaults = {"file": "list.csv", "split": "test"}

    def _scan(self, root: Path, opts: dict[str, Any]) -> Scan:
        scan = Scan()
        csv_path = Path(opts["file"]).expanduser()
        if not csv_path.is_absolute():
            csv_path = root / csv_path
        if not csv_path.is_file():
            raise self.layout_error(root, f"the list file {csv_path} does not exist (pass file=PATH to a CSV with "
                                          f"header path,label[,video_id,split,manipulation])")
        with open(csv_path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            fields = [f.strip().lower() for f in reader.fieldnames or []]
            if "path" not in fields or "label" not in fields:
                raise self.layout_error(root, f"{csv_path} needs a header with columns path and label "
                                              f"(found {','.join(reader.fieldnames or []) or 'none'})")
            seen: set[str] = set()
            for lineno, raw in enumerate(reader, 2):
                row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
                rel = Path(row["path"]).as_posix()
                label = parse_label(row["label"])
                if label is None:
                    raise self.layout_error(root, f"{csv_path.name}:{lineno}: label {row['label']!r} is not 0/1, "
                                                  f"real/fake or live/attack")
                split = SPLIT_NAMES.get(row.get("split", "").lower()) if row.get("split") else opts["split"]
                if split is None:
                    raise self.layout_error(root, f"{csv_path.name}:{lineno}: split {row['split']!r} is not "
                                                  f"train, val or test")
                if rel in seen:
                    scan.problems.append(f"{csv_path.name}:{lineno}: {rel} is listed twice")
                    continue
                seen.add(rel)
                full = root / rel
                if not full.exists():
                    scan.missing.append(rel)
                    continue
                low = rel.lower()
                kind = ("frames" if full.is_dir() else "video" if low.endswith(VIDEO_EXTS)
                        else "image" if low.endswith(IMAGE_EXTS) else None)
                if kind is None:
                    raise self.layout_error(root, f"{csv_path.name}:{lineno}: {rel} is neither a video, an image "
                                                  f"nor a folder of frames")
                scan.items.append(self.item(root, rel, kind=kind, label=label, split=split,
                                            video_id=row.get("video_id") or strip_ext(rel),
                                            manipulation=row.get("manipulation") or ("fake" if label else "real")))
        return scan
